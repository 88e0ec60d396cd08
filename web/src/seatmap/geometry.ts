// The seat map's geometry, in world units of one seat pitch: where each sector and seat lies, the
// camera that shows it, and which seat is under a point (grid arithmetic, no per-seat objects to
// search). Pure functions, so the canvas and the tests share them.

export type SeatState = "free" | "held" | "sold";

export interface SeatInput {
  seat: string;
  row: string;
  number: number;
  status: SeatState;
}

/** One row of the API's seat map: a character a seat number (`F`, `H`, `S`, `.` for none). */
export interface SeatRow {
  row: string;
  seats: string;
}

const STATES: Record<string, SeatState> = { F: "free", H: "held", S: "sold" };

/** The seats of a seat map's rows (gaps left out). */
export function seatsOfRows(rows: SeatRow[]): SeatInput[] {
  const seats: SeatInput[] = [];
  for (const { row, seats: marks } of rows) {
    [...marks].forEach((mark, i) => {
      const status = STATES[mark];
      if (status) seats.push({ seat: `${row}-${i + 1}`, row, number: i + 1, status });
    });
  }
  return seats;
}

export interface SectorInput {
  code: string;
  name: string;
  priceCents: number;
  seats: SeatInput[];
}

export interface Seat {
  label: string;
  row: string;
  number: number;
  status: SeatState;
  /** Row and column in the sector's grid, from 0. */
  r: number;
  c: number;
}

export interface Block {
  code: string;
  name: string;
  priceCents: number;
  /** The grid's top-left corner, in world units. */
  x: number;
  y: number;
  rows: number;
  cols: number;
  rowNames: string[];
  /** Row-major, `rows * cols` cells; a gap is `undefined`. */
  cells: (Seat | undefined)[];
  free: number;
}

export interface Layout {
  blocks: Block[];
  width: number;
  height: number;
}

/** Space above a sector for its name, and between two sectors. */
export const LABEL = 2;
export const GAP = 3;

/** Sectors stacked top to bottom, each centred on the widest. */
export function layoutSectors(sectors: SectorInput[]): Layout {
  const grids = sectors.map((s) => {
    // Seats come row by row: the rows in the order they first appear.
    const rowNames = [...new Set(s.seats.map((seat) => seat.row))];
    const cols = s.seats.reduce((m, seat) => Math.max(m, seat.number), 0);
    return { s, rowNames, cols };
  });
  const width = grids.reduce((m, g) => Math.max(m, g.cols), 0);
  let y = 0;
  const blocks = grids.map(({ s, rowNames, cols }) => {
    const rows = rowNames.length;
    const cells: (Seat | undefined)[] = new Array(rows * cols);
    const rowIndex = new Map(rowNames.map((name, i) => [name, i]));
    let free = 0;
    for (const seat of s.seats) {
      const r = rowIndex.get(seat.row) ?? 0;
      const c = seat.number - 1;
      cells[r * cols + c] = {
        label: seat.seat,
        row: seat.row,
        number: seat.number,
        status: seat.status,
        r,
        c,
      };
      if (seat.status === "free") free += 1;
    }
    const block: Block = {
      code: s.code,
      name: s.name,
      priceCents: s.priceCents,
      x: Math.floor((width - cols) / 2),
      y: y + LABEL,
      rows,
      cols,
      rowNames,
      cells,
      free,
    };
    y += LABEL + rows + GAP;
    return block;
  });
  return { blocks, width, height: Math.max(0, y - GAP) };
}

export interface Hit {
  block: Block;
  seat: Seat;
}

/** The seat whose cell holds the world point, if any: one division per axis and a lookup. */
export function seatAt(layout: Layout, wx: number, wy: number): Hit | undefined {
  for (const block of layout.blocks) {
    if (wy < block.y || wy >= block.y + block.rows) continue;
    const c = Math.floor(wx - block.x);
    const r = Math.floor(wy - block.y);
    if (c < 0 || c >= block.cols) return undefined;
    const seat = block.cells[r * block.cols + c];
    return seat ? { block, seat } : undefined;
  }
  return undefined;
}

/** World to screen: `sx = (wx - x) * scale`. */
export interface Camera {
  x: number;
  y: number;
  scale: number;
}

export const MIN_SCALE = 0.2;
export const MAX_SCALE = 48;
/** Below this many pixels a seat, sectors are drawn as blocks. */
export const SEAT_DETAIL_SCALE = 6;

export function toWorld(cam: Camera, sx: number, sy: number): [number, number] {
  return [sx / cam.scale + cam.x, sy / cam.scale + cam.y];
}

export function toScreen(cam: Camera, wx: number, wy: number): [number, number] {
  return [(wx - cam.x) * cam.scale, (wy - cam.y) * cam.scale];
}

