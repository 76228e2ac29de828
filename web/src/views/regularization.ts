// Regularization: the L1 / L2 penalty over a 2-D weight plane with its
// gradient field and a draggable weight, and why L1 gives sparse solutions
// (the smallest penalty contour that touches a loss ellipse meets it at a
// corner of the diamond); a dropout mask and its 1/(1-p) scaling with the
// mean over many draws; label-smoothed targets against the one-hot ones; and
// spectral normalization's power iteration converging to sigma_max.
import type { OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import { Figure } from '../ui/plots/figure.js';
import { Heatmap } from '../ui/plots/heatmap.js';
import { LinePlot } from '../ui/plots/line.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { controlGroup, formatMatrix, parseMatrix, readout, slider, textField } from '../ui/widgets.js';
import { entryParams, fmtList, fmtNum, guard, intSlider, record, recordInputs, arrowWings } from './common.js';
import { familyView, forIds, forTable } from './dispatch.js';
import { grid } from '../ui/sampler.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import './numerics.css';

const L = {
  en: {
    view: 'View',
    fieldFig: (id: string) => `${id} over the weight plane, its contour through w and −∇R`,
    fieldNote: (l1: boolean) =>
      (l1
        ? 'The L1 contours are diamonds and −∇R has the same length everywhere off the axes: a constant pull toward zero, which is why L1 pushes weights all the way to 0. On an axis the gradient component is 0 (sign(0) = 0).'
        : 'The L2 contours are circles and −∇R grows with the distance from 0: large weights are pulled hard, small ones barely, so L2 shrinks weights but rarely makes them exactly 0.') +
      ' Colour: R(w₁, w₂) = R([w₁]) + R([w₂]) from engine calls on the axis values (R is a sum over coordinates); small arrows: −∇R from one batched gradient call over the grid, scaled to the largest.',
    sparseFig: 'Why L1 is sparse: the smallest penalty contour touching a loss ellipse',
    sparseNote:
      'Constrained form: among weights with loss ≤ level (inside the ellipse; drag its centre c), find the one with the smallest penalty. The L1 diamond usually first touches the ellipse at a corner, on an axis: one weight is exactly 0. The L2 circle touches it at a generic point. R on the ellipse comes from one batched gradient call (R is homogeneous, so R(w) = w·∇R(w) / degree), with λ = 1 since the touching point does not depend on λ; the values printed are direct calls.',
    level: 'Ellipse size (loss level)',
    w: 'weight w',
    c: 'loss centre c',
    contour: 'contour R = R(w)',
    touch: (name: string, x: string, y: string, r: string, zero: string) =>
      `${name}: w* = (${x}, ${y}), R(w*) = ${r}${zero}`,
    zeroAt: (i: number) => `  → w${i === 1 ? '₁' : '₂'} = 0 exactly (sparse)`,
    inside: 'the ellipse contains 0: w* = 0',
    dropFig: 'Output y of one draw on an 8 × 12 input',
    maskFig: 'Mask scaled: ∂y/∂x = m / (1 − p)',
    meanFig: 'Mean over many draws vs the input (each element)',
    meanNote:
      'Each kept element is multiplied by 1/(1 − p), so the average over draws comes back to the input: the expected output equals the input, and evaluation (training off) can be the identity. The draws are the rows of one [D, 96] engine call: the mask hashes (seed, element index), so every row gets its own mask.',
    draws: 'Draws D',
    input: 'input x',
    mean: 'mean of y over D draws',
    oneDraw: 'one draw',
    element: 'element',
    dropOut: (kept: string, mx: string, my: string, d: number) =>
      `kept ${kept} of the elements in the ${d} draws; mean of x ${mx}, mean of y over all draws ${my}`,
    lsFig: 'Target for the first index: one-hot vs smoothed',
    lsHeat: 'Smoothed targets of every index (rows)',
    lsLoss: 'Cross-entropy of logits [m, 0, …, 0] against each target',
    lsLossNote:
      'With the one-hot target the loss keeps falling as the true logit m grows, so training pushes logits without bound. With the smoothed target the loss has a minimum at a finite margin, m = ln((1 − ε + ε/K) · K/ε): the other classes must keep some probability. Both curves are cross_entropy (reduction none) with the targets above as soft labels.',
    margin: 'margin m of the true logit',
    lsMin: (m: string, l: string) => `smoothed target: smallest loss ${l} at m ≈ ${m} on this grid`,
    lsNoMin: 'no interior minimum on this grid (ε = 0 or the minimum lies beyond m = 15)',
    lsTooMany: (n: number) => `the loss plot is drawn for 2 to ${n} classes`,
    lsNote:
      'ε is spread evenly over all K classes, the true one included: the true class keeps 1 − ε + ε/K and every other class gets ε/K, so the row still sums to 1.',
    targets: 'Target class indices (comma-separated)',
    onehot: 'one-hot (ε = 0)',
    smoothed: 'smoothed',
    klass: 'class',
    lsOut: (tt: string, o: string) => `true class ${tt}, every other class ${o}`,
    matrix: 'Weight matrix W (rows separated by ;)',
    maxIter: 'Iterations plotted',
    snFig: 'σ estimate after k power iterations',
    snErr: 'log₁₀ |σ_k − σ_ref| (an exact match leaves a gap)',
    snNote:
      'σ_ref is the engine’s own result after 1000 iterations, used as the converged value. The error shrinks roughly like (σ₂/σ₁)^(2k): slowly when the two largest singular values are close. It stops near 10⁻⁷ · σ: float32 rounding.',
    snHeat: 'W / σ at the entry’s n_power_iterations',
    sigmaK: 'σ_k',
    sigmaRef: 'σ_ref (1000 iterations)',
    iter: 'iterations k',
    snOut: (k: number, s: string, r: string) => `σ after ${k} iterations = ${s};  σ_ref (1000 iterations) = ${r}`,
    badMatrix: (s: string) => `Not a matrix: '${s}'`,
    badTargets: (s: string) => `Not class indices: '${s}'`,
    outOfRange: (k: number) => `Target indices ≥ num_classes = ${k} are left out`,
  },
  zh: {
    view: '视图',
    fieldFig: (id: string) => `权重平面上的 ${id}、经过 w 的等高线与 −∇R`,
    fieldNote: (l1: boolean) =>
      (l1
        ? 'L1 的等高线是菱形,离开坐标轴后 −∇R 处处长度相同:它对权重施加大小恒定、指向零的拉力,所以 L1 会把权重一直推到 0。在坐标轴上对应的梯度分量为 0(sign(0) = 0)。'
        : 'L2 的等高线是圆,−∇R 随到原点的距离增大:大权重被用力拉回,小权重几乎不受影响,因此 L2 会缩小权重,却很少让它们恰好为 0。') +
      '颜色:R(w₁, w₂) = R([w₁]) + R([w₂]),由引擎对坐标轴上的取值逐一计算(R 是各坐标之和);小箭头:对整个网格一次批量求梯度得到的 −∇R,按最长者缩放。',
    sparseFig: 'L1 为什么稀疏:与损失椭圆相切的最小惩罚等高线',
    sparseNote:
      '约束形式:在损失不超过某个水平的权重(椭圆内部,可拖动中心 c)中,找惩罚最小的一个。L1 的菱形通常先在角点、也就是坐标轴上碰到椭圆:某个权重恰好为 0。L2 的圆则在一般位置与椭圆相切。椭圆上的 R 来自一次批量梯度调用(R 是齐次函数,R(w) = w·∇R(w) / 次数),取 λ = 1,因为切点与 λ 无关;打印出的数值来自直接调用。',
    level: '椭圆大小(损失水平)',
    w: '权重 w',
    c: '损失中心 c',
    contour: '等高线 R = R(w)',
    touch: (name: string, x: string, y: string, r: string, zero: string) =>
      `${name}:w* = (${x}, ${y}),R(w*) = ${r}${zero}`,
    zeroAt: (i: number) => `  → w${i === 1 ? '₁' : '₂'} 恰好为 0(稀疏)`,
    inside: '椭圆包含原点:w* = 0',
    dropFig: '8 × 12 输入上一次抽样的输出 y',
    maskFig: '缩放后的掩码:∂y/∂x = m / (1 − p)',
    meanFig: '多次抽样的平均值与输入(逐元素)',
    meanNote:
      '每个保留下来的元素乘以 1/(1 − p),所以多次抽样的平均值回到输入本身:输出的期望等于输入,评估时(关闭 training)就可以用恒等映射。这些抽样是一次 [D, 96] 引擎调用的各行:掩码由 (seed, 元素下标) 的哈希生成,所以每一行都有自己的掩码。',
    draws: '抽样次数 D',
    input: '输入 x',
    mean: 'D 次抽样中 y 的平均',
    oneDraw: '一次抽样',
    element: '元素',
    dropOut: (kept: string, mx: string, my: string, d: number) =>
      `${d} 次抽样中保留了 ${kept} 的元素;x 的均值 ${mx},所有抽样中 y 的均值 ${my}`,
    lsFig: '第一个下标的目标:one-hot 与平滑后',
    lsHeat: '每个下标平滑后的目标(按行)',
    lsLoss: 'logits [m, 0, …, 0] 对两种目标的交叉熵',
    lsLossNote:
      '用 one-hot 目标时,真实类别的 logit m 越大损失越小,训练会把 logits 无限推大。用平滑后的目标时,损失在有限的间隔 m = ln((1 − ε + ε/K) · K/ε) 处取最小值:其他类别必须保留一些概率。两条曲线都是 cross_entropy(reduction 为 none),以上面的目标作为软标签。',
    margin: '真实类别 logit 的间隔 m',
    lsMin: (m: string, l: string) => `平滑目标:在此网格上最小损失 ${l},位于 m ≈ ${m}`,
    lsNoMin: '此网格内没有内部最小值(ε = 0,或最小值在 m = 15 之外)',
    lsTooMany: (n: number) => `损失图只在 2 到 ${n} 个类别时绘制`,
    lsNote: 'ε 平均分给全部 K 个类别(包括真实类别):真实类别得到 1 − ε + ε/K,其余每个类别得到 ε/K,所以每行之和仍为 1。',
    targets: '目标类别下标(逗号分隔)',
    onehot: 'one-hot(ε = 0)',
    smoothed: '平滑后',
    klass: '类别',
    lsOut: (tt: string, o: string) => `真实类别 ${tt},其余每个类别 ${o}`,
    matrix: '权重矩阵 W(行之间用 ; 分隔)',
    maxIter: '绘制的迭代次数',
    snFig: '幂迭代 k 次后 σ 的估计值',
    snErr: 'log₁₀ |σ_k − σ_ref|(完全相等时留空)',
    snNote:
      'σ_ref 是引擎自己迭代 1000 次的结果,作为收敛值。误差大约按 (σ₂/σ₁)^(2k) 缩小:最大的两个奇异值接近时收敛很慢。误差停在约 10⁻⁷ · σ 附近:这是 float32 的舍入误差。',
    snHeat: '按本条目的 n_power_iterations 得到的 W / σ',
    sigmaK: 'σ_k',
    sigmaRef: 'σ_ref(迭代 1000 次)',
    iter: '迭代次数 k',
    snOut: (k: number, s: string, r: string) => `迭代 ${k} 次后 σ = ${s};σ_ref(迭代 1000 次)= ${r}`,
    badMatrix: (s: string) => `不是矩阵:'${s}'`,
    badTargets: (s: string) => `不是类别下标:'${s}'`,
    outOfRange: (k: number) => `大于等于 num_classes = ${k} 的目标下标已略去`,
  },
};
type T = (typeof L)['en'];

/** An arrow from (x0, y0) by (dx, dy) as two paths: the shaft and the head. */
function arrow(label: string, x0: number, y0: number, dx: number, dy: number, color: number, width = 2): Path[] {
  const len = Math.hypot(dx, dy);
  if (!(len > 1e-9) || !Number.isFinite(len)) return [];
  const x = x0 + dx;
  const y = y0 + dy;
  const [[lx, ly], [rx, ry]] = arrowWings(x, y, dx / len, dy / len, Math.min(0.25, len * 0.4), 0.45);
  return [
    { label, xs: [x0, x], ys: [y0, y], color, width },
    { label: '', xs: [lx, x, rx], ys: [ly, y, ry], color, width },
  ];
}

/** The level set {w : ‖w‖₁ = r} (L1) or {w : ‖w‖₂ = r} (L2) as a closed polyline (display geometry). */
function ballPath(label: string, r: number, l1: boolean, color: number, dash?: number[]): Path {
  if (l1) return { label, xs: [r, 0, -r, 0], ys: [0, r, 0, -r], color, closed: true, dash, width: 2 };
  const n = 180;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; ++i) {
    xs.push(r * Math.cos((2 * Math.PI * i) / n));
    ys.push(r * Math.sin((2 * Math.PI * i) / n));
  }
  return { label, xs, ys, color, closed: true, dash, width: 2 };
}

