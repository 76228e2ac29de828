// A 2-D plane with fixed ranges: uPlot draws the axes, grid and cursor; on top
// go an optional scalar field (contours of a surface, a penalty), polylines
// (trajectories, unit balls, fitted lines), points, and draggable handles.
// Handles move with the pointer or, when focused, with the arrow keys.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { onThemeChange, palette } from '../theme.js';
import { colorOf, finiteRange, rgb, type ColorMapName } from './colormap.js';
import { canvasToPng, followSize } from './canvas.js';
import type { Exportable } from './figure.js';
import { chartToSvg, type SvgSeries } from './svg.js';

/** A polyline or point set in data coordinates. */
export interface Path {
  label: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  color?: number;
  kind?: 'line' | 'points';
  dash?: number[];
  width?: number;
  closed?: boolean;
}

/** A scalar field sampled on a regular grid over the plane's ranges. */
export interface Field {
  nx: number;
  ny: number;
  /** Row-major, ny rows (y from min to max) × nx columns (x from min to max). */
  values: ArrayLike<number>;
  map?: ColorMapName;
  /** Colour by log(1 + v - min): for surfaces such as Rosenbrock. */
  log?: boolean;
}

export interface PlaneOptions {
  x: [number, number];
  y: [number, number];
  xLabel?: string;
  yLabel?: string;
  /** Called while a handle is dragged (or moved by keys) with its index and position. */
  onDrag?: (index: number, x: number, y: number) => void;
  /** Called with a click's position on empty plane. */
  onClick?: (x: number, y: number) => void;
  /** Called when a handle is clicked without being dragged, or Enter is pressed on the focused one. */
  onHandleClick?: (index: number) => void;
  /** Keep one unit of x as long as one unit of y (circles look round). */
  equalAspect?: boolean;
  /** Accessible name (say what the handles are and that arrow keys move them). */
  label?: string;
}

/** A fixed-range 2-D plot with draggable handles. */
export class PlanePlot implements Exportable {
  readonly #host: HTMLElement;
  #opts: PlaneOptions;
  #plot: uPlot | null = null;
  #paths: Path[] = [];
  #handles: { x: number; y: number; color?: number; label?: string }[] = [];
  #field: Field | null = null;
  #fieldImage: HTMLCanvasElement | null = null;
  #drag = -1;
  #press: { x: number; y: number; moved: boolean } | null = null;
  #focus = 0;
  readonly #stopResize: () => void;
  readonly #unTheme: () => void;

