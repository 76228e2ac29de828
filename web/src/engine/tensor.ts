import { DlmathError } from './errors.js';
import { disposeSymbol, leakDetector } from './handles.js';
import type { RawModule, RawTensor } from './wasm.js';

const leaks = leakDetector<RawTensor>('tensor');

/**
 * A float32 tensor resident on the wasm heap. Pass it wherever an array is
 * accepted to skip the copy in, or as `{out}` to skip the copy out. Release it
 * with `dispose()` (or `using t = dl.tensor(...)`).
 */
export class DlTensor {
  #raw: RawTensor | null;
  readonly #mod: RawModule;

  /** @internal Use `dl.tensor(...)`. */
  constructor(mod: RawModule, raw: RawTensor) {
    this.#mod = mod;
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
    return this.#mod.HEAPF32.slice(start, start + raw.size());
  }

  /**
   * Overwrites the values in place.
   * @param values - exactly `size` numbers
   */
  set(values: ArrayLike<number>): this {
    const raw = this.raw();
    if (values.length !== raw.size())
      throw new DlmathError(
        'bad_shape',
        `tensor.set: got ${values.length} values for a tensor of shape [${raw.shape().join(', ')}] (${raw.size()} values)`,
      );
    this.#mod.HEAPF32.set(values, raw.ptr() >>> 2);
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
