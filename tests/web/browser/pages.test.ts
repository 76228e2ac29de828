// Every page of the playground in headless Chromium: each registry entry and
// each lesson loads without a console error or a notice, and the numbers its
// view shows equal what `dl` computes for the same inputs (the view records
// the calls it made; this test makes them again). A screenshot of each page
// goes to test-artifacts/pages/ for a person to look at.
//   DLMATH_FAMILY=losses,metrics  only those families
//   DLMATH_LANG=zh                only the Chinese pages (default: English, then Chinese)
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILY_ORDER } from '../../../web/src/ui/i18n.js';
import { artifacts, launchChromium, openPage, recheck, startDevServer, watch } from './harness.js';

const FAMILIES = [...FAMILY_ORDER, 'lessons'];
const only = (process.env.DLMATH_FAMILY ?? '').split(',').filter(Boolean);
const LANGS = process.env.DLMATH_LANG ? [process.env.DLMATH_LANG === 'zh' ? 'zh' : 'en'] : ['en', 'zh'];
const CJK = /[\u4e00-\u9fff]/;
const shots = path.join(artifacts, 'pages');

let browser: Browser;
let server: ViteDevServer;
let url: string;
let page: Page;
let problems: string[];

beforeAll(async () => {
  fs.mkdirSync(shots, { recursive: true });
  browser = await launchChromium();
  ({ server, url } = await startDevServer());
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  problems = watch(page);
  await page.goto(`${url}#lang=${LANGS[0]}`);
  // The first page (the overview) has rendered: later counts belong to the pages opened here.
  await page.waitForFunction(() => (window.dlmathApp?.state().renders ?? 0) > 0, null, { timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

for (const family of FAMILIES) {
  if (only.length && !only.includes(family)) continue;
  describe(family, () => {
    it.each(LANGS)('every page loads cleanly in %s and shows the engine’s numbers', async (lang) => {
      // Lessons join the catalogue once their modules have loaded.
      if (family === 'lessons')
        await page
          .waitForFunction(() => document.querySelector('[data-group="tools"] a') !== null, null, { timeout: 30_000 })
          .catch(() => undefined);
      const ids = await page.evaluate(
        (fam) =>
          fam === 'lessons'
            ? [...document.querySelectorAll<HTMLAnchorElement>('[data-group="tools"] a')].map((a) => a.dataset.id!)
            : window
                .dlmathApp!.dl.ops()
                .filter((o) => o.family === fam)
                .map((o) => o.id),
        family,
      );
      expect(ids.length, `pages of ${family}`).toBeGreaterThan(0);
      const failures: string[] = [];
      let records = 0;
      let numbers = 0;
      for (const id of ids) {
        problems.length = 0;
        await openPage(page, id, lang);
        const notice = await page.locator('[data-testid=notice-message]').allTextContents();
        const checks = await recheck(page);
        // The view speaks the page's language: Chinese text in Chinese, none in English.
        const viewText = (await page.textContent('[data-testid=view]')) ?? '';
        if (lang === 'zh' && !CJK.test(viewText)) failures.push(`${id}: the view has no Chinese text`);
        if (lang === 'en' && CJK.test(viewText))
          failures.push(`${id}: Chinese in the English view: ${viewText.match(/.{0,20}[\u4e00-\u9fff]+.{0,20}/)![0]}`);
        // Keyboard and screen-reader users need a name on every control.
        const unlabeled = await page.evaluate(() =>
          [
            ...document.querySelectorAll<HTMLInputElement>(
              '#main-content input, #main-content select, #main-content textarea',
            ),
          ]
            .filter((el) => !el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
            .map((el) => el.id || el.outerHTML.slice(0, 80)),
        );
        await page.screenshot({ path: path.join(shots, `${id}${lang === 'zh' ? '.zh' : ''}.png`), fullPage: true });
        const bad = checks
          .filter((c) => c.error || c.worst > 0)
          .map((c) => `${c.label}: ${c.error ?? `differs by ${c.worst}`}`);
        if (problems.length) failures.push(`${id}: ${problems.join(' | ')}`);
        if (notice.length) failures.push(`${id}: notice ${notice.join(' | ')}`);
        if (!checks.length) failures.push(`${id}: the view records no computed numbers`);
        records += checks.length;
        numbers += checks.reduce((a, c) => a + c.n, 0);
        if (bad.length) failures.push(`${id}: ${bad.join('; ')}`);
        if (unlabeled.length) failures.push(`${id}: controls without a label: ${unlabeled.join(', ')}`);
      }
      console.log(
        `pages ${family} (${lang}): ${ids.length} pages, ${records} recorded calls, ${numbers} numbers re-computed`,
      );
      expect(failures).toEqual([]);
    });
  });
}
