import type { Failure } from "../api/client";
import { useI18n } from "../i18n";

/** A failed call as a sentence a fan understands, never raw JSON. */
export function ProblemMessage({ failure, retry }: { failure: Failure; retry?: () => void }) {
  const { t } = useI18n();
  const sentence = failure.kind === "network" ? t.network : t.problems[failure.problem.code];
  return (
    <div class="problem" role="alert">
      <p>{sentence}</p>
      {retry && (
        <button type="button" onClick={retry}>
          {t.tryAgain}
        </button>
      )}
    </div>
  );
}
