// The playground's shell in headless Chromium: links reproduce a view, the
// language switch and the theme are remembered, hostile links run nothing,
// search finds entries in both languages, figures export, controls have labels.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { artifacts, launchChromium, startDevServer, watch } from './harness.js';

let browser: Browser;
let server: ViteDevServer;
let url: string;

beforeAll(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
  ({ server, url } = await startDevServer());
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh browser profile with one page, its problems collected. */
async function fresh(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  return { context, page, problems: watch(page) };
}

/** Opens `hash` and waits until the page named `id` has rendered. */
async function openAt(page: Page, hash: string, id: string): Promise<void> {
  await page.goto(`${url}#${hash}`);
  await page.waitForFunction(
    (pid) => window.dlmathApp?.state().page === pid && window.dlmathApp.state().renders > 0,
    id,
    {
      timeout: 60_000,
    },
  );
}

/** Opens `hash` on the page already loaded and waits until the page named `id` has rendered anew. */
async function go(page: Page, hash: string, id: string): Promise<void> {
  const before = await page.evaluate(() => window.dlmathApp!.state().renders);
  await page.evaluate((h) => (location.hash = h), hash);
  await page.waitForFunction(
    ([pid, n]) => window.dlmathApp!.state().page === pid && window.dlmathApp!.state().renders > (n as number),
    [id, before],
  );
}

/** Waits for the URL to settle after an edit (it follows the state after 250 ms). */
function settle(page: Page): Promise<void> {
  return page.waitForTimeout(400);
}

it('a link reproduces a non-default view, and edits go back into the link', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, 'e=elu&p.alpha=0.5&v.xmin=-3&v.x=-1.5&v.cmp=relu,silu', 'elu');
  expect(await page.inputValue('[data-testid=param-alpha]')).toBe('0.5');
  expect(await page.isChecked('[data-testid=view-cmp-relu]')).toBe(true);
  expect(await page.isChecked('[data-testid=view-cmp-silu]')).toBe(true);
  const shown = await page.evaluate(() => window.dlmathApp!.state().shown);
  expect(shown[0]!.params.alpha).toBe(0.5);
  // elu(-1.5) with alpha 0.5, as the engine computes it directly.
  const direct = await page.evaluate(() => window.dlmathApp!.dl.eval('elu', { x: [-1.5] }, { alpha: 0.5 }).data[0]);
  expect(shown[0]!.values[0]).toBe(direct);

  // Edit: the probe moves and an overlay goes; the URL follows.
  await page.fill('[data-testid=view-probe]', '2');
  await page.uncheck('[data-testid=view-cmp-relu]');
  await settle(page);
  const hash = await page.evaluate(() => location.hash);
  expect(hash).toContain('v.x=2');
  expect(hash).toContain('v.cmp=silu');
  expect(hash).toContain('p.alpha=0.5');
  const before = await page.evaluate(() => window.dlmathApp!.state().shown);

  // The same link in a new profile shows the same numbers.
  const other = await fresh();
  await openAt(other.page, hash.slice(1), 'elu');
  const after = await other.page.evaluate(() => window.dlmathApp!.state().shown);
  expect(after).toEqual(before);
  expect(await other.page.isChecked('[data-testid=view-cmp-relu]')).toBe(false);
  expect(problems).toEqual([]);
  expect(other.problems).toEqual([]);
  await other.context.close();
  await context.close();
});

it('the language switch changes every text and is remembered', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, 'e=cross_entropy', 'cross_entropy');
  const titleEn = await page.textContent('[data-testid=op-title]');
  const docEn = await page.textContent('[data-testid=op-doc]');
  await page.selectOption('[data-testid=lang-select]', 'zh');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-Hans');
  await page.waitForFunction(() => window.dlmathApp!.state().lang === 'zh');
  const titleZh = await page.textContent('[data-testid=op-title]');
  const docZh = await page.textContent('[data-testid=op-doc]');
  expect(titleZh).not.toBe(titleEn);
  expect(docZh).not.toBe(docEn);
  expect(docZh).toMatch(/[\u4e00-\u9fff]/);
  expect(await page.textContent('#heading')).toBe('演练场');
  // The nav is in Chinese too, and the view's own labels.
  expect(await page.textContent('[data-testid=nav]')).toContain('损失函数');
  await settle(page);
  expect(await page.evaluate(() => location.hash)).toContain('lang=zh');
  await page.screenshot({ path: path.join(artifacts, 'playground-zh.png'), fullPage: true });
  // Remembered without the URL saying so.
  await openAt(page, 'e=relu', 'relu');
  expect(await page.evaluate(() => window.dlmathApp!.state().lang)).toBe('zh');
  expect(problems).toEqual([]);
  await context.close();
});

