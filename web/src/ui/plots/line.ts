// Line (and bar / point) charts over a shared x, drawn by uPlot: several
// series, optional markers, cursor sync between charts, resize with the
// container, theme colours from CSS, PNG and SVG export.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { onThemeChange, palette } from '../theme.js';
import { chartToSvg, type SvgSeries } from './svg.js';
import { canvasToPng, followSize } from './canvas.js';
import type { Exportable } from './figure.js';

/** One series of a LinePlot. */
export interface LineSeries {
  label: string;
  /** Index into the theme's series colours (default: its position). */
  color?: number;
  dash?: number[];
  width?: number;
  kind?: 'line' | 'points' | 'bars';
}

/** A point to mark on a chart (a probe, an outlier, a step). */
export interface Mark {
  x: number;
  y: number;
  color?: number;
  label?: string;
}

export interface LinePlotOptions {
  series: LineSeries[];
  xLabel?: string;
  /** Fixed y range; otherwise it follows the data. */
  yRange?: [number, number];
  /** Fixed x range; otherwise it follows the data. */
  xRange?: [number, number];
  logY?: boolean;
  /** Charts with the same key share the cursor. */
  syncKey?: string;
  /** Height in px (default: 45 % of the width, 200–320). */
  height?: number;
  /** Called with the x under a click on the plot area. */
  onPick?: (x: number) => void;
  /** Text of an x tick (e.g. category names for bars); default: the number. */
  xTickText?: (x: number) => string;
}

