import { useEffect, useState } from "preact/hooks";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useAuth } from "../auth";
import { SignInFirst } from "../auth/SignInFirst";
import { useI18n } from "../i18n";
import { dateTime } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";
import { QrCode } from "../ui/QrCode";

/** The signed-in fan's reservations, newest first. */
export function MyReservationsPage() {
  const { api } = useServices();
  const { sub } = useAuth();
  const { t, locale } = useI18n();
  const [items, setItems] = useState<Schemas["Reservation"][] | null>(null);
  const [tickets, setTickets] = useState<Schemas["Ticket"][]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<Failure | null>(null);

  const load = async () => {
    try {
      const { data, error } = await api.GET("/me/reservations", {
        params: { query: { limit: 50 } },
      });
      if (data) setItems(data.items);
      else setError(failure(error));
      const mine = await api.GET("/me/tickets", { params: { query: { limit: 100 } } });
      if (mine.data) setTickets(mine.data.items);
    } catch {
      setError({ kind: "network" });
    }
  };
  useEffect(() => {
    if (sub) void load();
  }, [sub]);

  if (!sub) return <SignInFirst title={t.myReservations} />;
  const cancel = async (id: string) => {
    const { data, error } = await api.DELETE("/reservations/{id}", { params: { path: { id } } });
    if (data) {
      setNotice(t.cancelled);
      void load();
    } else {
      const f = failure(error);
      setNotice(f.kind === "network" ? t.network : t.problems[f.problem.code]);
    }
  };

  return (
    <section>
      <h1>{t.myReservations}</h1>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error && <ProblemMessage failure={error} retry={() => void load()} />}
      {items === null && !error && <p>{t.loading}</p>}
      {items?.length === 0 && <p>{t.noReservations}</p>}
      <ul class="cards">
        {items?.map((r) => (
          <li key={r.id} class="card">
            <a href={`/reservations/${r.id}`}>
              <span class="tag">{t.status[r.status]}</span>
              <h2>{dateTime(r.created_at, locale)}</h2>
              <p>
                {[
                  ...r.seats.map((s) => s.seat),
                  ...r.places.map((p) => `${p.quantity} × ${p.sector}`),
                ].join(", ")}
              </p>
            </a>
            {r.status === "HELD" && new Date(r.expires_at) > new Date() && (
              <button type="button" class="secondary" onClick={() => void cancel(r.id)}>
                {t.cancel}
              </button>
            )}
          </li>
        ))}
      </ul>
      {tickets.length > 0 && (
        <>
          <h2>{t.tickets}</h2>
          <ul class="tickets">
            {tickets.map((ticket) => {
              const what = ticket.seat
                ? `${ticket.sector}, ${ticket.seat}`
                : t.place(ticket.sector);
              return (
                <li key={ticket.id} class="ticket card">
                  <QrCode text={ticket.code} label={`${t.ticketCode}: ${what}`} />
                  <div>
                    <h3>{t.ticketFor(what)}</h3>
                    <a href={`/reservations/${ticket.reservation_id}`}>{t.open}</a>
                  </div>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}
