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
import {
  arrowWings,
  entryParams,
  evalCall,
  gradOf,
  record,
  type CallParams,
  type F32Input,
  type F32Inputs,
  guard,
} from './common.js';
import { grid as linspace } from '../ui/sampler.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import type { SliderField } from '../ui/controls.js';
import './views.css';
import './losses.css';

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
    riskNote: 'Found by the engine over a grid of candidate constants (log scale); the dots are the minimisers.',
    data: 'data values',
    overData: (m: number, red: string) => `x predicted for all ${m} data points, reduction ${red}: ℓ =`,
    fitMode: 'fit to the data',
    fitLineTitle: 'Fitting a line a·i + b to the data: drag the points',
    fitLineNote:
      'Each line minimises the mean loss over the points. Drag the outlier at i = 7: the MSE line tilts towards it, the L1 line keeps following the other six points, and Huber, whose pull is capped at δ, stays close to L1.',
    fitConst: 'a constant c',
    fitLine: 'a line a·i + b',
    riskLine: 'Best mean loss for each slope a (minimised over b)',
    riskLineNote: 'From the engine’s mean losses over a grid of lines; the dots are the best lines’ slopes.',
    outlier: 'outlier',
    meanLoss: 'mean loss',
    best: 'best constant',
    bestLine: 'best line',
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
      'Well-classified examples (p_t → 1) are down-weighted by (1 − p_t)^γ: the larger γ, the sooner an easy example stops contributing, so the rare hard ones dominate. Class balancing α is left out of these two figures.',
    ratioFig: 'Focal loss / cross-entropy: the down-weighting factor',
    pt: 'p_t (true-class probability)',
    hingeCompare: 'dashed: logistic loss log(1 + e^{−yx}) (bce_with_logits)',
    hingeNote: 'Scores beyond the margin on the right side cost nothing and give no gradient.',
    bceNote: 'The gradient (x − y) / (x(1 − x)) explodes near the wrong end; PyTorch clamps each log at −100.',
    bcelNote:
      'On logits the gradient is simply σ(x) − y when pos_weight = 1, never larger than 1 in size; pos_weight multiplies the pull of the positive term.',
    posWeight: 'pos_weight',
    satFig: 'The same loss through sigmoid then bce, and fused on the logits',
    satNote:
      'In float32, sigmoid(z) rounds to exactly 1 once z passes about 17 and to 0 below about −104; bce then sees log 0, clamped at −100, and the loss freezes at 100 (and no gradient reaches z) while bce_with_logits keeps growing like |z|. Set the target y to 0 to see the first jump, to 1 for the second.',
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
    rowNote: 'Each point is one row of logits whose true-class entry is x_t (reduction none). The dot is the probe.',
    rowLoss: 'Loss as the logit x_t of the true class moves (the rest of the row fixed)',
    rowGrad: 'Gradient ∂ℓ/∂x_t',
    nllLoss: 'Loss as the log-probability x_t of the true class moves',
    nllBarNote: 'Only the true class receives a gradient; the other log-probabilities are never read.',
    mrLoss: 'Loss against x₁ − x₂',
    mrGrad: 'Gradient ∂ℓ/∂x₁ (∂ℓ/∂x₂ is its negative)',
    mrNote: 'The loss depends only on x₁ − x₂: with y = +1 it is zero once x₁ beats x₂ by the margin.',
    mrPlane: 'Loss over (x₁, x₂): drag the point',
    arrowNote: 'The colour is the loss; the arrow is −∇ℓ, the direction a gradient step moves the point.',
    cosPlane: 'Two embeddings a and b: drag them (colour: the loss as b moves)',
    cosNote:
      'Only directions matter: moving b along its ray changes nothing. Arrows are −∂ℓ/∂a and −∂ℓ/∂b, always perpendicular to their own vector.',
    cosAngle: 'Loss against the angle from a to b',
    angle: 'angle (degrees)',
    tripPlane: 'Anchor, positive and negative: drag them (colour: the loss as the negative moves)',
    tripNote:
      'The loss is zero once the negative is farther from the anchor than the positive by the margin (outside the ring). Arrows are −∇ℓ for each point.',
    batch: 'batch size N',
    seed: 'seed',
    noise: 'key noise (how far each key is from its query)',
    nceSim: 'Similarities s_ij of queries and keys',
    nceSimNote: 'The diagonal holds the positive pairs; every other key in the row is a negative.',
    nceProb: 'softmax_j(s_ij / τ): which key each query picks',
    nceProbNote: 'The loss of row i is −log of its diagonal entry. Lower the temperature and the rows sharpen.',
    nceGrad: 'Gradient of the loss with respect to each query',
    ncePer: 'Loss of each query (reduction none)',
    nceTemp: 'Loss of this batch against the temperature τ',
    nceTempNote:
      'A small τ makes each row’s softmax nearly one-hot: the loss is small if every query already prefers its own key and large if not. As τ grows the rows flatten and the loss tends to log N.',
    frames: 'frames T',
    classes: 'classes C (with the blank)',
    sharp: 'noise scale of the logits',
    hint: 'alignment hint (logit bonus along the target)',
    ctcTarget: 'target (class indices)',
    ctcBad: (c: number, C: number, b: number) => `target class ${c}: must be in [0, ${C - 1}] and not the blank ${b}`,
    ctcLong: 'the target is longer than the number of frames',
    ctcProbs: 'Emission probabilities: class (rows) by frame t (columns)',
    ctcProbsNote:
      'Random seeded logits plus a bonus for the target’s classes along an even split of the frames (blank, l₁, blank, l₂, …, blank). Row 0 is the blank unless the blank param says otherwise.',
    ctcGrad: 'Gradient ∂ℓ/∂log_probs (class by frame)',
    ctcGradNote:
      'Negative (blue) where raising the log-probability helps the paths that spell the target, positive where the mass is wasted. Each frame’s column sums to zero.',
    ctcHint: 'Loss as the alignment hint grows (one batched call)',
    ctcHintNote: 'Each point is one element of a batch whose emissions differ only in the hint strength.',
    badList: 'needs numbers separated by commas',
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
    riskNote: '由引擎在一组候选常数上计算(对数坐标);圆点是各自的最小值点。',
    data: '数据值',
    overData: (m: number, red: string) => `对全部 ${m} 个数据点都预测 x,reduction 为 ${red}:ℓ =`,
    fitMode: '用什么拟合数据',
    fitLineTitle: '用直线 a·i + b 拟合数据:可拖动各点',
    fitLineNote:
      '每条直线使各点的平均损失最小。拖动 i = 7 处的离群点:MSE 的直线向它倾斜,L1 的直线仍然贴着其余六个点,Huber 的拉力被限制在 δ 以内,因此离 L1 不远。',
    fitConst: '常数 c',
    fitLine: '直线 a·i + b',
    riskLine: '每个斜率 a 下的最小平均损失(对 b 取最小)',
    riskLineNote: '由引擎对一组候选直线计算平均损失;圆点是各自最优直线的斜率。',
    outlier: '离群点',
    meanLoss: '平均损失',
    best: '最优常数',
    bestLine: '最优直线',
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
    focalNote:
      '已经分对的样本(p_t → 1)被 (1 − p_t)^γ 降权:γ 越大,简单样本越早失去作用,少见的难样本因而占主导。这两幅图不含类别平衡系数 α。',
    ratioFig: 'Focal 损失 / 交叉熵:降权因子',
    pt: 'p_t(真实类别的概率)',
    hingeCompare: '虚线:逻辑损失 log(1 + e^{−yx})(bce_with_logits)',
    hingeNote: '在正确一侧且超过间隔的得分没有损失,也没有梯度。',
    bceNote: '梯度 (x − y) / (x(1 − x)) 在错误的一端急剧增大;PyTorch 把每个对数项截断在 −100。',
    bcelNote: 'pos_weight = 1 时,在 logits 上梯度就是 σ(x) − y,绝对值不超过 1;pos_weight 放大正样本项的拉力。',
    satFig: '同一个损失:先 sigmoid 再 bce,与直接在 logits 上融合计算',
    satNote:
      'float32 下,z 超过约 17 时 sigmoid(z) 恰好舍入为 1,低于约 −104 时下溢为 0;此时 bce 遇到 log 0,被截断在 −100,损失停在 100(也没有梯度传回 z),而 bce_with_logits 仍按 |z| 增长。把目标 y 设为 0 可看到第一处跳变,设为 1 可看到第二处。',
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
    rowNote: '每个点是一行 logits,其真实类别一项取 x_t(reduction 为 none)。圆点是探针位置。',
    rowLoss: '真实类别的 logit x_t 变化时的损失(该行其余各项不变)',
    rowGrad: '梯度 ∂ℓ/∂x_t',
    nllLoss: '真实类别的对数概率 x_t 变化时的损失',
    nllBarNote: '只有真实类别得到梯度;其余的对数概率根本不会被读取。',
    mrLoss: '损失随 x₁ − x₂ 的变化',
    mrGrad: '梯度 ∂ℓ/∂x₁(∂ℓ/∂x₂ 是它的相反数)',
    mrNote: '损失只取决于 x₁ − x₂:y = +1 时,只要 x₁ 比 x₂ 高出间隔,损失就为零。',
    mrPlane: '(x₁, x₂) 平面上的损失:可拖动该点',
    arrowNote: '颜色表示损失;箭头是 −∇ℓ,即一次梯度下降移动该点的方向。',
    cosPlane: '两个嵌入 a 与 b:可拖动(颜色:b 移动时的损失)',
    cosNote: '只有方向起作用:沿射线移动 b 不改变任何值。箭头是 −∂ℓ/∂a 与 −∂ℓ/∂b,总是垂直于各自的向量。',
    cosAngle: '损失随 a 到 b 夹角的变化',
    angle: '夹角(度)',
    tripPlane: '锚点、正样本与负样本:可拖动(颜色:负样本移动时的损失)',
    tripNote: '当负样本到锚点的距离比正样本远出一个间隔(圆环之外)时损失为零。箭头是每个点的 −∇ℓ。',
    batch: '批大小 N',
    seed: '随机种子',
    noise: 'key 噪声(每个 key 与其 query 的距离)',
    nceSim: 'query 与 key 的相似度 s_ij',
    nceSimNote: '对角线是正样本对;同一行里其余的 key 都是负样本。',
    nceProb: 'softmax_j(s_ij / τ):每个 query 选中哪个 key',
    nceProbNote: '第 i 行的损失是其对角元素的 −log。降低温度,各行会变得更尖锐。',
    nceGrad: '损失对每个 query 的梯度',
    ncePer: '每个 query 的损失(reduction 为 none)',
    nceTemp: '这一批数据的损失随温度 τ 的变化',
    nceTempNote:
      'τ 很小时每行的 softmax 接近 one-hot:若每个 query 已经偏向自己的 key,损失就很小,否则很大。τ 增大时各行趋于平坦,损失趋近 log N。',
    frames: '帧数 T',
    classes: '类别数 C(含空白)',
    sharp: 'logits 的噪声尺度',
    hint: '对齐提示(沿目标给 logit 的加分)',
    ctcTarget: '目标序列(类别下标)',
    ctcBad: (c: number, C: number, b: number) => `目标类别 ${c}:必须在 [0, ${C - 1}] 内且不能是空白 ${b}`,
    ctcLong: '目标序列比帧数还长',
    ctcProbs: '发射概率:行为类别,列为帧 t',
    ctcProbsNote:
      '由种子生成的随机 logits,再沿着把各帧平均分段(空白, l₁, 空白, l₂, …, 空白)的对齐,给目标类别加分。除非 blank 参数另有设置,第 0 行是空白。',
    ctcGrad: '梯度 ∂ℓ/∂log_probs(类别 × 帧)',
    ctcGradNote: '负值(蓝色)表示提高该对数概率有助于拼出目标的路径,正值表示概率质量被浪费。每一帧(每一列)之和为零。',
    ctcHint: '对齐提示增强时的损失(一次批量调用)',
    ctcHintNote: '每个点是批中的一个样本,它们的发射只在提示强度上不同。',
    badList: '需要用逗号分隔的数字',
  },
};
type Texts = (typeof L)['en'];

