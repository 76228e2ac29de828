// Every page fits every width: the overview, each registry entry and each
// lesson at 390 (a phone), 1024 and 1440 px, in English, and at 390 px in
// Chinese. Nothing may scroll the page sideways, no panel may be wider than
// its box, and from 1024 px up every formula breaks to fit its box; on a
// phone a formula that cannot break scrolls inside its own box (the test
// prints which). One browser page visits them all.
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, openPage, startDevServer, watch } from './harness.js';

const WIDTHS = [1440, 1024, 390];

let browser: Browser;
let server: ViteDevServer;
let url: string;
let page: Page;
let problems: string[];

beforeAll(async () => {
  browser = await launchChromium();
  ({ server, url } = await startDevServer());
  page = await (await browser.newContext({ viewport: { width: WIDTHS[0]!, height: 900 } })).newPage();
  problems = watch(page);
  await page.goto(`${url}#lang=en`);
  await page.waitForFunction(() => (window.dlmathApp?.state().renders ?? 0) > 0, null, { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('[data-group="tools"] a') !== null, null, {
    timeout: 30_000,
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** What overflows on the page as it is laid out now. */
interface Fit {
  /** The document's scroll width beyond its width (0: no sideways scroll). */
  page: number;
  /** Panels whose content is wider than they are: a description of each. */
  panels: string[];
  /** Formula boxes that scroll inside themselves, and how many there are. */
  scrolling: number;
  formulas: number;
}

function measure(): Promise<Fit> {
  return page.evaluate(() => {
    const root = document.documentElement;
    const over = (el: Element) => el.scrollWidth - el.clientWidth > 1;
    const name = (el: Element) =>
      `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''} (${el.scrollWidth} > ${el.clientWidth})`;
    const maths = [...document.querySelectorAll('.math')];
    return {
      page: root.scrollWidth - root.clientWidth,
      panels: [...document.querySelectorAll('.panel')].filter(over).map(name),
      scrolling: maths.filter(over).length,
      formulas: maths.length,
    };
  });
}

/** Resizes and waits for the plots to follow (their ResizeObservers run in the next frames). */
async function resize(width: number): Promise<void> {
  await page.setViewportSize({ width, height: 900 });
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 30)))),
  );
}

it('every page fits 390, 1024 and 1440 px without sideways scrolling', async () => {
  const ids = await page.evaluate(() => [
    '',
    ...[...document.querySelectorAll<HTMLAnchorElement>('[data-group="tools"] a')].map((a) => a.dataset.id!),
    ...window.dlmathApp!.dl.ops().map((o) => o.id),
  ]);
  expect(ids.length).toBeGreaterThan(100);
  const failures: string[] = [];
  const scrolling: Record<number, number> = {};
  let formulas = 0;
  const narrow: string[] = [];
  // English at every width (the order alternates so a page costs two resizes), then Chinese on a phone.
  const runs: [string, number[]][] = [
    ['en', WIDTHS],
    ['zh', [390]],
  ];
  for (const [lang, widths] of runs) {
    for (const [k, id] of ids.entries()) {
      problems.length = 0;
      const order = k % 2 ? [...widths].reverse() : widths;
      await resize(order[0]!);
      await openPage(page, id, lang);
      for (const w of order) {
        if (w !== order[0]) await resize(w);
        const fit = await measure();
        const where = `${id || 'overview'} (${lang}) at ${w} px`;
        if (fit.page > 0) failures.push(`${where}: the page scrolls sideways by ${fit.page} px`);
        if (fit.panels.length) failures.push(`${where}: wider than their box: ${fit.panels.join(', ')}`);
        if (lang === 'en') {
          scrolling[w] = (scrolling[w] ?? 0) + fit.scrolling;
          if (w === WIDTHS[0]) formulas += fit.formulas;
          // From a tablet up, every formula breaks to fit: none needs its scroll bar.
          if (w >= 1024 && fit.scrolling) failures.push(`${where}: ${fit.scrolling} formula(s) do not fit`);
          if (w < 1024 && fit.scrolling) narrow.push(id);
        }
      }
      if (problems.length) failures.push(`${id} (${lang}): ${problems.join(' | ')}`);
    }
  }
  console.log(
    `widths: ${ids.length} pages, ${formulas} formula boxes; scrolling inside their box: ${WIDTHS.map((w) => `${scrolling[w]} at ${w} px`).join(', ')} (${narrow.join(', ')})`,
  );
  expect(failures).toEqual([]);
});