/** The two penalties, each drawn with the other for comparison (its unit ball: diamond or circle). */
const PENALTIES: Record<string, { l1: boolean; other: string }> = {
  l1_penalty: { l1: true, other: 'l2_penalty' },
  l2_penalty: { l1: false, other: 'l1_penalty' },
};

/** Builds the regularization view of one entry (the generic view for an entry not listed here). */
export const createView = familyView([
  forTable(PENALTIES, (host, op, ctx, conf) => penaltyView(host, op, ctx, L[ctx.lang], conf)),
  forIds(['dropout'], (host, op, ctx) => dropoutView(host, op, ctx, L[ctx.lang])),
  forIds(['label_smoothing'], (host, op, ctx) => smoothingView(host, op, ctx, L[ctx.lang])),
  forIds(['spectral_norm'], (host, op, ctx) => spectralView(host, op, ctx, L[ctx.lang])),
]);

// ---------------------------------------------------------------- L1 / L2

const RANGE = 3;
const FIELD_N = 41;
const QUIVER = 13;
const ELLIPSE_N = 720;
/** The loss ellipse's half-axes (at level 1) and tilt. */
const AX = 1.5;
const AY = 0.55;
const TILT = (30 * Math.PI) / 180;
/** A loss centre and level where the L1 diamond touches on an axis and the L2 circle does not. */
const CX0 = -0.5;
const CY0 = 2;
const LEVEL0 = 0.9;

