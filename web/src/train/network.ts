// The network as TF Playground draws it, with the engine's numbers: a column
// of feature maps, one column per hidden layer with every neuron's own output
// over the plane, the output units, and links whose colour is the weight's
// sign and whose width its size. Hover a link or neuron to read its weight or
// bias; click to edit it (the page sends the value to the worker).
import { h } from '../ui/dom.js';
import { followSize } from '../ui/plots/canvas.js';
import { colorRamp, divergingIndex } from '../ui/plots/colormap.js';
import { CLASS_COLORS } from './boundary.js';

/** Most neurons drawn per layer (the rest are summarised). */
export const MAX_SHOWN = 16;
const NODE = 34;
const GAP = 8;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** One column: its title, its units, and its maps (units × nx², or null). */
export interface Column {
  title: string;
  units: number;
  maps: ArrayLike<number> | null;
  /** The parameters feeding this column (null for the inputs). */
  weight: string | null;
  bias: string | null;
}

/** What the diagram draws. */
export interface NetworkData {
  nx: number;
  columns: Column[];
  /** Every parameter's values by name. */
  parameters: Record<string, { data: ArrayLike<number>; shape: number[] }> | null;
  /** Output units' colours: classes (true) or a regression value (false). */
  classes: boolean;
}

/** A weight or bias picked by a click. */
export interface Picked {
  name: string;
  index: number;
  value: number;
  /** e.g. 'layers.0.weight[3, 1]'. */
  label: string;
}

