import { useEffect, useState } from "preact/hooks";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import type { Category } from "../i18n/messages";
import { ProblemMessage } from "../ui/Problem";

const CATEGORIES: Category[] = ["show", "game", "cinema", "festival", "other"];

/** Every event, newest first, a page at a time, filtered by category. */
export function EventsPage() {
  const { api } = useServices();
  const { t } = useI18n();
  const [events, setEvents] = useState<Schemas["Event"][]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [category, setCategory] = useState<Category | "all">("all");
  const [error, setError] = useState<Failure | null>(null);
  const [loading, setLoading] = useState(false);

  const load = async (cursor?: string) => {
    setLoading(true);
    setError(null);
    try {
      const { data, error } = await api.GET("/events", {
        params: { query: { limit: 50, ...(cursor ? { next: cursor } : {}) } },
      });
      if (error || !data) {
        setError(failure(error));
        return;
      }
      setEvents((before) => (cursor ? [...before, ...data.items] : data.items));
      setNext(data.next);
    } catch {
      setError({ kind: "network" });
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const shown = events.filter((e) => category === "all" || e.category === category);
  return (
    <section>
      <h1>{t.events}</h1>
      <fieldset class="filters">
        <legend>{t.category}</legend>
        {(["all", ...CATEGORIES] as const).map((c) => (
          <label key={c} class={category === c ? "chip on" : "chip"}>
            <input
              type="radio"
              name="category"
              value={c}
              checked={category === c}
              onChange={() => setCategory(c)}
            />
            {c === "all" ? t.allCategories : t.categories[c]}
          </label>
        ))}
      </fieldset>
      {error && <ProblemMessage failure={error} retry={() => void load()} />}
      {loading && events.length === 0 && <p>{t.loading}</p>}
      {!loading && !error && shown.length === 0 && <p>{t.noEvents}</p>}
      <ul class="cards">
        {shown.map((e) => (
          <li key={e.id} class="card">
            <a href={`/events/${e.id}`}>
              <span class="tag">{t.categories[e.category]}</span>
              <h2>{e.name}</h2>
              <p>{e.venue}</p>
            </a>
          </li>
        ))}
      </ul>
      {next && (
        <button type="button" onClick={() => void load(next)} disabled={loading}>
          {t.loadMore}
        </button>
      )}
    </section>
  );
}