function penaltyView(
  host: HTMLElement,
  op: OpMeta,
  ctx: ViewContext,
  t: T,
  { l1, other }: { l1: boolean; other: string },
): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures nv-figures' });
  host.append(figures);
  let wx = store.num('wx', 1.6, -RANGE, RANGE);
  let wy = store.num('wy', 0.9, -RANGE, RANGE);
  let cx = store.num('cx', CX0, -RANGE, RANGE);
  let cy = store.num('cy', CY0, -RANGE, RANGE);
  let level = store.num('level', LEVEL0, 0.05, 3);
  const rerender = () => {
    ctx.changed();
    render();
  };
  slider(controls, { id: 'view-level', label: t.level, min: 0.05, max: 3, step: 0.01, value: level }, (v) => {
    if (!(v >= 0.05 && v <= 3)) return;
    level = v;
    store.set('level', v, LEVEL0);
    rerender();
  });
  const round = (v: number) => Number(Math.max(-RANGE, Math.min(RANGE, v)).toFixed(3));

  const figF = new Figure(figures, t.fieldFig(op.id), ctx.lang, 'figure-penalty');
  const figS = new Figure(figures, t.sparseFig, ctx.lang, 'figure-sparsity');
  /** A (w₁, w₂) plane over [−RANGE, RANGE]² in `fig`: `move` gets each dragged (and, with `click`, clicked) point, rounded. */
  const wPlane = (fig: Figure, note: string, click: boolean, move: (x: number, y: number) => void) => {
    const onMove = (x: number, y: number) => {
      move(round(x), round(y));
      rerender();
    };
    const plane = new PlanePlot(fig.body, {
      x: [-RANGE, RANGE],
      y: [-RANGE, RANGE],
      xLabel: 'w₁',
      yLabel: 'w₂',
      equalAspect: true,
      onDrag: (_i, x, y) => onMove(x, y),
      ...(click ? { onClick: onMove } : {}),
    });
    fig.attach(plane);
    fig.setNote(note);
    return plane;
  };
  const planeF = wPlane(figF, t.fieldNote(l1), true, (x, y) => {
    wx = x;
    wy = y;
    store.set('wx', wx, 1.6);
    store.set('wy', wy, 0.9);
  });
  const fieldOut = readout(figF.root, 'penalty-readout');
  const planeS = wPlane(figS, t.sparseNote, false, (x, y) => {
    cx = x;
    cy = y;
    store.set('cx', cx, CX0);
    store.set('cy', cy, CY0);
  });
  const sparseOut = readout(figS.root, 'sparsity-readout');

  const axis = grid(-RANGE, RANGE, FIELD_N);
  let fieldKey = '';
  let quiver: Path[] = [];
  let shown: Shown[] = [];

  // The colour field and the gradient arrows depend on lam only: computed when it changes.
  function field(lam: number): void {
    const key = `${lam}`;
    if (key === fieldKey) return;
    const r = new Float32Array(FIELD_N);
    for (let j = 0; j < FIELD_N; ++j)
      r[j] = dl.eval(op.id as 'l1_penalty', { input: { shape: [1], data: axis.subarray(j, j + 1) } }, { lam }).data[0]!;
    const values = new Float32Array(FIELD_N * FIELD_N);
    for (let i = 0; i < FIELD_N; ++i) for (let j = 0; j < FIELD_N; ++j) values[i * FIELD_N + j] = r[i]! + r[j]!;
    planeF.setField({ nx: FIELD_N, ny: FIELD_N, values, map: 'sequential' });
    const qs = grid(-RANGE * 0.9, RANGE * 0.9, QUIVER);
    const W = new Float32Array(QUIVER * QUIVER * 2);
    for (let i = 0; i < QUIVER; ++i)
      for (let j = 0; j < QUIVER; ++j) {
        W[(i * QUIVER + j) * 2] = qs[j]!;
        W[(i * QUIVER + j) * 2 + 1] = qs[i]!;
      }
    const G = dl.grad(op.id as 'l1_penalty', { input: { shape: [QUIVER * QUIVER, 2], data: W } }, { lam }).input.data;
    let gmax = 0;
    for (let k = 0; k < QUIVER * QUIVER; ++k) gmax = Math.max(gmax, Math.hypot(G[2 * k]!, G[2 * k + 1]!));
    const scale = gmax > 0 ? (0.8 * (qs[1]! - qs[0]!)) / gmax : 0;
    quiver = [];
    for (let k = 0; k < QUIVER * QUIVER; ++k)
      quiver.push(...arrow('', W[2 * k]!, W[2 * k + 1]!, -G[2 * k]! * scale, -G[2 * k + 1]! * scale, 7, 1.2));
    fieldKey = key;
  }

  // The loss ellipse at the current level, with its exact crossings of the axes added.
  function ellipse(): { xs: Float32Array; inside: boolean } {
    const m11 = Math.cos(TILT) * AX * level;
    const m12 = -Math.sin(TILT) * AY * level;
    const m21 = Math.sin(TILT) * AX * level;
    const m22 = Math.cos(TILT) * AY * level;
    const pts: number[] = [];
    for (let k = 0; k < ELLIPSE_N; ++k) {
      const a = (2 * Math.PI * k) / ELLIPSE_N;
      pts.push(cx + m11 * Math.cos(a) + m12 * Math.sin(a), cy + m21 * Math.cos(a) + m22 * Math.sin(a));
    }
    // Crossings: c_i + (M u)_i = 0 for u = (cos a, sin a).
    for (const i of [0, 1]) {
      const A = i === 0 ? m11 : m21;
      const B = i === 0 ? m12 : m22;
      const C = -(i === 0 ? cx : cy);
      const R = Math.hypot(A, B);
      if (Math.abs(C) > R) continue;
      for (const sgn of [1, -1]) {
        const a = Math.atan2(B, A) + sgn * Math.acos(C / R);
        const p = [cx + m11 * Math.cos(a) + m12 * Math.sin(a), cy + m21 * Math.cos(a) + m22 * Math.sin(a)];
        p[i] = 0;
        pts.push(p[0]!, p[1]!);
      }
    }
    // Is 0 inside? Solve M u = -c.
    const det = m11 * m22 - m12 * m21;
    const u1 = (-cx * m22 + cy * m12) / det;
    const u2 = (-cy * m11 + cx * m21) / det;
    return { xs: Float32Array.from(pts), inside: u1 * u1 + u2 * u2 <= 1 };
  }

  function render(): void {
    guard(ctx, 'engine', () => {
      const params = entryParams(op, ctx.params);
      const lam = params.lam!;
      field(lam);
      const wIn = { input: { shape: [2], data: Float32Array.of(wx, wy) } };
      const R = dl.eval(op.id as 'l1_penalty', wIn, params).data[0]!;
      const g = dl.grad(op.id as 'l1_penalty', wIn, params).input.data;
      const gl = Math.hypot(g[0]!, g[1]!);
      const paths: Path[] = [...quiver];
      if (lam > 0 && R > 0) paths.push(ballPath(t.contour, l1 ? R / lam : Math.sqrt(R / lam), l1, 0));
      if (gl > 0) paths.push(...arrow('−∇R', wx, wy, (-g[0]! / gl) * 0.9, (-g[1]! / gl) * 0.9, 1, 3));
      planeF.update(paths, [{ x: wx, y: wy, color: 0, label: 'w' }]);
      fieldOut.textContent = [
        `w = (${formatF32(wIn.input.data[0]!)}, ${formatF32(wIn.input.data[1]!)}),  λ = ${formatF32(Math.fround(lam))}`,
        `R(w) = ${fmtNum(R)}`,
        `∇R(w) = ${fmtList(g)}`,
      ].join('\n');
      shown = [
        record('R(w)', op.id, wIn, params, 'value', [R]),
        record('grad R(w)', op.id, wIn, params, 'grad:input', g),
      ];

      // Sparsity: the smallest R of each penalty on the loss ellipse (lam = 1).
      const e = ellipse();
      const n = e.xs.length / 2;
      const bIn = { input: { shape: [n, 2], data: e.xs } };
      const outline: Path = {
        label: 'loss ellipse',
        xs: Array.from({ length: ELLIPSE_N }, (_, k) => e.xs[2 * k]!),
        ys: Array.from({ length: ELLIPSE_N }, (_, k) => e.xs[2 * k + 1]!),
        color: 3,
        closed: true,
        width: 2,
      };
      const sPaths: Path[] = [outline];
      const lines: string[] = [];
      const handles: { x: number; y: number; color: number; label?: string }[] = [
        { x: cx, y: cy, color: 3, label: 'c' },
      ];
      for (const id of [op.id, other]) {
        const isL1 = PENALTIES[id]!.l1;
        const one = { lam: 1 };
        let star: Float32Array;
        if (e.inside) star = new Float32Array(2);
        else {
          const G = dl.grad(id as 'l1_penalty', bIn, one).input.data;
          let best = 0;
          let bestR = Infinity;
          for (let k = 0; k < n; ++k) {
            const r = (e.xs[2 * k]! * G[2 * k]! + e.xs[2 * k + 1]! * G[2 * k + 1]!) / (isL1 ? 1 : 2);
            if (r < bestR) {
              bestR = r;
              best = k;
            }
          }
          star = e.xs.slice(2 * best, 2 * best + 2);
          if (id === op.id)
            shown.push({
              label: `grad ${id} on the ellipse`,
              id,
              inputs: recordInputs(bIn),
              params: one,
              what: 'grad:input',
              values: Array.from(G.slice(2 * best, 2 * best + 2)),
              pick: [2 * best, 2 * best + 1],
            });
        }
        const sIn = { input: { shape: [2], data: star } };
        const Rs = dl.eval(id as 'l1_penalty', sIn, one).data[0]!;
        shown.push({
          label: `${id} at the touching point`,
          id,
          inputs: recordInputs(sIn),
          params: one,
          what: 'value',
          values: [Rs],
        });
        const color = isL1 ? 0 : 2;
        const dash = id === op.id ? undefined : [6, 4];
        if (Rs > 0) sPaths.push(ballPath(id, isL1 ? Rs : Math.sqrt(Rs), isL1, color, dash));
        sPaths.push({ label: `${id} w*`, xs: [star[0]!], ys: [star[1]!], color, kind: 'points' });
        const zero = e.inside ? '' : star[0] === 0 ? t.zeroAt(1) : star[1] === 0 ? t.zeroAt(2) : '';
        lines.push(t.touch(isL1 ? 'L1' : 'L2', formatF32(star[0]!), formatF32(star[1]!), fmtNum(Rs), zero));
      }
      if (e.inside) lines.unshift(t.inside);
      planeS.update(sPaths, handles);
      sparseOut.textContent = lines.join('\n');
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      planeF.destroy();
      planeS.destroy();
    },
  };
}