it('a hostile link runs nothing, says what it ignored, and the page keeps working', async () => {
  const { context, page, problems } = await fresh();
  const hostile = [
    `e=${encodeURIComponent('<img src=x onerror="window.__pwned=1">')}`,
    `lang=${encodeURIComponent('<script>window.__pwned=2</script>')}`,
    `p.alpha=${encodeURIComponent('javascript:window.__pwned=3')}`,
    `v.xmin=1e999`,
    `${encodeURIComponent('<svg onload=window.__pwned=4>')}=1`,
    `f=${'x+'.repeat(1500)}x`,
  ].join('&');
  await page.goto(`${url}#${hostile}`);
  await page.waitForFunction(() => (window.dlmathApp?.state().renders ?? 0) > 0, null, { timeout: 60_000 });
  const notice = await page.locator('[data-testid=notice-message]').allTextContents();
  expect(notice.join(' ')).toContain('<img src=x');
  expect(await page.locator('#notice img, #notice script, #notice svg').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(await page.evaluate(() => window.dlmathApp!.state().page)).toBe('');
  // Still works: a valid page opens and computes.
  await page.evaluate(() => (location.hash = 'e=elu&p.alpha=javascript:1&v.xmin=abc'));
  await page.waitForFunction(() => window.dlmathApp!.state().page === 'elu');
  await page.waitForFunction(() => window.dlmathApp!.state().shown.length > 0);
  const notice2 = (await page.locator('[data-testid=notice-message]').allTextContents()).join(' ');
  expect(notice2).toContain('p.alpha');
  expect(notice2).toContain('v.xmin');
  expect(await page.inputValue('[data-testid=param-alpha]')).toBe('1');
  await page.screenshot({ path: path.join(artifacts, 'playground-hostile.png'), fullPage: true });
  expect(problems).toEqual([]);
  await context.close();
});

it('search finds entries by id, English and Chinese names, and Enter opens the best match', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, '', '');
  const visible = () =>
    page.evaluate(() =>
      [...document.querySelectorAll<HTMLAnchorElement>('[data-testid=nav] a')]
        .filter((a) => a.offsetParent !== null)
        .map((a) => a.dataset.id),
    );
  await page.fill('[data-testid=nav-search]', 'softmax');
  expect(await visible()).toEqual(expect.arrayContaining(['softmax', 'log_softmax', 'softmax_naive']));
  expect(await visible()).not.toContain('relu');
  // Enter opens the best match: the exact one, even when another is listed first (bce before cross_entropy).
  await page.press('[data-testid=nav-search]', 'Enter');
  await page.waitForFunction(() => window.dlmathApp!.state().page === 'softmax');
  await page.fill('[data-testid=nav-search]', '交叉熵');
  expect(await visible()).toEqual(expect.arrayContaining(['bce', 'cross_entropy']));
  await page.press('[data-testid=nav-search]', 'Enter');
  await page.waitForFunction(() => window.dlmathApp!.state().page === 'cross_entropy');
  await page.fill('[data-testid=nav-search]', 'Kullback');
  const kl = await visible();
  await page.fill('[data-testid=nav-search]', 'huber');
  await page.press('[data-testid=nav-search]', 'Enter');
  await page.waitForFunction(() => window.dlmathApp!.state().page === 'huber');
  await page.fill('[data-testid=nav-search]', 'no such thing at all');
  expect(await visible()).toEqual([]);
  expect(kl.length).toBeGreaterThanOrEqual(0);
  expect(problems).toEqual([]);
  await context.close();
});

it('figures export as PNG and SVG', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, 'e=gelu_erf', 'gelu_erf');
  const fig = page.locator('[data-testid=figure-f]');
  const [png] = await Promise.all([page.waitForEvent('download'), fig.getByRole('button', { name: /PNG/ }).click()]);
  expect(png.suggestedFilename()).toMatch(/\.png$/);
  const pngBytes = fs.readFileSync((await png.path())!);
  expect(pngBytes.subarray(1, 4).toString()).toBe('PNG');
  const [svg] = await Promise.all([page.waitForEvent('download'), fig.getByRole('button', { name: /SVG/ }).click()]);
  expect(svg.suggestedFilename()).toMatch(/\.svg$/);
  const text = fs.readFileSync((await svg.path())!, 'utf8');
  expect(text.startsWith('<svg')).toBe(true);
  expect(text).toContain('<path d="M');
  expect(text).toContain('gelu_erf');
  expect(problems).toEqual([]);
  await context.close();
});

