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

/** The predictions' views. */
export class MnistView {
  readonly root: HTMLElement;
  readonly #samples: HTMLElement;
  readonly #wrong: HTMLElement;
  readonly #matrix: HTMLElement;
  readonly #t: TrainLabels;
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
   * Draws the test predictions.
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
    const cm = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    for (let r = 0; r < rows; ++r) ++cm[d.labels[first + r]!]![pred[r]!]!;
    this.confusion = cm;
    const tile = (r: number) => {
      const cv = h('canvas', { width: d.side, height: d.side, class: 'digit' });
      const g = cv.getContext('2d');
      if (g) {
        const img = new ImageData(d.side, d.side);
        const px = d.side * d.side;
        for (let i = 0; i < px; ++i) {
          const v = 255 - d.pixels[(first + r) * px + i]!;
          img.data.set([v, v, v, 255], 4 * i);
        }
        g.putImageData(img, 0, 0);
      }
      const ok = pred[r] === d.labels[first + r];
      return h(
        'span',
        { class: `digit-tile ${ok ? 'ok' : 'bad'}` },
        cv,
        h('span', { text: ok ? `${pred[r]}` : `${pred[r]} (${d.labels[first + r]})` }),
      );
    };
    this.#samples.replaceChildren(...Array.from({ length: Math.min(SHOWN, rows) }, (_, r) => tile(r)));
    const wrong: number[] = [];
    for (let r = 0; r < rows && wrong.length < SHOWN; ++r) if (pred[r] !== d.labels[first + r]) wrong.push(r);
    this.#wrong.replaceChildren(
      ...(wrong.length ? wrong.map(tile) : [h('p', { class: 'muted', text: this.#t.noWrong })]),
    );
    const max = Math.max(1, ...cm.flat());
    this.#matrix.replaceChildren(
      h(
        'table',
        { class: 'confusion', 'data-testid': 'train-confusion-table' },
        h('tr', {}, h('th', { text: '' }), ...cm.map((_, j) => h('th', { text: String(j) }))),
        ...cm.map((row, i) =>
          h(
            'tr',
            {},
            h('th', { text: String(i) }),
            ...row.map((v, j) =>
              h('td', {
                text: String(v),
                class: i === j ? 'diag' : v ? 'off' : '',
                style: `--w:${(v / max).toFixed(3)}`,
              }),
            ),
          ),
        ),
      ),
    );
  }
}
