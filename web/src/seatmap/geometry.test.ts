import { describe, expect, it } from "vitest";
import {
  type Camera,
  fitView,
  GAP,
  LABEL,
  layoutSectors,
  move,
  pan,
  reveal,
  type SectorInput,
  seatAt,
  seatsOfRows,
  showsSeats,
  toScreen,
  toWorld,
  visibleCells,
  zoomAt,
} from "./geometry";

function sector(code: string, rows: number, perRow: number, gaps: string[] = []): SectorInput {
  const seats = [];
  for (let r = 0; r < rows; r++) {
    const row = String.fromCharCode(65 + r);
    for (let n = 1; n <= perRow; n++) {
      const seat = `${row}-${n}`;
      if (!gaps.includes(seat)) seats.push({ seat, row, number: n, status: "free" as const });
    }
  }
  return { code, name: code, priceCents: 10_000, seats };
}

describe("layout", () => {
  it("stacks sectors with room for their names and centres the narrower", () => {
    const layout = layoutSectors([sector("plateia", 3, 10), sector("balcao", 2, 4)]);
    const [plateia, balcao] = layout.blocks;
    expect(plateia).toMatchObject({ x: 0, y: LABEL, rows: 3, cols: 10, free: 30 });
    expect(balcao).toMatchObject({ x: 3, y: LABEL + 3 + GAP + LABEL, rows: 2, cols: 4 });
    expect(layout.width).toBe(10);
    expect(layout.height).toBe(LABEL + 3 + GAP + LABEL + 2);
  });

  it("keeps a gap as an empty cell", () => {
    const layout = layoutSectors([sector("plateia", 2, 3, ["A-2"])]);
    const block = layout.blocks[0];
    expect(block?.cells[1]).toBeUndefined();
    expect(block?.cells[3]?.label).toBe("B-1");
  });
});

describe("hit-testing", () => {
  const layout = layoutSectors([sector("plateia", 3, 10, ["B-5"]), sector("balcao", 2, 4)]);

  it("finds the seat under a point by its grid cell", () => {
    expect(seatAt(layout, 0.5, LABEL + 0.5)?.seat.label).toBe("A-1");
    expect(seatAt(layout, 9.99, LABEL + 2.99)?.seat.label).toBe("C-10");
    const balcao = layout.blocks[1];
    if (!balcao) throw new Error("no balcao");
    expect(seatAt(layout, balcao.x + 1.2, balcao.y + 1.5)?.seat.label).toBe("B-2");
    expect(seatAt(layout, balcao.x + 1.2, balcao.y + 1.5)?.block.code).toBe("balcao");
  });

  it("finds nothing in a gap, a label, between sectors or outside", () => {
    expect(seatAt(layout, 4.5, LABEL + 1.5)).toBeUndefined();
    expect(seatAt(layout, 0.5, 0.5)).toBeUndefined();
    expect(seatAt(layout, 0.5, LABEL + 3 + 1)).toBeUndefined();
    expect(seatAt(layout, -0.1, LABEL + 0.5)).toBeUndefined();
    expect(seatAt(layout, 10, LABEL + 0.5)).toBeUndefined();
    expect(seatAt(layout, 1.5, 1000)).toBeUndefined();
  });

  it("answers in constant time for a fifty-thousand-seat sector", () => {
    const big = layoutSectors([sector("pista", 200, 250)]);
    expect(big.blocks[0]?.free).toBe(50_000);
    expect(seatAt(big, 249.5, LABEL + 199.5)?.seat.label).toBe(
      `${String.fromCharCode(65 + 199)}-250`,
    );
  });
});

