// What every JS wrapper of an Embind handle shares: the `using` symbol and a
// leak detector for wrappers collected without dispose(), and the base class
// of wrappers that own one handle.
import { DlmathError } from './errors.js';

/** Symbol.dispose where the engine has it (Node >= 20, current browsers), else a registered stand-in. */
export const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/** An Embind handle as far as freeing goes. */
interface Deletable {
  isDeleted(): boolean;
  delete(): void;
}

/**
 * A leak detector (not a memory manager): a wrapper collected without
 * dispose() frees its handle and is reported once.
 * @param what - the wrapper's name in the warning, e.g. 'tensor'
 * @returns a registry to register(wrapper, handle, wrapper) / unregister(wrapper) with
 */
export function leakDetector<T extends Deletable>(what: string): FinalizationRegistry<T> | undefined {
  if (typeof FinalizationRegistry !== 'function') return undefined;
  return new FinalizationRegistry<T>((raw) => {
    if (!raw.isDeleted()) {
      console.warn(`dlmath: a ${what} was garbage-collected without dispose(); freeing it`);
      raw.delete();
    }
  });
}

/**
 * A JS wrapper that owns one Embind handle: `dispose()` frees it once,
 * `using` calls dispose(), and a wrapper collected without dispose() is
 * reported by the leak detector it was made with.
 */
export abstract class HandleOwner<T extends Deletable> {
  #raw: T | null;
  readonly #leaks: FinalizationRegistry<T> | undefined;

  /**
   * @param raw - the handle, now owned by this wrapper
   * @param leaks - a leakDetector() for this kind of wrapper
   */
  protected constructor(raw: T, leaks: FinalizationRegistry<T> | undefined) {
    this.#raw = raw;
    this.#leaks = leaks;
    leaks?.register(this, raw, this);
  }

  /** Whether dispose() has run. */
  get disposed(): boolean {
    return this.#raw === null;
  }

  /** Frees the handle's memory. Further use throws a DlmathError. */
  dispose(): void {
    if (this.#raw === null) return;
    this.#leaks?.unregister(this);
    this.#raw.delete();
    this.#raw = null;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  /**
   * The handle, or a DlmathError 'disposed' after dispose().
   * @param message - what the error says
   * @param op - the error's op
   */
  protected held(message: string, op = ''): T {
    if (this.#raw === null) throw new DlmathError('disposed', message, op);
    return this.#raw;
  }
}
