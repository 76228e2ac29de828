// A seeded fuzz test of the JS API: a few thousand random calls built from
// dl.ops(), valid and invalid mixed (dropped, unknown and malformed inputs,
// bad shapes and values, params out of range or of the wrong type, resident
// tensors, {out} buffers that alias inputs, upstream gradients, disposed
// tensors). It holds the README's promises:
//   - every mistake is a DlmathError (never a TypeError, RangeError or a
//     wasm trap), and a call that must fail does fail;
//   - an accepted call gives bit for bit what the same call made plainly
//     (fresh arrays in, arrays out, no {out}) gives: no silent wrong answer;
//     gradients come for exactly the differentiable inputs given;
//   - after every batch a canary is bit-identical to its first result and
//     the wasm heap is where it was.
// DLMATH_FUZZ_SEED and DLMATH_FUZZ_CALLS replay or lengthen a run.
import { beforeAll, expect, it } from 'vitest';
import { DlmathError, DlTensor, loadDlmath, sampleInputs, type Dlmath, type OpMeta } from 'dlmath';

const SEED = Number(process.env.DLMATH_FUZZ_SEED ?? 20261122);
const CALLS = Number(process.env.DLMATH_FUZZ_CALLS ?? 4000);
const BATCH = 250;

let dl: Dlmath;
beforeAll(async () => {
  dl = await loadDlmath();
});

type Rng = () => number;
type Plain = { shape: number[]; data: Float32Array };
type Outcome = { value?: Plain & { aux?: Record<string, Plain> }; grads?: Record<string, Plain> };

