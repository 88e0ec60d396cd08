import { useEffect, useState } from "preact/hooks";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useAuth } from "../auth";
import { useI18n } from "../i18n";
import { dateTime } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";

/** The signed-in fan's reservations, newest first. */
export function MyReservationsPage() {
  const { api } = useServices();
  const { sub, signIn } = useAuth();
  const { t, locale } = useI18n();
  const [items, setItems] = useState<Schemas["Reservation"][] | null>(null);
  const [error, setError] = useState<Failure | null>(null);

  const load = async () => {
    try {
      const { data, error } = await api.GET("/me/reservations", {
        params: { query: { limit: 50 } },
      });
      if (data) setItems(data.items);
      else setError(failure(error));
    } catch {
      setError({ kind: "network" });
    }
  };
  useEffect(() => {
    if (sub) void load();
  }, [sub]);

  if (!sub) {
    return (
      <section>
        <h1>{t.myReservations}</h1>
        <p>{t.signInRequired}</p>
        <button type="button" onClick={() => void signIn()}>
          {t.signIn}
        </button>
      </section>
    );
  }
  return (
    <section>
      <h1>{t.myReservations}</h1>
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
          </li>
        ))}
      </ul>
    </section>
  );
}
