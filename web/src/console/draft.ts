// A session as the organiser types it, before the API sees it: the same limits the API keeps
// (CreateSessionInput in api/openapi.yaml), checked field by field so the form can say which one is
// wrong, and turned into the request body and into the seat map's preview. Pure functions.

import type { SectorInput } from "../seatmap/geometry";
import { zonedToIso } from "../ui/format";

export const MAX_ROWS = 200;
export const MAX_SEATS_PER_ROW = 200;
export const MAX_GA_CAPACITY = 200_000;
export const MAX_SECTORS = 50;
export const MAX_SEATS_PER_SESSION = 50_000;
export const MAX_TICKETS_PER_CUSTOMER = 50;
export const MAX_NAME_CHARS = 200;
export const MAX_PRICE_CENTS = 100_000_000;
export const MAX_STOCK = 1_000_000;
const CODE = /^[a-z0-9][a-z0-9-]{0,31}$/;

export interface SectorDraft {
  /** Stable across edits, for the list's keys. */
  id: number;
  kind: "numbered" | "general_admission";
  code: string;
  name: string;
  /** In reais, as typed ("250", "250.50" or "250,50"). */
  price: string;
  rows: string;
  seatsPerRow: string;
  /** Seat labels with no seat, e.g. `A-1`. */
  gaps: string[];
  capacity: string;
}

export interface SessionDraft {
  /** `datetime-local` values, wall-clock times where sessions happen (Brasília time). */
  startsAt: string;
  saleStartsAt: string;
  saleEndsAt: string;
  maxPerCustomer: string;
  /** `queue`: only through the queue while the sale is open. */
  saleMode: "direct" | "queue";
  sectors: SectorDraft[];
}

/** What is wrong, as a key of the console's messages and the values the sentence needs. */
export type Issue =
  | { kind: "required" }
  | { kind: "range"; min: number; max: number }
  | { kind: "code" }
  | { kind: "voucherCode" }
  | { kind: "duplicateCode" }
  | { kind: "tooLong"; max: number }
  | { kind: "price" }
  | { kind: "gapOutside"; gap: string }
  | { kind: "allGaps" }
  | { kind: "startsInPast" }
  | { kind: "saleOrder" }
  | { kind: "saleAfterStart" }
  | { kind: "sectorCount"; max: number }
  | { kind: "tooManySeats"; seats: number; max: number };

/** Issues by field: `startsAt`, `sectors`, `sectors.<id>.<field>`. */
export type Issues = Record<string, Issue>;

/** Row names as the API gives them: A to Z, then AA, AB… */
export function rowName(index: number): string {
  let n = index + 1;
  let name = "";
  while (n > 0) {
    const rem = (n - 1) % 26;
    name = String.fromCharCode(65 + rem) + name;
    n = Math.floor((n - 1) / 26);
  }
  return name;
}

function rowIndex(name: string): number | undefined {
  if (!/^[A-Z]{1,3}$/.test(name)) return undefined;
  let n = 0;
  for (const ch of name) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** A whole number as typed, or undefined when it is not one. */
export function whole(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/** Reais as typed, in cents; undefined when it is not an amount. */
export function cents(text: string): number | undefined {
  const t = text.trim().replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return undefined;
  return Math.round(Number(t) * 100);
}

/** Gap labels from a typed list ("A-1, B-3 C-4"), upper-cased, duplicates dropped. */
export function parseGaps(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((g) => g.trim().toUpperCase())
        .filter(Boolean),
    ),
  ];
}

function gapPosition(label: string): { r: number; n: number } | undefined {
  const m = /^([A-Z]{1,3})-(\d{1,3})$/.exec(label);
  if (!m?.[1] || !m[2]) return undefined;
  const r = rowIndex(m[1]);
  return r === undefined ? undefined : { r, n: Number(m[2]) };
}

function inRange(text: string, min: number, max: number): Issue | undefined {
  const n = whole(text);
  if (text.trim() === "") return { kind: "required" };
  return n === undefined || n < min || n > max ? { kind: "range", min, max } : undefined;
}

function nameIssue(text: string): Issue | undefined {
  if (text.trim() === "") return { kind: "required" };
  return [...text.trim()].length > MAX_NAME_CHARS
    ? { kind: "tooLong", max: MAX_NAME_CHARS }
    : undefined;
}

/** A price's issue: required, an amount, more than zero and at most the API's maximum. */
export function priceIssue(text: string): Issue | undefined {
  if (text.trim() === "") return { kind: "required" };
  const c = cents(text);
  return c === undefined || c < 1 || c > MAX_PRICE_CENTS ? { kind: "price" } : undefined;
}

/** The seats a numbered sector has, gaps taken out (0 while its size is not valid). */
export function seatCount(s: SectorDraft): number {
  const rows = whole(s.rows);
  const per = whole(s.seatsPerRow);
  if (!rows || !per || rows > MAX_ROWS || per > MAX_SEATS_PER_ROW) return 0;
  const inside = s.gaps.filter((g) => {
    const p = gapPosition(g);
    return p && p.r < rows && p.n >= 1 && p.n <= per;
  });
  return rows * per - inside.length;
}