// xorshift32: small, seeded, the same sequence on every machine.
function makeRng(seed: number): Rng {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

// The API as the fuzzer calls it: untyped, because half of what it passes is wrong on purpose.
interface Loose {
  eval(id: unknown, inputs: unknown, params?: unknown, options?: unknown): unknown;
  grad(id: unknown, inputs: unknown, params?: unknown, upstream?: unknown, options?: unknown): unknown;
  evalWithGrad(id: unknown, inputs: unknown, params?: unknown, upstream?: unknown, options?: unknown): unknown;
  tensor(data: unknown, shape?: unknown): DlTensor;
}

/** One generated call and what it must do. */
interface Case {
  op: OpMeta;
  method: 'eval' | 'grad' | 'evalWithGrad';
  inputs: Record<string, unknown>;
  params: Record<string, unknown> | unknown;
  upstream?: unknown;
  out?: unknown; // eval / evalWithGrad: where the value goes
  gradOut?: Record<string, unknown>; // grad / evalWithGrad: where gradients go
  mustFail: boolean; // a mutation that no valid call has
  touched: Set<string>; // inputs, 'params', 'out', 'upstream' already mutated (never mutated twice)
  notes: string[];
  owned: DlTensor[];
}

const BAD_VALUES: [string, () => unknown][] = [
  ['null', () => null],
  ['a string', () => 'abc'],
  ['a BigInt', () => 12n],
  ['an empty object', () => ({})],
  ['a function', () => () => 1],
  ['a symbol', () => Symbol('x')],
  ['a boolean', () => true],
  ['strings in an array', () => ['1', '2']],
  ['BigInts in an array', () => [1n, 2n]],
  ['null in an array', () => [1, null]],
  ['a ragged array', () => [[1, 2], [3]]],
  ['a BigInt64Array', () => new BigInt64Array(3)],
  ['a DataView', () => new DataView(new ArrayBuffer(8))],
  ['{shape, data} with a string shape', () => ({ shape: 'x', data: [1] })],
  ['{shape, data} with a negative dim', () => ({ shape: [-1], data: [] })],
  ['{shape, data} with a fractional dim', () => ({ shape: [1.5], data: [1] })],
  ['{shape, data} too few values', () => ({ shape: [3], data: [1, 2] })],
  ['{shape, data} with string data', () => ({ shape: [2], data: 'ab' })],
  ['{shape, data} with a huge dim', () => ({ shape: [2 ** 40], data: [1] })],
  ['an array nested 12 deep', () => nest(12)],
  ['an array nested 20000 deep', () => nest(20000)],
  ['an empty array', () => []],
];

function nest(depth: number): unknown {
  let v: unknown = [1];
  for (let i = 0; i < depth; ++i) v = [v];
  return v;
}

const BAD_PARAMS: [string, unknown, boolean][] = [
  // [what, value, always wrong]
  ['NaN', NaN, true],
  ['+inf', Infinity, true],
  ['-inf', -Infinity, true],
  ['3.5e38 (beyond float32)', 3.5e38, true],
  ['-3.5e38', -3.5e38, true],
  ['1e300', 1e300, true],
  ['1e-50', 1e-50, false],
  ['-1', -1, false],
  ['0', 0, false],
  ['0.5', 0.5, false],
  ['2^31', 2 ** 31, false],
  ['true', true, false],
  ['a string', 'abc', true],
  ['null', null, true],
  ['an object', {}, true],
  ['an array', [1], true],
  ['a BigInt', 5n, true],
];

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// A random valid value for a param (the call may still be refused: some
// params must agree with shapes).
function validParam(r: Rng, p: OpMeta['params'][number]): number | string {
  if (p.type === 'enum') return r() < 0.5 ? pick(r, p.choices) : Math.floor(r() * p.choices.length);
  if (p.type === 'bool') return r() < 0.5 ? 1 : 0;
  const lo = Number.isFinite(p.min) ? p.min : p.default - 4;
  const hi = Number.isFinite(p.max) ? p.max : p.default + 4;
  if (p.type === 'int') {
    const top = Math.min(hi, lo + 12);
    return Math.floor(lo + r() * (top - lo + 1));
  }
  let v = lo + r() * (hi - lo);
  if (p.minOpen && v <= p.min) v = p.default;
  if (p.maxOpen && v >= p.max) v = p.default;
  return v;
}

function resident(c: Case, value: Plain): DlTensor {
  const t = dl.tensor(value.data, value.shape);
  c.owned.push(t);
  return t;
}

function asPlain(v: unknown): Plain | null {
  if (v instanceof DlTensor) return null;
  if (typeof v === 'object' && v !== null && 'shape' in v && 'data' in v) {
    const { shape, data } = v as { shape: unknown; data: unknown };
    if (Array.isArray(shape) && data instanceof Float32Array && product(shape) === data.length)
      return { shape: shape as number[], data };
  }
  return null;
}

/** Builds one random call. */
function makeCase(r: Rng, ops: OpMeta[], seed: number): Case {
  const op = pick(r, ops);
  const method = r() < 0.4 ? 'eval' : r() < 0.5 ? 'grad' : 'evalWithGrad';
  const inputs: Record<string, unknown> =
    op.kind === 'schedule' ? {} : (sampleInputs(op, seed) as Record<string, unknown>);
  const params: Record<string, unknown> = op.kind === 'schedule' ? { steps: 1 + Math.floor(r() * 20) } : {};
  const c: Case = {
    op,
    method,
    inputs,
    params,
    mustFail: false,
    touched: new Set(),
    notes: [`${method} ${op.id}`],
    owned: [],
  };
  if (method !== 'eval' && !op.differentiable) c.mustFail = true;
  for (const p of op.params) if (r() < 0.25) params[p.name] = validParam(r, p);

  const mutations = r() < 0.3 ? 0 : 1 + Math.floor(r() * 2);
  for (let m = 0; m < mutations; ++m) mutate(r, c);
  return c;
}

function mutate(r: Rng, c: Case): void {
  const { op } = c;
  const note = (s: string) => c.notes.push(s);
  // An input (or the params, out, upstream) is mutated at most once, so a
  // second mutation never repairs a first one.
  const fresh = (names: string[]) => names.filter((n) => !c.touched.has(n));
  const take = (name: string) => (c.touched.add(name), name);
  const plainInput = () => {
    const ok = fresh(Object.keys(c.inputs)).filter((n) => asPlain(c.inputs[n]));
    return ok.length ? take(pick(r, ok)) : null;
  };
  const params =
    typeof c.params === 'object' && !c.touched.has('params') ? (c.params as Record<string, unknown>) : null;
  const roll = r();
  if (roll < 0.07) {
    const specs = op.inputs.filter((i) => !c.touched.has(i.name));
    if (!specs.length) return;
    const spec = pick(r, specs);
    take(spec.name);
    if (r() < 0.5) delete c.inputs[spec.name];
    else c.inputs[spec.name] = undefined; // undefined means "not given", like a param
    note(`drop input ${spec.name}`);
    if (!spec.optional) c.mustFail = true;
  } else if (roll < 0.1) {
    c.inputs['no_such_input'] = [1, 2];
    note('unknown input');
    c.mustFail = true;
  } else if (roll < 0.22) {
    const names = fresh(Object.keys(c.inputs));
    if (!names.length) return;
    const name = take(pick(r, names));
    const [what, make] = pick(r, BAD_VALUES);
    c.inputs[name] = make();
    note(`input ${name} = ${what}`);
    c.mustFail = true;
  } else if (roll < 0.3) {
    const name = plainInput();
    if (!name) return;
    const v = asPlain(c.inputs[name])!;
    const shape = v.shape.slice();
    const how = r();
    if (how < 0.25) shape.unshift(1 + Math.floor(r() * 2));
    else if (how < 0.4) shape.pop();
    else if (how < 0.7 && shape.length) shape[shape.length - 1]! *= 2 + Math.floor(r() * 30);
    else if (shape.length) shape[Math.floor(r() * shape.length)] = Math.floor(r() * 5);
    const data = new Float32Array(product(shape)).map((_, i) => v.data[i % Math.max(1, v.data.length)] ?? 0.5);
    c.inputs[name] = { shape, data };
    note(`input ${name} reshaped to [${shape}]`);
  } else if (roll < 0.38) {
    const name = plainInput();
    if (!name) return;
    const v = asPlain(c.inputs[name])!;
    const special = pick(r, [NaN, Infinity, -Infinity, 3e38, -0, 1e-45, 1e9, -7, 2.5]);
    const data = v.data.slice();
    data[Math.floor(r() * data.length)] = special;
    c.inputs[name] = { shape: v.shape, data };
    note(`input ${name} holds ${special}`);
  } else if (roll < 0.46) {
    const name = plainInput();
    if (!name) return;
    c.inputs[name] = resident(c, asPlain(c.inputs[name])!);
    note(`input ${name} resident`);
  } else if (roll < 0.49) {
    const names = fresh(Object.keys(c.inputs));
    if (!names.length) return;
    const name = take(pick(r, names));
    const t = dl.tensor([1, 2]);
    t.dispose();
    c.inputs[name] = t;
    note(`input ${name} disposed`);
    c.mustFail = true;
  } else if (!params) {
    return;
  } else if (roll < 0.53) {
    c.touched.add('params');
    c.params = pick(r, ['x', [1], 5, new Map()]);
    note(`params = ${String(c.params)}`);
    c.mustFail = true;
  } else if (roll < 0.57) {
    params['no_such_param'] = 1;
    note('unknown param');
    c.mustFail = true;
  } else if (roll < 0.67 && op.params.length) {
    const p = pick(r, op.params);
    if (c.touched.has(`param ${p.name}`)) return;
    c.touched.add(`param ${p.name}`);
    const [what, value, wrong] = pick(r, BAD_PARAMS);
    params[p.name] = value;
    note(`param ${p.name} = ${what}`);
    // NaN, infinities and values beyond float32 are outside every param's
    // range; strings are never numbers (and no choice is called 'abc').
    if (wrong) c.mustFail = true;
  } else if (roll < 0.72 && op.params.some((p) => p.type === 'enum')) {
    const p = op.params.find((q) => q.type === 'enum')!;
    if (c.touched.has(`param ${p.name}`)) return;
    c.touched.add(`param ${p.name}`);
    params[p.name] = 'no_such_choice';
    note(`param ${p.name} = an unknown choice`);
    c.mustFail = true;
  } else if (roll < 0.84 && c.method !== 'grad' && !c.touched.has('out')) {
    c.touched.add('out');
    mutateOut(r, c);
  } else if (c.method !== 'eval') {
    mutateGradSide(r, c);
  }
}

// {out} for the value: a fresh tensor, a Float32Array, one of the wrong
// size, a disposed one, or an input's own tensor (aliasing).
function mutateOut(r: Rng, c: Case): void {
  const how = r();
  const names = Object.keys(c.inputs).filter((n) => asPlain(c.inputs[n]) || c.inputs[n] instanceof DlTensor);
  if (how < 0.35 && names.length) {
    const name = pick(r, names);
    const v = c.inputs[name];
    const t = v instanceof DlTensor ? v : resident(c, asPlain(v)!);
    c.inputs[name] = t;
    c.out = t;
    c.notes.push(`out aliases input ${name}`);
    return;
  }
  const size = Math.floor(r() * 40);
  if (how < 0.55) {
    c.out = resident(c, { shape: [size], data: new Float32Array(size) });
    c.notes.push(`out: a tensor of ${size}`);
  } else if (how < 0.75) {
    c.out = new Float32Array(size);
    c.notes.push(`out: a Float32Array of ${size}`);
  } else if (how < 0.85) {
    const t = dl.tensor([1]);
    t.dispose();
    c.out = t;
    c.notes.push('out: disposed');
    c.mustFail = true;
  } else {
    c.out = pick(r, [[1, 2], 'out', {}, new Float64Array(3)]);
    c.notes.push('out: not a tensor');
    c.mustFail = true;
  }
}

// Upstream gradient and gradient outputs: right or wrong shapes, resident,
// aliasing inputs, one tensor for two gradients, names that are not inputs.
function mutateGradSide(r: Rng, c: Case): void {
  const how = r();
  const diff = c.op.inputs.filter((i) => i.differentiable && c.inputs[i.name] !== undefined);
  const sizeOf = (name: string): number => {
    const v = c.inputs[name];
    if (v instanceof DlTensor) return v.disposed ? 0 : v.size;
    return asPlain(v)?.data.length ?? 0;
  };
  if (how < 0.35 && c.touched.has('upstream')) return;
  if (how < 0.35) c.touched.add('upstream');
  if (how < 0.25) {
    const n = Math.floor(r() * 30);
    c.upstream = r() < 0.5 ? new Float32Array(n).fill(0.5) : resident(c, { shape: [n], data: new Float32Array(n) });
    c.notes.push(`upstream of ${n} values`);
    return;
  }
  if (how < 0.35) {
    c.upstream = pick(r, ['up', [[1], [2, 3]], 4n, {}]);
    c.notes.push('upstream: bad value');
    c.mustFail = true;
    return;
  }
  const targets = diff.filter((i) => !c.touched.has(`grad ${i.name}`));
  if (!targets.length) return;
  const target = pick(r, targets).name;
  c.touched.add(`grad ${target}`);
  c.gradOut ??= {};
  if (how < 0.55) {
    const n = sizeOf(target) + (r() < 0.7 ? 0 : 1);
    c.gradOut[target] =
      r() < 0.6 ? resident(c, { shape: [n], data: new Float32Array(n).fill(9) }) : new Float32Array(n).fill(9);
    c.notes.push(`gradient of ${target} into ${n} values`);
  } else if (how < 0.7) {
    const names = Object.keys(c.inputs).filter((n) => asPlain(c.inputs[n]) || c.inputs[n] instanceof DlTensor);
    if (!names.length) return;
    const name = pick(r, names);
    const v = c.inputs[name];
    const t = v instanceof DlTensor ? v : resident(c, asPlain(v)!);
    c.inputs[name] = t;
    c.gradOut[target] = t;
    c.notes.push(`gradient of ${target} into input ${name}`);
  } else if (how < 0.8 && targets.length > 1) {
    const [a, b] = [targets[0]!.name, targets[1]!.name];
    c.touched.add(`grad ${a}`).add(`grad ${b}`);
    const n = Math.max(sizeOf(a), sizeOf(b));
    const t = resident(c, { shape: [n], data: new Float32Array(n) });
    c.gradOut[a] = t;
    c.gradOut[b] = t;
    c.notes.push(`one tensor for the gradients of ${a} and ${b}`);
  } else if (how < 0.9) {
    const spec = pick(r, c.op.inputs);
    if (c.touched.has(`grad ${spec.name}`) && spec.name !== target) return;
    c.touched.add(`grad ${spec.name}`);
    c.gradOut[spec.name] = new Float32Array(4);
    const given = c.inputs[spec.name] !== undefined;
    c.notes.push(`gradient out for ${spec.name} (${given ? 'given' : 'not given'})`);
    if (!spec.differentiable || !given) c.mustFail = true;
  } else {
    c.gradOut['no_such_input'] = new Float32Array(2);
    c.notes.push('gradient out for an unknown name');
    c.mustFail = true;
  }
}

// Values of a DlTensor or Float32Array buffer at this moment.
function snapshot(v: unknown): unknown {
  if (v instanceof DlTensor) return v.disposed ? v : { shape: v.shape, data: v.data() };
  return v;
}

function toPlain(v: unknown): Plain {
  if (v instanceof DlTensor) return { shape: v.shape, data: v.data() };
  const p = v as { shape: number[]; data: Float32Array };
  return { shape: p.shape, data: p.data.slice() };
}

function run(c: Case): Outcome {
  const loose = dl as unknown as Loose;
  const opts = (extra: Record<string, unknown>) => (Object.keys(extra).length ? extra : undefined);
  if (c.method === 'eval') {
    const r = loose.eval(c.op.id, c.inputs, c.params, opts(c.out === undefined ? {} : { out: c.out }));
    return { value: valueOf(r, c.out) };
  }
  if (c.method === 'grad') {
    const r = loose.grad(c.op.id, c.inputs, c.params, c.upstream, opts(c.gradOut ? { out: c.gradOut } : {}));
    return { grads: gradsOf(r as Record<string, Plain>, c.gradOut) };
  }
  const extra: Record<string, unknown> = {};
  if (c.out !== undefined) extra['out'] = c.out;
  if (c.gradOut) extra['gradOut'] = c.gradOut;
  const r = loose.evalWithGrad(c.op.id, c.inputs, c.params, c.upstream, opts(extra)) as {
    value: unknown;
    grads: Record<string, Plain>;
  };
  return { value: valueOf(r.value, c.out), grads: gradsOf(r.grads, c.gradOut) };
}

// A result that breaks the API's contract (found while reading it back).
class Mismatch extends Error {}

function valueOf(r: unknown, out: unknown): Plain & { aux?: Record<string, Plain> } {
  if (out instanceof DlTensor) {
    if (r !== out) throw new Mismatch('eval with a tensor as {out} did not return that tensor');
    return toPlain(out);
  }
  const v = r as Plain & { aux: Record<string, Plain> };
  if (out instanceof Float32Array && v.data !== out)
    throw new Mismatch('eval with a Float32Array as {out} did not return it as data');
  const aux: Record<string, Plain> = {};
  for (const [k, a] of Object.entries(v.aux ?? {})) aux[k] = toPlain(a);
  return { ...toPlain(v), aux };
}

function gradsOf(r: Record<string, Plain>, outs: Record<string, unknown> | undefined): Record<string, Plain> {
  const g: Record<string, Plain> = {};
  for (const [k, v] of Object.entries(r)) g[k] = toPlain(v);
  for (const [k, v] of Object.entries(outs ?? {})) {
    if (r[k] !== undefined) throw new Mismatch(`gradient '${k}' was returned although it has an out buffer`);
    g[k] =
      v instanceof DlTensor ? { shape: v.shape, data: v.data() } : { shape: [], data: (v as Float32Array).slice() };
  }
  return g;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; ++i) if (x[i] !== y[i]) return false;
  return true;
}

