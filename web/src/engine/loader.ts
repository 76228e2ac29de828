import { Dlmath } from './dlmath.js';
import createDlmathModule from './gen/dlmath_wasm.mjs';

/** Where to find the .wasm, for hosts that move it. */
export interface LoadOptions {
  /** URL of dlmath_wasm.wasm; default: beside this module. */
  wasmUrl?: string | URL;
  /** The .wasm bytes themselves (skips any fetch or file read). */
  wasmBinary?: ArrayBuffer | Uint8Array;
}

let cached: Promise<Dlmath> | undefined;

/** @internal True under Node (also in its worker threads). */
export const isNode =
  typeof process === 'object' && typeof process.versions === 'object' && typeof process.versions.node === 'string';

/**
 * Loads the wasm module once and returns the engine. Browsers fetch the
 * .wasm that sits beside this module; Node reads it from disk.
 * @param options - override where the .wasm comes from (first call only)
 */
export function loadDlmath(options: LoadOptions = {}): Promise<Dlmath> {
  cached ??= instantiate(options).catch((e: unknown) => {
    cached = undefined; // let a later call retry
    throw e;
  });
  return cached;
}

async function instantiate(options: LoadOptions): Promise<Dlmath> {
  const url = options.wasmUrl ?? new URL('./gen/dlmath_wasm.wasm', import.meta.url);
  let wasmBinary = options.wasmBinary;
  if (!wasmBinary && isNode) {
    // Hidden from bundlers: browsers never reach this branch.
    const fsName = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
    wasmBinary = await fs.readFile(url instanceof URL ? url : new URL(url));
  }
  const mod = await createDlmathModule({
    ...(wasmBinary ? { wasmBinary } : {}),
    locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? String(url) : prefix + path),
  });
  return new Dlmath(mod);
}
