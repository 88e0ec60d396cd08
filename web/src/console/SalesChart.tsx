import "uplot/dist/uPlot.min.css";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { Schemas } from "../api/client";
import { hourMinute } from "../ui/format";

/** One point a minute from `from` to `to` (the API lists only minutes that sold). */
export function perMinute(timeline: Schemas["SalesTimeline"]): [number[], number[]] {
  const sold = new Map(timeline.sold.map((m) => [Date.parse(m.minute), m.tickets]));
  const xs: number[] = [];
  const ys: number[] = [];
  for (let at = Date.parse(timeline.from); at <= Date.parse(timeline.to); at += 60_000) {
    xs.push(at / 1000);
    ys.push(sold.get(at) ?? 0);
  }
  return [xs, ys];
}

/** Tickets sold a minute over the timeline's window, as a line (uPlot), kept between refreshes:
 *  new figures replace the data, the chart stays. */
export function SalesChart({
  timeline,
  locale,
  label,
  series,
}: {
  timeline: Schemas["SalesTimeline"];
  locale: string;
  /** What the chart shows, in words (read by screen readers instead of the canvas). */
  label: string;
  series: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const data = perMinute(timeline);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(
      {
        width: Math.max(320, el.clientWidth),
        height: 220,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max)] } },
        axes: [
          // The minutes as the rest of the console shows times: in the venue's zone.
          { values: (_u, splits) => splits.map((s) => hourMinute(new Date(s * 1000), locale)) },
          { label: series, size: 60 },
        ],
        series: [
          {},
          {
            label: series,
            stroke: "#0b5394",
            width: 2,
            fill: "rgba(11,83,148,0.12)",
            points: { show: false },
          },
        ],
        legend: { show: false },
      },
      data,
      el,
    );
    chart.current = plot;
    const resize = () => plot.setSize({ width: Math.max(320, el.clientWidth), height: 220 });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.destroy();
      chart.current = null;
    };
  }, [locale, series]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [timeline]);

  return <div class="chart" ref={box} role="img" aria-label={label} />;
}
