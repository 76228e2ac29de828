// What training produced over time, as the engine reported it: the loss and
// learning rate of every step (streamed by the worker), evaluations of the
// train and test sets (snapshots), validation per epoch, and per-layer
// diagnostics sampled once per progress message (gradient norms, update
// ratios). The page plots these; CSV export writes them.
import type { EpochStats, ModelStats } from '../engine/index.js';

/** One evaluation of the model at a step. */
export interface EvalPoint {
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
}

/** Per-layer numbers at a step: the linear layers' gradient norms and update ratios. */
export interface LayerPoint {
  step: number;
  gradNorm: number[];
  updateRatio: number[];
}

/**
 * Rows kept per series before it thins: a page left training at 150k steps/s would otherwise grow
 * by ~1.2 MB of losses a second and redraw ever longer curves.
 */
export const HISTORY_ROWS = 1 << 20;
/** Points kept of the per-epoch, per-evaluation and per-layer lists before they thin. */
export const HISTORY_POINTS = 1 << 13;

/**
 * The loss and learning rate of every `stride`-th step: every step until `cap` rows are kept,
 * then every other kept row is dropped and the stride doubles, so a run of any length holds at
 * most `cap` rows, evenly spaced, row i being step first + i * stride.
 */
class StepLog {
  loss: Float32Array;
  lr: Float32Array;
  length = 0;
  stride = 1;
  /** Streamed steps to skip before the next kept one. */
  #skip = 0;
  /** @param cap - rows kept at most, even */
  constructor(readonly cap: number) {
    this.loss = new Float32Array(Math.min(1024, cap));
    this.lr = new Float32Array(Math.min(1024, cap));
  }

  push(losses: ArrayLike<number>, lrs: ArrayLike<number>): void {
    for (let i = 0; i < losses.length; ++i) {
      if (this.#skip > 0) {
        --this.#skip;
        continue;
      }
      if (this.length === this.loss.length) this.#makeRoom();
      this.loss[this.length] = losses[i]!;
      this.lr[this.length++] = lrs[i]!;
      this.#skip = this.stride - 1;
    }
  }

  clear(): void {
    this.length = 0;
    this.stride = 1;
    this.#skip = 0;
  }

  // Grows the arrays up to cap; at cap keeps rows 0, 2, 4 ... (cap is even, so the next row is
  // on the doubled grid).
  #makeRoom(): void {
    if (this.loss.length < this.cap) {
      const size = Math.min(this.cap, this.loss.length * 2);
      for (const key of ['loss', 'lr'] as const) {
        const grown = new Float32Array(size);
        grown.set(this[key]);
        this[key] = grown;
      }
      return;
    }
    const half = this.length >> 1;
    for (let i = 0; i < half; ++i) {
      this.loss[i] = this.loss[2 * i]!;
      this.lr[i] = this.lr[2 * i]!;
    }
    this.length = half;
    this.stride *= 2;
  }
}

/** Drops every other item of a list longer than `cap` (the newest stays), in place. */
function thinList<T>(list: T[], cap: number): void {
  if (list.length <= cap) return;
  const last = list.length - 1;
  let n = 0;
  for (let i = 0; i <= last; ++i) if (i % 2 === last % 2) list[n++] = list[i]!;
  list.length = n;
}

/**
 * Training history since the last reset. Series thin as they grow (every step's loss up to
 * HISTORY_ROWS rows, then every 2nd, 4th ... step; lists beyond HISTORY_POINTS drop every other
 * point): memory and drawing stay bounded however long the page trains.
 */
export class History {
  readonly #steps: StepLog;
  readonly #points: number;
  /** Step number of the first streamed loss (steps before it were not streamed, e.g. a carried-over model). */
  firstStep = 0;
  evals: EvalPoint[] = [];
  /** Completed epochs, numbered across fits (a fit resumed after a pause counts on). */
  epochs: EpochStats[] = [];
  #epochBase = 0;
  #epochsThinned = false;
  layers: LayerPoint[] = [];

  constructor({ rows = HISTORY_ROWS, points = HISTORY_POINTS } = {}) {
    this.#steps = new StepLog(rows + (rows % 2));
    this.#points = points;
  }

  /** Forgets everything (a new model). */
  reset(): void {
    this.#steps.clear();
    this.firstStep = 0;
    this.evals = [];
    this.epochs = [];
    this.#epochBase = 0;
    this.#epochsThinned = false;
    this.layers = [];
  }

