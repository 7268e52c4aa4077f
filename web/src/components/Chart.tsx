// A thin React wrapper around uPlot (small, canvas, fast): time series and simple x/y lines,
// coloured from the theme's custom properties.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
  color: string; // a CSS custom property name (e.g. --accent) or a colour
  fill?: boolean;
}

function colour(el: Element, c: string): string {
  return c.startsWith('--') ? getComputedStyle(el).getPropertyValue(c).trim() || '#888' : c;
}

export function Chart({ x, series, height = 240, time = true, yLabel, xFormat, label }: { x: number[]; series: Series[]; height?: number; time?: boolean; yLabel?: string; xFormat?(v: number): string; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = colour(el, '--muted');
    const grid = colour(el, '--border');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '12px system-ui, sans-serif' };
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      scales: { x: { time } },
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { ...axis, ...(xFormat ? { values: (_u: uPlot, vals: number[]) => vals.map(xFormat) } : {}) },
        { ...axis, label: yLabel, size: 50 },
      ],
      series: [
        {},
        ...series.map((s) => {
          const c = colour(el, s.color);
          return { label: s.label, stroke: c, width: 2, fill: s.fill ? `${c}33` : undefined, points: { show: x.length < 40 } };
        }),
      ],
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [x, series, height, time, yLabel, xFormat]);
  return <div ref={box} className="chart" role="img" aria-label={label} data-testid="chart" />;
}
