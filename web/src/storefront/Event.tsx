import { useEffect, useState } from "preact/hooks";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import { dateTime } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";

/** An event with its sessions, earliest first. */
export function EventPage({ id }: { id: string }) {
  const { api } = useServices();
  const { t, locale } = useI18n();
  const [event, setEvent] = useState<Schemas["EventDetail"] | null>(null);
  const [error, setError] = useState<Failure | null>(null);

  const load = async () => {
    setError(null);
    try {
      const { data, error } = await api.GET("/events/{id}", { params: { path: { id } } });
      if (error || !data) setError(failure(error));
      else setEvent(data);
    } catch {
      setError({ kind: "network" });
    }
  };
  useEffect(() => {
    void load();
  }, [id]);

  if (error) return <ProblemMessage failure={error} retry={() => void load()} />;
  if (!event) return <p>{t.loading}</p>;
  return (
    <section>
      <p>
        <a href="/">{t.backToEvents}</a>
      </p>
      <span class="tag">{t.categories[event.category]}</span>
      <h1>{event.name}</h1>
      <p class="venue">{event.venue}</p>
      {event.description && <p>{event.description}</p>}
      <h2>{t.sessions}</h2>
      {event.sessions.length === 0 && <p>{t.noSessions}</p>}
      <ul class="sessions">
        {event.sessions.map((s) => (
          <li key={s.id} class="card">
            <p class="when">{dateTime(s.starts_at, locale)}</p>
            <p>
              {s.on_sale
                ? t.onSale
                : new Date(s.sale_starts_at) > new Date()
                  ? t.saleOpens(dateTime(s.sale_starts_at, locale))
                  : t.notOnSale}
            </p>
            <a class="button" href={`/sessions/${s.id}`}>
              {t.chooseSeats}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
