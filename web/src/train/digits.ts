// Digits mode: the MNIST binary (scripts/mnist.mjs, served as mnist.bin next
// to the page) loaded only when chosen, its rows as the worker's inputs, and
// the views of the model's test predictions: sample digits with their
// predicted class, the misclassified ones, and the confusion matrix.
import { h } from '../ui/dom.js';
import type { Lang } from '../ui/i18n.js';
import { Figure } from '../ui/plots/figure.js';
import type { TrainLabels } from './labels.js';

const MAGIC = 'DLMN';
const SHOWN = 24;

/** Where the page finds the binary (the Vite plugin serves and emits it). */
export const MNIST_URL = 'mnist.bin';

/** The digits: labels and 8-bit pixels. */
export class Digits {
  readonly count: number;
  readonly side: number;
  readonly labels: Uint8Array;
  readonly pixels: Uint8Array;

  /**
   * @param buf - the binary's bytes
   * @throws Error when it is not the page's MNIST binary
   */
  constructor(buf: ArrayBuffer) {
    const v = new DataView(buf);
    const magic = String.fromCharCode(...new Uint8Array(buf, 0, Math.min(4, buf.byteLength)));
    if (magic !== MAGIC || v.getUint32(4, true) !== 1) throw new Error('mnist.bin: not a dlmath digits file');
    this.count = v.getUint32(8, true);
    this.side = v.getUint32(12, true);
    const px = this.side * this.side;
    if (buf.byteLength !== 20 + this.count * (1 + px)) throw new Error('mnist.bin: truncated');
    this.labels = new Uint8Array(buf, 20, this.count);
    this.pixels = new Uint8Array(buf, 20 + this.count, this.count * px);
  }

  /**
   * The first `trainShare` of the digits for training, the rest for testing (the file interleaves classes).
   * @returns rows of pixels in [0, 1] and class labels
   */
  prepare(trainShare: number): {
    inputs: number;
    classes: number;
    train: { x: Float32Array; y: Float32Array; rows: number };
    test: { x: Float32Array; y: Float32Array; rows: number };
  } {
    const px = this.side * this.side;
    const cut = Math.round(this.count * trainShare);
    const rows = (a: number, b: number) => {
      const x = new Float32Array((b - a) * px);
      for (let i = 0; i < x.length; ++i) x[i] = this.pixels[a * px + i]! / 255;
      return { x, y: Float32Array.from(this.labels.subarray(a, b)), rows: b - a };
    };
    return { inputs: px, classes: 10, train: rows(0, cut), test: rows(cut, this.count) };
  }
}

/** Fetches the digits (once per page visit; the browser caches the file). */
export async function loadDigits(url = MNIST_URL): Promise<Digits> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return new Digits(await r.arrayBuffer());
}

/** The predictions' views. Their DOM is built once; an update rewrites only the labels and cells that changed. */
export class MnistView {
  readonly root: HTMLElement;
  readonly #samples: HTMLElement;
  readonly #wrong: HTMLElement;
  readonly #matrix: HTMLElement;
  readonly #t: TrainLabels;
  /**
   * Digit images already drawn, by row of the file (a digit's pixels never change), one map per
   * grid: a misclassified sample shows in both, and a node sits in one place only.
   */
  readonly #images = { samples: new Map<number, HTMLCanvasElement>(), wrong: new Map<number, HTMLCanvasElement>() };
  #cells: HTMLTableCellElement[] = [];
  #last: { first: number; pred: Uint8Array } | null = null;
  #max = 0;
  /** The last confusion matrix (10 × 10, row = true digit), for tests. */
  confusion: number[][] = [];

  constructor(parent: HTMLElement, t: TrainLabels, lang: Lang) {
    this.#t = t;
    this.root = h('div', { class: 'train-digits', 'data-testid': 'train-digits', hidden: true });
    parent.append(this.root);
    const box = (title: string, testid: string) => {
      const f = new Figure(this.root, title, lang, testid);
      f.root.querySelector('.export-buttons')?.remove();
      const body = h('div', { class: 'digit-grid' });
      f.body.append(body);
      return body;
    };
    this.#samples = box(t.samples, 'train-samples');
    this.#wrong = box(t.wrong, 'train-wrong');
    this.#matrix = box(t.confusion, 'train-confusion');
  }

