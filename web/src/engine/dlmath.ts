import { describe, DlmathError, toError, type ErrorCode } from './errors.js';
import { compileFormula, type DlFormula } from './formula.js';
import { createModel, loadModel, type DlModel, type ModelSpec, type RawTraining, type SavedModel } from './model.js';
import { DlTrainer, type TrainerOptions } from './worker-client.js';
import type { OpGrads, OpId, OpInputs, OpKinds, OpParams, OpRequiredInputs } from './gen/ops.js';
import { DlTensor } from './tensor.js';
import type { RawError, RawModule, RawOpMeta, RawTensor } from './wasm.js';

/** Values and their shape, as returned by every op. */
export interface Result {
  shape: number[];
  data: Float32Array;
}

/** What `dl.eval` returns: the result and its named secondary outputs. */
export interface EvalResult extends Result {
  /** Secondary outputs by name (running stats, attention weights, ...); `{}` for most ops. */
  aux: Record<string, Result>;
}

/** Anything accepted as an op input (or as an upstream gradient). */
export type InputValue =
  number | ArrayLike<number> | NestedArray | { shape: number[]; data: ArrayLike<number> } | DlTensor;
export interface NestedArray extends ReadonlyArray<number | NestedArray> {}

/** Metadata of one registry entry, as listed by `dl.ops()`. */
export type OpMeta = RawOpMeta;

/** Param values by name (booleans count as 0 / 1; enum params take their choice's name). */
export type Params = Record<string, number | boolean | string>;

type Inputs<K extends OpId> = { [N in OpRequiredInputs[K]]: InputValue } & {
  [N in Exclude<OpInputs[K], OpRequiredInputs[K]>]?: InputValue;
};

/**
 * What `dl.<id>` is, by kind: an op takes its first input (or all its inputs)
 * and params and has `.grad`; an optimizer is {@link Dlmath.optimize}, a
 * schedule {@link Dlmath.schedule} and an initializer {@link Dlmath.init}
 * with the id filled in.
 */
export type OpFunction<K extends OpId> = OpKinds[K] extends 'optimizer'
  ? (inputs: Inputs<K>, hyper?: OpParams[K]) => Result
  : OpKinds[K] extends 'schedule'
    ? (hyper: OpParams[K] | undefined, steps: number) => Float32Array
    : OpKinds[K] extends 'init'
      ? (shape: number[], options?: Omit<OpParams[K], 'shape'>) => Result
      : OpOnInputs<K>;
type OpOnInputs<K extends OpId> = ([OpInputs[K]] extends [infer N]
  ? [N] extends [string]
    ? string extends N
      ? never
      : IsUnion<N> extends true
        ? (inputs: Inputs<K>, params?: OpParams[K]) => EvalResult
        : (x: InputValue, params?: OpParams[K]) => EvalResult
    : never
  : never) & {
  /** Gradients of the op, see {@link Dlmath.grad}. */
  grad: (inputs: InputValue | Inputs<K>, params?: OpParams[K], upstream?: InputValue) => Record<OpGrads[K], Result>;
};
type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;

export type OpFunctions = { [K in OpId]: OpFunction<K> };

const MAX_RANK = 8;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * The dlmath engine: every registry op with its value and exact gradient,
 * computed by the SIMD C++ core in WebAssembly. Get one with `loadDlmath()`.
 */
export class Dlmath {
  readonly #mod: RawModule;
  readonly #ops: OpMeta[];
  readonly #byId: Map<string, OpMeta>;
  /** Highway SIMD target of the kernels, e.g. "WASM". */
  readonly target: string;

  /** @internal Use `loadDlmath()`. */
  constructor(mod: RawModule) {
    this.#mod = mod;
    this.#ops = mod._listOps().map((o) => Object.freeze(o));
    this.#byId = new Map(this.#ops.map((o) => [o.id, o]));
    this.target = mod._target();
    // Convenience functions come from the registry: dl.gelu_tanh(x), ...
    for (const op of this.#ops) {
      if (op.id in this) continue; // never shadow a method
      const id = op.id as OpId;
      if (op.kind !== 'op') {
        const value =
          op.kind === 'optimizer'
            ? (inputs: unknown, hyper?: Params) => this.optimize(id, inputs as never, hyper as never)
            : op.kind === 'schedule'
              ? (hyper: Params | undefined, steps: number) => this.schedule(id, hyper as never, steps)
              : (shape: number[], options?: Params) => this.init(id, shape, options as never);
        Object.defineProperty(this, op.id, { value, enumerable: false });
        continue;
      }
      const single = op.inputs.length === 1;
      const name = op.inputs[0]!.name;
      const fn = (x: unknown, params?: Params) =>
        this.eval(op.id as OpId, (single ? { [name]: x } : x) as never, params as never);
      const grad = (x: unknown, params?: Params, upstream?: InputValue) =>
        this.grad(
          op.id as OpId,
          (single && !isInputsObject(x, op) ? { [name]: x } : x) as never,
          params as never,
          upstream,
        );
      Object.defineProperty(this, op.id, { value: Object.assign(fn, { grad }), enumerable: false });
    }
  }

