// The playground while a slider is dragged: does a live update fit in a
// frame? Opens pages in headless Chromium (Debian's, via playwright-core),
// moves a param slider once per animation frame for FRAMES frames, and
// reports the cost of each update (the input handler plus the shell's
// 'dlmath:render' measure: the engine calls and the plots' redraw) and the
// frame-to-frame intervals. Then the worker row: a page animating a canvas
// while dl.worker() trains (see workerRow below).
//   node bench/ui.mjs            (after `bash scripts/build.sh wasm`)
//   node bench/ui.mjs worker     (the worker row only)
//   node bench/ui.mjs trainpage  (the training page rows only)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';
import { launchChromium } from './chromium.mjs';
import { TRAIN_CASES } from './train.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FRAMES = Number(process.env.BENCH_FRAMES ?? 240);
// page, slider to drag (data-testid), its range
const CASES = [
  ['e=elu', 'param-alpha-slider', 0.05, 3],
  ['e=gelu_tanh&v.cmp=relu,silu,mish,gelu_erf', 'view-probe-slider', -5, 5],
  ['e=softmax_temperature', 'param-temperature-slider', 0.1, 5],
  ['e=huber', 'param-delta-slider', 0.1, 3],
  // Heavier views, for comparison: a 100-step optimizer path rebuilt closed-loop, attention maps.
  ['e=adam&p.lr=0.1', 'param-lr-slider', 0.01, 0.3],
  ['e=scaled_dot_product_attention', 'param-scale-slider', 0.1, 2],
  ['e=layer_norm', 'param-eps-slider', 1e-5, 1],
];

// ---- training in a worker while the page animates ---------------------------------

// MLP 2-8-8-1 tanh, SGD, MSE (bench/train.mjs's small workload), on 1,000
// points, batches of 10.
const WORKER_SPEC = TRAIN_CASES[0].spec;
const WORKER_SECONDS = Number(process.env.BENCH_WORKER_S ?? 2);
const WORKER_ROUNDS = Number(process.env.BENCH_WORKER_ROUNDS ?? 5);

// The page's default (3-arm spiral, 2-8-8-3 tanh, Adam, batch 10) and its digits mode (784-128-10 ReLU, batch 64).
const TRAIN_PAGE_CASES = ['e=train', 'e=train&v.data=mnist'];
const TRAIN_PAGE_SECONDS = Number(process.env.BENCH_TRAINPAGE_S ?? 3);
const TRAIN_PAGE_ROUNDS = Number(process.env.BENCH_TRAINPAGE_ROUNDS ?? 3);

