// The training path's memory: zero heap allocations per step after the
// first (counted: dl.allocations() counts every malloc of the module), a
// flat heap over 10^5 steps, and every byte back after dispose().
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDlmath, type Dlmath, type ModelSpec } from 'dlmath';
import { BATCH_X, BATCH_Y, exampleSpec, xorData } from './model-fixtures.js';

let dl: Dlmath;
beforeAll(async () => {
  dl = await loadDlmath();
});

const X = BATCH_X.slice(0, 4);
const Y = BATCH_Y.slice(0, 4);

// Every layer kind, so that no layer's step allocates unseen.
const everyLayer: ModelSpec = {
  input: 2,
  layers: [
    { type: 'linear', units: 8 },
    { type: 'batch_norm' },
    { type: 'activation', id: 'gelu_tanh' },
    { type: 'dropout', p: 0.1 },
    {
      type: 'residual',
      layers: [{ type: 'layer_norm' }, { type: 'linear', units: 8 }, { type: 'activation', id: 'prelu' }],
    },
    { type: 'rms_norm' },
    { type: 'group_norm', num_groups: 2 },
    { type: 'activation', formula: 'x*sigmoid(a*x)', a: 1.5 },
    { type: 'activation', id: 'swish_beta' },
    { type: 'linear', units: 3 },
  ],
  loss: { id: 'cross_entropy', label_smoothing: 0.1 },
  optimizer: { id: 'adamw', lr: 1e-3 },
  schedule: { id: 'one_cycle_lr', steps: 1000 },
  clip: { value: 1 },
  l1: 1e-5,
  l2: 1e-4,
  seed: 3,
};

describe('memory', () => {
  for (const [name, spec] of [
    ["the issue's example", exampleSpec()],
    ['every layer kind', everyLayer],
  ] as const) {
    it(`a step allocates nothing after the first (${name})`, () => {
      using m = dl.model(spec);
      using x = dl.tensor(X);
      m.step(X, Y); // sizes the staging and activation arenas
      const counts: number[] = [];
      for (let i = 0; i < 50; ++i) {
        const before = dl.allocations();
        m.step(X, Y);
        m.step(x, new Int32Array(Y)); // resident and typed inputs too
        counts.push(dl.allocations() - before);
      }
      expect(counts).toEqual(new Array(50).fill(0));
      // The counter does count: a larger batch grows the arenas once.
      const before = dl.allocations();
      m.step([...X, ...X, ...X], [...Y, ...Y, ...Y]);
      expect(dl.allocations()).toBeGreaterThan(before);
    });
  }

  it('keeps the heap flat over 10^5 steps', () => {
    using m = dl.model(exampleSpec());
    m.step(X, Y);
    const heap = dl.heapUsed();
    const allocs = dl.allocations();
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; ++i) {
      m.step(X, Y);
      if (i % 10_000 === 0) seen.add(dl.heapUsed());
    }
    seen.add(dl.heapUsed());
    expect([...seen]).toEqual([heap]);
    expect(dl.allocations() - allocs).toBe(0);
    expect(m.stepCount).toBe(100_001);
  });

  it('keeps the heap flat over a fit of 10^5 steps, read in chunks', () => {
    using m = dl.model(exampleSpec());
    const { x, y } = xorData(40, 5);
    let p = m.fitBegin(x, y, { epochs: 10_000, batchSize: 4, logSteps: 100 });
    const steady = dl.heapUsed();
    let steps = 0;
    while (p.state === 'running') {
      p = m.fitRun(5_000);
      steps += p.stepsRun;
      m.diagnosticsColumn('loss');
      expect(dl.heapUsed()).toBe(steady);
    }
    expect(steps).toBe(100_000);
    expect(p.state).toBe('finished');
  });

  it('gives every byte back on dispose, for models built, trained, saved and loaded', () => {
    // One round first: what the core builds once on first use stays for the
    // module's life (the matrix product's grow-only packing space, at most
    // 192 KiB per thread, core/src/gemm.h; and, since ops.json, the registry's
    // listing, first asked for by the first model); no model owns it.
    const round = (i: number) => {
      const m = dl.model(everyLayer);
      m.fit(
        xorData(64, i).x,
        new Float32Array(64).map((_, k) => k % 3),
        { epochs: 2, batchSize: 16 },
      );
      m.predict(xorData(500, i).x);
      const copy = dl.loadModel(m.toJSON());
      copy.step(X, Y);
      m.toPyTorch();
      m.dispose();
      copy.dispose();
    };
    round(0);
    const heap = dl.heapUsed();
    for (let i = 1; i < 20; ++i) round(i);
    expect(dl.heapUsed()).toBe(heap);
  });
});
