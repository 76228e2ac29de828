// Losses: how a loss and its gradient with respect to the prediction change as
// the prediction moves, for a chosen target. Regression losses also fit a
// constant to a small data set with a draggable outlier (MSE follows it, L1 and
// Huber resist); classification losses plot against the logit or probability
// of the true class (focal vs cross-entropy as gamma changes); ranking losses
// work on draggable 2-D points; CTC shows its emissions and gradient as
// heatmaps. The engine computes every value and gradient, one batched call per
// curve; JS only lays out inputs and picks outputs.
import type { Dlmath, OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import { Figure } from '../ui/plots/figure.js';
import { LinePlot, type LineSeries, type Mark } from '../ui/plots/line.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { Heatmap } from '../ui/plots/heatmap.js';
import { controlGroup, readout, select, slider, textField, toggle } from '../ui/widgets.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import type { SliderField } from '../ui/controls.js';

/** Points on a curve's grid: smooth, and cheap on every slider frame. */
export const CURVE_POINTS = 401;

const L = {
  en: {
    view: 'Plot',
    target: 'target y',
    probe: 'prediction x (probe)',
    xmin: 'x min',
    xmax: 'x max',
    compare: 'overlay MSE, L1 and Huber',
    variance: 'predicted variance var',
    loss: 'Loss ℓ(x; y) as the prediction x moves',
    grad: 'Gradient ∂ℓ/∂x',
    lossNote: 'Each point is the loss of one prediction x against the target y (reduction none). The dot is the probe.',
    gradNote:
      'The gradient is what training follows: it grows with the error for MSE, stays at ±1 for L1, and is the error clipped at δ for Huber.',
    fit: 'Fitting one constant c to the data: drag the points',
    fitNote:
      'Each line is the constant that minimises the mean loss over the points. Drag the outlier (top right) up and down: the MSE line (the mean) follows it, the L1 line (the median) and Huber barely move.',
    risk: 'Mean loss over the data as a function of the constant c',
    riskNote: 'Found by the engine over a grid of candidate constants; the dots are the minimisers.',
    data: 'data values',
    best: 'best constant',
    atProbe: 'at the probe',
    varFig: 'Loss as the predicted variance changes, error fixed at the probe',
    varNote:
      'Too small a variance makes the squared error expensive, too large a variance costs log var: the optimum is var = (x − y)², where ∂ℓ/∂var = 0.',
    varOverlay: (k: string) => `var × ${k}`,
    poissonNote:
      'With log_input on, x is log λ and the loss e^x − y·x is smallest at x = log y; with it off, x is λ itself and the minimum sits at x = y.',
    logit: 'logit x',
    prob: 'probability x',
    label: 'label',
    trueClass: 'true class t',
    row: 'logits of the row, comma-separated (entry t is the one varied)',
    rowLog: 'log-probabilities of the row, comma-separated (entry t is the one varied)',
    classGrad: 'Gradient of the loss for every logit of the probe row',
    classGradNote: 'The true class is pushed up (negative gradient), the others down.',
    ceCompare: 'dashed: without label smoothing',
    lsNote:
      'With label smoothing ε the target is no longer one-hot, so the loss has a finite optimum: the gradient crosses zero where the true class gets probability 1 − ε + ε/C.',
    focalCompare: 'dashed: cross-entropy (γ = 0)',
    focalFig: 'Loss against the probability of the true class, for several γ',
    focalNote:
      'Well-classified examples (p_t → 1) are down-weighted by (1 − p_t)^γ: the larger γ, the sooner an easy example stops contributing, so the rare hard ones dominate.',
    ratioFig: 'Focal loss / cross-entropy: the down-weighting factor',
    pt: 'p_t (true-class probability)',
    hingeCompare: 'dashed: logistic loss log(1 + e^{−yx}) (bce_with_logits)',
    hingeNote: 'Scores beyond the margin on the right side cost nothing and give no gradient.',
    bceNote: 'The gradient (x − y) / (x(1 − x)) explodes near the wrong end; PyTorch clamps each log at −100.',
    bcelNote: 'On logits the gradient is simply σ(x) − y (times pos_weight on the positive term): bounded by 1.',
    posWeight: 'pos_weight',
    klTargetP: 'target probability p',
    klX: 'input = log q',
    klNote:
      'PyTorch convention: input is the model’s log-probability log q, target is the probability p (log p with log_target). Per element the loss is p (log p − log q), linear in the input with slope −p.',
    klBars: 'Pointwise terms p_i (log p_i − log q_i) for two distributions',
    klBern: 'KL(p ‖ q) between two coins [p, 1 − p] and [q, 1 − q], as q moves',
    klBernNote:
      'The sum of the two per-element terms of each row (reduction none). It is zero only at q = p and grows much faster towards the q that give p’s likely outcome little mass: KL is not symmetric.',
    klP: 'p (comma-separated)',
    klQ: 'q logits (log_softmax by the engine)',
    klSum: 'KL(p ‖ q) (reduction sum)',
    nllNote:
      'nll expects log-probabilities (e.g. log_softmax output) and only reads the true class: its loss is −input[t], with gradient −1 there and 0 elsewhere.',
    mmNote: 'Each wrong class within the margin of the true class adds a penalty; outside the margin, nothing.',
    badList: 'needs numbers separated by commas',
    loading: '',
  },
  zh: {
    view: '绘图',
    target: '目标 y',
    probe: '预测值 x(探针)',
    xmin: 'x 最小值',
    xmax: 'x 最大值',
    compare: '叠加 MSE、L1 与 Huber',
    variance: '预测方差 var',
    loss: '预测值 x 变化时的损失 ℓ(x; y)',
    grad: '梯度 ∂ℓ/∂x',
    lossNote: '每个点是一个预测值 x 相对目标 y 的损失(reduction 为 none)。圆点是探针位置。',
    gradNote: '训练沿梯度进行:MSE 的梯度随误差增大,L1 的梯度恒为 ±1,Huber 的梯度是截断到 δ 的误差。',
    fit: '用一个常数 c 拟合数据:可拖动各点',
    fitNote:
      '每条水平线是使各点平均损失最小的常数。上下拖动右上角的离群点:MSE 的线(均值)跟着它走,L1 的线(中位数)和 Huber 的线几乎不动。',
    risk: '数据上的平均损失随常数 c 的变化',
    riskNote: '由引擎在一组候选常数上计算;圆点是各自的最小值点。',
    data: '数据值',
    best: '最优常数',
    atProbe: '探针处',
    varFig: '误差固定在探针处时,损失随预测方差的变化',
    varNote: '方差太小时平方误差代价高,方差太大时 log var 一项代价高:最优点是 var = (x − y)²,此处 ∂ℓ/∂var = 0。',
    varOverlay: (k: string) => `var × ${k}`,
    poissonNote: 'log_input 打开时 x 是 log λ,损失 e^x − y·x 在 x = log y 处最小;关闭时 x 就是 λ,最小值在 x = y 处。',
    logit: 'logit x',
    prob: '概率 x',
    label: '标签',
    trueClass: '真实类别 t',
    row: '该行的 logits,逗号分隔(第 t 项是被改变的那一项)',
    rowLog: '该行的对数概率,逗号分隔(第 t 项是被改变的那一项)',
    classGrad: '探针所在行每个 logit 的损失梯度',
    classGradNote: '真实类别被向上推(梯度为负),其余类别被向下压。',
    ceCompare: '虚线:不做标签平滑',
    lsNote: '使用标签平滑 ε 后目标不再是 one-hot,损失有有限的最优点:当真实类别的概率为 1 − ε + ε/C 时梯度穿过零。',
    focalCompare: '虚线:交叉熵(γ = 0)',
    focalFig: '不同 γ 下损失随真实类别概率的变化',
    focalNote: '已经分对的样本(p_t → 1)被 (1 − p_t)^γ 降权:γ 越大,简单样本越早失去作用,少见的难样本因而占主导。',
    ratioFig: 'Focal 损失 / 交叉熵:降权因子',
    pt: 'p_t(真实类别的概率)',
    hingeCompare: '虚线:逻辑损失 log(1 + e^{−yx})(bce_with_logits)',
    hingeNote: '在正确一侧且超过间隔的得分没有损失,也没有梯度。',
    bceNote: '梯度 (x − y) / (x(1 − x)) 在错误的一端急剧增大;PyTorch 把每个对数项截断在 −100。',
    bcelNote: '在 logits 上梯度就是 σ(x) − y(正样本项再乘 pos_weight),绝对值不超过 1。',
    posWeight: 'pos_weight',
    klTargetP: '目标概率 p',
    klX: 'input = log q',
    klNote:
      'PyTorch 约定:input 是模型的对数概率 log q,target 是概率 p(log_target 时为 log p)。逐元素的损失是 p (log p − log q),对 input 是斜率为 −p 的直线。',
    klBars: '两个分布的逐项 p_i (log p_i − log q_i)',
    klBern: '两枚硬币 [p, 1 − p] 与 [q, 1 − q] 之间的 KL(p ‖ q) 随 q 的变化',
    klBernNote:
      '每行两个逐元素项之和(reduction 为 none)。只有 q = p 时为零;当 q 几乎不给 p 中常见的结果分配概率时增长得快得多:KL 不对称。',
    klP: 'p(逗号分隔)',
    klQ: 'q 的 logits(由引擎做 log_softmax)',
    klSum: 'KL(p ‖ q)(reduction 为 sum)',
    nllNote:
      'nll 要求输入是对数概率(例如 log_softmax 的输出),并且只读取真实类别:损失为 −input[t],该处梯度为 −1,其余为 0。',
    mmNote: '每个与真实类别相差不足间隔的错误类别都会带来惩罚;超出间隔则没有。',
    badList: '需要用逗号分隔的数字',
    loading: '',
  },
};
type Texts = (typeof L)['en'];

// ---- helpers: engine calls and their records ---------------------------------

/** An input as the engine sees it. */
interface Tensor {
  shape: number[];
  data: Float32Array;
}
type Inputs = Record<string, Tensor>;
type Params = Record<string, number | string | boolean>;

function tensor(data: ArrayLike<number>, shape: number[] = [data.length]): Tensor {
  return { shape, data: Float32Array.from(data) };
}

function filled(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}

/** n evenly spaced values from a to b (float32). */
function linspace(a: number, b: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; ++i) out[i] = a + ((b - a) * i) / (n - 1);
  return out;
}