// ---- helpers: engine calls and their records ---------------------------------

/** An input as the engine sees it. */
type Tensor = F32Input;
type Inputs = F32Inputs;
type Params = CallParams;

function tensor(data: ArrayLike<number>, shape: number[] = [data.length]): Tensor {
  return { shape, data: Float32Array.from(data) };
}

function filled(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}

/** The value of a call (dl.eval's data). */
const ev = (dl: Dlmath, id: string, inputs: Inputs, params: Params): Float32Array =>
  evalCall(dl, id, inputs, params).data;

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
  let fitMode = ctx.store.choice('fit', ['const', 'line'] as const, 'const');
  if (robust)
    select(
      env.controls,
      {
        id: 'view-fit',
        label: t.fitMode,
        options: [
          { value: 'const', label: t.fitConst },
          { value: 'line', label: t.fitLine },
        ],
        value: fitMode,
      },
      (v) => {
        fitMode = v;
        env.save('fit', v, 'const');
      },
    );
  const out = readout(env.controls, 'loss-readout');

  // Which curves: the entry, then overlays.
  type Curve = { label: string; id: string; params: Params; dash?: number[]; color: number };
  // One colour per loss on every figure of the page.
  const myColor = robust ? ({ mse: 1, l1: 2, huber: 3, smooth_l1: 0 } as Record<string, number>)[id]! : 0;
  const curvesOf = (p: Params): Curve[] => {
    const me: Curve = { label: id, id, params: { ...p, reduction: 'none' }, color: myColor };
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
  const fl = lineFigure(env, t.loss, 'figure-loss', seriesFor(curvesOf(entryParams(op, ctx.params))), {
    syncKey: 'dlmath-loss-x',
    onPick,
    xLabel: 'x',
  });
  const fg = lineFigure(
    env,
    t.grad,
    'figure-grad',
    seriesFor(curvesOf(entryParams(op, ctx.params))).map((q) => ({ ...q, label: `∂/∂x ${q.label}` })),
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
  let figFit: Figure | null = null;
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
    figFit = figP;
    figP.root.classList.add('wide-figure');
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
      fitLosses(entryParams(op, ctx.params)).map((f) => ({ label: f.label, color: f.color })),
      { xLabel: 'c', logY: true },
    );
    fr.fig.setNote(t.riskNote);
  }

  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx.params);
    const y = s.y.value;
    const xmin = s.xmin.value;
    const xmax = s.xmax.value;
    if (!(xmin < xmax)) return ctx.report('range', new Error(`x: [${xmin}, ${xmax}]`));
    ctx.report('range', null);
    const rec2: Shown[] = [];
    guard(ctx, 'engine', () => {
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
        const df = gradOf(dl, id, inputs, params, 'input');
        for (let r = 0; r < k; ++r) {
          fs.push(f.subarray(r * n, (r + 1) * n));
          dfs.push(df.subarray(r * n, (r + 1) * n));
        }
        const pick = Array.from({ length: n }, (_, i) => i);
        rec2.push(record('loss curve (var × 1)', id, inputs, params, 'value', f.subarray(0, n), { pick }));
        rec2.push(record('gradient curve (var × 1)', id, inputs, params, 'grad:input', df.subarray(0, n), { pick }));
      } else {
        for (const c of cs) {
          const inputs = { input: tensor(xs), target: tensor(filled(n, y)) };
          const f = ev(dl, c.id, inputs, c.params);
          const df = gradOf(dl, c.id, inputs, c.params, 'input');
          fs.push(f);
          dfs.push(df);
          if (c.id === id) {
            rec2.push(record('loss curve', id, inputs, c.params, 'value', f));
            rec2.push(record('gradient curve', id, inputs, c.params, 'grad:input', df));
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
      const pg = gradOf(dl, id, pin, p, 'input');
      rec2.push(record('probe loss', id, pin, p, 'value', pv));
      rec2.push(record('probe gradient', id, pin, p, 'grad:input', pg));
      const xf = pin.input!.data[0]!;
      const best = isPoisson ? argmin(fs[0]!) : -1;
      fl.plot.setMarks([
        { x: xf, y: pv[0]!, color: myColor },
        ...(best > 0 && best < n - 1
          ? [{ x: xs[best]!, y: fs[0]![best]!, color: 1, label: `min ≈ ${fmt(xs[best]!)}` }]
          : []),
      ]);
      fg.plot.setMarks([{ x: xf, y: pg[0]!, color: myColor }]);
      let text = `x = ${fmt(xf)}   y = ${fmt(pin.target!.data[0]!)}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂x = ${formatF32(pg[0]!)}`;

      if (isGauss && fv) {
        // var on a log grid; the x axis shows log10 var (the layout's own coordinate).
        const us = linspace(-2, 1.5, n);
        const vg = Float32Array.from(us, (u) => 10 ** u);
        const vin = { input: tensor(filled(n, px)), target: tensor(filled(n, y)), var: tensor(vg) };
        const params = { ...p, reduction: 'none' };
        const lv = ev(dl, id, vin, params);
        fv.plot.update(us, [lv]);
        rec2.push(record('loss against var', id, vin, params, 'value', lv));
        const pgv = gradOf(dl, id, pin, p, 'var');
        rec2.push(record('probe ∂ℓ/∂var', id, pin, p, 'grad:var', pgv));
        const best = argmin(lv);
        fv.plot.setMarks([
          { x: Math.log10(pin.var!.data[0]!), y: pv[0]!, color: 0 },
          ...(best >= 0 ? [{ x: us[best]!, y: lv[best]!, color: 1, label: `var ≈ ${fmt(vg[best]!)}` }] : []),
        ]);
        text += `   ∂ℓ/∂var = ${formatF32(pgv[0]!)}`;
      }
      if (robust) {
        // The entry's reduction at work: the probe x predicted for every data point.
        const din = { input: tensor(filled(data.length, px)), target: tensor(data) };
        const dv = ev(dl, id, din, p);
        rec2.push(record('loss of the data set with the entry reduction', id, din, p, 'value', dv));
        const red = op.params.find((q) => q.name === 'reduction')?.choices[Number(p.reduction)] ?? '';
        text += `\n${t.overData(data.length, red)} ${Array.from(dv, formatF32).join(', ')}`;
      }
      out.textContent = text;

      if (robust && plane && fr) {
        // The fit depends only on the data, the mode and the losses' params: redo it only when they change.
        const key = JSON.stringify([data, fitMode, fitLosses(p).map((f) => f.params)]);
        if (key !== fitCache.key) {
          const fitRecs: Shown[] = [];
          renderFit(p, fitRecs);
          fitCache = { key, recs: fitRecs };
        }
        rec2.push(...fitCache.recs);
      }
      shown = rec2;
    });
  }

  // The constant fit: the mean loss of every candidate c over the data, one
  // call per loss on a [K, m] batch (row k = c_k against every point), then a
  // finer grid around the best candidate.
  // Titles and axis of the fit figures follow the mode (a rebuild only when it changes).
  let fitCache: { key: string; recs: Shown[] } = { key: '', recs: [] };
  let shownMode = '';
  function setFitMode(mode: 'const' | 'line'): void {
    if (mode === shownMode) return;
    shownMode = mode;
    figFit?.setTitle(mode === 'line' ? env.t.fitLineTitle : env.t.fit);
    figFit?.setNote(mode === 'line' ? env.t.fitLineNote : env.t.fitNote);
    fr!.fig.setTitle(mode === 'line' ? env.t.riskLine : env.t.risk);
    fr!.plot.setOptions({ xLabel: mode === 'line' ? 'a' : 'c' });
  }

  /** The data points (the last one is the outlier) under the fitted lines, and the fits in the risk figure's note. */
  function showFits(lines: Path[], note: string): void {
    const m = data.length;
    plane!.update(
      lines,
      data.map((v, i) => ({
        x: i + 1,
        y: v,
        color: i === m - 1 ? 4 : 5,
        label: i === m - 1 ? env.t.outlier : undefined,
      })),
    );
    fr!.fig.setNote(note);
  }

  function renderFit(p: Params, rec2: Shown[]): void {
    if (fitMode === 'line') return renderLineFit(p, rec2);
    setFitMode('const');
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
        rec2.push(record('per-point losses over candidate constants', f.id, inputs, params, 'value', all));
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
      rec2.push(record(`mean ${f.label} loss at its best constant`, f.id, at, pm, 'value', r));
      marks.push({ x: at.input.data[0]!, y: r[0]!, color: f.color });
      lines.push({
        label: f.label,
        xs: [0, m + 1],
        ys: [c, c],
        color: f.color,
        width: f.id === op.id ? 3 : 2,
        dash: f.id === op.id ? undefined : [6, 4],
      });
      texts.push(`${f.label}: c ≈ ${c.toFixed(3)}, ${env.t.meanLoss} ${formatF32(r[0]!)}`);
    }
    fr!.plot.update(cs, risks);
    fr!.plot.setMarks(marks);
    showFits(lines, `${env.t.riskNote}  ${env.t.best}: ${texts.join(' · ')}`);
  }

  // The line fit y = a·i + b: every (a, b) of a coarse grid in one call per
  // loss ([A·B, m] predictions against the data), then a finer grid around the
  // best pair. The mean-loss plot shows each loss's profile: the best mean
  // loss for each slope a (minimum over b).
  function renderLineFit(p: Params, rec2: Shown[]): void {
    const m = data.length;
    const xs = Float32Array.from({ length: m }, (_, i) => i + 1);
    const A = 41;
    const B = 61;
    const search = (
      f: ReturnType<typeof fitLosses>[number],
      a0: number,
      a1: number,
      b0: number,
      b1: number,
      A: number,
      B: number,
    ) => {
      const as = linspace(a0, a1, A);
      const bs = linspace(b0, b1, B);
      const pred = new Float32Array(A * B * m);
      const tgt = new Float32Array(A * B * m);
      for (let ia = 0; ia < A; ++ia)
        for (let ib = 0; ib < B; ++ib) {
          const row = (ia * B + ib) * m;
          for (let i = 0; i < m; ++i) pred[row + i] = as[ia]! * xs[i]! + bs[ib]!;
          tgt.set(data, row);
        }
      const all = ev(
        dl,
        f.id,
        { input: tensor(pred, [A * B, m]), target: tensor(tgt, [A * B, m]) },
        { ...f.params, reduction: 'none' },
      );
      const risk = rowMeans(all, A * B, m);
      const k = argmin(risk);
      return { as, bs, risk, a: as[Math.floor(k / B)]!, b: bs[k % B]! };
    };
    const losses = fitLosses(p);
    const profiles: Float32Array[] = [];
    const marks: Mark[] = [];
    const lines: Path[] = [];
    const texts: string[] = [];
    let grid: Float32Array | null = null;
    for (const f of losses) {
      const c1 = search(f, -2, 2, -6, 10, A, B);
      const da = c1.as[1]! - c1.as[0]!;
      const db = c1.bs[1]! - c1.bs[0]!;
      const c2 = search(f, c1.a - da, c1.a + da, c1.b - db, c1.b + db, 21, 21);
      const c3 = search(f, c2.a - da / 10, c2.a + da / 10, c2.b - db / 10, c2.b + db / 10, 21, 21);
      grid = c1.as;
      const prof = new Float32Array(A);
      for (let ia = 0; ia < A; ++ia) {
        let best = Infinity;
        for (let ib = 0; ib < B; ++ib) best = Math.min(best, c1.risk[ia * B + ib]!);
        prof[ia] = best;
      }
      profiles.push(prof);
      // The printed mean loss of the best line: one call with reduction mean.
      const at = { input: tensor(Float32Array.from(xs, (x) => c3.a * x + c3.b)), target: tensor(data) };
      const pm = { ...f.params, reduction: 'mean' };
      const r = ev(dl, f.id, at, pm);
      rec2.push(record(`mean ${f.label} loss of its best line`, f.id, at, pm, 'value', r));
      marks.push({ x: c3.a, y: r[0]!, color: f.color });
      lines.push({
        label: f.label,
        xs: [0, m + 1],
        ys: [c3.b, c3.a * (m + 1) + c3.b],
        color: f.color,
        width: f.id === op.id ? 3 : 2,
        dash: f.id === op.id ? undefined : [6, 4],
      });
      texts.push(`${f.label}: a ≈ ${c3.a.toFixed(3)}, b ≈ ${c3.b.toFixed(3)}, ${env.t.meanLoss} ${formatF32(r[0]!)}`);
    }
    setFitMode('line');
    if (grid) fr!.plot.update(grid, profiles);
    fr!.plot.setMarks(marks);
    showFits(lines, `${env.t.riskLineNote}  ${env.t.bestLine}: ${texts.join(' · ')}`);
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
function curvePair(env: Env, xLabel: string, onPick: (x: number) => void, titles?: [string, string], dname = 'x') {
  const { t } = env;
  const opts = { syncKey: 'dlmath-loss-x', onPick, xLabel };
  const fl = lineFigure(env, titles?.[0] ?? t.loss, 'figure-loss', [{ label: env.op.id }], opts);
  const fg = lineFigure(env, titles?.[1] ?? t.grad, 'figure-grad', [{ label: `∂/∂${dname} ${env.op.id}` }], opts);
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
        fg.plot.setOptions({ series: ls.map((q) => ({ ...q, label: `∂/∂${dname} ${q.label}` })) });
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
  let y = isHinge ? Number(ctx.store.choice('sign', ['1', '-1'] as const, '1')) : ctx.store.num('y', 1, 0, 1);
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
        env.save('sign', v, '1');
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
  const sat = id === 'bce' || id === 'bce_with_logits' ? saturationFigure(env) : null;
  let shown: Shown[] = [];

  function inputsAt(xs: Float32Array, target: number): Inputs {
    const n = xs.length;
    const ins: Inputs = { input: tensor(xs), target: tensor(filled(n, target)) };
    if (pw) ins.pos_weight = tensor(filled(n, pw.value));
    return ins;
  }

  function render(): void {
    const p = entryParams(op, ctx.params);
    if (!(s.xmin.value < s.xmax.value)) return ctx.report('range', new Error(`x: [${s.xmin.value}, ${s.xmax.value}]`));
    ctx.report('range', null);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
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
        const df = gradOf(dl, c.id, ins, c.params, 'input');
        fs.push(f);
        dfs.push(df);
        if (c === calls[0]) {
          rs.push(record('loss curve', id, ins, c.params, 'value', f));
          rs.push(record('gradient curve', id, ins, c.params, 'grad:input', df));
        }
      }
      const pin = inputsAt(Float32Array.of(s.x.value), y);
      const pv = ev(dl, id, pin, p);
      const pg = gradOf(dl, id, pin, p, 'input');
      rs.push(record('probe loss', id, pin, p, 'value', pv));
      rs.push(record('probe gradient', id, pin, p, 'grad:input', pg));
      const xf = pin.input!.data[0]!;
      pair.draw(xs, calls, fs, dfs, { x: xf, y: pv[0]!, color: 0 }, { x: xf, y: pg[0]!, color: 0 });
      out.textContent = `x = ${fmt(xf)}   y = ${fmt(pin.target!.data[0]!)}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂x = ${formatF32(pg[0]!)}`;
      if (gam) gam.render(p, rs);
      sat?.render(y, rs);
      shown = rs;
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      pair.destroy();
      gam?.destroy();
      sat?.destroy();
    },
  };
}

