// The network as TF Playground draws it, with the engine's numbers: a column
// of feature maps, one column per hidden layer with every neuron's own output
// over the plane, the output units, and links whose colour is the weight's
// sign and whose width its size. Hover a link or neuron to read its weight or
// bias; click to edit it (the page sends the value to the worker).
import { h } from '../ui/dom.js';
import { colorOf } from '../ui/plots/colormap.js';
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

  /**
   * @param parent - where it goes
   * @param onPick - a link or neuron was clicked
   */
  constructor(parent: HTMLElement, onPick: (p: Picked) => void) {
    this.root = h('div', { class: 'train-net', 'data-testid': 'train-net' });
    parent.append(this.root);
    this.#onPick = onPick;
  }

  reset(): void {
    this.#shape = '';
    this.root.replaceChildren();
  }

  /** Draws the numbers (rebuilds the layout when the columns change). */
  update(d: NetworkData): void {
    const shape = JSON.stringify(d.columns.map((c) => [c.title, c.units]));
    if (shape !== this.#shape) this.#layout(d, shape);
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
          const pick = () => this.#pick(c.bias!, u, `${c.bias}[${u}]`, d);
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
  #links(d: NetworkData): void {
    const svg = this.#svg;
    if (!svg) return;
    const box = this.root.getBoundingClientRect();
    svg.setAttribute('width', String(box.width));
    svg.setAttribute('height', String(box.height));
    svg.replaceChildren();
    const centre = (cv: HTMLCanvasElement, side: 'l' | 'r') => {
      const r = cv.getBoundingClientRect();
      return [(side === 'l' ? r.left : r.right) - box.left, r.top + r.height / 2 - box.top] as const;
    };
    let max = 0;
    for (const c of d.columns) {
      const w = c.weight ? d.parameters?.[c.weight] : undefined;
      if (w) for (let i = 0; i < w.data.length; ++i) max = Math.max(max, Math.abs(w.data[i]!));
    }
    d.columns.forEach((c, j) => {
      const w = c.weight ? d.parameters?.[c.weight] : undefined;
      if (!w || j === 0) return;
      const inW = w.shape[1]!;
      const from = this.#canvases[j - 1]!;
      const to = this.#canvases[j]!;
      to.forEach((b, o) =>
        from.forEach((a, i) => {
          const v = w.data[o * inW + i]!;
          const [x1, y1] = centre(a, 'r');
          const [x2, y2] = centre(b, 'l');
          const line = document.createElementNS(SVG_NS, 'line');
          line.setAttribute('x1', String(x1));
          line.setAttribute('y1', String(y1));
          line.setAttribute('x2', String(x2));
          line.setAttribute('y2', String(y2));
          line.setAttribute('class', v >= 0 ? 'pos' : 'neg');
          line.setAttribute('stroke-width', String(0.5 + (4 * Math.abs(v)) / (max || 1)));
          line.dataset.name = c.weight!;
          line.dataset.index = String(o * inW + i);
          const title = document.createElementNS(SVG_NS, 'title');
          title.textContent = `${c.weight}[${o}, ${i}] = ${v.toPrecision(4)}`;
          line.append(title);
          line.addEventListener('click', () => this.#pick(c.weight!, o * inW + i, `${c.weight}[${o}, ${i}]`, d));
          svg.append(line);
        }),
      );
      // Hover text of the biases.
      const bias = c.bias ? d.parameters?.[c.bias] : undefined;
      if (bias) to.forEach((cv, u) => (cv.title = `${c.bias}[${u}] = ${bias.data[u]!.toPrecision(4)}`));
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

  #pick(name: string, index: number, label: string, d: NetworkData): void {
    const p = d.parameters?.[name];
    if (p) this.#onPick({ name, index, value: p.data[index]!, label });
  }
}

/** Paints unit `u` of maps laid out [nx², units] on a diverging scale of its own largest magnitude. */
export function paintMap(cv: HTMLCanvasElement, maps: ArrayLike<number>, nx: number, u: number, units: number): void {
  const g = cv.getContext('2d');
  if (!g) return;
  let m = 0;
  for (let i = 0; i < nx * nx; ++i) m = Math.max(m, Math.abs(maps[i * units + u]!));
  const img = new ImageData(nx, nx);
  for (let r = 0; r < nx; ++r)
    for (let c = 0; c < nx; ++c) {
      const v = maps[(r * nx + c) * units + u]!;
      const [R, G, B] = colorOf(v, -m, m, 'diverging');
      const at = ((nx - 1 - r) * nx + c) * 4;
      img.data[at] = R;
      img.data[at + 1] = G;
      img.data[at + 2] = B;
      img.data[at + 3] = 255;
    }
  g.putImageData(img, 0, 0);
}
