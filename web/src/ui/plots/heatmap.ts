// A matrix as coloured cells (attention weights, positional encodings,
// Laplacians, masks): canvas cells with row / column labels, the value under
// the pointer, optional numbers in the cells, PNG and SVG export. uPlot has no
// heatmap, so this one is drawn here.
import { h } from '../dom.js';
import { onThemeChange, palette } from '../theme.js';
import { colorOf, finiteRange, rgb, type ColorMapName } from './colormap.js';
import { canvasToPng, followSize } from './canvas.js';
import type { Exportable } from './figure.js';
import { esc } from './svg.js';

export interface HeatmapOptions {
  map?: ColorMapName;
  /** Fixed value range (default: the data's own). */
  range?: [number, number];
  /** Write each value in its cell when the matrix is at most this many cells wide (default 10). */
  numbersUpTo?: number;
  rowLabel?: string;
  colLabel?: string;
  /** Called with the cell under a click. */
  onCell?: (row: number, col: number) => void;
  /** Accessible name of the map (what the matrix is). */
  label?: string;
  /** Max height in px (default 360). */
  maxHeight?: number;
}

/** Formats a cell value briefly. */
function short(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-2 || a >= 1e4) ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/** Coloured cells of a rows × cols matrix. */
export class Heatmap implements Exportable {
  readonly #host: HTMLElement;
  readonly #canvas: HTMLCanvasElement;
  readonly #readout: HTMLElement;
  /** The colour bar: the map's colours from the low end of the range to the high one. */
  readonly #bar: { strip: HTMLElement; lo: HTMLElement; hi: HTMLElement; key: string };
  readonly #opts: HeatmapOptions;
  #rows = 0;
  #cols = 0;
  #values: Float32Array = new Float32Array(0);
  #range: [number, number] = [0, 1];
  #cells: HTMLCanvasElement | null = null;
  #width = 0;
  /** The cell the arrow keys move (outlined while the map has focus). */
  #focus: [number, number] = [0, 0];
  readonly #stopResize: () => void;
  readonly #unTheme: () => void;

