// The input plane of the training page: the model's decision (or regression)
// map over the plane as a heatmap, the training and test points, and the
// gradient arrows ∂loss/∂(x₁, x₂) at the test points. Clicks report their
// plane position (to add or remove points). The numbers come from the engine;
// this only paints them.
import { colorOf } from '../ui/plots/colormap.js';
import { canvasToPng, followSize } from '../ui/plots/canvas.js';
import type { Exportable } from '../ui/plots/figure.js';
import { palette, onThemeChange } from '../ui/theme.js';

/** Class colours (TF Playground's orange and blue first). */
export const CLASS_COLORS: [number, number, number][] = [
  [245, 147, 34],
  [8, 119, 189],
  [46, 160, 67],
  [170, 60, 190],
  [200, 40, 60],
];

/** What the plane shows. */
export interface BoundaryData {
  /** Grid side (nx × nx samples over [-d, d]², rows from y = -d up). */
  nx: number;
  /**
   * Per grid sample: class probabilities (classes > 0, `classes` values a
   * sample) or the regression output (classes = 0, one value).
   */
  grid: ArrayLike<number> | null;
  classes: number;
  /** [n, 2] points and their labels. */
  train: { points: ArrayLike<number>; labels: ArrayLike<number> };
  test: { points: ArrayLike<number>; labels: ArrayLike<number> } | null;
  /** [test rows, 2]: ∂loss/∂(x₁, x₂) at each test point. */
  arrows: ArrayLike<number> | null;
  discretize: boolean;
}

/** Colour of a regression value (diverging, -1 … 1). */
function valueColor(v: number): [number, number, number] {
  return colorOf(v, -1, 1, 'diverging');
}

/** The input plane. */
export class BoundaryPlot implements Exportable {
  readonly root: HTMLElement;
  readonly #canvas: HTMLCanvasElement;
  readonly #domain: number;
  #data: BoundaryData | null = null;
  #side = 300;
  #pal: ReturnType<typeof palette> | null = null;
  readonly #stop: () => void;
  readonly #unTheme: () => void;

