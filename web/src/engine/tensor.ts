import { describe, DlmathError, toError } from './errors.js';
import { disposeSymbol, leakDetector } from './handles.js';
import type { RawModule, RawTensor } from './wasm.js';

const leaks = leakDetector<RawTensor>('tensor');

/** @internal The raw module with the limits the facade needs while it reads JS values, read once. */
export interface Heap {
  mod: RawModule;
  /** Deepest nesting of arrays followed before the core is asked about a shape. */
  maxRank: number;
  /** Most values a flattened array may hold before the core is asked about its shape. */
  maxElements: number;
}

/**
 * @internal
 * @param mod - the raw module
 */
export function heapOf(mod: RawModule): Heap {
  return { mod, ...mod._limits() };
}

/** Anything accepted as an op input (or as an upstream gradient). */
export type InputValue =
  number | ArrayLike<number> | NestedArray | { shape: number[]; data: ArrayLike<number> } | DlTensor;
export interface NestedArray extends ReadonlyArray<number | NestedArray> {}

/**
 * A float32 tensor resident on the wasm heap. Pass it wherever an array is
 * accepted to skip the copy in, or as `{out}` to skip the copy out. Release it
 * with `dispose()` (or `using t = dl.tensor(...)`).
 */
export class DlTensor {
  #raw: RawTensor | null;
  readonly #heap: Heap;

  /** @internal Use `dl.tensor(...)`. */
  constructor(heap: Heap, raw: RawTensor) {
    this.#heap = heap;
    this.#raw = raw;
    leaks?.register(this, raw, this);
  }

  /** The dimensions, e.g. `[2, 3]`; `[]` for a scalar. */
  get shape(): number[] {
    return this.raw().shape();
  }

  /** Number of elements. */
  get size(): number {
    return this.raw().size();
  }

  /** Whether dispose() has run. */
  get disposed(): boolean {
    return this.#raw === null;
  }

  /** A copy of the values (safe to keep: it does not alias the heap). */
  data(): Float32Array {
    const raw = this.raw();
    const start = raw.ptr() >>> 2;
    return this.#heap.mod.HEAPF32.slice(start, start + raw.size());
  }

