import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type Failure, failure, idempotencyKey, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useAuth } from "../auth";
import { SignInFirst } from "../auth/SignInFirst";
import { useI18n } from "../i18n";
import { ProblemMessage } from "../ui/Problem";
import { nextPoll } from "./poll";

/** Asks for tickets through the flash-sale queue: a sector and how many. */
export function JoinQueue({ session }: { session: Schemas["Session"] }) {
  const { api } = useServices();
  const { sub, signIn } = useAuth();
  const { t } = useI18n();
  const { route } = useLocation();
  const [sector, setSector] = useState(session.sectors[0]?.code ?? "");
  const [quantity, setQuantity] = useState(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure | null>(null);

  const join = async (e: Event) => {
    e.preventDefault();
    if (!sub) {
      await signIn();
      return;
    }
    setBusy(true);
    setError(null);
    const attempt = `request:${session.id}`;
    const key = sessionStorage.getItem(attempt) ?? idempotencyKey();
    sessionStorage.setItem(attempt, key);
    try {
      const { data, error, response } = await api.POST("/sessions/{id}/requests", {
        params: { path: { id: session.id }, header: { "Idempotency-Key": key } },
        body: { sector, quantity },
      });
      if (data) {
        sessionStorage.removeItem(attempt);
        route(`/requests/${data.request_id}`);
        return;
      }
      if (response.status < 500) sessionStorage.removeItem(attempt);
      setError(failure(error));
    } catch {
      setError({ kind: "network" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="queue card" onSubmit={(e) => void join(e)} aria-labelledby="queue-title">
      <h2 id="queue-title">{t.queueTitle}</h2>
      <p class="hint">{t.queueHelp}</p>
      <label class="field">
        {t.sector}
        <select
          value={sector}
          onChange={(e) => setSector((e.currentTarget as HTMLSelectElement).value)}
        >
          {session.sectors.map((s) => (
            <option key={s.code} value={s.code}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        {t.quantity}
        <input
          type="number"
          min={1}
          max={session.max_tickets_per_customer}
          value={quantity}
          onInput={(e) =>
            setQuantity(
              Math.max(
                1,
                Math.min(
                  session.max_tickets_per_customer,
                  Number((e.currentTarget as HTMLInputElement).value) || 1,
                ),
              ),
            )
          }
        />
      </label>
      {error && <ProblemMessage failure={error} />}
      <button type="submit" disabled={busy}>
        {busy ? t.joining : sub ? t.joinQueue : t.signInToQueue}
      </button>
    </form>
  );
}

/** A queued request, read until it is decided. */
export function RequestPage({ id }: { id: string }) {
  const { api } = useServices();
  const { sub } = useAuth();
  const { t } = useI18n();
  const [request, setRequest] = useState<Schemas["TicketRequestStatus"] | null>(null);
  const [error, setError] = useState<Failure | null>(null);

  useEffect(() => {
    if (!sub) return;
    let stopped = false;
    let timer = 0;
    let wait: number | undefined;
    const read = async () => {
      try {
        const { data, error } = await api.GET("/requests/{id}", { params: { path: { id } } });
        if (stopped) return;
        if (data) {
          setError(null);
          setRequest(data);
          wait = data.estimated_wait_seconds;
          if (data.status !== "QUEUED") return;
        } else setError(failure(error));
      } catch {
        if (!stopped) setError({ kind: "network" });
      }
      timer = window.setTimeout(() => void read(), nextPoll(wait));
    };
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, id, sub]);

  if (!sub) return <SignInFirst />;
  return (
    <section>
      <h1>{t.requestTitle}</h1>
      {error && <ProblemMessage failure={error} />}
      {!request && !error && <p>{t.loading}</p>}
      {request && (
        <>
          <p>{t.queuedFor(request.quantity, request.sector)}</p>
          <p role="status" class={request.status === "REJECTED" ? "notice" : ""}>
            {t.requestStatus[request.status]}
            {request.reason && ` ${t.rejectReason[request.reason]}`}
          </p>
          {request.status === "QUEUED" && request.place !== undefined && (
            <p class="place">
              <strong>{t.placeInLine(request.place)}</strong>
              {request.estimated_wait_seconds !== undefined &&
                ` ${t.estimatedWait(request.estimated_wait_seconds)}`}
            </p>
          )}
          {request.status === "FULFILLED" && request.reservation_id && (
            <a class="button" href={`/reservations/${request.reservation_id}`}>
              {t.continueToPay}
            </a>
          )}
          {request.status === "REJECTED" && (
            <a class="button" href={`/sessions/${request.session_id}`}>
              {t.startAgain}
            </a>
          )}
        </>
      )}
    </section>
  );
}
