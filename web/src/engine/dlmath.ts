import { describe, DlmathError, toError } from './errors.js';
import { compileFormula, type DlFormula } from './formula.js';
import { createModel, loadModel, type DlModel, type ModelSpec, type RawTraining, type SavedModel } from './model.js';
import { DlTrainer, type TrainerOptions } from './worker-client.js';
import { DlGpt, loadGpt, type GptCheckpoint, type GptConfig } from './gpt.js';
import { loadDlmath, type LoadOptions } from './loader.js';
import type { OpGrads, OpId, OpInputs, OpKinds, OpParams, OpRequiredInputs } from './gen/ops.js';
import { DlTensor, heapOf, toResident, type Heap, type InputValue, type Resident } from './tensor.js';
import type { RawCallResult, RawModule, RawOpMeta, RawTensor } from './wasm.js';

export type { InputValue, NestedArray } from './tensor.js';

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

/** Where a result may be written instead of a new array: a resident tensor or a caller's Float32Array. */
export type OutBuffer = DlTensor | Float32Array;

/** Metadata of one registry entry, as listed by `dl.ops()`. */
export type OpMeta = RawOpMeta;

/** Param values by name (booleans count as 0 / 1; enum params take their choice's name). */
export type Params = Record<string, number | boolean | string>;

type Inputs<K extends OpId> = { [N in OpRequiredInputs[K]]: InputValue } & {
  [N in Exclude<OpInputs[K], OpRequiredInputs[K]>]?: InputValue;
};

/** What `dl.evalWithGrad` returns: the value and the gradients of one forward pass. */
export interface ValueAndGrads<V = EvalResult, G extends string = string> {
  value: V;
  grads: Record<G, Result>;
}

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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** What one core call asks for (see `#call`). */
interface CallSpec {
  value: boolean;
  backward: boolean;
  upstream?: InputValue;
  out?: unknown;
  gradOut?: unknown;
}

/**
 * The dlmath engine: every registry op with its value and exact gradient,
 * computed by the SIMD C++ core in WebAssembly. Get one with `loadDlmath()`.
 *
 * The core validates every shape, size, range and name and words every
 * message; this facade only checks that JS values have the right JS types
 * (a number, an array, a tensor) before they cross.
 */
export class Dlmath {
  readonly #mod: RawModule;
  readonly #heap: Heap;
  readonly #ops: OpMeta[];
  readonly #byId: Map<string, OpMeta>;
  /** Highway SIMD target of the kernels, e.g. "WASM". */
  readonly target: string;
  /**
   * Whether this engine can train (`model`, `loadModel`, `gpt`, `loadGpt`, `allocations`): false for
   * the light module (`loadDlmath({ training: false })`), whose {@link Dlmath.training} loads the full one.
   */
  readonly canTrain: boolean;

