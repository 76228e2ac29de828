// The README's training example, run by `npm test`: a small network trained
// in the wasm core, then the same in a worker thread (dl.worker()).
import assert from 'node:assert/strict';
import { loadDlmath, DlmathError } from 'dlmath';

const dl = await loadDlmath();

// Three interleaved spirals, 3 classes: points (x0, x1) and class indices.
function spirals(n) {
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const c = i % 3;
    const r = (i / n) * 0.9 + 0.1;
    const t = c * ((2 * Math.PI) / 3) + r * 4 + Math.sin(i * 12.9898) * 0.15;
    x[2 * i] = r * Math.cos(t);
    x[2 * i + 1] = r * Math.sin(t);
    y[i] = c;
  }
  return { x, y };
}
const { x, y } = spirals(600);

const model = dl.model({
  input: 2,
  layers: [
    { type: 'linear', units: 32, init: 'kaiming_uniform' },
    { type: 'activation', id: 'tanh' },
    { type: 'linear', units: 32 },
    { type: 'activation', id: 'tanh' },
    { type: 'linear', units: 3 },
  ],
  loss: { id: 'cross_entropy', label_smoothing: 0.05 },
  optimizer: { id: 'adamw', lr: 1e-2, weight_decay: 1e-4 },
  schedule: { id: 'warmup_cosine', warmup: 100, steps: 6000 },
  clip: { norm: 1 },
  seed: 7,
});

// One step on one batch: the loss, learning rate and gradient norms.
const first = model.step(x.subarray(0, 64), y.subarray(0, 32));
console.log('first step', first);

// The whole loop in wasm: shuffled batches, a validation split, early stopping.
const history = model.fit(x, y, { epochs: 200, batchSize: 20, validationSplit: 0.1, earlyStopping: { patience: 20 } });
const last = history.epochs.at(-1);
console.log(`fit: ${history.stop} after ${history.epochs.length} epochs, accuracy ${last.accuracy.toFixed(3)}`);
const { loss, accuracy } = model.evaluate(x, y);
console.log(`evaluate: loss ${loss.toFixed(4)}, accuracy ${accuracy.toFixed(3)}`);
assert.ok(accuracy >= 0.95, `spirals should be learned, got ${accuracy}`);

// Per-layer diagnostics of the last step.
for (const l of model.stats().layers)
  console.log(
    `  ${l.path.padEnd(9)} ${l.type.padEnd(10)} |grad| ${l.gradNorm.toExponential(2)}  dead ${l.deadFraction}`,
  );

// Save and restore, bit-exactly; export for PyTorch.
const copy = dl.loadModel(JSON.parse(JSON.stringify(model.toJSON())));
assert.deepEqual(copy.predict(x).data, model.predict(x).data);
assert.match(model.toPyTorch(), /import torch/);
copy.dispose();

// A mistake names the layer and the field.
try {
  dl.model({ input: 2, layers: [{ type: 'linear', units: 0 }], loss: { id: 'mse' }, optimizer: { id: 'sgd' } });
} catch (e) {
  assert.ok(e instanceof DlmathError);
  console.log(`error: ${e.code} at ${e.arg}: ${e.message}`);
}
model.dispose();

// The same off the main thread: a worker with its own wasm instance.
const trainer = dl.worker();
const remote = await trainer.model({
  input: 2,
  layers: [
    { type: 'linear', units: 8 },
    { type: 'activation', id: 'tanh' },
    { type: 'linear', units: 2 },
  ],
  loss: { id: 'cross_entropy' },
  optimizer: { id: 'adam', lr: 0.05 },
  seed: 3,
});
const xor = { x: [0, 0, 0, 1, 1, 0, 1, 1], y: [0, 1, 1, 0] };
let messages = 0;
const h = await remote.fit(xor.x, xor.y, { epochs: 500, batchSize: 4, onProgress: () => ++messages });
const ev = await remote.evaluate(xor.x, xor.y);
console.log(`worker: ${h.stop}, ${h.steps} steps in ${messages} progress message(s), accuracy ${ev.accuracy}`);
assert.equal(ev.accuracy, 1);
await trainer.terminate();
