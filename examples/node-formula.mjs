// A typed formula, parsed and differentiated exactly by the core (no JS eval):
// the same evaluator as the playground's page, called from Node.
import assert from 'node:assert/strict';
import { loadDlmath, DlmathError } from 'dlmath';

const dl = await loadDlmath();

// GELU's sigmoid approximation, its value and exact derivative in one call.
const xs = Float32Array.from({ length: 7 }, (_, i) => i - 3);
const gelu = dl.formula('x*sigmoid(1.702*x)');
const { value, grad } = gelu.evalWithGrad(xs);
console.log('f ', Array.from(value, (v) => v.toFixed(4)).join(' '));
console.log("f'", Array.from(grad, (v) => v.toFixed(4)).join(' '));
// d/dx x·σ(kx) = σ(kx) + k·x·σ(kx)(1 − σ(kx)); at 0 it is σ(0) = 1/2.
assert.ok(Math.abs(grad[3] - 0.5) < 1e-6);
gelu.dispose();

// Named params become arguments; registry ops take their params positionally.
const f = dl.formula('a*elu(x, 0.5) + b');
console.log(f.params, f.latex);
assert.deepEqual([...f.params], ['a', 'b']);
assert.ok(Math.abs(f.eval([-1], { a: 2, b: 1 })[0] - (2 * 0.5 * Math.expm1(-1) + 1)) < 1e-6);
f.dispose();

// A mistake names its column, and the module keeps working.
try {
  dl.formula('x*(2+');
  assert.fail('expected a DlmathError');
} catch (err) {
  assert.ok(err instanceof DlmathError);
  console.log(`${err.code} at column ${err.column}: ${err.message}`);
  assert.equal(err.code, 'bad_formula');
  assert.equal(err.column, 6);
}
const softplus = dl.formula('log(1+exp(x))'); // or `using softplus = ...` where the runtime has it
assert.ok(Math.abs(softplus.grad([0])[0] - 0.5) < 1e-6);
softplus.dispose();
