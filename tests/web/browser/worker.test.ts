// dl.worker() in headless Chromium: a module Web Worker built by Vite, under
// the page's Content-Security-Policy, in the dev server and in the static
// build. XOR to >= 95 % while the page keeps drawing frames, progress
// streamed at most once per progressMs, cancel, and terminate().
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build, preview, type PreviewServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ModelSpec } from 'dlmath';
import { xorData, xorSpec } from '../model-fixtures.js';
import { configFile, launchChromium, root, startDevServer, watch } from './harness.js';

let browser: Browser;
let dev: ViteDevServer;
let devUrl: string;
let built: PreviewServer;
let builtUrl: string;

beforeAll(async () => {
  browser = await launchChromium();
  ({ server: dev, url: devUrl } = await startDevServer());
  const outDir = path.join(root, 'build/app-worker-test');
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  built = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  builtUrl = built.resolvedUrls!.local[0]!;
});

afterAll(async () => {
  await browser?.close();
  await dev?.close();
  await built?.close();
});

/** Opens the playground and waits for its engine (window.dlmathApp.dl). */
async function open(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems = watch(page);
  await page.goto(url);
  await page.waitForFunction(() => window.dlmathApp?.dl !== undefined, null, { timeout: 60_000 });
  return { page, problems };
}

// Runs in the page: trains XOR in a worker while counting animation frames.
async function trainXor({ spec, x, y }: { spec: ModelSpec; x: number[]; y: number[] }): Promise<{
  accuracy: number;
  stop: string;
  steps: number;
  messages: number;
  ms: number;
  frames: number;
  lossesFinite: boolean;
  cancelled: string;
  afterTerminate: string;
}> {
  const dl = window.dlmathApp!.dl;
  const trainer = dl.worker();
  const m = await trainer.model(spec);
  let frames = 0;
  let drawing = true;
  const tick = () => {
    ++frames;
    if (drawing) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  let messages = 0;
  let lossesFinite = true;
  const t0 = performance.now();
  const h = await m.fit(x, y, {
    epochs: 300,
    batchSize: 20,
    progressMs: 16,
    onProgress: (p) => {
      ++messages;
      lossesFinite &&= p.losses.every(Number.isFinite) && p.stats.layers.length === 3;
    },
  });
  const ms = performance.now() - t0;
  drawing = false;
  const { accuracy } = await m.evaluate(x, y);
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 50);
  const cancelled = (await m.fit(x, y, { epochs: 1e6, batchSize: 10, signal: abort.signal })).stop;
  const pending = m.predict(x);
  await trainer.terminate();
  const afterTerminate = await pending.then(
    () => 'resolved',
    (e: { code: string }) => e.code,
  );
  return { accuracy, stop: h.stop, steps: h.steps, messages, ms, frames, lossesFinite, cancelled, afterTerminate };
}

for (const which of ['dev server', 'static build'] as const) {
  it(`trains XOR to >= 95 % in a Web Worker (${which}, page CSP)`, async () => {
    const { page, problems } = await open(which === 'dev server' ? devUrl : builtUrl);
    const csp = await page.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content');
    expect(csp).toContain("script-src 'self'");
    const { x, y } = xorData(400, 7);
    const r = await page.evaluate(trainXor, { spec: xorSpec(), x: Array.from(x), y: Array.from(y) });
    expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(r.stop).toBe('done');
    expect(r.steps).toBe(300 * 20);
    expect(r.lossesFinite).toBe(true);
    // Progress: never one message per step, at most one per 16 ms (+ the last).
    expect(r.messages).toBeGreaterThan(0);
    expect(r.messages).toBeLessThanOrEqual(Math.ceil(r.ms / 16) + 1);
    // The page kept animating while the worker trained.
    expect(r.frames).toBeGreaterThan(0);
    expect(r.cancelled).toBe('cancelled');
    expect(r.afterTerminate).toBe('disposed');
    expect(problems).toEqual([]);
    await page.close();
  });
}