  /** A new fit starts: its epochs, numbered from 1, follow those recorded. */
  beginFit(): void {
    this.#epochBase = this.epochs.at(-1)?.epoch ?? 0;
  }

  /**
   * Adds completed epochs of the current fit (a progress message's last one, or the end of the
   * fit's list when it ends), keeping those already there.
   * @param list - epochs numbered from 1 in this fit
   */
  addEpochs(list: readonly EpochStats[]): void {
    const last = this.epochs.at(-1)?.epoch ?? 0;
    const numbered = list.map((e) => ({ ...e, epoch: e.epoch + this.#epochBase }));
    // A progress message's epoch is the newest: appended. A fit's list fills the gaps between
    // messages, unless the list has thinned (then the kept points are the sample).
    if (numbered.every((e) => e.epoch > last)) this.epochs.push(...numbered);
    else if (!this.#epochsThinned) {
      const have = new Set(this.epochs.map((e) => e.epoch));
      const fresh = numbered.filter((e) => !have.has(e.epoch));
      if (!fresh.length) return;
      this.epochs.push(...fresh);
      this.epochs.sort((a, b) => a.epoch - b.epoch);
    }
    if (this.epochs.length > this.#points) this.#epochsThinned = true;
    thinList(this.epochs, this.#points);
  }

  /** The loss of every `stride`-th step, oldest first (row i: step firstStep + 1 + i * stride). */
  get losses(): Float32Array {
    return this.#steps.loss.subarray(0, this.#steps.length);
  }

  /** The learning rate of the same steps. */
  get lrs(): Float32Array {
    return this.#steps.lr.subarray(0, this.#steps.length);
  }

  /** Steps between two kept rows: 1 until the log has thinned. */
  get stride(): number {
    return this.#steps.stride;
  }

  /** The step of the newest kept row (0: none). */
  get lastStep(): number {
    const n = this.#steps.length;
    return n ? this.firstStep + 1 + (n - 1) * this.#steps.stride : 0;
  }

  /**
   * Appends streamed steps.
   * @param losses - loss per step
   * @param lrs - learning rate per step
   */
  addSteps(losses: ArrayLike<number>, lrs: ArrayLike<number>): void {
    this.#steps.push(losses, lrs);
  }

  /**
   * Samples the per-layer diagnostics of a step (linear layers only: they hold the weights).
   * @param stats - decoded diagnostics
   * @param linear - indices of the linear layers, in order
   */
  addLayers(stats: ModelStats, linear: readonly number[]): void {
    const last = this.layers.at(-1);
    if (last && last.step === stats.step) return;
    this.layers.push({
      step: stats.step,
      gradNorm: linear.map((i) => stats.layers[i]?.gradNorm ?? NaN),
      updateRatio: linear.map((i) => stats.layers[i]?.updateRatio ?? NaN),
    });
    thinList(this.layers, this.#points);
  }

  /** Adds an evaluation unless one at the same step is there. */
  addEval(p: EvalPoint): void {
    const last = this.evals.at(-1);
    if (last && last.step === p.step) this.evals[this.evals.length - 1] = p;
    else this.evals.push(p);
    thinList(this.evals, this.#points);
  }

  /**
   * Per-step rows as CSV: step, loss, lr, then the evaluation (and validation) where one was made.
   * Every step's row while the log holds them all; after a long run, every `stride`-th step's.
   */
  toCsv(): string {
    const evalAt = new Map(this.evals.map((e) => [e.step, e]));
    const lines = ['step,loss,lr,train_loss,train_accuracy,test_loss,test_accuracy'];
    const losses = this.losses;
    const lrs = this.lrs;
    const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v));
    for (let i = 0; i < losses.length; ++i) {
      const step = this.firstStep + 1 + i * this.stride;
      const e = evalAt.get(step);
      lines.push(
        [step, losses[i], lrs[i], e?.trainLoss, e?.trainAccuracy, e?.testLoss, e?.testAccuracy].map(num).join(','),
      );
    }
    return `${lines.join('\n')}\n`;
  }
}

/**
 * At most `max` evenly spaced points of a long series (every k-th value), with their x.
 * @param ys - the series
 * @param x0 - x of the first value
 * @param max - points kept
 * @param dx - x between two values of the series
 */
export function thin(ys: ArrayLike<number>, x0: number, max: number, dx = 1): { x: Float32Array; y: Float32Array } {
  const k = Math.max(1, Math.ceil(ys.length / max));
  const n = Math.ceil(ys.length / k);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    x[i] = x0 + i * k * dx;
    y[i] = ys[i * k]!;
  }
  return { x, y };
}