function ev(dl: Dlmath, id: string, inputs: Inputs, params: Params): Float32Array {
  return dl.eval(id as never, inputs as never, params as never).data;
}

function gr(dl: Dlmath, id: string, inputs: Inputs, params: Params, name: string, upstream?: Tensor): Float32Array {
  const g = (
    dl.grad(id as never, inputs as never, params as never, upstream) as Record<string, { data: Float32Array }>
  )[name];
  if (!g) throw new Error(`op '${id}': no gradient for '${name}'`);
  return g.data;
}

/** A record of one call for the tests (numbers copied as plain arrays). */
function rec(
  label: string,
  id: string,
  inputs: Inputs,
  params: Params,
  what: string,
  values: ArrayLike<number>,
  pick?: number[],
): Shown {
  const ins: Shown['inputs'] = {};
  for (const [k, v] of Object.entries(inputs)) ins[k] = { shape: v.shape.slice(), data: Array.from(v.data) };
  return { label, id, inputs: ins, params: { ...params }, what, values: Array.from(values), ...(pick ? { pick } : {}) };
}

/** The entry's params as the shell holds them now (defaults filled in). */
function entryParams(op: OpMeta, ctx: ViewContext): Params {
  const out: Params = {};
  for (const p of op.params) out[p.name] = ctx.params[p.name] ?? p.default;
  return out;
}

function fmt(v: number): string {
  return formatF32(Math.fround(v));
}

/** Index of the smallest finite value (−1 if none). */
function argmin(a: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < a.length; ++i) if (Number.isFinite(a[i]!) && (best < 0 || a[i]! < a[best]!)) best = i;
  return best;
}

function parseList(text: string): number[] | null {
  const v = text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);
  return v.length && v.every(Number.isFinite) ? v : null;
}

/** Everything a group's view builder needs. */
interface Env {
  host: HTMLElement;
  op: OpMeta;
  ctx: ViewContext;
  t: Texts;
  controls: HTMLElement;
  figures: HTMLElement;
  /** Saves a store value and re-renders. */
  save(
    key: string,
    v: number | boolean | string | readonly number[],
    def: number | boolean | string | readonly number[],
  ): void;
  render(): void;
}

/** A figure with a LinePlot in it. */
function lineFigure(
  env: Env,
  title: string,
  testid: string,
  series: LineSeries[],
  extra: Partial<ConstructorParameters<typeof LinePlot>[1]> = {},
) {
  const fig = new Figure(env.figures, title, env.ctx.lang, testid);
  const plot = new LinePlot(fig.body, { series, ...extra });
  fig.attach(plot);
  return { fig, plot };
}

/** A slider bound to a store key. */
function storeSlider(
  env: Env,
  key: string,
  label: string,
  def: number,
  min: number,
  max: number,
  step: number,
  onSet: (v: number) => void,
): { value: number; field: SliderField } {
  const value = env.ctx.store.num(key, def, min, max);
  const field = slider(env.controls, { id: `view-${key}`, label, min, max, step, value }, (v) => {
    onSet(v);
    env.save(key, v, def);
  });
  return { value, field };
}

// ---- regression: mse, l1, huber, smooth_l1, poisson_nll, gaussian_nll -----------

