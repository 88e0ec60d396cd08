import type { ComponentChildren } from "preact";

/** A labelled control and, under it, what is wrong with it (tied by aria-describedby). */
export function Field({
  id,
  label,
  error,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  children: (props: {
    id: string;
    "aria-invalid"?: true;
    "aria-describedby"?: string;
  }) => ComponentChildren;
}) {
  const errorId = `${id}-error`;
  return (
    <div class={error ? "form-field invalid" : "form-field"}>
      <label for={id}>{label}</label>
      {children({ id, ...(error ? { "aria-invalid": true, "aria-describedby": errorId } : {}) })}
      {error && (
        <p class="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}