  constructor(host: HTMLElement, opts: PlaneOptions) {
    this.#host = host;
    this.#opts = opts;
    host.tabIndex = 0;
    host.classList.add('plane');
    host.setAttribute('role', 'application');
    host.setAttribute(
      'aria-label',
      opts.label ?? 'x–y plane: arrow keys move the selected point (Shift: faster), [ and ] select another',
    );
    host.addEventListener('keydown', (e) => this.#key(e));
    this.#stopResize = followSize(host, () => this.#plot?.setSize(this.#size()));
    this.#unTheme = onThemeChange(() => this.#build());
    this.#build();
  }

  /** What is drawn, for tests. */
  get data(): { paths: { label: string; xs: number[]; ys: number[] }[]; handles: { x: number; y: number }[] } {
    return {
      paths: this.#paths.map((p) => ({ label: p.label, xs: Array.from(p.xs), ys: Array.from(p.ys) })),
      handles: this.#handles.map((q) => ({ x: q.x, y: q.y })),
    };
  }

  /** Sets what is drawn (redraws; no rebuild). */
  update(paths: Path[], handles: { x: number; y: number; color?: number; label?: string }[] = []): void {
    this.#paths = paths;
    this.#handles = handles;
    this.#plot?.redraw(false, false);
  }

  /** Sets (or clears) the background field. */
  setField(field: Field | null): void {
    this.#field = field;
    this.#fieldImage = null;
    this.#plot?.redraw(false, false);
  }

  /** Changes the ranges (rebuilds). */
  setRanges(x: [number, number], y: [number, number]): void {
    this.#opts = { ...this.#opts, x, y };
    this.#build();
  }

  destroy(): void {
    this.#stopResize();
    this.#unTheme();
    this.#plot?.destroy();
    this.#plot = null;
  }

  toPng(): Promise<Blob> {
    return canvasToPng(this.#plot?.ctx.canvas);
  }

  toSvg(title: string): string {
    const p = palette(this.#host);
    const series: SvgSeries[] = this.#paths.map((q, i) => {
      const pts: [number, number][] = [];
      for (let j = 0; j < q.xs.length; ++j) pts.push([q.xs[j]!, q.ys[j]!]);
      if (q.closed && pts.length) pts.push(pts[0]!);
      return {
        label: q.label,
        color: p.series[(q.color ?? i) % p.series.length]!,
        kind: q.kind,
        dash: q.dash,
        width: q.width,
        points: pts,
      };
    });
    if (this.#handles.length)
      series.push({ label: '', color: p.fg, kind: 'points', points: this.#handles.map((q) => [q.x, q.y]) });
    let under = '';
    const f = this.#field;
    const size = this.#size();
    if (f) {
      const w = size.width - 72;
      const hh = size.height - 64;
      const [lo, hi] = this.#fieldRange(f);
      const cw = w / f.nx;
      const ch = hh / f.ny;
      const cells: string[] = [];
      for (let r = 0; r < f.ny; ++r)
        for (let c = 0; c < f.nx; ++c)
          cells.push(
            `<rect x="${(c * cw).toFixed(1)}" y="${((f.ny - 1 - r) * ch).toFixed(1)}" width="${(cw + 0.5).toFixed(1)}" height="${(ch + 0.5).toFixed(1)}" fill="${rgb(colorOf(this.#fieldValue(f, r * f.nx + c), lo, hi, f.map ?? 'sequential'))}" fill-opacity="0.55"/>`,
          );
      under = cells.join('');
    }
    return chartToSvg({
      ...size,
      title,
      x: { min: this.#opts.x[0], max: this.#opts.x[1], label: this.#opts.xLabel },
      y: { min: this.#opts.y[0], max: this.#opts.y[1] },
      series,
      colors: { fg: p.fg, grid: p.grid, bg: p.bg },
      under,
    });
  }

  #size(): { width: number; height: number } {
    const width = Math.max(220, Math.floor(this.#host.clientWidth));
    if (this.#opts.equalAspect) {
      const [x0, x1] = this.#opts.x;
      const [y0, y1] = this.#opts.y;
      const plotW = width - 80;
      return { width, height: Math.round(Math.min(520, Math.max(200, (plotW * (y1 - y0)) / (x1 - x0) + 70))) };
    }
    return { width, height: Math.round(Math.min(440, Math.max(220, width * 0.7))) };
  }

  #fieldValue(f: Field, i: number): number {
    const v = f.values[i]!;
    return f.log ? Math.log1p(Math.max(0, v - this.#fieldMin(f))) : v;
  }

  #fieldMin(f: Field): number {
    return finiteRange(f.values)[0];
  }

  #fieldRange(f: Field): [number, number] {
    if (!f.log) return finiteRange(f.values);
    const [lo, hi] = finiteRange(f.values);
    return [0, Math.log1p(hi - lo)];
  }

  // The field as a small image (one pixel per sample), scaled into the plot box.
  #image(): HTMLCanvasElement | null {
    const f = this.#field;
    if (!f) return null;
    if (this.#fieldImage) return this.#fieldImage;
    const cv = document.createElement('canvas');
    cv.width = f.nx;
    cv.height = f.ny;
    const ctx = cv.getContext('2d');
    if (!ctx) return null;
    const img = ctx.createImageData(f.nx, f.ny);
    const [lo, hi] = this.#fieldRange(f);
    const min = this.#fieldMin(f);
    for (let r = 0; r < f.ny; ++r)
      for (let c = 0; c < f.nx; ++c) {
        const raw = f.values[r * f.nx + c]!;
        const v = f.log ? Math.log1p(Math.max(0, raw - min)) : raw;
        const [cr, cg, cb] = colorOf(v, lo, hi, f.map ?? 'sequential');
        const o = ((f.ny - 1 - r) * f.nx + c) * 4; // image rows go down, y goes up
        img.data[o] = cr;
        img.data[o + 1] = cg;
        img.data[o + 2] = cb;
        img.data[o + 3] = 150;
      }
    ctx.putImageData(img, 0, 0);
    this.#fieldImage = cv;
    return cv;
  }

  #build(): void {
    this.#plot?.destroy();
    const p = palette(this.#host);
    const axis: uPlot.Axis = {
      stroke: p.muted,
      grid: { stroke: p.grid, width: 1 },
      ticks: { stroke: p.grid, width: 1 },
    };
    const o = this.#opts;
    const opts: uPlot.Options = {
      ...this.#size(),
      scales: { x: { time: false, range: o.x }, y: { range: o.y } },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      legend: { show: false },
      axes: [
        { ...axis, label: o.xLabel },
        { ...axis, size: 50, label: o.yLabel },
      ],
      series: [{}, { paths: () => null, points: { show: false } }],
      hooks: {
        drawClear: [
          (u) => {
            const img = this.#image();
            if (!img) return;
            const { left, top, width, height } = u.bbox;
            u.ctx.save();
            u.ctx.imageSmoothingEnabled = true;
            u.ctx.drawImage(img, left, top, width, height);
            u.ctx.restore();
          },
        ],
        draw: [(u) => this.#drawOverlay(u, p)],
      },
    };
    this.#plot = new uPlot(
      opts,
      [
        [o.x[0], o.x[1]],
        [null, null],
      ] as unknown as uPlot.AlignedData,
      this.#host,
    );
    const over = this.#plot.over;
    over.addEventListener('pointerdown', (e) => this.#down(e));
    over.addEventListener('pointermove', (e) => this.#move(e));
    over.addEventListener('pointerup', () => {
      if (this.#drag >= 0 && this.#press && !this.#press.moved) this.#opts.onHandleClick?.(this.#drag);
      this.#drag = -1;
    });
    over.addEventListener('pointercancel', () => (this.#drag = -1));
    over.style.touchAction = 'none';
  }

  #drawOverlay(u: uPlot, p: ReturnType<typeof palette>): void {
    const ctx = u.ctx;
    const dpr = devicePixelRatio || 1;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    this.#paths.forEach((q, i) => {
      const color = p.series[(q.color ?? i) % p.series.length]!;
      const n = Math.min(q.xs.length, q.ys.length);
      if (q.kind === 'points') {
        ctx.fillStyle = color;
        for (let j = 0; j < n; ++j) {
          if (!Number.isFinite(q.xs[j]!) || !Number.isFinite(q.ys[j]!)) continue;
          ctx.beginPath();
          ctx.arc(u.valToPos(q.xs[j]!, 'x', true), u.valToPos(q.ys[j]!, 'y', true), 3.5 * dpr, 0, 2 * Math.PI);
          ctx.fill();
        }
        return;
      }
      ctx.strokeStyle = color;
      ctx.lineWidth = (q.width ?? 2) * dpr;
      ctx.setLineDash((q.dash ?? []).map((d) => d * dpr));
      ctx.beginPath();
      let pen = false;
      for (let j = 0; j < n; ++j) {
        const x = q.xs[j]!;
        const y = q.ys[j]!;
        if (!Number.isFinite(x) || !Number.isFinite(y)) {
          pen = false;
          continue;
        }
        // Clamp far-away points so a diverging path still draws towards its exit.
        const cx = Math.max(-1e5, Math.min(1e5, u.valToPos(x, 'x', true)));
        const cy = Math.max(-1e5, Math.min(1e5, u.valToPos(y, 'y', true)));
        if (pen) ctx.lineTo(cx, cy);
        else ctx.moveTo(cx, cy);
        pen = true;
      }
      if (q.closed) ctx.closePath();
      ctx.stroke();
    });
    ctx.setLineDash([]);
    this.#handles.forEach((q, i) => {
      const cx = u.valToPos(q.x, 'x', true);
      const cy = u.valToPos(q.y, 'y', true);
      ctx.beginPath();
      ctx.arc(cx, cy, 7 * dpr, 0, 2 * Math.PI);
      ctx.fillStyle = p.series[(q.color ?? 0) % p.series.length]!;
      ctx.fill();
      ctx.lineWidth = (i === this.#focus && this.#host.matches(':focus') ? 3 : 1.5) * dpr;
      ctx.strokeStyle = p.fg;
      ctx.stroke();
      if (q.label) {
        ctx.fillStyle = p.fg;
        ctx.font = `${12 * dpr}px sans-serif`;
        ctx.fillText(q.label, cx + 10 * dpr, cy - 10 * dpr);
      }
    });
    ctx.restore();
  }

  #valAt(e: PointerEvent): [number, number] {
    const u = this.#plot!;
    const r = u.over.getBoundingClientRect();
    return [u.posToVal(e.clientX - r.left, 'x'), u.posToVal(e.clientY - r.top, 'y')];
  }

  #down(e: PointerEvent): void {
    const u = this.#plot;
    if (!u) return;
    const r = u.over.getBoundingClientRect();
    let best = -1;
    let bestD = 14 ** 2;
    this.#handles.forEach((q, i) => {
      const dx = u.valToPos(q.x, 'x') - (e.clientX - r.left);
      const dy = u.valToPos(q.y, 'y') - (e.clientY - r.top);
      if (dx * dx + dy * dy < bestD) {
        bestD = dx * dx + dy * dy;
        best = i;
      }
    });
    if (best >= 0) {
      this.#drag = best;
      this.#focus = best;
      this.#press = { x: e.clientX, y: e.clientY, moved: false };
      u.over.setPointerCapture(e.pointerId);
      e.preventDefault();
    } else if (this.#opts.onClick) {
      const [x, y] = this.#valAt(e);
      this.#opts.onClick(x, y);
    }
  }

  #move(e: PointerEvent): void {
    if (this.#drag < 0) return;
    const p = this.#press;
    if (p && !p.moved && (e.clientX - p.x) ** 2 + (e.clientY - p.y) ** 2 > 16) p.moved = true;
    if (!this.#opts.onDrag) return;
    const [x, y] = this.#valAt(e);
    const [x0, x1] = this.#opts.x;
    const [y0, y1] = this.#opts.y;
    this.#opts.onDrag(this.#drag, Math.min(x1, Math.max(x0, x)), Math.min(y1, Math.max(y0, y)));
  }

  // Arrow keys move the focused handle by 1 % of the range (10 % with Shift); Tab-like
  // cycling between handles with [ and ].
  #key(e: KeyboardEvent): void {
    if (this.#opts.onHandleClick && this.#handles[this.#focus] && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      this.#opts.onHandleClick(this.#focus);
      return;
    }
    if (!this.#handles.length || !this.#opts.onDrag) return;
    const q = this.#handles[this.#focus];
    if (!q) return;
    const f = e.shiftKey ? 0.1 : 0.01;
    const dx = (this.#opts.x[1] - this.#opts.x[0]) * f;
    const dy = (this.#opts.y[1] - this.#opts.y[0]) * f;
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [-dx, 0],
      ArrowRight: [dx, 0],
      ArrowUp: [0, dy],
      ArrowDown: [0, -dy],
    };
    if (e.key === ']' || e.key === '[') {
      const n = this.#handles.length;
      this.#focus = (this.#focus + (e.key === ']' ? 1 : n - 1)) % n;
      this.#plot?.redraw(false, false);
      e.preventDefault();
      return;
    }
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    this.#opts.onDrag(this.#focus, q.x + m[0], q.y + m[1]);
  }
}
