// Measures the storefront against a running stack (`make dev`), in headless Chromium: the
// build's gzipped sizes, the time from navigation to an interactive seat map of a 20,000- and a
// 50,000-seat sector, and frame times while panning them zoomed out (sector blocks) and zoomed in
// (seats). It measures and prints; it asserts nothing.
//
// A debug stack cannot create a 20,000-seat session within CreateSessionFunction's 30 s, so the
// session is created with a small sector and its seat map's answer is replaced, in the browser,
// by one of the same shape with every seat (a tenth held, a tenth sold): what is measured is the
// page's own work, from navigation to a drawn, interactive map.
//
//   ADMIN=$(cargo run -q -p local -- token --sub organiser --admin)
//   node web/scripts/measure.mjs http://127.0.0.1:8080 http://127.0.0.1:3000 "$ADMIN"

import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const [web, api, token] = process.argv.slice(2);
if (!web || !api || !token) {
  console.error("usage: node web/scripts/measure.mjs <web url> <api url> <admin token>");
  process.exit(2);
}

const dist = new URL("../dist/assets/", import.meta.url);
for (const file of readdirSync(dist).filter((f) => /\.(js|css)$/.test(f))) {
  const bytes = readFileSync(new URL(file, dist));
  console.log(
    `${file}: ${(bytes.length / 1024).toFixed(1)} KB, gzip ${(gzipSync(bytes).length / 1024).toFixed(1)} KB`,
  );
}

async function post(path, body) {
  const response = await fetch(`${api}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

const event = await post("/events", {
  name: "Estádio (medição)",
  venue: "Arena",
  category: "game",
});
const session = await post(`/events/${event.id}/sessions`, {
  starts_at: "2030-09-10T20:00:00Z",
  sale_starts_at: "2026-01-01T00:00:00Z",
  sale_ends_at: "2030-09-10T18:00:00Z",
  sectors: [
    {
      code: "arquibancada",
      name: "Arquibancada",
      kind: "numbered",
      rows: 1,
      seats_per_row: 4,
      price: { cents: 9000 },
    },
  ],
});

function rowName(i) {
  let name = "";
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  }
  return name;
}

/** The seat map answer of a sector of `rows` × `perRow` seats. */
function seatMap(rows, perRow) {
  const seats = [];
  for (let r = 0; r < rows; r++) {
    for (let n = 1; n <= perRow; n++) {
      const k = (r * perRow + n) % 10;
      const status = k === 0 ? "sold" : k === 5 ? "held" : "free";
      seats.push({ seat: `${rowName(r)}-${n}`, row: rowName(r), number: n, status });
    }
  }
  return {
    code: "arquibancada",
    name: "Arquibancada",
    price: { cents: 9000, currency: "BRL" },
    kind: "numbered",
    rows,
    seats_per_row: perRow,
    capacity: rows * perRow,
    available: Math.round(rows * perRow * 0.8),
    session_id: session.id,
    seats,
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
async function panFrames(label) {
  const box = await page.locator(".seatmap canvas").boundingBox();
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const tick = (now) => {
      window.__frames.push(now - last);
      last = now;
      if (window.__frames.length < 100000) window.__raf = requestAnimationFrame(tick);
    };
    window.__raf = requestAnimationFrame(tick);
  });
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx - 200, cy);
  await page.mouse.down();
  for (let step = 0; step < 120; step++) {
    await page.mouse.move(cx - 200 + (step % 40) * 10, cy + ((step % 20) - 10) * 5);
  }
  await page.mouse.up();
  const frames = await page.evaluate(() => {
    cancelAnimationFrame(window.__raf);
    return window.__frames.slice(1);
  });
  frames.sort((a, b) => a - b);
  const at = (q) => frames[Math.min(frames.length - 1, Math.floor(frames.length * q))].toFixed(1);
  console.log(
    `panning ${label}: ${frames.length} frames, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`,
  );
}

for (const [rows, perRow] of [
  [100, 200],
  [200, 250],
]) {
  const body = JSON.stringify(seatMap(rows, perRow));
  await page.unroute("**/sectors/arquibancada/seats");
  await page.route("**/sectors/arquibancada/seats", (route) =>
    route.fulfill({
      status: 200,
      contentType: "application/json",
      headers: { "access-control-allow-origin": "*" },
      body,
    }),
  );
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    await page.goto(`${web}/sessions/${session.id}`);
    await page.getByRole("application").waitFor();
    await page.locator(".choice .hint").waitFor();
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
    runs.push(Date.now() - started);
  }
  runs.sort((a, b) => a - b);
  const seats = rows * perRow;
  console.log(
    `${seats} seats: navigation to an interactive map, median ${runs[2]} ms (of ${runs.join(", ")}); answer ${(body.length / 1024).toFixed(0)} KB`,
  );
  await panFrames(`${seats} seats, zoomed out (sector blocks)`);
  for (let i = 0; i < 6; i++) await page.getByRole("button", { name: "Aproximar" }).click();
  await panFrames(`${seats} seats, zoomed in (seats drawn)`);
}
await browser.close();
