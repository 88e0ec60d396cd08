import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import { dateTime } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";
import { AdminOnly } from "./AdminOnly";
import { Field } from "./Field";

/** The reservation desk: find a reservation by id or a customer's by account, see what it went
 *  through, and record a refund that was owed as done. */
export function DeskPage() {
  return (
    <AdminOnly>
      <Desk />
    </AdminOnly>
  );
}

type Reservation = Schemas["Reservation"];

function Desk() {
  const { api } = useServices();
  const { t } = useI18n();
  const { query, route } = useLocation();
  const [id, setId] = useState(query.id ?? "");
  const [customer, setCustomer] = useState(query.customer ?? "");
  const [found, showFound] = useState<Reservation[] | null>(null);
  const [error, showError] = useState<Failure | null>(null);
  const c = t.console;

  // Only the latest search may show its answer: an earlier, slower one is dropped.
  const latest = useRef(0);
  const [more, setMore] = useState<{ customer: string; next: string; shown: Reservation[] } | null>(
    null,
  );
  /** A page of a customer's reservations after those `shown`, if the search is still the latest. */
  const page = async (
    customer: string,
    next: string | undefined,
    shown: Reservation[],
    mine: number,
  ) => {
    const { data, error } = await api.GET("/customers/{id}/reservations", {
      params: { path: { id: customer }, query: { limit: 50, ...(next ? { next } : {}) } },
    });
    if (mine !== latest.current) return;
    if (error || !data) return showError(failure(error));
    const all = [...shown, ...data.items];
    showFound(all);
    setMore(data.next ? { customer, next: data.next, shown: all } : null);
  };
  const search = async () => {
    const mine = ++latest.current;
    const setFound = (items: Reservation[]) => mine === latest.current && showFound(items);
    const setError = (f: Failure) => mine === latest.current && showError(f);
    showError(null);
    showFound(null);
    setMore(null);
    try {
      if (query.id) {
        const { data, error } = await api.GET("/reservations/{id}/history", {
          params: { path: { id: query.id } },
        });
        const failed = error ? failure(error) : null;
        const unknown = ["NOT_FOUND", "MALFORMED_REQUEST"];
        if (failed?.kind === "problem" && unknown.includes(failed.problem.code)) {
          return setFound([]);
        }
        if (failed || !data) return setError(failed ?? failure(error));
        setFound([data.reservation]);
      } else if (query.customer) {
        await page(query.customer, undefined, [], mine);
      }
    } catch {
      setError({ kind: "network" });
    }
  };
  useEffect(() => {
    void search();
  }, [query.id, query.customer]);

  return (
    <section class="console">
      <p>
        <a href="/admin">{c.title}</a>
      </p>
      <h1>{c.deskTitle}</h1>
      <div class="panels">
        <form
          class="lookup"
          onSubmit={(e) => {
            e.preventDefault();
            if (id.trim()) route(`/admin/reservations?id=${encodeURIComponent(id.trim())}`);
          }}
        >
          <Field id="lookup-id" label={c.lookupById}>
            {(props) => (
              <input
                {...props}
                value={id}
                onInput={(e) => setId(e.currentTarget.value)}
                autocomplete="off"
              />
            )}
          </Field>
          <button type="submit">{c.findById}</button>
        </form>
        <form
          class="lookup"
          onSubmit={(e) => {
            e.preventDefault();
            if (customer.trim()) {
              route(`/admin/reservations?customer=${encodeURIComponent(customer.trim())}`);
            }
          }}
        >
          <Field id="lookup-customer" label={c.lookupByCustomer}>
            {(props) => (
              <input
                {...props}
                value={customer}
                onInput={(e) => setCustomer(e.currentTarget.value)}
                autocomplete="off"
              />
            )}
          </Field>
          <button type="submit">{c.findByCustomer}</button>
        </form>
      </div>
      {error && <ProblemMessage failure={error} retry={() => void search()} />}
      <p role="status">{found && found.length === 0 ? c.noReservations : ""}</p>
      {found?.map((r) => (
        <ReservationCard key={r.id} initial={r} expanded={found.length === 1} />
      ))}
      {more && (
        <button
          type="button"
          onClick={() =>
            void page(more.customer, more.next, more.shown, latest.current).catch(() =>
              showError({ kind: "network" }),
            )
          }
        >
          {c.moreReservations}
        </button>
      )}
    </section>
  );
}

