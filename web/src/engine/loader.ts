import { Dlmath } from './dlmath.js';
import createDlmathModule from './gen/dlmath_wasm.mjs';
import type { RawOpMeta } from './wasm.js';

/** Where to find the .wasm and the catalogue, for hosts that move them. */
export interface LoadOptions {
  /** URL of dlmath_wasm.wasm; default: beside this module. */
  wasmUrl?: string | URL;
  /** The .wasm bytes themselves (skips any fetch or file read). */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** URL of ops.json, the catalogue's metadata (titles, LaTeX, explanations, inputs, params); default: beside this module. */
  opsUrl?: string | URL;
}

let cachedEngine: Promise<Dlmath> | undefined;
let cachedCatalogue: Promise<RawOpMeta[]> | undefined;

/** @internal True under Node (also in its worker threads). */
export const isNode =
  typeof process === 'object' && typeof process.versions === 'object' && typeof process.versions.node === 'string';

/** A file's bytes in Node (browsers never call this). */
async function readFile(url: string | URL): Promise<Uint8Array> {
  // Hidden from bundlers: browsers never reach this branch.
  const fsName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
  return fs.readFile(url instanceof URL ? url : new URL(url));
}

/**
 * Loads the catalogue's metadata (ops.json, written with the wasm module by the build) once. The engine
 * needs it too; a page may ask for it first, to start loading what an entry's page needs while the wasm
 * compiles.
 * @param options - override where ops.json comes from (first call only)
 */
export function loadCatalogue(options: LoadOptions = {}): Promise<RawOpMeta[]> {
  cachedCatalogue ??= readCatalogue(options).catch((e: unknown) => {
    cachedCatalogue = undefined; // let a later call retry
    throw e;
  });
  return cachedCatalogue;
}

async function readCatalogue(options: LoadOptions): Promise<RawOpMeta[]> {
  const url = options.opsUrl ?? new URL('./gen/ops.json', import.meta.url);
  if (isNode) return parseCatalogue(new TextDecoder().decode(await readFile(url)));
  const r = await fetch(url);
  if (!r.ok) throw new Error(`dlmath: cannot load the catalogue ${String(url)} (HTTP ${r.status})`);
  return parseCatalogue(await r.text());
}

/** ops.json's text; JSON has no infinities, so scripts/gen-ops.mjs writes an unbounded range's ends as strings. */
function parseCatalogue(text: string): RawOpMeta[] {
  return JSON.parse(text, (_key, v: unknown) =>
    v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v,
  ) as RawOpMeta[];
}

/**
 * Loads the wasm module once and returns the engine. Browsers fetch the
 * .wasm and ops.json that sit beside this module; Node reads them from disk.
 * @param options - override where they come from (first call only)
 */
export function loadDlmath(options: LoadOptions = {}): Promise<Dlmath> {
  cachedEngine ??= instantiate(options).catch((e: unknown) => {
    cachedEngine = undefined; // let a later call retry
    throw e;
  });
  return cachedEngine;
}

async function instantiate(options: LoadOptions): Promise<Dlmath> {
  const url = options.wasmUrl ?? new URL('./gen/dlmath_wasm.wasm', import.meta.url);
  const catalogue = loadCatalogue(options);
  const wasmBinary = options.wasmBinary ?? (isNode ? await readFile(url) : undefined);
  // The browser streams the .wasm into the compiler (instantiateStreaming) while ops.json arrives.
  const mod = await createDlmathModule({
    ...(wasmBinary ? { wasmBinary } : {}),
    locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? String(url) : prefix + path),
  });
  return new Dlmath(mod, await catalogue);
}
