// The family views in headless Chromium, mounted directly: the generic view
// shows every entry of every kind on its sample inputs; every family view
// hands an entry it does not know to the generic view (or, where its picture
// is decided by the registry metadata, draws it itself), with the engine's
// numbers either way; and a few pages fit phone and desktop widths in both
// languages and themes (screenshots in test-artifacts/views/ to look at).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { artifacts, launchChromium, REPLAY_URL, startDevServer, watch } from './harness.js';

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

/** A fresh page on the overview, the engine loaded; its problems collected. */
async function overview(): Promise<{ page: Page; problems: string[]; close(): Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(url);
  await page.waitForFunction(() => (window.dlmathApp?.state().renders ?? 0) > 0, null, { timeout: 60_000 });
  return { page, problems, close: () => context.close() };
}

// In-page helpers, as text: the page imports the views from the dev server.
// mount(createView, op, dl, lang) builds a view in a detached box, renders it,
// checks every record against the engine and reports what it showed.
const MOUNT = `
  const { ViewStore } = await import('/src/state/store.ts');
  const { check } = await import(${JSON.stringify(REPLAY_URL)});
  const mount = (createView, op, dl, lang) => {
    const host = document.createElement('div');
    document.body.append(host);
    const reports = [];
    const ctx = {
      dl, lang, params: {}, store: new ViewStore(new Map(), 'v.', () => {}),
      changed() {}, report(source, err) { if (err) reports.push(source + ': ' + err); },
    };
    const view = createView(host, op, ctx);
    view.render();
    const shown = view.shown();
    const bad = check(dl, shown).filter((c) => c.error || c.worst > 0).map((c) => c.label + ': ' + (c.error ?? 'differs by ' + c.worst));
    const out = {
      generic: host.querySelector('[data-testid=generic-shapes]') !== null,
      records: shown.length,
      ids: [...new Set(shown.map((s) => s.id))],
      problems: [...reports, ...bad],
      text: host.textContent,
    };
    view.destroy();
    host.remove();
    return out;
  };
`;

it('the generic view shows every entry, of every kind, on its sample inputs with the engine’s numbers', async () => {
  const { page, problems, close } = await overview();
  const result = (await page.evaluate(`(async () => {
    ${MOUNT}
    const { createView } = await import('/src/views/generic.ts');
    const dl = window.dlmathApp.dl;
    const out = { kinds: {}, records: 0, problems: [] };
    for (const op of dl.ops()) {
      const r = mount(createView, op, dl, 'en');
      if (!r.records) r.problems.push('no records');
      if (r.ids.some((id) => id !== op.id)) r.problems.push('records of ' + r.ids.join(', '));
      if (r.problems.length) out.problems.push(op.id + ': ' + r.problems.join('; '));
      out.kinds[op.kind] = (out.kinds[op.kind] ?? 0) + 1;
      out.records += r.records;
    }
    return out;
  })()`)) as { kinds: Record<string, number>; records: number; problems: string[] };
  expect(result.problems).toEqual([]);
  expect(Object.keys(result.kinds).sort()).toEqual(['init', 'op', 'optimizer', 'schedule']);
  expect(result.kinds.op).toBeGreaterThan(80);
  expect(result.records).toBeGreaterThan(100);
  expect(problems).toEqual([]);
  await close();
});

/** Families whose picture fits any entry of a kind or form, decided from the registry metadata. */
const BY_METADATA = ['activations', 'optimizers', 'schedules'];

