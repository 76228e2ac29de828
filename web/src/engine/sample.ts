// Deterministic example inputs for any registry entry, built from its
// metadata (the row's sample shapes and value ranges). The generic page view,
// the catalogue tests and the examples all call entries with these.
import type { OpMeta } from './dlmath.js';

/**
 * `n` deterministic values in [min, max] (integers for integer inputs).
 * @param seed - any integer; equal seeds give equal values
 */
export function sampleValues(n: number, min: number, max: number, integer: boolean, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; ++i) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    out[i] = integer ? Math.min(max, Math.floor(min + u * (max - min + 1))) : min + u * (max - min);
  }
  return out;
}

/**
 * One example input per sampled input of `op` (element-wise and row-wise ops: a [3, 4] block).
 * @param op - registry metadata
 * @param seed - varies the values
 */
export function sampleInputs(op: OpMeta, seed = 0): Record<string, { shape: number[]; data: Float32Array }> {
  const inputs: Record<string, { shape: number[]; data: Float32Array }> = {};
  if (op.sampleInputs.length === 0 && op.inputs.length === 1) {
    inputs[op.inputs[0]!.name] = { shape: [3, 4], data: sampleValues(12, -3, 3, false, 7 + seed) };
    return inputs;
  }
  op.sampleInputs.forEach((si, k) => {
    const spec = op.inputs.find((i) => i.name === si.name);
    const n = si.shape.reduce((a, b) => a * b, 1);
    inputs[si.name] = { shape: si.shape, data: sampleValues(n, si.min, si.max, spec?.integer ?? false, 11 + k + seed) };
  });
  return inputs;
}
