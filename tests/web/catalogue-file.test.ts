// The catalogue lives beside the wasm, not in it: the shipped module holds
// none of the registry's text (titles, LaTeX, explanations), ops.json holds
// all of it, dl.ops() reads it in Node as the page does in browsers, and a
// catalogue written from another registry is refused with a clear error.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Dlmath, loadDlmath, type OpMeta } from 'dlmath';
import { beforeAll, expect, it } from 'vitest';

const gen = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/src/engine/gen');
let ops: OpMeta[];

beforeAll(async () => {
  ops = (await loadDlmath()).ops();
});

it('dl.ops(), read from ops.json, is what the full registry lists, infinite ranges included', async () => {
  const meta = path.resolve(gen, '../../../../build/wasm/wasm/dlmath_meta');
  const factory = (await import(pathToFileURL(`${meta}.mjs`).href)).default;
  const mod = await factory({ wasmBinary: fs.readFileSync(`${meta}.wasm`) });
  expect(ops).toEqual(mod._listOps());
  expect(ops.find((o) => o.id === 'huber')!.params.find((p) => p.name === 'delta')!.max).toBe(Infinity);
});

it('ops.json describes every entry with its text', () => {
  expect(ops.length).toBeGreaterThan(100);
  for (const o of ops) {
    expect(o.title.en, o.id).not.toBe('');
    expect(o.title.zh, o.id).not.toBe('');
    expect(o.latex, o.id).not.toBe('');
    expect(o.doc.en.length, o.id).toBeGreaterThan(120);
    expect(o.doc.zh.length, o.id).toBeGreaterThan(40);
    expect(o.doc.zh, o.id).toMatch(/[\u4e00-\u9fff]/);
  }
});

it.each(['dlmath_lite', 'dlmath_wasm'])('the shipped wasm (%s) carries none of the registry’s text', (name) => {
  const wasm = fs.readFileSync(path.join(gen, `${name}.wasm`));
  const found = (text: string) => text.length >= 12 && wasm.includes(Buffer.from(text, 'utf8'));
  const inside = ops.flatMap((o) =>
    [o.doc.en.slice(0, 48), o.doc.zh.slice(0, 24), o.latex.slice(0, 40), o.dlatex.slice(0, 40), o.title.zh]
      .filter(found)
      .map((t) => `${o.id}: ${t}`),
  );
  expect(inside).toEqual([]);
});

it('a catalogue from another registry is refused with a clear error', async () => {
  const factory = (await import(pathToFileURL(path.join(gen, 'dlmath_wasm.mjs')).href)).default;
  const mod = await factory({ wasmBinary: fs.readFileSync(path.join(gen, 'dlmath_wasm.wasm')) });
  expect(() => new Dlmath(mod, ops.slice(1))).toThrow(/ops\.json does not describe this wasm module/);
  const swapped = [ops[1]!, ops[0]!, ...ops.slice(2)];
  expect(() => new Dlmath(mod, swapped)).toThrow(/rebuild both/);
  expect(new Dlmath(mod, ops).ops().length).toBe(ops.length);
});