/** The whole layout in view, with a margin of one seat. */
export function fitView(layout: Layout, viewW: number, viewH: number): Camera {
  const w = layout.width + 2;
  const h = layout.height + 2;
  const scale = clamp(Math.min(viewW / w, viewH / h), MIN_SCALE, MAX_SCALE);
  return {
    scale,
    x: -1 - (viewW / scale - w) / 2,
    y: -1 - (viewH / scale - h) / 2,
  };
}

/** Zooms by `factor` keeping the world point under (sx, sy) where it is. */
export function zoomAt(cam: Camera, sx: number, sy: number, factor: number): Camera {
  const scale = clamp(cam.scale * factor, MIN_SCALE, MAX_SCALE);
  const [wx, wy] = toWorld(cam, sx, sy);
  return { scale, x: wx - sx / scale, y: wy - sy / scale };
}

export function pan(cam: Camera, dx: number, dy: number): Camera {
  return { ...cam, x: cam.x - dx / cam.scale, y: cam.y - dy / cam.scale };
}

export function showsSeats(cam: Camera): boolean {
  return cam.scale >= SEAT_DETAIL_SCALE;
}

/** The rows and columns of `block` inside a view of `viewW` × `viewH` pixels. */
export function visibleCells(
  block: Block,
  cam: Camera,
  viewW: number,
  viewH: number,
): { r0: number; r1: number; c0: number; c1: number } {
  const [x0, y0] = toWorld(cam, 0, 0);
  const [x1, y1] = toWorld(cam, viewW, viewH);
  return {
    r0: clamp(Math.floor(y0 - block.y), 0, block.rows),
    r1: clamp(Math.ceil(y1 - block.y), 0, block.rows),
    c0: clamp(Math.floor(x0 - block.x), 0, block.cols),
    c1: clamp(Math.ceil(x1 - block.x), 0, block.cols),
  };
}

/** A camera that shows the seat, zoomed in enough to see it, moved as little as possible. */
export function reveal(
  cam: Camera,
  block: Block,
  seat: Seat,
  viewW: number,
  viewH: number,
): Camera {
  const scale = Math.max(cam.scale, SEAT_DETAIL_SCALE * 2);
  let next = { ...cam, scale };
  if (scale !== cam.scale) {
    const [cx, cy] = toWorld(cam, viewW / 2, viewH / 2);
    next = { scale, x: cx - viewW / 2 / scale, y: cy - viewH / 2 / scale };
  }
  const wx = block.x + seat.c;
  const wy = block.y + seat.r;
  const w = viewW / scale;
  const h = viewH / scale;
  if (wx < next.x + 1) next.x = wx - 1;
  if (wx + 1 > next.x + w - 1) next.x = wx + 2 - w;
  if (wy < next.y + 1) next.y = wy - 1;
  if (wy + 1 > next.y + h - 1) next.y = wy + 2 - h;
  return next;
}

export type Arrow = "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown";

/**
 * The seat the arrow key moves to from `from` (the first seat when nothing has focus): the
 * nearest seat that way in the same row or column, across gaps, and into the next sector up or
 * down at the nearest column.
 */
export function move(layout: Layout, from: Hit | undefined, key: Arrow): Hit | undefined {
  if (!from) {
    for (const block of layout.blocks) {
      const seat = block.cells.find((s) => s !== undefined);
      if (seat) return { block, seat };
    }
    return undefined;
  }
  const { block, seat } = from;
  if (key === "ArrowLeft" || key === "ArrowRight") {
    const step = key === "ArrowLeft" ? -1 : 1;
    for (let c = seat.c + step; c >= 0 && c < block.cols; c += step) {
      const next = block.cells[seat.r * block.cols + c];
      if (next) return { block, seat: next };
    }
    return from;
  }
  const step = key === "ArrowUp" ? -1 : 1;
  const column = block.x + seat.c;
  for (let r = seat.r + step; r >= 0 && r < block.rows; r += step) {
    const next = nearestInRow(block, r, column);
    if (next) return { block, seat: next };
  }
  const index = layout.blocks.indexOf(block);
  for (let b = index + step; b >= 0 && b < layout.blocks.length; b += step) {
    const other = layout.blocks[b];
    if (!other) break;
    const rows = [...Array(other.rows).keys()];
    for (const r of step > 0 ? rows : rows.reverse()) {
      const next = nearestInRow(other, r, column);
      if (next) return { block: other, seat: next };
    }
  }
  return from;
}

function nearestInRow(block: Block, r: number, worldColumn: number): Seat | undefined {
  let best: Seat | undefined;
  for (let c = 0; c < block.cols; c++) {
    const seat = block.cells[r * block.cols + c];
    if (!seat) continue;
    const d = Math.abs(block.x + c - worldColumn);
    if (!best || d < Math.abs(block.x + best.c - worldColumn)) best = seat;
  }
  return best;
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
