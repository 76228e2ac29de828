// The GPT page in headless Chromium (its worker, the names corpus, the
// charts). Budget: pretraining config S for PRETRAIN_STEPS steps (about a
// minute on this 2-core machine under load: the issue's goal is a
// validation loss below 2.3) and three fine-tuning runs of FINETUNE_STEPS
// steps (beating the majority class by 20 points). Also: clear messages for
// empty and oversized pasted text, a checkpoint through IndexedDB, both
// languages and themes at 320, 390 and 1440 px without sideways scroll
// (screenshots in test-artifacts/gpt/ for a person to look at), the model's
// formulas typeset with their catalogue links, the loss curves restored
// from a checkpoint, and the embedded layout (embed=1) at 600 and 900 px.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OP_IDS } from '../../../web/src/engine/gen/ops.js';
import { artifacts, launchChromium, startDevServer, watch } from './harness.js';

const PRETRAIN_STEPS = 400;
const FINETUNE_STEPS = 150;
const shots = path.join(artifacts, 'gpt');
// Worker round trips on a loaded 2-core machine can take seconds.
const POLL = { timeout: 60_000, interval: 250 };

let browser: Browser;
let dev: ViteDevServer;
let url: string;
let page: Page;
let problems: string[];

beforeAll(async () => {
  fs.mkdirSync(shots, { recursive: true });
  browser = await launchChromium();
  ({ server: dev, url } = await startDevServer());
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  problems = watch(page);
  await page.goto(`${url}gpt.html`);
  await page.waitForFunction(() => window.dlmathGpt !== undefined, null, { timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await dev?.close();
});

type GptState = {
  busy: string;
  info: { step: number; vocab: number } | null;
  train: [number, number][];
  val: [number, number][];
  ft: [number, number][][];
  samples: string[];
  next: unknown[];
  ftResult: { majority: number; accuracy: number[]; lambda: number; steps: number; validation: number } | null;
  error: string;
  message: string;
};
const state = (): Promise<GptState> => page.evaluate(() => window.dlmathGpt!.state() as unknown as GptState);

async function setInput(testid: string, value: string): Promise<void> {
  await page.getByTestId(testid).fill(value);
  await page.getByTestId(testid).dispatchEvent('change');
}

it('pasted text: empty and oversized give a clear message', async () => {
  await page.getByTestId('source-text').check();
  await setInput('gpt-text', '  \n ');
  await page.getByTestId('pretrain').click();
  await expect.poll(async () => (await state()).error, POLL).toContain('the text is empty');
  await expect(page.getByTestId('notice').textContent()).resolves.toContain('the text is empty');
  await page.evaluate(() => {
    const t = document.querySelector<HTMLTextAreaElement>('[data-testid=gpt-text]')!;
    t.value = 'ab\n'.repeat(400_000);
    t.dispatchEvent(new Event('change'));
  });
  await expect.poll(async () => (await state()).error, POLL).toContain('above the limit of 1000000');
  await expect(page.getByTestId('gpt-text').inputValue()).resolves.toBe('');
  await page.getByTestId('source-names').check();
});

it(`pretrains S on names for ${PRETRAIN_STEPS} steps: validation loss below 2.3`, async () => {
  await setInput('gpt-steps', String(PRETRAIN_STEPS));
  const t0 = Date.now();
  await page.getByTestId('pretrain').click();
  await page.waitForFunction(
    (n) => {
      const s = window.dlmathGpt!.state();
      return s.busy === '' && (s.info?.step === n || s.error !== '');
    },
    PRETRAIN_STEPS,
    { timeout: 600_000, polling: 500 },
  );
  const s = await state();
  console.log(`gpt page: ${PRETRAIN_STEPS} pretraining steps in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  expect(s.error).toBe('');
  expect(s.info!.vocab).toBe(29);
  const val = s.val.at(-1)!;
  expect(val[0]).toBe(PRETRAIN_STEPS);
  expect(val[1]).toBeLessThan(2.3);
  expect(s.samples.length).toBe(12);
  await expect(page.getByTestId('samples').locator('li').count()).resolves.toBe(12);
  await expect(page.getByTestId('next-probs').locator('li').count()).resolves.toBe(10);
  await expect(page.getByTestId('attention').locator('figure').count()).resolves.toBe(8); // 2 layers x 4 heads
  await expect(page.getByTestId('pretrain-stats').textContent()).resolves.toMatch(/validation loss \d\.\d{3}/);
});

it(`fine-tunes three runs for ${FINETUNE_STEPS} steps: pretrained beats the majority class by 20 points`, async () => {
  await setInput('gpt-ftsteps', String(FINETUNE_STEPS));
  const t0 = Date.now();
  await page.getByTestId('finetune').click();
  await page.waitForFunction(
    () => {
      const s = window.dlmathGpt!.state();
      return s.busy === '' && (s.ftResult !== null || s.error !== '');
    },
    null,
    { timeout: 600_000, polling: 500 },
  );
  const s = await state();
  console.log(
    `gpt page: 3 x ${FINETUNE_STEPS} fine-tuning steps in ${((Date.now() - t0) / 1000).toFixed(1)} s: ` +
      `accuracy ${s.ftResult!.accuracy.map((a) => a.toFixed(3)).join(', ')}, majority ${s.ftResult!.majority.toFixed(3)}`,
  );
  expect(s.error).toBe('');
  expect(s.ftResult!.majority).toBeGreaterThan(0.5);
  expect(s.ftResult!.accuracy[1]).toBeGreaterThanOrEqual(s.ftResult!.majority + 0.2);
  expect(s.ftResult!.accuracy[2]).toBeGreaterThanOrEqual(s.ftResult!.majority + 0.2);
  await expect(page.getByTestId('verdict').textContent()).resolves.toContain('Majority class');
});

it('fits 320, 390 and 1440 px in both themes and languages, no sideways scroll', async () => {
  for (const lang of ['en', 'zh'])
    for (const theme of ['light', 'dark'])
      for (const width of [320, 390, 1440]) {
        await page.setViewportSize({ width, height: 900 });
        await page.getByTestId('lang-select').selectOption(lang);
        await page.getByTestId('theme-select').selectOption(theme);
        const over = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        expect(over, `${lang} ${theme} ${width}px`).toBeLessThanOrEqual(0);
        if (width !== 320)
          await page.screenshot({ path: path.join(shots, `gpt-${lang}-${theme}-${width}.png`), fullPage: true });
      }
  await expect(page.locator('h1').textContent()).resolves.toContain('微型 GPT');
  await expect(page.getByTestId('formulas').locator('h2').textContent()).resolves.toContain('模型的公式');
  await page.getByTestId('lang-select').selectOption('en');
});

it("shows the model's formulas, typeset, each linked to its catalogue entries", async () => {
  const box = page.getByTestId('formulas');
  // Ten formulas, each typeset by KaTeX (no source shown as code after a parse error).
  await expect.poll(() => box.locator('.math > .katex').count(), POLL).toBe(10);
  await expect(box.locator('.math code').count()).resolves.toBe(0);
  const links = await box.locator('.formula-links a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  for (const id of [
    'multi_head_attention',
    'layer_norm',
    'rms_norm',
    'gelu_tanh',
    'swiglu',
    'cross_entropy',
    'adamw',
    'warmup_cosine',
    'perplexity',
  ])
    expect(links).toContain(`./#e=${id}`);
  // Every link names an entry the catalogue has.
  for (const href of links) expect(OP_IDS).toContain(href!.replace('./#e=', ''));
  // At 320 px a formula too wide for its card scrolls inside its own box, never the page.
  await page.setViewportSize({ width: 320, height: 900 });
  const widths = await box.locator('.math').evaluateAll((els) =>
    els.map((e) => ({
      box: e.clientWidth,
      panel: e.closest('section')!.clientWidth,
      overflow: getComputedStyle(e).overflowX,
    })),
  );
  for (const w of widths) {
    expect(w.box).toBeLessThanOrEqual(w.panel);
    expect(w.overflow).toBe('auto');
  }
  expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(
    0,
  );
  await box.screenshot({ path: path.join(shots, 'gpt-formulas-320.png') });
  await page.setViewportSize({ width: 1440, height: 900 });
  await box.screenshot({ path: path.join(shots, 'gpt-formulas-1440.png') });
});

it('saves a checkpoint in IndexedDB and loads it back, with its loss and accuracy curves', async () => {
  const before = await state();
  expect(before.train.length).toBeGreaterThan(5);
  expect(before.val.length).toBeGreaterThan(2);
  const verdict = await page.getByTestId('verdict').textContent();
  await page.getByTestId('save-db').click();
  await expect.poll(async () => (await state()).message, POLL).toContain('Saved in this browser');
  await page.getByTestId('reset').click();
  expect((await state()).info).toBeNull();
  await page.getByTestId('load-db').click();
  await expect.poll(async () => (await state()).message, POLL).toContain(`Checkpoint loaded: step ${PRETRAIN_STEPS}`);
  const after = await state();
  expect(after.info!.step).toBe(PRETRAIN_STEPS);
  // The charts are drawn again from the checkpoint's history.
  expect(after.train).toEqual(before.train);
  expect(after.val).toEqual(before.val);
  expect(after.ft).toEqual(before.ft);
  const { majority, accuracy, lambda, steps, validation } = before.ftResult!;
  expect(after.ftResult).toEqual({ majority, accuracy, lambda, steps, validation });
  await expect(page.getByTestId('verdict').textContent()).resolves.toBe(verdict);
  await expect(page.getByTestId('pretrain-stats').textContent()).resolves.toMatch(/validation loss \d\.\d{3}/);
  expect(problems).toEqual([]);
});

it('embeds (embed=1): compact, the chart in the first screen, theme and lang honoured, a link to the full page', async () => {
  for (const width of [600, 900]) {
    const p = await browser.newPage({ viewport: { width, height: 600 } });
    const issues = watch(p);
    try {
      await p.goto(`${url}gpt.html?embed=1&lang=zh&theme=dark`);
      await p.waitForFunction(() => window.dlmathGpt !== undefined, null, { timeout: 60_000 });
      await expect(p.locator('h1').textContent()).resolves.toContain('微型 GPT');
      await expect(p.evaluate(() => document.documentElement.dataset.scheme)).resolves.toBe('dark');
      // Compact: no data choice, no files, no menus; the pretraining chart is fully in the first screen.
      await expect(p.getByTestId('source-names').count()).resolves.toBe(0);
      await expect(p.getByTestId('download').count()).resolves.toBe(0);
      await expect(p.getByTestId('lang-select').count()).resolves.toBe(0);
      const chart = await p.locator('svg.chart').first().boundingBox();
      expect(chart!.y + chart!.height, `${width}px`).toBeLessThanOrEqual(600);
      const open = p.getByTestId('open-full');
      await expect(open.getAttribute('target')).resolves.toBe('_blank');
      const href = (await open.getAttribute('href'))!;
      expect(href).toMatch(/gpt\.html#/);
      expect(href).not.toContain('embed');
      expect(href).toContain('lang=zh');
      expect(href).toContain('theme=dark');
      const over = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(over, `${width}px`).toBeLessThanOrEqual(0);
      await p.screenshot({ path: path.join(shots, `gpt-embed-zh-dark-${width}.png`) });
      // The same keys in the hash (the catalogue's links) work alike.
      await p.goto(`${url}gpt.html#embed=1&lang=en&theme=light`);
      await p.waitForFunction(() => document.querySelector('[data-testid=open-full]') !== null, null, {
        timeout: 60_000,
      });
      await expect(p.locator('h1').textContent()).resolves.toContain('A tiny GPT');
      await expect(p.evaluate(() => document.documentElement.dataset.scheme)).resolves.toBe('light');
      expect(issues).toEqual([]);
    } finally {
      await p.close();
    }
  }
});
