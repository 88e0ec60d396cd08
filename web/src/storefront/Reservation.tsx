import { useEffect, useRef, useState } from "preact/hooks";
import { type Failure, failure, idempotencyKey, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useAuth } from "../auth";
import { SignInFirst } from "../auth/SignInFirst";
import { useI18n } from "../i18n";
import { clock, dateTime, money, secondsLeft } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";
import { QrCode } from "../ui/QrCode";
import { useNow } from "../ui/useNow";

type View = Schemas["ReservationView"];
type Method = "card" | "pix" | "boleto";

/** While a PIX or boleto waits for the provider, the reservation is read this often. */
const POLL_MS = 2_000;

/** A reservation: the hold's countdown, add-ons, payment, then the tickets and the invoice. */
export function ReservationPage({ id }: { id: string }) {
  const { api, config } = useServices();
  const { sub } = useAuth();
  const { t, locale } = useI18n();
  const [view, setView] = useState<View | null>(null);
  const [session, setSession] = useState<Schemas["Session"] | null>(null);
  const [error, setError] = useState<Failure | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [suggested, setSuggested] = useState<Schemas["Product"][]>([]);
  const [wanted, setWanted] = useState<Record<string, number>>({});
  const [method, setMethod] = useState<Method>("card");
  const [number, setNumber] = useState("");
  const [promo, setPromo] = useState("");
  const [busy, setBusy] = useState(false);
  const [invoice, setInvoice] = useState<Schemas["Invoice"] | null>(null);
  const now = useNow(view?.status === "HELD");
  const attempt = `checkout:${id}`;

  const load = async () => {
    try {
      const { data, error } = await api.GET("/reservations/{id}", { params: { path: { id } } });
      if (!data) {
        setError(failure(error));
        return;
      }
      setError(null);
      setView(data);
      if (data.suggested_products) setSuggested(data.suggested_products);
      else if (data.status === "HELD" && suggested.length === 0) {
        // Read again later (a reload), the hold has no suggestions: the event's add-ons.
        const read = await api.GET("/events/{id}/products", {
          params: { path: { id: data.event_id } },
        });
        if (read.data) setSuggested(read.data.items);
      }
      setWanted((before) =>
        Object.keys(before).length > 0
          ? before
          : Object.fromEntries(data.products.map((p) => [p.product_id, p.quantity])),
      );
      if (!session || session.id !== data.session_id) {
        const read = await api.GET("/sessions/{id}", {
          params: { path: { id: data.session_id } },
        });
        if (read.data) setSession(read.data);
      }
      if (data.status === "CONFIRMED" && !invoice) {
        const read = await api.GET("/reservations/{id}/invoice", { params: { path: { id } } });
        if (read.data) setInvoice(read.data);
      }
    } catch {
      setError({ kind: "network" });
    }
  };

  useEffect(() => {
    if (sub) void load();
  }, [id, sub]);

  // A pending PIX or boleto is read again until the provider settles it.
  const polling = useRef(0);
  useEffect(() => {
    if (view?.status !== "PENDING_PAYMENT" && view?.status !== "CHARGING") return;
    polling.current = window.setInterval(() => void load(), POLL_MS);
    return () => clearInterval(polling.current);
  }, [view?.status]);

  if (!sub) return <SignInFirst />;
  if (error && !view) return <ProblemMessage failure={error} retry={() => void load()} />;
  if (!view) return <p>{t.loading}</p>;

  const currency = view.total?.currency ?? "BRL";
  const price = (cents: number) => money(cents, currency, locale);
  const left = secondsLeft(new Date(view.expires_at), now);
  const lapsed = view.status === "HELD" && left === 0;
  const sectorName = (code: string) => session?.sectors.find((s) => s.code === code)?.name ?? code;

  const saveAddOns = async () => {
    setBusy(true);
    setNotice(null);
    try {
      const { data, error } = await api.PUT("/reservations/{id}/products", {
        params: { path: { id } },
        body: {
          items: Object.entries(wanted)
            .filter(([, q]) => q > 0)
            .map(([product_id, quantity]) => ({ product_id, quantity })),
        },
      });
      if (data) {
        setView({ ...view, ...data });
        setNotice(t.addOnsSaved);
      } else {
        setNotice(sentence(failure(error)));
      }
    } catch {
      setNotice(t.network);
    } finally {
      setBusy(false);
    }
  };

  /** Applies the typed code, or (with `remove`) takes the reservation's code off. */
  const voucher = async (e: Event | null, remove = false) => {
    e?.preventDefault();
    setBusy(true);
    setNotice(null);
    const params = { params: { path: { id } } };
    try {
      const { data, error } = remove
        ? await api.DELETE("/reservations/{id}/voucher", params)
        : await api.PUT("/reservations/{id}/voucher", { ...params, body: { code: promo.trim() } });
      if (data) {
        setView(data);
        setPromo("");
        if (data.voucher) setNotice(t.codeApplied(data.voucher.code));
      } else setNotice(sentence(failure(error)));
    } catch {
      setNotice(t.network);
    } finally {
      setBusy(false);
    }
  };

  const sentence = (f: Failure) =>
    f.kind === "network"
      ? t.network
      : f.problem.code === "PAYMENT_DECLINED"
        ? t.declined(f.problem.reason ?? "card_declined")
        : t.problems[f.problem.code];

  /** One checkout attempt: its key is kept until the answer is final, so a retry pays once. */
  const pay = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setNotice(null);
    const key = sessionStorage.getItem(attempt) ?? idempotencyKey();
    sessionStorage.setItem(attempt, key);
    const payment =
      method === "card"
        ? { method: "card" as const, number: number.replace(/\s/g, "") }
        : { method };
    try {
      const { data, error, response } = await api.POST("/reservations/{id}/checkout", {
        params: { path: { id }, header: { "Idempotency-Key": key } },
        body: { payment },
      });
      if (data) {
        sessionStorage.removeItem(attempt);
        setView(data);
        if (data.status === "CONFIRMED") void load();
        return;
      }
      if (response.status < 500) sessionStorage.removeItem(attempt);
      setNotice(sentence(failure(error)));
    } catch {
      setNotice(t.network);
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    setBusy(true);
    try {
      const { data, error } = await api.DELETE("/reservations/{id}", { params: { path: { id } } });
      if (data) {
        setView({ ...view, ...data });
        setNotice(t.cancelled);
      } else setNotice(sentence(failure(error)));
    } catch {
      setNotice(t.network);
    } finally {
      setBusy(false);
    }
  };

  const lines = [
    ...view.seats.map((s) => ({
      key: `${s.sector}/${s.seat}`,
      text: `${sectorName(s.sector)}, ${s.seat}`,
      cents: s.price.cents,
    })),
    ...view.places.map((p) => ({
      key: `${p.sector}`,
      text: `${p.quantity} × ${t.place(sectorName(p.sector))}`,
      cents: p.unit_price.cents * p.quantity,
    })),
    ...view.products.map((p) => ({
      key: p.product_id,
      text: `${p.quantity} × ${p.name}`,
      cents: p.unit_price.cents * p.quantity,
    })),
  ];
  // The discount is what the lines come to above the total.
  if (view.voucher && view.total) {
    const listed = lines.reduce((sum, l) => sum + l.cents, 0);
    lines.push({
      key: "voucher",
      text: t.discountLine(view.voucher.code),
      cents: view.total.cents - listed,
    });
  }

  return (
    <section class="reservation">
      <h1>{t.reservation}</h1>
      {session && <p class="when">{dateTime(session.starts_at, locale)}</p>}
      <p>
        <strong>{t.status[view.status]}</strong>
      </p>
      {view.status === "HELD" && !lapsed && (
        <p class="countdown" role="timer" aria-live="off">
          {t.heldFor(clock(left))}
        </p>
      )}
      {lapsed && (
        <div class="problem" role="alert">
          <p>{t.holdExpired}</p>
          <a class="button" href={`/sessions/${view.session_id}`}>
            {t.startAgain}
          </a>
        </div>
      )}
      <ul class="lines">
        {lines.map((l) => (
          <li key={l.key}>
            {l.text} · {price(l.cents)}
          </li>
        ))}
      </ul>
      {view.total && (
        <p class="total">
          {t.total}: <strong>{price(view.total.cents)}</strong>
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}

      {view.status === "HELD" && !lapsed && suggested.length > 0 && (
        <fieldset class="addons">
          <legend>{t.addOns}</legend>
          {suggested.map((p) => {
            const stock = p.stock;
            const most = Math.min(20, stock ?? 20);
            return (
              <div key={p.id} class="standing-row">
                <label for={`addon-${p.id}`}>
                  {p.name} · {price(p.price.cents)}
                </label>
                <span class={stock === 0 ? "left none" : "left"}>
                  {stock === undefined ? "" : stock === 0 ? t.soldOut : t.inStock(stock)}
                </span>
                <input
                  id={`addon-${p.id}`}
                  type="number"
                  min={0}
                  max={most}
                  value={wanted[p.id] ?? 0}
                  disabled={stock === 0 && !wanted[p.id]}
                  onInput={(e) => {
                    const q = Number((e.currentTarget as HTMLInputElement).value) || 0;
                    setWanted({ ...wanted, [p.id]: Math.max(0, Math.min(q, most)) });
                  }}
                />
              </div>
            );
          })}
          <button type="button" onClick={() => void saveAddOns()} disabled={busy}>
            {t.saveAddOns}
          </button>
        </fieldset>
      )}

      {view.status === "HELD" && !lapsed && (
        <form class="voucher" onSubmit={(e) => void voucher(e)}>
          {view.voucher ? (
            <button
              type="button"
              class="secondary"
              disabled={busy}
              onClick={() => void voucher(null, true)}
            >
              {t.removeCode(view.voucher.code)}
            </button>
          ) : (
            <>
              <label class="field">
                {t.promoCode}
                <input
                  value={promo}
                  maxLength={32}
                  autoCapitalize="characters"
                  onInput={(e) => setPromo((e.currentTarget as HTMLInputElement).value)}
                />
              </label>
              <button type="submit" class="secondary" disabled={busy || promo.trim() === ""}>
                {t.applyCode}
              </button>
            </>
          )}
        </form>
      )}

      {view.status === "HELD" && !lapsed && (
        <form class="checkout" onSubmit={(e) => void pay(e)}>
          <fieldset>
            <legend>{t.payment}</legend>
            {(["card", "pix", "boleto"] as const).map((m) => (
              <label key={m} class={method === m ? "chip on" : "chip"}>
                <input
                  type="radio"
                  name="method"
                  value={m}
                  checked={method === m}
                  onChange={() => setMethod(m)}
                />
                {t[m]}
              </label>
            ))}
            {method === "card" && (
              <label class="field">
                {t.cardNumber}
                <input
                  inputMode="numeric"
                  autoComplete="cc-number"
                  required
                  value={number}
                  onInput={(e) => setNumber((e.currentTarget as HTMLInputElement).value)}
                />
              </label>
            )}
            {method === "card" && config.test_cards && (
              <details class="hint">
                <summary>{t.testCards}</summary>
                <ul>
                  {t.testCardList.map((c) => (
                    <li key={c}>{c}</li>
                  ))}
                </ul>
              </details>
            )}
          </fieldset>
          <button type="submit" disabled={busy}>
            {busy ? t.paying : t.pay(price(view.total?.cents ?? 0))}
          </button>
          <button type="button" class="secondary" onClick={() => void cancel()} disabled={busy}>
            {t.cancel}
          </button>
        </form>
      )}

      {view.status === "PENDING_PAYMENT" && view.payment?.instructions && (
        <div class="pending">
          {view.payment.method === "pix" ? (
            <>
              <QrCode text={view.payment.instructions} label={t.pixQr} />
              <label class="field">
                {t.pixCode}
                <input readOnly value={view.payment.instructions} />
              </label>
            </>
          ) : (
            <label class="field">
              {t.boletoLine}
              <input readOnly value={view.payment.instructions} />
            </label>
          )}
          <p role="status">{t.waitingPayment}</p>
        </div>
      )}

      {view.status === "CONFIRMED" && (
        <>
          <p class="success" role="status">
            {t.confirmed}
          </p>
          <h2>{t.tickets}</h2>
          <ul class="tickets">
            {(view.tickets ?? []).map((ticket) => {
              const what = ticket.seat
                ? `${sectorName(ticket.sector)}, ${ticket.seat}`
                : t.place(sectorName(ticket.sector));
              return (
                <li key={ticket.id} class="ticket card">
                  <QrCode text={ticket.code} label={`${t.ticketCode}: ${what}`} />
                  <div>
                    <h3>{t.ticketFor(what)}</h3>
                    {session && <p>{dateTime(session.starts_at, locale)}</p>}
                    <p class="hint">{ticket.id}</p>
                  </div>
                </li>
              );
            })}
          </ul>
          {invoice && (
            <section class="invoice card" aria-labelledby="invoice-title">
              <h2 id="invoice-title">{t.invoiceNumber(invoice.number)}</h2>
              <ul>
                {invoice.items.map((item) => (
                  <li key={item.description}>
                    {item.quantity} × {item.description} ·{" "}
                    {price(item.total?.cents ?? item.unit_price.cents * item.quantity)}
                  </li>
                ))}
              </ul>
              <p class="total">
                {t.total}: <strong>{price(invoice.total.cents)}</strong>
              </p>
            </section>
          )}
        </>
      )}
    </section>
  );
}
