// What every JS wrapper of an Embind handle shares: the `using` symbol and a
// leak detector for wrappers collected without dispose().

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
