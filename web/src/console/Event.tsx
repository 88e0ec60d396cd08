import { useEffect, useState } from "preact/hooks";
import { type Failure, failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import { dateTime, money } from "../ui/format";
import { ProblemMessage } from "../ui/Problem";
import { AdminOnly } from "./AdminOnly";
import { cents, MAX_NAME_CHARS, MAX_STOCK, priceIssue, whole } from "./draft";
import { EventForm } from "./EventForm";
import { Field } from "./Field";
import { Vouchers } from "./Vouchers";

type ProductCategory = Schemas["ProductCategory"];
const PRODUCT_CATEGORIES: ProductCategory[] = ["food", "drink", "merchandise", "other"];

/** One event as its organiser sees it: its sessions and its add-ons, and forms for more. */
export function ConsoleEventPage({ id }: { id: string }) {
  return (
    <AdminOnly>
      <ConsoleEvent id={id} />
    </AdminOnly>
  );
}

function ConsoleEvent({ id }: { id: string }) {
  const { api } = useServices();
  const { t, locale } = useI18n();
  const [event, setEvent] = useState<Schemas["EventDetail"] | null>(null);
  const [products, setProducts] = useState<Schemas["Product"][]>([]);
  const [error, setError] = useState<Failure | null>(null);

  const load = async () => {
    setError(null);
    try {
      const [e, p] = await Promise.all([
        api.GET("/events/{id}", { params: { path: { id } } }),
        api.GET("/events/{id}/products", { params: { path: { id } } }),
      ]);
      if (e.error || !e.data) return setError(failure(e.error));
      if (p.error || !p.data) return setError(failure(p.error));
      setEvent(e.data);
      setProducts(p.data.items);
    } catch {
      setError({ kind: "network" });
    }
  };
  useEffect(() => {
    void load();
  }, [id]);

  if (error) return <ProblemMessage failure={error} retry={() => void load()} />;
  if (!event) return <p>{t.loading}</p>;
  return (
    <section class="console">
      <p>
        <a href="/admin">{t.console.title}</a>
      </p>
      <h1>{event.name}</h1>
      <p>
        {event.venue} · {t.categories[event.category]}
      </p>
      {event.description && <p>{event.description}</p>}
      <details class="edit">
        <summary>{t.console.editEvent}</summary>
        <EventForm
          heading={t.console.editEvent}
          submit={t.console.saveEvent}
          initial={event}
          save={async (fields) => {
            const { data, error } = await api.PATCH("/events/{id}", {
              params: { path: { id } },
              body: fields,
            });
            if (error || !data) return failure(error);
            setEvent({ ...event, ...data });
            return null;
          }}
        />
      </details>
      <h2>{t.sessions}</h2>
      {event.sessions.length === 0 && <p>{t.noSessions}</p>}
      {event.sessions.length > 0 && (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t.console.startsAt}</th>
              <th scope="col">{t.console.sectors}</th>
              <th scope="col">{t.console.onSale}</th>
              <th scope="col">
                <span class="visually-hidden">{t.console.links}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {event.sessions.map((s) => (
              <tr key={s.id}>
                <td>{dateTime(s.starts_at, locale)}</td>
                <td>{s.sectors.map((x) => x.name).join(", ")}</td>
                <td>{s.on_sale ? t.onSale : t.notOnSale}</td>
                <td>
                  <a href={`/admin/sessions/${s.id}`}>{t.console.sales}</a>{" "}
                  <a href={`/sessions/${s.id}`}>{t.console.asFansSeeIt}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <a class="button" href={`/admin/events/${id}/sessions/new`}>
        {t.console.newSession}
      </a>
      <h2>{t.addOns}</h2>
      {products.length === 0 && <p>{t.console.noProducts}</p>}
      {products.length > 0 && (
        <table class="listing">
          <thead>
            <tr>
              <th scope="col">{t.console.productName}</th>
              <th scope="col">{t.category}</th>
              <th scope="col">{t.console.price}</th>
              <th scope="col">{t.console.stock}</th>
            </tr>
          </thead>
          <tbody>
            {products.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{t.console.productCategories[p.category]}</td>
                <td>{money(p.price.cents, p.price.currency, locale)}</td>
                <td>{p.stock ?? t.console.uncounted}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <NewProductForm event={id} added={(p) => setProducts((before) => [...before, p])} />
      <Vouchers
        event={id}
        sectors={[
          ...new Map(
            event.sessions
              .flatMap((s) => s.sectors)
              .map((s) => [s.code, { code: s.code, name: s.name }]),
          ).values(),
        ]}
      />
    </section>
  );
}

function NewProductForm({
  event,
  added,
}: {
  event: string;
  added: (p: Schemas["Product"]) => void;
}) {
  const { api } = useServices();
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [category, setCategory] = useState<ProductCategory>("food");
  const [price, setPrice] = useState("");
  const [stock, setStock] = useState("");
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Failure | null>(null);

  const nameIssue = name.trim() === "" ? t.console.issue({ kind: "required" }) : undefined;
  const price_ = priceIssue(price);
  const priceError = price_ ? t.console.issue(price_) : undefined;
  const count = whole(stock);
  const stockError =
    stock.trim() !== "" && (count === undefined || count > MAX_STOCK)
      ? t.console.issue({ kind: "range", min: 0, max: MAX_STOCK })
      : undefined;

  const submit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    if (nameIssue || priceError || stockError) return;
    setBusy(true);
    setError(null);
    try {
      const { data, error } = await api.POST("/events/{id}/products", {
        params: { path: { id: event } },
        body: {
          name,
          category,
          price: { cents: cents(price) ?? 0, currency: "BRL" },
          stock: stock.trim() === "" ? null : (count ?? null),
        },
      });
      if (error || !data) return setError(failure(error));
      added(data);
      setName("");
      setPrice("");
      setStock("");
      setTried(false);
    } catch {
      setError({ kind: "network" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" onSubmit={submit} noValidate aria-labelledby="new-product">
      <h3 id="new-product">{t.console.newProduct}</h3>
      <Field id="product-name" label={t.console.productName} error={tried ? nameIssue : undefined}>
        {(p) => (
          <input
            {...p}
            value={name}
            maxLength={MAX_NAME_CHARS}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id="product-category" label={t.category}>
        {(p) => (
          <select
            {...p}
            value={category}
            onChange={(e) => setCategory(e.currentTarget.value as ProductCategory)}
          >
            {PRODUCT_CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {t.console.productCategories[c]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field id="product-price" label={t.console.priceReais} error={tried ? priceError : undefined}>
        {(p) => (
          <input
            {...p}
            inputMode="decimal"
            value={price}
            onInput={(e) => setPrice(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id="product-stock" label={t.console.stockHelp} error={tried ? stockError : undefined}>
        {(p) => (
          <input
            {...p}
            inputMode="numeric"
            value={stock}
            onInput={(e) => setStock(e.currentTarget.value)}
          />
        )}
      </Field>
      {error && <ProblemMessage failure={error} />}
      <button type="submit" disabled={busy}>
        {t.console.addProduct}
      </button>
    </form>
  );
}
