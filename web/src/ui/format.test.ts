import { describe, expect, it } from "vitest";
import { clock, dateTime, money, secondsLeft, zonedToIso } from "./format";

describe("money", () => {
  it("is BRL in each language, from cents", () => {
    expect(money(12_345, "BRL", "pt-BR")).toBe("R$\u00a0123,45");
    expect(money(12_345, "BRL", "en")).toBe("R$123.45");
    expect(money(5, "BRL", "pt-BR")).toBe("R$\u00a00,05");
  });
});

describe("dates", () => {
  it("are shown in the session's time zone", () => {
    const iso = "2030-09-10T23:30:00Z";
    expect(dateTime(iso, "pt-BR")).toContain("20:30");
    expect(dateTime(iso, "pt-BR")).toContain("terça-feira");
    expect(dateTime(iso, "en", "UTC")).toContain("11:30");
  });
});

describe("countdown", () => {
  it("counts whole seconds down to zero and shows minutes and seconds", () => {
    const end = new Date("2026-12-03T20:10:00Z");
    expect(secondsLeft(end, new Date("2026-12-03T20:00:00Z"))).toBe(600);
    expect(secondsLeft(end, new Date("2026-12-03T20:09:59.200Z"))).toBe(1);
    expect(secondsLeft(end, new Date("2026-12-03T20:11:00Z"))).toBe(0);
    expect(clock(600)).toBe("10:00");
    expect(clock(61)).toBe("1:01");
    expect(clock(-3)).toBe("0:00");
  });
});

describe("wall-clock times typed for a place", () => {
  it("reads them in the venue's time zone, not the browser's", () => {
    expect(zonedToIso("2030-09-10T20:00")).toBe("2030-09-10T23:00:00.000Z");
    expect(zonedToIso("2030-07-01T12:00", "Europe/Lisbon")).toBe("2030-07-01T11:00:00.000Z");
    expect(zonedToIso("2030-01-01T12:00", "Europe/Lisbon")).toBe("2030-01-01T12:00:00.000Z");
    expect(zonedToIso("2030-01-01T12:00", "UTC")).toBe("2030-01-01T12:00:00.000Z");
    expect(zonedToIso("")).toBeUndefined();
    expect(zonedToIso("10/09/2030 20:00")).toBeUndefined();
  });
});