const ROBUST = ['mse', 'l1', 'huber', 'smooth_l1'];
/** The default data for the outlier fit: six points near 1 and one far away. */
const FIT_DATA = [1, 1.4, 0.7, 1.2, 0.9, 1.1, 7];
const FIT_RANGE: [number, number] = [-2, 10];

function regressionView(env: Env): FamilyView {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const id = op.id;
  const isPoisson = id === 'poisson_nll';
  const isGauss = id === 'gaussian_nll';
  const robust = ROBUST.includes(id);

  const xr0: [number, number] = isPoisson ? [-2, 3] : [-4, 4];
  const s = {
    y: storeSlider(env, 'y', t.target, isPoisson ? 3 : 0, isPoisson ? 0 : -10, 10, 0.01, (v) => (s.y.value = v)),
    x: storeSlider(env, 'x', t.probe, isPoisson ? 0.5 : 1.5, -20, 20, 0.01, (v) => (s.x.value = v)),
    xmin: storeSlider(env, 'xmin', t.xmin, xr0[0], -20, 19, 0.1, (v) => (s.xmin.value = v)),
    xmax: storeSlider(env, 'xmax', t.xmax, xr0[1], -19, 20, 0.1, (v) => (s.xmax.value = v)),
    v: isGauss ? storeSlider(env, 'var', t.variance, 1, 0.01, 10, 0.01, (v) => (s.v!.value = v)) : null,
  };
  let compare = ctx.store.bool('cmp', true);
  if (robust)
    toggle(env.controls, { id: 'view-cmp', label: t.compare, checked: compare }, (c) => {
      compare = c;
      env.save('cmp', c, true);
    });
  let data = ctx.store.list('data', FIT_DATA, {
    min: FIT_RANGE[0],
    max: FIT_RANGE[1],
    minLen: FIT_DATA.length,
    maxLen: FIT_DATA.length,
  });
  let dataField: HTMLInputElement | null = null;
  if (robust)
    dataField = textField(
      env.controls,
      { id: 'view-data', label: t.data, value: data.join(', '), wide: true },
      (text) => {
        const v = parseList(text);
        if (!v || v.length !== FIT_DATA.length || v.some((x) => x < FIT_RANGE[0] || x > FIT_RANGE[1]))
          return ctx.report('data', new Error(`${t.data}: ${FIT_DATA.length} × [${FIT_RANGE.join(', ')}]`));
        ctx.report('data', null);
        data = v;
        env.save('data', v, FIT_DATA);
      },
    );
  const out = readout(env.controls, 'loss-readout');

  // Which curves: the entry, then overlays.
  type Curve = { label: string; id: string; params: Params; dash?: number[]; color: number };
  const curvesOf = (p: Params): Curve[] => {
    const me: Curve = { label: id, id, params: { ...p, reduction: 'none' }, color: 0 };
    if (!robust || !compare) return [me];
    const delta = id === 'huber' ? Number(p.delta) : 1;
    const all: Curve[] = [
      { label: 'mse', id: 'mse', params: { reduction: 'none' }, color: 1 },
      { label: 'l1', id: 'l1', params: { reduction: 'none' }, color: 2 },
      { label: `huber δ=${fmt(delta)}`, id: 'huber', params: { reduction: 'none', delta }, color: 3 },
    ];
    return [me, ...all.filter((c) => c.id !== id).map((c) => ({ ...c, dash: [6, 4] }))];
  };
  const gaussK = [1, 0.25, 4];

  const seriesFor = (cs: Curve[]): LineSeries[] =>
    isGauss
      ? gaussK.map((k, i) => ({
          label: i === 0 ? id : t.varOverlay(String(k)),
          color: i,
          dash: i ? [6, 4] : undefined,
          width: i ? 1.5 : 2,
        }))
      : cs.map((c) => ({ label: c.label, color: c.color, dash: c.dash, width: c.dash ? 1.5 : 2 }));
  const onPick = (x: number) => {
    s.x.value = x;
    s.x.field.set(x);
    env.save('x', x, isPoisson ? 0.5 : 1.5);
  };
  const fl = lineFigure(env, t.loss, 'figure-loss', seriesFor(curvesOf(entryParams(op, ctx))), {
    syncKey: 'dlmath-loss-x',
    onPick,
    xLabel: 'x',
  });
  const fg = lineFigure(
    env,
    t.grad,
    'figure-grad',
    seriesFor(curvesOf(entryParams(op, ctx))).map((q) => ({ ...q, label: `∂/∂x ${q.label}` })),
    {
      syncKey: 'dlmath-loss-x',
      onPick,
      xLabel: 'x',
    },
  );
  fl.fig.setNote(isPoisson ? t.poissonNote : t.lossNote);
  if (robust) fg.fig.setNote(t.gradNote);
  let seriesKey = '';

  // Gaussian: loss against the variance.
  const fv = isGauss ? lineFigure(env, t.varFig, 'figure-var', [{ label: 'ℓ(var)' }], { xLabel: 'log₁₀ var' }) : null;
  fv?.fig.setNote(t.varNote);

  // Robust fit: the plane of data points and the mean-loss curves.
  let plane: PlanePlot | null = null;
  let fr: ReturnType<typeof lineFigure> | null = null;
  const fitLosses = (p: Params) => {
    const list = [
      { label: 'mse', id: 'mse', params: {} as Params, color: 1 },
      { label: 'l1', id: 'l1', params: {} as Params, color: 2 },
      { label: 'huber', id: 'huber', params: { delta: id === 'huber' ? Number(p.delta) : 1 } as Params, color: 3 },
    ];
    if (id === 'smooth_l1') list.push({ label: 'smooth_l1', id, params: { beta: Number(p.beta) }, color: 0 });
    return list;
  };
  if (robust) {
    const figP = new Figure(env.figures, t.fit, ctx.lang, 'figure-fit');
    plane = new PlanePlot(figP.body, {
      x: [0, FIT_DATA.length + 1],
      y: FIT_RANGE,
      xLabel: 'i',
      yLabel: 'y',
      onDrag: (i, _x, y) => {
        data = data.slice();
        data[i] = Number(y.toFixed(2));
        if (dataField) dataField.value = data.join(', ');
        env.save('data', data, FIT_DATA);
      },
    });
    figP.attach(plane);
    figP.setNote(t.fitNote);
    fr = lineFigure(
      env,
      t.risk,
      'figure-risk',
      fitLosses(entryParams(op, ctx)).map((f) => ({ label: f.label, color: f.color })),
      { xLabel: 'c' },
    );
    fr.fig.setNote(t.riskNote);
  }

  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx);
    const y = s.y.value;
    const xmin = s.xmin.value;
    const xmax = s.xmax.value;
    if (!(xmin < xmax)) return ctx.report('range', new Error(`x: [${xmin}, ${xmax}]`));
    ctx.report('range', null);
    const rec2: Shown[] = [];
    try {
      const n = CURVE_POINTS;
      // Poisson with log_input off reads x as the rate itself: keep the grid positive.
      const lo = isPoisson && Number(p.log_input) === 0 ? Math.max(xmin, 0.01) : xmin;
      const xs = linspace(lo, Math.max(xmax, lo + 0.1), n);
      const cs = curvesOf(p);
      const key = `${cs.map((c) => c.label).join()}|${isGauss}`;
      if (key !== seriesKey) {
        seriesKey = key;
        const ser = seriesFor(cs);
        fl.plot.setOptions({ series: ser });
        fg.plot.setOptions({ series: ser.map((q) => ({ ...q, label: `∂/∂x ${q.label}` })) });
      }
      const fs: Float32Array[] = [];
      const dfs: Float32Array[] = [];
      if (isGauss) {
        // One call: three rows of the grid, each with its own variance.
        const v = s.v!.value;
        const k = gaussK.length;
        const inX = new Float32Array(k * n);
        const inV = new Float32Array(k * n);
        gaussK.forEach((m, r) => {
          inX.set(xs, r * n);
          inV.fill(v * m, r * n, (r + 1) * n);
        });
        const inputs = {
          input: tensor(inX, [k, n]),
          target: tensor(filled(k * n, y), [k, n]),
          var: tensor(inV, [k, n]),
        };
        const params = { ...p, reduction: 'none' };
        const f = ev(dl, id, inputs, params);
        const df = gr(dl, id, inputs, params, 'input');
        for (let r = 0; r < k; ++r) {
          fs.push(f.subarray(r * n, (r + 1) * n));
          dfs.push(df.subarray(r * n, (r + 1) * n));
        }
        const pick = Array.from({ length: n }, (_, i) => i);
        rec2.push(rec('loss curve (var × 1)', id, inputs, params, 'value', f.subarray(0, n), pick));
        rec2.push(rec('gradient curve (var × 1)', id, inputs, params, 'grad:input', df.subarray(0, n), pick));
      } else {
        for (const c of cs) {
          const inputs = { input: tensor(xs), target: tensor(filled(n, y)) };
          const f = ev(dl, c.id, inputs, c.params);
          const df = gr(dl, c.id, inputs, c.params, 'input');
          fs.push(f);
          dfs.push(df);
          if (c.id === id) {
            rec2.push(rec('loss curve', id, inputs, c.params, 'value', f));
            rec2.push(rec('gradient curve', id, inputs, c.params, 'grad:input', df));
          }
        }
      }
      fl.plot.update(xs, fs);
      fg.plot.update(xs, dfs);

      // The probe: one element with the entry's own params (its reduction too).
      const px = s.x.value;
      const pin: Inputs = { input: tensor([px]), target: tensor([y]) };
      if (isGauss) pin.var = tensor([s.v!.value]);
      const pv = ev(dl, id, pin, p);
      const pg = gr(dl, id, pin, p, 'input');
      rec2.push(rec('probe loss', id, pin, p, 'value', pv));
      rec2.push(rec('probe gradient', id, pin, p, 'grad:input', pg));
      const xf = pin.input!.data[0]!;
      const best = isPoisson ? argmin(fs[0]!) : -1;
      fl.plot.setMarks([
        { x: xf, y: pv[0]!, color: 0 },
        ...(best > 0 && best < n - 1
          ? [{ x: xs[best]!, y: fs[0]![best]!, color: 1, label: `min ≈ ${fmt(xs[best]!)}` }]
          : []),
      ]);
      fg.plot.setMarks([{ x: xf, y: pg[0]!, color: 0 }]);
      let text = `x = ${fmt(xf)}   y = ${fmt(pin.target!.data[0]!)}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂x = ${formatF32(pg[0]!)}`;

      if (isGauss && fv) {
        // var on a log grid; the x axis shows log10 var (the layout's own coordinate).
        const us = linspace(-2, 1.5, n);
        const vg = Float32Array.from(us, (u) => 10 ** u);
        const vin = { input: tensor(filled(n, px)), target: tensor(filled(n, y)), var: tensor(vg) };
        const params = { ...p, reduction: 'none' };
        const lv = ev(dl, id, vin, params);
        fv.plot.update(us, [lv]);
        rec2.push(rec('loss against var', id, vin, params, 'value', lv));
        const pgv = gr(dl, id, pin, p, 'var');
        rec2.push(rec('probe ∂ℓ/∂var', id, pin, p, 'grad:var', pgv));
        const best = argmin(lv);
        fv.plot.setMarks([
          { x: Math.log10(pin.var!.data[0]!), y: pv[0]!, color: 0 },
          ...(best >= 0 ? [{ x: us[best]!, y: lv[best]!, color: 1, label: `var ≈ ${fmt(vg[best]!)}` }] : []),
        ]);
        text += `   ∂ℓ/∂var = ${formatF32(pgv[0]!)}`;
      }
      out.textContent = text;

      if (robust && plane && fr) renderFit(p, rec2);
      shown = rec2;
      ctx.report('engine', null);
    } catch (err) {
      ctx.report('engine', err);
    }
  }

  // The constant fit: the mean loss of every candidate c over the data, one
  // call per loss on a [K, m] batch (row k = c_k against every point), then a
  // finer grid around the best candidate.
  function renderFit(p: Params, rec2: Shown[]): void {
    const m = data.length;
    const K = 201;
    const cs = linspace(FIT_RANGE[0], FIT_RANGE[1], K);
    const losses = fitLosses(p);
    const tgt = new Float32Array(K * m);
    for (let k = 0; k < K; ++k) tgt.set(data, k * m);
    const inX = new Float32Array(K * m);
    for (let k = 0; k < K; ++k) inX.fill(cs[k]!, k * m, (k + 1) * m);
    const risks: Float32Array[] = [];
    const marks: Mark[] = [];
    const lines: Path[] = [];
    const texts: string[] = [];
    for (const f of losses) {
      const params = { ...f.params, reduction: 'none' };
      const inputs = { input: tensor(inX, [K, m]), target: tensor(tgt, [K, m]) };
      const all = ev(dl, f.id, inputs, params);
      const risk = rowMeans(all, K, m);
      risks.push(risk);
      if (f.id === op.id)
        rec2.push(rec('per-point losses over candidate constants', f.id, inputs, params, 'value', all));
      // Refine: 101 candidates across the two grid steps around the best one.
      const b = argmin(risk);
      if (b < 0) continue;
      const step = cs[1]! - cs[0]!;
      const K2 = 101;
      const cs2 = linspace(cs[b]! - step, cs[b]! + step, K2);
      const in2 = new Float32Array(K2 * m);
      const tg2 = new Float32Array(K2 * m);
      for (let k = 0; k < K2; ++k) {
        in2.fill(cs2[k]!, k * m, (k + 1) * m);
        tg2.set(data, k * m);
      }
      const risk2 = rowMeans(
        ev(dl, f.id, { input: tensor(in2, [K2, m]), target: tensor(tg2, [K2, m]) }, params),
        K2,
        m,
      );
      const c = cs2[argmin(risk2)]!;
      // The printed risk at the best constant: one call with reduction mean.
      const at = { input: tensor(filled(m, c)), target: tensor(data) };
      const pm = { ...f.params, reduction: 'mean' };
      const r = ev(dl, f.id, at, pm);
      rec2.push(rec(`mean ${f.label} loss at its best constant`, f.id, at, pm, 'value', r));
      marks.push({ x: at.input.data[0]!, y: r[0]!, color: f.color });
      lines.push({
        label: f.label,
        xs: [0, m + 1],
        ys: [c, c],
        color: f.color,
        width: f.id === op.id ? 3 : 2,
        dash: f.id === op.id ? undefined : [6, 4],
      });
      texts.push(`${f.label}: c = ${fmt(c)} (${formatF32(r[0]!)})`);
    }
    fr!.plot.update(cs, risks);
    fr!.plot.setMarks(marks);
    plane!.update(
      lines,
      data.map((v, i) => ({ x: i + 1, y: v, color: i === m - 1 ? 4 : 5, label: i === m - 1 ? 'outlier' : undefined })),
    );
    fr!.fig.setNote(`${env.t.riskNote}  ${env.t.best}: ${texts.join(' · ')}`);
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      fl.plot.destroy();
      fg.plot.destroy();
      fv?.plot.destroy();
      fr?.plot.destroy();
      plane?.destroy();
    },
  };
}

