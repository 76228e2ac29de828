// The browser tests' oracle, loaded into the page next to the engine: the
// call behind each Shown record of a view made again through `dl`, and how far
// the numbers the view drew are from the engine's (0 means bit-equal). It
// reads only the record, never the view's code.
import type { Dlmath } from '../../../web/src/engine/index.js';
import type { Shown } from '../../../web/src/views/view.js';

/** One record checked: the largest relative difference of its numbers, or why it could not be repeated. */
export interface Check {
  label: string;
  worst: number;
  n: number;
  error?: string;
}

type Tensor = { shape: number[]; data: Float32Array };
/** The engine's calls with free-form ids (the records carry them as strings). */
interface Calls {
  eval(id: string, i: object, p: object): Tensor & { aux: Record<string, Tensor> };
  grad(id: string, i: object, p: object, up?: object): Record<string, Tensor>;
  schedule(id: string, p: object, steps: number): Float32Array;
  init(id: string, shape: number[], p: object): Tensor;
  formula(text: string): {
    eval(x: Float32Array, p: object): Float32Array;
    grad(x: Float32Array, p: object): Float32Array;
    dispose(): void;
  };
  ops(): { id: string; kind: string }[];
}

/**
 * The full result a record's numbers come from, computed again (see Shown.what).
 * @param dl - the engine
 * @param s - the record
 */
export function replay(dl: Dlmath, s: Shown): ArrayLike<number> {
  const call = dl as unknown as Calls;
  const inputs: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(s.inputs)) inputs[k] = { shape: v.shape, data: Float32Array.from(v.data) };
  if (s.what === 'formula' || s.what === 'formula-grad') {
    const f = call.formula(s.id);
    try {
      return s.what === 'formula' ? f.eval(inputs.x!.data, s.params) : f.grad(inputs.x!.data, s.params);
    } finally {
      f.dispose();
    }
  }
  if (s.what === 'value') {
    const kind = call.ops().find((o) => o.id === s.id)?.kind;
    if (kind === 'schedule') return call.schedule(s.id, s.params, Number(s.params.steps));
    if (kind === 'init') return call.init(s.id, Array.from(inputs.shape!.data), s.params).data;
    return call.eval(s.id, inputs, s.params).data;
  }
  if (s.what.startsWith('aux:')) return call.eval(s.id, inputs, s.params).aux[s.what.slice(4)]!.data;
  const up = s.upstream ? { shape: s.upstream.shape, data: Float32Array.from(s.upstream.data) } : undefined;
  return call.grad(s.id, inputs, s.params, up)[s.what.replace(/^grad:/, '')]!.data;
}

/**
 * Every record repeated and compared with what the view drew (a NaN drawn for a NaN computed counts as equal).
 * @param dl - the engine
 * @param shown - the view's records
 */
export function check(dl: Dlmath, shown: Shown[]): Check[] {
  return shown.map((s) => {
    try {
      const full = replay(dl, s);
      const want = s.pick ? s.pick.map((i) => full[i]!) : Array.from(full);
      if (want.length !== s.values.length)
        return {
          label: s.label,
          worst: Infinity,
          n: s.values.length,
          error: `${s.values.length} shown, ${want.length} computed`,
        };
      let worst = 0;
      want.forEach((w, i) => {
        const g = s.values[i]!;
        const same = Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w));
        if (!same) worst = Math.max(worst, Math.abs(g - w) / Math.max(1, Math.abs(w)) || Infinity);
      });
      return { label: s.label, worst, n: want.length };
    } catch (err) {
      return { label: s.label, worst: Infinity, n: 0, error: String(err) };
    }
  });
}