it('the theme switch applies and is remembered', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, 'e=tanh', 'tanh');
  await page.selectOption('[data-testid=theme-select]', 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim());
  expect(bg).toBe('#0f1217');
  await page.screenshot({ path: path.join(artifacts, 'playground-dark.png'), fullPage: true });
  await page.reload();
  await page.waitForFunction(() => (window.dlmathApp?.state().renders ?? 0) > 0);
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
  await page.selectOption('[data-testid=theme-select]', 'light');
  expect(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim())).toBe(
    '#f6f7f9',
  );
  expect(problems).toEqual([]);
  await context.close();
  // 'System' follows the browser's preference.
  const darkSystem = await browser.newContext({ colorScheme: 'dark' });
  const p2 = await darkSystem.newPage();
  await openAt(p2, 'e=tanh', 'tanh');
  expect(await p2.evaluate(() => document.documentElement.dataset.theme)).toBe('auto');
  expect(await p2.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim())).toBe(
    '#0f1217',
  );
  await darkSystem.close();
});

it('the catalogue is reachable by keyboard alone', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, '', '');
  await page.focus('[data-testid=nav-search]');
  await page.keyboard.type('mish');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.dlmathApp!.state().page === 'mish');
  // Tab from the nav link reaches the page's controls.
  let reached = false;
  for (let i = 0; i < 80 && !reached; ++i) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.closest('[data-testid=view]') !== null);
  }
  expect(reached).toBe(true);
  expect(problems).toEqual([]);
  await context.close();
});

it('embed=1 shows only the entry, and Reset view returns to its defaults', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, 'e=leaky_relu&p.negative_slope=0.3&v.x=-2&embed=1', 'leaky_relu');
  expect(await page.isVisible('#nav')).toBe(false);
  expect(await page.isVisible('[data-testid=figure-f]')).toBe(true);
  await page.screenshot({ path: path.join(artifacts, 'playground-embed.png') });
  await page.evaluate(() => document.body.classList.remove('embed'));
  const before = await page.evaluate(() => window.dlmathApp!.state().renders);
  await page.click('[data-testid=reset-view]');
  await page.waitForFunction((n) => window.dlmathApp!.state().renders > n, before);
  await settle(page);
  const hash = await page.evaluate(() => location.hash);
  expect(hash).not.toContain('p.negative_slope');
  expect(hash).not.toContain('v.x');
  expect(await page.inputValue('[data-testid=param-negative_slope]')).toBe('0.01');
  expect(problems).toEqual([]);
  await context.close();
});

/** What the evaluator plots: x, f and f′ as drawn. */
function plotted(page: Page): Promise<{ x: number[]; f: number[]; df: number[] }> {
  return page.evaluate(() => {
    const shown = window.dlmathApp!.state().shown;
    const f = shown.find((s) => s.what === 'formula')!;
    const df = shown.find((s) => s.what === 'formula-grad')!;
    return { x: f.inputs.x!.data, f: f.values, df: df.values };
  });
}

