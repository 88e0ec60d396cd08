import { describe, expect, it } from "vitest";
import {
  cents,
  issues,
  parseGaps,
  preview,
  rowName,
  type SectorDraft,
  type SessionDraft,
  seatCount,
  sessionBody,
} from "./draft";

const NOW = new Date("2030-01-01T15:00:00Z");

function numbered(over: Partial<SectorDraft> = {}): SectorDraft {
  return {
    id: 1,
    kind: "numbered",
    code: "plateia",
    name: "Plateia",
    price: "250,50",
    rows: "20",
    seatsPerRow: "30",
    gaps: ["A-1", "T-30"],
    capacity: "",
    ...over,
  };
}

function standing(over: Partial<SectorDraft> = {}): SectorDraft {
  return {
    id: 2,
    kind: "general_admission",
    code: "pista",
    name: "Pista",
    price: "180",
    rows: "",
    seatsPerRow: "",
    gaps: [],
    capacity: "500",
    ...over,
  };
}

function draft(over: Partial<SessionDraft> = {}): SessionDraft {
  return {
    startsAt: "2030-09-10T20:00",
    saleStartsAt: "2030-01-01T00:00",
    saleEndsAt: "2030-09-10T18:00",
    maxPerCustomer: "",
    saleMode: "direct",
    sectors: [numbered(), standing()],
    ...over,
  };
}

describe("a session draft", () => {
  it("names rows as the API does", () => {
    expect([0, 25, 26, 27, 701, 702].map(rowName)).toEqual(["A", "Z", "AA", "AB", "ZZ", "AAA"]);
  });

  it("reads prices in reais with a comma or a point", () => {
    expect(cents("250,50")).toBe(25050);
    expect(cents("250.5")).toBe(25050);
    expect(cents("180")).toBe(18000);
    expect(cents("1.999")).toBeUndefined();
    expect(cents("-3")).toBeUndefined();
  });

  it("reads a typed gap list", () => {
    expect(parseGaps("a-1, B-3;c-4  A-1")).toEqual(["A-1", "B-3", "C-4"]);
  });

  it("has no issue when the API would take it, and becomes the API's body", () => {
    expect(issues(draft(), NOW)).toEqual({});
    const body = sessionBody(draft({ maxPerCustomer: "4" }));
    expect(body.max_tickets_per_customer).toBe(4);
    expect(body.sectors[0]).toEqual({
      code: "plateia",
      name: "Plateia",
      kind: "numbered",
      price: { cents: 25050, currency: "BRL" },
      rows: 20,
      seats_per_row: 30,
      gaps: ["A-1", "T-30"],
    });
    expect(body.sectors[1]).toEqual({
      code: "pista",
      name: "Pista",
      kind: "general_admission",
      price: { cents: 18000, currency: "BRL" },
      capacity: 500,
    });
    expect(seatCount(numbered())).toBe(598);
  });

  it("keeps the API's limits, naming the field", () => {
    const bad = issues(
      draft({
        sectors: [
          numbered({ rows: "201", code: "Plateia" }),
          standing({ capacity: "0", price: "0" }),
        ],
        maxPerCustomer: "51",
      }),
      NOW,
    );
    expect(bad["sectors.1.rows"]).toEqual({ kind: "range", min: 1, max: 200 });
    expect(bad["sectors.1.code"]).toEqual({ kind: "code" });
    expect(bad["sectors.2.capacity"]).toEqual({ kind: "range", min: 1, max: 200000 });
    expect(bad["sectors.2.price"]).toEqual({ kind: "price" });
    expect(bad.maxPerCustomer).toEqual({ kind: "range", min: 1, max: 50 });
  });

  it("refuses duplicate codes, gaps outside the sector and a sector of gaps only", () => {
    const dup = issues(draft({ sectors: [numbered(), numbered({ id: 3 })] }), NOW);
    expect(dup["sectors.3.code"]).toEqual({ kind: "duplicateCode" });
    const outside = issues(draft({ sectors: [numbered({ gaps: ["U-1"] })] }), NOW);
    expect(outside["sectors.1.gaps"]).toEqual({ kind: "gapOutside", gap: "U-1" });
    const all = issues(
      draft({ sectors: [numbered({ rows: "1", seatsPerRow: "2", gaps: ["A-1", "A-2"] })] }),
      NOW,
    );
    expect(all["sectors.1.gaps"]).toEqual({ kind: "allGaps" });
  });

  it("orders the dates as the API does", () => {
    expect(issues(draft({ startsAt: "2029-01-01T00:00" }), NOW).startsAt).toEqual({
      kind: "startsInPast",
    });
    expect(issues(draft({ saleEndsAt: "2029-12-31T00:00" }), NOW).saleEndsAt).toEqual({
      kind: "saleOrder",
    });
    expect(issues(draft({ saleEndsAt: "2030-09-11T00:00" }), NOW).saleEndsAt).toEqual({
      kind: "saleAfterStart",
    });
  });

  it("counts numbered seats against the session's 50,000", () => {
    const big = (id: number) =>
      numbered({ id, code: `s${id}`, rows: "200", seatsPerRow: "200", gaps: [] });
    expect(issues(draft({ sectors: [big(1), big(2)] }), NOW).sectors).toEqual({
      kind: "tooManySeats",
      seats: 80000,
      max: 50000,
    });
  });

  it("previews every place of a numbered sector's grid, and nothing of a standing one", () => {
    const maps = preview(draft());
    expect(maps).toHaveLength(1);
    expect(maps[0]?.seats).toHaveLength(600);
    expect(maps[0]?.seats[0]).toEqual({ seat: "A-1", row: "A", number: 1, status: "free" });
    expect(preview(draft({ sectors: [numbered({ rows: "x" })] }))).toEqual([]);
  });
});