// ---------------------------------------------------------------- dropout

const DR = 8;
const DC = 12;

function dropoutView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: T): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures nv-figures' });
  host.append(figures);
  let draws = store.int('draws', 400, 1, 4000);
  intSlider(controls, store, { key: 'draws', label: t.draws, min: 1, max: 4000, def: 400, value: draws }, (v) => {
    draws = v;
    ctx.changed();
    render();
  });
  const figY = new Figure(figures, t.dropFig, ctx.lang, 'figure-dropout-y');
  const figM = new Figure(figures, t.maskFig, ctx.lang, 'figure-dropout-mask');
  const figMean = new Figure(figures, t.meanFig, ctx.lang, 'figure-dropout-mean');
  const heatY = new Heatmap(figY.body, { map: 'sequential', maxHeight: 240, numbersUpTo: 12 });
  const heatM = new Heatmap(figM.body, { map: 'sequential', maxHeight: 240, numbersUpTo: 12 });
  figY.attach(heatY);
  figM.attach(heatM);
  const meanPlot = new LinePlot(figMean.body, {
    series: [
      { label: t.input, color: 0 },
      { label: t.mean, kind: 'points', color: 1 },
      { label: t.oneDraw, kind: 'points', color: 7 },
    ],
    xLabel: t.element,
  });
  figMean.attach(meanPlot);
  figMean.setNote(t.meanNote);
  const out = readout(figMean.root, 'dropout-readout');
  // The input: a smooth pattern, so that scaled values stand out from zeros.
  const x = new Float32Array(DR * DC);
  for (let i = 0; i < DR; ++i) for (let j = 0; j < DC; ++j) x[i * DC + j] = 1 + 0.5 * Math.sin(0.7 * i + 0.45 * j);
  let shown: Shown[] = [];

  function render(): void {
    guard(ctx, 'engine', () => {
      const params = entryParams(op, ctx.params);
      const xIn = { input: { shape: [DR, DC], data: x } };
      const y = dl.eval('dropout', xIn, params).data;
      const m = dl.grad('dropout', xIn, params).input.data;
      heatY.update(y, DR, DC);
      heatM.update(m, DR, DC);
      // D draws in one call: row d of [D, 96] is draw d.
      const n = DR * DC;
      const X = new Float32Array(draws * n);
      for (let d = 0; d < draws; ++d) X.set(x, d * n);
      const Y = dl.eval('dropout', { input: { shape: [draws, n], data: X } }, params).data;
      const mean = new Float64Array(n);
      let kept = 0;
      let total = 0;
      for (let d = 0; d < draws; ++d)
        for (let k = 0; k < n; ++k) {
          const v = Y[d * n + k]!;
          mean[k] = mean[k]! + v / draws;
          total += v;
          if (v !== 0) kept++;
        }
      let mx = 0;
      for (const v of x) mx += v / n;
      const idx = Array.from({ length: n }, (_, i) => i);
      meanPlot.update(idx, [x, mean, Y.subarray(0, n)]);
      out.textContent = t.dropOut(
        `${((100 * kept) / (draws * n)).toFixed(1)} %`,
        mx.toPrecision(6),
        (total / (draws * n)).toPrecision(6),
        draws,
      );
      shown = [
        record('y', 'dropout', xIn, params, 'value', y),
        record('mask / (1-p)', 'dropout', xIn, params, 'grad:input', m),
      ];
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      heatY.destroy();
      heatM.destroy();
      meanPlot.destroy();
    },
  };
}

