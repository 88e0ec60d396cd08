import { useState } from "preact/hooks";
import type { Failure, Schemas } from "../api/client";
import { useI18n } from "../i18n";
import type { Category } from "../i18n/messages";
import { ProblemMessage } from "../ui/Problem";
import { MAX_NAME_CHARS } from "./draft";
import { Field } from "./Field";

const CATEGORIES: Category[] = ["show", "game", "cinema", "festival", "other"];
const MAX_DESCRIPTION_CHARS = 5000;

export interface EventFields {
  name: string;
  venue: string;
  category: Category;
  description: string | null;
}

/** An event's name, venue, category and description, for a new event or an edit. `save`
 *  answers what went wrong, or null. */
export function EventForm({
  heading,
  submit,
  initial,
  save,
}: {
  heading: string;
  submit: string;
  initial?: Schemas["Event"];
  save: (fields: EventFields) => Promise<Failure | null>;
}) {
  const { t } = useI18n();
  const [name, setName] = useState(initial?.name ?? "");
  const [venue, setVenue] = useState(initial?.venue ?? "");
  const [category, setCategory] = useState<Category>(initial?.category ?? "show");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure | null>(null);
  const [saved, setSaved] = useState(false);
  const prefix = initial ? "edit-event" : "event";

  const blank = (v: string) =>
    v.trim() === "" ? t.console.issue({ kind: "required" }) : undefined;
  const nameError = blank(name);
  const venueError = blank(venue);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    setSaved(false);
    if (nameError || venueError) return;
    setBusy(true);
    setError(null);
    try {
      const failed = await save({
        name,
        venue,
        category,
        description: description.trim() || null,
      });
      setError(failed);
      setSaved(!failed);
    } catch {
      setError({ kind: "network" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" onSubmit={onSubmit} noValidate aria-labelledby={`${prefix}-heading`}>
      <h2 id={`${prefix}-heading`}>{heading}</h2>
      <Field
        id={`${prefix}-name`}
        label={t.console.eventName}
        error={tried ? nameError : undefined}
      >
        {(p) => (
          <input
            {...p}
            value={name}
            maxLength={MAX_NAME_CHARS}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id={`${prefix}-venue`} label={t.console.venue} error={tried ? venueError : undefined}>
        {(p) => (
          <input
            {...p}
            value={venue}
            maxLength={MAX_NAME_CHARS}
            onInput={(e) => setVenue(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id={`${prefix}-category`} label={t.category}>
        {(p) => (
          <select
            {...p}
            value={category}
            onChange={(e) => setCategory(e.currentTarget.value as Category)}
          >
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {t.categories[c]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field id={`${prefix}-description`} label={t.console.description}>
        {(p) => (
          <textarea
            {...p}
            value={description}
            maxLength={MAX_DESCRIPTION_CHARS}
            rows={3}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        )}
      </Field>
      {error && <ProblemMessage failure={error} />}
      {saved && initial && (
        <p class="hint" role="status">
          {t.console.saved}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {submit}
      </button>
    </form>
  );
}
