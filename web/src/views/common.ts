// Small helpers shared by the distances, attention, graph, regression and
// normalization views: one engine call with its Shown record, a seeded input
// generator, and polyline shapes (arrows) for PlanePlot. The engine does the
// math; this file only lays out inputs and records what was called.
import type { Dlmath, EvalResult, OpId, Result } from '../engine/index.js';
import type { Shown } from './view.js';

/** An input as the engine sees it: float32 data and a shape. */
export interface F32Input {
  shape: number[];
  data: Float32Array;
}
export type F32Inputs = Record<string, F32Input>;
export type CallParams = Record<string, number>;

/** A float32 input from plain numbers. */
export function f32(shape: number[], data: ArrayLike<number>): F32Input {
  return { shape, data: Float32Array.from(data) };
}

/** dl.eval with a free-form id (the views pick ids at run time). */
export function evalCall(dl: Dlmath, id: string, inputs: F32Inputs, params: CallParams = {}): EvalResult {
  return dl.eval(id as OpId, inputs as never, params as never);
}

/** dl.grad with a free-form id. */
export function gradCall(
  dl: Dlmath,
  id: string,
  inputs: F32Inputs,
  params: CallParams = {},
  upstream?: F32Input,
): Record<string, Result> {
  return dl.grad(id as OpId, inputs as never, params as never, upstream) as Record<string, Result>;
}

/**
 * The Shown record of a call: its inputs copied as plain arrays.
 * @param values - the numbers drawn (the whole result, or the picked ones)
 */
export function record(
  label: string,
  id: string,
  inputs: F32Inputs,
  params: CallParams,
  what: string,
  values: ArrayLike<number>,
  extra: { pick?: number[]; upstream?: F32Input } = {},
): Shown {
  const ins: Shown['inputs'] = {};
  for (const [k, v] of Object.entries(inputs)) ins[k] = { shape: v.shape.slice(), data: Array.from(v.data) };
  const s: Shown = { label, id, inputs: ins, params: { ...params }, what, values: Array.from(values) };
  if (extra.pick) s.pick = extra.pick.slice();
  if (extra.upstream) s.upstream = { shape: extra.upstream.shape.slice(), data: Array.from(extra.upstream.data) };
  return s;
}

/** The entry's params as the shell holds them (missing ones at their defaults). */
export function entryParams(
  op: { params: readonly { name: string; default: number }[] },
  live: CallParams,
): CallParams {
  const p: CallParams = {};
  for (const q of op.params) p[q.name] = live[q.name] ?? q.default;
  return p;
}

/** A seeded generator of standard normal numbers (mulberry32 + Box–Muller), for example inputs. */
export function normals(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const uni = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const u = Math.max(1e-12, uni());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uni());
  };
}

/** An arrow from (x0, y0) to (x1, y1) as one polyline: shaft, then both wings of the head. */
export function arrow(x0: number, y0: number, x1: number, y1: number, head = 0.18): { xs: number[]; ys: number[] } {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len = Math.hypot(dx, dy);
  if (!(len > 0)) return { xs: [x0], ys: [y0] };
  const hl = Math.min(head, len * 0.4);
  const ux = dx / len;
  const uy = dy / len;
  const wing = (s: number) => [x1 - hl * (ux * 0.866 - s * uy * 0.5), y1 - hl * (uy * 0.866 + s * ux * 0.5)];
  const [lx, ly] = wing(1);
  const [rx, ry] = wing(-1);
  return { xs: [x0, x1, lx!, x1, rx!], ys: [y0, y1, ly!, y1, ry!] };
}

/** Short text of an engine float32 value for readouts. */
export function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e5)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}