  show(on: boolean): void {
    this.root.hidden = !on;
  }

  /**
   * Draws the test predictions (nothing when they are the same as last time).
   * @param d - the digits
   * @param logits - the model's outputs on the test rows [rows, 10]
   * @param first - index of the first test digit in the file
   */
  update(d: Digits, logits: { data: Float32Array; shape: number[] }, first: number): void {
    const rows = logits.shape[0]!;
    const k = logits.shape[1]!;
    const pred = new Uint8Array(rows);
    for (let r = 0; r < rows; ++r) {
      let best = 0;
      for (let j = 1; j < k; ++j) if (logits.data[r * k + j]! > logits.data[r * k + best]!) best = j;
      pred[r] = best;
    }
    const last = this.#last;
    if (last?.first === first && last.pred.length === rows && last.pred.every((p, r) => p === pred[r])) return;
    this.#last = { first, pred };
    const cm = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    for (let r = 0; r < rows; ++r) ++cm[d.labels[first + r]!]![pred[r]!]!;
    this.confusion = cm;
    const tile = (grid: 'samples' | 'wrong') => (r: number) => {
      const ok = pred[r] === d.labels[first + r];
      return h(
        'span',
        { class: `digit-tile ${ok ? 'ok' : 'bad'}` },
        this.#image(this.#images[grid], d, first + r),
        h('span', { text: ok ? `${pred[r]}` : `${pred[r]} (${d.labels[first + r]})` }),
      );
    };
    this.#samples.replaceChildren(...Array.from({ length: Math.min(SHOWN, rows) }, (_, r) => tile('samples')(r)));
    const wrong: number[] = [];
    for (let r = 0; r < rows && wrong.length < SHOWN; ++r) if (pred[r] !== d.labels[first + r]) wrong.push(r);
    this.#wrong.replaceChildren(
      ...(wrong.length ? wrong.map(tile('wrong')) : [h('p', { class: 'muted', text: this.#t.noWrong })]),
    );
    this.#drawMatrix(cm);
  }

  // A digit's canvas, drawn once: dark ink on white.
  #image(cache: Map<number, HTMLCanvasElement>, d: Digits, row: number): HTMLCanvasElement {
    let cv = cache.get(row);
    if (cv) return cv;
    cv = h('canvas', { width: d.side, height: d.side, class: 'digit' });
    const g = cv.getContext('2d');
    if (g) {
      const px = d.side * d.side;
      const img = new ImageData(d.side, d.side);
      for (let i = 0; i < px; ++i) {
        const v = 255 - d.pixels[row * px + i]!;
        img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
        img.data[4 * i + 3] = 255;
      }
      g.putImageData(img, 0, 0);
    }
    // The samples and up to SHOWN misclassified digits are on screen; older ones are dropped.
    if (cache.size >= 8 * SHOWN) cache.clear();
    cache.set(row, cv);
    return cv;
  }

  // The confusion table: built once, then only its cells' numbers and shades change.
  #drawMatrix(cm: number[][]): void {
    if (!this.#cells.length) {
      const table = h(
        'table',
        { class: 'confusion', 'data-testid': 'train-confusion-table' },
        h('tr', {}, h('th', { text: '' }), ...cm.map((_, j) => h('th', { text: String(j) }))),
        ...cm.map((row, i) => h('tr', {}, h('th', { text: String(i) }), ...row.map(() => h('td', {})))),
      );
      this.#matrix.replaceChildren(table);
      this.#cells = [...table.querySelectorAll('td')];
    }
    const max = Math.max(1, ...cm.flat());
    const shades = max !== this.#max;
    this.#max = max;
    cm.forEach((row, i) =>
      row.forEach((v, j) => {
        const td = this.#cells[10 * i + j]!;
        const text = String(v);
        if (td.textContent === text && !shades) return;
        td.textContent = text;
        td.className = i === j ? 'diag' : v ? 'off' : '';
        td.style.setProperty('--w', (v / max).toFixed(3));
      }),
    );
  }
}