  /**
   * @param host - where it goes
   * @param domain - half the side of the plane
   * @param label - accessible name
   * @param onClick - called with a click's plane position
   */
  constructor(host: HTMLElement, domain: number, label: string, onClick: (x: number, y: number) => void) {
    this.#domain = domain;
    this.#canvas = document.createElement('canvas');
    this.#canvas.className = 'train-plane';
    this.#canvas.setAttribute('role', 'img');
    this.#canvas.setAttribute('aria-label', label);
    this.#canvas.setAttribute('data-testid', 'train-plane');
    this.root = host;
    host.append(this.#canvas);
    this.#canvas.addEventListener('click', (e) => {
      const r = this.#canvas.getBoundingClientRect();
      const x = ((e.clientX - r.left) / r.width) * 2 * domain - domain;
      const y = domain - ((e.clientY - r.top) / r.height) * 2 * domain;
      onClick(x, y);
    });
    this.#stop = followSize(host, () => this.#measure());
    this.#unTheme = onThemeChange(() => this.#measure());
  }

  /** Redraws with new numbers. */
  update(data: BoundaryData): void {
    this.#data = data;
    this.#draw();
  }

  reset(): void {
    this.#data = null;
    this.#draw();
  }

  destroy(): void {
    this.#stop();
    this.#unTheme();
  }

  toPng(): Promise<Blob> {
    return canvasToPng(this.#canvas);
  }

  toSvg(title: string): string {
    const w = this.#canvas.width;
    const esc = title.replace(/[<&>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${w + 24}">` +
      `<text x="4" y="16" font-family="sans-serif" font-size="14">${esc}</text>` +
      `<image y="24" width="${w}" height="${w}" href="${this.#canvas.toDataURL('image/png')}"/></svg>`
    );
  }

  // The size and colours, read only when the box or the theme changes (a read forces a layout).
  #measure(): void {
    this.#side = Math.max(120, Math.round(this.root.clientWidth || 300));
    this.#pal = palette(this.root);
    this.#draw();
  }

  #draw(): void {
    if (!this.#pal) return this.#measure();
    const side = this.#side;
    const pal = this.#pal;
    const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
    const px = Math.round(side * dpr);
    if (this.#canvas.width !== px) {
      this.#canvas.width = px;
      this.#canvas.height = px;
    }
    const g = this.#canvas.getContext('2d');
    if (!g) return;
    g.fillStyle = pal.bg;
    g.fillRect(0, 0, px, px);
    const d = this.#data;
    if (!d) return;
    if (d.grid) this.#field(g, d, px);
    const toX = (x: number) => ((x + this.#domain) / (2 * this.#domain)) * px;
    const toY = (y: number) => ((this.#domain - y) / (2 * this.#domain)) * px;
    const r = Math.max(2.5, px / 110);
    const dot = (set: BoundaryData['train'], ring: boolean) => {
      for (let i = 0; i < set.labels.length; ++i) {
        const v = set.labels[i]!;
        const c = d.classes > 0 ? CLASS_COLORS[v % CLASS_COLORS.length]! : valueColor(v);
        g.beginPath();
        g.arc(toX(set.points[2 * i]!), toY(set.points[2 * i + 1]!), r, 0, 2 * Math.PI);
        g.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
        g.fill();
        g.lineWidth = ring ? 2 * dpr : 1;
        g.strokeStyle = ring ? pal.fg : 'rgba(255,255,255,0.9)';
        g.stroke();
      }
    };
    dot(d.train, false);
    if (d.test) dot(d.test, true);
    if (d.arrows && d.test) this.#arrows(g, d.test.points, d.arrows, toX, toY, px, pal.fg);
  }

  // Each grid sample a cell: the mix of class colours by probability, or the
  // winning class's colour when discretized; regression by value.
  #field(g: CanvasRenderingContext2D, d: BoundaryData, px: number): void {
    const n = d.nx;
    const img = new ImageData(n, n);
    const k = Math.max(1, d.classes);
    for (let r = 0; r < n; ++r)
      for (let c = 0; c < n; ++c) {
        const i = r * n + c;
        let rgb: [number, number, number];
        if (d.classes > 0) {
          rgb = [0, 0, 0];
          let best = 0;
          for (let j = 1; j < k; ++j) if (d.grid![i * k + j]! > d.grid![i * k + best]!) best = j;
          for (let j = 0; j < k; ++j) {
            const p = d.discretize ? (j === best ? 1 : 0) : d.grid![i * k + j]!;
            const col = CLASS_COLORS[j % CLASS_COLORS.length]!;
            rgb[0] += p * col[0];
            rgb[1] += p * col[1];
            rgb[2] += p * col[2];
          }
        } else {
          const v = d.grid![i]!;
          rgb = valueColor(d.discretize ? Math.sign(v) : v);
        }
        // Rows run from y = -d up: the image's first row is the top (y = +d).
        const at = ((n - 1 - r) * n + c) * 4;
        img.data[at] = rgb[0];
        img.data[at + 1] = rgb[1];
        img.data[at + 2] = rgb[2];
        img.data[at + 3] = 150;
      }
    const tmp = document.createElement('canvas');
    tmp.width = n;
    tmp.height = n;
    tmp.getContext('2d')!.putImageData(img, 0, 0);
    g.imageSmoothingEnabled = true;
    g.drawImage(tmp, 0, 0, px, px);
  }

  // Arrows against the gradient (the way a point would move to lower the
  // loss), scaled so the longest is a tenth of the plane.
  #arrows(
    g: CanvasRenderingContext2D,
    pts: ArrayLike<number>,
    grad: ArrayLike<number>,
    toX: (x: number) => number,
    toY: (y: number) => number,
    px: number,
    color: string,
  ): void {
    let max = 0;
    for (let i = 0; i < grad.length / 2; ++i) max = Math.max(max, Math.hypot(grad[2 * i]!, grad[2 * i + 1]!));
    if (!(max > 0)) return;
    const scale = (0.1 * 2 * this.#domain) / max;
    g.strokeStyle = color;
    g.lineWidth = Math.max(1, px / 400);
    for (let i = 0; i < grad.length / 2; ++i) {
      const x0 = pts[2 * i]!;
      const y0 = pts[2 * i + 1]!;
      const x1 = x0 - grad[2 * i]! * scale;
      const y1 = y0 - grad[2 * i + 1]! * scale;
      const [ax, ay, bx, by] = [toX(x0), toY(y0), toX(x1), toY(y1)];
      const len = Math.hypot(bx - ax, by - ay);
      if (len < 1) continue;
      const ux = (bx - ax) / len;
      const uy = (by - ay) / len;
      const head = Math.min(6, len / 2);
      g.beginPath();
      g.moveTo(ax, ay);
      g.lineTo(bx, by);
      g.lineTo(bx - head * (ux - 0.5 * uy), by - head * (uy + 0.5 * ux));
      g.moveTo(bx, by);
      g.lineTo(bx - head * (ux + 0.5 * uy), by - head * (uy - 0.5 * ux));
      g.stroke();
    }
  }
}