// Tick labels with as many digits as the ticks need: uPlot's default keeps
// three decimals, so ticks such as 2e-4 (learning rates, small losses) all read 0.
function tickText(v: number | null): string {
  if (v == null || !Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) {
    const [m, e] = v.toExponential(2).split('e');
    return `${Number(m)}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(6)));
}

// A legend value. Without a cursor (idx null) uPlot asks with no value and
// would print '–' for every series: the legend then reads the series at the
// last x instead, so it names every curve with a number before any hover.
function legendValue(u: uPlot, v: number | null, si: number, idx: number | null): string {
  if (idx == null) {
    const d = u.data[si] ?? [];
    for (let i = d.length - 1; i >= 0 && v == null; --i) v = d[i] ?? null;
  }
  return v == null ? '–' : String(Number(v.toPrecision(6)));
}

// Non-finite values become gaps; uPlot's auto-range would choke on them.
function toSeries(a: ArrayLike<number>, logY: boolean): (number | null)[] {
  const out = new Array<number | null>(a.length);
  for (let i = 0; i < a.length; ++i) {
    const v = a[i]!;
    out[i] = Number.isFinite(v) && (!logY || v > 0) ? v : null;
  }
  return out;
}

// uPlot ticks a log axis by stepping through its table of decimal increments, whose rounding breaks
// below about 1e-25: a range reaching further down (a loss that converged to float32's smallest values,
// 1e-45) never ends the tick loop, which then throws 'RangeError: Invalid array length' at the next
// draw. The range stops at LOG_FLOOR; smaller values lie below the chart.
const LOG_FLOOR = 1e-20;
function logRange(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min == null || max == null) return [null, null];
  const lo = Math.max(min, LOG_FLOOR);
  return uPlot.rangeLog(lo, Math.max(max, lo), 10, false);
}

/** A uPlot chart of several y series against one x. */
export class LinePlot implements Exportable {
  readonly #host: HTMLElement;
  #opts: LinePlotOptions;
  #plot: uPlot | null = null;
  #x: number[] = [];
  #ys: (number | null)[][] = [];
  #raw: { x: ArrayLike<number>; ys: ArrayLike<number>[] } | null = null;
  #marks: Mark[] = [];
  readonly #stopResize: () => void;
  readonly #unTheme: () => void;

  /**
   * @param host - element the chart fills (its width)
   * @param opts - series and axes
   */
  constructor(host: HTMLElement, opts: LinePlotOptions) {
    this.#host = host;
    this.#opts = opts;
    this.#stopResize = followSize(host, () => this.#plot?.setSize(this.#size()));
    this.#unTheme = onThemeChange(() => this.rebuild());
  }

  /** The data last drawn (as given), for tests and readouts. */
  get data(): { x: number[]; ys: number[][] } | null {
    if (!this.#raw) return null;
    return { x: Array.from(this.#raw.x), ys: this.#raw.ys.map((y) => Array.from(y)) };
  }

  /**
   * Draws new data, keeping the chart (the fast path while a slider moves).
   * @param x - shared x values, increasing
   * @param ys - one array per series, each as long as x
   */
  update(x: ArrayLike<number>, ys: ArrayLike<number>[]): void {
    this.#raw = { x, ys };
    this.#x = Array.from(x);
    this.#ys = ys.map((y) => toSeries(y, !!this.#opts.logY));
    if (!this.#plot || this.#plot.series.length !== ys.length + 1) this.#build();
    else this.#plot.setData([this.#x, ...this.#ys] as uPlot.AlignedData, true);
  }

  /** Sets the marked points (redraws). */
  setMarks(marks: Mark[]): void {
    this.#marks = marks;
    this.#plot?.redraw(false, false);
  }

  /** Replaces series and axes options (rebuilds). */
  setOptions(opts: Partial<LinePlotOptions>): void {
    this.#opts = { ...this.#opts, ...opts };
    this.rebuild();
  }

  /** Rebuilds with the current theme colours. */
  rebuild(): void {
    this.#plot?.destroy();
    this.#plot = null;
    if (this.#raw) this.#build();
  }

  /** Removes the chart and its listeners. */
  destroy(): void {
    this.#stopResize();
    this.#unTheme();
    this.#plot?.destroy();
    this.#plot = null;
  }

  /** The chart as a PNG image. */
  toPng(): Promise<Blob> {
    return canvasToPng(this.#plot?.ctx.canvas);
  }

  /** The chart as an SVG document. */
  toSvg(title: string): string {
    const p = palette(this.#host);
    const u = this.#plot;
    const xs = this.#x;
    const series: SvgSeries[] = this.#opts.series.map((s, i) => ({
      label: s.label,
      color: p.series[(s.color ?? i) % p.series.length]!,
      kind: s.kind,
      dash: s.dash,
      width: s.width,
      points: xs.map((x, j) => {
        const y = this.#ys[i]?.[j];
        return y == null ? null : ([x, y] as [number, number]);
      }),
    }));
    if (this.#marks.length)
      series.push({
        label: '',
        color: p.series[this.#marks[0]!.color ?? 1]!,
        kind: 'points',
        points: this.#marks.map((m) => [m.x, m.y]),
      });
    const size = this.#size();
    return chartToSvg({
      ...size,
      title,
      x: {
        min: u?.scales.x!.min ?? xs[0] ?? 0,
        max: u?.scales.x!.max ?? xs[xs.length - 1] ?? 1,
        label: this.#opts.xLabel,
      },
      y: { min: u?.scales.y!.min ?? 0, max: u?.scales.y!.max ?? 1 },
      series,
      colors: { fg: p.fg, grid: p.grid, bg: p.bg },
    });
  }

  #size(): { width: number; height: number } {
    const width = Math.max(200, Math.floor(this.#host.clientWidth));
    return { width, height: this.#opts.height ?? Math.round(Math.min(320, Math.max(200, width * 0.45))) };
  }

  #build(): void {
    this.#plot?.destroy();
    const host = this.#host;
    const p = palette(host);
    const o = this.#opts;
    const axis: uPlot.Axis = {
      stroke: p.muted,
      grid: { stroke: p.grid, width: 1 },
      ticks: { stroke: p.grid, width: 1 },
    };
    const bars = uPlot.paths.bars!({ size: [0.9, 100] });
    const series: uPlot.Series[] = [
      { label: o.xLabel ?? 'x', value: legendValue },
      ...o.series.map((s, i) => {
        const color = p.series[(s.color ?? i) % p.series.length]!;
        const base: uPlot.Series = {
          label: s.label,
          stroke: color,
          width: s.width ?? 2,
          dash: s.dash,
          value: legendValue,
        };
        if (s.kind === 'bars') return { ...base, fill: color, paths: bars, points: { show: false } };
        if (s.kind === 'points') return { ...base, paths: () => null, points: { show: true, size: 6, fill: color } };
        return { ...base, points: { show: false } };
      }),
    ];
    const opts: uPlot.Options = {
      ...this.#size(),
      scales: {
        x: { time: false, ...(o.xRange ? { range: o.xRange } : {}) },
        y: { ...(o.logY ? { distr: 3, range: logRange } : {}), ...(o.yRange ? { range: o.yRange } : {}) },
      },
      cursor: { ...(o.syncKey ? { sync: { key: o.syncKey } } : {}), drag: { x: false, y: false } },
      legend: { show: true },
      axes: [
        o.xTickText ? { ...axis, values: (_u, splits) => splits.map((v) => (v == null ? '' : o.xTickText!(v))) } : axis,
        { ...axis, size: 60, values: (_u, splits) => splits.map(tickText) },
      ],
      series,
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            const { left, top, width, height } = u.bbox;
            for (const m of this.#marks) {
              if (!Number.isFinite(m.x) || !Number.isFinite(m.y)) continue;
              const cx = u.valToPos(m.x, 'x', true);
              const cy = u.valToPos(m.y, 'y', true);
              if (cx < left || cx > left + width || cy < top || cy > top + height) continue;
              ctx.save();
              ctx.beginPath();
              ctx.arc(cx, cy, 5 * devicePixelRatio, 0, 2 * Math.PI);
              ctx.fillStyle = p.series[(m.color ?? 1) % p.series.length]!;
              ctx.fill();
              if (m.label) {
                ctx.fillStyle = p.fg;
                ctx.font = `${11 * devicePixelRatio}px sans-serif`;
                ctx.fillText(m.label, cx + 8 * devicePixelRatio, cy - 8 * devicePixelRatio);
              }
              ctx.restore();
            }
          },
        ],
      },
    };
    const plot = new uPlot(opts, [this.#x, ...this.#ys] as uPlot.AlignedData, host);
    if (o.onPick) {
      plot.over.addEventListener('click', (e) => {
        const x = plot.posToVal(e.clientX - plot.over.getBoundingClientRect().left, 'x');
        if (Number.isFinite(x)) o.onPick!(Number(x.toPrecision(4)));
      });
    }
    this.#plot = plot;
  }
}