/** The network diagram. */
export class NetworkDiagram {
  readonly root: HTMLElement;
  readonly #onPick: (p: Picked) => void;
  #shape = '';
  #svg: SVGSVGElement | null = null;
  #canvases: HTMLCanvasElement[][] = [];
  #lines: {
    el: SVGLineElement;
    title: SVGTitleElement;
    col: number;
    from: number;
    to: number;
    name: string;
    index: number;
  }[] = [];
  #data: NetworkData | null = null;
  readonly #stopResize: () => void;

  /**
   * @param parent - where it goes
   * @param onPick - a link or neuron was clicked
   */
  constructor(parent: HTMLElement, onPick: (p: Picked) => void) {
    this.root = h('div', { class: 'train-net', 'data-testid': 'train-net' });
    parent.append(this.root);
    this.#onPick = onPick;
    this.#stopResize = followSize(this.root, () => this.#place());
  }

  destroy(): void {
    this.#stopResize();
  }

  reset(): void {
    this.#shape = '';
    this.root.replaceChildren();
  }

  /** Draws the numbers (rebuilds the layout when the columns change). */
  update(d: NetworkData): void {
    const shape = JSON.stringify(d.columns.map((c) => [c.title, c.units]));
    if (shape !== this.#shape) {
      this.#layout(d, shape);
      this.#makeLines(d);
      this.#place();
    }
    this.#links(d);
    d.columns.forEach((c, j) => {
      if (!c.maps) return;
      this.#canvases[j]!.forEach((cv, u) => paintMap(cv, c.maps!, d.nx, u, c.units));
    });
  }

  #layout(d: NetworkData, shape: string): void {
    this.#shape = shape;
    const rows = Math.max(...d.columns.map((c) => Math.min(c.units, MAX_SHOWN)));
    const height = rows * (NODE + GAP) + 24;
    this.#svg = document.createElementNS(SVG_NS, 'svg');
    this.#svg.setAttribute('class', 'train-links');
    this.#canvases = [];
    const cols = d.columns.map((c, j) => {
      const shown = Math.min(c.units, MAX_SHOWN);
      const nodes = Array.from({ length: shown }, (_, u) => {
        const cv = h('canvas', { class: 'train-neuron', width: d.nx, height: d.nx, tabindex: c.bias ? 0 : undefined });
        cv.dataset.col = String(j);
        cv.dataset.unit = String(u);
        if (c.bias) {
          const pick = () => this.#pick(c.bias!, u, `${c.bias}[${u}]`);
          cv.addEventListener('click', pick);
          cv.addEventListener('keydown', (e) => e.key === 'Enter' && pick());
        }
        return cv;
      });
      this.#canvases.push(nodes);
      const more = c.units > shown ? h('span', { class: 'train-more', text: `+${c.units - shown}` }) : null;
      return h('div', { class: 'train-col' }, h('span', { class: 'train-col-title', text: c.title }), ...nodes, more);
    });
    const row = h('div', { class: 'train-cols', style: `min-height:${height}px` }, ...cols);
    this.root.replaceChildren(this.#svg, row);
  }

  // Lines from each drawn unit to the next column's, by weight sign and size.
  // One line per pair of drawn units, made once per layout; placed when the box changes.
  #makeLines(d: NetworkData): void {
    this.#lines = [];
    d.columns.forEach((c, j) => {
      if (!c.weight || j === 0) return;
      const inW = d.columns[j - 1]!.units;
      this.#canvases[j]!.forEach((_, o) =>
        this.#canvases[j - 1]!.forEach((_, i) => {
          const el = document.createElementNS(SVG_NS, 'line');
          const title = document.createElementNS(SVG_NS, 'title');
          el.append(title);
          const link = { el, title, col: j, from: i, to: o, name: c.weight!, index: o * inW + i };
          el.addEventListener('click', () => this.#pick(link.name, link.index, `${link.name}[${o}, ${i}]`));
          this.#lines.push(link);
        }),
      );
    });
    this.#svg!.replaceChildren(...this.#lines.map((l) => l.el));
  }

  // Reads every unit's position (one layout) and moves the lines' ends there.
  #place(): void {
    const svg = this.#svg;
    if (!svg || !this.root.isConnected) return;
    const box = this.root.getBoundingClientRect();
    const at = this.#canvases.map((col) =>
      col.map((cv) => {
        const r = cv.getBoundingClientRect();
        return { l: r.left - box.left, r: r.right - box.left, y: r.top + r.height / 2 - box.top };
      }),
    );
    svg.setAttribute('width', String(box.width));
    svg.setAttribute('height', String(box.height));
    for (const l of this.#lines) {
      const a = at[l.col - 1]![l.from]!;
      const b = at[l.col]![l.to]!;
      l.el.setAttribute('x1', String(a.r));
      l.el.setAttribute('y1', String(a.y));
      l.el.setAttribute('x2', String(b.l));
      l.el.setAttribute('y2', String(b.y));
    }
  }

  // Colour by sign, width by size, hover text: attributes only, no layout read.
  #links(d: NetworkData): void {
    this.#data = d;
    let max = 0;
    for (const c of d.columns) {
      const w = c.weight ? d.parameters?.[c.weight] : undefined;
      if (w) for (let i = 0; i < w.data.length; ++i) max = Math.max(max, Math.abs(w.data[i]!));
    }
    for (const l of this.#lines) {
      const v = d.parameters?.[l.name]?.data[l.index];
      if (v === undefined) continue;
      l.el.setAttribute('class', v >= 0 ? 'pos' : 'neg');
      l.el.setAttribute('stroke-width', (0.5 + (4 * Math.abs(v)) / (max || 1)).toFixed(2));
      l.title.textContent = `${l.name}[${l.to}, ${l.from}] = ${v.toPrecision(4)}`;
    }
    d.columns.forEach((c, j) => {
      const bias = c.bias ? d.parameters?.[c.bias] : undefined;
      if (bias) this.#canvases[j]!.forEach((cv, u) => (cv.title = `${c.bias}[${u}] = ${bias.data[u]!.toPrecision(4)}`));
    });
    // Output units: their class colour (or a neutral one) when there is no map.
    const last = d.columns.at(-1);
    if (last && !last.maps)
      this.#canvases.at(-1)!.forEach((cv, u) => {
        const g = cv.getContext('2d');
        if (!g) return;
        const c = d.classes ? CLASS_COLORS[u % CLASS_COLORS.length]! : [128, 128, 128];
        g.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
        g.fillRect(0, 0, cv.width, cv.height);
      });
  }

  #pick(name: string, index: number, label: string): void {
    const p = this.#data?.parameters?.[name];
    if (p) this.#onPick({ name, index, value: p.data[index]!, label });
  }
}
/** Paints unit `u` of maps laid out [nx², units] on a diverging scale of its own largest magnitude. */
export function paintMap(cv: HTMLCanvasElement, maps: ArrayLike<number>, nx: number, u: number, units: number): void {
  const g = cv.getContext('2d');
  if (!g) return;
  let m = 0;
  for (let i = 0; i < nx * nx; ++i) m = Math.max(m, Math.abs(maps[i * units + u]!));
  m ||= 1;
  const ramp = colorRamp('diverging');
  const img = new ImageData(nx, nx);
  const px = img.data;
  for (let r = 0; r < nx; ++r)
    for (let c = 0; c < nx; ++c) {
      const k = 4 * divergingIndex(maps[(r * nx + c) * units + u]!, m);
      const at = ((nx - 1 - r) * nx + c) * 4;
      // A non-finite value (k < 0) is grey.
      px[at] = k < 0 ? 128 : ramp[k]!;
      px[at + 1] = k < 0 ? 128 : ramp[k + 1]!;
      px[at + 2] = k < 0 ? 128 : ramp[k + 2]!;
      px[at + 3] = 255;
    }
  g.putImageData(img, 0, 0);
}