/** Mean of each row of a [rows, cols] result (a display transform of engine values). */
function rowMeans(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; ++r) {
    let s = 0;
    for (let c = 0; c < cols; ++c) s += a[r * cols + c]!;
    out[r] = s / cols;
  }
  return out;
}

// ---- shared: a loss figure and a gradient figure over one x grid ----------------

interface PairSeries {
  label: string;
  color: number;
  dash?: number[];
}

/** The loss and gradient figures of one x grid, with cursors in sync and click-to-probe. */
function curvePair(env: Env, xLabel: string, onPick: (x: number) => void) {
  const { t } = env;
  const opts = { syncKey: 'dlmath-loss-x', onPick, xLabel };
  const fl = lineFigure(env, t.loss, 'figure-loss', [{ label: env.op.id }], opts);
  const fg = lineFigure(env, t.grad, 'figure-grad', [{ label: `∂/∂x ${env.op.id}` }], opts);
  let key = '';
  return {
    fl,
    fg,
    /** Draws curves (rebuilding the legends when the set of series changes). */
    draw(
      xs: Float32Array,
      series: PairSeries[],
      fs: Float32Array[],
      dfs: Float32Array[],
      probe: Mark | null,
      probeG: Mark | null,
      extra: Mark[] = [],
    ) {
      const k = series.map((s) => s.label).join('|');
      if (k !== key) {
        key = k;
        const ls = series.map((s) => ({ label: s.label, color: s.color, dash: s.dash, width: s.dash ? 1.5 : 2 }));
        fl.plot.setOptions({ series: ls });
        fg.plot.setOptions({ series: ls.map((q) => ({ ...q, label: `∂/∂x ${q.label}` })) });
      }
      fl.plot.update(xs, fs);
      fg.plot.update(xs, dfs);
      fl.plot.setMarks([...(probe ? [probe] : []), ...extra]);
      fg.plot.setMarks(probeG ? [probeG] : []);
    },
    destroy() {
      fl.plot.destroy();
      fg.plot.destroy();
    },
  };
}

