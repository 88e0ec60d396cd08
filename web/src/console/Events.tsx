import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import { ProblemMessage } from "../ui/Problem";
import { AdminOnly } from "./AdminOnly";
import { EventForm } from "./EventForm";

/** The organiser's events and a form for a new one. */
export function ConsoleEventsPage() {
  return (
    <AdminOnly>
      <ConsoleEvents />
    </AdminOnly>
  );
}

function ConsoleEvents() {
  const { api } = useServices();
  const { t } = useI18n();
  const [events, setEvents] = useState<Schemas["Event"][] | null>(null);
  const [error, setError] = useState<Failure | null>(null);

  const load = async () => {
    setError(null);
    try {
      const all: Schemas["Event"][] = [];
      let next: string | null | undefined;
      do {
        const { data, error } = await api.GET("/events", {
          params: { query: { limit: 100, ...(next ? { next } : {}) } },
        });
        if (error || !data) {
          setError(failure(error));
          return;
        }
        all.push(...data.items);
        next = data.next;
      } while (next);
      setEvents(all);
    } catch {
      setError({ kind: "network" });
    }
  };
  useEffect(() => {
    void load();
  }, []);

  return (
    <section class="console">
      <h1>{t.console.title}</h1>
      <p>
        <a href="/admin/reservations">{t.console.desk}</a>
      </p>
      <NewEventForm />
      <h2>{t.events}</h2>
      {error && <ProblemMessage failure={error} retry={() => void load()} />}
      {!events && !error && <p>{t.loading}</p>}
      {events && events.length === 0 && <p>{t.noEvents}</p>}
      {events && events.length > 0 && (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t.console.eventName}</th>
              <th scope="col">{t.console.venue}</th>
              <th scope="col">{t.category}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td>
                  <a href={`/admin/events/${e.id}`}>{e.name}</a>
                </td>
                <td>{e.venue}</td>
                <td>{t.categories[e.category]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function NewEventForm() {
  const { api } = useServices();
  const { t } = useI18n();
  const { route } = useLocation();
  return (
    <EventForm
      heading={t.console.newEvent}
      submit={t.console.createEvent}
      save={async (fields) => {
        const { data, error } = await api.POST("/events", { body: fields });
        if (error || !data) return failure(error);
        route(`/admin/events/${data.id}`);
        return null;
      }}
    />
  );
}
