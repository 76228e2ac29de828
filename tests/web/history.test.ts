// The training page's history (web/src/nn/history.ts): every step's loss
// and lr until the log is full, then every 2nd, 4th ... step, each kept row
// still labelled with its own step; lists of points thin by halves keeping
// the newest. Memory stays bounded however long a page trains.
import { describe, expect, it } from 'vitest';
import type { EpochStats, ModelStats } from 'dlmath';
import { History, thin } from '../../web/src/nn/history.js';

/** Streams steps first+1 .. first+n with loss = step and lr = -step, in chunks of `chunk`. */
function stream(h: History, from: number, n: number, chunk: number): void {
  for (let s = from; s < from + n; s += chunk) {
    const k = Math.min(chunk, from + n - s);
    const loss = Float32Array.from({ length: k }, (_, i) => s + i + 1);
    h.addSteps(
      loss,
      loss.map((v) => -v),
    );
  }
}

const epoch = (e: number): EpochStats => ({ epoch: e, loss: e, accuracy: 0, valLoss: NaN, valAccuracy: NaN });

describe('History', () => {
  it('keeps every step until full, then every stride-th, each row its own step', () => {
    const h = new History({ rows: 8 });
    stream(h, 0, 8, 3);
    expect([...h.losses]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([h.stride, h.lastStep]).toEqual([1, 8]);
    stream(h, 8, 1, 1);
    expect([...h.losses]).toEqual([1, 3, 5, 7, 9]);
    expect([h.stride, h.lastStep]).toEqual([2, 9]);
    stream(h, 9, 1000, 7);
    expect(h.losses.length).toBeLessThanOrEqual(8);
    expect(h.stride).toBe(128); // 8 rows of stride 128 cover the 1,009 steps
    h.losses.forEach((v, i) => expect(v).toBe(1 + i * h.stride));
    expect([...h.lrs]).toEqual([...h.losses].map((v) => -v));
    expect(h.lastStep).toBe(h.losses.at(-1));
    // The CSV labels each row with its step.
    const rows = h.toCsv().trim().split('\n').slice(1);
    expect(rows.map((r) => Number(r.split(',')[0]))).toEqual([...h.losses]);
    h.reset();
    stream(h, 0, 3, 3);
    expect([[...h.losses], h.stride]).toEqual([[1, 2, 3], 1]);
  });

  it('holds a million steps in at most `rows` rows (default 2^20 for the page)', () => {
    const h = new History({ rows: 1000 });
    h.firstStep = 50;
    stream(h, 50, 1_000_000, 4096);
    expect(h.losses.length).toBeLessThanOrEqual(1000);
    expect(h.losses.length).toBeGreaterThan(250);
    expect(Number.isInteger(Math.log2(h.stride))).toBe(true);
    h.losses.forEach((v, i) => expect(v).toBe(51 + i * h.stride));
    const t = thin(h.losses, h.firstStep + 1, 100, h.stride);
    t.x.forEach((x, i) => expect(x).toBe(t.y[i]));
  });

  it('thins evaluations, layer samples and epochs by halves, keeping the newest', () => {
    const h = new History({ points: 4 });
    for (let s = 1; s <= 10; ++s) h.addEval({ step: s, trainLoss: s, trainAccuracy: 0, testLoss: 0, testAccuracy: 0 });
    expect(h.evals.length).toBeLessThanOrEqual(4);
    expect(h.evals.at(-1)!.step).toBe(10);
    const steps = h.evals.map((e) => e.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    for (let s = 1; s <= 9; ++s)
      h.addLayers({ step: s, layers: [{ gradNorm: s, updateRatio: s }] } as unknown as ModelStats, [0]);
    expect(h.layers.length).toBeLessThanOrEqual(4);
    expect(h.layers.at(-1)!.gradNorm).toEqual([9]);
    // Epochs: progress brings the newest; the fit's end fills gaps only while nothing was dropped.
    h.beginFit();
    h.addEpochs([epoch(1)]);
    h.addEpochs([epoch(3)]);
    h.addEpochs([1, 2, 3].map(epoch));
    expect(h.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    for (let e = 4; e <= 9; ++e) h.addEpochs([epoch(e)]);
    expect(h.epochs.length).toBeLessThanOrEqual(4);
    expect(h.epochs.at(-1)!.epoch).toBe(9);
    const kept = h.epochs.map((e) => e.epoch);
    h.addEpochs([1, 2, 3, 4, 5, 6, 7, 8, 9].map(epoch));
    expect(h.epochs.map((e) => e.epoch)).toEqual(kept);
  });
});