/** Range and probe sliders shared by the 1-D views. */
function xControls(env: Env, def: { xmin: number; xmax: number; x: number }, lim: [number, number]) {
  const s = {
    x: storeSlider(env, 'x', env.t.probe, def.x, lim[0], lim[1], 0.001, (v) => (s.x.value = v)),
    xmin: storeSlider(env, 'xmin', env.t.xmin, def.xmin, lim[0], lim[1], 0.01, (v) => (s.xmin.value = v)),
    xmax: storeSlider(env, 'xmax', env.t.xmax, def.xmax, lim[0], lim[1], 0.01, (v) => (s.xmax.value = v)),
  };
  const onPick = (x: number) => {
    s.x.value = x;
    s.x.field.set(x);
    env.save('x', x, def.x);
  };
  return { s, onPick };
}

// ---- binary classification: bce, bce_with_logits, focal, hinge --------------------

const GAMMAS = [0, 0.5, 1, 2, 5];

function binaryView(env: Env): FamilyView {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const id = op.id;
  const isProb = id === 'bce';
  const isHinge = id === 'hinge';
  const isFocal = id === 'focal';
  const def = isProb
    ? { xmin: 0.001, xmax: 0.999, x: 0.3 }
    : isHinge
      ? { xmin: -3, xmax: 3, x: 0.5 }
      : { xmin: -6, xmax: 6, x: 1 };
  const lim: [number, number] = isProb ? [0, 1] : [-30, 30];
  const { s, onPick } = xControls(env, def, lim);
  let y = isHinge ? Number(ctx.store.choice('y', ['1', '-1'] as const, '1')) : ctx.store.num('y', 1, 0, 1);
  if (isHinge)
    select(
      env.controls,
      {
        id: 'view-y',
        label: t.label,
        options: [
          { value: '1', label: '+1' },
          { value: '-1', label: '−1' },
        ],
        value: y === 1 ? '1' : '-1',
      },
      (v) => {
        y = Number(v);
        env.save('y', v, '1');
      },
    );
  else
    slider(env.controls, { id: 'view-y', label: t.target, min: 0, max: 1, step: 0.01, value: y }, (v) => {
      y = v;
      env.save('y', v, 1);
    });
  const pw =
    id === 'bce_with_logits' ? storeSlider(env, 'pw', t.posWeight, 1, 0.05, 20, 0.05, (v) => (pw!.value = v)) : null;
  const out = readout(env.controls, 'loss-readout');
  const pair = curvePair(env, isProb ? t.prob : isHinge ? 'x' : t.logit, onPick);
  pair.fl.fig.setNote(isProb ? t.bceNote : isHinge ? t.hingeNote : id === 'bce_with_logits' ? t.bcelNote : t.lossNote);
  if (isFocal) pair.fg.fig.setNote(t.focalCompare);
  if (isHinge) pair.fg.fig.setNote(t.hingeCompare);
  const gam = isFocal ? gammaFigures(env) : null;
  let shown: Shown[] = [];

  function inputsAt(xs: Float32Array, target: number): Inputs {
    const n = xs.length;
    const ins: Inputs = { input: tensor(xs), target: tensor(filled(n, target)) };
    if (pw) ins.pos_weight = tensor(filled(n, pw.value));
    return ins;
  }

  function render(): void {
    const p = entryParams(op, ctx);
    if (!(s.xmin.value < s.xmax.value)) return ctx.report('range', new Error(`x: [${s.xmin.value}, ${s.xmax.value}]`));
    ctx.report('range', null);
    const rs: Shown[] = [];
    try {
      const xs = linspace(s.xmin.value, s.xmax.value, CURVE_POINTS);
      const calls: { label: string; id: string; params: Params; target: number; color: number; dash?: number[] }[] = [
        { label: id, id, params: { ...p, reduction: 'none' }, target: y, color: 0 },
      ];
      if (isFocal)
        calls.push({
          label: 'γ = 0',
          id,
          params: { ...p, gamma: 0, reduction: 'none' },
          target: y,
          color: 1,
          dash: [6, 4],
        });
      if (isHinge)
        calls.push({
          label: 'logistic',
          id: 'bce_with_logits',
          params: { reduction: 'none' },
          target: (y + 1) / 2,
          color: 1,
          dash: [6, 4],
        });
      const fs: Float32Array[] = [];
      const dfs: Float32Array[] = [];
      for (const c of calls) {
        const ins =
          c.id === id ? inputsAt(xs, c.target) : { input: tensor(xs), target: tensor(filled(xs.length, c.target)) };
        const f = ev(dl, c.id, ins, c.params);
        const df = gr(dl, c.id, ins, c.params, 'input');
        fs.push(f);
        dfs.push(df);
        if (c === calls[0]) {
          rs.push(rec('loss curve', id, ins, c.params, 'value', f));
          rs.push(rec('gradient curve', id, ins, c.params, 'grad:input', df));
        }
      }
      const pin = inputsAt(Float32Array.of(s.x.value), y);
      const pv = ev(dl, id, pin, p);
      const pg = gr(dl, id, pin, p, 'input');
      rs.push(rec('probe loss', id, pin, p, 'value', pv));
      rs.push(rec('probe gradient', id, pin, p, 'grad:input', pg));
      const xf = pin.input!.data[0]!;
      pair.draw(xs, calls, fs, dfs, { x: xf, y: pv[0]!, color: 0 }, { x: xf, y: pg[0]!, color: 0 });
      out.textContent = `x = ${fmt(xf)}   y = ${fmt(pin.target!.data[0]!)}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂x = ${formatF32(pg[0]!)}`;
      if (gam) gam.render(p, rs);
      shown = rs;
      ctx.report('engine', null);
    } catch (err) {
      ctx.report('engine', err);
    }
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      pair.destroy();
      gam?.destroy();
    },
  };
}

