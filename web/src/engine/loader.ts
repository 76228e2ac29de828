import { Dlmath } from './dlmath.js';
import createDlmathLite from './gen/dlmath_lite.mjs';
import type { RawFactory, RawOpMeta } from './wasm.js';

/** Which module to load and where its files are, for hosts that move them. */
export interface LoadOptions {
  /**
   * Whether the engine can train (`dl.model`, `dl.loadModel`, `dl.gpt`, `dl.loadGpt`, `dl.allocations`).
   * Default true: the full module. `false` loads the light module, the catalogue and the formula
   * evaluator only (about a quarter smaller): a page that shows formulas and plots wants it, and its
   * `dl.training()` loads the full module when something does train.
   */
  training?: boolean;
  /** URL of the module's .wasm (dlmath_wasm.wasm, or dlmath_lite.wasm with `training: false`); default: beside this module. */
  wasmUrl?: string | URL;
  /** The .wasm bytes themselves (skips any fetch or file read). */
  wasmBinary?: ArrayBuffer | Uint8Array<ArrayBuffer>;
  /** The module compiled already, e.g. posted from another thread (skips fetching and compiling). */
  wasmModule?: WebAssembly.Module;
  /** URL of ops.json, the catalogue's metadata (titles, LaTeX, explanations, inputs, params); default: beside this module. */
  opsUrl?: string | URL;
}

type Kind = 'lite' | 'full';

// The two modules of wasm/CMakeLists.txt. Literal `new URL(..., import.meta.url)`s, so bundlers copy the
// files; the full module's glue is imported when first needed, so a light page never downloads it.
const MODULES: Record<Kind, { url: () => URL; factory: () => Promise<RawFactory> }> = {
  lite: {
    url: () => new URL('./gen/dlmath_lite.wasm', import.meta.url),
    factory: () => Promise.resolve(createDlmathLite),
  },
  full: {
    url: () => new URL('./gen/dlmath_wasm.wasm', import.meta.url),
    factory: async () => (await import('./gen/dlmath_wasm.mjs')).default,
  },
};

const engines = new Map<Kind, Promise<Dlmath>>();
const compiled = new Map<string, Promise<WebAssembly.Module>>();
let cachedCatalogue: Promise<RawOpMeta[]> | undefined;

/** @internal True under Node (also in its worker threads). */
export const isNode =
  typeof process === 'object' && typeof process.versions === 'object' && typeof process.versions.node === 'string';

/** A file's bytes in Node (browsers never call this). */
async function readFile(url: string | URL): Promise<Uint8Array<ArrayBuffer>> {
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
 * @param options - which module (`training`, default true) and where its files come from (first call of each
 *   module only). A light request after the full engine has loaded gets the full engine: it serves the catalogue too.
 */
export function loadDlmath(options: LoadOptions = {}): Promise<Dlmath> {
  const kind: Kind = options.training === false ? 'lite' : 'full';
  const loaded = engines.get(kind) ?? (kind === 'lite' ? engines.get('full') : undefined);
  if (loaded) return loaded;
  const engine = instantiate(kind, options).catch((e: unknown) => {
    engines.delete(kind); // let a later call retry
    throw e;
  });
  engines.set(kind, engine);
  return engine;
}

/**
 * @internal The full module compiled once per page (or process) and shared: the main thread's full
 * engine and every trainer's worker instantiate this one WebAssembly.Module (it is structured-cloneable).
 * @param wasmUrl - where the full module's .wasm is, if moved
 */
export function compileTraining(wasmUrl?: string | URL): Promise<WebAssembly.Module> {
  return compileOnce(wasmUrl ?? MODULES.full.url());
}

function compileOnce(url: string | URL): Promise<WebAssembly.Module> {
  const key = String(url);
  let module = compiled.get(key);
  if (!module) {
    module = compile(url).catch((e: unknown) => {
      compiled.delete(key); // let a later call retry
      throw e;
    });
    compiled.set(key, module);
  }
  return module;
}

async function compile(url: string | URL): Promise<WebAssembly.Module> {
  if (isNode) return WebAssembly.compile(await readFile(url));
  const r = await fetch(url);
  if (!r.ok) throw new Error(`dlmath: cannot load the wasm module ${String(url)} (HTTP ${r.status})`);
  // Streaming compiles while the bytes arrive; a server that does not say application/wasm refuses it.
  return r.headers.get('content-type')?.startsWith('application/wasm')
    ? WebAssembly.compileStreaming(r)
    : WebAssembly.compile(await r.arrayBuffer());
}

async function instantiate(kind: Kind, options: LoadOptions): Promise<Dlmath> {
  const { url, factory } = MODULES[kind];
  const catalogue = loadCatalogue(options);
  const create = factory();
  // ops.json, the glue and the .wasm arrive in parallel; the browser compiles while the bytes stream in.
  const module = await (options.wasmModule ??
    (options.wasmBinary ? WebAssembly.compile(options.wasmBinary) : compileOnce(options.wasmUrl ?? url())));
  let failed: (e: unknown) => void = () => undefined;
  const instanceFailed = new Promise<never>((_, reject) => (failed = reject));
  const mod = await Promise.race([
    (await create)({
      // Emscripten's hook: the glue takes this instance instead of fetching the .wasm itself.
      instantiateWasm: (imports, done) => {
        WebAssembly.instantiate(module, imports).then((instance) => done(instance, module), failed);
        return {};
      },
    }),
    instanceFailed,
  ]);
  return new Dlmath(mod, await catalogue);
}
