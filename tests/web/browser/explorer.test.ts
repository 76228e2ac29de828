// The explorer page in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core), served by Vite on 127.0.0.1: the numbers it shows against
// float64 references, the language switch, live params, error notices, and the
// same page from the `vite build` output under its strict CSP.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build, preview, type PreviewServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifacts, configFile, launchChromium, startDevServer, watch } from './harness.js';

interface Snapshot {
  op: string;
  mode: string | null;
  x: number[];
  f: number[];
  df: number[];
  probe: { x: number; f: number; df: number } | null;
}

// float64 references, from the formulas.
const K = Math.sqrt(2 / Math.PI);
function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(K * (x + 0.044715 * x ** 3)));
}
function geluTanhGrad(x: number): number {
  const t = Math.tanh(K * (x + 0.044715 * x ** 3));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * 0.044715 * x * x);
}
function elu(x: number, alpha: number): number {
  return x > 0 ? x : alpha * Math.expm1(x);
}

function relErr(got: number, want: number): number {
  return Math.abs(got - want) / Math.max(1, Math.abs(want));
}

async function openExplorer(context: BrowserContext, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(url);
  await page.waitForFunction(() => window.dlmathExplorer?.ready === true, undefined, { timeout: 30_000 });
  return { page, problems };
}

function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(() => window.dlmathExplorer!.snapshot() as Snapshot);
}

async function pickOp(page: Page, id: string): Promise<void> {
  await page.selectOption('[data-testid="op-select"]', id, { timeout: 5_000 });
  await page.waitForFunction((want) => window.dlmathExplorer!.snapshot().op === want, id);
}

async function setProbe(page: Page, x: number): Promise<Snapshot> {
  await page.fill('[data-testid="probe-x"]', String(x));
  await page.waitForFunction((want) => window.dlmathExplorer!.snapshot().probe?.x === want, Math.fround(x));
  return snapshot(page);
}