it('the evaluator plots x*sigmoid(x) with a derivative equal to silu’s', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, 'e=formula', 'formula');
  await page.fill('[data-testid=formula-text]', 'x*sigmoid(x)');
  await page.waitForFunction(() =>
    window.dlmathApp!.state().shown.some((s) => s.what === 'formula' && s.id === 'x*sigmoid(x)'),
  );
  const { x, f, df } = await plotted(page);
  expect(x.length).toBe(2001);
  const silu = await page.evaluate((xs) => {
    const dl = window.dlmathApp!.dl;
    return {
      y: Array.from(dl.eval('silu', { x: xs }).data),
      dy: Array.from(dl.grad('silu', { x: xs }).x.data),
    };
  }, x);
  // The registry's tolerances: 2e-6 for values, 1e-5 for gradients, relative to max(1, |ref|).
  let worstF = 0;
  let worstDf = 0;
  x.forEach((_, i) => {
    worstF = Math.max(worstF, Math.abs(f[i]! - silu.y[i]!) / Math.max(1, Math.abs(silu.y[i]!)));
    worstDf = Math.max(worstDf, Math.abs(df[i]! - silu.dy[i]!) / Math.max(1, Math.abs(silu.dy[i]!)));
  });
  expect(worstF).toBeLessThanOrEqual(2e-6);
  expect(worstDf).toBeLessThanOrEqual(1e-5);
  // The derivative is not flat or trivially equal to f: it has silu's minimum near x = -2.4.
  const iMin = df.indexOf(Math.min(...df));
  expect(x[iMin]).toBeGreaterThan(-2.6);
  expect(x[iMin]).toBeLessThan(-2.2);

  // The overlay of silu itself agrees on screen too.
  await page.selectOption('[data-testid=formula-compare]', 'silu');
  await page.waitForFunction(() => window.dlmathApp!.state().shown.some((s) => s.id === 'silu'));
  expect(problems).toEqual([]);
  await context.close();
});

it('a malformed formula shows its error at the right column and keeps the last plot', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, 'e=formula&v.f=tanh(x)', 'formula');
  await page.waitForFunction(() => window.dlmathApp!.state().shown.some((s) => s.id === 'tanh(x)'));
  const cases: [string, number][] = [
    ['x*(2+', 6], // the end of the text: column after the last character
    ['sigmod(x)', 1], // unknown function
    ['x + $', 5], // unexpected character
    ['2x', 2], // no implicit multiplication
  ];
  for (const [text, column] of cases) {
    await page.fill('[data-testid=formula-text]', text);
    await page.waitForSelector('[data-testid=formula-error]:not([hidden])');
    const caret = (await page.textContent('[data-testid=formula-caret]'))!.split('\n');
    expect(caret[0]).toBe(text);
    expect(caret[1]!.indexOf('^') + 1, `${text}: ${await page.textContent('[data-testid=formula-message]')}`).toBe(
      column,
    );
    const message = (await page.textContent('[data-testid=formula-message]'))!;
    expect(message).toContain(`column ${column}`);
    expect(message.split('column').length - 1, `${text}: '${message}' says the column once`).toBe(1);
    expect(await page.getAttribute('[data-testid=formula-text]', 'aria-invalid')).toBe('true');
    // The plots still show the last valid formula, greyed, and the page says so.
    expect(await page.textContent('[data-testid=formula-stale]')).toContain('tanh(x)');
    expect(await page.locator('.figures.stale [data-testid=figure-f]').count()).toBe(1);
  }
  // The last valid formula is still plotted, and a fix clears the error.
  expect(await page.evaluate(() => window.dlmathApp!.state().shown.some((s) => s.id === 'tanh(x)'))).toBe(true);
  await page.fill('[data-testid=formula-text]', 'a*x^2');
  await page.waitForSelector('[data-testid=formula-error]', { state: 'hidden' });
  expect(await page.locator('.figures.stale').count()).toBe(0);
  await page.waitForSelector('[data-testid=formula-param-a]');
  await page.screenshot({ path: path.join(artifacts, 'formula-params.png'), fullPage: true });
  expect(problems).toEqual([]);
  await context.close();
});

it('the evaluator’s text and params travel in the link', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, 'e=formula', 'formula');
  await page.fill('[data-testid=formula-text]', 'a*tanh(b*x)');
  await page.fill('[data-testid=formula-param-a]', '2');
  await page.fill('[data-testid=formula-param-b]', '0.5');
  await settle(page);
  const hash = await page.evaluate(() => location.hash);
  const before = await plotted(page);
  const other = await fresh();
  await openAt(other.page, hash.slice(1), 'formula');
  expect(await other.page.inputValue('[data-testid=formula-text]')).toBe('a*tanh(b*x)');
  expect(await plotted(other.page)).toEqual(before);
  // 2*tanh(0.5*x) at the right end of the default range.
  expect(before.f.at(-1)).toBeCloseTo(2 * Math.tanh(3), 5);
  expect(problems).toEqual([]);
  expect(other.problems).toEqual([]);
  await other.context.close();
  await context.close();
});

