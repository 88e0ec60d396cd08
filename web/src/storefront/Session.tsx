import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type Failure, failure, idempotencyKey, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useAuth } from "../auth";
import { useI18n } from "../i18n";
import { key } from "../seatmap/draw";
import { type Hit, layoutSectors, seatsOfRows } from "../seatmap/geometry";
import { SeatMap } from "../seatmap/SeatMap";
import { dateTime, money, time } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";
import { useRefresh } from "../ui/useRefresh";
import { JoinQueue } from "./Queue";
import { Waitlist } from "./Waitlist";

/** How often availability is read again while the page is in view. */
const REFRESH_MS = 10_000;

/** A session: the seat map of its numbered sectors, quantities for standing ones, the choice. */
export function SessionPage({ id }: { id: string }) {
  const { api } = useServices();
  const { t, locale } = useI18n();
  const [session, setSession] = useState<Schemas["Session"] | null>(null);
  const [event, setEvent] = useState<Schemas["EventDetail"] | null>(null);
  const [maps, setMaps] = useState<Schemas["SeatMap"][]>([]);
  const [updated, setUpdated] = useState<Date | null>(null);
  const [error, setError] = useState<Failure | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { sub, signIn } = useAuth();
  const { route } = useLocation();
  // The choice survives the trip to the sign-in page and back.
  const kept = `choice:${id}`;
  const [chosen, setChosen] = useState<ReadonlySet<string>>(
    () => new Set(JSON.parse(sessionStorage.getItem(kept) ?? "{}").seats ?? []),
  );
  const [places, setPlaces] = useState<Record<string, number>>(
    () => JSON.parse(sessionStorage.getItem(kept) ?? "{}").places ?? {},
  );
  const [holding, setHolding] = useState(false);
  const [holdError, setHoldError] = useState<Failure | null>(null);
  useEffect(() => {
    sessionStorage.setItem(kept, JSON.stringify({ seats: [...chosen], places }));
  }, [kept, chosen, places]);
  const loading = useRef(false);

  const load = async () => {
    if (loading.current) return;
    loading.current = true;
    try {
      const { data, error } = await api.GET("/sessions/{id}", { params: { path: { id } } });
      if (error || !data) {
        setError(failure(error));
        return;
      }
      const numbered = data.sectors.filter((s) => s.kind === "numbered");
      const read = await Promise.all(
        numbered.map((s) =>
          api.GET("/sessions/{id}/sectors/{sector}/seats", {
            params: { path: { id, sector: s.code } },
          }),
        ),
      );
      const bad = read.find((r) => r.error || !r.data);
      if (bad) {
        setError(failure(bad.error));
        return;
      }
      if (!event || event.id !== data.event_id) {
        const read = await api.GET("/events/{id}", { params: { path: { id: data.event_id } } });
        if (read.data) setEvent(read.data);
      }
      setError(null);
      setSession(data);
      setMaps(read.flatMap((r) => (r.data ? [r.data] : [])));
      setUpdated(new Date());
    } catch {
      setError({ kind: "network" });
    } finally {
      loading.current = false;
    }
  };
  useRefresh(() => void load(), REFRESH_MS, [id]);

  const sectors = useMemo(
    () =>
      maps.map((m) => ({
        code: m.code,
        name: m.name,
        priceCents: m.price.cents,
        seats: seatsOfRows(m.map),
      })),
    [maps],
  );
  const layout = useMemo(() => layoutSectors(sectors), [sectors]);

  // A chosen seat someone else took meanwhile is dropped, and the fan is told.
  useEffect(() => {
    const gone = [...chosen].filter((k) => {
      const [code, label] = k.split("/");
      const seat = sectors.find((m) => m.code === code)?.seats.find((s) => s.seat === label);
      return seat !== undefined && seat.status !== "free";
    });
    if (gone.length > 0) {
      setChosen(new Set([...chosen].filter((k) => !gone.includes(k))));
      setNotice(t.problems.SEATS_TAKEN);
    }
  }, [sectors]);

  if (error && !session) return <ProblemMessage failure={error} retry={() => void load()} />;
  if (!session) return <p>{t.loading}</p>;

  const currency = session.sectors[0]?.price.currency ?? "BRL";
  const price = (cents: number) => money(cents, currency, locale);
  const limit = session.max_tickets_per_customer;
  /** A `queue` sale while it is open: seats are only asked for through the queue. */
  const queueOnly = session.sale_mode === "queue" && session.on_sale;
  const count = chosen.size + Object.values(places).reduce((a, b) => a + b, 0);
  const standing = session.sectors.filter((s) => s.kind === "general_admission");

  const toggle = (hit: Hit) => {
    const k = key(hit.block, hit.seat.label);
    if (chosen.has(k)) {
      const next = new Set(chosen);
      next.delete(k);
      setChosen(next);
      setNotice(null);
      return;
    }
    if (hit.seat.status !== "free") return;
    if (count >= limit) {
      setNotice(t.limitReached(limit));
      return;
    }
    setNotice(null);
    setChosen(new Set([...chosen, k]));
  };

  /** One hold for the whole choice; its key is kept while this attempt is retried. */
  const hold = async () => {
    if (!sub) {
      await signIn();
      return;
    }
    setHolding(true);
    setHoldError(null);
    const attempt = `hold:${id}`;
    const key = sessionStorage.getItem(attempt) ?? idempotencyKey();
    sessionStorage.setItem(attempt, key);
    try {
      const { data, error, response } = await api.POST("/sessions/{id}/holds", {
        params: { path: { id }, header: { "Idempotency-Key": key } },
        body: {
          seats: [...chosen].map((k) => {
            const [sector = "", seat = ""] = k.split("/");
            return { sector, seat };
          }),
          places: Object.entries(places)
            .filter(([, n]) => n > 0)
            .map(([sector, quantity]) => ({ sector, quantity })),
        },
      });
      if (data) {
        sessionStorage.removeItem(attempt);
        sessionStorage.removeItem(kept);
        route(`/reservations/${data.id}`);
        return;
      }
      // A definite refusal ends the attempt; a fault keeps its key for the retry.
      if (response.status < 500) sessionStorage.removeItem(attempt);
      setHoldError(failure(error));
      if (response.status === 409) void load();
    } catch {
      setHoldError({ kind: "network" });
    } finally {
      setHolding(false);
    }
  };

  const seatLines = [...chosen].flatMap((k) => {
    const [code, label] = k.split("/");
    const block = layout.blocks.find((b) => b.code === code);
    const seat = block?.cells.find((s) => s?.label === label);
    return block && seat ? [{ k, block, seat }] : [];
  });
  const total =
    seatLines.reduce((sum, l) => sum + l.block.priceCents, 0) +
    standing.reduce((sum, s) => sum + (places[s.code] ?? 0) * s.price.cents, 0);

  return (
    <section class="session">
      {event && (
        <p>
          <a href={`/events/${event.id}`}>{event.name}</a> · {event.venue}
        </p>
      )}
      <h1>{event ? event.name : dateTime(session.starts_at, locale)}</h1>
      <p class="when">
        {dateTime(session.starts_at, locale)} · {session.on_sale ? t.onSale : t.notOnSale}
      </p>
      {error && <ProblemMessage failure={error} retry={() => void load()} />}
      {layout.blocks.length > 0 && (
        <SeatMap
          layout={layout}
          chosen={chosen}
          onToggle={queueOnly ? () => undefined : toggle}
          price={(hit) => price(hit.block.priceCents)}
        />
      )}
      {!queueOnly &&
        session.on_sale &&
        session.sectors
          .filter((s) => s.kind === "numbered" && (s.available ?? 0) === 0)
          .map((s) => (
            <div key={s.code} class="sold-out-seats">
              <p>
                {s.name}: <span class="left none">{t.soldOut}</span>
              </p>
              <Waitlist session={session.id} sector={s.code} name={s.name} />
            </div>
          ))}
      {queueOnly && (
        <p class="notice" role="status">
          {t.queueOnly}
        </p>
      )}
      {standing.length > 0 && !queueOnly && (
        <fieldset class="standing">
          <legend>{t.places}</legend>
          {standing.map((s) => {
            const left = s.available ?? 0;
            const mine = places[s.code] ?? 0;
            const most = Math.min(left, mine + (limit - count));
            return (
              <div key={s.code} class="standing-row">
                <label for={`qty-${s.code}`}>
                  {s.name} · {price(s.price.cents)}
                </label>
                <span class={left > 0 ? "left" : "left none"}>
                  {left > 0 ? t.available(left) : t.soldOut}
                </span>
                <input
                  id={`qty-${s.code}`}
                  type="number"
                  min={0}
                  max={Math.max(0, most)}
                  value={mine}
                  disabled={left === 0 && mine === 0}
                  onInput={(e) => {
                    const wanted = Number((e.currentTarget as HTMLInputElement).value) || 0;
                    setPlaces({ ...places, [s.code]: Math.max(0, Math.min(wanted, most)) });
                    if (wanted > most)
                      setNotice(wanted > left ? t.problems.SOLD_OUT : t.limitReached(limit));
                  }}
                />
                {left === 0 && session.on_sale && (
                  <Waitlist session={session.id} sector={s.code} name={s.name} />
                )}
              </div>
            );
          })}
        </fieldset>
      )}
      {!queueOnly && (
        <aside class="choice" aria-labelledby="choice-title">
          <h2 id="choice-title">{t.yourChoice}</h2>
          {notice && (
            <p class="notice" role="status">
              {notice}
            </p>
          )}
          {count === 0 && <p>{t.nothingChosen}</p>}
          <ul>
            {seatLines.map((l) => (
              <li key={l.k}>
                {t.seatName(l.block.name, l.seat.row, l.seat.number)} · {price(l.block.priceCents)}{" "}
                <button
                  type="button"
                  class="link"
                  onClick={() => toggle({ block: l.block, seat: l.seat })}
                  aria-label={`${t.remove}: ${t.seatName(l.block.name, l.seat.row, l.seat.number)}`}
                >
                  {t.remove}
                </button>
              </li>
            ))}
            {standing
              .filter((s) => (places[s.code] ?? 0) > 0)
              .map((s) => (
                <li key={s.code}>
                  {places[s.code]} × {s.name} · {price(s.price.cents)}
                </li>
              ))}
          </ul>
          <p class="total">
            {t.total}: <strong>{price(total)}</strong>
          </p>
          {holdError && <ProblemMessage failure={holdError} />}
          <button type="button" onClick={() => void hold()} disabled={count === 0 || holding}>
            {holding ? t.holding : sub ? t.hold : t.signInToHold}
          </button>
          {updated && <p class="hint">{t.updatedAt(time(updated, locale))}</p>}
        </aside>
      )}
      {session.on_sale && <JoinQueue session={session} />}
    </section>
  );
}