// What the same call gives when made plainly: the inputs' values at call
// time as fresh {shape, data}, no {out}, gradients returned as arrays.
function reference(c: Case, inputs: Record<string, unknown>, upstream: unknown): Outcome {
  const plain: Case = { ...c, inputs, upstream, out: undefined, gradOut: undefined, method: c.method };
  return run(plain);
}

function compare(c: Case, got: Outcome, want: Outcome): string[] {
  const bad: string[] = [];
  if (want.value && got.value) {
    if (!sameBits(got.value.data, want.value.data)) bad.push('value differs from the plain call');
    if (c.out instanceof DlTensor && got.value.shape.join() !== want.value.shape.join())
      bad.push(`out has shape [${got.value.shape}], the plain call [${want.value.shape}]`);
  }
  if (want.grads && got.grads) {
    const keys = (o: object) => Object.keys(o).sort().join(',');
    if (keys(got.grads) !== keys(want.grads)) bad.push(`gradients [${keys(got.grads)}] vs [${keys(want.grads)}]`);
    for (const [k, w] of Object.entries(want.grads)) {
      const g = got.grads[k];
      if (g && !sameBits(g.data, w.data)) bad.push(`gradient '${k}' differs from the plain call`);
    }
  }
  return bad;
}

// Gradients must be named for exactly the differentiable inputs given and
// the learnable params, with the inputs' shapes.
function checkGradNames(c: Case, inputs: Record<string, unknown>, grads: Record<string, Plain>): string[] {
  const want = [
    ...c.op.inputs.filter((i) => i.differentiable && inputs[i.name] !== undefined).map((i) => i.name),
    ...c.op.params.filter((p) => p.learnable).map((p) => p.name),
  ].sort();
  const got = Object.keys(grads).sort();
  const bad: string[] = [];
  if (got.join() !== want.join()) bad.push(`gradients for [${got}], expected [${want}]`);
  for (const i of c.op.inputs) {
    const p = asPlain(inputs[i.name]);
    const g = grads[i.name];
    if (p && g && g.data.length !== p.data.length)
      bad.push(`gradient '${i.name}' has ${g.data.length} values, the input ${p.data.length}`);
  }
  return bad;
}

