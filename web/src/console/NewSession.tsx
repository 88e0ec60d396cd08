import { useMemo, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { type Failure, failure } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import { key } from "../seatmap/draw";
import { type Hit, layoutSectors } from "../seatmap/geometry";
import { SeatMap } from "../seatmap/SeatMap";
import { money } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";
import { AdminOnly } from "./AdminOnly";
import {
  cents,
  issues,
  MAX_SECTORS,
  parseGaps,
  preview,
  type SectorDraft,
  type SessionDraft,
  seatCount,
  sessionBody,
} from "./draft";
import { Field } from "./Field";

/** A new session of an event: dates, limits and a sector editor with the seat map as fans will
 *  see it. */
export function NewSessionPage({ id }: { id: string }) {
  return (
    <AdminOnly>
      <NewSession event={id} />
    </AdminOnly>
  );
}

let nextId = 1;
function sector(kind: SectorDraft["kind"], index: number): SectorDraft {
  return {
    id: nextId++,
    kind,
    code: kind === "numbered" ? `setor-${index}` : `pista-${index}`,
    name: "",
    price: "",
    rows: kind === "numbered" ? "10" : "",
    seatsPerRow: kind === "numbered" ? "20" : "",
    gaps: [],
    capacity: kind === "general_admission" ? "500" : "",
  };
}

function NewSession({ event }: { event: string }) {
  const { api } = useServices();
  const { t, locale } = useI18n();
  const { route } = useLocation();
  const [draft, setDraft] = useState<SessionDraft>(() => ({
    startsAt: "",
    saleStartsAt: "",
    saleEndsAt: "",
    maxPerCustomer: "",
    saleMode: "direct",
    sectors: [sector("numbered", 1)],
  }));
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure | null>(null);

  const found = issues(draft, new Date());
  const shown = (field: string) =>
    tried && found[field] ? t.console.issue(found[field]) : undefined;
  const set = (patch: Partial<SessionDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const setSector = (id: number, patch: Partial<SectorDraft>) =>
    setDraft((d) => ({
      ...d,
      sectors: d.sectors.map((s) => (s.id === id ? { ...s, ...patch } : s)),
    }));

  const layout = useMemo(() => layoutSectors(preview(draft)), [draft]);
  // Gaps are drawn as picked seats; a click makes a seat a gap or gives it back.
  const gaps = useMemo(
    () => new Set(draft.sectors.flatMap((s) => s.gaps.map((g) => `${s.code || `#${s.id}`}/${g}`))),
    [draft],
  );
  const toggleGap = (hit: Hit) => {
    const s = draft.sectors.find((x) => (x.code || `#${x.id}`) === hit.block.code);
    if (!s) return;
    const label = hit.seat.label;
    setSector(s.id, {
      gaps: gaps.has(key(hit.block, label))
        ? s.gaps.filter((g) => g !== label)
        : [...s.gaps, label],
    });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    setError(null);
    try {
      const { data, error } = await api.POST("/events/{id}/sessions", {
        params: { path: { id: event } },
        body: sessionBody(draft),
      });
      if (error || !data) return setError(failure(error));
      route(`/admin/events/${event}`);
    } catch {
      setError({ kind: "network" });
    } finally {
      setBusy(false);
    }
  };

  const seats = draft.sectors.reduce((n, s) => n + (s.kind === "numbered" ? seatCount(s) : 0), 0);
  return (
    <section class="console">
      <p>
        <a href={`/admin/events/${event}`}>{t.console.backToEvent}</a>
      </p>
      <h1>{t.console.newSession}</h1>
      <form onSubmit={submit} noValidate class="session-editor">
        <fieldset class="panel">
          <legend>{t.console.whenAndLimits}</legend>
          <Field id="starts-at" label={t.console.startsAt} error={shown("startsAt")}>
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={draft.startsAt}
                onInput={(e) => set({ startsAt: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field id="sale-starts-at" label={t.console.saleStartsAt} error={shown("saleStartsAt")}>
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={draft.saleStartsAt}
                onInput={(e) => set({ saleStartsAt: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field id="sale-ends-at" label={t.console.saleEndsAt} error={shown("saleEndsAt")}>
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                value={draft.saleEndsAt}
                onInput={(e) => set({ saleEndsAt: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field
            id="max-per-customer"
            label={t.console.maxPerCustomer}
            error={shown("maxPerCustomer")}
          >
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                placeholder="6"
                value={draft.maxPerCustomer}
                onInput={(e) => set({ maxPerCustomer: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field id="sale-mode" label={t.console.saleMode}>
            {(p) => (
              <select
                {...p}
                value={draft.saleMode}
                onChange={(e) =>
                  set({ saleMode: e.currentTarget.value === "queue" ? "queue" : "direct" })
                }
              >
                <option value="direct">{t.console.saleModeDirect}</option>
                <option value="queue">{t.console.saleModeQueue}</option>
              </select>
            )}
          </Field>
        </fieldset>

        <h2>{t.console.sectors}</h2>
        {shown("sectors") && (
          <p class="field-error" role="alert">
            {shown("sectors")}
          </p>
        )}
        {draft.sectors.map((s, i) => {
          const f = (field: string) => shown(`sectors.${s.id}.${field}`);
          const n = i + 1;
          return (
            <fieldset key={s.id} class="panel sector">
              <legend>
                {t.console.sectorN(n)}
                {s.name.trim() && ` · ${s.name.trim()}`}
              </legend>
              <p class="hint">
                {s.kind === "numbered"
                  ? t.console.numberedSeats(seatCount(s))
                  : t.console.standingPlaces(Number(s.capacity) || 0)}
                {cents(s.price) !== undefined && ` · ${money(cents(s.price) ?? 0, "BRL", locale)}`}
              </p>
              <Field id={`sector-${s.id}-name`} label={t.console.sectorName(n)} error={f("name")}>
                {(p) => (
                  <input
                    {...p}
                    value={s.name}
                    onInput={(e) => setSector(s.id, { name: e.currentTarget.value })}
                  />
                )}
              </Field>
              <Field id={`sector-${s.id}-code`} label={t.console.sectorCode(n)} error={f("code")}>
                {(p) => (
                  <input
                    {...p}
                    value={s.code}
                    onInput={(e) => setSector(s.id, { code: e.currentTarget.value })}
                  />
                )}
              </Field>
              <Field
                id={`sector-${s.id}-price`}
                label={t.console.sectorPrice(n)}
                error={f("price")}
              >
                {(p) => (
                  <input
                    {...p}
                    inputMode="decimal"
                    value={s.price}
                    onInput={(e) => setSector(s.id, { price: e.currentTarget.value })}
                  />
                )}
              </Field>
              {s.kind === "numbered" ? (
                <>
                  <Field id={`sector-${s.id}-rows`} label={t.console.rows(n)} error={f("rows")}>
                    {(p) => (
                      <input
                        {...p}
                        inputMode="numeric"
                        value={s.rows}
                        onInput={(e) => setSector(s.id, { rows: e.currentTarget.value })}
                      />
                    )}
                  </Field>
                  <Field
                    id={`sector-${s.id}-seats`}
                    label={t.console.seatsPerRow(n)}
                    error={f("seatsPerRow")}
                  >
                    {(p) => (
                      <input
                        {...p}
                        inputMode="numeric"
                        value={s.seatsPerRow}
                        onInput={(e) => setSector(s.id, { seatsPerRow: e.currentTarget.value })}
                      />
                    )}
                  </Field>
                  <Field id={`sector-${s.id}-gaps`} label={t.console.gaps(n)} error={f("gaps")}>
                    {(p) => (
                      <input
                        {...p}
                        value={s.gaps.join(", ")}
                        placeholder="A-1, A-2"
                        onChange={(e) =>
                          setSector(s.id, { gaps: parseGaps(e.currentTarget.value) })
                        }
                      />
                    )}
                  </Field>
                </>
              ) : (
                <Field
                  id={`sector-${s.id}-capacity`}
                  label={t.console.capacity(n)}
                  error={f("capacity")}
                >
                  {(p) => (
                    <input
                      {...p}
                      inputMode="numeric"
                      value={s.capacity}
                      onInput={(e) => setSector(s.id, { capacity: e.currentTarget.value })}
                    />
                  )}
                </Field>
              )}
              <button
                type="button"
                class="link"
                disabled={draft.sectors.length === 1}
                onClick={() => set({ sectors: draft.sectors.filter((x) => x.id !== s.id) })}
              >
                {t.console.removeSector(n)}
              </button>
            </fieldset>
          );
        })}
        <div class="actions">
          <button
            type="button"
            disabled={draft.sectors.length >= MAX_SECTORS}
            onClick={() =>
              set({ sectors: [...draft.sectors, sector("numbered", draft.sectors.length + 1)] })
            }
          >
            {t.console.addNumbered}
          </button>
          <button
            type="button"
            disabled={draft.sectors.length >= MAX_SECTORS}
            onClick={() =>
              set({
                sectors: [...draft.sectors, sector("general_admission", draft.sectors.length + 1)],
              })
            }
          >
            {t.console.addStanding}
          </button>
        </div>

        <h2>{t.console.preview}</h2>
        <p class="hint">{t.console.previewHelp(seats)}</p>
        {layout.blocks.length > 0 ? (
          <SeatMap
            layout={layout}
            chosen={gaps}
            onToggle={toggleGap}
            price={(hit) => money(hit.block.priceCents, "BRL", locale)}
          />
        ) : (
          <p>{t.console.noPreview}</p>
        )}

        {error && <ProblemMessage failure={error} />}
        {error?.kind === "problem" && error.problem.detail && (
          <p class="hint">{error.problem.detail}</p>
        )}
        {tried && Object.keys(found).length > 0 && (
          <p class="field-error" role="alert">
            {t.console.fixFields}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {t.console.createSession}
        </button>
      </form>
    </section>
  );
}
