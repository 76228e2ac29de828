// The npm package for real: `npm pack` of web/, installed offline from the
// tarball into a scratch Vite app and a scratch Node project in a temporary
// folder. The app is built by Vite (the repository's own, no download) and
// opened in headless Chromium: a value, a gradient and a custom element work
// there. In Node every JavaScript example of the package's README runs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDlmath, type Dlmath } from 'dlmath';
import type { Browser } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, root, watch } from './browser/harness.js';

let dl: Dlmath;
let scratch: string;
let tarball: string;

/** Runs a command and returns its output; a failure fails the test with the command's own words. */
function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A scratch project holding the package, installed from the tarball with no network. */
function project(name: string, files: Record<string, string>): string {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  run('npm', ['install', tarball, '--offline', '--no-fund', '--no-audit'], dir);
  return dir;
}

beforeAll(async () => {
  dl = await loadDlmath();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dlmath-pack-'));
  const out = run('npm', ['pack', '--json', '--pack-destination', scratch], path.join(root, 'web'));
  const packed = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(scratch, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  // What the package must hold: the engine and its wasm, the elements, their types, the README.
  for (const f of ['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/elements/index.js', 'elements.d.ts', 'README.md'])
    expect(files, f).toContain(f);
  // Both wasm modules (the light one and the full one with the training engine), precompressed beside.
  for (const m of ['dlmath_lite', 'dlmath_wasm'])
    for (const ext of ['.wasm', '.wasm.br', '.wasm.gz', '.mjs']) expect(files).toContain(`dist/lib/gen/${m}${ext}`);
  expect(files.some((f) => f.startsWith('src/') || f.includes('node_modules'))).toBe(false);
});

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

it('the README’s JavaScript examples run in a fresh Node project', () => {
  const readme = fs.readFileSync(path.join(root, 'web/README.md'), 'utf8');
  const examples = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(examples.length).toBeGreaterThan(1);
  const dir = project('scratch-node', Object.fromEntries(examples.map((code, i) => [`example-${i}.mjs`, code])));
  const printed = examples.map((_, i) => run('node', [`example-${i}.mjs`], dir)).join('\n');
  // The installed package computes what the repository's engine computes.
  expect(printed).toContain(String(dl.gelu_tanh([1]).data[0]));
  expect(printed).toContain(`bad_formula at column 6`);
});

it('a fresh Vite app built against the tarball: a value, a gradient and a custom element', async () => {
  const dir = project('scratch-vite', {
    'index.html': `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>scratch</title></head>
  <body>
    <p>A documentation page with one live figure:</p>
    <dlmath-entry e="huber" p.delta="0.5"></dlmath-entry>
    <script type="module" src="./main.js"></script>
  </body>
</html>
`,
    'main.js': `import { loadDlmath } from 'dlmath';
import 'dlmath/elements';

const dl = await loadDlmath();
window.scratch = {
  value: dl.gelu_tanh([1]).data[0],
  grad: dl.grad('softmax', { x: [1, 2, 3] }, {}, [1, 0, 0]).x.data[0],
};
`,
  });
  const outDir = path.join(dir, 'dist');
  await build({ root: dir, configFile: false, logLevel: 'warn', build: { outDir } });
  const server: PreviewServer = await preview({
    root: dir,
    configFile: false,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0 },
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
    const problems = watch(page);
    await page.goto(server.resolvedUrls!.local[0]!);
    await page.waitForFunction(() => 'scratch' in window, null, { timeout: 60_000 });
    const got = await page.evaluate(() => (window as unknown as { scratch: { value: number; grad: number } }).scratch);
    expect(got.value).toBe(dl.gelu_tanh([1]).data[0]);
    expect(got.grad).toBe(dl.grad('softmax', { x: [1, 2, 3] }, {}, [1, 0, 0]).x.data[0]);
    // The element builds its view from the same engine and shows Huber's numbers for delta 0.5.
    await page.waitForFunction(
      () => {
        const el = document.querySelector('dlmath-entry') as unknown as { renders: number; shown(): unknown[] };
        return el.renders > 0 && el.shown().length > 0;
      },
      null,
      { timeout: 60_000 },
    );
    const shown = await page.evaluate(() =>
      (
        document.querySelector('dlmath-entry') as unknown as { shown(): { id: string; params: { delta?: number } }[] }
      ).shown(),
    );
    expect(shown.some((s) => s.id === 'huber' && s.params.delta === 0.5)).toBe(true);
    const fonts = await page.evaluate(async () => {
      await document.fonts.ready;
      const loaded: string[] = [];
      document.fonts.forEach((f) => {
        if (f.status === 'loaded') loaded.push(f.family.replace(/"/g, ''));
      });
      return loaded;
    });
    expect(fonts).toContain('KaTeX_Main');
    expect(problems).toEqual([]);
  } finally {
    await browser?.close();
    await server.close();
  }
});
