import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { useI18n } from "../i18n";
import { draw, key, readPalette } from "./draw";
import {
  type Arrow,
  type Camera,
  fitView,
  type Hit,
  type Layout,
  move,
  pan,
  reveal,
  seatAt,
  toWorld,
  zoomAt,
} from "./geometry";

interface Props {
  layout: Layout;
  chosen: ReadonlySet<string>;
  /** Picks or gives back a seat; the parent decides (limits, free or not). */
  onToggle: (hit: Hit) => void;
  price: (hit: Hit) => string;
}

/** A canvas seat map: drag to pan, wheel or buttons to zoom, click or keyboard to pick. */
export function SeatMap({ layout, chosen, onToggle, price }: Props) {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement>(null);
  const size = useRef({ w: 0, h: 0 });
  const cam = useRef<Camera>({ x: 0, y: 0, scale: 1 });
  const fitted = useRef(false);
  const frame = useRef(0);
  const drag = useRef<{ x: number; y: number; moved: boolean } | null>(null);
  const [focused, setFocus] = useState<Hit | undefined>();
  // The focused seat as the latest availability shows it.
  const focus = useMemo(() => {
    if (!focused) return undefined;
    const block = layout.blocks.find((b) => b.code === focused.block.code);
    const seat = block?.cells[focused.seat.r * block.cols + focused.seat.c];
    return block && seat ? { block, seat } : undefined;
  }, [layout, focused]);
  const [tip, setTip] = useState<{ x: number; y: number; text: string } | null>(null);
  const latest = useRef({ layout, chosen, focus });
  latest.current = { layout, chosen, focus };

  const paint = () => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => {
      const el = canvas.current;
      const ctx = el?.getContext("2d");
      if (!el || !ctx) return;
      const dpr = window.devicePixelRatio || 1;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const { w, h } = size.current;
      const { layout, chosen, focus } = latest.current;
      draw(ctx, layout, cam.current, w, h, readPalette(el), chosen, focus);
    });
  };

  useLayoutEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const resize = (w: number, h: number) => {
      const dpr = window.devicePixelRatio || 1;
      size.current = { w, h };
      el.width = Math.round(w * dpr);
      el.height = Math.round(h * dpr);
      if (!fitted.current && w > 0) {
        cam.current = fitView(latest.current.layout, w, h);
        fitted.current = true;
      }
      paint();
    };
    // Fitted before the first paint, so that a click or a hover that comes before the observer's
    // first report already lands on the seat drawn under it.
    resize(el.clientWidth, el.clientHeight);
    const observer = new ResizeObserver(([entry]) => {
      if (entry) resize(entry.contentRect.width, entry.contentRect.height);
    });
    observer.observe(el);
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = el.getBoundingClientRect();
      cam.current = zoomAt(
        cam.current,
        e.clientX - rect.left,
        e.clientY - rect.top,
        Math.exp(-e.deltaY * 0.0015),
      );
      paint();
    };
    el.addEventListener("wheel", wheel, { passive: false });
    return () => {
      observer.disconnect();
      el.removeEventListener("wheel", wheel);
      cancelAnimationFrame(frame.current);
    };
  }, []);
  useEffect(paint, [layout, chosen, focus]);

  const at = (e: PointerEvent): Hit | undefined => {
    const el = canvas.current;
    if (!el) return undefined;
    const rect = el.getBoundingClientRect();
    const [wx, wy] = toWorld(cam.current, e.clientX - rect.left, e.clientY - rect.top);
    return seatAt(layout, wx, wy);
  };

  const zoom = (factor: number) => {
    const { w, h } = size.current;
    cam.current = zoomAt(cam.current, w / 2, h / 2, factor);
    paint();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key.startsWith("Arrow")) {
      e.preventDefault();
      const next = move(layout, focus, e.key as Arrow);
      if (next) {
        cam.current = reveal(cam.current, next.block, next.seat, size.current.w, size.current.h);
        setFocus(next);
        paint();
      }
    } else if ((e.key === "Enter" || e.key === " ") && focus) {
      e.preventDefault();
      onToggle(focus);
    } else if (e.key === "+" || e.key === "=") {
      zoom(1.5);
    } else if (e.key === "-") {
      zoom(1 / 1.5);
    }
  };

  const state = (hit: Hit) =>
    chosen.has(key(hit.block, hit.seat.label)) ? t.selected : t[hit.seat.status];
  const describe = (hit: Hit) =>
    `${t.seatName(hit.block.name, hit.seat.row, hit.seat.number)} · ${price(hit)} · ${state(hit)}`;

  return (
    <div class="seatmap">
      <div class="seatmap-tools">
        <button type="button" onClick={() => zoom(1.5)} aria-label={t.zoomIn}>
          +
        </button>
        <button type="button" onClick={() => zoom(1 / 1.5)} aria-label={t.zoomOut}>
          −
        </button>
        <button
          type="button"
          onClick={() => {
            cam.current = fitView(layout, size.current.w, size.current.h);
            paint();
          }}
        >
          {t.zoomFit}
        </button>
        <ul class="legend">
          <li class="free">{t.free}</li>
          <li class="held">{t.held}</li>
          <li class="sold">{t.sold}</li>
          <li class="selected">{t.selected}</li>
        </ul>
      </div>
      <div
        class="seatmap-stage"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: role="application" is the widget the keyboard drives; the canvas inside only paints
        tabIndex={0}
        role="application"
        aria-label={t.seatMap}
        aria-describedby="seatmap-help"
        onKeyDown={onKeyDown}
      >
        <canvas
          ref={canvas}
          onPointerDown={(e) => {
            drag.current = { x: e.clientX, y: e.clientY, moved: false };
            (e.currentTarget as HTMLCanvasElement).setPointerCapture(e.pointerId);
          }}
          onPointerMove={(e) => {
            const d = drag.current;
            if (d) {
              const dx = e.clientX - d.x;
              const dy = e.clientY - d.y;
              if (d.moved || Math.abs(dx) + Math.abs(dy) > 4) {
                d.moved = true;
                cam.current = pan(cam.current, dx, dy);
                d.x = e.clientX;
                d.y = e.clientY;
                setTip(null);
                paint();
                return;
              }
            }
            const hit = at(e);
            const rect = canvas.current?.getBoundingClientRect();
            setTip(
              hit && rect
                ? {
                    x: e.clientX - rect.left,
                    y: e.clientY - rect.top,
                    text: `${t.seatTip(hit.seat.row, hit.seat.number, price(hit))} · ${state(hit)}`,
                  }
                : null,
            );
          }}
          onPointerUp={(e) => {
            const d = drag.current;
            drag.current = null;
            if (d?.moved) return;
            const hit = at(e);
            if (hit) {
              setFocus(hit);
              onToggle(hit);
            }
          }}
          onPointerLeave={() => setTip(null)}
        />
        {tip && (
          <div class="seat-tip" style={{ left: `${tip.x + 12}px`, top: `${tip.y + 12}px` }}>
            {tip.text}
          </div>
        )}
      </div>
      <p id="seatmap-help" class="hint">
        {t.seatMapHelp}
      </p>
      <p class="visually-hidden" aria-live="polite">
        {focus ? describe(focus) : ""}
      </p>
    </div>
  );
}
