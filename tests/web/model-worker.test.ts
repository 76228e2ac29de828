// dl.worker() under Node: the model lives in a worker thread's own wasm
// instance. XOR to >= 95 %, progress streamed at most once per progressMs,
// cancel mid-fit, errors as DlmathErrors, and terminate() leaving nothing
// behind (no open message port, pending calls rejected).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DlmathError, loadDlmath, type Dlmath, type DlTrainer, type TrainProgress } from 'dlmath';
import { expectClose } from './expect.js';
import { BATCH_X, BATCH_Y, accuracy, exampleSpec, xorData, xorSpec } from './model-fixtures.js';

let dl: Dlmath;
let trainer: DlTrainer;
beforeAll(async () => {
  dl = await loadDlmath();
  trainer = dl.worker();
});
afterAll(async () => {
  await trainer?.terminate();
});

const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

/** Resolves with the DlmathError a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<DlmathError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DlmathError);
    return e as DlmathError;
  }
  throw new Error('expected a rejection');
}

describe('dl.worker() in Node worker_threads', () => {
  it('trains XOR to >= 95 % accuracy, streaming progress at most once per progressMs', async () => {
    const { x, y } = xorData(400, 4);
    const m = await trainer.model(xorSpec());
    expect([m.inputs, m.outputs, m.layers.length]).toEqual([2, 2, 3]);
    const seen: TrainProgress[] = [];
    const t0 = performance.now();
    const h = await m.fit(x, y, { epochs: 200, batchSize: 20, progressMs: 20, onProgress: (p) => seen.push(p) });
    const ms = performance.now() - t0;
    expect(h.stop).toBe('done');
    expect(h.steps).toBe(200 * 20);
    expect(h.epochs.at(-1)!.accuracy).toBeGreaterThanOrEqual(0.95);
    const { data } = await m.predict(x);
    expect(accuracy(data, 2, y)).toBeGreaterThanOrEqual(0.95);
    expect((await m.evaluate(x, y)).accuracy).toBeGreaterThanOrEqual(0.95);
    // Never one message per step: at most one per progressMs, plus the last.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThanOrEqual(Math.ceil(ms / 20) + 1);
    expect(seen.at(-1)!.step).toBe(h.steps);
    expect(seen.at(-1)!.state).toBe('finished');
    for (const p of seen) {
      expect(p.losses).toBeInstanceOf(Float32Array);
      expect(p.stats.layers.map((l) => l.path)).toEqual(['layers.0', 'layers.1', 'layers.2']);
      expect(p.stats.step).toBe(p.step);
    }
    // Every step's loss streams once: a chunk never runs more steps than the log keeps.
    const streamed = seen.reduce((n, p) => n + p.losses.length, 0);
    expect(streamed).toBe(h.steps);
    const few: TrainProgress[] = [];
    const h2 = await m.fit(x, y, { epochs: 3, batchSize: 20, logSteps: 7, onProgress: (p) => few.push(p) });
    expect(few.reduce((n, p) => n + p.losses.length, 0)).toBe(h2.steps);
    await m.dispose();
  });

  it("streams every step's loss and lr in order: a message per chunk, or several chunks merged", async () => {
    const { x, y } = xorData(400, 6);
    const spec = { ...xorSpec(), schedule: { id: 'cosine_annealing_lr', steps: 300, warmup: 20 } } as const;
    const options = { epochs: 15, batchSize: 20 };
    // The main thread's fit in one fitRun call: every step's loss and lr in its log.
    using local = dl.model(spec);
    local.fitBegin(x, y, { ...options, logSteps: 1000 });
    expect(local.fitRun(Infinity).stepsRun).toBe(300);
    const want = { losses: local.diagnosticsColumn('loss'), lrs: local.diagnosticsColumn('lr') };
    expect(new Set(want.lrs).size).toBeGreaterThan(100);
    // progressMs 0: a message after every chunk (sent as read); 10 s: one message at the end, all chunks merged.
    // logSteps 7 keeps every chunk at most 7 steps, so there are many.
    for (const progressMs of [0, 10_000]) {
      const m = await trainer.model(spec);
      const seen: TrainProgress[] = [];
      const h = await m.fit(x, y, { ...options, logSteps: 7, progressMs, onProgress: (p) => seen.push(p) });
      expect(h.steps).toBe(300);
      if (progressMs === 0) expect(seen.length).toBeGreaterThanOrEqual(300 / 7);
      else expect(seen.length).toBe(1);
      expect(Float32Array.from(seen.flatMap((p) => [...p.losses]))).toEqual(want.losses);
      expect(Float32Array.from(seen.flatMap((p) => [...p.lrs]))).toEqual(want.lrs);
      await m.dispose();
    }
  });

  it("replies with the main thread's history, bit for bit: every epoch's losses and accuracies, validation too", async () => {
    const { x, y } = xorData(200, 9);
    const options = { epochs: 7, batchSize: 20, validationSplit: 0.25 };
    using local = dl.model(xorSpec());
    const want = local.fit(x, y, options);
    expect(want.epochs.length).toBe(7);
    expect(want.epochs.every((e) => Number.isFinite(e.valLoss) && Number.isFinite(e.valAccuracy))).toBe(true);
    const m = await trainer.model(xorSpec());
    expect(await m.fit(x, y, options)).toEqual(want);
    // The columns the host streams, read in one pass: field-major, each as diagnosticsColumn reads it.
    const both = local.diagnosticsColumns(['loss', 'lr']);
    const n = both.length / 2;
    expect(n).toBeGreaterThan(0);
    expect(both.subarray(0, n)).toEqual(local.diagnosticsColumn('loss'));
    expect(both.subarray(n)).toEqual(local.diagnosticsColumn('lr'));
    expect(() => local.diagnosticsColumns(['loss', 'nope' as 'loss'])).toThrow(/no field 'nope'/);
    await m.dispose();
  });

  it('replyEpochs keeps the last epochs of the reply, and a bad value is a DlmathError', async () => {
    const { x, y } = xorData(100, 8);
    const m = await trainer.model(xorSpec());
    const all = await m.fit(x, y, { epochs: 12, batchSize: 20 });
    expect(all.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const last = await m.fit(x, y, { epochs: 12, batchSize: 20, replyEpochs: 3 });
    expect(last.steps).toBe(12 * 5);
    expect(last.epochs.map((e) => e.epoch)).toEqual([10, 11, 12]);
    expect((await m.fit(x, y, { epochs: 2, batchSize: 20, replyEpochs: 0 })).epochs).toEqual([]);
    for (const bad of [-1, 1.5, Number.NaN]) {
      const e = await rejection(m.fit(x, y, { epochs: 1, replyEpochs: bad }));
      expect(e.code).toBe('bad_value');
      expect(e.message).toContain('replyEpochs');
    }
    expect((await m.fit(x, y, { epochs: 1, batchSize: 20 })).steps).toBe(5);
    await m.dispose();
  });

  it('runs every command: step, setLr, stats, evaluate, export, and a saved model loads bit-exactly', async () => {
    const m = await trainer.model(exampleSpec());
    const X = BATCH_X.slice(0, 3);
    const Y = BATCH_Y.slice(0, 3);
    // The worker's model is the main thread's model: same steps, same bits.
    using local = dl.model(exampleSpec());
    for (let i = 0; i < 5; ++i) expect(await m.step(X, new Int32Array(Y))).toEqual(local.step(X, Y));
    await m.setLr(0.5);
    local.setLr(0.5);
    expect(await m.step({ shape: [3, 2], data: new Float32Array(X.flat()) }, Y)).toEqual(local.step(X, Y));
    expect(await m.stats()).toEqual(local.stats());
    expect(await m.evaluate(X, Y)).toEqual(local.evaluate(X, Y));
    const saved = await m.toJSON();
    expect(saved).toEqual(local.toJSON());
    expect(await m.toPyTorch()).toBe(local.toPyTorch());
    using restored = dl.loadModel(saved);
    expect((await m.predict(X)).data).toEqual(restored.predict(X).data);
    const back = await trainer.loadModel(saved);
    expect((await back.predict(X)).data).toEqual(restored.predict(X).data);
    await back.dispose();
    await m.dispose();
  });

  it('cancels a fit mid-way (AbortSignal or cancel()); the model keeps working, and predict runs during a fit', async () => {
    const { x, y } = xorData(200, 5);
    const m = await trainer.model(xorSpec());
    const abort = new AbortController();
    let predicted: Float32Array | null = null;
    let first = true;
    const h = await m.fit(x, y, {
      epochs: 1e6,
      batchSize: 10,
      signal: abort.signal,
      onProgress: () => {
        if (!first) return;
        first = false;
        // Between two chunks the worker answers other commands.
        void m.predict(x).then((r) => {
          predicted = r.data;
          abort.abort();
        });
      },
    });
    expect(h.stop).toBe('cancelled');
    expect(h.steps).toBeGreaterThan(0);
    expect(h.steps).toBeLessThan(1e6 * 20);
    expect(predicted).not.toBeNull();
    expect(Number.isFinite((await m.step(x.subarray(0, 20), y.subarray(0, 10))).loss)).toBe(true);
    // cancel() does the same.
    const run = m.fit(x, y, { epochs: 1e6, batchSize: 10 });
    await new Promise((r) => setTimeout(r, 50));
    await m.cancel();
    expect((await run).stop).toBe('cancelled');
    // A signal aborted before the fit starts stops it at once.
    const h2 = await m.fit(x, y, { epochs: 1e6, batchSize: 10, signal: AbortSignal.abort() });
    expect(h2.stop).toBe('cancelled');
    await m.dispose();
  });

  it('snapshot: stashed sets give forward maps, input gradients, evaluations and parameters equal to the main thread', async () => {
    const { x, y } = xorData(200, 5);
    const m = await trainer.model(xorSpec());
    // maxSteps stops a fit (stop 'cancelled') after exactly that many steps; lrs stream beside losses.
    const lrs: number[] = [];
    const h = await m.fit(x, y, {
      epochs: 50,
      batchSize: 20,
      maxSteps: 37,
      onProgress: (p) => lrs.push(...p.lrs),
    });
    expect([h.stop, h.steps]).toEqual(['cancelled', 37]);
    expect(lrs.length).toBeGreaterThan(0);
    const lr = Math.fround((xorSpec().optimizer as { lr: number }).lr);
    expect(lrs.every((v) => v === lr)).toBe(true);
    await m.setParameterValue('layers.0.bias', 1, 0.625);
    const grid = { shape: [4, 2], data: [-1, -1, -1, 1, 1, -1, 1, 1] };
    await m.stash('train', x, y);
    await m.stash('grid', grid);
    const snap = await m.snapshot({
      evaluate: ['train'],
      forward: [{ set: 'grid', layers: [0, 1] }],
      inputGradient: 'train',
      gradients: 'train',
      parameters: true,
    });
    expect(snap.step).toBe(37);
    // The same weights on the main thread give the same numbers.
    const local = dl.loadModel(await m.toJSON());
    expect(local.getParameter('layers.0.bias').data[1]).toBe(0.625);
    expect(snap.parameters!['layers.0.bias']!.data[1]).toBe(0.625);
    expect(Array.from(snap.forward![0]!.outputs.data)).toEqual(Array.from(local.predict(grid).data));
    expect(Array.from(snap.forward![0]!.layers[1]!.data)).toEqual(Array.from(local.layerOutput(1).data));
    expect(Array.from(snap.inputGradient!.data)).toEqual(Array.from(local.inputGradient(x, y).data));
    expect(snap.evaluate!.train).toEqual(local.evaluate(x, y));
    const g = local.gradients(x, y);
    expectClose(snap.gradients!['layers.0.weight']!.data, g['layers.0.weight']!.data, 1e-6);
    local.dispose();
    // A set never stashed is named in the error; the model keeps working.
    const e = await rejection(m.snapshot({ evaluate: ['nope'] }));
    expect(e.message).toContain("'nope'");
    expect((await m.snapshot({ parameters: true })).step).toBe(37);
    // Parameters by name: only those, with the worker's time for the snapshot; an unknown name is refused by name.
    const named = await m.snapshot({ parameters: ['layers.0.bias'] });
    expect(Object.keys(named.parameters!)).toEqual(['layers.0.bias']);
    expect(named.parameters!['layers.0.bias']!.data[1]).toBe(0.625);
    expect(named.ms).toBeGreaterThanOrEqual(0);
    const unknown = await rejection(m.snapshot({ parameters: ['layers.9.weight'] }));
    expect(unknown.message).toContain('layers.9.weight');
    expect((await m.snapshot({ parameters: ['layers.0.weight'] })).parameters!['layers.0.weight']!.shape).toEqual([
      8, 2,
    ]);
    await m.dispose();
  });

  it('reports a diverging fit as stop nan with the core error', async () => {
    const m = await trainer.model({
      input: 2,
      layers: [{ type: 'linear', units: 1 }],
      loss: { id: 'mse' },
      optimizer: { id: 'sgd', lr: 1e30 },
    });
    const { x, y } = xorData(64, 3);
    const h = await m.fit(x, y, { epochs: 5, batchSize: 16 });
    expect(h.stop).toBe('nan');
    expect(h.error).toBeInstanceOf(DlmathError);
    expect(h.error!.code).toBe('bad_value');
    await m.dispose();
  });

  it('throws the same DlmathErrors as the main thread, and keeps working', async () => {
    const bad = { ...exampleSpec(), layers: [{ type: 'linear' as const, units: 0 }] };
    let local: DlmathError | undefined;
    try {
      dl.model(bad);
    } catch (e) {
      local = e as DlmathError;
    }
    const e = await rejection(trainer.model(bad));
    expect([e.code, e.op, e.arg, e.message]).toEqual([local!.code, local!.op, local!.arg, local!.message]);
    const m = await trainer.model(exampleSpec());
    expect((await rejection(m.step([[0, 1]], [7]))).code).toBe('bad_value');
    expect((await rejection(m.predict('x' as never))).code).toBe('bad_type'); // checked before it is sent
    expect((await rejection(m.setLr(-1))).arg).toBe('lr');
    expectClose([(await m.step([[0, 1]], [2])).rows], [1], 0);
    await m.dispose();
    expect((await rejection(m.stats())).code).toBe('disposed');
  });

  it('frees a disposed model inside the worker', async () => {
    const heap = await trainer.heapUsed();
    for (let i = 0; i < 5; ++i) {
      const m = await trainer.model(exampleSpec());
      await m.fit(xorData(100, i).x, xorData(100, i).y, { epochs: 3, batchSize: 10 });
      await m.dispose();
    }
    expect(await trainer.heapUsed()).toBe(heap);
  });

  it('terminate() ends the worker: pending calls reject, nothing stays open', async () => {
    const before = ports();
    const t = dl.worker();
    const m = await t.model(xorSpec());
    expect(ports()).toBe(before + 1);
    const { x, y } = xorData(200, 6);
    const running = rejection(m.fit(x, y, { epochs: 1e6, batchSize: 10 })); // handled from the start
    await new Promise((r) => setTimeout(r, 30));
    await t.terminate();
    expect(t.terminated).toBe(true);
    expect((await running).code).toBe('disposed');
    expect((await rejection(m.predict(x))).code).toBe('disposed');
    expect((await rejection(t.model(xorSpec()))).message).toContain('terminated');
    await t.terminate(); // twice is harmless
    await new Promise((r) => setTimeout(r, 20));
    expect(ports()).toBe(before);
  });
});
