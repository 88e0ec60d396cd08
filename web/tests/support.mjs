// What every browser test under web/tests/ shares: the environment `tests/tests/web.rs` passes,
// the browser, accessibility and screenshot checks, the API as a script calls it, and signing in
// on the identity provider's page.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

export const WEB = process.env.WEB_URL;
export const API = process.env.API_URL;
export const TOKEN = process.env.CUSTOMER_TOKEN;
export const WEBHOOK_SECRET = process.env.WEBHOOK_SECRET;
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN;
/** Another customer's token, for tests whose purchases must not count on the first one's limit. */
export const OTHER_TOKEN = process.env.OTHER_CUSTOMER_TOKEN;
const SHOTS = process.env.SCREENSHOTS;
const AXE = readFileSync(new URL("../node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

/** The browser of one test file: launched before its tests, closed after them. */
export function browserForTests() {
  const handle = { browser: undefined };
  before(async () => {
    assert.ok(
      WEB && API && TOKEN && WEBHOOK_SECRET && ADMIN_TOKEN,
      "WEB_URL, API_URL, CUSTOMER_TOKEN, ADMIN_TOKEN and WEBHOOK_SECRET are set",
    );
    handle.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox"],
    });
  });
  after(async () => {
    await handle.browser?.close();
  });
  return handle;
}

/** No serious or critical accessibility violation on the page as it stands. */
export async function accessible(page, name) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(() => globalThis.axe.run());
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    [],
    `${name}: accessibility`,
  );
}

export async function shoot(page, name) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

export async function api(method, path, body, token = TOKEN) {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json() };
}

/** Signs in on the provider's page (Cognito's hosted UI in AWS, the local issuer here), as an
 *  organiser when `organiser`, as door staff when `staff`. */
export async function signInAs(page, name, organiser = false, staff = false) {
  await page.getByLabel("Nome / Name").fill(name);
  if (organiser) await page.getByLabel(/Organiser \(admin group\)/).check();
  if (staff) await page.getByLabel(/Door staff \(staff group\)/).check();
  await page.getByRole("button", { name: "Entrar / Sign in" }).click();
}