  /**
   * Overwrites the values in place. Takes what `dl.tensor()` takes (numbers,
   * nested arrays, typed arrays, `{shape, data}`, another tensor), read flat.
   * @param values - exactly `size` numbers
   */
  set(values: InputValue): this {
    const raw = this.raw();
    if (values instanceof DlTensor) values = values.data();
    const { mod } = this.#heap;
    const flat = flatten(this.#heap, values, '', '');
    // The values' own shape first (nesting depth, size), then their count.
    for (const dims of [flat.shape, raw.shape()]) {
      const r = mod._shapeCheck(dims, flat.data.length, '', '');
      if (r.error) throw toError(r.error);
    }
    if (flat.data.length) mod.HEAPF32.set(flat.data, raw.ptr() >>> 2);
    return this;
  }

  /** Frees the heap memory. Further use throws a DlmathError. */
  dispose(): void {
    if (this.#raw === null) return;
    leaks?.unregister(this);
    this.#raw.delete();
    this.#raw = null;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  /** @internal The Embind handle, for the facade. */
  raw(): RawTensor {
    if (this.#raw === null)
      throw new DlmathError('disposed', 'this tensor was disposed; create a new one with dl.tensor()');
    return this.#raw;
  }
}

/** @internal A tensor on the heap for one call; `owned`: made for it (free it after). */
export interface Resident {
  raw: RawTensor;
  owned: boolean;
}

/**
 * @internal Any accepted input as a resident tensor: a DlTensor as it is,
 * anything else copied into a new one (the core checks its shape and size).
 * @param heap - the raw module and its limits
 * @param value - the input
 * @param op - op id for messages ('' outside an op call)
 * @param arg - input name for messages
 * @param shape - dimensions to give the values (dl.tensor's second argument)
 * @param copyTensor - copy a DlTensor too (dl.tensor(t) makes a new tensor)
 */
export function toResident(
  heap: Heap,
  value: unknown,
  op: string,
  arg: string,
  shape?: unknown,
  copyTensor = false,
): Resident {
  if (value instanceof DlTensor) {
    if (!copyTensor && shape === undefined) return { raw: value.raw(), owned: false };
    value = value.data();
  }
  const flat = flatten(heap, value, op, arg);
  let dims = flat.shape;
  if (shape !== undefined) {
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number'))
      throw new DlmathError(
        'bad_type',
        `dl.tensor: shape must be an array of numbers, got ${describe(shape)}`,
        op,
        arg,
      );
    dims = shape;
  }
  const r = heap.mod._tensorCreate(dims, flat.data.length, op, arg);
  if (r.error) throw toError(r.error);
  const raw = r.tensor!;
  if (flat.data.length) heap.mod.HEAPF32.set(flat.data, raw.ptr() >>> 2);
  return { raw, owned: true };
}

/** @internal How deep and how large a JS array is read before the core is asked about its shape. */
export type Limits = Pick<Heap, 'maxRank' | 'maxElements'>;

/**
 * @internal Any accepted input form -> flat numbers and the shape they came
 * in (unchecked: the core checks shapes). Only JS types are checked here.
 * @param heap - the limits (the raw module's, or the generated LIMITS)
 * @param value - the input
 * @param op - op id (or call name) for messages
 * @param arg - input name for messages
 */
export function flatten(
  heap: Limits,
  value: unknown,
  op: string,
  arg: string,
): { shape: number[]; data: ArrayLike<number> } {
  const where = op
    ? `op '${op}': ${arg === 'upstream' ? 'the upstream gradient' : `input '${arg}'`}`
    : arg
      ? `tensor '${arg}'`
      : 'tensor';
  const bad = (code: 'bad_type' | 'bad_shape', why: string) => new DlmathError(code, `${where} ${why}`, op, arg);
  if (typeof value === 'number') return { shape: [], data: [value] };
  if (ArrayBuffer.isView(value)) {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array || value instanceof DataView)
      throw bad('bad_type', `must hold numbers, got ${describe(value)}`);
    const a = value as unknown as ArrayLike<number>;
    return { shape: [a.length], data: a };
  }
  if (Array.isArray(value)) return flattenNested(value, heap, bad);
  if (isShapeData(value)) {
    const { shape, data } = value;
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number'))
      throw bad('bad_type', `has a shape that is not an array of numbers: ${describe(shape)}`);
    if (!Array.isArray(data) && !(ArrayBuffer.isView(data) && !(data instanceof DataView)))
      throw bad('bad_type', `data must be an array or typed array, got ${describe(data)}`);
    return { shape: shape as number[], data: flatten(heap, data, op, arg).data };
  }
  throw bad(
    'bad_type',
    `must be a number, an array, a typed array, {shape, data} or a dl.tensor(); got ${describe(value)}`,
  );
}

function isShapeData(v: unknown): v is { shape: unknown; data: unknown } {
  return (
    typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype && 'shape' in v && 'data' in v
  );
}

// A nested array read into one Float32Array. Its shape is taken from the
// first element at each depth, never deeper than maxRank + 1 and never
// larger than maxElements (past either limit the core refuses the shape
// before a value is read), then every element is checked against it, so a
// malformed array costs no deep recursion and no huge allocation.
function flattenNested(
  value: readonly unknown[],
  heap: Limits,
  bad: (code: 'bad_type' | 'bad_shape', why: string) => DlmathError,
): { shape: number[]; data: Float32Array | number[] } {
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (shape.length > heap.maxRank) return { shape, data: [] };
  }
  let n = 1;
  for (const d of shape) n *= d;
  if (n > heap.maxElements) return { shape, data: [] };
  const data = new Float32Array(n);
  let at = 0;
  const walk = (v: readonly unknown[], depth: number, path: string): void => {
    if (v.length !== shape[depth])
      throw bad(
        'bad_shape',
        `is a ragged nested array: ${path || 'it'} has ${v.length} entries, expected ${shape[depth]}`,
      );
    if (depth + 1 === shape.length) {
      for (let i = 0; i < v.length; ++i) {
        const x = v[i];
        if (typeof x !== 'number')
          throw Array.isArray(x)
            ? bad('bad_shape', `is a ragged nested array: element ${path}[${i}] is an array`)
            : bad('bad_type', `must hold numbers only; element ${path}[${i}] is ${describe(x)}`);
        data[at++] = x;
      }
      return;
    }
    for (let i = 0; i < v.length; ++i) {
      const row = v[i];
      if (!Array.isArray(row))
        throw bad('bad_shape', `is a ragged nested array: element ${path}[${i}] is not an array`);
      walk(row, depth + 1, `${path}[${i}]`);
    }
  };
  walk(value, 0, '');
  return { shape, data };
}
