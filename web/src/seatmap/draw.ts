// Paints a layout through a camera: sector blocks shaded by what is left when zoomed out, and
// only the seats in view when zoomed in.

import {
  type Block,
  type Camera,
  type Hit,
  type Layout,
  showsSeats,
  visibleCells,
} from "./geometry";

export interface Palette {
  free: string;
  held: string;
  sold: string;
  selected: string;
  focus: string;
  text: string;
  block: string;
}

export function readPalette(element: Element): Palette {
  const style = getComputedStyle(element);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    free: v("--seat-free", "#2f9e44"),
    held: v("--seat-held", "#f59f00"),
    sold: v("--seat-sold", "#adb5bd"),
    selected: v("--seat-selected", "#1c7ed6"),
    focus: v("--seat-focus", "#000"),
    text: v("--text", "#212529"),
    block: v("--seat-block", "#dee2e6"),
  };
}

export function key(block: Block, label: string): string {
  return `${block.code}/${label}`;
}

export function draw(
  ctx: CanvasRenderingContext2D,
  layout: Layout,
  cam: Camera,
  width: number,
  height: number,
  palette: Palette,
  chosen: ReadonlySet<string>,
  focus: Hit | undefined,
): void {
  ctx.clearRect(0, 0, width, height);
  const seats = showsSeats(cam);
  ctx.font = `${Math.max(11, Math.min(16, cam.scale * 1.2))}px system-ui, sans-serif`;
  ctx.textBaseline = "bottom";
  for (const block of layout.blocks) {
    const sx = (block.x - cam.x) * cam.scale;
    const sy = (block.y - cam.y) * cam.scale;
    const w = block.cols * cam.scale;
    const h = block.rows * cam.scale;
    if (sx > width || sy > height || sx + w < 0 || sy + h < 0) continue;
    ctx.fillStyle = palette.text;
    ctx.fillText(block.name, Math.max(sx, 4), sy - 4);
    if (!seats) {
      // A block: its share of free seats in the free colour, the rest as sold.
      const total = block.cells.reduce((n, c) => n + (c ? 1 : 0), 0);
      ctx.fillStyle = palette.sold;
      ctx.fillRect(sx, sy, w, h);
      if (total > 0) {
        ctx.fillStyle = palette.free;
        ctx.fillRect(sx, sy, w * (block.free / total), h);
      }
      continue;
    }
    const { r0, r1, c0, c1 } = visibleCells(block, cam, width, height);
    const size = cam.scale * 0.8;
    const inset = cam.scale * 0.1;
    for (let r = r0; r < r1; r++) {
      for (let c = c0; c < c1; c++) {
        const seat = block.cells[r * block.cols + c];
        if (!seat) continue;
        ctx.fillStyle = chosen.has(key(block, seat.label))
          ? palette.selected
          : palette[seat.status];
        ctx.fillRect(sx + c * cam.scale + inset, sy + r * cam.scale + inset, size, size);
      }
    }
  }
  if (focus && seats) {
    const x = (focus.block.x + focus.seat.c - cam.x) * cam.scale;
    const y = (focus.block.y + focus.seat.r - cam.y) * cam.scale;
    ctx.strokeStyle = palette.focus;
    ctx.lineWidth = 2;
    ctx.strokeRect(x + 1, y + 1, cam.scale - 2, cam.scale - 2);
  }
}
