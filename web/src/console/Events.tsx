import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import type { Category } from "../i18n/messages";
import { ProblemMessage } from "../ui/Problem";
import { AdminOnly } from "./AdminOnly";
import { MAX_NAME_CHARS } from "./draft";
import { Field } from "./Field";

const CATEGORIES: Category[] = ["show", "game", "cinema", "festival", "other"];

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
  const [name, setName] = useState("");
  const [venue, setVenue] = useState("");
  const [category, setCategory] = useState<Category>("show");
  const [description, setDescription] = useState("");
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure | null>(null);

  const blank = (v: string) =>
    v.trim() === "" ? t.console.issue({ kind: "required" }) : undefined;
  const nameError = blank(name);
  const venueError = blank(venue);

  const submit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    if (nameError || venueError) return;
    setBusy(true);
    setError(null);
    try {
      const { data, error } = await api.POST("/events", {
        body: { name, venue, category, description: description.trim() || null },
      });
      if (error || !data) {
        setError(failure(error));
        return;
      }
      route(`/admin/events/${data.id}`);
    } catch {
      setError({ kind: "network" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" onSubmit={submit} noValidate aria-labelledby="new-event">
      <h2 id="new-event">{t.console.newEvent}</h2>
      <Field id="event-name" label={t.console.eventName} error={tried ? nameError : undefined}>
        {(p) => (
          <input
            {...p}
            value={name}
            maxLength={MAX_NAME_CHARS}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id="event-venue" label={t.console.venue} error={tried ? venueError : undefined}>
        {(p) => (
          <input
            {...p}
            value={venue}
            maxLength={MAX_NAME_CHARS}
            onInput={(e) => setVenue(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id="event-category" label={t.category}>
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
      <Field id="event-description" label={t.console.description}>
        {(p) => (
          <textarea
            {...p}
            value={description}
            maxLength={5000}
            rows={3}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        )}
      </Field>
      {error && <ProblemMessage failure={error} />}
      <button type="submit" disabled={busy}>
        {t.console.createEvent}
      </button>
    </form>
  );
}
