// Bundles a TensorFlow.js side module of the benchmarks for Node with esbuild
// (tfjs-core's gradient registrations are extension-less ESM that Node cannot
// import directly) and imports it. Used by bench/run.mjs (tfjs-side.mjs) and
// bench/gpt.mjs (gpt_tfjs.mjs).
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the backend's .wasm binaries are (setWasmPaths wants the trailing separator). */
export const TFJS_WASM_DIR = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep;

/**
 * Bundles `entry` into `outfile` and imports it.
 * @param entry - the side module, e.g. bench/tfjs-side.mjs
 * @param outfile - the bundle, under build/bench
 * @returns the bundle's exports
 */
export async function importTfjsBundle(entry, outfile) {
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'warning',
    // The emscripten glue of tfjs-backend-wasm is CommonJS (require('fs'),
    // __dirname): give it both inside the ES module.
    banner: {
      js: [
        "import { createRequire as __benchRequire } from 'node:module';",
        "import { fileURLToPath as __benchPath } from 'node:url';",
        "import { dirname as __benchDir } from 'node:path';",
        'const require = __benchRequire(import.meta.url);',
        'const __filename = __benchPath(import.meta.url);',
        'const __dirname = __benchDir(__filename);',
      ].join('\n'),
    },
  });
  return import(pathToFileURL(outfile).href);
}

/**
 * Bundles and imports a side module, then starts its wasm backend (`initTf`).
 * A failure is logged and leaves the TF.js columns empty instead of stopping the bench.
 * @returns `{ side, info }`: the side module's exports and initTf's answer, or nulls
 */
export async function loadTfjsSide(entry, outfile, log) {
  try {
    const side = await importTfjsBundle(entry, outfile);
    return { side, info: await side.initTf(TFJS_WASM_DIR) };
  } catch (e) {
    log(`TF.js unavailable, its columns stay empty: ${e?.message ?? e}`);
    return { side: null, info: null };
  }
}
