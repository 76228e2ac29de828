// Lesson: the chain rule on one neuron y = σ(w·x + b) with its loss. Every
// factor of every partial derivative is an engine number (dot, sigmoid, mse /
// bce and their gradients), the product is checked against the engine's own
// backward pass, and SGD on (w1, w2) shows the zig-zag that all-positive
// inputs force, next to the same problem with zero-centred inputs.
import type { Dlmath, OpId, Params } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import { Figure } from '../ui/plots/figure.js';
import { renderMath } from '../ui/math.js';
import { LinePlot } from '../ui/plots/line.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { button, controlGroup, readout, select, slider } from '../ui/widgets.js';
import { descend, prefix, type Descent } from './surfaces.js';
import { frameRenderer, guard } from './common.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import './views.css';
import './chain-rule.css';

const LOSSES = ['bce', 'mse'] as const;
type Loss = (typeof LOSSES)[number];

/** The zig-zag data: inputs in (0, 1], like the outputs of a sigmoid layer. */
const XS: [number, number][] = [
  [0.9, 0.2],
  [0.3, 0.8],
  [0.6, 0.55],
  [0.2, 0.4],
  [0.8, 0.7],
  [0.5, 0.1],
  [0.35, 0.9],
  [0.7, 0.35],
];
/** The teacher's weights: opposite signs. */
const W_STAR: [number, number] = [3, -3];
const RANGE: [number, number] = [-5, 5];
const START: [number, number] = [-3, 3];
const FIELD_N = 61;

const L = {
  en: {
    neuron: 'One neuron',
    loss: 'loss',
    losses: { bce: 'binary cross-entropy', mse: 'squared error' } as Record<Loss, string>,
    target: 'target y*',
    forward: 'Forward pass',
    backward: 'Backward pass: each partial derivative as a product of local derivatives',
    check: (d: string) =>
      `Engine backward pass (sigmoid and dot gradients fed the upstream gradient): agrees with the products to ${d}.`,
    fused: (v: string) => `Independent check: bce_with_logits’ gradient with respect to z gives ∂L/∂z = ${v}.`,
    zig: 'Zig-zag: SGD on (w₁, w₂), one sample per step',
    lr: 'learning rate',
    steps: 'steps',
    reset: 'Reset start point',
    pos: 'All inputs positive',
    centred: 'Zero-centred inputs',
    lossCurve: 'Excess loss L(w) − L(w*) over the 8 samples, per step',
    step: 'step',
    zigNote:
      'Background: the mean loss over the 8 samples (engine, one batched call). The teacher’s weights w* = (3, −3) have opposite signs. With positive inputs every step moves w₁ and w₂ the same way (both up or both down), so the path zig-zags; centring the inputs (rescaled to the same mean square) frees the direction. Each step is the engine’s sgd, run closed-loop on the gradient of one sample (cycling through the 8). Drag the start point.',
    same: (k: number, n: number) => `${k} of ${n} steps moved w₁ and w₂ in the same direction`,
    lossNote:
      'Log scale. Soft targets leave a floor above zero, so the loss is measured from the teacher’s; compare how fast the two runs approach it.',
    start: 'start',
  },
  zh: {
    neuron: '单个神经元',
    loss: '损失函数',
    losses: { bce: '二元交叉熵', mse: '平方误差' } as Record<Loss, string>,
    target: '目标 y*',
    forward: '前向计算',
    backward: '反向传播:每个偏导数都写成局部导数的乘积',
    check: (d: string) => `引擎的反向传播(把上游梯度依次传给 sigmoid 与 dot 的梯度):与上面的乘积相差 ${d}。`,
    fused: (v: string) => `独立核对:bce_with_logits 对 z 的梯度给出 ∂L/∂z = ${v}。`,
    zig: '之字形:对 (w₁, w₂) 做 SGD,每步一个样本',
    lr: '学习率',
    steps: '步数',
    reset: '重置起点',
    pos: '输入全为正',
    centred: '输入以零为中心',
    lossCurve: '8 个样本上的超额损失 L(w) − L(w*)(每步)',
    step: '步',
    zigNote:
      '背景:8 个样本上的平均损失(引擎一次批量计算)。教师权重 w* = (3, −3) 符号相反。输入全为正时,每一步 w₁ 与 w₂ 都同增或同减,路径只能走之字形;把输入中心化(并缩放到相同的均方值)后,更新方向不再受限。每一步都是引擎的 sgd,以闭环方式运行,梯度来自单个样本(8 个样本轮流使用)。可拖动起点。',
    same: (k: number, n: number) => `${n} 步中有 ${k} 步 w₁ 与 w₂ 同向移动`,
    lossNote: '对数坐标。软目标使损失的下限高于零,因此从教师权重处的损失算起;请比较两次运行逼近它的快慢。',
    start: '起点',
  },
};