const quantile = (a, q) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const server = await createServer({
  configFile: path.join(root, 'web/vite.config.ts'),
  logLevel: 'warn',
  // The bare worker's module (bench/ui-fit-rate.mjs) is served from outside web/.
  server: { host: '127.0.0.1', port: 0, hmr: false, fs: { allow: [root] } },
});
await server.listen();
const url = server.resolvedUrls.local[0];
const browser = await launchChromium();
const rows = [];
const only = process.argv[2];
const workerOnly = only === 'worker' || only === 'trainpage';
let worker = null;
const trainPage = [];
try {
  for (const [hash, slider, lo, hi] of workerOnly ? [] : CASES) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}#${hash}`);
    await page.waitForFunction(() => (window.dlmathApp?.state().renders ?? 0) > 0, null, { timeout: 60_000 });
    const sel = `[data-testid=${slider}]`;
    if ((await page.locator(sel).count()) === 0) {
      rows.push(`| ${hash} | ${slider} | (no such slider) | | | | |`);
      continue;
    }
    const r = await page.evaluate(
      ([sel, frames, lo, hi]) =>
        new Promise((resolve) => {
          const el = document.querySelector(sel);
          performance.clearMeasures('dlmath:render');
          const stamps = [];
          const handlers = [];
          let i = 0;
          const tick = (ts) => {
            stamps.push(ts);
            if (i === frames) {
              // A view re-renders inside the input handler, the shell's params on
              // the next frame: an update costs the handler plus that render.
              const renders = performance.getEntriesByName('dlmath:render').map((e) => e.duration);
              const cost = handlers.map((d, k) => d + (renders[k] ?? 0));
              resolve({ renders: cost, intervals: stamps.slice(1).map((t, k) => t - stamps[k]) });
              return;
            }
            // One input event per frame, as a drag delivers them.
            el.value = String(lo + ((hi - lo) * (i % 60)) / 60);
            const t0 = performance.now();
            el.dispatchEvent(new Event('input', { bubbles: true }));
            handlers.push(performance.now() - t0);
            ++i;
            requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        }),
      [sel, FRAMES, lo, hi],
    );
    const slow = r.intervals.filter((d) => d > 1.5 * (1000 / 60)).length;
    rows.push(
      `| ${hash} | ${slider} | ${r.renders.length} | ${quantile(r.renders, 0.5).toFixed(2)} | ${quantile(r.renders, 0.95).toFixed(2)} | ${quantile(r.intervals, 0.5).toFixed(1)} / ${quantile(r.intervals, 0.95).toFixed(1)} | ${slow} |`,
    );
    await page.close();
  }
  if (only !== 'trainpage') worker = await workerRow(browser, url);
  if (only !== 'worker') for (const hash of TRAIN_PAGE_CASES) trainPage.push(await trainPageRow(browser, url, hash));
} finally {
  await browser.close();
  await server.close();
}
if (!workerOnly) printSliders();
printWorker(worker);
printTrainPage(trainPage);

function printSliders() {
  console.log(
    `Live updates while dragging (${FRAMES} frames, one input event per frame; element-wise plots have 2,001 points):\n`,
  );
  console.log(
    '| page | slider | updates | update ms p50 | update ms p95 | frame interval ms p50 / p95 | frames > 25 ms |',
  );
  console.log('|---|---|--:|--:|--:|--:|--:|');
  for (const r of rows) console.log(r);
}

/**
 * In one page, in interleaved rounds (the order rotates each round): the
 * engine's raw fit rate on the main thread (the page cannot draw meanwhile);
 * the same fit in a bare worker (bench/ui-fit-rate.mjs: the engine alone in a
 * Web Worker), with the page idle and while a canvas is redrawn every
 * animation frame; and a fit of
 * ~WORKER_SECONDS in dl.worker() with the same animation. Same spec, data and
 * fit options (logSteps included) everywhere.
 * @returns {raw, idle, bare, worker: steps/s[], bareCpu, workerCpu: steps per CPU-second of the training
 *   thread[] (Linux; both windows include their side's start and end), intervals, blocked: ms[], messages, losses}
 */