/**
 * Why bce_with_logits exists: bce on sigmoid outputs against bce_with_logits
 * on the same logits. In float32 sigmoid rounds to exactly 1 above z ≈ 17 and
 * underflows to 0 below z ≈ −104, where bce's log is clamped at −100.
 */
function saturationFigure(env: Env) {
  const { ctx, t } = env;
  const { dl } = ctx;
  const fig = lineFigure(
    env,
    t.satFig,
    'figure-saturation',
    [
      { label: 'bce(sigmoid(z))', color: 1 },
      { label: 'bce_with_logits(z)', color: 0, dash: [6, 4] },
    ],
    { xLabel: 'z' },
  );
  fig.fig.setNote(t.satNote);
  const zs = linspace(-120, 120, CURVE_POINTS);
  return {
    render(y: number, rs: Shown[]) {
      const n = zs.length;
      const sin = { x: tensor(zs) };
      const sg = ev(dl, 'sigmoid', sin, {});
      rs.push(record('sigmoid(z)', 'sigmoid', sin, {}, 'value', sg));
      const bin = { input: tensor(sg), target: tensor(filled(n, y)) };
      const none = { reduction: 'none' };
      const b1 = ev(dl, 'bce', bin, none);
      rs.push(record('bce on sigmoid outputs', 'bce', bin, none, 'value', b1));
      const lin = { input: tensor(zs), target: tensor(filled(n, y)) };
      const b2 = ev(dl, 'bce_with_logits', lin, none);
      rs.push(record('bce_with_logits on the logits', 'bce_with_logits', lin, none, 'value', b2));
      fig.plot.update(zs, [b1, b2]);
    },
    destroy: () => fig.plot.destroy(),
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
        // Colour 4 is too close to colour 1 to sit beside it.
        color: [0, 1, 2, 3, 5, 6, 7][i % 7]!,
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
      rs.push(record(`loss over p_t at γ = ${g}`, op.id, inputs, { ...base, gamma: g }, 'value', mine));
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
  const pair = curvePair(
    env,
    `x_t (${isNll ? 'log p_t' : t.logit})`,
    onPick,
    [isNll ? t.nllLoss : t.rowLoss, t.rowGrad],
    'x_t',
  );
  pair.fl.fig.setNote(
    isNll ? t.nllNote : id === 'multi_margin' ? t.mmNote : id === 'cross_entropy' ? t.lsNote : t.rowNote,
  );
  if (id === 'focal_multiclass') pair.fg.fig.setNote(t.focalCompare);
  if (id === 'cross_entropy') pair.fg.fig.setNote(t.ceCompare);
  const bars = lineFigure(env, t.classGrad, 'figure-class-grad', [{ label: '∂ℓ/∂x_c', kind: 'bars' }], { xLabel: 'c' });
  bars.fig.setNote(isNll ? t.nllBarNote : t.classGradNote);
  const gam = id === 'focal_multiclass' ? gammaFigures(env) : null;
  let shown: Shown[] = [];
  let barKey = '';

  function render(): void {
    const p = entryParams(op, ctx.params);
    if (!(s.xmin.value < s.xmax.value)) return ctx.report('range', new Error(`x: [${s.xmin.value}, ${s.xmax.value}]`));
    ctx.report('range', null);
    const C = row.length;
    const cls = Math.min(tc, C - 1);
    if (cls !== tc) tField.set(cls);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
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
        const gfull = gradOf(dl, c.id, ins, c.params, 'input');
        const df = Float32Array.from(pick, (j) => gfull[j]!);
        fs.push(f);
        dfs.push(df);
        if (c === calls[0]) {
          rs.push(record('loss curve', id, ins, c.params, 'value', f));
          rs.push(record('gradient curve (true-class column)', id, ins, c.params, 'grad:input', df, { pick }));
        }
      }
      // The probe row, with the entry's own params.
      const prow = row.slice();
      prow[cls] = s.x.value;
      const pin: Inputs = { input: tensor(prow, [1, C]), target: tensor([cls]) };
      const pv = ev(dl, id, pin, p);
      const pg = gradOf(dl, id, pin, p, 'input');
      rs.push(record('probe loss', id, pin, p, 'value', pv));
      rs.push(record('probe gradient (every class)', id, pin, p, 'grad:input', pg));
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
        rs.push(record('softmax of the probe row', 'softmax', sin, {}, 'value', sm));
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
    });
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
    const p = entryParams(op, ctx.params);
    if (!(s.xmin.value < s.xmax.value)) return ctx.report('range', new Error(`x: [${s.xmin.value}, ${s.xmax.value}]`));
    ctx.report('range', null);
    const logT = Number(p.log_target) !== 0;
    const asTarget = (v: number) => (logT ? Math.log(v) : v);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const n = CURVE_POINTS;
      const xs = linspace(s.xmin.value, s.xmax.value, n);
      const ins = { input: tensor(xs), target: tensor(filled(n, asTarget(pt))) };
      const params = { ...p, reduction: 'none' };
      const f = ev(dl, id, ins, params);
      const df = gradOf(dl, id, ins, params, 'input');
      rs.push(record('loss curve', id, ins, params, 'value', f));
      rs.push(record('gradient curve', id, ins, params, 'grad:input', df));
      const pin = { input: tensor([s.x.value]), target: tensor([asTarget(pt)]) };
      const pv = ev(dl, id, pin, p);
      const pg = gradOf(dl, id, pin, p, 'input');
      rs.push(record('probe loss', id, pin, p, 'value', pv));
      rs.push(record('probe gradient', id, pin, p, 'grad:input', pg));
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
      rs.push(record('log q = log_softmax(q logits)', 'log_softmax', qin, {}, 'value', logq));
      const kin = { input: tensor(logq, [1, C]), target: tensor(pl.slice(0, C).map(asTarget), [1, C]) };
      const terms = ev(dl, id, kin, { ...p, reduction: 'none' });
      const total = ev(dl, id, kin, { ...p, reduction: 'sum' });
      const mine = ev(dl, id, kin, p);
      rs.push(record('pointwise KL terms', id, kin, { ...p, reduction: 'none' }, 'value', terms));
      rs.push(record('KL sum', id, kin, { ...p, reduction: 'sum' }, 'value', total));
      rs.push(record('KL with the entry reduction', id, kin, p, 'value', mine));
      const qs = ev(dl, 'softmax', qin, {});
      rs.push(record('q = softmax(q logits)', 'softmax', qin, {}, 'value', qs));
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
      rs.push(record('two-coin KL terms', id, cin, { ...p, reduction: 'none' }, 'value', cterms));
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
    });
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