describe("camera", () => {
  const layout = layoutSectors([sector("plateia", 20, 30)]);

  it("fits the layout and keeps the point under the cursor while zooming", () => {
    const cam = fitView(layout, 800, 600);
    const [x0, y0] = toScreen(cam, 0, 0);
    const [x1, y1] = toScreen(cam, layout.width, layout.height);
    expect(x0).toBeGreaterThanOrEqual(0);
    expect(y0).toBeGreaterThanOrEqual(0);
    expect(x1).toBeLessThanOrEqual(800);
    expect(y1).toBeLessThanOrEqual(600);
    const before = toWorld(cam, 123, 456);
    const zoomed = zoomAt(cam, 123, 456, 1.5);
    const after = toWorld(zoomed, 123, 456);
    expect(after[0]).toBeCloseTo(before[0]);
    expect(after[1]).toBeCloseTo(before[1]);
    expect(zoomed.scale).toBeCloseTo(cam.scale * 1.5);
  });

  it("pans by screen pixels and bounds the zoom", () => {
    const cam: Camera = { x: 0, y: 0, scale: 10 };
    expect(pan(cam, 50, -20)).toEqual({ x: -5, y: 2, scale: 10 });
    expect(zoomAt(cam, 0, 0, 1e9).scale).toBe(48);
    expect(zoomAt(cam, 0, 0, 1e-9).scale).toBe(0.2);
  });

  it("draws blocks when zoomed out and only the visible seats when zoomed in", () => {
    expect(showsSeats({ x: 0, y: 0, scale: 2 })).toBe(false);
    expect(showsSeats({ x: 0, y: 0, scale: 12 })).toBe(true);
    const block = layout.blocks[0];
    if (!block) throw new Error("no block");
    const range = visibleCells(block, { x: 5, y: LABEL + 4, scale: 20 }, 200, 100);
    expect(range).toEqual({ r0: 4, r1: 9, c0: 5, c1: 15 });
  });

  it("reveals a seat out of view", () => {
    const block = layout.blocks[0];
    const seat = block?.cells[19 * 30 + 29];
    if (!block || !seat) throw new Error("no seat");
    const cam = reveal({ x: 0, y: 0, scale: 20 }, block, seat, 200, 100);
    const [sx, sy] = toScreen(cam, block.x + seat.c, block.y + seat.r);
    expect(sx).toBeGreaterThanOrEqual(0);
    expect(sx + cam.scale).toBeLessThanOrEqual(200);
    expect(sy).toBeGreaterThanOrEqual(0);
    expect(sy + cam.scale).toBeLessThanOrEqual(100);
  });
});

describe("keyboard", () => {
  const layout = layoutSectors([sector("plateia", 2, 5, ["A-2", "B-3"]), sector("balcao", 1, 3)]);

  it("starts at the first seat and steps over gaps", () => {
    const first = move(layout, undefined, "ArrowRight");
    expect(first?.seat.label).toBe("A-1");
    expect(move(layout, first, "ArrowRight")?.seat.label).toBe("A-3");
    expect(move(layout, first, "ArrowLeft")?.seat.label).toBe("A-1");
  });

  it("moves between rows to the nearest column, and on into the next sector", () => {
    const a3 = move(layout, move(layout, undefined, "ArrowRight"), "ArrowRight");
    const below = move(layout, a3, "ArrowDown");
    expect(below?.seat.label).toMatch(/^B-(2|4)$/);
    const balcao = move(layout, below, "ArrowDown");
    expect(balcao?.block.code).toBe("balcao");
    expect(move(layout, balcao, "ArrowUp")?.block.code).toBe("plateia");
    expect(move(layout, balcao, "ArrowDown")).toBe(balcao);
  });
});

describe("seatsOfRows", () => {
  it("reads one character a seat number and leaves gaps out", () => {
    const seats = seatsOfRows([
      { row: "A", seats: "F.H" },
      { row: "B", seats: "S" },
    ]);
    expect(seats).toEqual([
      { seat: "A-1", row: "A", number: 1, status: "free" },
      { seat: "A-3", row: "A", number: 3, status: "held" },
      { seat: "B-1", row: "B", number: 1, status: "sold" },
    ]);
  });
});
