// One uPlot line chart of y against x, with a marker at the probe point.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** What a chart shows. */
export interface ChartData {
  x: Float32Array;
  y: Float32Array;
  /** Probe point to mark, if any (both from the engine). */
  probe?: { x: number; y: number };
}

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

// Non-finite values become gaps; uPlot's auto-range would choke on them.
function toSeries(a: Float32Array): (number | null)[] {
  const out = new Array<number | null>(a.length);
  for (let i = 0; i < a.length; ++i) out[i] = Number.isFinite(a[i]!) ? a[i]! : null;
  return out;
}

/** A line chart that follows its container's width and the colour theme. */
export class LineChart {
  readonly #host: HTMLElement;
  readonly #syncKey: string;
  readonly #onPick: ((x: number) => void) | undefined;
  #label: string;
  #colorVar: string;
  #plot: uPlot | null = null;
  #data: ChartData | null = null;
  #aligned: uPlot.AlignedData = [[], []];
  readonly #resize: ResizeObserver;

  /**
   * @param host - element the chart fills (its width; fixed height)
   * @param label - series name in the legend
   * @param colorVar - CSS custom property holding the line colour
   * @param syncKey - charts with the same key share the cursor
   * @param onPick - called with the x under a click on the plot area
   */
  constructor(host: HTMLElement, label: string, colorVar: string, syncKey: string, onPick?: (x: number) => void) {
    this.#host = host;
    this.#onPick = onPick;
    this.#label = label;
    this.#colorVar = colorVar;
    this.#syncKey = syncKey;
    this.#resize = new ResizeObserver(() => this.#fitToWidth());
    this.#resize.observe(host);
  }

  /** The data last drawn (x, y as given), for tests and readouts. */
  get data(): ChartData | null {
    return this.#data;
  }

  /**
   * Draws new data, keeping the chart (fast path for dragging sliders).
   * @param data - x and y of equal length
   */
  update(data: ChartData): void {
    this.#data = data;
    this.#aligned = [Array.from(data.x), toSeries(data.y)];
    if (!this.#plot) this.#build();
    else this.#plot.setData(this.#aligned, true);
  }

  /**
   * Renames the series (language switch) by rebuilding the chart.
   * @param label - new legend label
   */
  relabel(label: string): void {
    this.#label = label;
    this.rebuild();
  }

  /** Rebuilds with the current theme colours. */
  rebuild(): void {
    this.#plot?.destroy();
    this.#plot = null;
    if (this.#data) this.#build();
  }

  /** Removes the chart and its data. */
  reset(): void {
    this.#plot?.destroy();
    this.#plot = null;
    this.#data = null;
  }

  #size(): { width: number; height: number } {
    const width = Math.max(200, Math.floor(this.#host.clientWidth));
    return { width, height: Math.round(Math.min(320, Math.max(200, width * 0.45))) };
  }

  #fitToWidth(): void {
    if (this.#plot) this.#plot.setSize(this.#size());
  }

  #build(): void {
    const host = this.#host;
    const fg = cssVar(host, '--fg-muted', '#666');
    const gridColor = cssVar(host, '--grid', '#ddd');
    const line = cssVar(host, this.#colorVar, '#1f6feb');
    const probeColor = cssVar(host, '--probe', '#d1242f');
    const axis: uPlot.Axis = {
      stroke: fg,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1 },
    };
    const opts: uPlot.Options = {
      ...this.#size(),
      scales: { x: { time: false } },
      cursor: { sync: { key: this.#syncKey }, drag: { x: false, y: false } },
      legend: { show: true },
      axes: [axis, { ...axis, size: 60 }],
      series: [
        { label: 'x', value: (_u, v) => (v == null ? '–' : String(v)) },
        { label: this.#label, stroke: line, width: 2, points: { show: false } },
      ],
      hooks: {
        draw: [
          (u) => {
            const p = this.#data?.probe;
            if (!p || !Number.isFinite(p.x) || !Number.isFinite(p.y)) return;
            const cx = u.valToPos(p.x, 'x', true);
            const cy = u.valToPos(p.y, 'y', true);
            const { left, top, width, height } = u.bbox;
            if (cx < left || cx > left + width || cy < top || cy > top + height) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.beginPath();
            ctx.arc(cx, cy, 5 * devicePixelRatio, 0, 2 * Math.PI);
            ctx.fillStyle = probeColor;
            ctx.fill();
            ctx.restore();
          },
        ],
      },
    };
    const plot = new uPlot(opts, this.#aligned, host);
    plot.over.addEventListener('click', (e) => {
      const left = e.clientX - plot.over.getBoundingClientRect().left;
      const x = plot.posToVal(left, 'x');
      if (this.#onPick && Number.isFinite(x)) this.#onPick(Number(x.toPrecision(4)));
    });
    this.#plot = plot;
  }
}
