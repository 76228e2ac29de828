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
import type { Shown } from '../../../web/src/views/view.js';
import { artifacts, launchChromium, startDevServer, watch } from './harness.js';

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

interface Check {
  label: string;
  worst: number;
  n: number;
  error?: string;
}

/** Opens a page by id and waits until its view has rendered. */
async function open(id: string, lang: string): Promise<void> {
  const before = await page.evaluate(() => window.dlmathApp!.state().renders);
  await page.evaluate((h) => (location.hash = h), `e=${id}&lang=${lang}`);
  await page.waitForFunction(
    ([pid, n]) => {
      const s = window.dlmathApp!.state();
      return s.page === pid && s.renders > (n as number);
    },
    [id, before],
    { timeout: 30_000 },
  );
  // Two frames: a render scheduled by the view itself lands too.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** Repeats every recorded call in the page and returns the largest relative difference per record. */
function recheck(): Promise<Check[]> {
  return page.evaluate(() => {
    const app = window.dlmathApp!;
    const dl = app.dl as unknown as {
      eval(id: string, i: object, p: object): { data: Float32Array; aux: Record<string, { data: Float32Array }> };
      grad(id: string, i: object, p: object, up?: object): Record<string, { data: Float32Array }>;
      optimize(id: string, i: object, p: object): { data: Float32Array };
      schedule(id: string, p: object, steps: number): Float32Array;
      init(id: string, shape: number[], p: object): { data: Float32Array };
      ops(): { id: string; kind: string }[];
    };
    const kinds = new Map(dl.ops().map((o) => [o.id, o.kind]));
    return app.state().shown.map((s: Shown) => {
      try {
        const inputs: Record<string, { shape: number[]; data: Float32Array }> = {};
        for (const [k, v] of Object.entries(s.inputs)) inputs[k] = { shape: v.shape, data: Float32Array.from(v.data) };
        let full: ArrayLike<number>;
        const kind = kinds.get(s.id);
        if (s.what === 'formula' || s.what === 'formula-grad') {
          const f = (
            app.dl as unknown as {
              formula(t: string): {
                eval(x: Float32Array, p: object): Float32Array;
                grad(x: Float32Array, p: object): Float32Array;
                dispose(): void;
              };
            }
          ).formula(s.id);
          try {
            full = s.what === 'formula' ? f.eval(inputs.x!.data, s.params) : f.grad(inputs.x!.data, s.params);
          } finally {
            f.dispose();
          }
        } else if (s.what === 'value') {
          if (kind === 'schedule') full = dl.schedule(s.id, s.params, Number(s.params.steps));
          else if (kind === 'init') full = dl.init(s.id, Array.from(inputs.shape!.data), s.params).data;
          else full = dl.eval(s.id, inputs, s.params).data;
        } else if (s.what.startsWith('aux:')) {
          full = dl.eval(s.id, inputs, s.params).aux[s.what.slice(4)]!.data;
        } else {
          const name = s.what.replace(/^grad:/, '');
          const up = s.upstream ? { shape: s.upstream.shape, data: Float32Array.from(s.upstream.data) } : undefined;
          full = dl.grad(s.id, inputs, s.params, up)[name]!.data;
        }
        const want = s.pick ? s.pick.map((i) => full[i]!) : Array.from(full);
        if (want.length !== s.values.length)
          return {
            label: s.label,
            worst: Infinity,
            n: s.values.length,
            error: `${s.values.length} shown, ${want.length} computed`,
          };
        let worst = 0;
        want.forEach((w, i) => {
          const g = s.values[i]!;
          const same = Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w));
          if (!same) worst = Math.max(worst, Math.abs(g - w) / Math.max(1, Math.abs(w)) || Infinity);
        });
        return { label: s.label, worst, n: want.length };
      } catch (err) {
        return { label: s.label, worst: Infinity, n: 0, error: String(err) };
      }
    });
  });
}

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
        await open(id, lang);
        const notice = await page.locator('[data-testid=notice-message]').allTextContents();
        const checks = await recheck();
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