async function workerRow(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.waitForFunction(() => window.dlmathApp?.dl !== undefined, null, { timeout: 60_000 });
  await page.evaluate(
    async ([spec, seconds, rateUrl]) => {
      const { fitRate, bareWorker } = await import(rateUrl);
      // The raw fit runs on this thread: the full module (the page itself loads the light one).
      const dl = await window.dlmathApp.dl.training();
      const n = 1000;
      const x = new Float32Array(2 * n).map((_, i) => Math.sin(i * 12.9898) * 2);
      const y = new Float32Array(n).map((_, i) => Math.sin(x[2 * i]) * Math.cos(x[2 * i + 1]));
      // The worker host's default logSteps, on every side.
      const options = { batchSize: 10, shuffle: true, logSteps: 16384 };
      const job = (ms) => ({ spec, x, y, options, ms, chunk: 1000 });
      const canvas = document.body.appendChild(document.createElement('canvas'));
      canvas.width = 800;
      canvas.height = 400;
      const g = canvas.getContext('2d');
      // What a training page draws per frame: a loss curve of 400 points.
      const draw = (t) => {
        g.clearRect(0, 0, 800, 400);
        g.beginPath();
        for (let i = 0; i < 400; ++i) g.lineTo(i * 2, 200 + 150 * Math.sin(i / 20 + t / 300));
        g.stroke();
      };
      const animate = () => {
        const stamps = [];
        let on = true;
        const tick = (t) => {
          stamps.push(t);
          draw(t);
          if (on) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
        return () => {
          on = false;
          return stamps.slice(1).map((t, k) => t - stamps[k]);
        };
      };
      const frames = () => new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
      const out = {
        raw: [],
        idle: [],
        bare: [],
        worker: [],
        intervals: [],
        blocked: [],
        messages: 0,
        losses: 0,
        steps: 0,
      };
      const bare = await bareWorker();
      const trainer = dl.worker();
      const remote = await trainer.model(spec);
      // Steps trained by the last side that trained in a worker (for the steps per CPU-second).
      let trained = 0;
      const hosted = async (ms, onProgress) => {
        const stop = new AbortController();
        const t0 = performance.now();
        setTimeout(() => stop.abort(), ms);
        const h = await remote.fit(x, y, { ...options, epochs: 1e7, signal: stop.signal, onProgress });
        if (onProgress) out.steps += h.steps;
        trained = h.steps;
        return h.steps / ((performance.now() - t0) / 1e3);
      };
      // Warm-up of each side (wasm tiers up after its first calls): ~1 s each.
      fitRate(dl, job(1000));
      await bare.rate(job(1000));
      await hosted(1000);
      const sides = [
        async () => {
          const stop = animate();
          out.raw.push(fitRate(dl, job(1000)));
          await frames();
          out.blocked.push(...stop());
        },
        async () => {
          out.idle.push(await bare.rate(job(seconds * 1000)));
        },
        async () => {
          const stop = animate();
          out.bare.push(await bare.rate(job(seconds * 1000)));
          trained = bare.steps;
          stop();
        },
        async () => {
          const stop = animate();
          out.worker.push(
            await hosted(seconds * 1000, (q) => {
              ++out.messages;
              out.losses += q.losses.length;
            }),
          );
          out.intervals.push(...stop());
        },
      ];
      // The rounds are driven from Node, which reads the worker threads' CPU time around each side.
      window.dlmathWorkerRow = {
        run: async (k) => {
          trained = 0;
          await sides[k]();
          return trained;
        },
        done: async () => {
          await trainer.terminate();
          bare.terminate();
          canvas.remove();
          return out;
        },
      };
    },
    [WORKER_SPEC, WORKER_SECONDS, `/@fs${path.join(root, 'bench/ui-fit-rate.mjs')}`],
  );
  // Steps per CPU-second of the training thread, bare worker (side 2) and dl.worker() (side 3): what the
  // host itself costs, whatever share of the cores the OS gave the thread.
  const cpu = { 2: [], 3: [] };
  for (let r = 0; r < WORKER_ROUNDS; ++r)
    for (let k = 0; k < 4; ++k) {
      const side = (r + k) % 4;
      const c0 = workerCpu();
      const steps = await page.evaluate((s) => window.dlmathWorkerRow.run(s), side);
      const c = workerCpu() - c0;
      if (side in cpu && c > 0) cpu[side].push(steps / c);
    }
  const r = await page.evaluate(() => window.dlmathWorkerRow.done());
  await page.close();
  return { ...r, bareCpu: cpu[2], workerCpu: cpu[3] };
}

/**
 * CPU seconds used so far by Chromium's Web Worker threads (Linux /proc; NaN elsewhere): the bare
 * worker and dl.worker()'s never train at the same time.
 */
function workerCpu() {
  if (!fs.existsSync('/proc/self/task')) return NaN;
  let seconds = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)))
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        if (!fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith('DedicatedWorker')) continue;
        // utime and stime, in clock ticks (USER_HZ, 100 on Linux), after the parenthesized name.
        const f = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
        seconds += (Number(f[11]) + Number(f[12])) / 100;
      }
    } catch {
      // A process or thread that ended meanwhile.
    }
  return seconds;
}

