// The door in a real browser against the real local stack, as a gate's staff uses it: tickets
// checked in by typing their code, online, then with the network gone (checked with the
// downloaded kit), then sent when the network is back.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
} from "./support.mjs";

const tests = browserForTests();

/** Three general-admission tickets of the demo event's first session, bought by card. */
async function boughtTickets() {
  const events = await (await fetch(`${API}/events?limit=100`)).json();
  const event = events.items.find((e) => e.name === "Noite de Estreia");
  const detail = await (await fetch(`${API}/events/${event.id}`)).json();
  const session = detail.sessions[0];
  const held = await api(
    "POST",
    `/sessions/${session.id}/holds`,
    { places: [{ sector: "pista", quantity: 3 }] },
    OTHER_TOKEN,
  );
  assert.equal(held.status, 201, JSON.stringify(held.body));
  const paid = await fetch(`${API}/reservations/${held.body.id}/checkout`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${OTHER_TOKEN}`,
      "content-type": "application/json",
      "idempotency-key": `door-${held.body.id}`,
    },
    body: JSON.stringify({ payment: { method: "card", number: "4111111111111111" } }),
  });
  const body = await paid.json();
  assert.equal(paid.status, 200, JSON.stringify(body));
  return { session, codes: body.tickets.map((t) => t.code) };
}

describe("the door", () => {
  it("checks tickets in online and offline, and sends the offline scans when back online", async () => {
    const { session, codes } = await boughtTickets();
    const context = await tests.browser.newContext({ viewport: { width: 480, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${WEB}/door`);
    await page.getByRole("main").getByRole("button", { name: "Entrar" }).click();
    await signInAs(page, "porteira", false, true);
    await page.getByRole("heading", { name: "Portaria" }).waitFor();
    await page.getByRole("link", { name: "Fazer check-in de Noite de Estreia" }).first().waitFor();
    await accessible(page, "door sessions");
    await shoot(page, "door-sessions");
    await page.getByRole("link", { name: "Fazer check-in de Noite de Estreia" }).first().click();
    await page.getByText(/Kit de check-in de/).waitFor();
    await page.getByText(/^Noite de Estreia · /).waitFor();
    await page.getByLabel("Portão").fill("Portão 1");

    // Online: let in once; the same ticket again is refused, naming the gate.
    const code = page.getByLabel("Código do ingresso");
    const checkIn = page.getByRole("button", { name: "Fazer check-in" });
    await code.fill(codes[0]);
    await checkIn.click();
    await page.getByText("Entrada liberada: setor pista, sem lugar marcado").waitFor();
    await accessible(page, "door online");
    await shoot(page, "door-online");
    await code.fill(codes[0]);
    await checkIn.click();
    await page.getByText(/Este ingresso já entrou às .* pelo Portão 1\./).waitFor();
    await code.fill("nao-e-um-ingresso");
    await checkIn.click();
    await page.getByText("Este ingresso não é válido.").waitFor();

    // The network goes: the kit checks the ticket, and the scan waits on this device.
    await context.setOffline(true);
    await page.getByText(/^Offline:/).waitFor();
    await code.fill(codes[1]);
    await checkIn.click();
    await page
      .getByText("Entrada liberada (offline, a enviar): setor pista, sem lugar marcado")
      .waitFor();
    await page.getByText("1 leitura aguardando envio.").waitFor();
    await code.fill(codes[1]);
    await checkIn.click();
    await page.getByText("Este ingresso já entrou por este portão.").waitFor();
    await code.fill(`${codes[2].slice(0, -4)}AAAA`);
    await checkIn.click();
    await page.getByText("Este ingresso não é autêntico.").waitFor();
    await accessible(page, "door offline");
    await shoot(page, "door-offline");

    // Back online: the scan is sent, and the box office has the entry made offline.
    await context.setOffline(false);
    await page.getByText("Todas as leituras foram enviadas.").waitFor();
    const again = await api(
      "POST",
      "/checkins",
      { session_id: session.id, code: codes[1], gate: "Portão 2" },
      ADMIN_TOKEN,
    );
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(again.body.entry.gate, "Portão 1");
    assert.equal(again.body.entry.offline, true);
    await shoot(page, "door-synced");
    await context.close();
  });
});
