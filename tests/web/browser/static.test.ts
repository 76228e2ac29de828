// `npm run build` output works as plain static files: built with Vite into a
// scratch folder, served by `vite preview` on 127.0.0.1, opened in headless
// Chromium under the production Content-Security-Policy (no dev websocket).
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { configFile, launchChromium, root, watch } from './harness.js';

const outDir = path.join(root, 'build/app-test');
let browser: Browser;
let server: PreviewServer;
let url: string;

beforeAll(async () => {
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  url = server.resolvedUrls!.local[0]!;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('the static build serves every page kind with the production CSP', async () => {
  const page = await browser.newPage();
  const problems = watch(page);
  const wasm = new Set<string>();
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasm.add(path.basename(new URL(r.url()).pathname));
  });
  await page.goto(`${url}#e=softplus&p.beta=2`);
  await page.waitForFunction(
    () => window.dlmathApp?.state().page === 'softplus' && window.dlmathApp.state().shown.length > 0,
    null,
    {
      timeout: 60_000,
    },
  );
  const csp = await page.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content');
  expect(csp).not.toContain("'unsafe-eval'");
  expect(csp).not.toContain('ws:');
  // A lazily loaded family view and the overview work from the built chunks too.
  await page.evaluate(() => (location.hash = 'e=huber'));
  await page.waitForFunction(
    () => window.dlmathApp!.state().page === 'huber' && window.dlmathApp!.state().shown.length > 0,
  );
  await page.evaluate(() => (location.hash = ''));
  await page.waitForSelector('[data-testid=overview]');
  // The playground's main thread never trains: the page preloads and loads the light module only.
  const preloaded = await page.$$eval('link[rel=preload]', (ls) => ls.map((l) => l.getAttribute('href')!));
  expect(preloaded.filter((h) => h.endsWith('.wasm'))).toEqual([expect.stringMatching(/^\.\/assets\/dlmath_lite-/)]);
  expect([...wasm]).toEqual([expect.stringMatching(/^dlmath_lite-.*\.wasm$/)]);
  expect(problems).toEqual([]);
  await page.close();
});

it('the built documentation example renders every custom element under the production CSP', async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  const problems = watch(page);
  await page.goto(`${url}embedding.html`);
  const csp = await page.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content');
  expect(csp).not.toContain("'unsafe-eval'");
  const ids = await page.$$eval('dlmath-entry, dlmath-formula, dlmath-train', (els) =>
    els.map((e) => e.getAttribute('data-testid')!),
  );
  expect(ids.length).toBeGreaterThan(4);
  for (const id of ids) {
    // Lazy: each builds its view once scrolled near.
    await page.locator(`[data-testid=${id}]`).scrollIntoViewIfNeeded();
    await page.waitForFunction(
      (i) => {
        const el = document.querySelector(`[data-testid=${i}]`) as unknown as { renders: number; shown(): unknown[] };
        return el.renders > 0 && el.shown().length > 0;
      },
      id,
      { timeout: 60_000 },
    );
  }
  // KaTeX's fonts load from the built assets (declared at document level: fonts are not scoped to shadow roots).
  const loaded = await page.evaluate(async () => {
    await document.fonts.ready;
    return [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family.replace(/"/g, ''));
  });
  expect(loaded).toContain('KaTeX_Main');
  expect(problems).toEqual([]);
  await page.close();
});