it('every family view shows an entry it has never heard of, by the generic view or its metadata', async () => {
  const { page, problems, close } = await overview();
  // Two new entries per family, each backed by a real op under a new id (the engine is reached through an alias
  // that maps the new id to the real one): a copy of the family's first entry, and an entry of another family
  // and kind that no picture of this family fits.
  const result = (await page.evaluate(`(async () => {
    ${MOUNT}
    const { VIEWS } = await import('/src/views/index.ts');
    const dl = window.dlmathApp.dl;
    const ops = dl.ops();
    const alias = (op, real) =>
      new Proxy(dl, {
        get(target, key) {
          if (key === 'ops') return () => [...target.ops(), op];
          const v = Reflect.get(target, key);
          if (typeof v !== 'function') return v;
          if (['eval', 'grad', 'evalWithGrad', 'optimize', 'schedule', 'init'].includes(key))
            return (id, ...rest) => v.call(target, id === op.id ? real : id, ...rest);
          return v.bind(target);
        },
      });
    const out = [];
    for (const [family, load] of Object.entries(VIEWS)) {
      const { createView } = await load();
      const like = ops.find((o) => o.family === family);
      const other = ops.find((o) => o.family !== family && o.kind === 'op' && !o.differentiable);
      for (const [kind, real] of [['like', like], ['other', other]])
        for (const lang of ['en', 'zh']) {
          const op = { ...real, id: 'new_' + family + '_' + kind, family };
          const r = mount(createView, op, alias(op, real.id), lang);
          out.push({ family, kind, real: real.id, lang, generic: r.generic, records: r.records, ownIds: r.ids.includes(op.id),
            chinese: /[\\u4e00-\\u9fff]/.test(r.text), problems: r.problems });
        }
    }
    return out;
  })()`)) as {
    family: string;
    kind: 'like' | 'other';
    real: string;
    lang: string;
    generic: boolean;
    records: number;
    ownIds: boolean;
    chinese: boolean;
    problems: string[];
  }[];
  expect(result.length).toBeGreaterThanOrEqual(13 * 4);
  const wrong: string[] = [];
  for (const r of result) {
    const what = `${r.family}: new entry like ${r.real} (${r.lang})`;
    const wantGeneric = r.kind === 'other' || !BY_METADATA.includes(r.family);
    if (r.generic !== wantGeneric) wrong.push(`${what}: ${r.generic ? 'generic view' : 'family view'}`);
    if (!r.records) wrong.push(`${what}: nothing computed`);
    if (!r.ownIds) wrong.push(`${what}: the entry itself was never called`);
    if (r.chinese !== (r.lang === 'zh')) wrong.push(`${what}: text not in ${r.lang}`);
    if (r.problems.length) wrong.push(`${what}: ${r.problems.join('; ')}`);
  }
  expect(wrong).toEqual([]);
  expect(problems).toEqual([]);
  await close();
});

/** Pages whose views changed, at a phone's and a desktop's width. */
const SHOTS = ['mse', 'focal', 'cross_entropy', 'triplet_margin', 'ctc', 'batch_norm'];

it('changed pages fit 390 px and 1440 px in both languages and themes', async () => {
  const dir = path.join(artifacts, 'views');
  fs.mkdirSync(dir, { recursive: true });
  const wrong: string[] = [];
  for (const scheme of ['light', 'dark'] as const)
    for (const width of [390, 1440]) {
      const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
      const page = await context.newPage();
      const problems = watch(page);
      for (const lang of ['en', 'zh'])
        for (const id of SHOTS) {
          await page.goto(`${url}#e=${id}&lang=${lang}`);
          await page.waitForFunction(
            (pid) => window.dlmathApp?.state().page === pid && window.dlmathApp.state().renders > 0,
            id,
            { timeout: 60_000 },
          );
          await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
          // Sideways scroll of the page, and anything of the view reaching past the window's edges.
          const fit = await page.evaluate(() => {
            const vw = document.documentElement.clientWidth;
            const out = [...document.querySelectorAll<HTMLElement>('[data-testid=view] *')]
              .filter((el) => {
                const r = el.getBoundingClientRect();
                return r.width > 0 && (r.left < -1 || r.right > vw + 1);
              })
              .slice(0, 3)
              .map(
                (el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`,
              );
            return { scroll: document.documentElement.scrollWidth - vw, out };
          });
          const name = `${id}.${lang}.${width}.${scheme}`;
          await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
          if (fit.scroll > 0) wrong.push(`${name}: scrolls sideways by ${fit.scroll} px`);
          if (fit.out.length) wrong.push(`${name}: past the edge: ${fit.out.join(', ')}`);
        }
      if (problems.length) wrong.push(`${scheme} ${width}: ${problems.join(' | ')}`);
      await context.close();
    }
  expect(wrong).toEqual([]);
});