  /** Metadata of every registry entry: id, family, inputs, params, LaTeX, docs, ... */
  ops(): OpMeta[] {
    return this.#ops.slice();
  }

  /**
   * Evaluates an op.
   * @param id - registry id, e.g. 'gelu_tanh'
   * @param inputs - one entry per input, e.g. `{x: [1, 2, 3]}`
   * @param params - param values by name; omitted ones take their defaults
   * @param options - `out`: a resident tensor of the right size to write into
   * @returns the values and their shape (or `out` itself when given)
   */
  eval<K extends OpId>(id: K, inputs: Inputs<K>, params?: OpParams[K]): EvalResult;
  eval<K extends OpId>(id: K, inputs: Inputs<K>, params: OpParams[K] | undefined, options: { out: DlTensor }): DlTensor;
  eval(id: string, inputs: unknown, params?: unknown, options?: { out?: DlTensor }): EvalResult | DlTensor {
    this.#checkId(id);
    const out = options?.out;
    if (out !== undefined && !(out instanceof DlTensor))
      throw new DlmathError(
        'bad_type',
        `op '${id}': options.out must be a tensor from dl.tensor(), got ${describe(out)}`,
        id,
        'out',
      );
    return this.#withCall(id, inputs, params, (names, tensors, pn, pv) => {
      const r = this.#mod._eval(id, names, tensors, pn, pv, out ? out.raw() : null);
      if (r.error) throw toError(r.error);
      const aux: Record<string, Result> = {};
      for (const [name, t] of Object.entries(r.aux ?? {})) aux[name] = this.#take(t);
      if (out) return out;
      return { ...this.#take(r.tensor!), aux };
    });
  }

  /**
   * Gradient of `sum(upstream * op(inputs))` with respect to every
   * differentiable input and learnable param (a vector-Jacobian product).
   * @param id - registry id
   * @param inputs - as for {@link Dlmath.eval}
   * @param params - as for {@link Dlmath.eval}
   * @param upstream - dL/d(output), the output's shape; defaults to ones
   * @param options - `out`: resident tensors to write input gradients into,
   *   by input name (those are then left out of the returned object)
   * @returns `{name: {shape, data}}` per differentiable input / learnable param
   */
  grad<K extends OpId>(
    id: K,
    inputs: Inputs<K>,
    params?: OpParams[K],
    upstream?: InputValue,
    options?: { out?: Partial<Record<OpInputs[K], DlTensor>> },
  ): Record<OpGrads[K], Result>;
  grad(
    id: string,
    inputs: unknown,
    params?: unknown,
    upstream?: InputValue,
    options?: { out?: Record<string, DlTensor> },
  ): Record<string, Result> {
    this.#checkId(id);
    let outs: Record<string, RawTensor> | undefined;
    if (options?.out !== undefined) {
      if (!isPlainObject(options.out))
        throw new DlmathError('bad_type', `op '${id}': options.out must map input names to tensors`, id, 'out');
      outs = {};
      for (const [name, t] of Object.entries(options.out)) {
        if (!(t instanceof DlTensor))
          throw new DlmathError(
            'bad_type',
            `op '${id}': options.out.${name} must be a tensor from dl.tensor(), got ${describe(t)}`,
            id,
            name,
          );
        outs[name] = t.raw();
      }
    }
    const up = upstream === undefined ? null : this.#toTensor(upstream, id, 'upstream');
    try {
      return this.#withCall(id, inputs, params, (names, tensors, pn, pv) => {
        const r = this.#mod._grad(id, names, tensors, pn, pv, up ? up.raw : null, outs);
        if (r.error) throw toError(r.error);
        const grads: Record<string, Result> = {};
        for (const [name, t] of Object.entries(r.grads!)) grads[name] = this.#take(t);
        return grads;
      });
    } finally {
      if (up?.owned) up.raw.delete();
    }
  }

  /**
   * A tensor resident on the wasm heap, reusable across calls without copies.
   * @param data - the values (or a number of elements' worth of zeros via `shape`)
   * @param shape - dimensions; defaults to the data's own shape
   */
  tensor(data: InputValue | null, shape?: number[]): DlTensor {
    if (data instanceof DlTensor) data = data.data();
    let values: ArrayLike<number>;
    let dims: number[];
    if (data === null) {
      if (shape === undefined) throw new DlmathError('bad_type', 'dl.tensor(null, shape) needs a shape');
      dims = this.#checkShape(shape, '', 'shape');
      values = new Float32Array(0);
    } else {
      const n = normalize(data, '', 'data');
      values = n.data;
      dims = shape === undefined ? n.shape : this.#checkShape(shape, '', 'shape');
      if (shape !== undefined && product(dims) !== values.length)
        throw new DlmathError(
          'bad_shape',
          `dl.tensor: ${values.length} values do not fill shape [${dims.join(', ')}] (${product(dims)} values)`,
          '',
          'shape',
        );
    }
    const t = new DlTensor(this.#mod, this.#alloc(dims, '', 'data'));
    if (values.length) t.set(values);
    return t;
  }

  /**
   * Runs an optimizer's update rule over a sequence of gradients.
   * @param id - an optimizer id, e.g. 'adam'
   * @param inputs - `params` [n] (the starting point) and `grads` [steps, n]
   * @param hyper - hyper-parameters (lr, betas, ...); omitted ones take defaults
   * @returns the parameters after every step, shape [steps, n]
   */
  optimize<K extends OpId>(id: K, inputs: Inputs<K>, hyper?: OpParams[K]): Result {
    this.#checkKind(id, 'optimizer');
    const { shape, data } = this.eval(id, inputs, hyper);
    return { shape, data };
  }

  /**
   * The learning rate of a schedule at steps 0 .. steps-1.
   * @param id - a schedule id, e.g. 'cosine_annealing_lr'
   * @param hyper - its hyper-parameters (lr, T_max, warmup, ...)
   * @param steps - how many steps
   */
  schedule<K extends OpId>(id: K, hyper: OpParams[K] | undefined, steps: number): Float32Array {
    this.#checkKind(id, 'schedule');
    return this.eval(id, {} as Inputs<K>, { ...(hyper ?? {}), steps } as unknown as OpParams[K]).data;
  }

  /**
   * Initial weights of the given shape, reproducible from `seed`.
   * @param id - an initializer id, e.g. 'kaiming_normal'
   * @param shape - the weight's shape, e.g. [fan_out, fan_in]
   * @param options - gain, a, mode, nonlinearity, seed ...
   */
  init<K extends OpId>(id: K, shape: number[], options?: Omit<OpParams[K], 'shape'>): Result {
    this.#checkKind(id, 'init');
    if (!Array.isArray(shape))
      throw new DlmathError(
        'bad_type',
        `op '${id}': shape must be an array of dimensions, got ${describe(shape)}`,
        id,
        'shape',
      );
    const { shape: s, data } = this.eval(id, { shape } as unknown as Inputs<K>, options as OpParams[K]);
    return { shape: s, data };
  }

  /**
   * Compiles a formula in `x` and named parameters, e.g. `x*sigmoid(1.702*x)`,
   * `log(1+exp(x))`, `a*x^2 - tanh(b*x)` or `elu(x, 0.5)`: operators
   * `+ - * / ^` (also `**`, `×`, `÷`, `·`, `−`), the usual math functions and
   * every elementwise op of the registry. Its values and exact derivative
   * come from the core; no JavaScript is evaluated.
   * @param text - the formula (at most 4096 bytes)
   * @returns the compiled formula; dispose() it when done
   * @throws DlmathError 'bad_formula' with `column` and `length` of the
   *   offending token when the text does not parse
   */
  formula(text: string): DlFormula {
    return compileFormula(this.#mod, text);
  }

  /** Bytes in use on the wasm heap (malloc'd), for leak checks. */
  heapUsed(): number {
    return this.#mod._heapUsed();
  }

  /** Heap allocations (malloc and friends) since the module started: a training step makes none. */
  allocations(): number {
    return (this.#mod as RawModule & RawTraining)._allocations();
  }

  /**
   * Builds a network trained in the core (see the README's "Training").
   * @param spec - input width, layers, loss, optimizer, schedule, clip, seed, ...
   * @returns the model; dispose() it when done
   * @throws DlmathError naming the layer and field of any mistake, e.g. `layers[2].units`
   */
  model(spec: ModelSpec): DlModel {
    return createModel(this.#mod, spec);
  }

  /**
   * Restores a model saved with `model.toJSON()`, bit-exactly.
   * @param saved - the saved object or its JSON text
   */
  loadModel(saved: SavedModel | string): DlModel {
    return loadModel(this.#mod, saved);
  }

  /**
   * Starts a worker (a Web Worker, or a worker thread under Node) that
   * trains models off the main thread, in its own wasm instance.
   * @param options - where the worker module and its .wasm are, if moved
   * @returns the trainer; terminate() it when done
   */
  worker(options?: TrainerOptions): DlTrainer {
    return new DlTrainer(options);
  }

  // ---- internals -----------------------------------------------------------

  #checkKind(id: unknown, kind: OpMeta['kind']): void {
    this.#checkId(id);
    const op = this.#byId.get(id)!;
    if (op.kind !== kind)
      throw new DlmathError(
        'bad_type',
        `'${id}' is ${op.kind === 'op' ? 'an op' : `a ${op.kind}`}, not ${kind === 'init' ? 'an initializer' : `a ${kind}`}`,
        id,
      );
  }

  #checkId(id: unknown): asserts id is string {
    if (typeof id !== 'string')
      throw new DlmathError('bad_type', `the op id must be a string such as 'sigmoid', got ${describe(id)}`);
    if (!this.#byId.has(id)) {
      // The core words the message, with the nearest ids.
      const r = this.#mod._eval(id, [], [], [], [], null);
      throw toError(r.error!);
    }
  }

  // Converts inputs and params, runs `fn`, frees what was copied in.
  #withCall<T>(
    id: string,
    inputs: unknown,
    params: unknown,
    fn: (names: string[], tensors: RawTensor[], pn: string[], pv: number[]) => T,
  ): T {
    const op = this.#byId.get(id)!;
    if (!isPlainObject(inputs))
      throw new DlmathError(
        'bad_type',
        `op '${id}': inputs must be an object naming each input, e.g. {${op.inputs.map((i) => `${i.name}: [...]`).join(', ')}}; got ${describe(inputs)}`,
        id,
      );
    const pn: string[] = [];
    const pv: number[] = [];
    if (params !== undefined && params !== null) {
      if (!isPlainObject(params))
        throw new DlmathError(
          'bad_type',
          `op '${id}': params must be an object such as {alpha: 1}, got ${describe(params)}`,
          id,
        );
      for (const [k, v] of Object.entries(params)) {
        if (v === undefined) continue;
        const spec = op.params.find((p) => p.name === k);
        if (typeof v === 'string' && spec?.type === 'enum') {
          const index = spec.choices.indexOf(v);
          if (index < 0)
            throw new DlmathError(
              'bad_param',
              `op '${id}': param '${k}' must be one of ${spec.choices.map((c) => `'${c}'`).join(', ')}, got '${v}'`,
              id,
              k,
            );
          pn.push(k);
          pv.push(index);
          continue;
        }
        if (typeof v !== 'number' && typeof v !== 'boolean')
          throw new DlmathError('bad_type', `op '${id}': param '${k}' must be a number, got ${describe(v)}`, id, k);
        pn.push(k);
        pv.push(Number(v));
      }
    }
    const names: string[] = [];
    const converted: { raw: RawTensor; owned: boolean }[] = [];
    try {
      for (const [name, value] of Object.entries(inputs)) {
        names.push(name);
        converted.push(this.#toTensor(value as InputValue, id, name));
      }
      return fn(
        names,
        converted.map((c) => c.raw),
        pn,
        pv,
      );
    } finally {
      for (const c of converted) if (c.owned) c.raw.delete();
    }
  }

  #toTensor(value: InputValue, op: string, arg: string): { raw: RawTensor; owned: boolean } {
    if (value instanceof DlTensor) return { raw: value.raw(), owned: false };
    const n = normalize(value, op, arg);
    this.#checkShape(n.shape, op, arg);
    const raw = this.#alloc(n.shape, op, arg);
    if (n.data.length) this.#mod.HEAPF32.set(n.data, raw.ptr() >>> 2);
    return { raw, owned: true };
  }

  #checkShape(shape: unknown, op: string, arg: string): number[] {
    const where = op ? `op '${op}': ${arg === 'upstream' ? 'upstream' : `input '${arg}'`}` : `dl.tensor: ${arg}`;
    if (!Array.isArray(shape))
      throw new DlmathError(
        'bad_type',
        `${where}: shape must be an array of dimensions, got ${describe(shape)}`,
        op,
        arg,
      );
    if (shape.length > MAX_RANK)
      throw new DlmathError('bad_rank', `${where}: rank ${shape.length} is above the maximum of ${MAX_RANK}`, op, arg);
    for (const d of shape)
      if (!Number.isSafeInteger(d) || d < 0)
        throw new DlmathError(
          'bad_shape',
          `${where}: dimensions must be non-negative integers, got [${shape.join(', ')}]`,
          op,
          arg,
        );
    const n = product(shape);
    if (n > this.#mod._maxElements())
      throw new DlmathError(
        'too_large',
        `${where}: shape [${shape.join(', ')}] has ${n} elements, above the limit of ${this.#mod._maxElements()}`,
        op,
        arg,
      );
    return shape.slice();
  }

  #alloc(shape: number[], op: string, arg: string): RawTensor {
    const raw = this.#mod._tensorCreate(shape);
    if (!raw)
      throw new DlmathError(
        'out_of_memory',
        `${op ? `op '${op}': ` : ''}out of memory for ${arg} of shape [${shape.join(', ')}]`,
        op,
        arg,
      );
    return raw;
  }

  // Copies a result out of the heap and frees it.
  #take(raw: RawTensor): Result {
    try {
      const start = raw.ptr() >>> 2;
      return { shape: raw.shape(), data: this.#mod.HEAPF32.slice(start, start + raw.size()) };
    } finally {
      raw.delete();
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Dlmath extends OpFunctions {}

function isInputsObject(x: unknown, op: OpMeta): boolean {
  return isPlainObject(x) && !('shape' in x && 'data' in x) && op.inputs.some((i) => i.name in x);
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** @internal Any accepted input form -> flat numbers and a shape, or a DlmathError. */
export function normalize(value: unknown, op: string, arg: string): { shape: number[]; data: ArrayLike<number> } {
  const where = op ? `op '${op}': ${arg === 'upstream' ? 'upstream' : `input '${arg}'`}` : `dl.tensor: ${arg}`;
  const bad = (code: ErrorCode, why: string) => new DlmathError(code, `${where} ${why}`, op, arg);
  if (typeof value === 'number') return { shape: [], data: [value] };
  if (ArrayBuffer.isView(value)) {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array || value instanceof DataView)
      throw bad('bad_type', `must hold numbers, got ${describe(value)}`);
    const a = value as unknown as ArrayLike<number>;
    return { shape: [a.length], data: a };
  }
  if (Array.isArray(value)) return flattenNested(value, bad);
  if (isPlainObject(value) && 'shape' in value && 'data' in value) {
    const { shape, data } = value as { shape: unknown; data: unknown };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad('bad_shape', `has an invalid shape: expected non-negative integers, got ${JSON.stringify(shape)}`);
    const inner = Array.isArray(data)
      ? flattenNested(data, bad).data
      : ArrayBuffer.isView(data)
        ? normalize(data, op, arg).data
        : null;
    if (inner === null) throw bad('bad_type', `data must be an array or typed array, got ${describe(data)}`);
    const need = product(shape as number[]);
    if (inner.length !== need)
      throw bad('bad_shape', `has ${inner.length} values but shape [${shape.join(', ')}] needs ${need}`);
    return { shape: shape as number[], data: inner };
  }
  if (value === undefined) throw bad('missing_input', 'is undefined');
  throw bad(
    'bad_type',
    `must be a number, an array, a typed array, {shape, data} or a dl.tensor(); got ${describe(value)}`,
  );
}

function flattenNested(
  value: readonly unknown[],
  bad: (code: ErrorCode, why: string) => DlmathError,
): { shape: number[]; data: number[] } {
  if (value.length === 0 || !Array.isArray(value[0])) {
    for (let i = 0; i < value.length; ++i)
      if (typeof value[i] !== 'number')
        throw bad('bad_type', `must hold numbers only; element [${i}] is ${describe(value[i])}`);
    return { shape: [value.length], data: value as number[] };
  }
  const rows = value.map((row, i) => {
    if (!Array.isArray(row)) throw bad('bad_shape', `is a ragged nested array: element [${i}] is not an array`);
    return flattenNested(row, bad);
  });
  const inner = rows[0]!.shape;
  rows.forEach((r, i) => {
    if (r.shape.join() !== inner.join())
      throw bad(
        'bad_shape',
        `is a ragged nested array: row [${i}] has shape [${r.shape.join(', ')}], row [0] has [${inner.join(', ')}]`,
      );
  });
  return { shape: [value.length, ...inner], data: rows.flatMap((r) => r.data) };
}