/** Short number text for formulas: 5 significant digits, exponents as ×10ⁿ. */
function tex(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '\\infty' : v < 0 ? '-\\infty' : '\\text{NaN}';
  const s = String(Number(v.toPrecision(5)));
  const m = /^(-?[\d.]+)e([+-]\d+)$/.exec(s);
  return m ? `${m[1]}\\times 10^{${Number(m[2])}}` : s;
}

interface Pass {
  z: number;
  y: number;
  loss: number;
  dLdy: number;
  dydz: number;
  /** ∂z/∂(w1, w2, b) from dot's gradient (= x1, x2, 1). */
  dzdw: Float32Array;
  /** The engine's backward pass: sigmoid's VJP of ∂L/∂y, then dot's VJP of that. */
  dLdz: number;
  dLdw: Float32Array;
  calls: Shown[];
}

type Call = { id: string; inputs: Record<string, { shape: number[]; data: Float32Array }>; params: Params };
const flat = (c: Call) => {
  const inputs: Shown['inputs'] = {};
  for (const [k, v] of Object.entries(c.inputs)) inputs[k] = { shape: v.shape, data: Array.from(v.data) };
  return inputs;
};

/**
 * One neuron's forward and backward pass through the engine.
 * @param record - keep the calls for shown()
 */
function neuron(dl: Dlmath, w: number[], x: number[], target: number, loss: Loss, record: boolean): Pass {
  const calls: Shown[] = [];
  const ev = (label: string, c: Call): Float32Array => {
    const r = dl.eval(c.id as OpId, c.inputs as never, c.params as never).data;
    if (record)
      calls.push({ label, id: c.id, inputs: flat(c), params: c.params, what: 'value', values: Array.from(r) });
    return r;
  };
  const gr = (label: string, c: Call, name: string, up?: number): Float32Array => {
    const upstream = up === undefined ? undefined : { shape: [1], data: Float32Array.of(up) };
    const r = (
      dl.grad(c.id as OpId, c.inputs as never, c.params as never, upstream) as Record<string, { data: Float32Array }>
    )[name]!.data;
    if (record)
      calls.push({
        label,
        id: c.id,
        inputs: flat(c),
        params: c.params,
        what: `grad:${name}`,
        ...(upstream ? { upstream: { shape: [1], data: Array.from(upstream.data) } } : {}),
        values: Array.from(r),
      });
    return r;
  };
  const n = w.length;
  const dot: Call = {
    id: 'dot',
    inputs: { x1: { shape: [1, n], data: Float32Array.from(w) }, x2: { shape: [1, n], data: Float32Array.from(x) } },
    params: {},
  };
  const z = ev('z = w·x + b', dot)[0]!;
  const sig: Call = { id: 'sigmoid', inputs: { x: { shape: [1], data: Float32Array.of(z) } }, params: {} };
  const y = ev('y = σ(z)', sig)[0]!;
  const lossCall: Call = {
    id: loss,
    inputs: { input: { shape: [1], data: Float32Array.of(y) }, target: { shape: [1], data: Float32Array.of(target) } },
    params: {},
  };
  // A training step (record = false) needs only the backward chain, not the displayed factors.
  const lv = record ? ev('L', lossCall)[0]! : NaN;
  const dLdy = gr('∂L/∂y', lossCall, 'input')[0]!;
  const dydz = record ? gr('∂y/∂z', sig, 'x')[0]! : NaN;
  const dzdw = record ? gr('∂z/∂w', dot, 'x1', 1) : new Float32Array(0);
  const dLdz = gr('∂L/∂z (backward)', sig, 'x', dLdy)[0]!;
  const dLdw = gr('∂L/∂w (backward)', dot, 'x1', dLdz);
  return { z, y, loss: lv, dLdy, dydz, dzdw, dLdz, dLdw, calls };
}