// ---- ranking and embeddings: margin_ranking, cosine_embedding, triplet_margin ----

/** Field resolution of the planes (one call of FIELD² rows). */
const FIELD = 61;

/** A polyline arrow from (x, y) along (dx, dy), its length capped for display. */
function arrow(label: string, x: number, y: number, dx: number, dy: number, color: number, cap: number): Path {
  const len = Math.hypot(dx, dy);
  if (!(len > 1e-9)) return { label, xs: [x], ys: [y], color };
  const k = len > cap ? cap / len : 1;
  const ex = x + dx * k;
  const ey = y + dy * k;
  // Head: two short strokes back from the tip, ±30°.
  const [[lx, ly], [rx, ry]] = arrowWings(ex, ey, dx / len, dy / len, Math.min(0.25 * cap, 0.4 * len * k));
  return {
    label,
    xs: [x, ex, lx, ex, rx],
    ys: [y, ey, ly, ey, ry],
    color,
    width: 2.5,
  };
}

/** The plane's grid points as rows [x, y] (row-major, y from min to max). */
/** The wide, square figure the pair views draw their plane in ('figure-plane'). */
function squareFigure(env: Env, title: string): Figure {
  const fig = new Figure(env.figures, title, env.ctx.lang, 'figure-plane');
  fig.root.classList.add('wide-figure');
  fig.body.classList.add('losses-square');
  return fig;
}

