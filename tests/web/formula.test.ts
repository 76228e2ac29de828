// dl.formula in Node, against the built package: values and exact gradients
// against the registry ops they spell out, parameters, error columns, bad
// inputs, and a flat heap over many compile/eval/dispose cycles.
import katex from 'katex';
import { beforeAll, describe, expect, it } from 'vitest';
import { DlFormula, loadDlmath, type Dlmath } from 'dlmath';
import { expectClose, expectError } from './expect.js';

let dl: Dlmath;
beforeAll(async () => {
  dl = await loadDlmath();
});

const xs = Array.from({ length: 401 }, (_, i) => -10 + i * 0.05 + 1e-3);

describe('dl.formula', () => {
  it('x*sigmoid(x) matches silu, value and gradient', () => {
    using f = dl.formula('x*sigmoid(x)');
    expect(f).toBeInstanceOf(DlFormula);
    expect(f.text).toBe('x*sigmoid(x)');
    expect(f.params).toEqual([]);
    expect(f.latex).toBe('x \\cdot \\operatorname{sigmoid}\\left(x\\right)');
    expectClose(f.eval(xs), dl.silu(xs).data, 2e-6);
    expectClose(f.grad(xs), dl.grad('silu', { x: xs }).x.data, 1e-5);
    const both = f.evalWithGrad(new Float32Array(xs));
    expectClose(both.value, dl.silu(xs).data, 2e-6);
    expectClose(both.grad, dl.grad('silu', { x: xs }).x.data, 1e-5);
  });

  it('takes a resident tensor and named parameters', () => {
    using f = dl.formula('a*x^2 - tanh(b*x)');
    expect(f.params).toEqual(['a', 'b']);
    using t = dl.tensor([
      [-1, 0],
      [0.5, 2],
    ]);
    const { value, grad } = f.evalWithGrad(t, { a: 2, b: 0.5 });
    const x = [-1, 0, 0.5, 2];
    expectClose(
      value,
      x.map((v) => 2 * v * v - Math.tanh(0.5 * v)),
      2e-6,
    );
    expectClose(
      grad,
      x.map((v) => 4 * v - 0.5 * (1 - Math.tanh(0.5 * v) ** 2)),
      1e-5,
    );
    expect(f.eval([], { a: 1, b: 1 })).toEqual(new Float32Array(0));
  });

  it('renders its LaTeX with KaTeX', () => {
    const texts = [
      '0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3)))',
      'sin(x^2)^3 + (x^2)^(1/2) - 1e-3*x^-2',
      'floor(x)+ceil(x)+abs(x)-cbrt(x)+sign(x)*round(x)',
      'min(x,1)*max(x,0)/clamp(x,-1,1) + pow(x,y_1)+atan2(x,2)+hypot(x,3)',
      'log2(x)+log10(x)+log1p(x)+expm1(x)+asinh(x)+acosh(x)+atanh(x)',
      'gelu_tanh(x)*leaky_relu(x, 0.2) - -(-x) + e^x*π + 2^3^x',
      'alpha*x/(1+x/(1+long_name))',
    ];
    for (const t of texts) {
      using f = dl.formula(t);
      expect(() => katex.renderToString(f.latex, { throwOnError: true }), `${t} -> ${f.latex}`).not.toThrow();
    }
  });

  it('reports the column and length of malformed text', () => {
    const cases: [string, number, number, string][] = [
      ['2*', 3, 0, "column 3: expected an expression after '*', found the end of the text"],
      ['sigmod(x)', 1, 6, "column 1: unknown function 'sigmod' (did you mean 'sigmoid'?)"],
      ['exp((x)', 8, 0, "column 8: missing ')' to close the '(' at column 4"],
      ['x$', 2, 1, "column 2: unexpected character '$'"],
      ['π×x$', 4, 1, "column 4: unexpected character '$'"],
      ['relu(x, 2)', 1, 4, "column 1: 'relu' takes 1 argument (its params: none), got 2"],
      ['2x', 2, 1, "column 2: expected an operator, found 'x'"],
      ['elu(x, x)', 8, 1, "column 8: param 'alpha' of 'elu' (argument 2) must not depend on x"],
      ['', 1, 0, 'the formula is empty'],
    ];
    for (const [text, column, length, message] of cases) {
      const e = expectError(() => dl.formula(text), 'bad_formula');
      expect(e.message).toBe(message);
      expect(e.column, text).toBe(column);
      expect(e.length, text).toBe(length);
      // The column indexes the JS string (UTF-16 units, 1-based).
      if (length > 0) expect(text.slice(column - 1, column - 1 + length)).not.toBe('');
    }
    const range = expectError(() => dl.formula('elu(x, -1)'), 'bad_formula', "param 'alpha'", 'got -1');
    expect([range.column, range.length]).toEqual([8, 2]);
  });

  it('rejects bad arguments with clear errors and keeps working', () => {
    expectError(() => dl.formula(42 as unknown as string), 'bad_type', 'must be a string');
    using f = dl.formula('a*x + elu(x, s)');
    expectError(() => f.eval([1], { a: 1 }), 'bad_param', "parameter 's' has no value");
    expectError(() => f.eval([1], { a: 1, s: 1, c: 2 }), 'unknown_param', "no parameter 'c'", 'a, s');
    expectError(() => f.eval([1], { a: Number.NaN, s: 1 }), 'bad_param', "parameter 'a' is NaN");
    expectError(() => f.eval([1], { a: '1' as unknown as number, s: 1 }), 'bad_type', "parameter 'a'");
    expectError(() => f.eval([1], { a: 1, s: -1 }), 'bad_param', "op 'elu': param 'alpha'");
    expectError(() => f.eval(['1'] as unknown as number[], { a: 1, s: 1 }), 'bad_type', 'element [0]');
    expectError(() => f.eval('123' as unknown as number[], { a: 1, s: 1 }), 'bad_type', 'x must be');
    expectError(() => f.eval({ length: 1 } as unknown as number[], { a: 1, s: 1 }), 'bad_type', 'x must be');
    expectClose(f.eval([2, -1], { a: 3, s: 0.5 }), [8, -3 + 0.5 * Math.expm1(-1)], 2e-6);
    const g = dl.formula('x');
    g.dispose();
    expect(g.disposed).toBe(true);
    expectError(() => g.eval([1]), 'disposed');
    g.dispose(); // twice is fine
    expectClose(dl.sigmoid([0]).data, [0.5], 2e-6);
  });

  it('keeps the heap flat over 10,000 compile/eval/dispose cycles, errors included', () => {
    const x = new Float32Array(64).map((_, i) => i / 8 - 4);
    const before = dl.heapUsed();
    for (let i = 0; i < 10_000; ++i) {
      switch (i % 5) {
        case 0: {
          using f = dl.formula('x*sigmoid(1.702*x) + a');
          f.evalWithGrad(x, { a: 1 });
          break;
        }
        case 1:
          try {
            dl.formula('2*(x');
          } catch {
            /* expected */
          }
          break;
        case 2: {
          using f = dl.formula('elu(x, s)');
          try {
            f.eval(x, { s: -1 });
          } catch {
            /* expected */
          }
          break;
        }
        case 3: {
          using f = dl.formula('log(1+exp(x))');
          f.grad(x);
          try {
            f.eval(x, { nope: 1 });
          } catch {
            /* expected */
          }
          break;
        }
        case 4:
          try {
            dl.formula('sigmod(x) + ' + 'x+'.repeat(3000));
          } catch {
            /* expected */
          }
          break;
      }
    }
    expect(dl.heapUsed()).toBe(before);
    using f = dl.formula('x^2');
    expect(Array.from(f.evalWithGrad([-2]).grad)).toEqual([-4]);
  });
});
