import { useEffect, useState } from "preact/hooks";
import { failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useAuth } from "../auth";
import { useI18n } from "../i18n";

type Entry = Schemas["WaitlistEntry"];

/** A sold-out standing sector's waiting list, for the fan: join it, see their place or the
 *  offer made to them, or leave it. */
export function Waitlist({
  session,
  sector,
  name,
}: {
  session: string;
  sector: string;
  name: string;
}) {
  const { api } = useServices();
  const { sub, signIn } = useAuth();
  const { t } = useI18n();
  const [entry, setEntry] = useState<Entry | null>(null);
  const [quantity, setQuantity] = useState(1);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const params = { params: { path: { id: session } } };

  const load = async () => {
    const { data } = await api.GET("/sessions/{id}/waitlist", params);
    setEntry(data?.items.find((e) => e.sector === sector) ?? null);
  };
  useEffect(() => {
    if (sub) void load().catch(() => setNotice(t.network));
  }, [sub, session, sector]);

  const act = async (call: () => Promise<{ data?: Entry; error?: unknown }>) => {
    setBusy(true);
    setNotice(null);
    try {
      const { data, error } = await call();
      if (data) setEntry(data);
      else {
        const f = failure(error as never);
        setNotice(f.kind === "network" ? t.network : t.problems[f.problem.code]);
      }
    } catch {
      setNotice(t.network);
    } finally {
      setBusy(false);
    }
  };

  const join = () =>
    act(() => api.POST("/sessions/{id}/waitlist", { ...params, body: { sector, quantity } }));
  const leave = () =>
    act(() =>
      api.DELETE("/sessions/{id}/waitlist/{sector}", {
        params: { path: { id: session, sector } },
      }),
    );

  return (
    <fieldset class="waitlist">
      <legend class="visually-hidden">{t.waitlistFor(name)}</legend>
      {!sub && (
        <button type="button" class="secondary" onClick={() => void signIn()}>
          {t.signInToWait}
        </button>
      )}
      {sub && entry?.status === "OFFERED" && entry.offer && (
        <p role="status">
          {t.offered(entry.quantity)}{" "}
          <a class="button" href={`/reservations/${entry.offer}`}>
            {t.payOffer}
          </a>
        </p>
      )}
      {sub && entry?.status === "WAITING" && (
        <p role="status">
          {t.inLine(entry.position ?? 1, entry.quantity)}{" "}
          <button type="button" class="secondary" disabled={busy} onClick={() => void leave()}>
            {t.leaveLine}
          </button>
        </p>
      )}
      {sub && (!entry || entry.status === "LEFT") && (
        <>
          <label for={`wait-${sector}`}>{t.placesWanted}</label>
          <input
            id={`wait-${sector}`}
            type="number"
            min={1}
            max={10}
            value={quantity}
            onInput={(e) =>
              setQuantity(Math.max(1, Number((e.currentTarget as HTMLInputElement).value) || 1))
            }
          />
          <button type="button" disabled={busy} onClick={() => void join()}>
            {t.joinLine}
          </button>
        </>
      )}
      {notice && <p class="notice">{notice}</p>}
    </fieldset>
  );
}
