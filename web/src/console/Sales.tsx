import { useRef, useState } from "preact/hooks";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import { dateTime, money, time } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";
import { useRefresh } from "../ui/useRefresh";
import { AdminOnly } from "./AdminOnly";

/** How often the dashboard reads the sales view while it is shown. */
const REFRESH_MS = 5_000;

/** A session's sale as it happens: per sector sold, held and available as bars, and what was
 *  confirmed, refreshed on its own while the tab is visible. */
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
      const [s, r] = await Promise.all([
        known.current
          ? { data: known.current, error: undefined }
          : api.GET("/sessions/{id}", { params: { path: { id } } }),
        api.GET("/sessions/{id}/sales", { params: { path: { id } } }),
      ]);
      if (s.error || !s.data) return setError(failure(s.error));
      if (r.error || !r.data) return setError(failure(r.error));
      const p = await api.GET("/events/{id}/products", {
        params: { path: { id: s.data.event_id } },
      });
      if (p.error || !p.data) return setError(failure(p.error));
      setError(null);
      known.current = s.data;
      setSession(s.data);
      setReport(r.data);
      setProducts(p.data.items);
      setUpdated(new Date());
    } catch {
      setError({ kind: "network" });
    } finally {
      busy.current = false;
    }
  };
  useRefresh(() => void load(), REFRESH_MS, [id]);

  if (!report || !session) {
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
        {(["sold", "held", "available", "expired", "cancelled"] as const).map((k) => (
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
