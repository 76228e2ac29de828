// The README's catalogue examples, run by `npm test`: secondary outputs,
// class-index targets, optimizers, schedules and initializers from Node.
import assert from 'node:assert/strict';
import { loadDlmath } from 'dlmath';

const dl = await loadDlmath();

// batch_norm in training mode returns the updated running statistics.
const input = [
  [1, 2],
  [3, 6],
];
const bn = dl.eval('batch_norm', { input, weight: [1, 1], bias: [0, 0] });
console.log('batch_norm', Array.from(bn.data), 'running_var', Array.from(bn.aux.running_var.data));
assert.ok(Math.abs(bn.aux.running_var.data[0] - (0.9 + 0.1 * 2)) < 1e-6); // unbiased variance of [1, 3] is 2

// Cross-entropy on logits with class indices (an Int32Array is fine).
const ce = dl.eval(
  'cross_entropy',
  {
    input: [
      [2, 0, -1],
      [0, 1, 0],
    ],
    target: new Int32Array([0, 1]),
  },
  { reduction: 'sum' },
);
const lse = (r) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
const want = lse([2, 0, -1]) - 2 + lse([0, 1, 0]) - 1;
console.log('cross_entropy', ce.data[0], 'expected', want);
assert.ok(Math.abs(ce.data[0] - want) < 1e-5);

// Adam's first step moves each parameter by about lr, against the gradient's sign.
const path = dl.optimize(
  'adam',
  {
    params: [1, -1],
    grads: [
      [0.1, -0.2],
      [0.3, -0.1],
    ],
  },
  { lr: 1e-3 },
);
console.log('adam path', path.shape, Array.from(path.data));
assert.deepEqual(path.shape, [2, 2]);
assert.ok(Math.abs(path.data[0] - (1 - 1e-3)) < 1e-6);

// Cosine annealing halfway through is half the base learning rate.
const lr = dl.schedule('cosine_annealing_lr', { lr: 0.1, t_max: 50 }, 100);
console.log('lr at 0, 25, 50:', lr[0], lr[25], lr[50]);
assert.ok(Math.abs(lr[25] - 0.05) < 1e-6);

// He-normal weights: reproducible from the seed.
const w1 = dl.init('kaiming_normal', [256, 128], { nonlinearity: 'relu', seed: 7 });
const w2 = dl.init('kaiming_normal', [256, 128], { nonlinearity: 'relu', seed: 7 });
const variance = w1.data.reduce((s, v) => s + v * v, 0) / w1.data.length;
console.log('kaiming_normal variance', variance, 'target', 2 / 128);
assert.deepEqual(w1.data, w2.data);
assert.ok(Math.abs(variance - 2 / 128) < 0.1 * (2 / 128));
