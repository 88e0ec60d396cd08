import type { User } from "oidc-client-ts";
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { GroupOnly } from "../console/AdminOnly";
import { useI18n } from "../i18n";
import { dateTime } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";

/** Whether the ID token puts its holder at the door: the `staff` group, or an organiser. */
export function isStaff(user: User | null): boolean {
  const groups = user?.profile["cognito:groups"];
  return Array.isArray(groups) && (groups.includes("staff") || groups.includes("admin"));
}

/** The door's pages, for staff only: others are told so, and the API refuses them too. */
export function StaffOnly({ children }: { children: ComponentChildren }) {
  const { t } = useI18n();
  return (
    <GroupOnly allowed={isStaff} title={t.door.title} refused={t.door.refused}>
      {children}
    </GroupOnly>
  );
}

/** `/door`: the sessions a gate can check tickets in for. */
export function DoorPage() {
  return (
    <StaffOnly>
      <Sessions />
    </StaffOnly>
  );
}

function Sessions() {
  const { api } = useServices();
  const { t, locale } = useI18n();
  const [events, setEvents] = useState<Schemas["EventDetail"][] | null>(null);
  const [error, setError] = useState<Failure | null>(null);

  const load = async () => {
    setError(null);
    try {
      const { data, error } = await api.GET("/events", { params: { query: { limit: 50 } } });
      if (error || !data) return setError(failure(error));
      const details = await Promise.all(
        data.items.map((e) => api.GET("/events/{id}", { params: { path: { id: e.id } } })),
      );
      setEvents(details.flatMap((d) => (d.data ? [d.data] : [])));
    } catch {
      setError({ kind: "network" });
    }
  };
  useEffect(() => {
    void load();
  }, []);

  return (
    <section>
      <h1>{t.door.title}</h1>
      <p>{t.door.chooseSession}</p>
      {error && <ProblemMessage failure={error} retry={() => void load()} />}
      {!events && !error && <p>{t.loading}</p>}
      {events?.map((event) => (
        <div key={event.id}>
          <h2>{event.name}</h2>
          <ul class="sessions">
            {event.sessions.map((s) => (
              <li key={s.id} class="card">
                <p class="when">{dateTime(s.starts_at, locale)}</p>
                <a class="button" href={`/door/sessions/${s.id}`}>
                  {t.door.openGate(event.name)}
                </a>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}
