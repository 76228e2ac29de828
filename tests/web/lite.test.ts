// The light module (loadDlmath({ training: false })): what a catalogue page
// loads. It computes what the full module computes, bit for bit; its training
// calls name the way to the full module instead of failing obscurely;
// dl.training() loads the full module once; its workers train; and it weighs
// what issue 12 allows (≤ 300 KB gzipped) with the training engine left out.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { DlmathError, loadDlmath, type Dlmath } from 'dlmath';
import { beforeAll, expect, it } from 'vitest';
import { xorData, xorSpec } from './model-fixtures.js';

const gen = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/src/engine/gen');
let lite: Dlmath;

beforeAll(async () => {
  lite = await loadDlmath({ training: false });
});

it('the light engine computes what the full one computes, bit for bit', async () => {
  const full = await lite.training();
  expect([lite.canTrain, full.canTrain]).toEqual([false, true]);
  expect(lite.target).toBe(full.target);
  const x = [-3, -0.5, 0, 0.25, 2, 7];
  for (const id of ['gelu_tanh', 'softplus', 'selu', 'logsumexp'] as const) {
    expect(lite.eval(id, { x }).data, id).toEqual(full.eval(id, { x }).data);
    expect(lite.grad(id, { x }).x!.data, id).toEqual(full.grad(id, { x }).x!.data);
  }
  const a = lite.formula('x*sigmoid(1.702*x)');
  const b = full.formula('x*sigmoid(1.702*x)');
  expect(a.evalWithGrad(x)).toEqual(b.evalWithGrad(x));
  a.dispose();
  b.dispose();
});

it('training calls on the light engine say how to get the full one, and the engine keeps working', () => {
  const calls: [string, () => unknown][] = [
    ['model', () => lite.model(xorSpec())],
    ['loadModel', () => lite.loadModel('{}')],
    ['gpt', () => lite.gpt({ text: 'abc' })],
    ['loadGpt', () => lite.loadGpt('{}')],
    ['allocations', () => lite.allocations()],
  ];
  for (const [name, call] of calls) {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(error, name).toBeInstanceOf(DlmathError);
    expect((error as DlmathError).message, name).toContain(`dl.${name}() needs the training engine`);
    expect((error as DlmathError).message, name).toContain('await dl.training()');
  }
  expect(lite.sigmoid([0]).data[0]).toBe(0.5);
});

it('dl.training() loads the full module once; a full engine is its own', async () => {
  const [a, b] = await Promise.all([lite.training(), lite.training()]);
  expect(a).toBe(b);
  expect(await a.training()).toBe(a);
  expect(await loadDlmath()).toBe(a);
  // A light request keeps the light engine it already has.
  expect(await loadDlmath({ training: false })).toBe(lite);
  const m = a.model(xorSpec());
  const { x, y } = xorData(8);
  expect(Number.isFinite(m.step(x, y).loss)).toBe(true);
  m.dispose();
});

it('a light engine’s worker trains in the full module, compiled once and posted to it', async () => {
  const trainer = lite.worker();
  try {
    const m = await trainer.model(xorSpec());
    const { x, y } = xorData(40, 2);
    const h = await m.fit(x, y, { epochs: 2, batchSize: 20 });
    expect(h.steps).toBe(4);
    expect(Number.isFinite(h.epochs.at(-1)!.loss)).toBe(true);
  } finally {
    await trainer.terminate();
  }
});

it('the light module leaves the training engine out and weighs ≤ 300 KB gzipped', () => {
  const size = (name: string) => {
    const wasm = fs.readFileSync(path.join(gen, `${name}.wasm`));
    return { raw: wasm.length, gzip: zlib.gzipSync(wasm, { level: 9 }).length };
  };
  const light = size('dlmath_lite');
  const full = size('dlmath_wasm');
  expect(light.gzip).toBeLessThanOrEqual(300 * 1024);
  // The model, its layers, the GEMM, JSON and the PyTorch export are a large part of the full module.
  expect(full.gzip - light.gzip).toBeGreaterThan(50 * 1024);
  const glue = fs.readFileSync(path.join(gen, 'dlmath_lite.mjs'), 'utf8');
  expect(glue).toContain('createDlmathLite');
});