/**
 * A plane of draggable points over R × R (equal aspect) in `fig`, with its note.
 * @param onDrag - point i was dragged to (x, y)
 */
function dragPlane(
  fig: Figure,
  R: [number, number],
  labels: [string, string],
  note: string,
  onDrag: (i: number, x: number, y: number) => void,
): PlanePlot {
  const plane = new PlanePlot(fig.body, {
    x: R,
    y: R,
    xLabel: labels[0],
    yLabel: labels[1],
    equalAspect: true,
    onDrag,
  });
  fig.attach(plane);
  fig.setNote(note);
  return plane;
}

/** `pts` ([x0, y0, x1, y1, …]) with point i moved to (x, y), rounded to 3 decimals as the link keeps them. */
function movePoint(pts: number[], i: number, x: number, y: number): number[] {
  const out = pts.slice();
  out[2 * i] = Number(x.toFixed(3));
  out[2 * i + 1] = Number(y.toFixed(3));
  return out;
}

function fieldGrid(x: [number, number], y: [number, number]): { xs: Float32Array; ys: Float32Array } {
  const xs = new Float32Array(FIELD * FIELD);
  const ys = new Float32Array(FIELD * FIELD);
  for (let r = 0; r < FIELD; ++r)
    for (let c = 0; c < FIELD; ++c) {
      xs[r * FIELD + c] = x[0] + ((x[1] - x[0]) * c) / (FIELD - 1);
      ys[r * FIELD + c] = y[0] + ((y[1] - y[0]) * r) / (FIELD - 1);
    }
  return { xs, ys };
}

function interleave(xs: ArrayLike<number>, ys: ArrayLike<number>): Float32Array {
  const out = new Float32Array(2 * xs.length);
  for (let i = 0; i < xs.length; ++i) {
    out[2 * i] = xs[i]!;
    out[2 * i + 1] = ys[i]!;
  }
  return out;
}

/** A ±1 label control bound to the store. */
function labelSelect(env: Env, onSet: (v: number) => void): number {
  const y = Number(env.ctx.store.choice('sign', ['1', '-1'] as const, '1'));
  select(
    env.controls,
    {
      id: 'view-y',
      label: env.t.label,
      options: [
        { value: '1', label: '+1' },
        { value: '-1', label: '−1' },
      ],
      value: y === 1 ? '1' : '-1',
    },
    (v) => {
      onSet(Number(v));
      env.save('sign', v, '1');
    },
  );
  return y;
}