/**
 * Focal against cross-entropy for several gamma: loss over the true-class
 * probability p_t, and the share of cross-entropy the focal loss keeps. The
 * probability grid is laid out here; the engine sees its logits.
 */
function gammaFigures(env: Env) {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const multi = op.id === 'focal_multiclass';
  const fig = lineFigure(env, t.focalFig, 'figure-gamma', [{ label: 'γ' }], { xLabel: t.pt, yRange: [0, 3] });
  fig.fig.setNote(t.focalNote);
  const ratio = lineFigure(env, t.ratioFig, 'figure-ratio', [{ label: 'γ' }], { xLabel: t.pt, yRange: [0, 1.05] });
  let key = '';
  const n = 199;
  const ps = linspace(0.005, 0.995, n);
  const logits = Float32Array.from(ps, (q) => Math.log(q / (1 - q)));
  // Binary: logit x with target 1; multi-class: rows [x, 0] with target class 0, so p_t = σ(x) either way.
  const inputs: Inputs = multi
    ? {
        input: tensor(
          Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? logits[i / 2]! : 0)),
          [n, 2],
        ),
        target: tensor(filled(n, 0)),
      }
    : { input: tensor(logits), target: tensor(filled(n, 1)) };
  return {
    render(p: Params, rs: Shown[]) {
      const g = Number(p.gamma);
      const gs = GAMMAS.includes(g) ? GAMMAS : [...GAMMAS, g].sort((a, b) => a - b);
      const series = gs.map((v, i) => ({
        label: `γ = ${fmt(v)}`,
        color: i,
        width: v === g ? 3 : 1.5,
        dash: v === g ? undefined : [5, 3],
      }));
      const k = series.map((q) => q.label).join();
      if (k !== key) {
        key = k;
        fig.plot.setOptions({ series });
        ratio.plot.setOptions({ series });
      }
      const base = { ...p, reduction: 'none', ...(multi ? {} : { alpha: -1 }) };
      const ys = gs.map((v) => ev(dl, op.id, inputs, { ...base, gamma: v }));
      const ce = ev(dl, op.id, inputs, { ...base, gamma: 0 });
      const mine = ys[gs.indexOf(g)]!;
      rs.push(rec(`loss over p_t at γ = ${g}`, op.id, inputs, { ...base, gamma: g }, 'value', mine));
      fig.plot.update(ps, ys);
      ratio.plot.update(
        ps,
        ys.map((f) => Float32Array.from(f, (v, i) => v / ce[i]!)),
      );
    },
    destroy() {
      fig.plot.destroy();
      ratio.plot.destroy();
    },
  };
}

// ---- multi-class rows: cross_entropy, focal_multiclass, nll, multi_margin ---------