it('a heatmap is usable from the keyboard: arrows read cells, Enter acts on one', async () => {
  const { context, page, problems } = await fresh();
  await openAt(page, 'e=scaled_dot_product_attention', 'scaled_dot_product_attention');
  const weights = () =>
    page.evaluate(() => window.dlmathApp!.state().shown.find((s) => s.what === 'aux:weights')!.values);
  const before = await weights();
  expect(before[1]).toBeGreaterThan(0);
  const map = page.locator('[data-testid=figure-weights] canvas');
  await map.focus();
  await page.keyboard.press('ArrowRight');
  expect(await page.locator('[data-testid=figure-weights] .heatmap-readout').textContent()).toMatch(/ 0, .* 1: /);
  await page.keyboard.press('Enter');
  await page.waitForFunction((w0) => {
    const w = window.dlmathApp!.state().shown.find((s) => s.what === 'aux:weights')!.values;
    return w[1] !== w0;
  }, before[1]);
  // Query 0 no longer attends to key 1; its other weights still sum to one.
  const after = await weights();
  expect(after[1]).toBe(0);
  const cols = Math.round(Math.sqrt(after.length));
  expect(after.slice(0, cols).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  expect(problems).toEqual([]);
  await context.close();
});

it('what a newcomer hit: link values, page defaults, properties, sliders, legends, colour bars, scrolling', async () => {
  const { context, page, problems } = await fresh();
  // A value that is not a number is called that, not "out of range"; an out-of-range one names the range.
  await openAt(page, 'e=huber&p.delta=abc', 'huber');
  await page.waitForFunction(() => window.dlmathApp!.state().shown.length > 0);
  expect(await page.textContent('[data-testid=notice]')).toContain('p.delta=abc (not a number)');
  await go(page, 'e=huber&p.delta=-1', 'huber');
  expect(await page.textContent('[data-testid=notice]')).toContain('p.delta=-1 (outside (0, ∞))');
  // The line plots' legends name every series with a number before any hover.
  const legend = await page.textContent('[data-testid=view] .u-legend');
  expect(legend).not.toContain('–');
  expect(legend).toMatch(/huber-?\d/); // "huber: 3.5" (the colon is drawn by CSS)

  // Multi-head attention opens with two heads (the link leaves the page default out).
  await go(page, 'e=multi_head_attention', 'multi_head_attention');
  expect(await page.inputValue('[data-testid=param-num_heads]')).toBe('2');
  const heads = await page.evaluate(() => window.dlmathApp!.state().shown.map((s) => s.params.num_heads));
  expect(heads.length).toBeGreaterThan(0);
  expect(heads.every((h) => h === 2)).toBe(true);
  await settle(page);
  expect(await page.evaluate(() => location.hash)).not.toContain('num_heads');
  // Every heatmap has a colour bar with the values of its two ends.
  const bars = await page.$$eval('[data-testid=view] .colorbar', (els) => els.map((e) => e.textContent));
  expect(bars.length).toBeGreaterThan(2);
  for (const b of bars) expect(b).toMatch(/^-?[\d.e-]+-?[\d.e-]+$/);

  // Properties only where they mean something: all four for an element-wise function, no "monotonic" for
  // logsumexp (it rises in every entry), the range of a schedule's rates, none for an optimizer.
  const props = () => page.$$eval('[data-testid=op-props] dt', (els) => els.map((e) => e.textContent));
  await go(page, 'e=relu', 'relu');
  expect(await props()).toEqual(['Output range', 'Monotonic', 'Zero-centred', 'Smooth']);
  await go(page, 'e=logsumexp', 'logsumexp');
  expect(await props()).not.toContain('Monotonic');
  await go(page, 'e=step_lr', 'step_lr');
  expect(await props()).toEqual(['Output range']);
  await go(page, 'e=adam', 'adam');
  expect(await props()).toEqual([]);
  // Adam at its default lr travels: the page runs it at the surface's rate and says so.
  const path = await page.evaluate(() => window.dlmathApp!.state().shown.find((s) => s.id === 'adam')!);
  expect(path.params.lr).not.toBe(1e-3);
  const n = path.values.length;
  const moved = Math.hypot(
    path.values[n - 2]! - path.inputs.params!.data[0]!,
    path.values[n - 1]! - path.inputs.params!.data[1]!,
  );
  expect(moved).toBeGreaterThan(1);
  expect(await page.textContent('[data-testid=optimizer-lr-hint]')).toContain(String(path.params.lr));

  // x min and x max share one scale, so the min's thumb sits left of the max's.
  await go(page, 'e=tanh', 'tanh');
  const scale = await page.$$eval('[data-testid=view-xmin-slider], [data-testid=view-xmax-slider]', (els) =>
    els.map((e) => {
      const s = e as HTMLInputElement;
      return { min: s.min, max: s.max, at: (Number(s.value) - Number(s.min)) / (Number(s.max) - Number(s.min)) };
    }),
  );
  expect(scale[0]!.min).toBe(scale[1]!.min);
  expect(scale[0]!.max).toBe(scale[1]!.max);
  expect(scale[0]!.at).toBeLessThan(scale[1]!.at);

  // A deep link to an entry far down the catalogue keeps the header in view.
  await go(page, 'e=least_squares', 'least_squares');
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
  expect(await page.evaluate(() => document.querySelector('#nav')!.scrollTop)).toBeGreaterThan(0);
  expect(problems).toEqual([]);
  await context.close();
});

it('explanations typeset their maths inline with KaTeX, in both languages, and keep text as text', async () => {
  const { context, page, problems } = await fresh();
  // The explanation's words without its typeset maths (KaTeX's MathML copy repeats the LaTeX source).
  const prose = () =>
    page.$eval('[data-testid=op-doc]', (el) => {
      const copy = el.cloneNode(true) as HTMLElement;
      copy.querySelectorAll('.katex').forEach((k) => k.remove());
      return copy.textContent ?? '';
    });
  const typeset = async (lang: 'en' | 'zh') => {
    const spans = await page.evaluate(
      (l) =>
        (
          window
            .dlmathApp!.dl.ops()
            .find((o) => o.id === 'least_squares')!
            .doc[l].match(/\$/g) ?? []
        ).length / 2,
      lang,
    );
    expect(spans).toBeGreaterThan(3);
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid=op-doc] .math-inline > .katex').length === n,
      spans,
    );
    const text = await prose();
    for (const raw of ['X^T', 'theta', '||', '$']) expect(text, lang).not.toContain(raw);
    expect(await page.$$('[data-testid=op-doc] code')).toEqual([]); // nothing fell back to its source
  };
  await openAt(page, 'e=least_squares&lang=en', 'least_squares');
  await typeset('en');
  expect(await prose()).toContain('Fits the linear model');
  await page.selectOption('[data-testid=lang-select]', 'zh');
  await page.waitForFunction(() => window.dlmathApp!.state().lang === 'zh');
  await typeset('zh');
  expect(await prose()).toContain('拟合');

  // The renderer itself: text stays text (no HTML is parsed), \$ is a dollar sign, and a span KaTeX cannot
  // parse or a $ left open shows its source and is reported, never typeset in red.
  // A string, so the test runner does not rewrite the page's dynamic import.
  type Run = { html: string; text: string; katex: number; errors: string[] };
  const rendered = (await page.evaluate(`(async () => {
    const { renderDoc } = await import('/src/ui/math.ts');
    const run = async (doc) => {
      const el = document.createElement('p');
      const errors = [];
      renderDoc(el, doc, (err) => errors.push(String(err)));
      await new Promise((r) => setTimeout(r, 200));
      return { html: el.innerHTML, text: el.textContent, katex: el.querySelectorAll('.katex').length, errors };
    };
    return {
      hostile: await run(${JSON.stringify('<img src=x onerror="window.__pwned=1"> costs \\$5 and $x^2$')}),
      malformed: await run(${JSON.stringify('a $\\frac{1}{$ here')}),
      open: await run('a $x^2 left open'),
      pwned: window.__pwned,
    };
  })()`)) as { hostile: Run; malformed: Run; open: Run; pwned?: number };
  expect(rendered.hostile.html).not.toContain('<img');
  expect(rendered.hostile.text).toContain('<img src=x onerror="window.__pwned=1"> costs $5 and ');
  expect(rendered.hostile.katex).toBe(1);
  expect(rendered.hostile.errors).toEqual([]);
  expect(rendered.pwned).toBeUndefined();
  expect(rendered.malformed.katex).toBe(0);
  expect(rendered.malformed.html).toContain('<code>\\frac{1}{</code>');
  expect(rendered.malformed.errors).toHaveLength(1);
  expect(rendered.open.text).toBe('a $x^2 left open');
  expect(rendered.open.errors[0]).toContain('unclosed $');
  expect(problems).toEqual([]);
  await context.close();
});