function marginRankingView(env: Env): FamilyView {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const id = op.id;
  let y = labelSelect(env, (v) => (y = v));
  const R: [number, number] = [-3, 3];
  let pt = ctx.store.list('pt', [0.5, 1], { min: R[0], max: R[1], minLen: 2, maxLen: 2 });
  const out = readout(env.controls, 'loss-readout');
  const pair = curvePair(env, 'x₁ − x₂', () => {}, [t.mrLoss, t.mrGrad], 'x₁');
  pair.fl.fig.setNote(t.mrNote);
  const plane = dragPlane(squareFigure(env, t.mrPlane), R, ['x₁', 'x₂'], t.arrowNote, (_i, x, yy) => {
    pt = movePoint(pt, 0, x, yy);
    env.save('pt', pt, [0.5, 1]);
  });
  const grid = fieldGrid(R, R);
  let fieldKey = '';
  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx.params);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const n = CURVE_POINTS;
      const ds = linspace(-4, 4, n);
      const ins = { input1: tensor(ds), input2: tensor(filled(n, 0)), target: tensor(filled(n, y)) };
      const params = { ...p, reduction: 'none' };
      const f = ev(dl, id, ins, params);
      const df = gradOf(dl, id, ins, params, 'input1');
      rs.push(record('loss against x1 − x2', id, ins, params, 'value', f));
      rs.push(record('∂ℓ/∂x1 against x1 − x2', id, ins, params, 'grad:input1', df));
      const pin = { input1: tensor([pt[0]!]), input2: tensor([pt[1]!]), target: tensor([y]) };
      const pv = ev(dl, id, pin, p);
      const g1 = gradOf(dl, id, pin, p, 'input1');
      const g2 = gradOf(dl, id, pin, p, 'input2');
      rs.push(record('loss at the point', id, pin, p, 'value', pv));
      rs.push(record('∂ℓ/∂x1 at the point', id, pin, p, 'grad:input1', g1));
      rs.push(record('∂ℓ/∂x2 at the point', id, pin, p, 'grad:input2', g2));
      const d = pin.input1.data[0]! - pin.input2.data[0]!;
      pair.draw(ds, [{ label: id, color: 0 }], [f], [df], { x: d, y: pv[0]!, color: 0 }, { x: d, y: g1[0]!, color: 0 });
      const fk = `${y},${p.margin}`;
      if (fk !== fieldKey) {
        fieldKey = fk;
        const m = grid.xs.length;
        plane.setField({
          nx: FIELD,
          ny: FIELD,
          values: ev(
            dl,
            id,
            { input1: tensor(grid.xs), input2: tensor(grid.ys), target: tensor(filled(m, y)) },
            params,
          ),
        });
      }
      plane.update(
        [arrow('−∇ℓ', pt[0]!, pt[1]!, -g1[0]!, -g2[0]!, 1, 1.5)],
        [{ x: pt[0]!, y: pt[1]!, color: 0, label: '(x₁, x₂)' }],
      );
      out.textContent = `x₁ = ${fmt(pt[0]!)}   x₂ = ${fmt(pt[1]!)}   y = ${y}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂x₁ = ${formatF32(g1[0]!)}   ∂ℓ/∂x₂ = ${formatF32(g2[0]!)}`;
      shown = rs;
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      pair.destroy();
      plane.destroy();
    },
  };
}

function cosineView(env: Env): FamilyView {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const id = op.id;
  let y = labelSelect(env, (v) => (y = v));
  const R: [number, number] = [-2, 2];
  const defs = [1.2, 0.3, 0.4, 1.1];
  let pts = ctx.store.list('pts', defs, { min: R[0], max: R[1], minLen: 4, maxLen: 4 });
  const out = readout(env.controls, 'loss-readout');
  const figP = squareFigure(env, t.cosPlane);
  // Every figure exists before the plane is built, so its width is final when it measures itself.
  const fa = lineFigure(env, t.cosAngle, 'figure-angle', [{ label: 'y = +1' }, { label: 'y = −1', color: 1 }], {
    xLabel: t.angle,
  });
  const plane = dragPlane(figP, R, ['dim 0', 'dim 1'], t.cosNote, (i, x, yy) => {
    pts = movePoint(pts, i, x, yy);
    env.save('pts', pts, defs);
  });
  const grid = fieldGrid(R, R);
  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx.params);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const [ax, ay, bx, by] = pts as [number, number, number, number];
      const pin = { input1: tensor([ax, ay], [1, 2]), input2: tensor([bx, by], [1, 2]), target: tensor([y]) };
      const pv = ev(dl, id, pin, p);
      const ga = gradOf(dl, id, pin, p, 'input1');
      const gb = gradOf(dl, id, pin, p, 'input2');
      rs.push(record('loss of the pair', id, pin, p, 'value', pv));
      rs.push(record('∂ℓ/∂a', id, pin, p, 'grad:input1', ga));
      rs.push(record('∂ℓ/∂b', id, pin, p, 'grad:input2', gb));
      // The field: the loss as b moves over the plane, a fixed (one call).
      const m = grid.xs.length;
      const fin = {
        input1: tensor(interleave(filled(m, ax), filled(m, ay)), [m, 2]),
        input2: tensor(interleave(grid.xs, grid.ys), [m, 2]),
        target: tensor(filled(m, y)),
      };
      plane.setField({ nx: FIELD, ny: FIELD, values: ev(dl, id, fin, { ...p, reduction: 'none' }) });
      plane.update(
        [
          { label: 'a', xs: [0, ax], ys: [0, ay], color: 0, width: 1.5, dash: [4, 3] },
          { label: 'b', xs: [0, bx], ys: [0, by], color: 2, width: 1.5, dash: [4, 3] },
          arrow('−∂ℓ/∂a', ax, ay, -ga[0]!, -ga[1]!, 0, 1),
          arrow('−∂ℓ/∂b', bx, by, -gb[0]!, -gb[1]!, 2, 1),
        ],
        [
          { x: ax, y: ay, color: 0, label: 'a' },
          { x: bx, y: by, color: 2, label: 'b' },
        ],
      );
      // The loss against the angle from a to b (b rotated around the origin, its length kept).
      const n = CURVE_POINTS;
      const th = linspace(-Math.PI, Math.PI, n);
      const rb = Math.hypot(bx, by) || 1;
      const a0 = Math.atan2(ay, ax);
      const ain = interleave(filled(n, ax), filled(n, ay));
      const bin = interleave(
        Float32Array.from(th, (v) => rb * Math.cos(a0 + v)),
        Float32Array.from(th, (v) => rb * Math.sin(a0 + v)),
      );
      const curves = [1, -1].map((yy) => {
        const ins = { input1: tensor(ain, [n, 2]), input2: tensor(bin, [n, 2]), target: tensor(filled(n, yy)) };
        const f = ev(dl, id, ins, { ...p, reduction: 'none' });
        if (yy === y)
          rs.push(record(`loss against the angle (y = ${yy})`, id, ins, { ...p, reduction: 'none' }, 'value', f));
        return f;
      });
      const deg = Float32Array.from(th, (v) => (v * 180) / Math.PI);
      fa.plot.update(deg, curves);
      const ang = Math.atan2(ax * by - ay * bx, ax * bx + ay * by);
      fa.plot.setMarks([{ x: (ang * 180) / Math.PI, y: pv[0]!, color: y === 1 ? 0 : 1 }]);
      out.textContent = `y = ${y}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂a = (${formatF32(ga[0]!)}, ${formatF32(ga[1]!)})   ∂ℓ/∂b = (${formatF32(gb[0]!)}, ${formatF32(gb[1]!)})`;
      shown = rs;
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      plane.destroy();
      fa.plot.destroy();
    },
  };
}

