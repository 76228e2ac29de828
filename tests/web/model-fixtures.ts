// Data and specs shared by the training tests (Node and worker).
import type { ModelSpec } from 'dlmath';

/** The README's example: 2 inputs, 3 classes, every knob of the text. */
export function exampleSpec(): ModelSpec {
  return {
    input: 2,
    layers: [
      { type: 'linear', units: 8, init: 'kaiming_uniform' },
      { type: 'activation', id: 'tanh' },
      { type: 'linear', units: 3 },
    ],
    loss: { id: 'cross_entropy', label_smoothing: 0.1 },
    optimizer: { id: 'adamw', lr: 3e-3, weight_decay: 0.01 },
    schedule: { id: 'warmup_cosine', warmup: 100, steps: 2000 },
    clip: { norm: 1 },
    seed: 7,
  };
}

/** A batch of the example's shape: 6 rows of 2 inputs, and their classes (3). */
export const BATCH_X = [
  [0.5, -1],
  [1, 0.25],
  [-0.75, 0.5],
  [0, 1],
  [-1, -1],
  [0.25, 0.75],
];
export const BATCH_Y = [0, 1, 2, 1, 0, 2];

/** A small tanh classifier for XOR (2 classes). */
export function xorSpec(seed = 3): ModelSpec {
  return {
    input: 2,
    layers: [
      { type: 'linear', units: 8 },
      { type: 'activation', id: 'tanh' },
      { type: 'linear', units: 2 },
    ],
    loss: { id: 'cross_entropy' },
    optimizer: { id: 'adam', lr: 0.02 },
    seed,
  };
}

/** Deterministic uniform numbers in [0, 1) (a 32-bit LCG), so every run sees the same data. */
export function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * XOR with noise: n points in [-1, 1]^2, class 1 when x0 and x1 have different signs.
 * @param n - examples
 * @param seed - of the points
 */
export function xorData(n: number, seed = 1): { x: Float32Array; y: Float32Array } {
  const rand = uniform(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    let a = 0;
    let b = 0;
    // Away from the axes, where the label would be a coin toss.
    while (Math.abs(a) < 0.1 || Math.abs(b) < 0.1) {
      a = rand() * 2 - 1;
      b = rand() * 2 - 1;
    }
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = a * b < 0 ? 1 : 0;
  }
  return { x, y };
}

/**
 * Accuracy of class scores [rows, classes] against class indices.
 * @param scores - the model's outputs, row-major
 * @param classes - outputs per row
 * @param labels - one class index per row
 */
export function accuracy(scores: Float32Array, classes: number, labels: ArrayLike<number>): number {
  let right = 0;
  for (let r = 0; r < labels.length; ++r) {
    let best = 0;
    for (let c = 1; c < classes; ++c) if (scores[r * classes + c]! > scores[r * classes + best]!) best = c;
    if (best === labels[r]) ++right;
  }
  return right / labels.length;
}
