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
const WORKER_SECONDS = Number(process.env.BENCH_WORKER_S ?? 4);
const WORKER_ROUNDS = Number(process.env.BENCH_WORKER_ROUNDS ?? 3);

// The page's default (3-arm spiral, 2-8-8-3 tanh, Adam, batch 10) and its digits mode (784-128-10 ReLU, batch 64).
const TRAIN_PAGE_CASES = ['e=train', 'e=train&v.data=mnist'];
const TRAIN_PAGE_SECONDS = Number(process.env.BENCH_TRAINPAGE_S ?? 4);

const quantile = (a, q) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const server = await createServer({
  configFile: path.join(root, 'web/vite.config.ts'),
  logLevel: 'warn',
  server: { host: '127.0.0.1', port: 0, hmr: false },
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
 * In one page: the engine's raw fit rate on the main thread (page frozen
 * meanwhile), then a fit of ~WORKER_SECONDS in dl.worker() while a canvas is
 * redrawn every animation frame; rounds alternate the two.
 * @returns {raw: steps/s[], worker: steps/s[], intervals: ms[], blocked: ms[], messages}
 */
async function workerRow(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.waitForFunction(() => window.dlmathApp?.dl !== undefined, null, { timeout: 60_000 });
  const r = await page.evaluate(
    async ([spec, seconds, rounds]) => {
      // The raw fit runs on this thread: the full module (the page itself loads the light one).
      const dl = await window.dlmathApp.dl.training();
      const n = 1000;
      const x = new Float32Array(2 * n).map((_, i) => Math.sin(i * 12.9898) * 2);
      const y = new Float32Array(n).map((_, i) => Math.sin(x[2 * i]) * Math.cos(x[2 * i + 1]));
      const options = { batchSize: 10, shuffle: true };
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
      const out = { raw: [], worker: [], intervals: [], blocked: [], messages: 0, losses: 0 };
      const trainer = dl.worker();
      const remote = await trainer.model(spec);
      // Warm-up of both (wasm tiers up after its first calls): ~1 s each.
      await remote.fit(x, y, { ...options, epochs: 1000 });
      const rawFit = (ms) => {
        const m = dl.model(spec);
        m.fitBegin(x, y, { ...options, epochs: 1e6 });
        const t0 = performance.now();
        let steps = 0;
        while (performance.now() - t0 < ms) steps += m.fitRun(1000).stepsRun;
        m.dispose();
        return steps / ((performance.now() - t0) / 1e3);
      };
      rawFit(1000);
      for (let r = 0; r < rounds; ++r) {
        // The raw rate: fitRun on the main thread for ~1 s (the page cannot draw meanwhile).
        const stop = animate();
        out.raw.push(rawFit(1000));
        await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
        out.blocked.push(...stop());
        // The worker, for ~seconds, while the page animates.
        const epochs = Math.max(1, Math.round((out.raw.at(-1) * seconds) / (n / 10)));
        const stopW = animate();
        const t1 = performance.now();
        const h = await remote.fit(x, y, {
          ...options,
          epochs,
          onProgress: (q) => {
            ++out.messages;
            out.losses += q.losses.length;
          },
        });
        out.worker.push(h.steps / ((performance.now() - t1) / 1e3));
        out.intervals.push(...stopW());
      }
      await trainer.terminate();
      canvas.remove();
      return out;
    },
    [WORKER_SPEC, WORKER_SECONDS, WORKER_ROUNDS],
  );
  await page.close();
  return r;
}

function printWorker(w) {
  if (!w) return;
  const med = (a) => quantile(a, 0.5);
  const ratio = med(w.worker) / med(w.raw);
  const p95 = quantile(w.intervals, 0.95);
  console.log(
    `\nTraining in a worker while the page animates (headless Chromium, MLP 2-8-8-1 tanh, SGD, batch 10, ${WORKER_ROUNDS} rounds of ~${WORKER_SECONDS} s):\n`,
  );
  console.log('| | steps/s (median) | frame interval ms p50 / p95 | goal |');
  console.log('|---|--:|--:|---|');
  console.log(
    `| main-thread fit (the engine's raw rate; the page cannot draw) | ${Math.round(med(w.raw)).toLocaleString('en-US')} | ${quantile(w.blocked, 0.5).toFixed(1)} / ${quantile(w.blocked, 0.95).toFixed(1)} | |`,
  );
  console.log(
    `| dl.worker() fit while the page redraws a canvas every frame | ${Math.round(med(w.worker)).toLocaleString('en-US')} (${(ratio * 100).toFixed(0)} % of raw${ratio < 0.9 ? ' ✗' : ''}) | ${quantile(w.intervals, 0.5).toFixed(1)} / ${p95.toFixed(1)}${p95 > 20 ? ' ✗' : ''} | ≥ 90 % of raw, p95 ≤ 20 ms |`,
  );
  console.log(
    `\nProgress: ${w.messages} messages carrying ${w.losses.toLocaleString('en-US')} per-step losses for ${Math.round(med(w.worker) * WORKER_SECONDS * WORKER_ROUNDS).toLocaleString('en-US')} steps (at most one message per 16 ms).`,
  );
}

// ---- the training page (#e=train) --------------------------------------------------

/**
 * The training page's own fit in its worker, with everything it draws, against
 * the engine's raw rate for the same spec and data on the main thread.
 * @returns {hash, raw: steps/s, page: steps/s, intervals: ms[]}
 */
async function trainPageRow(browser, url, hash) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}#${hash}`);
  await page.waitForFunction(() => window.dlmathTrain?.debug().printed != null, null, { timeout: 120_000 });
  const r = await page.evaluate(async (seconds) => {
    const t = window.dlmathTrain;
    const d = t.debug();
    const saved = await d.model.toJSON();
    const m = (await window.dlmathApp.dl.training()).model(saved.spec);
    const rows = d.train.rows;
    const x = { shape: [rows, d.train.x.length / rows], data: d.train.x };
    const y = { shape: m.classTargets ? [rows] : [rows, 1], data: d.train.y };
    m.fitBegin(x, y, { batchSize: d.state.batch, epochs: 1e6 });
    const rate = (ms) => {
      const t0 = performance.now();
      let steps = 0;
      while (performance.now() - t0 < ms) steps += m.fitRun(50).stepsRun;
      return steps / ((performance.now() - t0) / 1e3);
    };
    rate(500); // warm-up
    const raw = rate(1500);
    m.dispose();
    await new Promise((res) => setTimeout(res, 200));
    const s0 = t.debug().step;
    const intervals = [];
    t.play();
    // The first second (warm-up, first snapshots) is not counted.
    await new Promise((res) => setTimeout(res, 1000));
    const s1 = t.debug().step;
    const t1 = performance.now();
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
    const pageRate = (t.debug().step - s1) / ((performance.now() - t1) / 1e3);
    await t.pause();
    return { raw, page: pageRate, intervals: intervals.slice(1), warm: s1 - s0 };
  }, TRAIN_PAGE_SECONDS);
  await page.close();
  return { hash, ...r };
}

function printTrainPage(rows) {
  if (!rows.length) return;
  console.log(
    `\nThe training page training in its worker while it draws (headless Chromium, ~${TRAIN_PAGE_SECONDS} s each; raw = the engine's fitRun on the main thread, same spec and data):\n`,
  );
  console.log('| page | raw steps/s | page steps/s | frame interval ms p50 / p95 | goal |');
  console.log('|---|--:|--:|--:|---|');
  for (const r of rows) {
    const ratio = r.page / r.raw;
    const p95 = quantile(r.intervals, 0.95);
    console.log(
      `| #${r.hash} | ${Math.round(r.raw).toLocaleString('en-US')} | ${Math.round(r.page).toLocaleString('en-US')} (${(ratio * 100).toFixed(0)} %${ratio < 0.9 ? ' ✗' : ''}) | ${quantile(r.intervals, 0.5).toFixed(1)} / ${p95.toFixed(1)}${p95 > 20 ? ' ✗' : ''} | ≥ 90 % of raw, p95 ≤ 20 ms |`,
    );
  }
}