  /**
   * @internal Use `loadDlmath()`.
   * @param mod - the wasm module
   * @param ops - the catalogue (ops.json), written from the same registry as the module
   */
  constructor(mod: RawModule, ops: readonly RawOpMeta[]) {
    this.#mod = mod;
    this.#heap = heapOf(mod);
    const ids = mod._opIds();
    if (ids.length !== ops.length || ops.some((o, i) => o.id !== ids[i]))
      throw new Error('dlmath: ops.json does not describe this wasm module; rebuild both (bash scripts/build.sh wasm)');
    this.#ops = ops.map((o) => Object.freeze(o));
    this.#byId = new Map(this.#ops.map((o) => [o.id, o]));
    this.target = mod._target();
    this.canTrain = '_modelCreate' in mod;
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
   * @param inputs - one entry per input, e.g. `{x: [1, 2, 3]}`; an input set to `undefined` is not given
   * @param params - param values by name; omitted ones take their defaults
   * @param options - `out`: where to write the result instead of a new array: a resident tensor
   *   (returned itself, reshaped to the result) or a Float32Array of the result's size (returned as `data`).
   *   Element-wise and row-wise ops may write over their own input tensor (in place); any other overlap is a
   *   DlmathError 'aliased_output'.
   * @returns the values and their shape (or `out` itself when it is a tensor)
   */
  eval<K extends OpId>(id: K, inputs: Inputs<K>, params?: OpParams[K]): EvalResult;
  eval<K extends OpId>(id: K, inputs: Inputs<K>, params: OpParams[K] | undefined, options: { out: DlTensor }): DlTensor;
  eval<K extends OpId>(
    id: K,
    inputs: Inputs<K>,
    params: OpParams[K] | undefined,
    options: { out?: Float32Array },
  ): EvalResult;
  eval(id: string, inputs: unknown, params?: unknown, options?: { out?: OutBuffer }): EvalResult | DlTensor {
    this.#checkOptions(id, options, ['out']);
    const out = options?.out;
    const r = this.#call(id, inputs, params, { value: true, backward: false, out });
    return out instanceof DlTensor ? out : r.value!;
  }

  /**
   * Gradient of `sum(upstream * op(inputs))` with respect to every
   * differentiable input given and every learnable param (a vector-Jacobian product).
   * @param id - registry id
   * @param inputs - as for {@link Dlmath.eval}
   * @param params - as for {@link Dlmath.eval}
   * @param upstream - dL/d(output), the output's shape; defaults to ones
   * @param options - `out`: resident tensors or Float32Arrays to write input gradients into, by input
   *   name (those are then left out of the returned object); they must not overlap inputs or each other
   * @returns `{name: {shape, data}}` per differentiable input given / learnable param
   */
  grad<K extends OpId>(
    id: K,
    inputs: Inputs<K>,
    params?: OpParams[K],
    upstream?: InputValue,
    options?: { out?: Partial<Record<OpInputs[K], OutBuffer>> },
  ): Record<OpGrads[K], Result>;
  grad(
    id: string,
    inputs: unknown,
    params?: unknown,
    upstream?: InputValue,
    options?: { out?: Record<string, OutBuffer> },
  ): Record<string, Result> {
    this.#checkOptions(id, options, ['out']);
    return this.#call(id, inputs, params, { value: false, backward: true, upstream, gradOut: options?.out }).grads!;
  }

  /**
   * The value and the gradients together, from one forward pass (what a
   * plot of f and f′ needs).
   * @param id - registry id
   * @param inputs - as for {@link Dlmath.eval}
   * @param params - as for {@link Dlmath.eval}
   * @param upstream - as for {@link Dlmath.grad}
   * @param options - `out`: where the value goes (as for eval, but never over an input: backward
   *   reads them); `gradOut`: where input gradients go (as `out` of {@link Dlmath.grad})
   * @returns `{value, grads}`: what eval (`out` itself when it is a tensor) and grad would return
   */
  evalWithGrad<K extends OpId>(
    id: K,
    inputs: Inputs<K>,
    params?: OpParams[K],
    upstream?: InputValue,
    options?: { out?: Float32Array; gradOut?: Partial<Record<OpInputs[K], OutBuffer>> },
  ): ValueAndGrads<EvalResult, OpGrads[K]>;
  evalWithGrad<K extends OpId>(
    id: K,
    inputs: Inputs<K>,
    params: OpParams[K] | undefined,
    upstream: InputValue | undefined,
    options: { out: DlTensor; gradOut?: Partial<Record<OpInputs[K], OutBuffer>> },
  ): ValueAndGrads<DlTensor, OpGrads[K]>;
  evalWithGrad(
    id: string,
    inputs: unknown,
    params?: unknown,
    upstream?: InputValue,
    options?: { out?: OutBuffer; gradOut?: Record<string, OutBuffer | undefined> },
  ): ValueAndGrads<EvalResult | DlTensor> {
    this.#checkOptions(id, options, ['out', 'gradOut']);
    const out = options?.out;
    const r = this.#call(id, inputs, params, { value: true, backward: true, upstream, out, gradOut: options?.gradOut });
    return { value: out instanceof DlTensor ? out : r.value!, grads: r.grads! };
  }

  /**
   * A tensor resident on the wasm heap, reusable across calls without copies.
   * @param data - the values, or `null` for zeros of `shape`
   * @param shape - dimensions; defaults to the data's own shape
   */
  tensor(data: InputValue | null, shape?: number[]): DlTensor {
    if (data === null) {
      if (shape === undefined) throw new DlmathError('bad_type', 'dl.tensor(null, shape) needs a shape');
      return new DlTensor(this.#heap, this.#create(dimsOf(shape, 'dl.tensor: shape'), -1, '', ''));
    }
    return new DlTensor(this.#heap, toResident(this.#heap, data, '', '', shape, true).raw);
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
    if (hyper !== undefined && !isPlainObject(hyper))
      throw new DlmathError('bad_type', `op '${id}': hyper must be an object, got ${describe(hyper)}`, id);
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
    const dims = dimsOf(shape, `op '${id}': shape`, id, 'shape');
    const { shape: s, data } = this.eval(id, { shape: dims } as unknown as Inputs<K>, options as OpParams[K]);
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
    return compileFormula(this.#heap, text);
  }

  /** Bytes in use on the wasm heap (malloc'd), for leak checks. */
  heapUsed(): number {
    return this.#mod._heapUsed();
  }

  /** Heap allocations (malloc and friends) since the module started: a training step makes none. */
  allocations(): number {
    this.#needTraining('allocations');
    return (this.#mod as RawModule & RawTraining)._allocations();
  }

  /**
   * Builds a network trained in the core (see the README's "Training").
   * @param spec - input width, layers, loss, optimizer, schedule, clip, seed, ...
   * @returns the model; dispose() it when done
   * @throws DlmathError naming the layer and field of any mistake, e.g. `layers[2].units`
   */
  model(spec: ModelSpec): DlModel {
    this.#needTraining('model');
    return createModel(this.#mod, spec);
  }

  /**
   * Restores a model saved with `model.toJSON()`, bit-exactly.
   * @param saved - the saved object or its JSON text
   */
  loadModel(saved: SavedModel | string): DlModel {
    this.#needTraining('loadModel');
    return loadModel(this.#mod, saved);
  }

  /**
   * A tiny GPT trained in the core: pretraining, sampling, next-character probabilities,
   * attention, fine-tuning with L2 or L3 = L2 + λ·L1, checkpoints and PyTorch export.
   * @param config - the texts to learn from and the network's settings (defaults: config S)
   * @returns the GPT; dispose() it when done
   */
  gpt(config: GptConfig): DlGpt {
    this.#needTraining('gpt');
    return new DlGpt(this, config);
  }

  /**
   * Restores a GPT saved with `gpt.checkpoint()`: it continues exactly where it stood.
   * @param checkpoint - the checkpoint or its JSON text
   */
  loadGpt(checkpoint: GptCheckpoint | string): DlGpt {
    this.#needTraining('loadGpt');
    return loadGpt(this, checkpoint);
  }

  /**
   * The engine with training: this one if it can train, else the full module, loaded once (the light
   * engine's catalogue calls keep working meanwhile).
   * @param options - where the full module's files are, if moved
   * @returns an engine whose `model`, `gpt`, ... work
   */
  training(options: Omit<LoadOptions, 'training'> = {}): Promise<Dlmath> {
    return this.canTrain ? Promise.resolve(this) : loadDlmath({ ...options, training: true });
  }

  /**
   * Starts a worker (a Web Worker, or a worker thread under Node) that
   * trains models off the main thread, in its own wasm instance of the full
   * module (compiled once per page and shared by every worker; a light engine
   * can start one too).
   * @param options - where the worker module and its .wasm are, if moved
   * @returns the trainer; terminate() it when done
   */
  worker(options?: TrainerOptions): DlTrainer {
    return new DlTrainer(options);
  }

  // ---- internals -----------------------------------------------------------

  #needTraining(method: string): void {
    if (!this.canTrain)
      throw new DlmathError(
        'bad_type',
        `dl.${method}() needs the training engine, and this engine is the light one (loadDlmath({ training: false })): ` +
          `call it on \`await dl.training()\`, or load with loadDlmath()`,
      );
  }

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
    // The core words the message, with the nearest ids.
    if (!this.#byId.has(id)) throw toError(this.#mod._call(id, [], [], [], [], NO_OPTIONS).error!);
  }

  #checkOptions(id: unknown, options: unknown, keys: string[]): void {
    this.#checkId(id);
    if (options === undefined || options === null) return;
    const where = `op '${id}': options`;
    if (!isPlainObject(options))
      throw new DlmathError('bad_type', `${where} must be an object such as {out}, got ${describe(options)}`, id);
    for (const k of Object.keys(options))
      if (!keys.includes(k))
        throw new DlmathError('bad_type', `${where} has no '${k}' (it takes ${keys.join(', ')})`, id, k);
  }

  #create(dims: number[], values: number, op: string, arg: string): RawTensor {
    const r = this.#mod._tensorCreate(dims, values, op, arg);
    if (r.error) throw toError(r.error);
    return r.tensor!;
  }

  // Where a result goes: {raw} to pass to the core, `copyTo` a caller's
  // Float32Array to fill afterwards (through a resident stand-in the core
  // checks like any tensor).
  #outBuffer(value: unknown, op: string, arg: string, what: string): { raw: RawTensor; copyTo?: Float32Array } {
    if (value instanceof DlTensor) return { raw: value.raw() };
    if (value instanceof Float32Array)
      return { raw: this.#create([value.length], value.length, op, arg), copyTo: value };
    throw new DlmathError(
      'bad_type',
      `op '${op}': ${what} must be a tensor from dl.tensor() or a Float32Array, got ${describe(value)}`,
      op,
      arg,
    );
  }

  // Converts everything, makes one core call, frees what it made, copies
  // results out. The core checks all the rest.
  #call(
    id: string,
    inputs: unknown,
    params: unknown,
    spec: CallSpec,
  ): { value?: EvalResult; aux: Record<string, Result>; grads?: Record<string, Result> } {
    const op = this.#byId.get(id)!;
    if (!isPlainObject(inputs))
      throw new DlmathError(
        'bad_type',
        `op '${id}': inputs must be an object naming each input, e.g. {${op.inputs.map((i) => `${i.name}: [...]`).join(', ')}}; got ${describe(inputs)}`,
        id,
      );
    const [pn, pv] = paramsOf(id, params);
    if (spec.gradOut !== undefined && !isPlainObject(spec.gradOut))
      throw new DlmathError('bad_type', `op '${id}': the gradient outputs must map input names to buffers`, id, 'out');
    const made: Resident[] = [];
    const copies: { raw: RawTensor; to: Float32Array }[] = [];
    let result: RawCallResult | undefined;
    try {
      const names: string[] = [];
      const tensors: RawTensor[] = [];
      for (const [name, value] of Object.entries(inputs)) {
        if (value === undefined) continue; // not given, like an omitted param
        const t = toResident(this.#heap, value, id, name);
        made.push(t);
        names.push(name);
        tensors.push(t.raw);
      }
      let upstream: RawTensor | null = null;
      if (spec.upstream !== undefined) {
        const t = toResident(this.#heap, spec.upstream, id, 'upstream');
        made.push(t);
        upstream = t.raw;
      }
      const place = (value: unknown, arg: string, what: string): RawTensor => {
        const o = this.#outBuffer(value, id, arg, what);
        if (o.copyTo) {
          made.push({ raw: o.raw, owned: true });
          copies.push({ raw: o.raw, to: o.copyTo });
        }
        return o.raw;
      };
      const out = spec.out === undefined ? null : place(spec.out, 'out', 'options.out');
      const outArray = spec.out instanceof Float32Array ? spec.out : null;
      const gradNames: string[] = [];
      const gradTensors: RawTensor[] = [];
      for (const [name, value] of Object.entries((spec.gradOut ?? {}) as Record<string, unknown>)) {
        if (value === undefined) continue;
        gradNames.push(name);
        gradTensors.push(place(value, name, `the gradient buffer for '${name}'`));
      }
      result = this.#mod._call(id, names, tensors, pn, pv, {
        backward: spec.backward,
        value: spec.value,
        out,
        upstream,
        gradNames,
        gradTensors,
      });
      if (result.error) throw toError(result.error);
      for (const c of copies) c.to.set(this.#view(c.raw));
      const aux: Record<string, Result> = {};
      for (const [name, t] of Object.entries(result.aux ?? {})) aux[name] = this.#take(t);
      let value: EvalResult | undefined;
      if (result.tensor) value = { ...this.#take(result.tensor), aux };
      else if (spec.value && out && outArray) value = { shape: out.shape(), data: outArray, aux };
      let grads: Record<string, Result> | undefined;
      if (result.grads) {
        grads = {};
        for (const [name, t] of Object.entries(result.grads)) grads[name] = this.#take(t);
      }
      return { value, aux, grads };
    } finally {
      for (const t of made) if (t.owned) t.raw.delete();
      // Anything not taken (an exception half way) is freed here.
      if (result) {
        for (const t of [result.tensor, ...Object.values(result.aux ?? {}), ...Object.values(result.grads ?? {})])
          if (t && !t.isDeleted()) t.delete();
      }
    }
  }

  // The live heap view of a tensor's values (valid until the next wasm call).
  #view(raw: RawTensor): Float32Array {
    const start = raw.ptr() >>> 2;
    return this.#mod.HEAPF32.subarray(start, start + raw.size());
  }

  // Copies a result out of the heap and frees it.
  #take(raw: RawTensor): Result {
    try {
      return { shape: raw.shape(), data: this.#view(raw).slice() };
    } finally {
      raw.delete();
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Dlmath extends OpFunctions {}

const NO_OPTIONS = { backward: false, value: false, out: null, upstream: null, gradNames: [], gradTensors: [] };

function isInputsObject(x: unknown, op: OpMeta): boolean {
  return isPlainObject(x) && !('shape' in x && 'data' in x) && op.inputs.some((i) => i.name in x);
}

// A shape given as an array of numbers (the core checks the numbers).
function dimsOf(shape: unknown, where: string, op = '', arg = ''): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number'))
    throw new DlmathError('bad_type', `${where} must be an array of numbers, got ${describe(shape)}`, op, arg);
  return shape.slice();
}

// Params as parallel arrays of names and values: numbers (booleans as 0 / 1)
// or strings (an enum param's choice by name). The core checks them all.
function paramsOf(id: string, params: unknown): [string[], (number | string)[]] {
  const names: string[] = [];
  const values: (number | string)[] = [];
  if (params === undefined || params === null) return [names, values];
  if (!isPlainObject(params))
    throw new DlmathError(
      'bad_type',
      `op '${id}': params must be an object such as {alpha: 1}, got ${describe(params)}`,
      id,
    );
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string')
      throw new DlmathError('bad_type', `op '${id}': param '${k}' must be a number, got ${describe(v)}`, id, k);
    names.push(k);
    values.push(typeof v === 'boolean' ? Number(v) : v);
  }
  return [names, values];
}