interface Failure {
  kind: string;
  call: string;
  detail: string;
}

// What the calls did, so the test can insist that both sides were exercised.
const tally = { accepted: 0, refused: 0, codes: {} as Record<string, number> };

/** One call: returns what went wrong (nothing when all is well). */
function check(c: Case): Failure[] {
  const call = c.notes.join('; ');
  const fail = (kind: string, detail: string): Failure => ({ kind, call, detail });
  // Inputs and upstream as they are now (an in-place call may overwrite them).
  const inputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.inputs)) inputs[k] = snapshot(v);
  const upstream = snapshot(c.upstream);
  let got: Outcome;
  try {
    got = run(c);
  } catch (e) {
    if (e instanceof Mismatch) return [fail('wrong answer', e.message)];
    if (!(e instanceof DlmathError))
      return [fail('not a DlmathError', `${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? String(e)}`)];
    if (e.message.length < 10 || !/[a-z]/.test(e.code)) return [fail('bad error', `${e.code}: ${e.message}`)];
    tally.refused++;
    tally.codes[e.code] = (tally.codes[e.code] ?? 0) + 1;
    return [];
  }
  tally.accepted++;
  if (c.mustFail) return [fail('accepted a bad call', 'no error')];
  const bad: string[] = [];
  const plainInputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) plainInputs[k] = v;
  let want: Outcome;
  try {
    want = reference(c, plainInputs, upstream);
  } catch (e) {
    return [fail('plain call fails where the call succeeded', String((e as Error).message))];
  }
  bad.push(...compare(c, got, want));
  if (got.grads) bad.push(...checkGradNames(c, plainInputs, want.grads!));
  return bad.map((b) => fail('wrong answer', b));
}

