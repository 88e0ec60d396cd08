// The organiser console in a real browser against the real local stack, as an organiser uses it:
// by role and label, real clicks and keys. Started by `tests/tests/web.rs` with the storefront's
// tests.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  ADMIN_TOKEN,
  accessible,
  api,
  browserForTests,
  shoot,
  signInAs,
  TOKEN,
  WEB,
} from "./support.mjs";

const tests = browserForTests();

/** A `datetime-local` value `days` from now, at `hour` o'clock. */
function local(days, hour) {
  const d = new Date(Date.now() + days * 86_400_000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(hour)}:00`;
}

describe("the organiser console", () => {
  it("sets up an event with a numbered sector with gaps, a standing one and popcorn", async () => {
    const context = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${WEB}/admin`);
    await page.getByRole("main").getByRole("button", { name: "Entrar" }).click();
    await signInAs(page, "organizadora", true);
    await page.getByRole("heading", { name: "Console do organizador" }).waitFor();

    // A new event: the form says what is missing before anything is sent.
    await page.getByRole("button", { name: "Criar evento" }).click();
    assert.equal(await page.getByText("Preencha este campo.").count(), 2);
    await page.getByLabel("Nome do evento").fill("Noite de Choro");
    await page.getByLabel("Local").fill("Teatro Municipal");
    await page.getByLabel("Categoria").selectOption("show");
    await accessible(page, "console events");
    await shoot(page, "console-events");
    await page.getByRole("button", { name: "Criar evento" }).click();
    await page.getByRole("heading", { name: "Noite de Choro" }).waitFor();
    const eventId = new URL(page.url()).pathname.split("/").pop();

    // An edit: the venue changes, everything else stays.
    await page.locator("summary", { hasText: "Editar o evento" }).click();
    const editing = page.getByRole("form", { name: "Editar o evento" });
    await editing.getByLabel("Local").fill("Theatro Municipal do Rio");
    await editing.getByRole("button", { name: "Salvar alterações" }).click();
    await page.getByText("Alterações salvas.").waitFor();
    await page.getByText("Theatro Municipal do Rio · Shows").waitFor();
    const edited = await api("GET", `/events/${eventId}`);
    assert.deepEqual(
      [edited.body.name, edited.body.venue, edited.body.category],
      ["Noite de Choro", "Theatro Municipal do Rio", "show"],
    );

    // Popcorn, 50 in stock.
    await page.getByLabel("Nome do produto").fill("Pipoca");
    await page.getByLabel("Preço (R$)").fill("25,00");
    await page.getByLabel("Estoque (vazio: sem controle)").fill("50");
    await page.getByRole("button", { name: "Adicionar produto" }).click();
    await page.getByRole("cell", { name: "Pipoca" }).waitFor();

    // A session: a 20 × 30 numbered sector with gaps, and 500 standing places.
    await page.getByRole("link", { name: "Nova sessão" }).click();
    await page.getByRole("heading", { name: "Nova sessão" }).waitFor();
    await page.getByLabel("Início da sessão").fill(local(30, 20));
    await page.getByLabel("Abertura das vendas").fill(local(-1, 9));
    await page.getByLabel("Fim das vendas").fill(local(30, 18));
    await page.getByLabel("Nome do setor 1").fill("Plateia");
    await page.getByLabel("Código do setor 1").fill("plateia");
    await page.getByLabel("Preço do setor 1 (R$)").fill("120");
    await page.getByLabel("Fileiras do setor 1").fill("201");
    await page.getByRole("button", { name: "Criar sessão" }).click();
    await page.getByText("Um número inteiro de 1 a 200.").waitFor();
    await page.getByLabel("Fileiras do setor 1").fill("20");
    await page.getByLabel("Lugares por fileira do setor 1").fill("30");
    const gaps = page.getByLabel(/^Vãos do setor 1/);
    await gaps.fill("A-1, A-30");
    await gaps.press("Tab");
    await page.getByText("598 lugares numerados").first().waitFor();
    // Picking a seat on the preview, with the keyboard as with a mouse, makes one more gap.
    const map = page.getByRole("application", { name: "Mapa de lugares" });
    await map.focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.getByText("597 lugares numerados").first().waitFor();
    assert.equal(await gaps.inputValue(), "A-1, A-30, B-2");
    const typed = ["A-1", "A-30", "B-2"];
    await page.getByRole("button", { name: "Adicionar setor em pé" }).click();
    await page.getByLabel("Nome do setor 2").fill("Pista");
    await page.getByLabel("Código do setor 2").fill("pista");
    await page.getByLabel("Preço do setor 2 (R$)").fill("80");
    await page.getByLabel("Capacidade do setor 2").fill("500");
    await accessible(page, "console new session");
    await shoot(page, "console-new-session");
    await page.getByRole("button", { name: "Criar sessão" }).click();
    const row = page.getByRole("row", { name: /Plateia, Pista/ });
    await row.waitFor();
    // Typed and shown in Brasília time, whatever the browser's zone.
    assert.match(await row.textContent(), /20:00/);
    await accessible(page, "console event");
    await shoot(page, "console-event");

    // What the API now has is what the organiser built.
    const detail = await api("GET", `/events/${eventId}`);
    const [session] = detail.body.sessions;
    const bySector = Object.fromEntries(session.sectors.map((s) => [s.code, s]));
    assert.equal(bySector.plateia.capacity, 597);
    assert.equal(bySector.pista.capacity, 500);
    assert.equal(bySector.plateia.price.cents, 12000);
    assert.deepEqual([...bySector.plateia.gaps].sort(), [...typed].sort());
    const seats = await api("GET", `/sessions/${session.id}/sectors/plateia/seats`);
    const labels = new Set(
      seats.body.map.flatMap((r) =>
        [...r.seats].flatMap((mark, i) => (mark === "." ? [] : [`${r.row}-${i + 1}`])),
      ),
    );
    for (const gap of typed) assert.ok(!labels.has(gap), `${gap} is a gap`);
    const products = await api("GET", `/events/${eventId}/products`);
    assert.deepEqual(
      products.body.items.map((p) => [p.name, p.stock, p.price.cents]),
      [["Pipoca", 50, 2500]],
    );

    // A promo code for the event: 10% off, five uses, listed with its count.
    await page.getByLabel("Código", { exact: true }).fill("estreia10");
    await page.getByLabel("Porcentagem (1 a 100)").fill("10");
    await page.getByLabel("Usos no total").fill("5");
    await page.getByRole("button", { name: "Criar cupom" }).click();
    const code = page.getByRole("row", { name: /^ESTREIA10/ });
    await code.getByText("0 de 5 (1 por cliente)").waitFor();
    await accessible(page, "console event, promo codes");
    await shoot(page, "console-vouchers");

    // The live sales view shows a fan's hold within one refresh, without a reload.
    await page.getByRole("link", { name: "Vendas ao vivo" }).click();
    await page.getByRole("heading", { name: "Vendas ao vivo" }).waitFor();
    await page
      .getByRole("img", { name: "Plateia: 0 vendidos, 0 reservados, 597 disponíveis" })
      .waitFor();
    await page.getByText(/^Atualizado/).waitFor();
    const held = await api("POST", `/sessions/${session.id}/holds`, {
      seats: [
        { sector: "plateia", seat: "C-5" },
        { sector: "plateia", seat: "C-6" },
      ],
    });
    assert.equal(held.status, 201, JSON.stringify(held.body));
    await page
      .getByRole("img", { name: "Plateia: 0 vendidos, 2 reservados, 595 disponíveis" })
      .waitFor();
    const popcorn = page.getByRole("row", { name: /^Pipoca/ });
    assert.deepEqual(await popcorn.getByRole("cell").allTextContents(), ["0", "50"]);

    // A fan, in a browser of their own, buys two seats and a popcorn.
    const fanContext = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const fan = await fanContext.newPage();
    await fan.goto(`${WEB}/sessions/${session.id}`);
    await fan.getByRole("application", { name: "Mapa de lugares" }).waitFor();
    const box = await fan.locator(".seatmap canvas").boundingBox();
    for (const dx of [-20, 20]) {
      await fan.mouse.click(box.x + box.width / 2 + dx, box.y + box.height / 2);
    }
    const chosen = fan.getByRole("complementary", { name: "Sua escolha" }).getByRole("listitem");
    await chosen.nth(1).waitFor();
    await fan.getByRole("button", { name: "Entre para reservar" }).click();
    await signInAs(fan, "bia");
    await fan.getByRole("button", { name: "Reservar" }).click();
    await fan.getByRole("heading", { name: "Sua reserva" }).waitFor();
    const reservationId = new URL(fan.url()).pathname.split("/").pop();
    await fan.getByLabel(/^Pipoca/).fill("1");
    await fan.getByRole("button", { name: "Atualizar pedido" }).click();
    await fan.getByText("Pedido atualizado.").waitFor();
    // The fan applies the code: the discount shows, the total drops, the use is counted.
    await fan.getByLabel("Cupom de desconto").fill("estreia10");
    await fan.getByRole("button", { name: "Aplicar cupom" }).click();
    await fan.getByText("Cupom ESTREIA10 aplicado.").waitFor();
    await fan.getByText(/^Desconto \(ESTREIA10\) · -R\$\s?24,00$/).waitFor();
    await fan.getByRole("button", { name: "Remover cupom ESTREIA10" }).waitFor();
    await shoot(fan, "storefront-voucher");
    await fan.getByLabel("Número do cartão").fill("4111 1111 1111 1111");
    await fan.getByRole("button", { name: /^Pagar R\$\s?241,00$/ }).click();
    await fan.getByText("Pagamento confirmado! Seus ingressos estão abaixo.").waitFor();
    await fan
      .getByText(/Desconto|Voucher ESTREIA10/)
      .first()
      .waitFor();
    await fanContext.close();
    const vouchers = await api("GET", `/events/${eventId}/vouchers`, undefined, ADMIN_TOKEN);
    assert.deepEqual(
      vouchers.body.items.map((v) => [v.code, v.uses]),
      [["ESTREIA10", 1]],
    );

    // The dashboard shows the sale within one refresh, without a reload: the bars, the add-on,
    // the minute it sold in.
    await page
      .getByRole("img", { name: "Plateia: 2 vendidos, 2 reservados, 593 disponíveis" })
      .waitFor();
    assert.deepEqual(await popcorn.getByRole("cell").allTextContents(), ["1", "49"]);
    await page.getByRole("img", { name: "2 ingressos vendidos nos últimos 60 minutos" }).waitFor();
    await page
      .getByText("2 ingressos estão em reservas que terminam nos próximos 15 minutos.")
      .waitFor();
    await page.getByText("Ninguém esperando").waitFor();
    await accessible(page, "console sales");
    await shoot(page, "console-sales");

    // The attendee list, as a file: both tickets, with their seats.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Baixar participantes (CSV)" }).click(),
    ]);
    const rows = readFileSync(await download.path(), "utf8")
      .trim()
      .split("\n");
    assert.equal(rows[0], "ticket,reservation,sector,seat,customer,issued_at,checked_in_at");
    assert.equal(rows.length, 3, rows.join("\n"));
    for (const line of rows.slice(1)) {
      assert.match(line, new RegExp(`^[0-9A-Z]{26},${reservationId},plateia,[A-T]-\\d+,`));
    }

    // The sector figures, as a file: one row a sector.
    const [figures] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Baixar vendas por setor (CSV)" }).click(),
    ]);
    const sectors = readFileSync(await figures.path(), "utf8")
      .trim()
      .split("\n");
    assert.equal(
      sectors[0],
      "sector,capacity,sold,held,available,expired,cancelled,checked_in,revenue_cents,currency",
    );
    // Revenue is what was paid: two seats at R$ 120.00, less the code's 10%.
    assert.match(sectors[1], /^plateia,597,2,2,593,0,0,0,21600,BRL$/);
    assert.match(sectors[2], /^pista,500,0,0,500,0,0,0,/);

    // The reservation desk finds it by id, with what it went through.
    await page.goto(`${WEB}/admin`);
    await page.getByRole("main").getByRole("link", { name: "Reservas", exact: true }).click();
    await page.getByRole("heading", { name: "Reservas", exact: true }).waitFor();
    await page.getByLabel("Código da reserva").fill(reservationId);
    await page.getByRole("button", { name: "Buscar pelo código" }).click();
    const card = page.getByRole("article", { name: `Reserva ${reservationId}` });
    await card.waitFor();
    await card
      .getByRole("listitem")
      .filter({ hasText: /^Confirmada/ })
      .waitFor();
    const steps = await card.getByRole("listitem").allTextContents();
    assert.match(steps[0], /^Reservada/, steps.join("\n"));
    // And by customer: the fan's reservations, all on one page.
    // The id search's card stays until the customer search starts: wait for its answer, by
    // then the list was cleared, and the card that comes back is the customer search's.
    await page.getByLabel("Cliente (id da conta)").fill("bia");
    const answered = page.waitForResponse((r) => r.url().includes("/customers/bia/reservations"));
    await page.getByRole("button", { name: "Buscar pelo cliente" }).click();
    await page.waitForURL(/customer=bia/);
    await answered;
    await card.waitFor();
    assert.equal(await page.getByRole("article").count(), 1);
    assert.equal(await page.getByRole("button", { name: "Mostrar mais reservas" }).count(), 0);
    await accessible(page, "console desk");
    await shoot(page, "console-desk");

    // The organiser cancels the sale: a refund is now owed, and the form to record it shows.
    await card.getByLabel("Motivo do cancelamento").fill("Apresentação adiada");
    await card.getByRole("button", { name: "Cancelar a venda e revogar os ingressos" }).click();
    await card.getByText("Por que há reembolso: Apresentação adiada").waitFor();
    await card.getByRole("button", { name: "Registrar reembolso feito" }).waitFor();
    await accessible(page, "console desk, a cancelled sale");
    await shoot(page, "console-desk-cancelled");
    await context.close();
  });

  it("refuses a customer, in the browser and at the API", async () => {
    const context = await tests.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${WEB}/admin`);
    await page.getByRole("main").getByRole("button", { name: "Entrar" }).click();
    await signInAs(page, "curioso");
    await page
      .getByText("O console é para organizadores. Sua conta não está no grupo de organizadores.")
      .waitFor();
    assert.equal(await page.getByRole("link", { name: "Console do organizador" }).count(), 0);
    await accessible(page, "console refused");
    await shoot(page, "console-refused");
    const refused = await api(
      "POST",
      "/events",
      {
        name: "X",
        venue: "Y",
        category: "show",
      },
      TOKEN,
    );
    assert.equal(refused.status, 403);
    // Every console route says no to a customer's token.
    const s = "01JF000000000000000000SE01";
    const r = "01JF000000000000000000RS01";
    for (const [method, path] of [
      ["GET", `/sessions/${s}/sales`],
      ["GET", `/sessions/${s}/sales/timeline`],
      ["GET", `/sessions/${s}/sales/queue`],
      ["GET", `/sessions/${s}/attendees`],
      ["GET", "/customers/curioso/reservations"],
      ["GET", `/reservations/${r}/history`],
      ["POST", `/reservations/${r}/refund`],
    ]) {
      const answer = await api(method, path, method === "POST" ? {} : undefined, TOKEN);
      assert.equal(answer.status, 403, `${method} ${path}`);
    }
    await context.close();
  });
});
