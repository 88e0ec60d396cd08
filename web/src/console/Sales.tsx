import { useRef, useState } from "preact/hooks";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import { dateTime, hourMinute, money, time } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";
import { useRefresh } from "../ui/useRefresh";
import { AdminOnly } from "./AdminOnly";
import { allPages, saveFile } from "./exports";
import { SalesChart } from "./SalesChart";

/** How often the dashboard reads the sales view while it is shown. */
const REFRESH_MS = 5_000;

/** Tickets an attendee export asks for a page (the route's most). */
const EXPORT_PAGE = 5000;

/** A session's sale as it happens: per sector sold, held and available as bars, tickets sold a
 *  minute, holds about to end, the flash-sale line, and what was confirmed, refreshed on its own
 *  while the tab is visible; the attendee list and the sector figures as CSV files. */
export function SalesPage({ id }: { id: string }) {
  return (
    <AdminOnly>
      <Sales id={id} />
    </AdminOnly>
  );
}

function Sales({ id }: { id: string }) {
  const { api } = useServices();
  const { t, locale } = useI18n();
  const [session, setSession] = useState<Schemas["Session"] | null>(null);
  const [report, setReport] = useState<Schemas["SalesReport"] | null>(null);
  const [products, setProducts] = useState<Schemas["Product"][]>([]);
  const [timeline, setTimeline] = useState<Schemas["SalesTimeline"] | null>(null);
  const [line, setLine] = useState<Schemas["SaleQueue"] | null>(null);
  const [conflicts, setConflicts] = useState<Schemas["CheckinConflicts"]["items"]>([]);
  const [exporting, setExporting] = useState<"attendees" | "sectors" | null>(null);
  const [updated, setUpdated] = useState<Date | null>(null);
  const [error, setError] = useState<Failure | null>(null);
  const busy = useRef(false);
  // The refresh timer keeps the first `load`, so what it reuses lives in a ref, not in state.
  const known = useRef<Schemas["Session"] | null>(null);

  const load = async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      // The session (its sectors' names, its event) is read once; the figures every time.
      const path = { params: { path: { id } } };
      const [s, r, tl, q, d] = await Promise.all([
        known.current ? { data: known.current, error: undefined } : api.GET("/sessions/{id}", path),
        api.GET("/sessions/{id}/sales", path),
        api.GET("/sessions/{id}/sales/timeline", path),
        api.GET("/sessions/{id}/sales/queue", path),
        api.GET("/sessions/{id}/checkins/conflicts", path),
      ]);
      if (s.error || !s.data) return setError(failure(s.error));
      if (r.error || !r.data) return setError(failure(r.error));
      if (tl.error || !tl.data) return setError(failure(tl.error));
      const p = await api.GET("/events/{id}/products", {
        params: { path: { id: s.data.event_id } },
      });
      if (p.error || !p.data) return setError(failure(p.error));
      setError(null);
      known.current = s.data;
      setSession(s.data);
      setReport(r.data);
      setTimeline(tl.data);
      // The line comes from the queue as well: without it the rest still refreshes.
      setLine(q.data ?? null);
      setConflicts(d.data?.items ?? []);
      setProducts(p.data.items);
      setUpdated(new Date());
    } catch {
      setError({ kind: "network" });
    } finally {
      busy.current = false;
    }
  };
  useRefresh(() => void load(), REFRESH_MS, [id]);

  /** The attendee list (every page, following `Link`) or the sector figures, saved as a file. */
  const download = async (what: "attendees" | "sectors") => {
    setExporting(what);
    try {
      // The sector figures are one page; the attendee list follows its `Link` headers.
      const text = await allPages(async (next) => {
        const csv = { headers: { Accept: "text/csv" }, parseAs: "text" } as const;
        const { data, error, response } =
          what === "attendees"
            ? await api.GET("/sessions/{id}/attendees", {
                params: { path: { id }, query: { limit: EXPORT_PAGE, next } },
                ...csv,
              })
            : await api.GET("/sessions/{id}/sales", { params: { path: { id } }, ...csv });
        if (error || data === undefined) throw failure(error);
        return { text: data, link: response.headers.get("Link") };
      });
      saveFile(text, `${what}-${id}.csv`);
      setError(null);
    } catch (e) {
      setError(e && typeof e === "object" && "kind" in e ? (e as Failure) : { kind: "network" });
    } finally {
      setExporting(null);
    }
  };

  if (!report || !session || !timeline) {
    return error ? (
      <ProblemMessage failure={error} retry={() => void load()} />
    ) : (
      <p>{t.loading}</p>
    );
  }
  const names = new Map(session.sectors.map((s) => [s.code, s.name]));
  const c = t.console;
  return (
    <section class="console">
      <p>
        <a href={`/admin/events/${session.event_id}`}>{c.backToEvent}</a>
      </p>
      <h1>{c.salesTitle}</h1>
      <p>
        {dateTime(session.starts_at, locale)} · {report.on_sale ? t.onSale : t.notOnSale}
      </p>
      <p class="hint" aria-live="polite">
        {updated && c.updatedAt(time(updated, locale))}
      </p>
      {error && <ProblemMessage failure={error} retry={() => void load()} />}
      <dl class="totals">
        {(["sold", "held", "available", "expired", "cancelled", "checked_in"] as const).map((k) => (
          <div key={k}>
            <dt>{c.counts[k]}</dt>
            <dd>{report[k].toLocaleString(locale)}</dd>
          </div>
        ))}
        <div>
          <dt>{c.revenue}</dt>
          <dd>
            {report.revenue.length === 0
              ? money(0, "BRL", locale)
              : report.revenue.map((m) => money(m.cents, m.currency, locale)).join(" + ")}
          </dd>
        </div>
      </dl>
      <h2>{c.soldOverTime(minutesIn(timeline))}</h2>
      <SalesChart
        timeline={timeline}
        locale={locale}
        series={c.ticketsPerMinute}
        label={c.chartLabel(timeline.sold_in_window, minutesIn(timeline))}
      />
      <p>{c.chartLabel(timeline.sold_in_window, minutesIn(timeline))}</p>
      <div class="panels">
        <section aria-labelledby="expiring-title">
          <h2 id="expiring-title">{c.expiringTitle}</h2>
          <p>{c.expiringTotal(timeline.expiring.reduce((n, m) => n + m.tickets, 0))}</p>
          {timeline.expiring.length > 0 && (
            <ul class="minutes">
              {timeline.expiring.map((m) => (
                <li key={m.minute}>
                  {c.expiringAt(hourMinute(new Date(m.minute), locale), m.tickets)}
                </li>
              ))}
            </ul>
          )}
          {timeline.lapsed > 0 && <p class="hint">{c.lapsed(timeline.lapsed)}</p>}
        </section>
        <section aria-labelledby="queue-title">
          <h2 id="queue-title">{c.queueTitle}</h2>
          {line ? (
            <dl class="totals">
              <div>
                <dt>{c.queueWaiting}</dt>
                <dd>{line.queue.waiting.toLocaleString(locale)}</dd>
              </div>
              <div>
                <dt>{c.queueInFlight}</dt>
                <dd>{line.queue.in_flight.toLocaleString(locale)}</dd>
              </div>
              <div>
                <dt>{c.oldestWait}</dt>
                <dd>
                  {line.oldest_age_seconds === null
                    ? c.nobodyWaiting
                    : c.seconds(line.oldest_age_seconds)}
                </dd>
              </div>
            </dl>
          ) : (
            <p>{c.lineUnavailable}</p>
          )}
          <p class="hint">{c.queueScope}</p>
        </section>
      </div>
      <table class="listing sales">
        <caption>{c.bySector}</caption>
        <thead>
          <tr>
            <th scope="col">{t.sector}</th>
            <th scope="col">{c.capacityHeading}</th>
            <th scope="col">{c.counts.sold}</th>
            <th scope="col">{c.counts.held}</th>
            <th scope="col">{c.counts.available}</th>
            <th scope="col">{c.counts.expired}</th>
            <th scope="col">{c.counts.cancelled}</th>
            <th scope="col">{c.counts.checked_in}</th>
            <th scope="col">{c.waitingHeading}</th>
            <th scope="col">{c.revenue}</th>
            <th scope="col">{c.occupation}</th>
          </tr>
        </thead>
        <tbody>
          {report.sectors.map((s) => {
            const name = names.get(s.sector) ?? s.sector;
            const share = (n: number) => (s.capacity > 0 ? (100 * n) / s.capacity : 0);
            return (
              <tr key={s.sector}>
                <th scope="row">{name}</th>
                <td>{s.capacity.toLocaleString(locale)}</td>
                <td>{s.sold.toLocaleString(locale)}</td>
                <td>{s.held.toLocaleString(locale)}</td>
                <td>{s.available.toLocaleString(locale)}</td>
                <td>{s.expired.toLocaleString(locale)}</td>
                <td>{s.cancelled.toLocaleString(locale)}</td>
                <td>{s.checked_in.toLocaleString(locale)}</td>
                <td>
                  {s.waiting.toLocaleString(locale)}
                  {s.kept_for_waitlist > 0 && ` · ${c.keptForLine(s.kept_for_waitlist)}`}
                </td>
                <td>{s.revenue ? money(s.revenue.cents, s.revenue.currency, locale) : "—"}</td>
                <td>
                  <div
                    class="bar"
                    role="img"
                    aria-label={c.barLabel(name, s.sold, s.held, s.available)}
                  >
                    <span class="sold" style={{ width: `${share(s.sold)}%` }} />
                    <span class="held" style={{ width: `${share(s.held)}%` }} />
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="legend-line">
        <span class="swatch sold" /> {c.counts.sold} <span class="swatch held" /> {c.counts.held}{" "}
        <span class="swatch available" /> {c.counts.available}
      </p>
      {conflicts.length > 0 && (
        <>
          <h2>{c.doorConflicts}</h2>
          <ul>
            {conflicts.map(({ first, second }) => (
              <li key={`${second.ticket}-${second.nonce}`}>
                {c.doorConflict(
                  first.ticket,
                  first.gate,
                  hourMinute(new Date(first.at), locale),
                  second.gate,
                  hourMinute(new Date(second.at), locale),
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>{c.exportsTitle}</h2>
      <p class="actions">
        <button
          type="button"
          disabled={exporting !== null}
          onClick={() => void download("attendees")}
        >
          {exporting === "attendees" ? c.exporting : c.exportAttendees}
        </button>{" "}
        <button
          type="button"
          disabled={exporting !== null}
          onClick={() => void download("sectors")}
        >
          {exporting === "sectors" ? c.exporting : c.exportSectors}
        </button>
      </p>
      {products.length > 0 && (
        <table class="listing">
          <caption>{c.addOnsSold}</caption>
          <thead>
            <tr>
              <th scope="col">{c.productName}</th>
              <th scope="col">{c.unitsSold}</th>
              <th scope="col">{c.stock}</th>
            </tr>
          </thead>
          <tbody>
            {products.map((p) => (
              <tr key={p.id}>
                <th scope="row">{p.name}</th>
                <td>{p.sold.toLocaleString(locale)}</td>
                <td>{p.stock?.toLocaleString(locale) ?? c.uncounted}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Minutes the timeline's window spans, both ends included. */
function minutesIn(timeline: Schemas["SalesTimeline"]): number {
  return Math.round((Date.parse(timeline.to) - Date.parse(timeline.from)) / 60_000) + 1;
}