function sectorIssues(s: SectorDraft, codes: Map<string, number>): Issues {
  const out: Issues = {};
  const at = (field: string, issue: Issue | undefined) => {
    if (issue) out[`sectors.${s.id}.${field}`] = issue;
  };
  at("code", !CODE.test(s.code) ? { kind: "code" } : undefined);
  at("code", (codes.get(s.code) ?? 0) > 1 ? { kind: "duplicateCode" } : undefined);
  at("name", nameIssue(s.name));
  at("price", priceIssue(s.price));
  if (s.kind === "general_admission") {
    at("capacity", inRange(s.capacity, 1, MAX_GA_CAPACITY));
    return out;
  }
  at("rows", inRange(s.rows, 1, MAX_ROWS));
  at("seatsPerRow", inRange(s.seatsPerRow, 1, MAX_SEATS_PER_ROW));
  const rows = whole(s.rows);
  const per = whole(s.seatsPerRow);
  if (rows && per && !out[`sectors.${s.id}.rows`] && !out[`sectors.${s.id}.seatsPerRow`]) {
    const outside = s.gaps.find((g) => {
      const p = gapPosition(g);
      return !p || p.r >= rows || p.n < 1 || p.n > per;
    });
    at("gaps", outside ? { kind: "gapOutside", gap: outside } : undefined);
    at("gaps", !outside && seatCount(s) === 0 ? { kind: "allGaps" } : undefined);
  }
  return out;
}

/** Every issue of the draft, by field; empty when the API would take it. */
export function issues(d: SessionDraft, now: Date): Issues {
  const out: Issues = {};
  const at = (local: string) => {
    const iso = zonedToIso(local);
    return iso ? new Date(iso) : undefined;
  };
  const starts = at(d.startsAt);
  const saleStarts = at(d.saleStartsAt);
  const saleEnds = at(d.saleEndsAt);
  if (!starts) out.startsAt = { kind: "required" };
  else if (starts <= now) out.startsAt = { kind: "startsInPast" };
  if (!saleStarts) out.saleStartsAt = { kind: "required" };
  if (!saleEnds) out.saleEndsAt = { kind: "required" };
  else if (saleStarts && saleEnds <= saleStarts) out.saleEndsAt = { kind: "saleOrder" };
  else if (starts && saleEnds > starts) out.saleEndsAt = { kind: "saleAfterStart" };
  if (d.maxPerCustomer.trim() !== "") {
    const issue = inRange(d.maxPerCustomer, 1, MAX_TICKETS_PER_CUSTOMER);
    if (issue) out.maxPerCustomer = issue;
  }
  if (d.sectors.length === 0 || d.sectors.length > MAX_SECTORS) {
    out.sectors = { kind: "sectorCount", max: MAX_SECTORS };
  }
  const codes = new Map<string, number>();
  for (const s of d.sectors) codes.set(s.code, (codes.get(s.code) ?? 0) + 1);
  for (const s of d.sectors) Object.assign(out, sectorIssues(s, codes));
  const seats = d.sectors
    .filter((s) => s.kind === "numbered")
    .reduce((n, s) => n + seatCount(s), 0);
  if (seats > MAX_SEATS_PER_SESSION && !out.sectors) {
    out.sectors = { kind: "tooManySeats", seats, max: MAX_SEATS_PER_SESSION };
  }
  return out;
}

/** The request body of `POST /events/{id}/sessions` for a draft without issues. */
export function sessionBody(d: SessionDraft) {
  const iso = (local: string) => zonedToIso(local) ?? "";
  const max = whole(d.maxPerCustomer);
  return {
    starts_at: iso(d.startsAt),
    sale_starts_at: iso(d.saleStartsAt),
    sale_ends_at: iso(d.saleEndsAt),
    sale_mode: d.saleMode,
    max_tickets_per_customer: max ?? null,
    max_waiting_per_customer: null,
    sectors: d.sectors.map((s) =>
      s.kind === "numbered"
        ? {
            code: s.code,
            name: s.name.trim(),
            kind: "numbered" as const,
            price: { cents: cents(s.price) ?? 0, currency: "BRL" },
            rows: whole(s.rows) ?? 0,
            seats_per_row: whole(s.seatsPerRow) ?? 0,
            gaps: s.gaps,
          }
        : {
            code: s.code,
            name: s.name.trim(),
            kind: "general_admission" as const,
            price: { cents: cents(s.price) ?? 0, currency: "BRL" },
            capacity: whole(s.capacity) ?? 0,
          },
    ),
  };
}

/** The numbered sectors as the seat map draws them, every place of the grid a free seat (the
 *  editor shows gaps as picked, so a click makes or unmakes one). A sector whose size is not valid
 *  yet is not drawn. */
export function preview(d: SessionDraft): SectorInput[] {
  const sized = (s: SectorDraft) =>
    inRange(s.rows, 1, MAX_ROWS) === undefined &&
    inRange(s.seatsPerRow, 1, MAX_SEATS_PER_ROW) === undefined;
  return d.sectors
    .filter((s) => s.kind === "numbered" && sized(s))
    .map((s) => {
      const rows = whole(s.rows) ?? 0;
      const per = whole(s.seatsPerRow) ?? 0;
      const seats = [];
      for (let r = 0; r < rows; r++) {
        const row = rowName(r);
        for (let n = 1; n <= per; n++) {
          seats.push({ seat: `${row}-${n}`, row, number: n, status: "free" as const });
        }
      }
      return { code: s.code || `#${s.id}`, name: s.name, priceCents: cents(s.price) ?? 0, seats };
    });
}