function tripletView(env: Env): FamilyView {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const id = op.id;
  const R: [number, number] = [-3, 3];
  const defs = [0, 0, 1.2, 0.6, 0.8, -1];
  let pts = ctx.store.list('pts', defs, { min: R[0], max: R[1], minLen: 6, maxLen: 6 });
  const out = readout(env.controls, 'loss-readout');
  const plane = dragPlane(squareFigure(env, t.tripPlane), R, ['dim 0', 'dim 1'], t.tripNote, (i, x, yy) => {
    pts = movePoint(pts, i, x, yy);
    env.save('pts', pts, defs);
  });
  const grid = fieldGrid(R, R);
  let shown: Shown[] = [];
  const names = ['anchor', 'positive', 'negative'] as const;

  function render(): void {
    const p = entryParams(op, ctx.params);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const pin: Inputs = {};
      names.forEach((nm, i) => (pin[nm] = tensor([pts[2 * i]!, pts[2 * i + 1]!], [1, 2])));
      const pv = ev(dl, id, pin, p);
      rs.push(record('triplet loss', id, pin, p, 'value', pv));
      const gs = names.map((nm) => {
        const g = gradOf(dl, id, pin, p, nm);
        rs.push(record(`∂ℓ/∂${nm}`, id, pin, p, `grad:${nm}`, g));
        return g;
      });
      // The field: the loss as the negative moves, anchor and positive fixed.
      const m = grid.xs.length;
      const fin = {
        anchor: tensor(interleave(filled(m, pts[0]!), filled(m, pts[1]!)), [m, 2]),
        positive: tensor(interleave(filled(m, pts[2]!), filled(m, pts[3]!)), [m, 2]),
        negative: tensor(interleave(grid.xs, grid.ys), [m, 2]),
      };
      plane.setField({ nx: FIELD, ny: FIELD, values: ev(dl, id, fin, { ...p, reduction: 'none' }) });
      const colors = [0, 2, 1];
      plane.update(
        [
          { label: 'a–p', xs: [pts[0]!, pts[2]!], ys: [pts[1]!, pts[3]!], color: 2, width: 1.5, dash: [4, 3] },
          { label: 'a–n', xs: [pts[0]!, pts[4]!], ys: [pts[1]!, pts[5]!], color: 1, width: 1.5, dash: [4, 3] },
          ...names.map((nm, i) =>
            arrow(`−∂ℓ/∂${nm}`, pts[2 * i]!, pts[2 * i + 1]!, -gs[i]![0]!, -gs[i]![1]!, colors[i]!, 1.5),
          ),
        ],
        names.map((nm, i) => ({ x: pts[2 * i]!, y: pts[2 * i + 1]!, color: colors[i], label: nm })),
      );
      // The two distances the loss compares, from the engine's pairwise_distance with the same p and eps.
      const dp = { p: Number(p.p), eps: Number(p.eps) };
      const dIn = (other: string) => ({ x1: pin.anchor!, x2: pin[other]! });
      const dap = ev(dl, 'pairwise_distance', dIn('positive'), dp);
      const dan = ev(dl, 'pairwise_distance', dIn('negative'), dp);
      rs.push(record('d(anchor, positive)', 'pairwise_distance', dIn('positive'), dp, 'value', dap));
      rs.push(record('d(anchor, negative)', 'pairwise_distance', dIn('negative'), dp, 'value', dan));
      out.textContent = `d(a, p) = ${formatF32(dap[0]!)}   d(a, n) = ${formatF32(dan[0]!)}   ℓ = ${formatF32(pv[0]!)}   ${names.map((nm, i) => `∂ℓ/∂${nm} = (${formatF32(gs[i]![0]!)}, ${formatF32(gs[i]![1]!)})`).join('   ')}`;
      shown = rs;
    });
  }
  return { render, shown: () => shown, destroy: () => plane.destroy() };
}

// ---- info_nce: a batch of queries and keys ---------------------------------------

const NCE_DIM = 8;

function infoNceView(env: Env): FamilyView {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const id = op.id;
  const s = {
    n: storeSlider(env, 'n', t.batch, 6, 2, 12, 1, (v) => (s.n.value = Math.round(v))),
    seed: storeSlider(env, 'seed', t.seed, 1, 0, 999, 1, (v) => (s.seed.value = Math.round(v))),
    noise: storeSlider(env, 'noise', t.noise, 1.2, 0, 3, 0.01, (v) => (s.noise.value = v)),
  };
  const out = readout(env.controls, 'loss-readout');
  const mk = (title: string, testid: string, map: 'sequential' | 'diverging', range?: [number, number]) => {
    const fig = new Figure(env.figures, title, ctx.lang, testid);
    const hm = new Heatmap(fig.body, { map, range, rowLabel: 'query', colLabel: 'key' });
    fig.attach(hm);
    return { fig, hm };
  };
  const sim = mk(t.nceSim, 'figure-sim', 'diverging');
  sim.fig.setNote(t.nceSimNote);
  const prob = mk(t.nceProb, 'figure-prob', 'sequential', [0, 1]);
  prob.fig.setNote(t.nceProbNote);
  const gq = new Figure(env.figures, t.nceGrad, ctx.lang, 'figure-grad-query');
  gq.root.classList.add('wide-figure');
  const ghm = new Heatmap(gq.body, { map: 'diverging', rowLabel: 'query', colLabel: 'dim', numbersUpTo: 6 });
  gq.attach(ghm);
  const per = lineFigure(env, t.ncePer, 'figure-per-row', [{ label: 'ℓ_i', kind: 'bars' }], { xLabel: 'i' });
  const ft = lineFigure(env, t.nceTemp, 'figure-temperature', [{ label: 'ℓ' }], { xLabel: 'log₁₀ τ' });
  ft.fig.setNote(t.nceTempNote);
  const taus = linspace(-2, 0.5, 41);
  let perN = 0;
  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx.params);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const N = s.n.value;
      const D = NCE_DIM;
      // Queries and the noise come from the engine's seeded initializer; each key is its query plus noise.
      const q = dl.init('xavier_normal', [N, D], { seed: s.seed.value }).data;
      const e = dl.init('xavier_normal', [N, D], { seed: s.seed.value + 1000 }).data;
      const k = Float32Array.from(q, (v, i) => v + s.noise.value * e[i]!);
      const ins = { query: tensor(q, [N, D]), key: tensor(k, [N, D]) };
      const norm = Number(p.normalize) !== 0;
      const sin = { x1: ins.query, x2: ins.key };
      const simId = norm ? 'cosine_similarity' : 'dot';
      const sp = { all_pairs: true };
      const S = ev(dl, simId, sin, sp);
      rs.push(record('similarity matrix', simId, sin, sp, 'value', S));
      sim.hm.update(S, N, N);
      const tin = { x: tensor(S, [N, N]) };
      const tp = { temperature: Number(p.temperature) };
      const P = ev(dl, 'softmax_temperature', tin, tp);
      rs.push(record('softmax(s / τ) per query', 'softmax_temperature', tin, tp, 'value', P));
      prob.hm.update(P, N, N);
      const none = { ...p, reduction: 'none' };
      const li = ev(dl, id, ins, none);
      rs.push(record('loss per query', id, ins, none, 'value', li));
      const lv = ev(dl, id, ins, p);
      rs.push(record('loss', id, ins, p, 'value', lv));
      const g = gradOf(dl, id, ins, p, 'query');
      rs.push(record('∂ℓ/∂query', id, ins, p, 'grad:query', g));
      ghm.update(g, N, D);
      if (N !== perN) {
        perN = N;
        per.plot.setOptions({ xRange: [-0.6, N - 0.4] });
      }
      per.plot.update(
        Float32Array.from({ length: N }, (_, i) => i),
        [li],
      );
      // The loss of the same batch over a range of temperatures (one small call each).
      const lt = Float32Array.from(taus, (u) => ev(dl, id, ins, { ...p, temperature: 10 ** u })[0]!);
      ft.plot.update(taus, [lt]);
      ft.plot.setMarks([{ x: Math.log10(Number(p.temperature)), y: lv[0]!, color: 1 }]);
      const red = op.params.find((q2) => q2.name === 'reduction')?.choices[Number(p.reduction)] ?? '';
      out.textContent = `N = ${N}   D = ${D}   τ = ${fmt(Number(p.temperature))}   ℓ (${red}) = ${formatF32(lv[0]!)}   log N = ${fmt(Math.log(N))}`;
      shown = rs;
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      sim.hm.destroy();
      prob.hm.destroy();
      ghm.destroy();
      per.plot.destroy();
      ft.plot.destroy();
    },
  };
}

// ---- ctc: emissions, target text, loss and gradient ------------------------------

