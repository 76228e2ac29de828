// Every registry entry called from inside the page in headless Chromium,
// through the same engine module the page uses, with the same checks as the
// Node test (../catalogue-check.ts): the whole catalogue works in a browser.
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EntryReport } from '../catalogue-check.js';
import { launchChromium, root, startDevServer, watch } from './harness.js';

let browser: Browser;
let server: ViteDevServer;
let url: string;

beforeAll(async () => {
  browser = await launchChromium();
  ({ server, url } = await startDevServer());
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('every entry is callable in the browser with its sample inputs', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(url);
  // Vite serves files outside its root under /@fs/ (the repo is its fs.allow).
  const checkModule = '/@fs' + path.join(root, 'tests/web/catalogue-check.ts');
  // A string, not a function: Vitest would rewrite import() inside a
  // function body for Node, and this code runs in the page.
  const reports = (await page.evaluate(`(async () => {
    const engine = await import('/src/engine/index.ts');
    const { checkCatalogue } = await import(${JSON.stringify(checkModule)});
    const dl = await engine.loadDlmath();
    return { target: dl.target, reports: checkCatalogue(dl) };
  })()`)) as { target: string; reports: EntryReport[] };
  expect(reports.target).toBe('WASM');
  expect(reports.reports.length).toBeGreaterThan(30);
  const bad = reports.reports.filter((r) => r.problems.length).map((r) => `${r.id}: ${r.problems.join('; ')}`);
  expect(bad).toEqual([]);
  expect(problems).toEqual([]);
  await context.close();
});
