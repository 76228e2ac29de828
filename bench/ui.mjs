// The playground while a slider is dragged: does a live update fit in a
// frame? Opens pages in headless Chromium (Debian's, via playwright-core),
// moves a param slider once per animation frame for FRAMES frames, and
// reports the cost of each update (the input handler plus the shell's
// 'dlmath:render' measure: the engine calls and the plots' redraw) and the
// frame-to-frame intervals.
//   node bench/ui.mjs            (after `bash scripts/build.sh wasm`)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';

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
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const rows = [];
try {
  for (const [hash, slider, lo, hi] of CASES) {
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
} finally {
  await browser.close();
  await server.close();
}
console.log(
  `Live updates while dragging (${FRAMES} frames, one input event per frame; element-wise plots have 2,001 points):\n`,
);
console.log(
  '| page | slider | updates | update ms p50 | update ms p95 | frame interval ms p50 / p95 | frames > 25 ms |',
);
console.log('|---|---|--:|--:|--:|--:|--:|');
for (const r of rows) console.log(r);
