// The dlmath JS API in Node, against the built package: values, gradients,
// every input form, every error, and the module's health after errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { DlmathError, DlTensor, loadDlmath, OP_IDS, type Dlmath } from 'dlmath';
import { expectClose, expectError } from './expect.js';

let dl: Dlmath;
beforeAll(async () => {
  dl = await loadDlmath();
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('registry metadata', () => {
  it('lists every op with formula, gradient and both explanations', () => {
    const ops = dl.ops();
    expect(ops.map((o) => o.id)).toEqual([...OP_IDS]);
    for (const op of ops) {
      expect(['op', 'optimizer', 'schedule', 'init']).toContain(op.kind);
      expect(op.latex.length).toBeGreaterThan(0);
      expect(op.dlatex.length).toBeGreaterThan(0);
      expect(op.doc.en.length).toBeGreaterThan(100);
      expect(op.doc.zh.length).toBeGreaterThan(40);
      expect(op.title.en.length).toBeGreaterThan(0);
    }
  });

  it('has a convenience function per op, from the registry', () => {
    for (const op of dl.ops()) {
      expect(typeof (dl as unknown as Record<string, unknown>)[op.id]).toBe('function');
    }
    expect(dl.target).toMatch(/WASM|EMU128|SCALAR/);
  });
});

describe('values and gradients', () => {
  const xs = [-1e4, -20, -5, -1, -0.5, 0, 0.5, 1, 5, 20, 1e4];

  it('sigmoid matches the formula, through every input form', () => {
    const want = xs.map(sigmoid);
    expectClose(dl.sigmoid(xs).data, want, 2e-6);
    expectClose(dl.eval('sigmoid', { x: new Float32Array(xs) }).data, want, 2e-6);
    expectClose(dl.eval('sigmoid', { x: new Float64Array(xs) }).data, want, 2e-6);
    expectClose(dl.eval('sigmoid', { x: { shape: [11], data: xs } }).data, want, 2e-6);
    using t = dl.tensor(xs);
    expectClose(dl.sigmoid(t).data, want, 2e-6);
    const scalar = dl.sigmoid(2);
    expect(scalar.shape).toEqual([]);
    expectClose(scalar.data, [sigmoid(2)], 2e-6);
  });

  it('eval returns the named secondary outputs (none for activations)', () => {
    const r = dl.eval('softmax', { x: [1, 2] });
    expect(r.aux).toEqual({});
    for (const op of dl.ops()) expect(Array.isArray(op.aux)).toBe(true);
  });

  it('enum params take their names; integer inputs are checked (nll)', () => {
    const input = [
      [-1, -2, -3],
      [-0.5, -1.5, -2.5],
    ];
    const none = dl.eval('nll', { input, target: new Int32Array([2, 0]) }, { reduction: 'none' });
    expectClose(none.data, [3, 0.5], 1e-6);
    expectClose(dl.eval('nll', { input, target: [2, 0] }).data, [1.75], 1e-6);
    expectError(
      () => dl.eval('nll', { input, target: [2, 0] }, { reduction: 'avg' as 'mean' }),
      'bad_param',
      "'mean', 'sum', 'none'",
      "'avg'",
    );
    expectError(() => dl.eval('nll', { input, target: [2.5, 0] }), 'bad_type', 'must hold integers');
    expectError(() => dl.eval('nll', { input, target: [7, 0] }), 'bad_value', 'not a class index');
  });

  it('nested arrays keep their shape', () => {
    const r = dl.softmax([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    expect(r.shape).toEqual([2, 3]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0]! + e[1]! + e[2]!;
    expectClose(r.data, [e[0]! / s, e[1]! / s, e[2]! / s, 1 / 3, 1 / 3, 1 / 3], 2e-6);
  });

  it('softmax of huge logits stays finite', () => {
    const r = dl.softmax([1e4, -1e4, 1e4 - 1]);
    expectClose(r.data, [1 / (1 + Math.exp(-1)), 0, Math.exp(-1) / (1 + Math.exp(-1))], 2e-6);
  });

  it('grad is the vector-Jacobian product, upstream defaulting to ones', () => {
    const g = dl.grad('sigmoid', { x: xs });
    expect(g.x.shape).toEqual([11]);
    expectClose(
      g.x.data,
      xs.map((x) => sigmoid(x) * (1 - sigmoid(x))),
      1e-5,
    );
    const up = xs.map((_, i) => i - 5);
    const g2 = dl.sigmoid.grad(xs, {}, up);
    expectClose(
      g2.x.data,
      xs.map((x, i) => up[i]! * sigmoid(x) * (1 - sigmoid(x))),
      1e-5,
    );
    // softmax: d/dx_j of y_0 = y_0 (delta_0j - y_j)
    const y = dl.softmax([1, 2, 3]).data;
    const gs = dl.grad('softmax', { x: [1, 2, 3] }, {}, [1, 0, 0]);
    expectClose(gs.x.data, [y[0]! * (1 - y[0]!), -y[0]! * y[1]!, -y[0]! * y[2]!], 1e-5);
  });

  it('every differentiable elementwise op: grad agrees with finite differences of eval', () => {
    for (const op of dl.ops()) {
      if (op.form !== 'elementwise' || !op.differentiable) continue;
      const x = op.inputs[0]!.name;
      const run = (id: string, v: number[]) => dl.eval(id as 'sigmoid', { [x]: v } as { x: number[] }).data;
      const pts = [-2.3, -0.7, 0.45, 1.6, 3.1];
      const g = (
        dl.grad(op.id as 'sigmoid', { [x]: pts } as { x: number[] }) as Record<string, { data: Float32Array }>
      )[x]!.data;
      const h = 1e-2;
      const fp = run(
        op.id,
        pts.map((p) => p + h),
      );
      const fm = run(
        op.id,
        pts.map((p) => p - h),
      );
      for (let i = 0; i < pts.length; ++i) {
        const fd = (fp[i]! - fm[i]!) / (2 * h);
        expect(Math.abs(g[i]! - fd), `${op.id} at ${pts[i]}: grad ${g[i]} vs fd ${fd}`).toBeLessThan(
          2e-2 * Math.max(1, Math.abs(fd)),
        );
      }
    }
  });

  it('writes into a resident output tensor without copies', () => {
    using x = dl.tensor([1, 2, 3, 4], [2, 2]);
    using out = dl.tensor(null, [4]);
    const r = dl.eval('softmax', { x }, {}, { out });
    expect(r).toBe(out);
    expect(out.shape).toEqual([2, 2]);
    expectClose(out.data(), [sigmoid(-1), sigmoid(1), sigmoid(-1), sigmoid(1)], 2e-6);
  });

  it('writes gradients into resident tensors', () => {
    using x = dl.tensor([0, 1, -1]);
    using dx = dl.tensor([9, 9, 9]); // overwritten, not accumulated into
    const g = dl.grad('sigmoid', { x }, {}, undefined, { out: { x: dx } });
    expect(Object.keys(g)).toEqual([]);
    expectClose(dx.data(), [0.25, sigmoid(1) * sigmoid(-1), sigmoid(1) * sigmoid(-1)], 1e-5);
    using small = dl.tensor([0]);
    expectError(() => dl.grad('sigmoid', { x }, {}, undefined, { out: { x: small } }), 'bad_shape', "gradient of 'x'");
  });
});

describe('one call, one forward pass, any output buffer', () => {
  it('evalWithGrad returns what eval and grad return', () => {
    const input = [
      [1, -2, 3, 0.5],
      [0, 4, -1, 2],
    ];
    const weight = [1, 2, 0.5, -1];
    const bias = [0, 1, 0, -1];
    const { value, grads } = dl.evalWithGrad('layer_norm', { input, weight, bias }, {}, undefined);
    const e = dl.eval('layer_norm', { input, weight, bias });
    const g = dl.grad('layer_norm', { input, weight, bias });
    expect(value.shape).toEqual([2, 4]);
    expect(value.data).toEqual(e.data);
    expect(Object.keys(grads).sort()).toEqual(['bias', 'input', 'weight']);
    for (const k of ['input', 'weight', 'bias'] as const) expect(grads[k].data).toEqual(g[k].data);
    const up = [1, 0, 0, 0, 0, 0, 0, 2];
    expect(dl.evalWithGrad('softmax', { x: input }, {}, [up.slice(0, 4), up.slice(4)]).grads.x.data).toEqual(
      dl.grad('softmax', { x: input }, {}, [up.slice(0, 4), up.slice(4)]).x.data,
    );
  });

  it('gives gradients for exactly the inputs given (none for an omitted optional one)', () => {
    const input = { shape: [4, 100], data: Float32Array.from({ length: 400 }, (_, i) => Math.sin(i)) };
    for (const id of ['layer_norm', 'rms_norm'] as const) {
      const g = dl.grad(id, { input }) as Record<string, unknown>;
      expect(Object.keys(g)).toEqual(['input']);
      const skipped = dl.grad(id, { input, weight: undefined }) as Record<string, unknown>;
      expect(Object.keys(skipped)).toEqual(['input']);
    }
    // Same input gradient as with weight 1 (and bias 0).
    const ones = new Float32Array(100).fill(1);
    expect(dl.grad('layer_norm', { input }).input.data).toEqual(
      dl.grad('layer_norm', { input, weight: ones, bias: new Float32Array(100) }).input.data,
    );
    expectError(
      () => dl.grad('layer_norm', { input }, {}, undefined, { out: { weight: new Float32Array(100) } }),
      'missing_input',
      "input 'weight', which the call does not give",
    );
  });

  it("writes into a caller's Float32Array, for values and gradients", () => {
    const out = new Float32Array(3);
    const r = dl.eval('sigmoid', { x: [0, 1, -1] }, {}, { out });
    expect(r.data).toBe(out);
    expect(r.shape).toEqual([3]);
    expectClose(out, [0.5, sigmoid(1), sigmoid(-1)], 2e-6);
    const dx = new Float32Array(3);
    const g = dl.grad('sigmoid', { x: [0, 1, -1] }, {}, undefined, { out: { x: dx } });
    expect(Object.keys(g)).toEqual([]);
    expectClose(dx, [0.25, sigmoid(1) * sigmoid(-1), sigmoid(1) * sigmoid(-1)], 1e-5);
    const both = dl.evalWithGrad('sigmoid', { x: [0, 1, -1] }, {}, undefined, { out, gradOut: { x: dx } });
    expect(both.value.data).toBe(out);
    expect(both.grads).toEqual({});
    expectError(() => dl.eval('sigmoid', { x: [0, 1] }, {}, { out }), 'bad_shape', "output 'out' holds 3 values");
    expectError(
      () => dl.eval('sigmoid', { x: [0, 1] }, {}, { out: [0, 0] as unknown as Float32Array }),
      'bad_type',
      'a Float32Array',
    );
  });

  it('runs in place where the form allows it, and refuses other aliasing', () => {
    using x = dl.tensor([0, 1, -1, 2]);
    expect(dl.eval('sigmoid', { x }, {}, { out: x })).toBe(x);
    expectClose(x.data(), [0.5, sigmoid(1), sigmoid(-1), sigmoid(2)], 2e-6);
    using a = dl.tensor([
      [0, 1],
      [1, 0],
    ]);
    expectError(() => dl.eval('laplacian', { A: a }, {}, { out: a }), 'aliased_output', "overlaps input 'A'");
    expectError(() => dl.evalWithGrad('sigmoid', { x }, {}, undefined, { out: x }), 'aliased_output', 'backward');
    expectError(() => dl.grad('sigmoid', { x }, {}, undefined, { out: { x } }), 'aliased_output');
    using p = dl.tensor([1, 2, 3, 4]);
    using g = dl.tensor(null, [4]);
    expectError(
      () => dl.grad('mse', { input: p, target: [0, 0, 0, 0] }, {}, undefined, { out: { input: g, target: g } }),
      'aliased_output',
      'its own buffer',
    );
  });
});

describe('bad input gives a DlmathError naming the problem', () => {
  it('unknown op, with the nearest ids', () => {
    const e = expectError(
      () => dl.eval('sigmoit' as 'sigmoid', { x: [1] }),
      'unknown_op',
      "'sigmoit'",
      "did you mean 'sigmoid'",
    );
    expect(e.op).toBe('sigmoit');
    expectError(() => dl.eval(42 as unknown as 'sigmoid', { x: [1] }), 'bad_type', 'must be a string');
  });

  it('missing, unknown and malformed inputs', () => {
    expectError(() => dl.eval('sigmoid', {} as { x: number[] }), 'missing_input', "needs input 'x'");
    expectError(() => dl.eval('sigmoid', { x: [1], y: [2] } as { x: number[] }), 'unknown_input', "no input 'y'");
    expectError(() => dl.eval('sigmoid', [1, 2] as unknown as { x: number[] }), 'bad_type', 'inputs must be an object');
    expectError(() => dl.sigmoid(['a'] as unknown as number[]), 'bad_type', "input 'x'", 'element [0] is a string');
    expectError(() => dl.sigmoid('1' as unknown as number), 'bad_type', "input 'x'");
    expectError(() => dl.sigmoid(new BigInt64Array(2) as unknown as number[]), 'bad_type');
    expectError(() => dl.sigmoid([]), 'bad_shape', "input 'x'", 'is empty');
    expectError(() => dl.sigmoid([[1, 2], [3]]), 'bad_shape', 'ragged');
    expectError(
      () => dl.sigmoid({ shape: [2, 3], data: [1, 2, 3] }),
      'bad_shape',
      'has 3 values but shape [2, 3] needs 6',
    );
    expectError(() => dl.sigmoid({ shape: [-1], data: [] }), 'bad_shape');
  });

  it('wrong rank, absurd sizes', () => {
    const e = expectError(() => dl.softmax(3), 'bad_rank', "input 'x'", 'rank >= 1', 'got rank 0');
    expect(e.arg).toBe('x');
    expectError(() => dl.tensor(null, [1 << 20, 1 << 20]), 'too_large', 'exceeds the limit');
    expectError(() => dl.tensor(null, [1, 1, 1, 1, 1, 1, 1, 1, 1]), 'bad_rank');
  });

  it('params: unknown, NaN, wrong type', () => {
    expectError(() => dl.eval('sigmoid', { x: [1] }, { alpha: 2 } as never), 'unknown_param', "no param 'alpha'");
    expectError(() => dl.eval('softmax', { x: [1] }, 'x' as unknown as never), 'bad_type', 'params must be an object');
    const ops = dl.ops();
    const withParam = ops.find((o) => o.params.length > 0);
    if (withParam) {
      const p = withParam.params[0]!;
      const inputs = Object.fromEntries(withParam.inputs.map((i) => [i.name, [[1, 2]]]));
      expectError(
        () => dl.eval(withParam.id as 'sigmoid', inputs as unknown as { x: number[] }, { [p.name]: NaN } as never),
        'bad_param',
        'NaN',
      );
      expectError(
        () => dl.eval(withParam.id as 'sigmoid', inputs as unknown as { x: number[] }, { [p.name]: 'big' } as never),
        'bad_type',
        `param '${p.name}'`,
      );
    }
  });

  it('upstream and out of the wrong shape; disposed tensors', () => {
    expectError(() => dl.grad('sigmoid', { x: [1, 2, 3] }, {}, [1, 2]), 'bad_shape', 'upstream', '[3]', '[2]');
    using out = dl.tensor(null, [2]);
    expectError(() => dl.eval('sigmoid', { x: [1, 2, 3] }, {}, { out }), 'bad_shape', "output 'out' holds 2 values");
    const t = dl.tensor([1, 2]);
    t.dispose();
    expect(t.disposed).toBe(true);
    expectError(() => dl.sigmoid(t), 'disposed');
    expectError(() => t.data(), 'disposed');
  });
});

describe('robustness', () => {
  it('keeps answering correctly after errors', () => {
    for (let i = 0; i < 50; ++i) {
      expect(() => dl.softmax(1)).toThrow(DlmathError);
      expect(() => dl.eval('nope' as 'sigmoid', { x: [1] })).toThrow(DlmathError);
      expect(() => dl.tensor(null, [2 ** 40])).toThrow(DlmathError);
    }
    expectClose(dl.sigmoid([0, 1]).data, [0.5, sigmoid(1)], 2e-6);
  });

  it('leaves the heap where it was after 100,000 calls', () => {
    const xs = new Float32Array([-1, 0, 1, 2]);
    // Warm up: first calls may allocate lasting runtime structures.
    for (let i = 0; i < 100; ++i) dl.sigmoid(xs);
    const before = dl.heapUsed();
    for (let i = 0; i < 100_000; ++i) {
      switch (i % 5) {
        case 0:
          dl.sigmoid(xs);
          break;
        case 1:
          dl.grad('softmax', { x: xs });
          break;
        case 2:
          try {
            dl.softmax(1);
          } catch {
            /* expected */
          }
          break;
        case 3:
          try {
            dl.eval('bogus' as 'sigmoid', { x: xs });
          } catch {
            /* expected */
          }
          break;
        case 4: {
          const t = dl.tensor(xs);
          dl.softmax(t);
          t.dispose();
          break;
        }
      }
    }
    expect(dl.heapUsed()).toBe(before);
    expectClose(dl.sigmoid([0]).data, [0.5], 2e-6);
  });

  it('a full heap is out_of_memory, and the module recovers', () => {
    const before = dl.heapUsed();
    const held: DlTensor[] = [];
    let err: unknown;
    try {
      // 256 MiB each (the largest tensor) until the 2 GiB heap is full.
      for (let i = 0; i < 16; ++i) held.push(dl.tensor(null, [2 ** 26]));
    } catch (e) {
      err = e;
    }
    try {
      expect(err).toBeInstanceOf(DlmathError);
      expect((err as DlmathError).code).toBe('out_of_memory');
      expect(held.length).toBeGreaterThan(2);
      expect(held[0]!.size).toBe(2 ** 26);
      // An op needs room for its result: refused the same way.
      expectError(() => dl.eval('relu', { x: held[0]! }), 'out_of_memory', "op 'relu'");
      // A General op also needs room for its kernel's own scratch.
      expectError(() => dl.eval('mse', { input: held[0]!, target: held[1]! }), 'out_of_memory', "op 'mse'");
      expectClose(dl.sigmoid([0]).data, [0.5], 2e-6);
    } finally {
      for (const t of held) t.dispose();
    }
    expect(dl.heapUsed()).toBe(before);
    // Memory given back and handed out again is zeroed for dl.tensor(null).
    dl.tensor(new Float32Array(1000).fill(7)).dispose();
    using z = dl.tensor(null, [1000]);
    expect(z.data().every((v) => v === 0)).toBe(true);
    expectError(() => dl.tensor(null, [2 ** 26 + 1]), 'too_large', 'exceeds the limit of 67108864');
  });

  it('set() and every input path check JS types the same way', () => {
    using t = dl.tensor([1, 2, 3]);
    for (const bad of [null, undefined, 5n, 'abc', {}, [1, 'x', 3], new BigInt64Array(3)])
      expect(() => t.set(bad as never), String(bad)).toThrow(DlmathError);
    expectError(() => t.set([1, 2]), 'bad_shape', 'has 2 values but shape [3] needs 3');
    t.set(new Float64Array([4, 5, 6]));
    expect(Array.from(t.data())).toEqual([4, 5, 6]);
    t.set([[7, 8, 9]]);
    expect(Array.from(t.data())).toEqual([7, 8, 9]);
    // Nesting deeper than any rank is refused by rank, not by the JS stack.
    let deep: unknown = [1];
    for (let i = 0; i < 100_000; ++i) deep = [deep];
    expectError(() => dl.sigmoid(deep as number[]), 'bad_rank', "input 'x'");
    expectError(() => dl.tensor(deep as number[]), 'bad_rank');
    expectError(() => t.set(deep as number[]), 'bad_rank');
    // A shape array whose every entry is the same huge row is refused by size, unread.
    const row = new Array<number>(100_000).fill(0);
    expectError(() => dl.sigmoid(new Array(100_000).fill(row)), 'too_large');
  });

  it('params are checked as the float32 values the kernels see', () => {
    expectError(() => dl.eval('elu', { x: [-1, 1] }, { alpha: 3.5e38 }), 'bad_param', 'float32');
    expectError(() => dl.eval('elu', { x: [-1, 1] }, { alpha: 1e300 }), 'bad_param', 'float32');
    expect(Number.isFinite(dl.eval('elu', { x: [-1, 1] }, { alpha: 3e38 }).data[0])).toBe(true);
  });

  it('DlTensor is disposable with `using`', () => {
    const before = dl.heapUsed();
    {
      using t = dl.tensor(new Float32Array(1000));
      expect(t).toBeInstanceOf(DlTensor);
      expect(dl.heapUsed()).toBeGreaterThan(before);
    }
    expect(dl.heapUsed()).toBe(before);
  });
});