// ---------------------------------------------------------------- label smoothing

const TARGETS_DEFAULT = [3, 0, 7, 1, 9, 4];
const MARGINS = 121;
const LOSS_K_MAX = 1000;

function smoothingView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: T): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures nv-figures' });
  host.append(figures);
  const valid = (v: number[]) => v.length >= 1 && v.length <= 32 && v.every((k) => Number.isInteger(k) && k >= 0);
  let targets = store.list('targets', TARGETS_DEFAULT, { min: 0, max: 1048575, maxLen: 32 });
  if (!valid(targets)) targets = TARGETS_DEFAULT.slice();
  textField(controls, { id: 'view-targets', label: t.targets, value: targets.join(', ') }, (text) => {
    const v = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (!valid(v)) return ctx.report('targets', new Error(t.badTargets(text)));
    ctx.report('targets', null);
    targets = v;
    store.set('targets', v, TARGETS_DEFAULT);
    ctx.changed();
    render();
  });
  const figB = new Figure(figures, t.lsFig, ctx.lang, 'figure-smoothing');
  const figH = new Figure(figures, t.lsHeat, ctx.lang, 'figure-smoothing-rows');
  const figL = new Figure(figures, t.lsLoss, ctx.lang, 'figure-smoothing-loss');
  const bars = new LinePlot(figB.body, {
    series: [
      { label: t.onehot, kind: 'bars', color: 7 },
      { label: t.smoothed, kind: 'bars', color: 0 },
    ],
    xLabel: t.klass,
    yRange: [0, 1],
  });
  figB.attach(bars);
  figB.setNote(t.lsNote);
  const out = readout(figB.root, 'smoothing-readout');
  const heat = new Heatmap(figH.body, { map: 'sequential', range: [0, 1], maxHeight: 300, numbersUpTo: 10 });
  figH.attach(heat);
  const lossPlot = new LinePlot(figL.body, {
    series: [
      { label: t.onehot, color: 7 },
      { label: t.smoothed, color: 0 },
    ],
    xLabel: t.margin,
  });
  figL.attach(lossPlot);
  figL.setNote(t.lsLossNote);
  const lossOut = readout(figL.root, 'smoothing-loss-readout');
  let shown: Shown[] = [];
  let shownK = -1;

  function render(): void {
    guard(ctx, 'engine', () => {
      shown = [];
      const params = entryParams(op, ctx.params);
      const K = params.num_classes!;
      // Indices of classes that exist under the current num_classes (the others are reported, not sent).
      const inRange = targets.filter((k) => k < K);
      ctx.report('classes', inRange.length === targets.length ? null : new Error(t.outOfRange(K)));
      const used = inRange.length ? inRange : [0];
      const tIn = { target: { shape: [used.length], data: Float32Array.from(used) } };
      const q = dl.eval('label_smoothing', tIn, params).data;
      const hot = dl.eval('label_smoothing', tIn, { ...params, epsilon: 0 }).data;
      // Bars for the first target (at most 200 classes drawn).
      const shownClasses = Math.min(K, 200);
      const x: number[] = [];
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < shownClasses; ++i) {
        x.push(i - 0.2, i + 0.2);
        a.push(hot[i]!, NaN);
        b.push(NaN, q[i]!);
      }
      if (shownClasses !== shownK) {
        shownK = shownClasses;
        bars.setOptions({ xRange: [-0.5, shownClasses - 0.5] });
      }
      bars.update(x, [a, b]);
      if (K <= shownClasses) heat.update(q, used.length, K);
      else {
        const part = new Float32Array(used.length * shownClasses);
        for (let i = 0; i < used.length; ++i) part.set(q.subarray(i * K, i * K + shownClasses), i * shownClasses);
        heat.update(part, used.length, shownClasses);
      }
      const t0 = used[0]!;
      const otherIdx = t0 === 0 ? 1 : 0;
      out.textContent = [
        `ε = ${formatF32(Math.fround(params.epsilon!))}, K = ${K}`,
        t.lsOut(fmtNum(q[t0]!), K > 1 ? fmtNum(q[otherIdx]!) : '–'),
      ].join('\n');
      // Cross-entropy of logits [m, 0, …, 0] (true class first) against both targets, over m.
      if (K >= 2 && K <= LOSS_K_MAX) {
        const ms = grid(0, 15, MARGINS);
        const logits = new Float32Array(MARGINS * K);
        for (let i = 0; i < MARGINS; ++i) logits[i * K] = ms[i]!;
        const one = dl.eval('label_smoothing', { target: { shape: [1], data: Float32Array.of(0) } }, params).data;
        const soft = new Float32Array(MARGINS * K);
        const hard = new Float32Array(MARGINS * K);
        for (let i = 0; i < MARGINS; ++i) {
          soft.set(one, i * K);
          hard[i * K] = 1;
        }
        const lin = { shape: [MARGINS, K], data: logits };
        const softIn = { input: lin, target: { shape: [MARGINS, K], data: soft } };
        const hardIn = { input: lin, target: { shape: [MARGINS, K], data: hard } };
        const ls = dl.eval('cross_entropy', softIn, { reduction: 'none' }).data;
        const lh = dl.eval('cross_entropy', hardIn, { reduction: 'none' }).data;
        lossPlot.update(ms, [lh, ls]);
        let best = 0;
        for (let i = 1; i < MARGINS; ++i) if (ls[i]! < ls[best]!) best = i;
        const interior = best > 0 && best < MARGINS - 1;
        lossPlot.setMarks(
          interior ? [{ x: ms[best]!, y: ls[best]!, color: 0, label: `m ≈ ${formatF32(ms[best]!)}` }] : [],
        );
        lossOut.textContent = interior ? t.lsMin(formatF32(ms[best]!), fmtNum(ls[best]!)) : t.lsNoMin;
        if (MARGINS * K * 2 <= 4800)
          shown.push(record('CE vs smoothed target', 'cross_entropy', softIn, { reduction: 'none' }, 'value', ls));
      } else {
        lossPlot.update([0], [[NaN], [NaN]]);
        lossOut.textContent = t.lsTooMany(LOSS_K_MAX);
      }
      const limit = Math.min(q.length, 4000);
      const pick = q.length > limit ? Array.from({ length: limit }, (_, i) => i) : undefined;
      shown.unshift({
        label: 'smoothed targets',
        id: 'label_smoothing',
        inputs: recordInputs(tIn),
        params,
        what: 'value',
        values: Array.from(q.subarray(0, limit)),
        ...(pick ? { pick } : {}),
      });
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      bars.destroy();
      heat.destroy();
      lossPlot.destroy();
    },
  };
}

