// The storefront in a real browser (Debian's Chromium through playwright-core) against the real
// local stack, as a fan uses it: by role and label, real clicks and keys. The stack is started by
// `tests/tests/web.rs`, which passes WEB_URL, API_URL and a customer's token.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { devices } from "playwright-core";
import {
  ADMIN_TOKEN,
  API,
  accessible,
  api,
  browserForTests,
  OTHER_TOKEN,
  shoot,
  signInAs,
  WEB,
  WEBHOOK_SECRET,
} from "./support.mjs";

const tests = browserForTests();

/** The payment provider says a PIX or boleto was paid, signed as it signs its notices. */
async function providerSays(reservationId, paymentId, status) {
  const body = JSON.stringify({ payment_id: paymentId, reservation_id: reservationId, status });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", WEBHOOK_SECRET).update(`${t}.${body}`).digest("hex");
  const response = await fetch(`${API}/payments/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-bilheteria-signature": `t=${t},v1=${v1}` },
    body,
  });
  assert.equal(response.status, 200, await response.text());
}

/** The demo event's first session, as the API lists it (other tests add events of their own). */
async function demoSession() {
  const events = await (await fetch(`${API}/events?limit=100`)).json();
  const event = events.items.find((e) => e.name === "Noite de Estreia");
  const detail = await (await fetch(`${API}/events/${event.id}`)).json();
  return { event, session: detail.sessions[0] };
}

/** From the events list to the first session's seat map, by what a fan sees and clicks. */
async function openSession(page, event) {
  await page.goto(WEB);
  await page.getByRole("heading", { name: "Eventos" }).waitFor();
  await page.getByRole("link", { name: new RegExp(event.name) }).click();
  await page.getByRole("heading", { name: "Sessões" }).waitFor();
  await page.getByRole("link", { name: "Escolher lugares" }).first().click();
  await page.getByRole("application", { name: "Mapa de lugares" }).waitFor();
}

/** Clicks seats at these canvas points (from its centre, in pixels). */
async function clickSeats(page, offsets, touch = false) {
  const box = await page.locator(".seatmap canvas").boundingBox();
  for (const dx of offsets) {
    const x = box.x + box.width / 2 + dx;
    const y = box.y + box.height / 2;
    if (touch) await page.touchscreen.tap(x, y);
    else await page.mouse.click(x, y);
  }
  return box;
}

const chosenSeats = (page) =>
  page.getByRole("complementary", { name: "Sua escolha" }).getByRole("listitem");

for (const [name, options] of [
  ["desktop", { viewport: { width: 1280, height: 900 } }],
  ["mobile", devices["Pixel 7"]],
]) {
  describe(`browsing and picking seats (${name})`, () => {
    it("goes from the events to a session, picks two seats on the canvas and is told the total", async () => {
      const { event } = await demoSession();
      const context = await tests.browser.newContext(options);
      const page = await context.newPage();
      await page.goto(WEB);
      await page.getByRole("heading", { name: "Eventos" }).waitFor();
      await accessible(page, "events");
      await shoot(page, `events-${name}`);
      // The category filter hides what is not of its category.
      await page.getByText("Jogos").click();
      await page.getByText("Nenhum evento por aqui ainda.").waitFor();
      await page.getByText("Todas").click();
      await page.getByRole("link", { name: new RegExp(event.name) }).click();
      await page.getByRole("heading", { name: "Sessões" }).waitFor();
      await accessible(page, "event");
      await shoot(page, `event-${name}`);
      await page.getByRole("link", { name: "Escolher lugares" }).first().click();
      const map = page.getByRole("application", { name: "Mapa de lugares" });
      await map.waitFor();
      const box = await page.locator(".seatmap canvas").boundingBox();
      const points = [
        [box.x + box.width / 2, box.y + box.height / 2],
        [box.x + box.width / 2 + 60, box.y + box.height / 2],
      ];
      for (const [x, y] of points) {
        if (options.hasTouch) await page.touchscreen.tap(x, y);
        else await page.mouse.click(x, y);
      }
      await assert.doesNotReject(() => chosenSeats(page).nth(1).waitFor({ timeout: 5_000 }));
      const lines = await chosenSeats(page).allTextContents();
      assert.equal(lines.length, 2, lines.join("\n"));
      for (const line of lines) assert.match(line, /^Plateia, fileira [A-T], lugar \d+ · R\$/);
      const total = await page.locator(".total").textContent();
      const each = Number(
        lines[0]
          .match(/R\$\s*([\d.]+),(\d\d)/)
          .slice(1)
          .join("."),
      );
      assert.ok(total.includes(`${(2 * each).toFixed(2).replace(".", ",")}`), total);
      await accessible(page, "session");
      await shoot(page, `session-${name}`);
      // Clicking a chosen seat again gives it back.
      await chosenSeats(page)
        .first()
        .getByRole("button", { name: /^Remover/ })
        .click();
      assert.equal(await chosenSeats(page).count(), 1);
      await context.close();
    });
  });
}

describe("the keyboard and live availability", () => {
  it("picks a seat with the arrow keys and Enter alone, and never a seat someone holds", async () => {
    const { event, session } = await demoSession();
    const held = await api("POST", `/sessions/${session.id}/holds`, {
      seats: [{ sector: "plateia", seat: "A-1" }],
    });
    assert.equal(held.status, 201, JSON.stringify(held.body));
    const context = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await openSession(page, event);
    const map = page.getByRole("application", { name: "Mapa de lugares" });
    await map.focus();
    const live = page.locator(".seatmap [aria-live]");
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => document.querySelector(".seatmap [aria-live]")?.textContent);
    assert.equal(
      await live.textContent(),
      "Plateia, fileira A, lugar 1 · R$\u00a0120,00 · Reservado",
    );
    await page.keyboard.press("Enter");
    assert.equal(await chosenSeats(page).count(), 0, "a held seat cannot be picked");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await chosenSeats(page).first().waitFor();
    assert.match(await chosenSeats(page).first().textContent(), /^Plateia, fileira B, lugar 2 /);
    assert.match(await live.textContent(), /Escolhido$/);

    // Someone holds the seat beside it while the page is open: the map shows it on its own.
    await page.keyboard.press("ArrowRight");
    assert.match(await live.textContent(), /fileira B, lugar 3 .* Livre$/);
    const other = await api("POST", `/sessions/${session.id}/holds`, {
      seats: [{ sector: "plateia", seat: "B-3" }],
    });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    await page.waitForFunction(
      () => document.querySelector(".seatmap [aria-live]")?.textContent?.endsWith("Reservado"),
      undefined,
      { timeout: 30_000 },
    );
    await context.close();
  });

  it("speaks English when asked, and keeps it", async () => {
    const context = await tests.browser.newContext();
    const page = await context.newPage();
    await page.goto(WEB);
    await page.getByLabel("Idioma").selectOption("en");
    await page.getByRole("heading", { name: "Events" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Events" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
    await context.close();
  });
});

describe("buying", () => {
  for (const [name, options, fan] of [
    ["desktop", { viewport: { width: 1280, height: 900 } }, "ana"],
    ["mobile", devices["Pixel 7"], "lia"],
  ]) {
    it(`signs in, holds two seats, adds two popcorn, pays by card and gets tickets with QR codes (${name})`, async () => {
      const { event } = await demoSession();
      const context = await tests.browser.newContext(options);
      const page = await context.newPage();
      await openSession(page, event);
      // Two rows below the keyboard test's seats, so that the journeys never meet.
      const box = await clickSeats(page, [-150, -90], options.hasTouch);
      await chosenSeats(page).nth(1).waitFor();
      await page.getByRole("button", { name: "Entre para reservar" }).click();
      await signInAs(page, fan);
      // Back on the session, with the choice kept.
      await page.getByRole("application", { name: "Mapa de lugares" }).waitFor();
      assert.equal(await chosenSeats(page).count(), 2);
      await page.getByRole("button", { name: "Reservar" }).click();
      await page.getByRole("heading", { name: "Sua reserva" }).waitFor();
      assert.match(await page.getByRole("timer").textContent(), /guardados por mais \d+:\d\d/);
      await accessible(page, "reservation");
      await page.getByLabel(/^Pipoca/).fill("2");
      await page.getByRole("button", { name: "Atualizar pedido" }).click();
      await page.getByText("Pedido atualizado.").waitFor();
      assert.match(await page.locator(".lines").textContent(), /2 × Pipoca/);
      await shoot(page, `reservation-${name}`);
      await page.getByLabel("Número do cartão").fill("4111 1111 1111 1111");
      await page.getByRole("button", { name: /^Pagar R\$/ }).click();
      await page.getByText("Pagamento confirmado! Seus ingressos estão abaixo.").waitFor();
      const qr = page.getByRole("img", { name: /^Código do ingresso: Plateia, [A-T]-\d+$/ });
      await qr.nth(1).waitFor();
      assert.equal(await qr.count(), 2);
      await page.getByRole("heading", { name: /^Nota fiscal nº/ }).waitFor();
      await accessible(page, "tickets");
      await shoot(page, `tickets-${name}`);

      // Another fan's browser shows those seats sold.
      const other = await tests.browser.newContext(options);
      const second = await other.newPage();
      await openSession(second, event);
      await second.mouse.move(box.x + box.width / 2 - 150, box.y + box.height / 2);
      await second.locator(".seat-tip").waitFor();
      assert.match(await second.locator(".seat-tip").textContent(), /Vendido$/);
      await other.close();

      // My reservations lists it, confirmed.
      await page.getByRole("link", { name: "Minhas reservas" }).click();
      await page.getByRole("heading", { name: "Minhas reservas" }).waitFor();
      await page.getByText("Confirmada").first().waitFor();
      await page.getByRole("heading", { name: "Seus ingressos" }).waitFor();
      assert.equal(await page.getByRole("img", { name: /^Código do ingresso/ }).count(), 2);
      await accessible(page, "my reservations");
      await shoot(page, `my-reservations-${name}`);
      await context.close();
    });
  }

  it("keeps the hold and says why when a card is declined, then pays by PIX", async () => {
    const { event } = await demoSession();
    const context = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await openSession(page, event);
    await clickSeats(page, [150]);
    await chosenSeats(page).first().waitFor();
    await page.getByRole("button", { name: "Entre para reservar" }).click();
    await signInAs(page, "bia");
    await page.getByRole("button", { name: "Reservar" }).click();
    await page.getByRole("heading", { name: "Sua reserva" }).waitFor();
    await page.getByLabel("Número do cartão").fill("4000000000000002");
    await page.getByRole("button", { name: /^Pagar R\$/ }).click();
    await page
      .getByText(
        "O pagamento foi recusado (cartão recusado). Seus lugares continuam reservados: tente outro cartão.",
      )
      .waitFor();
    assert.equal(await page.locator("p strong").first().textContent(), "Reservada");
    await page.getByText("PIX", { exact: true }).click();
    await page.getByRole("button", { name: /^Pagar R\$/ }).click();
    await page.getByRole("img", { name: "QR code do PIX" }).waitFor();
    const code = await page.getByLabel("PIX copia e cola").inputValue();
    assert.ok(code.length > 20, code);
    await accessible(page, "pix");
    await shoot(page, "pix-desktop");
    // The page polls while the payment is pending; the provider's notice confirms it.
    const id = new URL(page.url()).pathname.split("/").pop();
    // The provider knows the payment's id; an organiser reads it here.
    const pending = await api("GET", `/reservations/${id}`, undefined, ADMIN_TOKEN);
    await providerSays(id, pending.body.payment.id, "paid");
    await page.getByText("Pagamento confirmado! Seus ingressos estão abaixo.").waitFor();
    await page
      .getByRole("img", { name: /^Código do ingresso/ })
      .first()
      .waitFor();
    await context.close();
  });

  it("says when the hold ran out and offers to start again", async () => {
    const { event } = await demoSession();
    const context = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // The browser's clock is the page's: ten minutes pass without waiting for them.
    await page.clock.install();
    await openSession(page, event);
    await page.getByLabel(/^Pista/).fill("1");
    await page.getByRole("button", { name: "Entre para reservar" }).click();
    await signInAs(page, "caio");
    await page.getByRole("button", { name: "Reservar" }).click();
    await page.getByRole("heading", { name: "Sua reserva" }).waitFor();
    await page.getByRole("timer").waitFor();
    await page.clock.fastForward("10:01");
    await page.getByText("O tempo da reserva acabou e os lugares voltaram à venda.").waitFor();
    await page.getByRole("link", { name: "Escolher de novo" }).click();
    await page.getByRole("application", { name: "Mapa de lugares" }).waitFor();
    await context.close();
  });

  it("two fans race for one seat: one holds it, the other is told and sees it taken", async () => {
    const { event } = await demoSession();
    const fans = [];
    for (const name of ["duda", "edu"]) {
      const context = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await openSession(page, event);
      await clickSeats(page, [210]);
      await chosenSeats(page).first().waitFor();
      await page.getByRole("button", { name: "Entre para reservar" }).click();
      await signInAs(page, name);
      await page.getByRole("button", { name: "Reservar" }).waitFor();
      fans.push({ context, page });
    }
    await Promise.all(
      fans.map(({ page }) => page.getByRole("button", { name: "Reservar" }).click()),
    );
    const outcomes = await Promise.all(
      fans.map(({ page }) =>
        Promise.race([
          page
            .getByRole("heading", { name: "Sua reserva" })
            .waitFor()
            .then(() => "held"),
          page
            .getByText("Alguém pegou um desses lugares antes. Escolha outros.")
            .first()
            .waitFor()
            .then(() => "told"),
        ]),
      ),
    );
    assert.deepEqual([...outcomes].sort(), ["held", "told"]);
    const loser = fans[outcomes.indexOf("told")].page;
    // The map was read again: the seat is no longer in the loser's choice.
    await pageHasNoChoice(loser);
    for (const { context } of fans) await context.close();
  });
});

/** The choice panel is empty again. */
async function pageHasNoChoice(page) {
  await page.getByText("Escolha lugares no mapa ou ingressos de pista.").waitFor();
}

describe("the flash-sale queue", () => {
  it("asks for tickets through the queue, waits for the decision and goes on to pay", async () => {
    const { event } = await demoSession();
    const context = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await openSession(page, event);
    await page.getByRole("button", { name: "Entre para pedir pela fila" }).click();
    await signInAs(page, "fila");
    const queue = page.getByRole("form", { name: "Fila de compra" });
    await queue.getByLabel("Setor").selectOption({ label: "Plateia" });
    await queue.getByLabel("Quantidade").fill("2");
    await queue.getByRole("button", { name: "Entrar na fila" }).click();
    await page.getByRole("heading", { name: "Seu pedido na fila" }).waitFor();
    await page.getByText("Pedido atendido! Seus lugares estão reservados.").waitFor();
    await accessible(page, "request");
    await page.getByRole("link", { name: "Continuar para o pagamento" }).click();
    await page.getByRole("heading", { name: "Sua reserva" }).waitFor();
    assert.equal(await page.locator(".lines li").count(), 2);

    // More than the session allows is refused in words.
    await page.goto(`${WEB}/`);
    await openSession(page, event);
    const again = page.getByRole("form", { name: "Fila de compra" });
    await again.getByLabel("Quantidade").fill("6");
    await again.getByRole("button", { name: "Entrar na fila" }).click();
    await page
      .getByText(/Você já tem o máximo de ingressos permitido para esta sessão\./)
      .first()
      .waitFor();

    // The held reservation is given back from the list of reservations.
    await page.goto(`${WEB}/me`);
    await page.getByRole("button", { name: "Cancelar reserva" }).first().click();
    await page.getByText("Reserva cancelada: os lugares voltaram à venda.").waitFor();
    await context.close();
  });
});

describe("the waiting list", () => {
  it("joins a sold-out standing sector's line and is offered the place that comes back", async () => {
    // An organiser's small show: one seat and one standing place, which another fan holds.
    const made = await api(
      "POST",
      "/events",
      { name: "Show Intimista", venue: "Porão", category: "show" },
      ADMIN_TOKEN,
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const now = Date.now();
    const session = await api(
      "POST",
      `/events/${made.body.id}/sessions`,
      {
        starts_at: new Date(now + 30 * 86_400_000).toISOString(),
        sale_starts_at: new Date(now - 3_600_000).toISOString(),
        sale_ends_at: new Date(now + 29 * 86_400_000).toISOString(),
        sectors: [
          {
            code: "plateia",
            name: "Plateia",
            kind: "numbered",
            rows: 1,
            seats_per_row: 1,
            price: { cents: 15000 },
          },
          {
            code: "pista",
            name: "Pista",
            kind: "general_admission",
            capacity: 1,
            price: { cents: 9000 },
          },
        ],
      },
      ADMIN_TOKEN,
    );
    assert.equal(session.status, 201, JSON.stringify(session.body));
    const path = `/sessions/${session.body.id}`;
    const other = await api(
      "POST",
      `${path}/holds`,
      {
        seats: [{ sector: "plateia", seat: "A-1" }],
        places: [{ sector: "pista", quantity: 1 }],
      },
      OTHER_TOKEN,
    );
    assert.equal(other.status, 201, JSON.stringify(other.body));

    // The fan finds it sold out and joins the line.
    const context = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${WEB}${path}`);
    await page.getByText("Esgotado").first().waitFor();
    const line = page.getByRole("group", { name: "Lista de espera de Pista" });
    await line.getByRole("button", { name: "Entre para entrar na lista de espera" }).click();
    await signInAs(page, "gabi");
    await line.getByRole("button", { name: "Entrar na lista de espera" }).click();
    await line.getByText("Você é o número 1 da fila por 1 lugar.").waitFor();
    // The sold-out numbered sector has a line of its own.
    await page
      .getByRole("group", { name: "Lista de espera de Plateia" })
      .getByRole("button", { name: "Entrar na lista de espera" })
      .waitFor();
    await accessible(page, "waiting list");
    await shoot(page, "waitlist-waiting");

    // The other fan gives the place back: it is held for her, not put on sale.
    const gave = await api("DELETE", `/reservations/${other.body.id}`, undefined, OTHER_TOKEN);
    assert.equal(gave.status, 200, JSON.stringify(gave.body));
    const offer = line.getByText("Um lugar voltou e está reservado para você.");
    // The offer travels the table's stream, the bus and a queue: read the page again until it shows.
    for (let i = 0; i < 120 && !(await offer.isVisible()); i++) {
      await page.reload();
      await line.waitFor();
      await offer.waitFor({ timeout: 500 }).catch(() => {});
    }
    await offer.waitFor();
    await shoot(page, "waitlist-offered");
    await line.getByRole("link", { name: "Pagar agora" }).click();
    await page.getByRole("heading", { name: "Sua reserva" }).waitFor();
    await page.getByLabel("Número do cartão").fill("4111 1111 1111 1111");
    await page.getByRole("button", { name: /^Pagar R\$/ }).click();
    await page.getByText("Pagamento confirmado! Seus ingressos estão abaixo.").waitFor();
    await context.close();
  });
});

describe("the API reference", () => {
  it("renders every operation of the spec from the bundled Swagger UI", async () => {
    const context = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const elsewhere = [];
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.origin !== new URL(WEB).origin && url.origin !== new URL(API).origin) {
        elsewhere.push(r.url());
      }
    });
    await page.goto(`${WEB}/docs.html`);
    await page.getByText("/sessions/{id}/holds", { exact: true }).first().waitFor();
    await page.getByText("/reservations/{id}/checkout", { exact: true }).first().waitFor();
    assert.deepEqual(elsewhere, [], "nothing loaded from another origin");
    await shoot(page, "reference-desktop");
    await context.close();
  });
});