/** One reservation: its figures, its history when opened, and the refund step when one is owed. */
function ReservationCard({ initial, expanded }: { initial: Reservation; expanded: boolean }) {
  const { api } = useServices();
  const { t, locale } = useI18n();
  const [reservation, setReservation] = useState(initial);
  const [history, setHistory] = useState<Schemas["HistoryEntry"][] | null>(null);
  const [open, setOpen] = useState(expanded);
  const [reference, setReference] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<Failure | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const c = t.console;
  const r = reservation;

  const loadHistory = async () => {
    try {
      const { data, error } = await api.GET("/reservations/{id}/history", {
        params: { path: { id: r.id } },
      });
      if (error || !data) return setError(failure(error));
      setReservation(data.reservation);
      setHistory(data.history);
    } catch {
      setError({ kind: "network" });
    }
  };
  useEffect(() => {
    if (open) void loadHistory();
  }, [open]);

  /** One step on the reservation; when refused (someone else moved it meanwhile), what it is now. */
  const step = async (
    send: () => Promise<{ data?: Reservation; error?: unknown }>,
    after?: () => void,
  ) => {
    setBusy(true);
    setError(null);
    try {
      const { data, error } = await send();
      if (error || !data) {
        setError(failure(error));
        if (failure(error).kind === "problem") void loadHistory();
        return;
      }
      setReservation(data);
      after?.();
      void loadHistory();
    } catch {
      setError({ kind: "network" });
    } finally {
      setBusy(false);
    }
  };

  const markRefunded = () =>
    step(
      () =>
        api.POST("/reservations/{id}/refund", {
          params: { path: { id: r.id } },
          body: reference.trim() ? { reference: reference.trim() } : {},
        }),
      () => setDone(true),
    );

  /** The organiser cancels a confirmed sale: a refund is owed and its tickets stop opening the door. */
  const cancelSale = () =>
    step(() =>
      api.POST("/reservations/{id}/cancellation", {
        params: { path: { id: r.id } },
        body: { reason: reason.trim() },
      }),
    );

  const tickets = [
    ...r.seats.map((s) => `${s.sector} ${s.seat}`),
    ...r.places.map((p) => `${p.quantity}× ${p.sector}`),
  ].join(", ");
  const headingId = `reservation-${r.id}`;
  return (
    <article class="card reservation-card" aria-labelledby={headingId}>
      <h2 id={headingId}>{c.reservationHeading(r.id)}</h2>
      <dl class="figures">
        <div>
          <dt>{c.status}</dt>
          <dd>{t.status[r.status]}</dd>
        </div>
        <div>
          <dt>{c.customer}</dt>
          <dd>{r.customer}</dd>
        </div>
        <div>
          <dt>{c.createdAt}</dt>
          <dd>{dateTime(r.created_at, locale)}</dd>
        </div>
      </dl>
      <p>{tickets}</p>
      {r.refund_reason && (
        <p>
          {c.refundReason}: {r.refund_reason}
        </p>
      )}
      {r.refunded_by && r.refunded_at && (
        <p>
          {c.refundedBy(r.refunded_by, dateTime(r.refunded_at, locale))}
          {r.refund_reference ? ` (${r.refund_reference})` : ""}
        </p>
      )}
      {!open && (
        <button type="button" onClick={() => setOpen(true)}>
          {c.historyTitle}
        </button>
      )}
      {open && history && (
        <>
          <h3>{c.historyTitle}</h3>
          <ol class="history">
            {history.map((h) => (
              <li key={h.version}>
                {c.historyStep(t.status[h.status], dateTime(h.at, locale), h.by)}
              </li>
            ))}
          </ol>
          <p class="hint">{c.historyPending}</p>
        </>
      )}
      {r.status === "CONFIRMED" && (
        <form
          class="lookup"
          onSubmit={(e) => {
            e.preventDefault();
            if (reason.trim()) void cancelSale();
          }}
        >
          <Field id={`reason-${r.id}`} label={c.cancelReason}>
            {(props) => (
              <input
                {...props}
                value={reason}
                required
                maxLength={200}
                onInput={(e) => setReason(e.currentTarget.value)}
              />
            )}
          </Field>
          <button type="submit" disabled={busy}>
            {c.cancelSale}
          </button>
        </form>
      )}
      {r.status === "REFUND_REQUIRED" && (
        <form
          class="lookup"
          onSubmit={(e) => {
            e.preventDefault();
            void markRefunded();
          }}
        >
          <Field id={`reference-${r.id}`} label={c.refundReference}>
            {(props) => (
              <input
                {...props}
                value={reference}
                maxLength={200}
                onInput={(e) => setReference(e.currentTarget.value)}
              />
            )}
          </Field>
          <button type="submit" disabled={busy}>
            {c.markRefunded}
          </button>
        </form>
      )}
      <p role="status">{done ? c.refundMarked : ""}</p>
      {error && <ProblemMessage failure={error} />}
    </article>
  );
}