function rowView(env: Env): FamilyView {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const id = op.id;
  const isNll = id === 'nll';
  const rowDef = isNll ? [-0.5, -1.5, -2, -3] : [2, 0.5, -1, 0];
  const def = isNll ? { xmin: -8, xmax: 0, x: -0.5 } : { xmin: -6, xmax: 8, x: id === 'multi_margin' ? 1 : 2 };
  const { s, onPick } = xControls(env, def, [-30, 30]);
  let row = ctx.store.list('row', rowDef, { min: -100, max: 100, minLen: 2, maxLen: 10 });
  let tc = ctx.store.int('t', 0, 0, 9);
  const tField = slider(env.controls, { id: 'view-t', label: t.trueClass, min: 0, max: 9, step: 1, value: tc }, (v) => {
    tc = Math.round(v);
    env.save('t', tc, 0);
  });
  textField(
    env.controls,
    { id: 'view-row', label: isNll ? t.rowLog : t.row, value: row.join(', '), wide: true },
    (text) => {
      const v = parseList(text);
      if (!v || v.length < 2 || v.length > 10) return ctx.report('row', new Error(`${text}: ${t.badList} (2–10)`));
      ctx.report('row', null);
      row = v;
      env.save('row', v, rowDef);
    },
  );
  const out = readout(env.controls, 'loss-readout');
  const pair = curvePair(env, `x_t (${isNll ? 'log p_t' : t.logit})`, onPick);
  pair.fl.fig.setNote(
    isNll ? t.nllNote : id === 'multi_margin' ? t.mmNote : id === 'cross_entropy' ? t.lsNote : t.lossNote,
  );
  if (id === 'focal_multiclass') pair.fg.fig.setNote(t.focalCompare);
  if (id === 'cross_entropy') pair.fg.fig.setNote(t.ceCompare);
  const bars = lineFigure(env, t.classGrad, 'figure-class-grad', [{ label: '∂ℓ/∂x_c', kind: 'bars' }], { xLabel: 'c' });
  bars.fig.setNote(t.classGradNote);
  const gam = id === 'focal_multiclass' ? gammaFigures(env) : null;
  let shown: Shown[] = [];
  let barKey = '';

  function render(): void {
    const p = entryParams(op, ctx);
    if (!(s.xmin.value < s.xmax.value)) return ctx.report('range', new Error(`x: [${s.xmin.value}, ${s.xmax.value}]`));
    ctx.report('range', null);
    const C = row.length;
    const cls = Math.min(tc, C - 1);
    if (cls !== tc) tField.set(cls);
    const rs: Shown[] = [];
    try {
      const n = CURVE_POINTS;
      const xs = linspace(s.xmin.value, s.xmax.value, n);
      const grid = new Float32Array(n * C);
      for (let i = 0; i < n; ++i) {
        grid.set(row, i * C);
        grid[i * C + cls] = xs[i]!;
      }
      const ins: Inputs = { input: tensor(grid, [n, C]), target: tensor(filled(n, cls)) };
      const calls: (PairSeries & { params: Params; id: string })[] = [
        { label: id, id, params: { ...p, reduction: 'none' }, color: 0 },
      ];
      if (id === 'cross_entropy' && Number(p.label_smoothing) > 0)
        calls.push({
          label: 'ε = 0',
          id,
          params: { ...p, label_smoothing: 0, reduction: 'none' },
          color: 1,
          dash: [6, 4],
        });
      if (id === 'focal_multiclass')
        calls.push({ label: 'γ = 0', id, params: { ...p, gamma: 0, reduction: 'none' }, color: 1, dash: [6, 4] });
      if (id === 'multi_margin')
        calls.push({
          label: 'cross_entropy',
          id: 'cross_entropy',
          params: { reduction: 'none' },
          color: 1,
          dash: [6, 4],
        });
      const pick = Array.from({ length: n }, (_, i) => i * C + cls);
      const fs: Float32Array[] = [];
      const dfs: Float32Array[] = [];
      for (const c of calls) {
        const f = ev(dl, c.id, ins, c.params);
        const gfull = gr(dl, c.id, ins, c.params, 'input');
        const df = Float32Array.from(pick, (j) => gfull[j]!);
        fs.push(f);
        dfs.push(df);
        if (c === calls[0]) {
          rs.push(rec('loss curve', id, ins, c.params, 'value', f));
          rs.push(rec('gradient curve (true-class column)', id, ins, c.params, 'grad:input', df, pick));
        }
      }
      // The probe row, with the entry's own params.
      const prow = row.slice();
      prow[cls] = s.x.value;
      const pin: Inputs = { input: tensor(prow, [1, C]), target: tensor([cls]) };
      const pv = ev(dl, id, pin, p);
      const pg = gr(dl, id, pin, p, 'input');
      rs.push(rec('probe loss', id, pin, p, 'value', pv));
      rs.push(rec('probe gradient (every class)', id, pin, p, 'grad:input', pg));
      const xf = pin.input!.data[cls]!;
      const extra: Mark[] = [];
      let tail = '';
      if (id === 'cross_entropy' && Number(p.label_smoothing) > 0) {
        const b = argmin(fs[0]!);
        if (b > 0 && b < n - 1) {
          extra.push({ x: xs[b]!, y: fs[0]![b]!, color: 2, label: `min ≈ ${fmt(xs[b]!)}` });
          tail = `   argmin x_t ≈ ${fmt(xs[b]!)}`;
        }
      }
      pair.draw(xs, calls, fs, dfs, { x: xf, y: pv[0]!, color: 0 }, { x: xf, y: pg[cls]!, color: 0 }, extra);
      out.textContent = `t = ${cls}   x_t = ${fmt(xf)}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂x_t = ${formatF32(pg[cls]!)}${tail}`;

      // Bars: the gradient of every logit of the probe row (and its softmax, for logit rows).
      const cs = Float32Array.from({ length: C }, (_, i) => i);
      const ys: Float32Array[] = [pg];
      if (!isNll) {
        const sin = { x: tensor(prow, [1, C]) };
        const sm = ev(dl, 'softmax', sin, {});
        rs.push(rec('softmax of the probe row', 'softmax', sin, {}, 'value', sm));
        ys.push(sm);
      }
      const bk = `${ys.length},${C}`;
      if (bk !== barKey) {
        barKey = bk;
        bars.plot.setOptions({
          xRange: [-0.6, C - 0.4],
          series: [
            { label: '∂ℓ/∂x_c', kind: 'bars', color: 0 },
            ...(ys.length > 1 ? [{ label: 'softmax p_c', kind: 'points' as const, color: 1 }] : []),
          ],
        });
      }
      bars.plot.update(cs, ys);
      bars.plot.setMarks([{ x: cls, y: pg[cls]!, color: 3, label: 't' }]);
      if (gam) gam.render(p, rs);
      shown = rs;
      ctx.report('engine', null);
    } catch (err) {
      ctx.report('engine', err);
    }
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      pair.destroy();
      bars.plot.destroy();
      gam?.destroy();
    },
  };
}

// ---- kl_div: the PyTorch convention, per element and for two distributions -------

