// The engine's raw fit rate, for bench/ui.mjs: a fresh model, fitBegin, then
// fitRun in fixed chunks for a while, nothing else. The page imports it for
// the main-thread rate; started as a module Worker, it is the "bare worker"
// (the engine alone in a Web Worker, without the worker host's protocol:
// no time-sized chunks, yields, loss columns or progress messages).
import { compileTraining, loadDlmath } from '/src/engine/loader.ts';

/**
 * Steps per second of a fit of `spec` on (x, y), run for about `ms` milliseconds.
 * @param dl - a full engine (dl.training())
 * @param job - { spec, x, y, options (fitBegin's), ms, chunk: steps per fitRun call }
 */
export function fitRate(dl, job) {
  return fitSteps(dl, job).rate;
}

// fitRate's fit: {rate, steps}.
function fitSteps(dl, { spec, x, y, options, ms, chunk }) {
  const m = dl.model(spec);
  try {
    m.fitBegin(x, y, { ...options, epochs: 1e7 });
    const t0 = performance.now();
    let steps = 0;
    while (performance.now() - t0 < ms) steps += m.fitRun(chunk).stepsRun;
    return { rate: steps / ((performance.now() - t0) / 1e3), steps };
  } finally {
    m.dispose();
  }
}

/**
 * Starts this module as the bare worker, on the module the page compiled for
 * its trainers (dl.worker() gets the same one: a separately compiled module
 * would tier up on its own, and under load that took seconds).
 * @returns {rate(job): Promise<steps/s>, steps: the last job's steps, terminate()} (one job at a time)
 */
export async function bareWorker() {
  const w = new Worker(import.meta.url, { type: 'module' });
  w.postMessage({ wasmModule: await compileTraining() });
  const bare = {
    steps: 0,
    rate: (job) =>
      new Promise((resolve, reject) => {
        w.onmessage = ({ data }) => {
          if (data.error) return reject(new Error(data.error));
          bare.steps = data.steps;
          resolve(data.rate);
        };
        w.postMessage(job);
      }),
    terminate: () => w.terminate(),
  };
  return bare;
}

if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  let dl = null;
  globalThis.onmessage = async ({ data }) => {
    if (data.wasmModule) return void (dl = loadDlmath({ wasmModule: data.wasmModule }));
    try {
      globalThis.postMessage(fitSteps(await dl, data));
    } catch (e) {
      globalThis.postMessage({ error: String(e) });
    }
  };
}
