// Turns an op into plottable curves: one value-and-gradient call over the
// whole x grid, never one call per point. No DOM here; the engine does all
// the math, this file only lays out inputs and picks outputs.
import type { Dlmath, OpId, OpMeta, Params, Result } from '../engine/index.js';

/** How an op is plotted against a scalar x. */
export type PlotMode =
  /** y = f(x) pointwise */
  | 'elementwise'
  /** a row [x, r1, r2, ...]; y = output[0], y' = d output[0] / dx */
  | 'rowwise'
  /** the first input varies, the others are filled with constants */
  | 'general';

/** Everything besides x that the curves depend on. */
export interface Setup {
  params: Params;
  /** Row-wise: the fixed entries after x. */
  row: number[];
  /** General: constant fill of each extra input. */
  inputs: Record<string, number>;
}

/** f and f' sampled at the float32 grid x (what the engine actually saw). */
export interface Curves {
  x: Float32Array;
  f: Float32Array;
  df: Float32Array;
  /** The inputs of the two engine calls (and the gradient's upstream), for the record. */
  call: { inputs: AnyInputs; upstream?: { shape: number[]; data: Float32Array }; stride: { f: number; df: number } };
}

/** PyTorch's initial PReLU slope; a small non-zero fill for any extra input. */
export const EXTRA_INPUT_DEFAULT = 0.25;

/**
 * How an op would be plotted, from its metadata alone (null: not at all).
 * @param op - registry metadata
 */
export function plotMode(op: OpMeta): PlotMode | null {
  if (op.inputs.length === 0 || !op.inputs[0]!.differentiable) return null;
  if (op.form === 'elementwise' && op.inputs.length === 1) return 'elementwise';
  if (op.form === 'rowwise' && op.inputs.length === 1) return 'rowwise';
  return 'general';
}

/** Inputs other than the varied first one (general ops). */
export function extraInputs(op: OpMeta): string[] {
  return op.inputs.slice(1).map((i) => i.name);
}

export type AnyInputs = Record<string, { shape: number[]; data: Float32Array }>;

// f and the gradient with respect to the first input, from one engine call
// (one forward pass).
function valueAndGrad(
  dl: Dlmath,
  op: OpMeta,
  inputs: AnyInputs,
  params: Params,
  upstream?: { shape: number[]; data: Float32Array },
): { y: Result; g: Result } {
  const { value, grads } = dl.evalWithGrad(op.id as OpId, inputs as never, params as never, upstream);
  const name = op.inputs[0]!.name;
  const g = (grads as Record<string, Result>)[name];
  if (!g) throw new Error(`op '${op.id}': the engine returned no gradient for input '${name}'`);
  return { y: value, g };
}

function column(data: Float32Array, rows: number, stride: number): Float32Array {
  if (stride === 1) return data;
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; ++i) out[i] = data[i * stride]!;
  return out;
}

/**
 * Samples f and f' of an op over the grid `xs` with one engine call.
 * Throws the engine's DlmathError on bad params or shapes.
 * @param dl - the engine
 * @param op - registry metadata
 * @param mode - from {@link plotMode}
 * @param xs - the x grid (float32)
 * @param setup - params, row entries, extra input fills
 */
export function sampleCurves(dl: Dlmath, op: OpMeta, mode: PlotMode, xs: Float32Array, setup: Setup): Curves {
  const n = xs.length;
  const name = op.inputs[0]!.name;
  if (mode === 'elementwise') {
    const inputs = { [name]: { shape: [n], data: xs } };
    const { y, g } = valueAndGrad(dl, op, inputs, setup.params);
    return { x: xs, f: y.data, df: g.data, call: { inputs, stride: { f: 1, df: 1 } } };
  }
  if (mode === 'rowwise') {
    const w = 1 + setup.row.length;
    const rows = new Float32Array(n * w);
    for (let i = 0; i < n; ++i) {
      rows[i * w] = xs[i]!;
      rows.set(setup.row, i * w + 1);
    }
    const inputs = { [name]: { shape: [n, w], data: rows } };
    // The output row is as wide as the input ('same'), half of it ('half') or
    // a scalar ('drop'); output[0] is the first entry of each row either way.
    const outW = op.rowOut === 'same' ? w : op.rowOut === 'half' ? Math.floor(w / 2) : 1;
    const oneHot = new Float32Array(n * outW);
    for (let i = 0; i < n; ++i) oneHot[i * outW] = 1;
    const upstream = { shape: op.rowOut === 'drop' ? [n] : [n, outW], data: oneHot };
    const { y, g } = valueAndGrad(dl, op, inputs, setup.params, upstream);
    return {
      x: xs,
      f: column(y.data, n, outW),
      df: column(g.data, n, w),
      call: { inputs, upstream, stride: { f: outW, df: w } },
    };
  }
  // General: x is [n, 1, ...] in the rank of the sample, every other input
  // has all-ones dims (broadcast-free, so any channel rule is met) and a
  // constant fill; the output must then hold one value per grid point.
  const shapes = new Map(op.sampleInputs.map((si) => [si.name, si.shape]));
  const inputs: AnyInputs = {};
  const rank0 = shapes.get(name)?.length ?? 1;
  inputs[name] = { shape: [n, ...Array<number>(Math.max(rank0, 1) - 1).fill(1)], data: xs };
  for (const extra of extraInputs(op)) {
    const shape = (shapes.get(extra) ?? [1]).map(() => 1);
    inputs[extra] = { shape, data: new Float32Array(1).fill(setup.inputs[extra] ?? EXTRA_INPUT_DEFAULT) };
  }
  const { y, g } = valueAndGrad(dl, op, inputs, setup.params);
  if (y.data.length !== n)
    throw new Error(
      `op '${op.id}' gives ${y.data.length} outputs for ${n} grid points; it cannot be plotted against x`,
    );
  return { x: xs, f: y.data, df: g.data, call: { inputs, stride: { f: 1, df: 1 } } };
}

/**
 * The x grid: `n` evenly spaced float32 points from xmin to xmax.
 * @param xmin - first point
 * @param xmax - last point
 * @param n - number of points (at least 2)
 */
export function grid(xmin: number, xmax: number, n: number): Float32Array {
  const xs = new Float32Array(n);
  for (let i = 0; i < n; ++i) xs[i] = xmin + ((xmax - xmin) * i) / (n - 1);
  return xs;
}