function ctcView(env: Env): FamilyView {
  const { op, ctx, t } = env;
  const { dl } = ctx;
  const id = op.id;
  const s = {
    T: storeSlider(env, 'T', t.frames, 12, 2, 40, 1, (v) => (s.T.value = Math.round(v))),
    C: storeSlider(env, 'C', t.classes, 5, 2, 10, 1, (v) => (s.C.value = Math.round(v))),
    seed: storeSlider(env, 'seed', t.seed, 1, 0, 999, 1, (v) => (s.seed.value = Math.round(v))),
    sharp: storeSlider(env, 'sharp', t.sharp, 1, 0, 4, 0.01, (v) => (s.sharp.value = v)),
    hint: storeSlider(env, 'hint', t.hint, 2, 0, 8, 0.01, (v) => (s.hint.value = v)),
  };
  const tdef = '1 2 2 3';
  let target = parseTarget(ctx.store.text('target', tdef, 200)) ?? [1, 2, 2, 3];
  textField(env.controls, { id: 'view-target', label: t.ctcTarget, value: target.join(' '), wide: true }, (text) => {
    const v = parseTarget(text);
    if (!v) return ctx.report('target', new Error(`${t.ctcTarget}: '${text}'`));
    ctx.report('target', null);
    target = v;
    env.save('target', v.join(' '), tdef);
  });
  const out = readout(env.controls, 'loss-readout');
  const fp = new Figure(env.figures, t.ctcProbs, ctx.lang, 'figure-emissions');
  fp.root.classList.add('wide-figure');
  const hp = new Heatmap(fp.body, {
    map: 'sequential',
    range: [0, 1],
    rowLabel: 'class',
    colLabel: 't',
    numbersUpTo: 16,
  });
  fp.attach(hp);
  fp.setNote(t.ctcProbsNote);
  const fgr = new Figure(env.figures, t.ctcGrad, ctx.lang, 'figure-ctc-grad');
  fgr.root.classList.add('wide-figure');
  const hg = new Heatmap(fgr.body, { map: 'diverging', rowLabel: 'class', colLabel: 't', numbersUpTo: 16 });
  fgr.attach(hg);
  fgr.setNote(t.ctcGradNote);
  const fh = lineFigure(env, t.ctcHint, 'figure-ctc-hint', [{ label: 'ℓ' }], { xLabel: t.hint });
  fh.fig.setNote(t.ctcHintNote);
  let shown: Shown[] = [];

  /** Logits [T, C] for one hint strength: seeded noise plus a bonus along a uniform alignment. */
  function logits(base: Float32Array, T: number, C: number, blank: number, hint: number): Float32Array {
    const z = Float32Array.from(base, (v) => v * s.sharp.value * 3);
    const S = target.length;
    for (let f = 0; f < T; ++f) {
      // Frame f sits in segment j of 2S + 1 (blank, l_1, blank, l_2, ..., blank).
      const j = Math.min(2 * S, Math.floor(((f + 0.5) * (2 * S + 1)) / T));
      const c = j % 2 === 1 ? target[(j - 1) / 2]! : blank;
      if (c < C) z[f * C + c] = z[f * C + c]! + hint;
    }
    return z;
  }

  function render(): void {
    const p = entryParams(op, ctx.params);
    const T = s.T.value;
    const C = s.C.value;
    const blank = Number(p.blank);
    const bad = target.find((c) => c >= C || c === blank);
    if (bad !== undefined) return ctx.report('target', new Error(t.ctcBad(bad, C, blank)));
    if (target.length > T) return ctx.report('target', new Error(t.ctcLong));
    ctx.report('target', null);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const base = dl.init('xavier_normal', [T, C], { seed: s.seed.value }).data;
      const S = target.length;
      const zin = { x: tensor(logits(base, T, C, blank, s.hint.value), [T, 1, C]) };
      const lp = ev(dl, 'log_softmax', zin, {});
      rs.push(record('log_probs = log_softmax(logits)', 'log_softmax', zin, {}, 'value', lp));
      const ins: Inputs = {
        log_probs: tensor(lp, [T, 1, C]),
        targets: tensor(target, [1, S]),
        input_lengths: tensor([T]),
        target_lengths: tensor([S]),
      };
      const lv = ev(dl, id, ins, p);
      const g = gradOf(dl, id, ins, p, 'log_probs');
      rs.push(record('CTC loss', id, ins, p, 'value', lv));
      rs.push(record('∂ℓ/∂log_probs', id, ins, p, 'grad:log_probs', g));
      const probs = ev(dl, 'softmax', zin, {});
      rs.push(record('emission probabilities', 'softmax', zin, {}, 'value', probs));
      // Shown with time along the columns (a transpose for display only).
      hp.update(transpose(probs, T, C), C, T);
      hg.update(transpose(g, T, C), C, T);

      // The loss against the hint strength: one call, one batch element per strength.
      const K = 41;
      const hs = linspace(0, 8, K);
      const zs = new Float32Array(T * K * C);
      for (let k = 0; k < K; ++k) {
        const z = logits(base, T, C, blank, hs[k]!);
        for (let f = 0; f < T; ++f) zs.set(z.subarray(f * C, (f + 1) * C), (f * K + k) * C);
      }
      const bz = { x: tensor(zs, [T, K, C]) };
      const blp = ev(dl, 'log_softmax', bz, {});
      const bins: Inputs = {
        log_probs: tensor(blp, [T, K, C]),
        targets: tensor(
          Float32Array.from({ length: K * S }, (_, i) => target[i % S]!),
          [K, S],
        ),
        input_lengths: tensor(filled(K, T)),
        target_lengths: tensor(filled(K, S)),
      };
      const none = { ...p, reduction: 'none' };
      const bl = ev(dl, id, bins, none);
      if (T * K * C <= 4000) rs.push(record('loss against the hint strength', id, bins, none, 'value', bl));
      fh.plot.update(hs, [bl]);
      const one = ev(dl, id, ins, none);
      rs.push(record('CTC loss of the sequence (reduction none)', id, ins, none, 'value', one));
      fh.plot.setMarks([{ x: s.hint.value, y: one[0]!, color: 1 }]);
      const red = op.params.find((q) => q.name === 'reduction')?.choices[Number(p.reduction)] ?? '';
      out.textContent = `T = ${T}   C = ${C}   ${t.ctcTarget}: [${target.join(', ')}]   ℓ (${red}) = ${formatF32(lv[0]!)}   ℓ (none) = ${formatF32(one[0]!)}`;
      shown = rs;
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      hp.destroy();
      hg.destroy();
      fh.plot.destroy();
    },
  };
}

/** A [rows, cols] matrix as [cols, rows]. */
function transpose(a: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; ++r) for (let c = 0; c < cols; ++c) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/** Class indices separated by spaces or commas (1 to 40 of them). */
function parseTarget(text: string): number[] | null {
  const v = text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);
  return v.length >= 1 && v.length <= 40 && v.every((x) => Number.isInteger(x) && x >= 0 && x < 1000) ? v : null;
}

// ---- entry point ---------------------------------------------------------------

const REGRESSION = ['mse', 'l1', 'huber', 'smooth_l1', 'poisson_nll', 'gaussian_nll'];
const BINARY = ['bce', 'bce_with_logits', 'focal', 'hinge'];
const ROWS = ['cross_entropy', 'focal_multiclass', 'nll', 'multi_margin'];

/** Builds the losses view of one entry. */
export function createView(host: HTMLElement, op: OpMeta, ctx: ViewContext): FamilyView {
  const t = L[ctx.lang];
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures losses-figures' });
  host.append(figures);
  let view: FamilyView | null = null;
  // The view's own controls redraw at most once per animation frame.
  let frame = 0;
  const schedule = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      view?.render();
    });
  };
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
      schedule();
    },
    render: schedule,
  };
  if (REGRESSION.includes(op.id)) view = regressionView(env);
  else if (BINARY.includes(op.id)) view = binaryView(env);
  else if (ROWS.includes(op.id)) view = rowView(env);
  else if (op.id === 'kl_div') view = klView(env);
  else if (op.id === 'margin_ranking') view = marginRankingView(env);
  else if (op.id === 'cosine_embedding') view = cosineView(env);
  else if (op.id === 'triplet_margin') view = tripletView(env);
  else if (op.id === 'info_nce') view = infoNceView(env);
  else if (op.id === 'ctc') view = ctcView(env);
  else {
    figures.append(h('p', { class: 'muted', text: op.id }));
    view = { render() {}, shown: () => [], destroy() {} };
  }
  const inner = view;
  return {
    render: () => inner.render(),
    shown: () => inner.shown(),
    destroy() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      inner.destroy();
    },
  };
}
