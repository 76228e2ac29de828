// Shared set-up of the headless-Chromium tests: Debian's chromium driven by
// playwright-core (no browser download), pages served by Vite on 127.0.0.1.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import type { Check } from './replay.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const configFile = path.join(root, 'web/vite.config.ts');
export const artifacts = path.join(root, 'test-artifacts');

// playwright-core creates a fresh temporary user-data-dir per launch() and
// removes it on close(), so no profile state leaks between runs.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium, headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** The page's Vite dev server on 127.0.0.1 and a free port, without HMR. */
export async function startDevServer(): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    configFile,
    logLevel: 'warn',
    // No HMR: a wasm rebuild elsewhere must not reload the page mid-test.
    server: { host: '127.0.0.1', port: 0, strictPort: false, open: false, hmr: false },
  });
  await server.listen();
  return { server, url: server.resolvedUrls!.local[0]! };
}

/** Collects console errors, page errors and failed requests of a page. */
export function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Requests cut short by a navigation (reload) are aborted, not failed.
    const why = r.failure()?.errorText ?? '';
    if (why !== 'net::ERR_ABORTED') problems.push(`requestfailed: ${r.url()} ${why}`);
  });
  return problems;
}

/** replay.ts as the dev server serves it to the page (from outside web/: the workspace root is allowed). */
export const REPLAY_URL = `/@fs${path.join(root, 'tests/web/browser/replay.ts')}`;

/**
 * Repeats in the page every engine call its view recorded and compares the numbers (see replay.ts).
 * @param page - a playground page whose view has rendered
 */
export function recheck(page: Page): Promise<Check[]> {
  return page.evaluate(
    `import(${JSON.stringify(REPLAY_URL)}).then((m) => m.check(window.dlmathApp.dl, window.dlmathApp.state().shown))`,
  ) as Promise<Check[]>;
}

/**
 * Opens a playground page by id ('' = the overview) through the hash and waits until its view has rendered.
 * @param page - a page showing the playground
 * @param id - the entry or lesson id
 * @param lang - the page's language
 */
export async function openPage(page: Page, id: string, lang: string): Promise<void> {
  // The part of main.ts's window.dlmathApp read here (this file is type-checked without the page's code).
  type App = { dlmathApp: { state(): { page: string; renders: number } } };
  const before = await page.evaluate(() => (window as unknown as App).dlmathApp.state().renders);
  await page.evaluate((h) => (location.hash = h), `e=${id}&lang=${lang}`);
  await page.waitForFunction(
    ([pid, n]) => {
      const s = (window as unknown as App).dlmathApp.state();
      return s.page === pid && s.renders > (n as number);
    },
    [id, before],
    { timeout: 30_000 },
  );
  // Two frames: a render scheduled by the view itself lands too.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  // The training page draws once its worker has sent the first snapshot.
  type Train = { dlmathTrain?: { debug(): { printed: unknown } } };
  if (id === 'train')
    await page.waitForFunction(() => (window as unknown as Train).dlmathTrain?.debug().printed != null, null, {
      timeout: 30_000,
    });
}
