import { useEffect, useState } from "preact/hooks";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import { dateTime, money, zonedToIso } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";
import { cents, priceIssue, whole } from "./draft";
import { Field } from "./Field";

type Voucher = Schemas["Voucher"];
/** A sector a code can be limited to. */
type SectorName = { code: string; name: string };

/** The most uses a code can be given, and a customer allowed (the API's limits). */
const MAX_USES = 1_000_000;
const MAX_PER_CUSTOMER = 100;

/** An event's promo codes: how much each is used, stopping and resuming them, and a new one. */
export function Vouchers({ event, sectors }: { event: string; sectors: SectorName[] }) {
  const { api } = useServices();
  const { t, locale } = useI18n();
  const [vouchers, setVouchers] = useState<Voucher[] | null>(null);
  const [error, setError] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    setError(null);
    try {
      const { data, error } = await api.GET("/events/{id}/vouchers", {
        params: { path: { id: event } },
      });
      if (!data) return setError(failure(error));
      setVouchers(data.items);
    } catch {
      setError({ kind: "network" });
    }
  };
  useEffect(() => {
    void load();
  }, [event]);

  const toggle = async (v: Voucher) => {
    setBusy(true);
    setError(null);
    try {
      const { data, error } = await api.PATCH("/events/{id}/vouchers/{code}", {
        params: { path: { id: event, code: v.code } },
        body: { active: !v.active },
      });
      if (!data) return setError(failure(error));
      setVouchers((before) => (before ?? []).map((x) => (x.code === data.code ? data : x)));
    } catch {
      setError({ kind: "network" });
    } finally {
      setBusy(false);
    }
  };

  const c = t.console;
  const discount = (v: Voucher) =>
    "percent" in v.discount
      ? `${v.discount.percent}%`
      : money(v.discount.fixed.cents, v.discount.fixed.currency, locale);
  return (
    <>
      <h2>{c.vouchers}</h2>
      {error && <ProblemMessage failure={error} retry={() => void load()} />}
      {vouchers?.length === 0 && <p>{c.noVouchers}</p>}
      {vouchers && vouchers.length > 0 && (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{c.voucherCode}</th>
              <th scope="col">{c.discount}</th>
              <th scope="col">{c.uses}</th>
              <th scope="col">{c.voucherSectors}</th>
              <th scope="col">{c.validUntil}</th>
              <th scope="col">{c.voucherState}</th>
            </tr>
          </thead>
          <tbody>
            {vouchers.map((v) => (
              <tr key={v.code}>
                <td>
                  <code>{v.code}</code>
                </td>
                <td>{discount(v)}</td>
                <td>{c.usesOf(v.uses, v.max_uses, v.max_per_customer)}</td>
                <td>{v.sectors.length === 0 ? c.allSectors : v.sectors.join(", ")}</td>
                <td>{v.valid_until ? dateTime(v.valid_until, locale) : c.noEnd}</td>
                <td>
                  {v.active ? c.voucherActive : c.voucherStopped}{" "}
                  <button
                    type="button"
                    class="secondary"
                    disabled={busy}
                    onClick={() => void toggle(v)}
                  >
                    {v.active ? c.stopVoucher(v.code) : c.resumeVoucher(v.code)}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <NewVoucherForm
        event={event}
        sectors={sectors}
        added={(v) => setVouchers((before) => [...(before ?? []), v])}
      />
    </>
  );
}

function NewVoucherForm({
  event,
  sectors,
  added,
}: {
  event: string;
  sectors: SectorName[];
  added: (v: Voucher) => void;
}) {
  const { api } = useServices();
  const { t } = useI18n();
  const c = t.console;
  const [code, setCode] = useState("");
  const [kind, setKind] = useState<"percent" | "fixed">("percent");
  const [value, setValue] = useState("");
  const [maxUses, setMaxUses] = useState("");
  const [perCustomer, setPerCustomer] = useState("1");
  const [until, setUntil] = useState("");
  const [only, setOnly] = useState<string[]>([]);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure | null>(null);

  const codeIssue = /^[A-Za-z0-9_-]{3,32}$/.test(code.trim())
    ? undefined
    : c.issue({ kind: "voucherCode" });
  const percent = whole(value);
  const valueIssue =
    kind === "percent"
      ? percent === undefined || percent < 1 || percent > 100
        ? c.issue({ kind: "range", min: 1, max: 100 })
        : undefined
      : (() => {
          const issue = priceIssue(value);
          return issue ? c.issue(issue) : undefined;
        })();
  const range = (text: string, max: number) => {
    const n = whole(text);
    return n === undefined || n < 1 || n > max
      ? c.issue({ kind: "range", min: 1, max })
      : undefined;
  };
  const usesIssue = range(maxUses, MAX_USES);
  const perIssue = range(perCustomer, MAX_PER_CUSTOMER);

  const submit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    if (codeIssue || valueIssue || usesIssue || perIssue) return;
    setBusy(true);
    setError(null);
    try {
      const { data, error } = await api.POST("/events/{id}/vouchers", {
        params: { path: { id: event } },
        body: {
          code: code.trim(),
          discount:
            kind === "percent"
              ? { percent: percent ?? 0 }
              : { fixed: { cents: cents(value) ?? 0, currency: "BRL" } },
          sectors: only,
          valid_until: until ? (zonedToIso(until) ?? null) : null,
          max_uses: whole(maxUses) ?? 0,
          max_per_customer: whole(perCustomer) ?? 1,
        },
      });
      if (!data) return setError(failure(error));
      added(data);
      setCode("");
      setValue("");
      setMaxUses("");
      setUntil("");
      setOnly([]);
      setTried(false);
    } catch {
      setError({ kind: "network" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" onSubmit={submit} noValidate aria-labelledby="new-voucher">
      <h3 id="new-voucher">{c.newVoucher}</h3>
      <Field id="voucher-code" label={c.voucherCode} error={tried ? codeIssue : undefined}>
        {(p) => (
          <input
            {...p}
            value={code}
            maxLength={32}
            autoCapitalize="characters"
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id="voucher-kind" label={c.discountKind}>
        {(p) => (
          <select
            {...p}
            value={kind}
            onChange={(e) => setKind(e.currentTarget.value as "percent" | "fixed")}
          >
            <option value="percent">{c.percentOff}</option>
            <option value="fixed">{c.amountOff}</option>
          </select>
        )}
      </Field>
      <Field
        id="voucher-value"
        label={kind === "percent" ? c.percent : c.priceReais}
        error={tried ? valueIssue : undefined}
      >
        {(p) => (
          <input
            {...p}
            inputMode={kind === "percent" ? "numeric" : "decimal"}
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id="voucher-uses" label={c.maxUses} error={tried ? usesIssue : undefined}>
        {(p) => (
          <input
            {...p}
            inputMode="numeric"
            value={maxUses}
            onInput={(e) => setMaxUses(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field
        id="voucher-per-customer"
        label={c.usesPerCustomer}
        error={tried ? perIssue : undefined}
      >
        {(p) => (
          <input
            {...p}
            inputMode="numeric"
            value={perCustomer}
            onInput={(e) => setPerCustomer(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id="voucher-until" label={c.validUntilOptional}>
        {(p) => (
          <input
            {...p}
            type="datetime-local"
            value={until}
            onInput={(e) => setUntil(e.currentTarget.value)}
          />
        )}
      </Field>
      {sectors.length > 0 && (
        <fieldset>
          <legend>{c.voucherSectorsHelp}</legend>
          {sectors.map((s) => (
            <label key={s.code} class="chip">
              <input
                type="checkbox"
                checked={only.includes(s.code)}
                onChange={(e) =>
                  setOnly((before) =>
                    e.currentTarget.checked
                      ? [...before, s.code]
                      : before.filter((x) => x !== s.code),
                  )
                }
              />
              {s.name}
            </label>
          ))}
        </fieldset>
      )}
      {error && <ProblemMessage failure={error} />}
      <button type="submit" disabled={busy}>
        {c.createVoucher}
      </button>
    </form>
  );
}