/** Builds the chain-rule lesson. */
export function createLesson(host: HTMLElement, ctx: ViewContext): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  const v = {
    w1: store.num('w1', 0.8, -5, 5),
    w2: store.num('w2', -0.5, -5, 5),
    b: store.num('b', 0.1, -5, 5),
    x1: store.num('x1', 1.5, -5, 5),
    x2: store.num('x2', 0.5, -5, 5),
    t: store.num('t', 1, 0, 1),
  };
  const DEF = { w1: 0.8, w2: -0.5, b: 0.1, x1: 1.5, x2: 0.5, t: 1 };
  let loss = store.choice('loss', LOSSES, 'bce');
  let lr = store.num('lr', 3, 0.001, 20);
  let steps = store.int('steps', 150, 1, 300);

  const redraw = frameRenderer(ctx, () => render());
  const rerender = redraw.request;

  // ---- part 1: the neuron ------------------------------------------------------
  const nc = controlGroup(host, t.neuron);
  const sliderOf = (key: keyof typeof v, label: string, min: number, max: number) =>
    slider(nc, { id: `view-${key}`, label, min, max, step: 0.01, value: v[key] }, (x) => {
      v[key] = Math.min(max, Math.max(min, x));
      store.set(key, v[key], DEF[key]);
      rerender();
    });
  sliderOf('w1', 'w₁', -5, 5);
  sliderOf('w2', 'w₂', -5, 5);
  sliderOf('b', 'b', -5, 5);
  sliderOf('x1', 'x₁', -5, 5);
  sliderOf('x2', 'x₂', -5, 5);
  sliderOf('t', t.target, 0, 1);
  select(
    nc,
    { id: 'view-loss', label: t.loss, options: LOSSES.map((l) => ({ value: l, label: t.losses[l] })), value: loss },
    (x) => {
      loss = x;
      store.set('loss', x, 'bce');
      fieldKey = '';
      rerender();
    },
  );

  const steps1 = h('section', { class: 'panel chain-steps', 'data-testid': 'chain-steps' });
  host.append(steps1);
  const fwdHead = h('h3', { text: t.forward });
  const fwd = [h('div', { class: 'math' }), h('div', { class: 'math' }), h('div', { class: 'math' })];
  const bwdHead = h('h3', { text: t.backward });
  const local = h('div', { class: 'math' });
  const prods = [h('div', { class: 'math' }), h('div', { class: 'math' }), h('div', { class: 'math' })];
  const checkLine = h('p', { class: 'muted chain-check', 'data-testid': 'chain-check' });
  const fusedLine = h('p', { class: 'muted chain-check' });
  steps1.append(fwdHead, ...fwd, bwdHead, local, ...prods, checkLine, fusedLine);

  const math = (el: HTMLElement, src: string) => renderMath(el, src, (err) => ctx.report('katex', err));

  // ---- part 2: the zig-zag ---------------------------------------------------------
  const zc = controlGroup(host, t.zig);
  slider(zc, { id: 'view-lr', label: t.lr, min: 0.05, max: 10, step: 0.05, value: lr }, (x) => {
    lr = Math.min(20, Math.max(0.001, x));
    store.set('lr', lr, 3);
    rerender();
  });
  slider(zc, { id: 'view-steps', label: t.steps, min: 1, max: 300, step: 1, value: steps }, (x) => {
    steps = Math.min(300, Math.max(1, Math.round(x)));
    store.set('steps', steps, 150);
    rerender();
  });
  button(zc, { testid: 'view-reset-start', text: t.reset }, () => {
    store.set('start', undefined);
    rerender();
  });
  const zigOut = readout(zc, 'zigzag-readout');
  zc.append(h('p', { class: 'muted hint chain-hint', text: t.zigNote }));

  const figures = h('div', { class: 'figures' });
  host.append(figures);
  const figPos = new Figure(figures, t.pos, ctx.lang, 'figure-zig-positive');
  const figCen = new Figure(figures, t.centred, ctx.lang, 'figure-zig-centred');
  const figLoss = new Figure(figures, t.lossCurve, ctx.lang, 'figure-zig-loss');
  figLoss.setNote(t.lossNote);
  let drawn: { pos: Path[]; cen: Path[] } = { pos: [], cen: [] };
  const moveStart = (_i: number, x: number, y: number) => {
    const p: [number, number] = [Number(x.toFixed(2)), Number(y.toFixed(2))];
    store.set('start', p, START);
    // Move the handles now (the paths follow on the next frame), so key presses within one frame add up.
    const handle = [{ x: p[0], y: p[1], color: 0, label: t.start }];
    planePos.update(drawn.pos, handle);
    planeCen.update(drawn.cen, handle);
    rerender();
  };
  const planeOpts = {
    x: RANGE,
    y: RANGE,
    xLabel: 'w₁',
    yLabel: 'w₂',
    equalAspect: true,
    onDrag: moveStart,
    onClick: (x: number, y: number) => moveStart(0, x, y),
  };
  const planePos = new PlanePlot(figPos.body, planeOpts);
  const planeCen = new PlanePlot(figCen.body, planeOpts);
  figPos.attach(planePos);
  figCen.attach(planeCen);
  const lossPlot = new LinePlot(figLoss.body, {
    series: [
      { label: t.pos, color: 0 },
      { label: t.centred, color: 1, dash: [6, 4] },
    ],
    xLabel: t.step,
    logY: true,
  });
  figLoss.attach(lossPlot);

  // The two data sets and the teacher's targets (the targets from the engine's sigmoid).
  const mean = [0, 1].map((j) => XS.reduce((s, x) => s + x[j]!, 0) / XS.length);
  // Centred, then rescaled to the same mean square as the positive inputs (so only the signs differ in kind).
  const ms = (xs: number[][]) => xs.reduce((a, x) => a + x[0]! ** 2 + x[1]! ** 2, 0) / xs.length;
  const shifted = XS.map((x) => [x[0] - mean[0]!, x[1] - mean[1]!]);
  const scale = Math.sqrt(ms(XS) / ms(shifted));
  const centred: [number, number][] = shifted.map((x) => [x[0]! * scale, x[1]! * scale]);
  const targetsOf = (xs: [number, number][]) => {
    const z = Float32Array.from(xs, (x) => W_STAR[0] * x[0] + W_STAR[1] * x[1]);
    return dl.eval('sigmoid', { x: { shape: [z.length], data: z } }).data;
  };

  // Mean loss over the samples at every grid point: three batched calls (dot, sigmoid, loss with reduction none).
  let fieldKey = '';
  // (Not recorded for the tests: the calls are tens of thousands of rows; the paths and the neuron are.)
  function field(xs: [number, number][], targets: Float32Array): Float64Array {
    const g = FIELD_N;
    const n = xs.length;
    const rows = g * g * n;
    const w = new Float32Array(rows * 2);
    const x = new Float32Array(rows * 2);
    const tg = new Float32Array(rows);
    for (let r = 0; r < g; ++r)
      for (let c = 0; c < g; ++c)
        for (let s = 0; s < n; ++s) {
          const i = (r * g + c) * n + s;
          w[2 * i] = RANGE[0] + ((RANGE[1] - RANGE[0]) * c) / (g - 1);
          w[2 * i + 1] = RANGE[0] + ((RANGE[1] - RANGE[0]) * r) / (g - 1);
          x[2 * i] = xs[s]![0];
          x[2 * i + 1] = xs[s]![1];
          tg[i] = targets[s]!;
        }
    const z = dl.eval('dot', { x1: { shape: [rows, 2], data: w }, x2: { shape: [rows, 2], data: x } }).data;
    const y = dl.eval('sigmoid', { x: { shape: [rows], data: z } }).data;
    const lossInputs = { input: { shape: [rows], data: y }, target: { shape: [rows], data: tg } };
    const l = dl.eval(loss, lossInputs, { reduction: 'none' }).data;
    const values = new Float64Array(g * g);
    for (let p = 0; p < g * g; ++p) {
      let s = 0;
      for (let k = 0; k < n; ++k) s += l[p * n + k]!;
      values[p] = s / n;
    }
    return values;
  }

  let drawnZig = '';
  type KeyedDescent = Descent & { key: string };
  let runs: { pos?: KeyedDescent; cen?: KeyedDescent } = {};
  let zigShown: Shown[] = [];
  let last: { pass: Pass; zigShown: Shown[] } | null = null;

  function sampleGrad(xs: [number, number][], targets: Float32Array) {
    // Step k uses sample k mod 8.
    return (w1: number, w2: number, k: number): [number, number] => {
      const s = k % xs.length;
      const p = neuron(dl, [w1, w2], xs[s]!, targets[s]!, loss, false);
      return [p.dLdw[0]!, p.dLdw[1]!];
    };
  }

  function meanLoss(
    xs: [number, number][],
    targets: Float32Array,
    d: { xs: ArrayLike<number>; ys: ArrayLike<number> },
  ): Float64Array {
    // Display: the mean loss along the path, from one batched engine call per path.
    const n = xs.length;
    const m = d.xs.length;
    const w = new Float32Array(m * n * 2);
    const x = new Float32Array(m * n * 2);
    const tg = new Float32Array(m * n);
    for (let i = 0; i < m; ++i)
      for (let s = 0; s < n; ++s) {
        const r = i * n + s;
        w[2 * r] = d.xs[i]!;
        w[2 * r + 1] = d.ys[i]!;
        x[2 * r] = xs[s]![0];
        x[2 * r + 1] = xs[s]![1];
        tg[r] = targets[s]!;
      }
    const z = dl.eval('dot', { x1: { shape: [m * n, 2], data: w }, x2: { shape: [m * n, 2], data: x } }).data;
    const y = dl.eval('sigmoid', { x: { shape: [m * n], data: z } }).data;
    const l = dl.eval(
      loss,
      { input: { shape: [m * n], data: y }, target: { shape: [m * n], data: tg } },
      {
        reduction: 'none',
      },
    ).data;
    const out = new Float64Array(m);
    for (let i = 0; i < m; ++i) {
      let s = 0;
      for (let k = 0; k < n; ++k) s += l[i * n + k]!;
      out[i] = s / n;
    }
    return out;
  }

  function render(): void {
    guard(ctx, 'engine', () => {
      // Part 1.
      const pass = neuron(dl, [v.w1, v.w2, v.b], [v.x1, v.x2, 1], v.t, loss, true);
      const f = (x: number) => tex(x);
      math(
        fwd[0]!,
        `z = w_1x_1 + w_2x_2 + b = (${f(v.w1)})(${f(v.x1)}) + (${f(v.w2)})(${f(v.x2)}) + (${f(v.b)}) = ${f(pass.z)}`,
      );
      math(fwd[1]!, `y = \\sigma(z) = \\frac{1}{1 + e^{-z}} = ${f(pass.y)}`);
      math(
        fwd[2]!,
        loss === 'bce'
          ? `L = -\\bigl[y^*\\log y + (1 - y^*)\\log(1 - y)\\bigr] = ${f(pass.loss)}\\quad (y^* = ${f(v.t)})`
          : `L = (y - y^*)^2 = ${f(pass.loss)}\\quad (y^* = ${f(v.t)})`,
      );
      math(
        local,
        `\\frac{\\partial L}{\\partial y} = ${f(pass.dLdy)},\\quad \\frac{\\partial y}{\\partial z} = \\sigma(z)\\bigl(1-\\sigma(z)\\bigr) = ${f(pass.dydz)},\\quad \\frac{\\partial z}{\\partial w_1} = x_1 = ${f(pass.dzdw[0]!)},\\ \\frac{\\partial z}{\\partial w_2} = x_2 = ${f(pass.dzdw[1]!)},\\ \\frac{\\partial z}{\\partial b} = ${f(pass.dzdw[2]!)}`,
      );
      const names = ['w_1', 'w_2', 'b'];
      let worst = 0;
      names.forEach((name, i) => {
        const prod = pass.dLdy * pass.dydz * pass.dzdw[i]!;
        worst = Math.max(worst, Math.abs(prod - pass.dLdw[i]!) / Math.max(1e-30, Math.abs(pass.dLdw[i]!)));
        math(
          prods[i]!,
          `\\frac{\\partial L}{\\partial ${name}} = \\underbrace{${f(pass.dLdy)}}_{\\partial L/\\partial y} \\times \\underbrace{${f(pass.dydz)}}_{\\partial y/\\partial z} \\times \\underbrace{${f(pass.dzdw[i]!)}}_{\\partial z/\\partial ${name}} = ${f(prod)}`,
        );
      });
      checkLine.textContent = t.check(
        worst === 0
          ? '0'
          : `${worst.toExponential(1)} (${ctx.lang === 'zh' ? '相对误差,float32 舍入' : 'relative, float32 rounding'})`,
      );
      const calls = [...pass.calls];
      if (loss === 'bce') {
        const fusedInputs = {
          input: { shape: [1], data: Float32Array.of(pass.z) },
          target: { shape: [1], data: Float32Array.of(v.t) },
        };
        const g = dl.grad('bce_with_logits', fusedInputs).input.data[0]!;
        fusedLine.textContent = t.fused(`${formatF32(g)} (${formatF32(pass.dLdz)})`);
        fusedLine.hidden = false;
        calls.push({
          label: '∂L/∂z from bce_with_logits',
          id: 'bce_with_logits',
          inputs: { input: { shape: [1], data: [pass.z] }, target: { shape: [1], data: [Math.fround(v.t)] } },
          params: {},
          what: 'grad:input',
          values: [g],
        });
      } else fusedLine.hidden = true;
      pass.calls = calls;

      // Part 2.
      const tPos = targetsOf(XS);
      const tCen = targetsOf(centred);
      if (fieldKey !== loss) {
        fieldKey = loss;
        planePos.setField({ nx: FIELD_N, ny: FIELD_N, values: field(XS, tPos), log: true });
        planeCen.setField({ nx: FIELD_N, ny: FIELD_N, values: field(centred, tCen), log: true });
      }
      const start = store.list('start', START, { min: RANGE[0], max: RANGE[1], minLen: 2, maxLen: 2 }) as [
        number,
        number,
      ];
      const hyper: Params = { lr, weight_decay: 0 };
      // The zig-zag depends only on the loss, lr, steps and start: redrawn only when one of them changes.
      const zigKey = `${loss}|${lr}|${steps}|${start.join(',')}`;
      if (zigKey !== drawnZig) {
        drawnZig = zigKey;
        zigShown = drawZig(start, hyper, tPos, tCen);
      }
      last = { pass, zigShown };
    });
  }

  function drawZig(start: [number, number], hyper: Params, tPos: Float32Array, tCen: Float32Array): Shown[] {
    // Cached by problem; more steps continue the cached run, fewer take its prefix.
    const key = `${loss}|${lr}|${start.join(',')}`;
    const extend = (d: KeyedDescent | undefined, xs: [number, number][], targets: Float32Array): KeyedDescent => {
      if (d && d.key === key && (d.steps >= steps || d.stop)) return d;
      const resume = d && d.key === key ? d : undefined;
      return { ...descend(dl, 'sgd', start, sampleGrad(xs, targets), hyper, steps, 1e3, resume), key };
    };
    const pos = extend(runs.pos, XS, tPos);
    const cen = extend(runs.cen, centred, tCen);
    runs = { pos, cen };
    const dPos = prefix(pos, steps);
    const dCen = prefix(cen, steps);
    const sameSign = (d: Descent) => {
      let k = 0;
      for (let i = 0; i < d.steps; ++i) {
        const a = d.xs[i + 1]! - d.xs[i]!;
        const b = d.ys[i + 1]! - d.ys[i]!;
        if (a * b > 0) ++k;
      }
      return k;
    };
    const paths = (d: Descent, color: number) => [
      { label: 'sgd', xs: d.xs, ys: d.ys, color, width: 2 },
      { label: 'w*', xs: [W_STAR[0]], ys: [W_STAR[1]], color: 7, kind: 'points' as const },
    ];
    const handle = [{ x: start[0], y: start[1], color: 0, label: t.start }];
    drawn = { pos: paths(dPos, 0), cen: paths(dCen, 1) };
    planePos.update(drawn.pos, handle);
    planeCen.update(drawn.cen, handle);
    figPos.setNote(t.same(sameSign(dPos), dPos.steps));
    figCen.setNote(t.same(sameSign(dCen), dCen.steps));
    // Excess over the teacher's loss (soft targets leave a floor above 0).
    const floorPos = meanLoss(XS, tPos, { xs: [W_STAR[0]], ys: [W_STAR[1]] })[0]!;
    const floorCen = meanLoss(centred, tCen, { xs: [W_STAR[0]], ys: [W_STAR[1]] })[0]!;
    const lp = meanLoss(XS, tPos, dPos).map((x) => x - floorPos);
    const lc = meanLoss(centred, tCen, dCen).map((x) => x - floorCen);
    const len = Math.max(lp.length, lc.length);
    const pad = (a: Float64Array) => Float64Array.from({ length: len }, (_, i) => (i < a.length ? a[i]! : NaN));
    lossPlot.update(
      Float64Array.from({ length: len }, (_, i) => i),
      [pad(lp), pad(lc)],
    );
    zigOut.textContent = `${t.pos}: w = (${formatF32(Math.fround(dPos.xs[dPos.steps]!))}, ${formatF32(Math.fround(dPos.ys[dPos.steps]!))})   ${t.centred}: w = (${formatF32(Math.fround(dCen.xs[dCen.steps]!))}, ${formatF32(Math.fround(dCen.ys[dCen.steps]!))})`;
    const zigShown: Shown[] = [dPos, dCen].flatMap((d, i) =>
      d.steps === 0
        ? []
        : [
            {
              label: `sgd path, ${i === 0 ? 'positive' : 'zero-centred'} inputs`,
              id: 'sgd',
              inputs: {
                params: { shape: [2], data: Array.from(d.call.params) },
                grads: { shape: [d.steps, 2], data: Array.from(d.call.grads) },
              },
              params: hyper,
              what: 'value',
              values: Array.from(d.call.out),
            },
          ],
    );
    return zigShown;
  }

  return {
    render,
    shown: () => (last ? [...last.pass.calls, ...last.zigShown] : []),
    destroy() {
      redraw.stop();
      planePos.destroy();
      planeCen.destroy();
      lossPlot.destroy();
    },
  };
}