function nearest(xs: number[], x: number): number {
  let best = 0;
  for (let i = 1; i < xs.length; ++i) if (Math.abs(xs[i]! - x) < Math.abs(xs[best]! - x)) best = i;
  return best;
}

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  fs.mkdirSync(artifacts, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

describe('explorer (vite dev server)', () => {
  let server: ViteDevServer;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await startDevServer());
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    context = await browser.newContext({
      viewport: { width: 1280, height: 1000 },
      colorScheme: 'light',
      locale: 'en-US',
    });
    ({ page, problems } = await openExplorer(context, url));
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
  });

  it('loads under its CSP without console errors', async () => {
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
    expect(csp).toContain("'wasm-unsafe-eval'");
    expect(csp).not.toContain("'unsafe-eval'");
    const options = await page.$$eval('[data-testid="op-select"] option', (os) =>
      os.map((o) => (o as HTMLOptionElement).value),
    );
    expect(options).toContain('sigmoid');
    expect(options).toContain('softmax');
    expect(problems).toEqual([]);
  });

  it('shows gelu_tanh f(1) and f′(1) from the core, matching float64 within tolerance', async () => {
    await pickOp(page, 'gelu_tanh');
    const snap = await setProbe(page, 1);
    const f = Number(await page.textContent('[data-testid="probe-f"]'));
    const df = Number(await page.textContent('[data-testid="probe-df"]'));
    expect(relErr(f, geluTanh(1)), `f(1) = ${f}, want ${geluTanh(1)}`).toBeLessThanOrEqual(2e-6);
    expect(relErr(df, geluTanhGrad(1)), `f'(1) = ${df}, want ${geluTanhGrad(1)}`).toBeLessThanOrEqual(1e-5);
    // The text shows every float32 digit: it reads back as the engine's value.
    expect(Math.fround(f)).toBe(snap.probe!.f);
    expect(Math.fround(df)).toBe(snap.probe!.df);
    expect(await page.isVisible('.katex')).toBe(true);
    await page.screenshot({ path: path.join(artifacts, 'explorer.png'), fullPage: true });
  });

  it('plots gelu_tanh over [-6, 6] with ~2000 points that agree with the reference', async () => {
    const snap = await snapshot(page);
    expect(snap.op).toBe('gelu_tanh');
    expect(snap.x.length).toBeGreaterThanOrEqual(2000);
    expect(snap.x[0]).toBe(-6);
    expect(snap.x.at(-1)).toBe(6);
    const i = nearest(snap.x, 1);
    const x = snap.x[i]!;
    expect(Math.abs(x - 1)).toBeLessThan(0.01);
    expect(relErr(snap.f[i]!, geluTanh(x))).toBeLessThanOrEqual(2e-6);
    expect(relErr(snap.df[i]!, geluTanhGrad(x))).toBeLessThanOrEqual(1e-5);
    // ... and so does every other point of both curves.
    let worstF = 0;
    let worstDf = 0;
    snap.x.forEach((x, j) => {
      worstF = Math.max(worstF, relErr(snap.f[j]!, geluTanh(x)));
      worstDf = Math.max(worstDf, relErr(snap.df[j]!, geluTanhGrad(x)));
    });
    expect(worstF).toBeLessThanOrEqual(2e-6);
    expect(worstDf).toBeLessThanOrEqual(1e-5);
  });

  it('switches the explanation and labels to Chinese and remembers the choice', async () => {
    const english = await page.textContent('[data-testid="op-doc"]');
    expect(english).toMatch(/[A-Za-z]{4,}/);
    await page.selectOption('[data-testid="lang-select"]', 'zh');
    const chinese = await page.textContent('[data-testid="op-doc"]');
    expect(chinese).not.toBe(english);
    expect(chinese).toMatch(/[\u4e00-\u9fff]/);
    expect(await page.textContent('#heading')).toMatch(/[\u4e00-\u9fff]/);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-Hans');

    // A reload keeps both the language (localStorage) and the op (URL hash,
    // written once the state settles).
    await page.waitForFunction(() => location.hash.includes('op=gelu_tanh'));
    await page.reload();
    await page.waitForFunction(() => window.dlmathExplorer?.ready === true);
    expect(await page.inputValue('[data-testid="lang-select"]')).toBe('zh');
    expect(await page.textContent('[data-testid="op-doc"]')).toBe(chinese);
    expect((await snapshot(page)).op).toBe('gelu_tanh');

    await page.selectOption('[data-testid="lang-select"]', 'en');
    expect(await page.textContent('[data-testid="op-doc"]')).toBe(english);
  });

  it('replots live when a param slider moves (elu alpha)', async () => {
    await pickOp(page, 'elu');
    const before = await snapshot(page);
    const neg = nearest(before.x, -2);
    const pos = nearest(before.x, 2);
    const alpha0 = Number(await page.inputValue('[data-testid="param-alpha"]'));
    expect(relErr(before.f[neg]!, elu(before.x[neg]!, alpha0))).toBeLessThanOrEqual(2e-6);

    const alpha = alpha0 === 2 ? 3 : 2;
    await page.$eval(
      '[data-testid="param-alpha-slider"]',
      (el, v) => {
        const slider = el as HTMLInputElement;
        slider.value = String(v);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
      },
      alpha,
    );
    await page.waitForFunction((f0) => window.dlmathExplorer!.snapshot().f[f0.i] !== f0.v, {
      i: neg,
      v: before.f[neg]!,
    });
    const after = await snapshot(page);
    expect(Number(await page.inputValue('[data-testid="param-alpha"]'))).toBe(alpha);
    expect(relErr(after.f[neg]!, elu(after.x[neg]!, alpha))).toBeLessThanOrEqual(2e-6);
    expect(after.f[pos]).toBe(before.f[pos]); // x > 0 does not depend on alpha
    await page.waitForFunction((a) => location.hash.includes(`p.alpha=${a}`), alpha);
  });

  it('shows engine errors in the notice area and keeps working', async () => {
    await pickOp(page, 'glu');
    expect(await page.isHidden('[data-testid="notice"]')).toBe(true);
    // GLU halves the row: an odd width [x, 0, 1] is a shape error from the core.
    await page.fill('[data-testid="row-rest"]', '0, 1');
    await page.waitForSelector('[data-testid="notice"]', { state: 'visible' });
    const message = await page.textContent('[data-testid="notice-message"]');
    expect(message).toContain('glu');
    expect(message).toMatch(/\[bad_shape\]/);
    await page.fill('[data-testid="row-rest"]', '0, 1, 0');
    await page.waitForSelector('[data-testid="notice"]', { state: 'hidden' });
    const snap = await snapshot(page);
    expect(snap.mode).toBe('rowwise');
    expect(snap.f.length).toBeGreaterThanOrEqual(2000);
  });

  it('raised no console error along the way', () => {
    expect(problems).toEqual([]);
  });
});

describe('explorer (vite build output, strict CSP)', () => {
  let server: PreviewServer;
  let context: BrowserContext;
  let outDir: string;

  beforeAll(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlmath-app-'));
    await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    server = await preview({
      configFile,
      logLevel: 'warn',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, colorScheme: 'dark' });
  });

  afterAll(async () => {
    await context?.close();
    await new Promise<void>((resolve) => server?.httpServer.close(() => resolve()) ?? resolve());
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('emits the wasm and runs the page without console errors', async () => {
    const files = fs.readdirSync(path.join(outDir, 'assets'));
    expect(files.some((f) => f.endsWith('.wasm'))).toBe(true);
    const html = fs.readFileSync(path.join(outDir, 'index.html'), 'utf8');
    expect(html).toContain('Content-Security-Policy');
    expect(html).not.toContain('ws://');

    const { page, problems } = await openExplorer(context, server.resolvedUrls!.local[0]!);
    await pickOp(page, 'gelu_tanh');
    await setProbe(page, 1);
    const f = Number(await page.textContent('[data-testid="probe-f"]'));
    expect(relErr(f, geluTanh(1))).toBeLessThanOrEqual(2e-6);
    await page.screenshot({ path: path.join(artifacts, 'explorer-dark.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