function canary(): Float32Array[] {
  const x = Float32Array.from({ length: 600 }, (_, i) => Math.sin(i * 0.37) * 4);
  const rows = { shape: [6, 100], data: x };
  const ln = dl.grad('layer_norm', { input: rows, weight: x.subarray(0, 100), bias: x.subarray(100, 200) });
  using t = dl.tensor(x);
  using f = dl.formula('x*sigmoid(1.702*x)');
  return [
    dl.eval('gelu_tanh', { x }).data,
    dl.grad('softmax', { x: rows }).x.data,
    ln.input.data,
    ln.weight.data,
    ln.bias.data,
    dl.eval('tanh', { x: t }).data,
    f.grad(x),
  ];
}

it('random valid and invalid calls: DlmathErrors only, no wrong answers, canary and heap steady', () => {
  const r = makeRng(SEED);
  const ops = dl.ops();
  const failures: Failure[] = [];
  const first = canary();
  // Warm-up: first uses of each op may allocate lasting runtime structures.
  for (let i = 0; i < BATCH; ++i) finish(makeCase(r, ops, i));
  const heap = dl.heapUsed();
  let calls = 0;
  for (let batch = 0; calls < CALLS; ++batch) {
    for (let i = 0; i < BATCH && calls < CALLS; ++i, ++calls) {
      const c = makeCase(r, ops, calls);
      failures.push(...finish(c));
    }
    try {
      const now = canary();
      now.forEach((a, k) => {
        if (!sameBits(a, first[k]!)) failures.push({ kind: 'canary', call: `after batch ${batch}`, detail: `#${k}` });
      });
    } catch (e) {
      failures.push({ kind: 'canary', call: `after batch ${batch}`, detail: String(e) });
    }
    const used = dl.heapUsed();
    if (used !== heap) failures.push({ kind: 'heap', call: `after batch ${batch}`, detail: `${used - heap} bytes` });
  }
  const counts: Record<string, number> = {};
  for (const f of failures) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  expect({ counts, first: failures.slice(0, 12) }).toEqual({ counts: {}, first: [] });
  // Both sides were exercised, and most kinds of mistake were made.
  console.log(`fuzz: ${calls} calls, seed ${SEED}: ${JSON.stringify(tally)}`);
  expect(tally.accepted).toBeGreaterThan(CALLS / 4);
  expect(tally.refused).toBeGreaterThan(CALLS / 4);
  expect(Object.keys(tally.codes).length).toBeGreaterThanOrEqual(10);
});

function finish(c: Case): Failure[] {
  try {
    return check(c);
  } finally {
    for (const t of c.owned) t.dispose();
  }
}
