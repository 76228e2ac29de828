// Regression: draggable data points, the design matrix X = [1, x, x², …], the
// least-squares fit from the engine's solver, residual segments, and the
// numbers that certify the fit: the loss and its gradient Xᵀr ≈ 0 (the
// residual is orthogonal to every column of X). least_squares_loss adds the
// parameter plane (θ₀, θ₁) with a draggable θ, the distance ‖Xθ − Y‖ as the
// background (two batched calls: dot for every Xθ, euclidean against Y) and
// the steepest-descent direction.
import type { OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { Figure } from '../ui/plots/figure.js';
import { LinePlot } from '../ui/plots/line.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { controlGroup, readout, slider } from '../ui/widgets.js';
import { arrow, evalCall, f32, fmt, gradCall, record, type F32Inputs, guard } from './common.js';
import { colorKey } from './color-key.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import { familyView, forTable } from './dispatch.js';
import './views.css';

const L = {
  en: {
    view: 'Data',
    degree: 'degree of the polynomial (columns of X: 1, x, …)',
    remove: 'Remove the last point',
    data: 'Data, fit and residuals',
    dataNote:
      'Drag the points; click on empty space to add one (at most 12). The fitted curve is X θ* from the engine’s least_squares; the thin segments are the residuals.',
    dataNoteLoss:
      'Drag the points. Solid: the line of your θ (drag it in the parameter plane); dashed: the least-squares fit θ*. The thin segments are the residuals of your θ.',
    resid: 'Residuals r = Y − X θ* (aux of least_squares)',
    proj: 'Observed y against fitted ŷ = X θ*',
    projNote:
      'ŷ is the orthogonal projection of Y onto the column space of X; the vertical gaps to the diagonal are the residuals, and no column of X can shrink them further.',
    residNote:
      'The residual is orthogonal to every column of X: Xᵀr = 0. With the column of ones, the residuals add up to zero; with the column x, they do not lean with x. Least squares is the orthogonal projection of Y onto the columns of X.',
    theta: 'Parameter plane (θ₀ intercept, θ₁ slope)',
    thetaNote:
      'Colour: ‖Xθ − Y‖, whose square is 2ℓ. The arrow at θ points along −∇ℓ (drawn at a fixed length); its length is printed. At θ* (the dot) the gradient vanishes. The thin path is plain gradient descent from θ (engine gradient, engine sgd step): it crawls along the long valley when the columns of X are badly scaled, and zigzags then diverges once the learning rate passes 2 / λmax(XᵀX).',
    fit: 'fit θ*',
    yours: 'your θ',
    loss: 'loss ℓ = ½‖Xθ − Y‖²',
    grad: '∇θ ℓ = Xᵀ(Xθ − Y)',
    xtr: 'Xᵀr at θ* (should be ≈ 0)',
    point: 'point',
    residuals: 'residuals',
    dataLabel:
      'Data points: arrow keys move the selected point (Shift: faster), [ and ] select another; click empty space to add a point',
    thetaLabel: 'Parameter plane: arrow keys move θ (Shift: faster)',
    auxLoss: 'loss in least_squares’ aux',
    lr: 'learning rate of the gradient-descent path',
    gdPath: '40 steps of gradient descent from θ',
    gdAfter: 'after 40 steps of gradient descent',
  },
  zh: {
    view: '数据',
    degree: '多项式的次数(X 的列:1, x, …)',
    remove: '删除最后一个点',
    data: '数据、拟合与残差',
    dataNote:
      '拖动数据点;点击空白处可以添加新点(最多 12 个)。拟合曲线是引擎 least_squares 求得的 X θ*;细线段表示残差。',
    dataNoteLoss:
      '拖动数据点。实线:你选的 θ 对应的直线(在参数平面中拖动它);虚线:最小二乘解 θ*。细线段是你的 θ 的残差。',
    resid: '残差 r = Y − X θ*(least_squares 的 aux)',
    proj: '观测值 y 与拟合值 ŷ = X θ* 的对比',
    projNote: 'ŷ 是 Y 在 X 列空间上的正交投影;各点到对角线的竖直距离就是残差,X 的任何一列都无法再把它们缩小。',
    residNote:
      '残差与 X 的每一列都正交:Xᵀr = 0。因为有全 1 列,残差之和为零;因为有 x 这一列,残差也不随 x 倾斜。最小二乘就是把 Y 正交投影到 X 的列空间上。',
    theta: '参数平面(θ₀ 截距,θ₁ 斜率)',
    thetaNote:
      '颜色表示 ‖Xθ − Y‖,它的平方等于 2ℓ。θ 处的箭头指向 −∇ℓ 的方向(画成固定长度),真实长度见读数。在 θ*(圆点)处梯度为零。细折线是从 θ 出发的普通梯度下降(梯度与 sgd 更新都由引擎计算):当 X 的各列尺度相差悬殊时,它沿狭长的谷底缓慢爬行;学习率超过 2 / λmax(XᵀX) 后会来回振荡并发散。',
    fit: '拟合 θ*',
    yours: '你的 θ',
    loss: '损失 ℓ = ½‖Xθ − Y‖²',
    grad: '∇θ ℓ = Xᵀ(Xθ − Y)',
    xtr: 'θ* 处的 Xᵀr(应当 ≈ 0)',
    point: '点',
    residuals: '残差',
    dataLabel: '数据点:方向键移动选中的点(按住 Shift 更快),[ 和 ] 切换点;点击空白处添加新点',
    thetaLabel: '参数平面:方向键移动 θ(按住 Shift 更快)',
    auxLoss: 'least_squares 的 aux 损失',
    lr: '梯度下降路径的学习率',
    gdPath: '从 θ 出发的 40 步梯度下降',
    gdAfter: '梯度下降 40 步之后',
  },
};

const RANGE: [number, number] = [-3, 3];
const PTS_DEF = [-2.2, -1.6, -1.3, -0.4, -0.4, -0.6, 0.5, 0.6, 1.4, 0.9, 2.3, 2.1];
const CURVE_N = 121;
const TH_N = 31;
/** Steps of plain gradient descent drawn in the parameter plane. */
const GD_STEPS = 40;

/**
 * The entries: the solver draws its fit for a chosen polynomial degree; the loss draws a line's loss over
 * its two parameters and gradient descent on it.
 */
const ENTRIES: Record<string, { isLoss: boolean }> = {
  least_squares: { isLoss: false },
  least_squares_loss: { isLoss: true },
};

/** Builds the regression view of one entry (the generic view for an entry not listed here). */
export const createView = familyView([forTable(ENTRIES, fitView)]);

function fitView(host: HTMLElement, op: OpMeta, ctx: ViewContext, { isLoss }: { isLoss: boolean }): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures' });
  host.append(figures);

  let pts = store.list('pts', PTS_DEF, { min: RANGE[0], max: RANGE[1], minLen: 4, maxLen: 24 });
  if (pts.length % 2) pts = PTS_DEF.slice();
  let degree = isLoss ? 1 : store.int('deg', 1, 0, 3);
  const th = store.list('th', [-2, -1.5], { min: RANGE[0], max: RANGE[1], minLen: 2, maxLen: 2 });
  let lr = store.num('lr', 0.05, 0.001, 0.5);

  const rerender = () => {
    ctx.changed();
    render();
  };
  if (!isLoss)
    slider(controls, { id: 'view-degree', label: t.degree, min: 0, max: 3, step: 1, value: degree }, (v) => {
      degree = Math.round(v);
      store.set('deg', degree, 1);
      rerender();
    });
  if (isLoss)
    slider(controls, { id: 'view-lr', label: t.lr, min: 0.001, max: 0.5, step: 0.001, value: lr }, (v) => {
      lr = v;
      store.set('lr', v, 0.05);
      rerender();
    });
  const removeBtn = h('button', { type: 'button', 'data-testid': 'view-remove', text: t.remove });
  removeBtn.addEventListener('click', () => {
    if (pts.length <= 4) return;
    pts = pts.slice(0, -2);
    store.set('pts', pts, PTS_DEF);
    rerender();
  });
  controls.append(h('div', { class: 'field' }, removeBtn));
  const out = readout(controls, 'regression-readout');

  const figData = new Figure(figures, t.data, ctx.lang, 'figure-data');
  figData.root.classList.add('fixed-plane');
  const plane = new PlanePlot(figData.body, {
    x: RANGE,
    y: RANGE,
    xLabel: 'x',
    yLabel: 'y',
    label: t.dataLabel,
    onDrag: (i, x, y) => {
      pts[2 * i] = x;
      pts[2 * i + 1] = y;
      store.set('pts', pts, PTS_DEF);
      rerender();
    },
    onClick: (x, y) => {
      if (pts.length >= 24) return;
      pts = [...pts, x, y];
      store.set('pts', pts, PTS_DEF);
      rerender();
    },
  });
  figData.attach(plane);
  figData.setNote(isLoss ? t.dataNoteLoss : t.dataNote);
  colorKey(
    figData.body,
    isLoss
      ? [
          [0, t.yours],
          [2, t.fit, true],
          [3, t.residuals],
        ]
      : [
          [0, t.fit],
          [3, t.residuals],
        ],
  );

  let bars: LinePlot | null = null;
  let barsN = 0;
  let proj: PlanePlot | null = null;
  let thetaPlane: PlanePlot | null = null;
  if (!isLoss) {
    const figP = new Figure(figures, t.proj, ctx.lang, 'figure-projection');
    proj = new PlanePlot(figP.body, {
      x: RANGE,
      y: RANGE,
      xLabel: 'ŷ = X θ*',
      yLabel: 'y',
      equalAspect: true,
      label: t.proj,
    });
    figP.attach(proj);
    figP.setNote(t.projNote);
    const figR = new Figure(figures, t.resid, ctx.lang, 'figure-residuals');
    bars = new LinePlot(figR.body, { series: [{ label: 'r', kind: 'bars', color: 3 }], xLabel: t.point });
    figR.attach(bars);
    figR.setNote(t.residNote);
  } else {
    const figTheta = new Figure(figures, t.theta, ctx.lang, 'figure-theta');
    figTheta.root.classList.add('fixed-plane');
    thetaPlane = new PlanePlot(figTheta.body, {
      x: RANGE,
      y: RANGE,
      xLabel: 'θ₀',
      yLabel: 'θ₁',
      equalAspect: true,
      label: t.thetaLabel,
      onDrag: (_i, x, y) => {
        th[0] = x;
        th[1] = y;
        store.set('th', th, [-2, -1.5]);
        rerender();
      },
    });
    figTheta.attach(thetaPlane);
    colorKey(figTheta.body, [
      [1, t.gdPath],
      [2, t.fit],
      [6, '−∇ℓ'],
    ]);
    figTheta.setNote(t.thetaNote);
  }

  // The θ grid of the parameter plane, laid out once: rows [θ₀, θ₁].
  const thGrid = new Float32Array(2 * TH_N * TH_N);
  for (let r = 0; r < TH_N; ++r)
    for (let c = 0; c < TH_N; ++c) {
      const i = r * TH_N + c;
      thGrid[2 * i] = RANGE[0] + ((RANGE[1] - RANGE[0]) * c) / (TH_N - 1);
      thGrid[2 * i + 1] = RANGE[0] + ((RANGE[1] - RANGE[0]) * r) / (TH_N - 1);
    }

  let shown: Shown[] = [];

  /** Rows [1, x, x², …] of the design matrix for the given xs. */
  function design(xs: ArrayLike<number>, k: number): Float32Array {
    const X = new Float32Array(xs.length * k);
    for (let i = 0; i < xs.length; ++i) for (let j = 0; j < k; ++j) X[i * k + j] = xs[i]! ** j;
    return X;
  }

  function render(): void {
    const next: Shown[] = [];
    guard(ctx, 'engine', () => {
      const n = pts.length / 2;
      const k = degree + 1;
      const xs = Float32Array.from({ length: n }, (_, i) => pts[2 * i]!);
      const ys = Float32Array.from({ length: n }, (_, i) => pts[2 * i + 1]!);
      const X = f32([n, k], design(xs, k));
      const Y = f32([n], ys);
      // The fit, its loss and residual (aux).
      const lsIn: F32Inputs = { X, Y };
      const ls = evalCall(dl, 'least_squares', lsIn);
      const thHat = ls.data;
      next.push(record('θ*', 'least_squares', lsIn, {}, 'value', thHat));
      // The fitted curve over x: X_grid θ* by dot over all pairs ([G, k] against [1, k]).
      const gx = Float32Array.from(
        { length: CURVE_N },
        (_, i) => RANGE[0] + ((RANGE[1] - RANGE[0]) * i) / (CURVE_N - 1),
      );
      const curveIn: F32Inputs = { x1: f32([CURVE_N, k], design(gx, k)), x2: f32([1, k], thHat) };
      const curve = evalCall(dl, 'dot', curveIn, { all_pairs: 1 }).data;
      next.push(record('fitted curve X θ*', 'dot', curveIn, { all_pairs: 1 }, 'value', curve));

      // The θ whose loss is read out: θ* for the solver, the dragged θ for the loss entry.
      const theta = isLoss ? f32([2], th) : f32([k], thHat);
      const lossIn: F32Inputs = { X, theta, Y };
      const loss = evalCall(dl, 'least_squares_loss', lossIn).data[0]!;
      const g = gradCall(dl, 'least_squares_loss', lossIn).theta!.data;
      next.push(record('ℓ(θ)', 'least_squares_loss', lossIn, {}, 'value', [loss]));
      next.push(record('∇θ ℓ', 'least_squares_loss', lossIn, {}, 'grad:theta', g));

      // Predictions at the data points (X θ), for the residual segments.
      const predIn: F32Inputs = { x1: X, x2: f32([1, k], theta.data) };
      const pred = evalCall(dl, 'dot', predIn, { all_pairs: 1 }).data;
      next.push(record('X θ at the points', 'dot', predIn, { all_pairs: 1 }, 'value', pred));

      const paths: Path[] = [];
      for (let i = 0; i < n; ++i)
        paths.push({ label: `r${i}`, xs: [xs[i]!, xs[i]!], ys: [ys[i]!, pred[i]!], color: 3, width: 1.5 });
      if (isLoss) {
        const lineIn: F32Inputs = { x1: f32([CURVE_N, 2], design(gx, 2)), x2: f32([1, 2], th) };
        const line = evalCall(dl, 'dot', lineIn, { all_pairs: 1 }).data;
        next.push(record('line of θ', 'dot', lineIn, { all_pairs: 1 }, 'value', line));
        paths.push({ label: t.fit, xs: gx, ys: curve, color: 2, width: 1.5, dash: [6, 4] });
        paths.push({ label: t.yours, xs: gx, ys: line, color: 0, width: 2.5 });
      } else paths.push({ label: t.fit, xs: gx, ys: curve, color: 0, width: 2.5 });
      plane.update(
        paths,
        Array.from({ length: n }, (_, i) => ({ x: xs[i]!, y: ys[i]!, color: 1 })),
      );

      const lsLoss = ls.aux.loss?.data[0];
      const r = ls.aux.residual?.data;
      if (lsLoss !== undefined) next.push(record('aux loss', 'least_squares', lsIn, {}, 'aux:loss', [lsLoss]));
      if (r) next.push(record('residual', 'least_squares', lsIn, {}, 'aux:residual', r));
      let text = `θ* = [${Array.from(thHat, (v) => fmt(v, 5)).join(', ')}]   (${t.auxLoss} = ${lsLoss === undefined ? '–' : fmt(lsLoss, 6)})\n`;
      if (isLoss) text += `θ = [${fmt(th[0]!, 4)}, ${fmt(th[1]!, 4)}]   `;
      text += `${t.loss} = ${fmt(loss, 6)}\n${isLoss ? t.grad : t.xtr} = [${Array.from(g, (v) => fmt(v, 3)).join(', ')}]`;
      out.textContent = text;

      if (bars && r) {
        if (barsN !== r.length) {
          barsN = r.length;
          bars.setOptions({ xRange: [-0.6, r.length - 0.4] });
        }
        bars.update(
          Float32Array.from({ length: r.length }, (_, i) => i),
          [r],
        );
      }
      if (proj) {
        // Observed against fitted: on the diagonal when the fit is exact; the vertical gaps are r.
        const gaps: Path[] = Array.from({ length: n }, (_, i) => ({
          label: `r${i}`,
          xs: [pred[i]!, pred[i]!],
          ys: [pred[i]!, ys[i]!],
          color: 3,
          width: 1.5,
        }));
        proj.update([
          { label: 'y = ŷ', xs: RANGE, ys: RANGE, color: 7, dash: [5, 4], width: 1 },
          ...gaps,
          { label: '(ŷ, y)', xs: pred, ys, kind: 'points', color: 1 },
        ]);
      }

      if (thetaPlane) {
        // ‖Xθ − Y‖ over the θ grid: every Xθ by one dot call ([G, 2] against X's rows: [G, n]),
        // then the distance of each row to Y by one euclidean call ([G, n] against [1, n]).
        const G = TH_N * TH_N;
        const predsIn: F32Inputs = { x1: f32([G, 2], thGrid), x2: X };
        const preds = evalCall(dl, 'dot', predsIn, { all_pairs: 1 }).data;
        const distIn: F32Inputs = { x1: { shape: [G, n], data: preds }, x2: f32([1, n], ys) };
        const dist = evalCall(dl, 'euclidean', distIn, { all_pairs: 1 }).data;
        next.push(record('‖Xθ − Y‖ over the θ grid', 'euclidean', distIn, { all_pairs: 1 }, 'value', dist));
        thetaPlane.setField({ nx: TH_N, ny: TH_N, values: dist, log: true });
        const gl = Math.hypot(g[0]!, g[1]!);
        const tp: Path[] = [{ label: t.fit, xs: [thHat[0]!], ys: [thHat[1]!], kind: 'points', color: 2 }];
        if (gl > 0)
          tp.push({
            label: '−∇ℓ',
            ...arrow(th[0]!, th[1]!, th[0]! - (0.7 * g[0]!) / gl, th[1]! - (0.7 * g[1]!) / gl),
            color: 6,
            width: 2.5,
          });
        // Plain gradient descent from θ: each step one gradient call and one sgd call.
        const px = [th[0]!];
        const py = [th[1]!];
        let cur: Float32Array = Float32Array.from(th);
        let sgdRec: Shown | null = null;
        for (let k = 0; k < GD_STEPS; ++k) {
          const gk = gradCall(dl, 'least_squares_loss', { X, theta: f32([2], cur), Y }).theta!.data;
          const sgdIn: F32Inputs = { params: f32([2], cur), grads: { shape: [1, 2], data: gk } };
          const sgdP = { lr, weight_decay: 0 };
          const nextTheta = evalCall(dl, 'sgd', sgdIn, sgdP).data;
          sgdRec = record(`sgd step ${k + 1}`, 'sgd', sgdIn, sgdP, 'value', nextTheta);
          cur = nextTheta;
          if (!Number.isFinite(cur[0]!) || !Number.isFinite(cur[1]!) || Math.abs(cur[0]!) + Math.abs(cur[1]!) > 1e3)
            break;
          px.push(cur[0]!);
          py.push(cur[1]!);
        }
        if (sgdRec) next.push(sgdRec);
        const endIn: F32Inputs = { X, theta: f32([2], cur), Y };
        const endLoss = evalCall(dl, 'least_squares_loss', endIn).data[0]!;
        next.push(record(`ℓ after ${GD_STEPS} steps`, 'least_squares_loss', endIn, {}, 'value', [endLoss]));
        tp.push({ label: t.gdPath, xs: px, ys: py, color: 1, width: 1.5 });
        tp.push({ label: t.gdPath, xs: px, ys: py, color: 1, kind: 'points' });
        thetaPlane.update(tp, [{ x: th[0]!, y: th[1]!, color: 0, label: 'θ' }]);
        out.textContent += `   |∇ℓ| = ${fmt(gl, 4)}\n${t.gdAfter} (lr = ${fmt(lr, 3)}): ℓ = ${fmt(endLoss, 6)}`;
      }
      shown = next;
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      plane.destroy();
      bars?.destroy();
      proj?.destroy();
      thetaPlane?.destroy();
    },
  };
}
