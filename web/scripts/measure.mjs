// Measures the storefront against a running stack (`make dev`), in headless Chromium: the
// build's gzipped sizes, the time from navigation to an interactive seat map of a 20,000-seat
// sector, and frame times while panning it zoomed out (sector blocks) and zoomed in (seats).
// It measures and prints; it asserts nothing.
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
      rows: 100,
      seats_per_row: 200,
      price: { cents: 9000 },
    },
  ],
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
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
console.log(
  `navigation to an interactive 20,000-seat map: median ${runs[2]} ms (of ${runs.join(", ")})`,
);

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

await panFrames("zoomed out (sector blocks)");
for (let i = 0; i < 6; i++) await page.getByRole("button", { name: "Aproximar" }).click();
await panFrames("zoomed in (seats drawn)");
await browser.close();