function printWorker(w) {
  if (!w) return;
  const med = (a) => quantile(a, 0.5);
  const steps = (v) => Math.round(v).toLocaleString('en-US');
  const all = (a) => a.map(steps).join(', ');
  const ratio = med(w.worker) / med(w.raw);
  const p95 = quantile(w.intervals, 0.95);
  console.log(
    `\nTraining in a worker while the page animates (headless Chromium, MLP 2-8-8-1 tanh, SGD, batch 10, logSteps 16384; medians of ${WORKER_ROUNDS} interleaved rounds, raw ~1 s, workers ~${WORKER_SECONDS} s; frame intervals of the dl.worker() fit):\n`,
  );
  console.log('| | steps/s (median) | rounds | frame interval ms p50 / p95 | goal |');
  console.log('|---|--:|--:|--:|---|');
  console.log(
    `| main-thread fit (the engine's raw rate; the page cannot draw) | ${steps(med(w.raw))} | ${all(w.raw)} | ${quantile(w.blocked, 0.5).toFixed(1)} / ${quantile(w.blocked, 0.95).toFixed(1)} | |`,
  );
  console.log(
    `| bare worker (the engine alone in a Web Worker), the page idle | ${steps(med(w.idle))} (${((med(w.idle) / med(w.raw)) * 100).toFixed(0)} % of raw) | ${all(w.idle)} | | |`,
  );
  console.log(
    `| bare worker while the page redraws a canvas every frame | ${steps(med(w.bare))} (${((med(w.bare) / med(w.raw)) * 100).toFixed(0)} % of raw) | ${all(w.bare)} | | |`,
  );
  console.log(
    `| dl.worker() fit while the page redraws a canvas every frame | ${steps(med(w.worker))} (${(ratio * 100).toFixed(0)} % of raw${ratio < 0.9 ? ' ✗' : ''}, ${((med(w.worker) / med(w.bare)) * 100).toFixed(0)} % of the bare worker) | ${all(w.worker)} | ${quantile(w.intervals, 0.5).toFixed(1)} / ${p95.toFixed(1)}${p95 > 20 ? ' ✗' : ''} | ≥ 90 % of raw, p95 ≤ 20 ms |`,
  );
  if (w.bareCpu.length && w.workerCpu.length)
    console.log(
      `\nPer CPU-second of the training thread (Linux /proc, whatever share of the cores it got): bare worker ${steps(med(w.bareCpu))} steps (${all(w.bareCpu)}), dl.worker() ${steps(med(w.workerCpu))} (${all(w.workerCpu)}): ${((med(w.workerCpu) / med(w.bareCpu)) * 100).toFixed(0)} % of the bare worker.`,
    );
  console.log(
    `\nProgress: ${w.messages} messages carrying ${steps(w.losses)} per-step losses for ${steps(w.steps)} steps${w.losses === w.steps ? '' : ' ✗ (every step streams its loss)'} (at most one message per 16 ms).`,
  );
}

// ---- the training page (#e=train) --------------------------------------------------

/**
 * The training page's own fit in its worker, with everything it draws,
 * against the engine's raw rate for the same spec, data and fit options on
 * the main thread (the page paused meanwhile), in interleaved rounds.
 * @returns {hash, raw: steps/s[], page: steps/s[], intervals: ms[]}
 */