// ---------------------------------------------------------------- spectral norm

const W_DEFAULT = '2, 0.1, 0; 0.1, 1.8, 0.2; 0, 0.1, 1';
const REF_ITERS = 1000;

function spectralView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: T): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures nv-figures' });
  host.append(figures);
  let rows = parseMatrix(store.text('W', W_DEFAULT, 400)) ?? parseMatrix(W_DEFAULT)!;
  if (rows.length > 8 || rows[0]!.length > 8) rows = parseMatrix(W_DEFAULT)!;
  let maxIter = store.int('iters', 30, 2, 200);
  textField(controls, { id: 'view-matrix', label: t.matrix, value: formatMatrix(rows), wide: true }, (text) => {
    const m = parseMatrix(text);
    if (!m || m.length > 8 || m[0]!.length > 8) return ctx.report('matrix', new Error(t.badMatrix(text)));
    ctx.report('matrix', null);
    rows = m;
    store.set('W', text.trim(), W_DEFAULT);
    ctx.changed();
    render();
  });
  intSlider(controls, store, { key: 'iters', label: t.maxIter, min: 2, max: 200, def: 30, value: maxIter }, (v) => {
    maxIter = v;
    ctx.changed();
    render();
  });
  const figS = new Figure(figures, t.snFig, ctx.lang, 'figure-sigma');
  const figE = new Figure(figures, t.snErr, ctx.lang, 'figure-sigma-error');
  const figH = new Figure(figures, t.snHeat, ctx.lang, 'figure-normalized');
  const sPlot = new LinePlot(figS.body, {
    series: [
      { label: t.sigmaK, color: 0 },
      { label: t.sigmaRef, color: 3, dash: [6, 4] },
    ],
    xLabel: t.iter,
  });
  figS.attach(sPlot);
  figS.setNote(t.snNote);
  const out = readout(figS.root, 'sigma-readout');
  const ePlot = new LinePlot(figE.body, {
    series: [{ label: 'log₁₀ |σ_k − σ_ref|', kind: 'points', color: 1 }],
    xLabel: t.iter,
  });
  figE.attach(ePlot);
  const heat = new Heatmap(figH.body, { map: 'diverging', maxHeight: 260 });
  figH.attach(heat);
  let cacheKey = '';
  let sig = new Float32Array(0);
  let ref = NaN;
  let shown: Shown[] = [];

  function render(): void {
    guard(ctx, 'engine', () => {
      const params = entryParams(op, ctx.params);
      const r = rows.length;
      const c = rows[0]!.length;
      const wIn = { weight: { shape: [r, c], data: Float32Array.from(rows.flat()) } };
      const key = `${Array.from(wIn.weight.data)}|${r}|${params.seed}|${params.eps}|${maxIter}`;
      if (key !== cacheKey) {
        // One call per iteration count: sigma is an aux output of the stateless op.
        sig = new Float32Array(maxIter);
        for (let k = 1; k <= maxIter; ++k)
          sig[k - 1] = dl.eval('spectral_norm', wIn, { ...params, n_power_iterations: k }).aux.sigma!.data[0]!;
        ref = dl.eval('spectral_norm', wIn, { ...params, n_power_iterations: REF_ITERS }).aux.sigma!.data[0]!;
        cacheKey = key;
      }
      const ks = Array.from({ length: maxIter }, (_, i) => i + 1);
      sPlot.update(ks, [sig, new Float32Array(maxIter).fill(ref)]);
      ePlot.update(ks, [Array.from(sig, (s) => Math.log10(Math.abs(s - ref)))]);
      const res = dl.eval('spectral_norm', wIn, params);
      const sk = res.aux.sigma!.data[0]!;
      const kNow = params.n_power_iterations!;
      sPlot.setMarks(kNow <= maxIter ? [{ x: kNow, y: sk, color: 1, label: `k = ${kNow}` }] : []);
      heat.update(res.data, r, c);
      out.textContent = t.snOut(kNow, fmtNum(sk), fmtNum(ref));
      shown = [record('W / sigma', 'spectral_norm', wIn, params, 'value', res.data)];
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      sPlot.destroy();
      ePlot.destroy();
      heat.destroy();
    },
  };
}
