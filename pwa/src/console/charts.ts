// The overview's charts: Chartist (self-hosted from npm, bundled by Vite, SVG so it stays sharp
// and readable on a 360 px phone). Only this module imports it, and only the overview loads it.

import { BarChart, LineChart } from 'chartist';
import 'chartist/dist/index.css';

export interface Series {
  name: string;
  values: number[];
}

/** Draw stacked bars (one bar per label, one stack segment per series) into `element`. */
export function stackedBars(element: HTMLElement, labels: string[], series: Series[]): void {
  new BarChart(
    element,
    { labels, series: series.map((s) => ({ name: s.name, data: s.values })) },
    {
      stackBars: true,
      horizontalBars: true,
      reverseData: true,
      axisY: { offset: 110 },
      axisX: { onlyInteger: true },
      height: `${Math.max(140, labels.length * 30 + 40)}px`,
      chartPadding: { right: 16 },
    },
  );
}

/** Draw one line per series over the labels (days) into `element`. */
export function lines(element: HTMLElement, labels: string[], series: Series[]): void {
  const every = Math.max(1, Math.ceil(labels.length / 6));
  new LineChart(
    element,
    { labels, series: series.map((s) => ({ name: s.name, data: s.values })) },
    {
      showPoint: false,
      lineSmooth: false,
      axisY: { onlyInteger: true, low: 0 },
      axisX: { labelInterpolationFnc: (value: unknown, index: number) => (index % every === 0 ? String(value).slice(5) : null) },
      height: '220px',
      fullWidth: true,
      chartPadding: { right: 16 },
    },
  );
}