async function trainPageRow(browser, url, hash) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}#${hash}`);
  await page.waitForFunction(() => window.dlmathTrain?.debug().printed != null, null, { timeout: 120_000 });
  // The main thread's CPU time (Chromium's ThreadTime, seconds): what the page takes from the worker's cores.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const busy = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ThreadTime').value;
  await page.evaluate(
    async (rateUrl) => {
      const { fitRate, bareWorker } = await import(rateUrl);
      const d = window.dlmathTrain.debug();
      const { spec } = await d.model.toJSON();
      const dl = await window.dlmathApp.dl.training();
      const rows = d.train.rows;
      const job = (ms, chunk) => ({
        spec,
        x: { shape: [rows, d.train.x.length / rows], data: d.train.x },
        y: { shape: d.model.classTargets ? [rows] : [rows, 1], data: d.train.y },
        options: d.fitOptions,
        ms,
        chunk,
      });
      // fitRun calls of ~5 ms: a digits step takes ~1 ms, a spiral step a few microseconds.
      const chunk = Math.max(1, Math.round(fitRate(dl, job(500, 10)) / 200));
      const bare = await bareWorker();
      await bare.rate(job(500, chunk));
      window.dlmathBench = { raw: () => fitRate(dl, job(1500, chunk)), bare: () => bare.rate(job(1500, chunk)) };
    },
    `/@fs${path.join(root, 'bench/ui-fit-rate.mjs')}`,
  );
  const out = { raw: [], bare: [], page: [], intervals: [], busy: [] };
  // The raw rate on the main thread, or in the bare worker, while the page is paused.
  const rate = (side) => async () => {
    await new Promise((res) => setTimeout(res, 200));
    out[side].push(await page.evaluate((s) => window.dlmathBench[s](), side));
  };
  const sides = [
    rate('raw'),
    rate('bare'),
    async () => {
      // The first second (warm-up, first snapshots) is not counted.
      await page.evaluate(() => {
        window.dlmathTrain.play();
        return new Promise((res) => setTimeout(res, 1000));
      });
      const b0 = await busy();
      const r = await page.evaluate(async (seconds) => {
        const t = window.dlmathTrain;
        const s1 = t.debug().step;
        const t1 = performance.now();
        const intervals = [];
        await new Promise((res) => {
          let last = performance.now();
          const tick = (now) => {
            intervals.push(now - last);
            last = now;
            if (now - t1 < seconds * 1000) requestAnimationFrame(tick);
            else res();
          };
          requestAnimationFrame(tick);
        });
        const ms = performance.now() - t1;
        return { rate: (t.debug().step - s1) / (ms / 1e3), intervals, ms };
      }, TRAIN_PAGE_SECONDS);
      out.busy.push(((await busy()) - b0) / (r.ms / 1e3));
      out.page.push(r.rate);
      out.intervals.push(...r.intervals);
      await page.evaluate(() => window.dlmathTrain.pause());
    },
  ];
  for (let r = 0; r < TRAIN_PAGE_ROUNDS; ++r)
    for (let k = 0; k < sides.length; ++k) await sides[(r + k) % sides.length]();
  await page.close();
  return { hash, ...out };
}

function printTrainPage(rows) {
  if (!rows.length) return;
  const med = (a) => quantile(a, 0.5);
  const steps = (a) =>
    `${Math.round(med(a)).toLocaleString('en-US')} (${a.map((v) => Math.round(v).toLocaleString('en-US')).join(', ')})`;
  console.log(
    `\nThe training page training in its worker while it draws (headless Chromium; medians of ${TRAIN_PAGE_ROUNDS} interleaved rounds, every round listed; page ~${TRAIN_PAGE_SECONDS} s after 1 s of warm-up; raw = the engine's fitRun for 1.5 s with the page's spec, data and fit options on the main thread, bare = the same in a bare worker, both while the page is paused):\n`,
  );
  console.log(
    '| page | raw steps/s | bare worker steps/s | page steps/s | main-thread CPU while training | frame interval ms p50 / p95 | goal |',
  );
  console.log('|---|--:|--:|--:|--:|--:|---|');
  for (const r of rows) {
    const ratio = med(r.page) / med(r.raw);
    const p95 = quantile(r.intervals, 0.95);
    console.log(
      `| #${r.hash} | ${steps(r.raw)} | ${steps(r.bare)} | ${steps(r.page)}: ${(ratio * 100).toFixed(0)} % of raw${ratio < 0.9 ? ' ✗' : ''}, ${((med(r.page) / med(r.bare)) * 100).toFixed(0)} % of bare | ${(med(r.busy) * 100).toFixed(0)} % | ${quantile(r.intervals, 0.5).toFixed(1)} / ${p95.toFixed(1)}${p95 > 20 ? ' ✗' : ''} | ≥ 90 % of raw, p95 ≤ 20 ms |`,
    );
  }
}