  /**
   * @param host - element to fill (its width)
   * @param opts - colour map, range, labels
   */
  constructor(host: HTMLElement, opts: HeatmapOptions = {}) {
    this.#host = host;
    this.#opts = opts;
    this.#canvas = h('canvas', { class: 'heatmap', role: 'application' });
    this.#readout = h('div', { class: 'heatmap-readout muted', 'aria-live': 'polite' });
    this.#bar = { strip: h('span', { class: 'colorbar-strip' }), lo: h('span'), hi: h('span'), key: '' };
    const bar = h('div', { class: 'colorbar', 'aria-hidden': 'true' }, this.#bar.lo, this.#bar.strip, this.#bar.hi);
    host.append(this.#canvas, bar, this.#readout);
    this.#canvas.addEventListener('pointermove', (e) => this.#hover(e));
    this.#canvas.addEventListener('click', (e) => {
      const c = this.#cellAt(e);
      if (c && this.#opts.onCell) this.#opts.onCell(c[0], c[1]);
    });
    // Keyboard: the map is one tab stop; arrows move a cell cursor whose value
    // is read out, Enter or Space acts as a click on it.
    this.#canvas.tabIndex = 0;
    this.#canvas.addEventListener('keydown', (e) => this.#key(e));
    this.#canvas.addEventListener('focus', () => this.#draw());
    this.#canvas.addEventListener('blur', () => this.#draw());
    this.#stopResize = followSize(host, () => {
      this.#width = this.#host.clientWidth;
      this.#draw();
    });
    this.#unTheme = onThemeChange(() => this.#draw());
  }

  /** The matrix last drawn. */
  get data(): { rows: number; cols: number; values: number[] } {
    return { rows: this.#rows, cols: this.#cols, values: Array.from(this.#values) };
  }

  /**
   * Draws a matrix.
   * @param values - row-major, rows × cols
   */
  update(values: ArrayLike<number>, rows: number, cols: number): void {
    this.#rows = rows;
    this.#cols = cols;
    this.#values = Float32Array.from(values);
    this.#range = this.#opts.range ?? finiteRange(this.#values);
    this.#focus = [Math.min(this.#focus[0], Math.max(0, rows - 1)), Math.min(this.#focus[1], Math.max(0, cols - 1))];
    this.#canvas.setAttribute(
      'aria-label',
      `${this.#opts.label ?? 'matrix'} ${rows} × ${cols}: arrow keys read the cells${this.#opts.onCell ? ', Enter acts on one' : ''}`,
    );
    this.#draw();
  }

  /** Removes listeners. */
  destroy(): void {
    this.#stopResize();
    this.#unTheme();
    this.#canvas.remove();
    this.#bar.strip.parentElement?.remove();
    this.#readout.remove();
  }

  toPng(): Promise<Blob> {
    return canvasToPng(this.#canvas);
  }

  toSvg(title: string): string {
    const p = palette(this.#host);
    const { cell, w, hgt } = this.#geometry();
    const map = this.#opts.map ?? 'sequential';
    const [lo, hi] = this.#range;
    const cells: string[] = [];
    for (let r = 0; r < this.#rows; ++r)
      for (let c = 0; c < this.#cols; ++c) {
        const v = this.#values[r * this.#cols + c]!;
        cells.push(
          `<rect x="${(c * cell).toFixed(2)}" y="${(r * cell + 24).toFixed(2)}" width="${cell.toFixed(2)}" height="${cell.toFixed(2)}" fill="${rgb(colorOf(v, lo, hi, map))}"><title>${r},${c}: ${esc(short(v))}</title></rect>`,
        );
      }
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${hgt + 24}" font-family="sans-serif" font-size="12">`,
      `<rect width="100%" height="100%" fill="${esc(p.bg)}"/>`,
      `<text x="0" y="16" fill="${esc(p.fg)}">${esc(title)} (${this.#rows} × ${this.#cols}, ${esc(short(lo))} … ${esc(short(hi))})</text>`,
      ...cells,
      '</svg>',
    ].join('\n');
  }

  #geometry(): { cell: number; w: number; hgt: number } {
    // The width as last measured: reading clientWidth on every update forces a layout per heatmap.
    if (!this.#width) this.#width = this.#host.clientWidth;
    const width = Math.max(120, this.#width || 320);
    const maxH = this.#opts.maxHeight ?? 360;
    const cols = Math.max(1, this.#cols);
    const rows = Math.max(1, this.#rows);
    const cell = Math.max(1, Math.min(width / cols, maxH / rows, 64));
    return { cell, w: cell * cols, hgt: cell * rows };
  }

  #draw(): void {
    const { cell, w, hgt } = this.#geometry();
    const dpr = devicePixelRatio || 1;
    const cv = this.#canvas;
    // Resizing a canvas (and restyling it) is costly and forces a layout: only when the size changes.
    const pw = Math.round(w * dpr);
    const ph = Math.round(hgt * dpr);
    if (cv.width !== pw || cv.height !== ph) {
      cv.width = pw;
      cv.height = ph;
    }
    if (cv.style.width !== `${w}px`) cv.style.width = `${w}px`;
    if (cv.style.height !== `${hgt}px`) cv.style.height = `${hgt}px`;
    const ctx = cv.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, pw, ph);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const map = this.#opts.map ?? 'sequential';
    const [lo, hi] = this.#range;
    if (this.#rows > 0 && this.#cols > 0) {
      // One pixel per cell, scaled up without smoothing: far cheaper than a fillRect per cell.
      const img = new ImageData(this.#cols, this.#rows);
      for (let i = 0; i < this.#rows * this.#cols; ++i) {
        const [cr, cg, cb] = colorOf(this.#values[i]!, lo, hi, map);
        img.data[4 * i] = cr;
        img.data[4 * i + 1] = cg;
        img.data[4 * i + 2] = cb;
        img.data[4 * i + 3] = 255;
      }
      const small = (this.#cells ??= document.createElement('canvas'));
      small.width = this.#cols;
      small.height = this.#rows;
      small.getContext('2d')?.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(small, 0, 0, w, hgt);
    }
    if (this.#cols <= (this.#opts.numbersUpTo ?? 10) && cell >= 26) {
      ctx.font = `${Math.min(13, cell / 4.2)}px sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      for (let r = 0; r < this.#rows; ++r)
        for (let c = 0; c < this.#cols; ++c) {
          const v = this.#values[r * this.#cols + c]!;
          const [cr, cg, cb] = colorOf(v, lo, hi, map);
          ctx.fillStyle = cr * 0.299 + cg * 0.587 + cb * 0.114 > 140 ? '#111' : '#fff';
          ctx.fillText(short(v), c * cell + cell / 2, r * cell + cell / 2);
        }
    }
    this.#drawBar(lo, hi, map);
    // :focus, not document.activeElement, which is the host element when the map sits in a shadow root.
    if (this.#canvas.matches(':focus') && this.#rows > 0 && this.#cols > 0) {
      const [fr, fc] = this.#focus;
      ctx.lineWidth = 2;
      ctx.strokeStyle = palette(this.#host).fg;
      ctx.strokeRect(fc * cell + 1, fr * cell + 1, Math.max(1, cell - 2), Math.max(1, cell - 2));
      this.#readCell(fr, fc);
    } else {
      this.#readout.textContent = `${this.#rows} × ${this.#cols} · ${short(lo)} … ${short(hi)}`;
    }
  }

  // The bar's ends are the values of its end colours: a diverging map is centred on zero.
  #drawBar(lo: number, hi: number, map: ColorMapName): void {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    const [a, b] = map === 'diverging' ? [-m, m] : [lo, hi];
    const key = `${a},${b},${map}`;
    if (this.#bar.key === key) return;
    this.#bar.key = key;
    this.#bar.lo.textContent = short(a);
    this.#bar.hi.textContent = short(b);
    const stops = Array.from(
      { length: 9 },
      (_, i) => `${rgb(colorOf(a + ((b - a) * i) / 8, lo, hi, map))} ${i * 12.5}%`,
    );
    this.#bar.strip.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
  }

  #readCell(r: number, c: number): void {
    const v = this.#values[r * this.#cols + c]!;
    const rl = this.#opts.rowLabel ?? 'row';
    const cl = this.#opts.colLabel ?? 'col';
    this.#readout.textContent = `${rl} ${r}, ${cl} ${c}: ${short(v)}`;
  }

  #key(e: KeyboardEvent): void {
    if (this.#rows === 0 || this.#cols === 0) return;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const m = moves[e.key];
    const [r, c] = this.#focus;
    if (m) {
      e.preventDefault();
      this.#focus = [Math.min(this.#rows - 1, Math.max(0, r + m[0])), Math.min(this.#cols - 1, Math.max(0, c + m[1]))];
      this.#draw();
    } else if ((e.key === 'Enter' || e.key === ' ') && this.#opts.onCell) {
      e.preventDefault();
      this.#opts.onCell(r, c);
    }
  }

  #cellAt(e: MouseEvent): [number, number] | null {
    const rect = this.#canvas.getBoundingClientRect();
    const { cell } = this.#geometry();
    const c = Math.floor((e.clientX - rect.left) / cell);
    const r = Math.floor((e.clientY - rect.top) / cell);
    return r >= 0 && r < this.#rows && c >= 0 && c < this.#cols ? [r, c] : null;
  }

  #hover(e: MouseEvent): void {
    const c = this.#cellAt(e);
    if (c) this.#readCell(c[0], c[1]);
  }
}
