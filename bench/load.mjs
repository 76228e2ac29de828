// The first visit: how long until the first plot drawn with the engine's
// numbers, on the production build in headless Chromium. The build (`vite
// build` into build/bench-app) is served by a small static server that, like
// a production host, answers with the precompressed .br or .gz file beside an
// asset when the browser accepts it. Each visit is a fresh browser context
// (empty cache), unthrottled, then throttled through the DevTools protocol as
// the issue describes (10 Mbps, 40 ms latency, 4× slower CPU). Medians of
// ROUNDS visits; the page marks 'dlmath:first-plot' (ui/playground.ts).
// Also printed: the wasm modules' sizes raw, gzipped and brotli'd (the page's light one, and the full one).
//   node bench/load.mjs            (after `bash scripts/build.sh wasm`)
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { build } from 'vite';
import { launchChromium } from './chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'build/bench-app');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PAGES = [
  ['start page', ''],
  ['an entry (#e=gelu_tanh)', '#e=gelu_tanh'],
];
const THROTTLE = { latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8, cpu: 4 };
const GOALS = { unthrottled: 1000, throttled: 3000 };

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
};

// Serves outDir; prefers file.br, then file.gz, when the request accepts them.
function serve() {
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/\/$/, '/index.html');
    const file = path.join(outDir, path.normalize(rel));
    if (!file.startsWith(outDir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const accept = String(req.headers['accept-encoding'] ?? '');
    let body = file;
    const headers = {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      vary: 'accept-encoding',
    };
    for (const [ext, enc] of [
      ['.br', 'br'],
      ['.gz', 'gzip'],
    ])
      if (accept.includes(enc) && fs.existsSync(file + ext)) {
        body = file + ext;
        headers['content-encoding'] = enc;
        break;
      }
    res.writeHead(200, headers);
    fs.createReadStream(body).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

console.error('bench: building the page (production)');
await build({
  configFile: path.join(root, 'web/vite.config.ts'),
  logLevel: 'warn',
  build: { outDir, emptyOutDir: true },
});
const server = await serve();
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = await launchChromium();

/** One visit in a fresh context: ms from navigation to the first plot. */
async function visit(hash, throttled) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  if (throttled) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...THROTTLE });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE.cpu });
  }
  await page.goto(url + hash);
  const ms = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const seen = () => performance.getEntriesByName('dlmath:first-plot')[0];
        const poll = () => (seen() ? resolve(seen().startTime) : setTimeout(poll, 10));
        poll();
      }),
  );
  await context.close();
  return ms;
}

const rows = [];
try {
  for (const [name, hash] of PAGES)
    for (const throttled of [false, true]) {
      const times = [];
      for (let r = 0; r < ROUNDS; ++r) times.push(await visit(hash, throttled));
      const goal = throttled ? GOALS.throttled : GOALS.unthrottled;
      const m = median(times);
      rows.push(
        `| ${name} | ${throttled ? 'throttled' : 'unthrottled'} | ${m.toFixed(0)} | ${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)} | ≤ ${goal} ${m <= goal ? '✓' : '✗'} |`,
      );
    }
} finally {
  await browser.close();
  server.close();
}

// The page loads the light module (the catalogue and the evaluator); the full one (the training engine)
// is fetched only by what trains: the training page's workers, the GPT page, dl.training().
const assets = fs.readdirSync(path.join(outDir, 'assets'));
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
const GZIP_GOAL = 300 * 1024;
console.log(
  `\nFirst visit to the production build (${ROUNDS} visits each, fresh cache; throttled: 10 Mbps, 40 ms, 4× CPU):\n`,
);
console.log('| page | network | first plot ms (median) | range | goal |');
console.log('|---|---|--:|--:|---|');
for (const r of rows) console.log(r);
console.log('\n| wasm | raw | gzip | brotli | goal |');
console.log('|---|--:|--:|--:|---|');
for (const [name, prefix, goal] of [
  ["the page's (light: catalogue, evaluator)", 'dlmath_lite', true],
  ['full (training engine, loaded when training)', 'dlmath_wasm', false],
]) {
  const file = assets.find((f) => f.startsWith(prefix) && f.endsWith('.wasm'));
  const wasm = fs.readFileSync(path.join(outDir, 'assets', file));
  const gzip = zlib.gzipSync(wasm, { level: 9 }).length;
  console.log(
    `| ${name} | ${kb(wasm.length)} | ${kb(gzip)} | ${kb(zlib.brotliCompressSync(wasm).length)} | ${goal ? `≤ 300 KB gzip ${gzip <= GZIP_GOAL ? '✓' : '✗'}` : ''} |`,
  );
}
