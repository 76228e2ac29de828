// A diverging optimizer must not take its page down: at an absurd learning rate the optimizer pages still
// draw (no page error, no notice), name the runs that blow up in a note of the page's language, and show no
// such note at the surfaces' own rates.
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, startDevServer, watch } from './harness.js';

let browser: Browser;
let server: ViteDevServer;
let url: string;
let page: Page;
let problems: string[];

beforeAll(async () => {
  browser = await launchChromium();
  ({ server, url } = await startDevServer());
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  problems = watch(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Loads a page from its hash (a fresh load, as a shared link would) and waits for its optimizer readout. */
async function open(hash: string): Promise<void> {
  problems.length = 0;
  await page.goto(`${url}#${hash}`);
  await page.waitForFunction(
    () => /θ_\d+/.test(document.querySelector('[data-testid=optimizer-readout]')?.textContent ?? ''),
    null,
    {
      timeout: 60_000,
    },
  );
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

const note = '[data-testid=optimizer-diverging]';

it.each([
  ['rmsprop', 'en', /^Diverging: rmsprop at step 1\b/],
  ['adam', 'en', /^Diverging: adam at step 1\b/],
  ['sgd', 'zh', /^发散:sgd 在第 1 步/],
])('%s at lr 1000 (%s) draws its path and says where it diverges', async (id, lang, text) => {
  await open(`e=${id}&p.lr=1000&lang=${lang}`);
  expect(problems).toEqual([]);
  expect(await page.locator('[data-testid=notice-message]').allTextContents()).toEqual([]);
  expect(await page.isVisible(note)).toBe(true);
  expect(await page.textContent(note)).toMatch(text);
  // The path is drawn: the view recorded its engine call, at the user's lr.
  const shown = await page.evaluate(() => window.dlmathApp!.state().shown.find((s) => s.params.lr === 1000));
  expect(shown?.values.length).toBeGreaterThan(0);
});

it('RMSprop at its default lr converges on the default surface, with no divergence note', async () => {
  await open('e=rmsprop&lang=en');
  expect(problems).toEqual([]);
  expect(await page.isVisible(note)).toBe(false);
  const readout = (await page.textContent('[data-testid=optimizer-readout]'))!;
  const f = Number(readout.match(/f = (\S+)$/)![1]);
  expect(f).toBeLessThan(0.05);
  expect(await page.textContent('[data-testid=optimizer-lr-hint]')).toContain('0.02 for RMSprop');
});
