// The training API in Node (dl.model): every input form, every knob of the
// spec reaching the core, step / fit / predict / evaluate / stats, the
// diagnostics, and toJSON -> loadModel restoring bit-exactly.
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Dlmath, DlModel, loadDlmath, type ModelSpec, type Result } from 'dlmath';
import { expectClose, expectError } from './expect.js';
import { BATCH_X, BATCH_Y, accuracy, exampleSpec, xorData, xorSpec } from './model-fixtures.js';

let dl: Dlmath;
beforeAll(async () => {
  dl = await loadDlmath();
});

const X = BATCH_X;
const Y = BATCH_Y;

/** Builds a model, runs `fn`, disposes it. */
function using_<T>(spec: ModelSpec, fn: (m: DlModel) => T): T {
  const m = dl.model(spec);
  try {
    return fn(m);
  } finally {
    m.dispose();
  }
}

const bits = (r: Result | Float32Array) => Array.from(r instanceof Float32Array ? r : r.data);
const sumSquares = (a: Float32Array) => a.reduce((s, v) => s + v * v, 0);

describe('dl.model', () => {
  it("builds the issue's example and reports its structure", () => {
    using_(exampleSpec(), (m) => {
      expect(m).toBeInstanceOf(DlModel);
      expect([m.inputs, m.outputs, m.classTargets, m.hasAccuracy]).toEqual([2, 3, true, true]);
      expect(m.layers.map((l) => [l.type, l.id, l.path, l.inWidth, l.outWidth])).toEqual([
        ['linear', '', 'layers.0', 2, 8],
        ['activation', 'tanh', 'layers.1', 8, 8],
        ['linear', '', 'layers.2', 8, 3],
      ]);
      expect(m.parameterTable.map((p) => [p.name, p.shape, p.kind])).toEqual([
        ['layers.0.weight', [8, 2], 'parameter'],
        ['layers.0.bias', [8], 'parameter'],
        ['layers.2.weight', [3, 8], 'parameter'],
        ['layers.2.bias', [3], 'parameter'],
      ]);
      expect(m.numParameters).toBe(8 * 2 + 8 + 3 * 8 + 3);
      expect(m.stepCount).toBe(0);
    });
  });

  it('writes back the canonical spec with every knob it was given', () => {
    const spec: ModelSpec = {
      ...exampleSpec(),
      layers: [
        { type: 'linear', units: 8, init: { id: 'kaiming_normal', nonlinearity: 'relu' }, bias_init: 'zeros' },
        { type: 'activation', id: 'elu', alpha: 0.5 },
        { type: 'dropout', p: 0.2 },
        { type: 'layer_norm', eps: 1e-4 },
        {
          type: 'residual',
          layers: [
            { type: 'linear', units: 8, bias: false },
            { type: 'activation', id: 'relu' },
          ],
        },
        { type: 'linear', units: 3 },
      ],
      l1: 1e-4,
      l2: 1e-3,
      max_batch: 64,
    };
    using_(spec, (m) => {
      const c = m.spec() as unknown as Record<string, unknown> & ModelSpec;
      expect(c.input).toBe(2);
      expect(c.seed).toBe(7);
      expect(c.l1).toBe(1e-4);
      expect(c.l2).toBe(1e-3);
      expect(c.max_batch).toBe(64);
      expect(c.clip).toEqual({ norm: 1 });
      expect(c.loss).toMatchObject({ id: 'cross_entropy', label_smoothing: 0.1, reduction: 'mean' });
      expect(c.optimizer).toMatchObject({ id: 'adamw', lr: 3e-3, weight_decay: 0.01 });
      // The generic keys map onto the schedule's own params.
      expect(c.schedule).toMatchObject({ id: 'warmup_cosine', warmup_steps: 100, total_steps: 2000 });
      expect(c.layers[0]).toMatchObject({ units: 8, bias_init: 'zeros', init: { id: 'kaiming_normal' } });
      expect(c.layers[1]).toMatchObject({ id: 'elu', alpha: 0.5 });
      expect(c.layers[2]).toMatchObject({ type: 'dropout', p: 0.2 });
      expect(c.layers[3]).toMatchObject({ type: 'layer_norm', eps: 1e-4 });
      expect(c.layers[4]).toMatchObject({ type: 'residual', layers: [{ units: 8, bias: false }, { id: 'relu' }] });
      // The canonical spec builds the same model.
      using_(c, (twin) => expect(bits(twin.predict(X))).toEqual(bits(m.predict(X))));
    });
  });

  it('takes every input form of dl.eval, with identical results', () => {
    const flat = new Float32Array(X.flat());
    const forms: [string, () => [unknown, unknown]][] = [
      ['nested arrays', () => [X, Y]],
      ['Float32Array (flat, row by row)', () => [flat, new Float32Array(Y)]],
      ['Float64Array and Int32Array targets', () => [new Float64Array(X.flat()), new Int32Array(Y)]],
      [
        '{shape, data}',
        () => [
          { shape: [6, 2], data: X.flat() },
          { shape: [6], data: Y },
        ],
      ],
      ['column of targets [rows, 1]', () => [X, Y.map((v) => [v])]],
    ];
    const reference = using_(exampleSpec(), (m) => {
      const s = m.step(X, Y);
      return { s, p: m.stateDict(), out: m.predict(X) };
    });
    for (const [name, make] of forms) {
      using_(exampleSpec(), (m) => {
        const [x, y] = make();
        expect(m.step(x as never, y as never), name).toEqual(reference.s);
        expect(m.stateDict(), name).toEqual(reference.p);
        expect(bits(m.predict(x as never)), name).toEqual(bits(reference.out));
      });
    }
    // Resident tensors: no copy through JS arrays.
    using_(exampleSpec(), (m) => {
      using x = dl.tensor(X);
      using y = dl.tensor(Y);
      expect(m.step(x, y)).toEqual(reference.s);
      expect(bits(m.predict(x))).toEqual(bits(reference.out));
      expect(m.evaluate(x, y)).toEqual(m.evaluate(X, Y));
    });
  });

  it('keeps steps right around calls that restage or release the staging', () => {
    const big = new Float32Array(2 * 600_000).map((_, i) => Math.sin(i));
    const twin = dl.model(exampleSpec());
    using m = dl.model(exampleSpec());
    try {
      const a = [m.step(X, Y)];
      m.predict(big); // stages 1.2M floats, released after the call
      a.push(m.step(X, Y));
      m.setParameterValue('layers.0.bias', 0, 0.5);
      a.push(m.step(new Float32Array(X.flat()), new Int32Array(Y)));
      a.push(m.step(X.slice(0, 2), Y.slice(0, 2))); // another batch size
      const b = [twin.step(X, Y), twin.step(X, Y)];
      twin.setParameterValue('layers.0.bias', 0, 0.5);
      b.push(twin.step(X, Y), twin.step(X.slice(0, 2), Y.slice(0, 2)));
      expect(a).toEqual(b);
    } finally {
      twin.dispose();
    }
  });

  it('keeps stepping right when the wasm memory grows between steps', async () => {
    // A module of its own, so the test knows its heap starts at the initial
    // size and sees the facade's kept view of it detached by the growth.
    const gen = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/src/engine/gen');
    const factory = (await import(pathToFileURL(path.join(gen, 'dlmath_wasm.mjs')).href)).default;
    const mod = await factory({ wasmBinary: fs.readFileSync(path.join(gen, 'dlmath_wasm.wasm')) });
    const own = new Dlmath(mod, dl.ops());
    using m = own.model(exampleSpec());
    using twin = dl.model(exampleSpec());
    const x = new Float32Array(X.flat());
    const y = new Float32Array(Y);
    const a = [m.step(x, y), m.step(x, y)];
    const before = mod.HEAPF32.buffer;
    using big = own.tensor(null, [before.byteLength / 4 + 1]); // more floats than the whole heap held
    expect(before.byteLength).toBe(0); // detached: the memory grew
    a.push(m.step(x, y), m.step(x, y));
    expect(a).toEqual([0, 1, 2, 3].map(() => twin.step(x, y)));
    expect(big.size).toBeGreaterThan(0);
  });

  it('steps: diagnostics header, step count, lr from the optimizer', () => {
    using_(xorSpec(), (m) => {
      const s = m.step(X, [0, 1, 1, 0, 0, 1]);
      expect(Object.keys(s)).toEqual(['loss', 'dataLoss', 'lr', 'gradNorm', 'clippedGradNorm', 'step', 'rows']);
      expect(s.step).toBe(1);
      expect(s.rows).toBe(6);
      expect(s.lr).toBeCloseTo(0.02, 7);
      expect(s.loss).toBe(s.dataLoss); // no penalties
      expect(s.gradNorm).toBeGreaterThan(0);
      expect(s.clippedGradNorm).toBe(s.gradNorm); // no clipping
      expect(m.stepCount).toBe(1);
      m.setLr(0.5);
      expect(m.lr).toBeCloseTo(0.5, 12);
      expect(m.step(X, [0, 1, 1, 0, 0, 1]).lr).toBeCloseTo(0.5, 7);
      m.lr = 0.25;
      expect(m.step(X, [0, 1, 1, 0, 0, 1]).lr).toBeCloseTo(0.25, 7);
      expect(m.stepCount).toBe(3);
      m.resetOptimizer();
      expect(m.stepCount).toBe(0);
    });
  });

  it('follows the schedule as dl.schedule computes it (warmup_cosine, and the generic warmup)', () => {
    using_(exampleSpec(), (m) => {
      const lrs = Array.from({ length: 150 }, () => m.step(X, Y).lr);
      const want = dl.schedule('warmup_cosine', { lr: 3e-3, warmup_steps: 100, total_steps: 2000 }, 150);
      expectClose(lrs, want, 1e-6);
    });
    const spec: ModelSpec = {
      ...xorSpec(),
      optimizer: { id: 'sgd', lr: 0.1 },
      schedule: { id: 'cosine_annealing_lr', steps: 50, warmup: 10 },
    };
    using_(spec, (m) => {
      const lrs = Array.from({ length: 30 }, () => m.step(X, [0, 1, 1, 0, 0, 1]).lr);
      const cos = dl.schedule('cosine_annealing_lr', { lr: 0.1, t_max: 50 }, 30);
      expectClose(
        lrs,
        Array.from(cos, (v, t) => (t < 10 ? (v * (t + 1)) / 10 : v)),
        1e-6,
      );
    });
  });

  it('clips by total norm and by value', () => {
    const big: ModelSpec = { ...xorSpec(), optimizer: { id: 'sgd', lr: 0.01 } };
    const Y2 = [0, 1, 1, 0, 0, 1];
    const raw = using_(big, (m) => m.gradients(X, Y2));
    const norm = Math.sqrt(Object.values(raw).reduce((s, g) => s + sumSquares(g.data), 0));
    const cap = norm / 4;
    using_({ ...big, clip: { norm: cap } }, (m) => {
      const s = m.step(X, Y2);
      expect(s.gradNorm).toBeCloseTo(norm, 5);
      expect(s.clippedGradNorm).toBeCloseTo(cap, 5);
    });
    const v = 0.01;
    const clippedNorm = Math.sqrt(
      Object.values(raw).reduce((s, g) => s + g.data.reduce((t, x) => t + Math.min(Math.abs(x), v) ** 2, 0), 0),
    );
    using_({ ...big, clip: { value: v } }, (m) => {
      const s = m.step(X, Y2);
      expect(s.gradNorm).toBeCloseTo(norm, 5);
      expect(s.clippedGradNorm).toBeCloseTo(clippedNorm, 5);
    });
  });

  it('adds the l1 and l2 penalties on linear weights (not biases) to the loss', () => {
    const Y2 = [0, 1, 1, 0, 0, 1];
    for (const [key, lam] of [
      ['l1', 0.01],
      ['l2', 0.02],
    ] as const) {
      using_({ ...xorSpec(), [key]: lam }, (m) => {
        const w = [m.getParameter('layers.0.weight').data, m.getParameter('layers.2.weight').data];
        const penalty =
          lam * w.reduce((s, a) => s + a.reduce((t, x) => t + (key === 'l1' ? Math.abs(x) : x * x), 0), 0);
        const s = m.step(X, Y2);
        expect(s.loss - s.dataLoss).toBeCloseTo(penalty, 5);
      });
    }
  });

  it("applies sgd's coupled weight decay: w -= lr (g + wd w)", () => {
    const spec: ModelSpec = { ...xorSpec(), optimizer: { id: 'sgd', lr: 0.1, weight_decay: 0.5 } };
    using_(spec, (m) => {
      const Y2 = [0, 1, 1, 0, 0, 1];
      const before = m.stateDict();
      const g = m.gradients(X, Y2);
      m.step(X, Y2);
      const after = m.stateDict();
      for (const name of Object.keys(g)) {
        const want = before[name]!.data.map((w, i) => w - 0.1 * (g[name]!.data[i]! + 0.5 * w));
        expectClose(after[name]!.data, want, 1e-6);
      }
    });
  });

  it('seeds initialization: same seed, same weights; another seed, other weights', () => {
    const a = using_(xorSpec(1), (m) => m.stateDict());
    const b = using_(xorSpec(1), (m) => m.stateDict());
    const c = using_(xorSpec(2), (m) => m.stateDict());
    expect(a).toEqual(b);
    expect(bits(a['layers.0.weight']!)).not.toEqual(bits(c['layers.0.weight']!));
  });

  it('runs dropout in training steps only, and batch norm on running statistics in eval', () => {
    const spec: ModelSpec = {
      input: 2,
      layers: [
        { type: 'linear', units: 16 },
        { type: 'batch_norm' },
        { type: 'activation', id: 'relu' },
        { type: 'dropout', p: 0.5 },
        { type: 'linear', units: 3 },
      ],
      loss: { id: 'cross_entropy' },
      optimizer: { id: 'sgd', lr: 0.1 },
      seed: 5,
    };
    using_(spec, (m) => {
      const mean0 = m.getParameter('layers.1.running_mean').data;
      const buffers = m.parameterTable.filter((p) => p.kind === 'buffer').map((p) => p.name);
      expect(buffers).toContain('layers.1.running_mean');
      expect(buffers).toContain('layers.1.running_var');
      m.step(X, Y);
      // Dropout zeroed about half of the training activations.
      const train = m.layerOutput(3).data;
      const zerosTrain = train.filter((v) => v === 0).length / train.length;
      expect(bits(m.getParameter('layers.1.running_mean'))).not.toEqual(bits(mean0));
      const p1 = m.predict(X);
      const evalOut = m.layerOutput(3).data;
      const relu = m.layerOutput(2).data;
      expect(bits(evalOut)).toEqual(bits(relu)); // identity in eval mode
      expect(zerosTrain).toBeGreaterThan(relu.filter((v) => v === 0).length / relu.length);
      expect(bits(m.predict(X))).toEqual(bits(p1)); // eval is deterministic
    });
  });

  it('fits: history per epoch, batches, validation split, early stopping, logSteps', () => {
    const { x, y } = xorData(200, 11);
    using_(xorSpec(), (m) => {
      const h = m.fit(x, y, { epochs: 5, batchSize: 32, validationSplit: 0.2, logSteps: 3 });
      expect(h.stop).toBe('done');
      expect(h.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
      // 160 training examples in batches of 32: 5 steps per epoch.
      expect(h.steps).toBe(25);
      expect(m.stepCount).toBe(25);
      for (const e of h.epochs) {
        expect(Number.isFinite(e.loss) && Number.isFinite(e.valLoss)).toBe(true);
        expect(e.accuracy).toBeGreaterThanOrEqual(0);
        expect(e.valAccuracy).toBeLessThanOrEqual(1);
      }
      // The held-out examples are the last 40: evaluate agrees with the last epoch.
      const last = h.epochs.at(-1)!;
      const held = m.evaluate({ shape: [40, 2], data: x.subarray(320) }, y.subarray(160));
      expect(held.loss).toBeCloseTo(last.valLoss, 5);
      expect(held.accuracy).toBeCloseTo(last.valAccuracy, 6);
      const log = m.diagnosticsLog();
      expect([log.rows, log.stride]).toEqual([3, m.diagnosticsLayout.stride]);
      expect(log.data.length).toBe(3 * log.stride);
      // The log's rows are steps 23, 24, 25, and its loss column matches.
      expect([0, 1, 2].map((r) => log.data[r * log.stride + 5])).toEqual([23, 24, 25]);
      expect(bits(m.diagnosticsColumn('loss'))).toEqual([0, 1, 2].map((r) => log.data[r * log.stride]));
      // Several fields: field-major, each column the log's (gathered by the core).
      const lr = m.diagnosticsLayout.header.indexOf('lr');
      const column = (k: number) => [0, 1, 2].map((r) => log.data[r * log.stride + k]);
      expect(bits(m.diagnosticsColumns(['loss', 'lr']))).toEqual([...column(0), ...column(lr)]);
      expect(bits(m.diagnosticsColumns(['lr', 'loss']))).toEqual([...column(lr), ...column(0)]);
      // Into a reused buffer (the worker host's): its first floats, as a view; the rest untouched.
      const reused = new Float32Array(16).fill(-7);
      const asked: number[] = [];
      const into = (n: number) => (asked.push(n), reused);
      const view = m.diagnosticsColumns(['loss', 'lr'], into);
      expect(asked).toEqual([6]);
      expect(view.buffer).toBe(reused.buffer);
      expect([view.byteOffset, view.length]).toEqual([0, 6]);
      expect(bits(view)).toEqual([...column(0), ...column(lr)]);
      expect([...reused.subarray(6)]).toEqual(Array(10).fill(-7));
      // One of exactly the length is returned itself; a short one or another type is an error naming into.
      const exact = new Float32Array(3);
      expect(m.diagnosticsColumns(['loss'], () => exact)).toBe(exact);
      for (const bad of [() => new Float32Array(5), () => new Float64Array(6) as unknown as Float32Array]) {
        let e: unknown;
        try {
          m.diagnosticsColumns(['loss', 'lr'], bad);
        } catch (thrown) {
          e = thrown;
        }
        expect(e).toMatchObject({ name: 'DlmathError', code: 'bad_value', arg: 'into' });
        expect((e as Error).message).toMatch(/into\(6\) must return a Float32Array of at least 6 floats/);
      }
    });
    // Without shuffling, the trajectory changes; with the same seed it repeats.
    const run = (shuffle: boolean) =>
      using_(xorSpec(), (m) => m.fit(x, y, { epochs: 2, batchSize: 16, shuffle }).epochs);
    expect(run(true)).toEqual(run(true));
    expect(run(false)).not.toEqual(run(true));
    // Early stopping: a learning rate of 0 never improves.
    using_({ ...xorSpec(), optimizer: { id: 'sgd', lr: 0 } }, (m) => {
      const h = m.fit(x, y, { epochs: 50, batchSize: 50, earlyStopping: { patience: 3 } });
      expect(h.stop).toBe('early_stopped');
      expect(h.bestEpoch).toBe(1);
      // The core stops after `patience` epochs in a row without improvement (as Keras).
      expect(h.epochs.length).toBe(1 + 3);
    });
  });

  it('reports progress in chunks and stops when onProgress returns false', () => {
    const { x, y } = xorData(64, 2);
    using_(xorSpec(), (m) => {
      const seen: number[] = [];
      const h = m.fit(x, y, {
        epochs: 100,
        batchSize: 16,
        progressSteps: 10,
        onProgress: (p) => {
          seen.push(p.step);
          return p.step < 30;
        },
      });
      expect(seen).toEqual([10, 20, 30]);
      expect(h.stop).toBe('cancelled');
      expect(h.steps).toBe(30);
      expect(h.epochs.length).toBe(7); // 4 steps per epoch
    });
  });

  it('stops a diverging fit with the NaN guard and keeps finite weights', () => {
    const { x, y } = xorData(64, 3);
    const spec: ModelSpec = {
      input: 2,
      layers: [{ type: 'linear', units: 1 }],
      loss: { id: 'mse' },
      optimizer: { id: 'sgd', lr: 1e30 },
    };
    using_(spec, (m) => {
      const h = m.fit(x, y, { epochs: 10, batchSize: 16 });
      expect(h.stop).toBe('nan');
      expect(h.error?.code).toBe('bad_value');
      expect(h.error?.message).toMatch(/step \d+/);
      for (const t of Object.values(m.stateDict())) expect(t.data.every(Number.isFinite)).toBe(true);
      // A step after divergence reports it as an error too.
      expectError(() => m.step(x.subarray(0, 32), y.subarray(0, 16)), 'bad_value', 'training stopped at step');
      // The model still predicts with its last finite weights.
      expect(m.predict(x).data.every(Number.isFinite)).toBe(true);
    });
  });

  it('learns XOR with fit to >= 95 % accuracy', () => {
    const { x, y } = xorData(400, 4);
    using_(xorSpec(), (m) => {
      const h = m.fit(x, y, { epochs: 60, batchSize: 20 });
      expect(h.epochs.at(-1)!.accuracy).toBeGreaterThanOrEqual(0.95);
      const out = m.predict(x);
      expect(out.shape).toEqual([400, 2]);
      expect(accuracy(out.data, 2, y)).toBeGreaterThanOrEqual(0.95);
      expect(m.evaluate(x, y).accuracy).toBeCloseTo(accuracy(out.data, 2, y), 6);
    });
  });

  it("stats: every layer's diagnostics of the last step", () => {
    using_(exampleSpec(), (m) => {
      const s = m.step(X, Y);
      const st = m.stats();
      expect(st).toMatchObject(s);
      expect(st.layers.map((l) => [l.index, l.type, l.path])).toEqual([
        [0, 'linear', 'layers.0'],
        [1, 'activation', 'layers.1'],
        [2, 'linear', 'layers.2'],
      ]);
      const l0 = st.layers[0]!;
      const w = m.getParameter('layers.0.weight').data;
      const b = m.getParameter('layers.0.bias').data;
      expect(l0.weightNorm).toBeCloseTo(Math.sqrt(sumSquares(w) + sumSquares(b)), 5);
      expect(st.layers[1]!.gradNorm).toBe(0); // no parameters
      // Activation statistics of the tanh layer, recomputed from its output.
      m.step(X, Y);
      const tanh = m.layerOutput(1).data;
      const mean2 = tanh.reduce((a, v) => a + v, 0) / tanh.length;
      const std2 = Math.sqrt(tanh.reduce((a, v) => a + (v - mean2) ** 2, 0) / tanh.length);
      const st2 = m.stats().layers[1]!;
      expect(st2.actMean).toBeCloseTo(mean2, 5);
      expect(st2.actStd).toBeCloseTo(std2, 5);
      for (const l of st.layers) {
        for (const k of ['gradNorm', 'weightNorm', 'updateRatio', 'actMean', 'actStd', 'deadFraction', 'outGradNorm'])
          expect(Number.isFinite((l as unknown as Record<string, number>)[k]), `${l.path}.${k}`).toBe(true);
      }
      expect(bits(m.diagnostics())).toHaveLength(m.diagnosticsLayout.stride);
    });
  });

  it('counts dead ReLU units', () => {
    const spec: ModelSpec = {
      input: 2,
      layers: [
        { type: 'linear', units: 4, bias_init: 'zeros' },
        { type: 'activation', id: 'relu' },
        { type: 'linear', units: 1 },
      ],
      loss: { id: 'mse' },
      optimizer: { id: 'sgd', lr: 0.01 },
      seed: 1,
    };
    using_(spec, (m) => {
      // Units 0 and 1 see only negative pre-activations on positive inputs.
      m.setParameter('layers.0.weight', [-1, -1, -2, -1, 1, 1, 1, 2]);
      m.step(
        [
          [1, 1],
          [2, 0.5],
        ],
        [1, 2],
      );
      expect(m.stats().layers[1]!.deadFraction).toBe(0.5);
    });
  });

  it('gradients, input and output gradients, layer outputs and parameter access', () => {
    const spec: ModelSpec = {
      input: 2,
      layers: [{ type: 'linear', units: 1 }],
      loss: { id: 'mse' },
      optimizer: { id: 'sgd', lr: 0.1 },
    };
    using_(spec, (m) => {
      m.setParameter('layers.0.weight', [2, -1]);
      m.setParameter('layers.0.bias', [0.5]);
      m.setParameterValue('layers.0.weight', 1, -3);
      expect(bits(m.getParameter('layers.0.weight'))).toEqual([2, -3]);
      const x = [
        [1, 2],
        [0, 1],
      ];
      const yT = [0, 1];
      // out = 2 x0 - 3 x1 + 0.5: [-3.5, -2.5]; mse = mean((out - y)^2)
      expectClose(m.predict(x).data, [-3.5, -2.5], 1e-6);
      expectClose([m.evaluate(x, yT).loss], [(3.5 ** 2 + 3.5 ** 2) / 2], 1e-6);
      const g = m.gradients(x, yT);
      // d/dw = mean(2 (out - y) x) = [(-7*1 + -7*0)/2, (-7*2 + -7*1)/2]
      expectClose(g['layers.0.weight']!.data, [-3.5, -10.5], 1e-6);
      expectClose(g['layers.0.bias']!.data, [-7], 1e-6);
      // Input gradient of the summed loss: 2 (out - y) w per row.
      expectClose(m.inputGradient(x, yT).data, [-14, 21, -14, 21], 1e-6);
      expectClose(m.outputGradient(x, 0).data, [2, -3, 2, -3], 1e-6);
      expect(m.layerOutput(0).shape).toEqual([2, 1]);
      expect(m.stepCount).toBe(0); // none of these is a step
    });
  });

  it('saves with toJSON and restores bit-exactly with dl.loadModel', () => {
    const spec: ModelSpec = {
      input: 2,
      layers: [
        { type: 'linear', units: 8 },
        { type: 'batch_norm' },
        { type: 'activation', id: 'prelu', num_parameters: 8 },
        { type: 'residual', layers: [{ type: 'layer_norm' }, { type: 'linear', units: 8 }] },
        { type: 'activation', formula: 'x*sigmoid(a*x)', a: 1.5 },
        { type: 'linear', units: 3 },
      ],
      loss: { id: 'cross_entropy' },
      optimizer: { id: 'adam', lr: 0.01 },
      seed: 9,
    };
    using_(spec, (m) => {
      m.fit(X, Y, { epochs: 5, batchSize: 3 });
      const saved = m.toJSON();
      expect(saved.format).toBe('dlmath-model');
      expect(Object.keys(saved.buffers).length).toBeGreaterThan(0);
      const text = JSON.stringify(saved);
      for (const copy of [dl.loadModel(saved), dl.loadModel(text), dl.loadModel(JSON.parse(text))]) {
        try {
          expect(copy.stateDict()).toEqual(m.stateDict());
          expect(bits(copy.predict(X))).toEqual(bits(m.predict(X)));
          expect(copy.toJSON()).toEqual(saved);
        } finally {
          copy.dispose();
        }
      }
    });
  });

  it('refuses what is not a saved model, naming the problem', () => {
    const saved = using_(xorSpec(), (m) => m.toJSON());
    expectError(() => dl.loadModel('{"format": 1'), 'bad_value', 'not JSON');
    expectError(() => dl.loadModel({ ...saved, version: 2 } as never), 'bad_value', "format 'dlmath-model', version 1");
    const { ['layers.2.bias']: _, ...rest } = saved.parameters;
    expectError(() => dl.loadModel({ ...saved, parameters: rest }), 'bad_value', "no values for 'layers.2.bias'");
    const short = { ...saved.parameters, 'layers.2.bias': { shape: [2], data: 'AAAAAA==' } };
    expectError(() => dl.loadModel({ ...saved, parameters: short }), 'bad_shape', 'layers.2.bias');
    const extra = { ...saved.parameters, 'layers.9.weight': saved.parameters['layers.2.bias']! };
    expectError(() => dl.loadModel({ ...saved, parameters: extra }), 'unknown_param', "'layers.9.weight'");
    expectError(
      () =>
        dl.loadModel({ ...saved, parameters: { ...saved.parameters, 'layers.2.bias': { shape: [2], data: '!!' } } }),
      'bad_value',
      'not base64',
    );
  });

  it('exports PyTorch source that names every layer and the weights', () => {
    using_(exampleSpec(), (m) => {
      const src = m.toPyTorch();
      expect(src).toContain('import torch');
      expect(src).toMatch(/nn\.Linear\(2, 8/);
      expect(src).toContain('torch.tanh');
      expect(src).toMatch(/^model\b/m);
    });
  });

  it('throws a disposed error after dispose, and dispose twice is harmless', () => {
    const m = dl.model(xorSpec());
    m.dispose();
    m.dispose();
    expect(m.disposed).toBe(true);
    expectError(() => m.step(X, Y), 'disposed', 'dl.model()');
    expectError(() => m.predict(X), 'disposed');
    {
      using scoped = dl.model(xorSpec());
      expect(scoped.disposed).toBe(false);
    }
  });
});
