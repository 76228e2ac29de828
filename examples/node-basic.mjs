// The README's example, run by `npm test`: values and gradients from Node.
import assert from 'node:assert/strict';
import { loadDlmath, DlmathError } from 'dlmath';

const dl = await loadDlmath();

// A value and its derivative.
const x = [-2, -1, 0, 1, 2];
const y = dl.sigmoid(x);
const { x: dx } = dl.grad('sigmoid', { x });
console.log('sigmoid', Array.from(y.data, (v) => v.toFixed(4)).join(' '));
console.log("sigmoid'", Array.from(dx.data, (v) => v.toFixed(4)).join(' '));
assert.ok(Math.abs(y.data[3] - 1 / (1 + Math.exp(-1))) < 1e-6);
assert.ok(Math.abs(dx.data[2] - 0.25) < 1e-6);

// Row-wise ops take the last dimension: two rows of logits.
const p = dl.softmax([
  [1, 2, 3],
  [1e4, 0, -1e4],
]);
console.log('softmax', p.shape, Array.from(p.data, (v) => v.toFixed(4)).join(' '));
assert.deepEqual(p.shape, [2, 3]);
assert.ok(Math.abs(p.data[3] - 1) < 1e-6); // huge logits stay finite

// Resident tensors skip the copies for repeated work; dispose() frees them
// (or `using t = dl.tensor(...)` where the runtime supports it).
const big = dl.tensor(new Float32Array(1 << 16).map((_, i) => (i % 200) / 20 - 5));
const out = dl.tensor(null, [1 << 16]);
for (let i = 0; i < 10; ++i) dl.eval('sigmoid', { x: big }, {}, { out });
assert.ok(Math.abs(out.data()[100] - 0.5) < 1e-6);
big.dispose();
out.dispose();

// Mistakes are DlmathErrors that say what is wrong.
try {
  dl.eval('sigmoit', { x });
} catch (e) {
  assert.ok(e instanceof DlmathError);
  console.log('error:', e.message);
}