function klView(env: Env): FamilyView {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const id = op.id;
  const { s, onPick } = xControls(env, { xmin: -6, xmax: 0, x: -1 }, [-30, 5]);
  let pt = ctx.store.num('y', 0.4, 0.001, 1);
  slider(env.controls, { id: 'view-y', label: t.klTargetP, min: 0.001, max: 1, step: 0.001, value: pt }, (v) => {
    pt = v;
    env.save('y', v, 0.4);
  });
  const pDef = [0.5, 0.3, 0.2];
  const qDef = [0, 1, -1];
  let pl = ctx.store.list('p', pDef, { min: 0, max: 1, minLen: 2, maxLen: 10 });
  let ql = ctx.store.list('q', qDef, { min: -50, max: 50, minLen: 2, maxLen: 10 });
  textField(env.controls, { id: 'view-p', label: t.klP, value: pl.join(', ') }, (text) => {
    const v = parseList(text);
    if (!v || v.length < 2 || v.length > 10 || v.some((x) => x < 0 || x > 1))
      return ctx.report('p', new Error(`${t.klP}: ${text}`));
    ctx.report('p', null);
    pl = v;
    env.save('p', v, pDef);
  });
  textField(env.controls, { id: 'view-q', label: t.klQ, value: ql.join(', ') }, (text) => {
    const v = parseList(text);
    if (!v || v.length < 2 || v.length > 10) return ctx.report('q', new Error(`${t.klQ}: ${text}`));
    ctx.report('q', null);
    ql = v;
    env.save('q', v, qDef);
  });
  const out = readout(env.controls, 'loss-readout');
  const pair = curvePair(env, t.klX, onPick);
  pair.fl.fig.setNote(t.klNote);
  const bars = lineFigure(
    env,
    t.klBars,
    'figure-kl-terms',
    [
      { label: 'p_i (log p_i − log q_i)', kind: 'bars', color: 0 },
      { label: 'p_i', kind: 'points', color: 1 },
      { label: 'q_i', kind: 'points', color: 2 },
    ],
    { xLabel: 'i' },
  );
  let barC = 0;
  const bern = lineFigure(env, t.klBern, 'figure-kl-coin', [{ label: 'KL(p ‖ q)' }], { xLabel: 'q' });
  bern.fig.setNote(t.klBernNote);
  const qs2 = linspace(0.005, 0.995, 199);
  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx);
    if (!(s.xmin.value < s.xmax.value)) return ctx.report('range', new Error(`x: [${s.xmin.value}, ${s.xmax.value}]`));
    ctx.report('range', null);
    const logT = Number(p.log_target) !== 0;
    const asTarget = (v: number) => (logT ? Math.log(v) : v);
    const rs: Shown[] = [];
    try {
      const n = CURVE_POINTS;
      const xs = linspace(s.xmin.value, s.xmax.value, n);
      const ins = { input: tensor(xs), target: tensor(filled(n, asTarget(pt))) };
      const params = { ...p, reduction: 'none' };
      const f = ev(dl, id, ins, params);
      const df = gr(dl, id, ins, params, 'input');
      rs.push(rec('loss curve', id, ins, params, 'value', f));
      rs.push(rec('gradient curve', id, ins, params, 'grad:input', df));
      const pin = { input: tensor([s.x.value]), target: tensor([asTarget(pt)]) };
      const pv = ev(dl, id, pin, p);
      const pg = gr(dl, id, pin, p, 'input');
      rs.push(rec('probe loss', id, pin, p, 'value', pv));
      rs.push(rec('probe gradient', id, pin, p, 'grad:input', pg));
      const xf = pin.input.data[0]!;
      pair.draw(
        xs,
        [{ label: id, color: 0 }],
        [f],
        [df],
        { x: xf, y: pv[0]!, color: 0 },
        { x: xf, y: pg[0]!, color: 0 },
      );

      // Two distributions: log q from the engine's log_softmax, then the terms and their sum.
      const C = Math.min(pl.length, ql.length);
      const qin = { x: tensor(ql.slice(0, C), [1, C]) };
      const logq = ev(dl, 'log_softmax', qin, {});
      rs.push(rec('log q = log_softmax(q logits)', 'log_softmax', qin, {}, 'value', logq));
      const kin = { input: tensor(logq, [1, C]), target: tensor(pl.slice(0, C).map(asTarget), [1, C]) };
      const terms = ev(dl, id, kin, { ...p, reduction: 'none' });
      const total = ev(dl, id, kin, { ...p, reduction: 'sum' });
      const mine = ev(dl, id, kin, p);
      rs.push(rec('pointwise KL terms', id, kin, { ...p, reduction: 'none' }, 'value', terms));
      rs.push(rec('KL sum', id, kin, { ...p, reduction: 'sum' }, 'value', total));
      rs.push(rec('KL with the entry reduction', id, kin, p, 'value', mine));
      const qs = ev(dl, 'softmax', qin, {});
      rs.push(rec('q = softmax(q logits)', 'softmax', qin, {}, 'value', qs));
      if (C !== barC) {
        barC = C;
        bars.plot.setOptions({ xRange: [-0.6, C - 0.4] });
      }
      // Two coins: rows [log q, log(1 − q)] against [p, 1 − p]; KL is each row's sum.
      const m = qs2.length;
      const cin = {
        input: tensor(
          Float32Array.from({ length: 2 * m }, (_, i) => Math.log(i % 2 === 0 ? qs2[i >> 1]! : 1 - qs2[i >> 1]!)),
          [m, 2],
        ),
        target: tensor(
          Float32Array.from({ length: 2 * m }, (_, i) => asTarget(i % 2 === 0 ? pt : 1 - pt)),
          [m, 2],
        ),
      };
      const cterms = ev(dl, id, cin, { ...p, reduction: 'none' });
      rs.push(rec('two-coin KL terms', id, cin, { ...p, reduction: 'none' }, 'value', cterms));
      const kl = rowSums(cterms, m, 2);
      bern.plot.update(qs2, [kl]);
      const b = argmin(kl);
      bern.plot.setMarks(b >= 0 ? [{ x: qs2[b]!, y: kl[b]!, color: 1, label: `q ≈ ${fmt(qs2[b]!)}` }] : []);
      bars.plot.update(
        Float32Array.from({ length: C }, (_, i) => i),
        [terms, Float32Array.from(pl.slice(0, C)), qs],
      );
      const red = op.params.find((q) => q.name === 'reduction')?.choices[Number(p.reduction)] ?? '';
      out.textContent = `x = ${fmt(xf)}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂x = ${formatF32(pg[0]!)}   ·   ${t.klSum} = ${formatF32(total[0]!)}   (${red}: ${formatF32(mine[0]!)})`;
      shown = rs;
      ctx.report('engine', null);
    } catch (err) {
      ctx.report('engine', err);
    }
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      pair.destroy();
      bars.plot.destroy();
      bern.plot.destroy();
    },
  };
}

/** Sum of each row of a [rows, cols] result (a display transform of engine values). */
function rowSums(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; ++r) {
    let s = 0;
    for (let c = 0; c < cols; ++c) s += a[r * cols + c]!;
    out[r] = s;
  }
  return out;
}

// ---- entry point ---------------------------------------------------------------

const REGRESSION = ['mse', 'l1', 'huber', 'smooth_l1', 'poisson_nll', 'gaussian_nll'];
const BINARY = ['bce', 'bce_with_logits', 'focal', 'hinge'];
const ROWS = ['cross_entropy', 'focal_multiclass', 'nll', 'multi_margin'];

/** Builds the losses view of one entry. */
export function createView(host: HTMLElement, op: OpMeta, ctx: ViewContext): FamilyView {
  const t = L[ctx.lang];
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures' });
  host.append(figures);
  let view: FamilyView | null = null;
  const env: Env = {
    host,
    op,
    ctx,
    t,
    controls,
    figures,
    save(key, v, def) {
      ctx.store.set(key, v, def);
      ctx.changed();
      view?.render();
    },
    render: () => view?.render(),
  };
  if (REGRESSION.includes(op.id)) view = regressionView(env);
  else if (BINARY.includes(op.id)) view = binaryView(env);
  else if (ROWS.includes(op.id)) view = rowView(env);
  else if (op.id === 'kl_div') view = klView(env);
  else {
    figures.append(h('p', { class: 'muted', text: op.id }));
    view = { render() {}, shown: () => [], destroy() {} };
  }
  return view;
}
