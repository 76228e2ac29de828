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

/** A growing Float32Array. */
class Column {
  data = new Float32Array(1024);
  length = 0;
  push(values: ArrayLike<number>): void {
    if (this.length + values.length > this.data.length) {
      const grown = new Float32Array(Math.max(this.data.length * 2, this.length + values.length));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
  view(): Float32Array {
    return this.data.subarray(0, this.length);
  }
}

/** Training history since the last reset. */
export class History {
  readonly #loss = new Column();
  readonly #lr = new Column();
  /** Step number of the first streamed loss (steps before it were not streamed, e.g. a carried-over model). */
  firstStep = 0;
  evals: EvalPoint[] = [];
  /** Completed epochs, numbered across fits (a fit resumed after a pause counts on). */
  epochs: EpochStats[] = [];
  #epochBase = 0;
  layers: LayerPoint[] = [];

  /** Forgets everything (a new model). */
  reset(): void {
    this.#loss.length = 0;
    this.#lr.length = 0;
    this.firstStep = 0;
    this.evals = [];
    this.epochs = [];
    this.#epochBase = 0;
    this.layers = [];
  }

  /** A new fit starts: its epochs, numbered from 1, follow those recorded. */
  beginFit(): void {
    this.#epochBase = this.epochs.at(-1)?.epoch ?? 0;
  }

  /**
   * Adds completed epochs of the current fit (a progress message's last one, or the fit's whole
   * list when it ends), keeping those already there.
   * @param list - epochs numbered from 1 in this fit
   */
  addEpochs(list: readonly EpochStats[]): void {
    const last = this.epochs.at(-1)?.epoch ?? 0;
    const numbered = list.map((e) => ({ ...e, epoch: e.epoch + this.#epochBase }));
    // A progress message's epoch is the newest: appended. A fit's whole list fills the gaps once.
    if (numbered.every((e) => e.epoch > last)) return void this.epochs.push(...numbered);
    const have = new Set(this.epochs.map((e) => e.epoch));
    const fresh = numbered.filter((e) => !have.has(e.epoch));
    if (!fresh.length) return;
    this.epochs.push(...fresh);
    this.epochs.sort((a, b) => a.epoch - b.epoch);
  }

  /** The loss of every step, oldest first. */
  get losses(): Float32Array {
    return this.#loss.view();
  }

  /** The learning rate of every step. */
  get lrs(): Float32Array {
    return this.#lr.view();
  }

  /** Steps recorded. */
  get steps(): number {
    return this.#loss.length;
  }

  /**
   * Appends streamed steps.
   * @param losses - loss per step
   * @param lrs - learning rate per step
   */
  addSteps(losses: ArrayLike<number>, lrs: ArrayLike<number>): void {
    this.#loss.push(losses);
    this.#lr.push(lrs);
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
  }

  /** Adds an evaluation unless one at the same step is there. */
  addEval(p: EvalPoint): void {
    const last = this.evals.at(-1);
    if (last && last.step === p.step) this.evals[this.evals.length - 1] = p;
    else this.evals.push(p);
  }

  /**
   * Per-step rows as CSV: step, loss, lr, then the evaluation (and validation) where one was made.
   */
  toCsv(): string {
    const evalAt = new Map(this.evals.map((e) => [e.step, e]));
    const lines = ['step,loss,lr,train_loss,train_accuracy,test_loss,test_accuracy'];
    const losses = this.losses;
    const lrs = this.lrs;
    const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v));
    for (let i = 0; i < losses.length; ++i) {
      const step = this.firstStep + i + 1;
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
 */
export function thin(ys: ArrayLike<number>, x0: number, max: number): { x: Float32Array; y: Float32Array } {
  const k = Math.max(1, Math.ceil(ys.length / max));
  const n = Math.ceil(ys.length / k);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    x[i] = x0 + i * k;
    y[i] = ys[i * k]!;
  }
  return { x, y };
}
