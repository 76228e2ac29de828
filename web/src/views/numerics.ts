// Numerics: where float32 arithmetic breaks. The naive softmax, log-sum-exp
// and BCE are swept over growing logits next to their stable counterparts
// from the registry (softmax, logsumexp, bce_with_logits), with the exact
// point where the naive one turns into inf or NaN; temperature as a knob on
// the same overflow; and gradient clipping by value and by norm, before and
// after, as arrows on a plane and as bars of a longer vector.
import type { OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import { Figure } from '../ui/plots/figure.js';
import { LinePlot } from '../ui/plots/line.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { controlGroup, readout, slider, textField } from '../ui/widgets.js';
import { entryParams, fmtList, fmtNum, guard, record, recordInputs, arrowWings } from './common.js';
import { familyView, forIds, forTable } from './dispatch.js';
import { grid } from '../ui/sampler.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import './numerics.css';

const L = {
  en: {
    view: 'Plot',
    row: 'Logit row r (comma-separated)',
    smax: 'Largest scale shown',
    scale: 'Scale s (the row is s · r)',
    temp: 'Temperature T',
    sweepSoftmax: 'Probability of the top entry as the logits s · r grow',
    sweepLse: 'log Σ exp(s · r) as the logits grow',
    atScale: 'The row at the current scale',
    gradAtScale: 'Gradient ∂LSE/∂x at the current scale (= softmax weights)',
    tempFig: 'Temperature: softmax(r / T)',
    naive: 'naive',
    stable: 'stable',
    naiveT: 'softmax_naive(r / T)',
    stableT: 'softmax_temperature(r, T)',
    entry: 'entry',
    scaleAxis: 'scale s',
    breaks: (s: string, what: string) => `the naive result first becomes ${what} at s = ${s}`,
    neverBreaks: 'the naive result stays finite over this whole range',
    sweepNoteSoftmax:
      'Both curves are the same function in exact arithmetic (the purple dot is the scale s set above; click the plot to move it). The naive one computes e^x directly, so once some s · rᵢ passes about 88.7 the float32 exponential overflows to inf and the row becomes inf / inf = NaN (the curve stops). The stable one subtracts the row maximum first and never overflows. A row of only negative numbers shows the other failure: every e^x underflows to 0 and the row becomes 0 / 0 = NaN.',
    sweepNoteLse:
      'The purple dot is the scale s set above (click the plot to move it). The stable log-sum-exp adds the maximum back after exponentiating the shifted row, so it grows like s · max(r). The naive one returns inf as soon as the sum of exponentials overflows; type a row of negative numbers to see the other end, where every term underflows and it returns -inf.',
    rowNote: 'Bars: the stable result; dots: the naive one (a missing dot is NaN or inf, printed below).',
    tempNote:
      'A small T sharpens the distribution, a large T flattens it toward uniform. Dividing by T is the same as scaling by s = 1/T, so at small T the naive softmax overflows exactly as in the sweep above.',
    gradNaive: '∂/∂x naive',
    gradStable: '∂/∂x stable',
    target: 'Target t',
    xr: 'Logit range ±',
    probe: 'probe logit x',
    bceFig: 'Loss per element against the logit x',
    bceNote:
      'The naive loss takes σ(x) in float32 first. Above x ≈ 16.6, 1 + e^(-x) rounds to 1, so 1 - σ = 0 and log(1 - σ) = -inf; below x ≈ -88.7 e^(-x) overflows, σ = 0 and log σ = -inf. The loss then reads inf, or NaN where it multiplies 0 · (-inf). The fused bce_with_logits stays finite (a missing stretch of the naive curve is inf or NaN).',
    bad: 'non-finite',
    relFig: 'Relative error of the naive loss, log₁₀ |naive − stable| / stable',
    relLabel: 'log₁₀ relative error',
    relNote:
      'Long before the naive loss turns into inf or NaN it loses digits: when σ(x) is close to 1, 1 − σ is the difference of two nearly equal float32 numbers, so log(1 − σ) keeps only a few correct digits (cancellation). Around −7 is full float32 accuracy; 0 means no correct digit; gaps are exact agreement or inf / NaN. Set t to 0 to see the cancellation side.',
    naiveRange: (lo: string, hi: string) => `naive non-finite on this grid for x ≤ ${lo} and for x ≥ ${hi}`,
    naiveNone: 'naive finite on the whole grid',
    grad: 'gradient',
    clipPlane: 'A 2-D gradient before and after clipping (drag the tip)',
    clipBars: 'A longer gradient vector, entry by entry',
    vec: 'Gradient vector (comma-separated)',
    orig: 'original g',
    byValue: 'clip by value',
    byNorm: 'clip by norm',
    box: 'value box [-c, c]²',
    ball: 'norm ball ‖g‖ ≤ max_norm',
    clipNote:
      'Clipping by value cuts each coordinate on its own, so a long gradient is pushed into the corner of the box and turns. Clipping by norm shrinks the whole vector by one factor: its direction (angle) stays.',
    angle: 'angle',
    norm: 'norm',
    threshold: 'threshold',
    totalNorm: 'total norm',
    scaleF: 'scale',
  },
  zh: {
    view: '绘图',
    row: 'logit 行 r(逗号分隔)',
    smax: '显示的最大缩放',
    scale: '缩放 s(该行为 s · r)',
    temp: '温度 T',
    sweepSoftmax: 'logits s · r 增大时最大项的概率',
    sweepLse: 'logits 增大时的 log Σ exp(s · r)',
    atScale: '当前缩放下的这一行',
    gradAtScale: '当前缩放下的梯度 ∂LSE/∂x(即 softmax 权重)',
    tempFig: '温度:softmax(r / T)',
    naive: '朴素',
    stable: '稳定',
    naiveT: 'softmax_naive(r / T)',
    stableT: 'softmax_temperature(r, T)',
    entry: '分量',
    scaleAxis: '缩放 s',
    breaks: (s: string, what: string) => `朴素结果在 s = ${s} 处首次变为 ${what}`,
    neverBreaks: '在整个范围内朴素结果都保持有限',
    sweepNoteSoftmax:
      '在精确算术下两条曲线是同一个函数(紫色圆点是上面设置的缩放 s,点击图可移动它)。朴素实现直接计算 e^x,一旦某个 s · rᵢ 超过约 88.7,float32 的指数就溢出为 inf,整行变成 inf / inf = NaN(曲线中断)。稳定实现先减去行最大值,永远不会溢出。若整行都是负数,会出现另一种失败:每个 e^x 都下溢为 0,整行变成 0 / 0 = NaN。',
    sweepNoteLse:
      '紫色圆点是上面设置的缩放 s(点击图可移动它)。稳定的 log-sum-exp 先对平移后的行求指数,最后把最大值加回来,因此它随 s · max(r) 线性增长。朴素实现在指数和溢出时立即返回 inf;输入一行全为负数的 r 可以看到另一端:所有项都下溢,结果为 -inf。',
    rowNote: '柱:稳定结果;圆点:朴素结果(缺少的圆点是 NaN 或 inf,数值见下方)。',
    tempNote:
      'T 小时分布更尖锐,T 大时更平坦、趋于均匀。除以 T 等价于乘以 s = 1/T,所以 T 很小时朴素 softmax 会像上面的扫描一样溢出。',
    gradNaive: '朴素 ∂/∂x',
    gradStable: '稳定 ∂/∂x',
    target: '目标 t',
    xr: 'logit 范围 ±',
    probe: '探针 logit x',
    bceFig: '每个元素的损失随 logit x 的变化',
    bceNote:
      '朴素实现先在 float32 中算出 σ(x)。x 高于约 16.6 时 1 + e^(-x) 被舍入为 1,于是 1 - σ = 0,log(1 - σ) = -inf;x 低于约 -88.7 时 e^(-x) 溢出,σ = 0,log σ = -inf。损失于是变成 inf,或在出现 0 · (-inf) 时变成 NaN。融合实现 bce_with_logits 始终有限(朴素曲线缺失的部分就是 inf 或 NaN)。',
    bad: '非有限值',
    relFig: '朴素损失的相对误差:log₁₀ |朴素 − 稳定| / 稳定',
    relLabel: 'log₁₀ 相对误差',
    relNote:
      '朴素损失在变成 inf 或 NaN 之前就已经丢失有效数字:σ(x) 接近 1 时,1 − σ 是两个几乎相等的 float32 数之差,log(1 − σ) 只剩下很少几位正确数字(相消误差)。约 −7 对应 float32 的完整精度;0 表示一位正确数字都没有;空白处是完全一致或 inf / NaN。把 t 设为 0 可以看到相消的一侧。',
    naiveRange: (lo: string, hi: string) => `在此网格上,朴素结果在 x ≤ ${lo} 和 x ≥ ${hi} 处非有限`,
    naiveNone: '朴素结果在整个网格上都有限',
    grad: '梯度',
    clipPlane: '二维梯度裁剪前后(拖动箭头端点)',
    clipBars: '较长的梯度向量,逐分量比较',
    vec: '梯度向量(逗号分隔)',
    orig: '原始 g',
    byValue: '按值裁剪',
    byNorm: '按范数裁剪',
    box: '按值裁剪的方框 [-c, c]²',
    ball: '范数球 ‖g‖ ≤ max_norm',
    clipNote:
      '按值裁剪对每个坐标单独截断,长梯度被推到方框的角上,方向随之改变。按范数裁剪把整个向量乘以同一个系数:方向(角度)保持不变。',
    angle: '角度',
    norm: '范数',
    threshold: '阈值',
    totalNorm: '总范数',
    scaleF: '缩放系数',
  },
};
type T = (typeof L)['en'];

/** Two series of bars side by side over n classes (x = i ∓ 0.2; gaps elsewhere). */
export function pairedBars(a: ArrayLike<number>, b: ArrayLike<number>): { x: number[]; ys: number[][] } {
  const x: number[] = [];
  const ya: number[] = [];
  const yb: number[] = [];
  for (let i = 0; i < a.length; ++i) {
    x.push(i - 0.2, i + 0.2);
    ya.push(a[i]!, NaN);
    yb.push(NaN, b[i]!);
  }
  return { x, ys: [ya, yb] };
}

/** The naive row ops and the stable entry each is compared with. */
const NAIVE_ROWS: Record<string, { stable: 'softmax' | 'logsumexp' }> = {
  softmax_naive: { stable: 'softmax' },
  logsumexp_naive: { stable: 'logsumexp' },
};
/** The clipping entries: element by element, or the whole vector by its norm. */
const CLIPS: Record<string, { by: 'value' | 'norm' }> = {
  clip_grad_value: { by: 'value' },
  clip_grad_norm: { by: 'norm' },
};

/** Builds the numerics view of one entry (the generic view for an entry not listed here). */
export const createView = familyView([
  forTable(NAIVE_ROWS, (host, op, ctx, conf) => rowView(host, op, ctx, L[ctx.lang], conf.stable)),
  forIds(['bce_naive'], (host, op, ctx) => bceView(host, op, ctx, L[ctx.lang])),
  forTable(CLIPS, (host, op, ctx, conf) => clipView(host, op, ctx, L[ctx.lang], conf.by === 'value')),
]);

// ---------------------------------------------------------------- softmax / LSE

const SWEEP = 241;
const ROW_DEFAULT = [3, 1, 0.2, -1];
/** Past the overflow of the default row, so the first view shows the NaN. */
const S_DEFAULT = 35;

function rowView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: T, stableId: 'softmax' | 'logsumexp'): FamilyView {
  const { dl, store } = ctx;
  const isSoftmax = stableId === 'softmax';
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures nv-figures' });
  host.append(figures);

  let row = store.list('row', ROW_DEFAULT, { min: -1e4, max: 1e4, maxLen: 16 });
  let smax = store.num('smax', 60, 1, 1000);
  let scale = store.num('s', S_DEFAULT, 0, 1000);
  let temp = store.num('T', 1, 0.001, 100);
  const rerender = () => {
    ctx.changed();
    render();
  };
  textField(controls, { id: 'view-row', label: t.row, value: row.join(', ') }, (text) => {
    const v = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (!v.length || v.length > 16 || v.some((x) => !Number.isFinite(x) || Math.abs(x) > 1e4))
      return ctx.report('row', new Error(`${t.row}: '${text}'`));
    ctx.report('row', null);
    row = v;
    store.set('row', v, ROW_DEFAULT);
    rerender();
  });
  slider(controls, { id: 'view-smax', label: t.smax, min: 1, max: 200, step: 1, value: smax }, (v) => {
    if (!(v >= 1 && v <= 1000)) return;
    smax = v;
    store.set('smax', v, 60);
    rerender();
  });
  const scaleField = slider(
    controls,
    { id: 'view-s', label: t.scale, min: 0, max: 200, step: 0.1, value: scale },
    (v) => {
      if (!(v >= 0 && v <= 1000)) return;
      scale = v;
      store.set('s', v, S_DEFAULT);
      rerender();
    },
  );
  if (isSoftmax)
    slider(controls, { id: 'view-T', label: t.temp, min: 0.01, max: 10, step: 0.01, value: temp }, (v) => {
      if (!(v >= 0.001 && v <= 100)) return;
      temp = v;
      store.set('T', v, 1);
      rerender();
    });

  // Every figure exists before its plot is built, so each plot is sized for its final column width.
  const figSweep = new Figure(figures, isSoftmax ? t.sweepSoftmax : t.sweepLse, ctx.lang, 'figure-sweep');
  const figRow = new Figure(figures, isSoftmax ? t.atScale : t.gradAtScale, ctx.lang, 'figure-row');
  const figT = isSoftmax ? new Figure(figures, t.tempFig, ctx.lang, 'figure-temperature') : null;
  const sweepPlot = new LinePlot(figSweep.body, {
    series: [
      { label: `${op.id} (${t.naive})`, color: 1, width: 3 },
      { label: `${stableId} (${t.stable})`, color: 0, dash: [6, 4] },
    ],
    xLabel: t.scaleAxis,
    onPick: (x) => {
      scale = Math.max(0, x);
      scaleField.set(scale);
      store.set('s', scale, S_DEFAULT);
      rerender();
    },
  });
  figSweep.attach(sweepPlot);
  figSweep.setNote(isSoftmax ? t.sweepNoteSoftmax : t.sweepNoteLse);
  const sweepOut = readout(figSweep.root, 'sweep-readout');

  // Softmax: the output row; log-sum-exp: its gradient row (the softmax weights), naive vs stable.
  const rowPlot = new LinePlot(figRow.body, {
    series: [
      { label: `${isSoftmax ? stableId : `∂ ${stableId}`} (${t.stable})`, kind: 'bars', color: 0 },
      { label: `${isSoftmax ? op.id : `∂ ${op.id}`} (${t.naive})`, kind: 'points', color: 1 },
    ],
    xLabel: t.entry,
    yRange: [0, 1],
  });
  figRow.attach(rowPlot);
  figRow.setNote(t.rowNote);
  const rowOut = readout(figRow.root, 'row-readout');

  let tempPlot: LinePlot | null = null;
  let tempOut: HTMLOutputElement | null = null;
  if (figT) {
    tempPlot = new LinePlot(figT.body, {
      series: [
        { label: t.stableT, kind: 'bars', color: 0 },
        { label: t.naiveT, kind: 'points', color: 1 },
      ],
      xLabel: t.entry,
      yRange: [0, 1],
    });
    figT.attach(tempPlot);
    figT.setNote(t.tempNote);
    tempOut = readout(figT.root, 'temperature-readout');
  }

  let shown: Shown[] = [];
  let shownN = -1;

  function render(): void {
    guard(ctx, 'engine', () => {
      const n = row.length;
      const top = row.indexOf(Math.max(...row));
      // The sweep: SWEEP rows s_k · r in one batch per op.
      const ss = grid(0, smax, SWEEP);
      const X = new Float32Array(SWEEP * n);
      for (let k = 0; k < SWEEP; ++k) for (let j = 0; j < n; ++j) X[k * n + j] = ss[k]! * row[j]!;
      const xIn = { x: { shape: [SWEEP, n], data: X } };
      const naive = dl.eval(op.id as 'softmax_naive', xIn).data;
      const stable = dl.eval(stableId as 'softmax', xIn).data;
      const stride = isSoftmax ? n : 1;
      const off = isSoftmax ? top : 0;
      const pick = Array.from({ length: SWEEP }, (_, k) => k * stride + off);
      const yN = Float32Array.from(pick, (i) => naive[i]!);
      const yS = Float32Array.from(pick, (i) => stable[i]!);
      sweepPlot.update(ss, [yN, yS]);
      const marks: { x: number; y: number; color: number; label?: string }[] = [];
      const firstBad = pick.findIndex((i) => !Number.isFinite(naive[i]!));
      if (firstBad >= 0) {
        const bad = naive[pick[firstBad]!]!;
        marks.push({ x: ss[firstBad]!, y: yS[firstBad]!, color: 1, label: `${t.naive}: ${fmtNum(bad)}` });
        sweepOut.textContent = t.breaks(formatF32(ss[firstBad]!), fmtNum(bad));
      } else {
        sweepOut.textContent = t.neverBreaks;
      }

      // The row at the current scale.
      const r = Float32Array.from(row, (v) => scale * v);
      const rIn = { x: { shape: [1, n], data: r } };
      const rn = dl.eval(op.id as 'softmax_naive', rIn).data;
      const rs = dl.eval(stableId as 'softmax', rIn).data;
      const idx = Array.from({ length: n }, (_, i) => i);
      const lines = [`s · r = ${fmtList(r)}`, `${t.naive}: ${fmtList(rn)}`, `${t.stable}: ${fmtList(rs)}`];
      shown = [
        {
          label: 'sweep naive',
          id: op.id,
          inputs: recordInputs(xIn),
          params: {},
          what: 'value',
          values: Array.from(yN),
          pick,
        },
        {
          label: 'sweep stable',
          id: stableId,
          inputs: recordInputs(xIn),
          params: {},
          what: 'value',
          values: Array.from(yS),
          pick,
        },
        record('row naive', op.id, rIn, {}, 'value', rn),
        record('row stable', stableId, rIn, {}, 'value', rs),
      ];
      if (scale <= smax) marks.push({ x: scale, y: rs[isSoftmax ? top : 0]!, color: 3 });
      sweepPlot.setMarks(marks);
      if (n !== shownN) {
        shownN = n;
        rowPlot.setOptions({ xRange: [-0.5, n - 0.5] });
        tempPlot?.setOptions({ xRange: [-0.5, n - 0.5] });
      }
      if (isSoftmax) rowPlot.update(idx, [rs, rn]);
      if (!isSoftmax) {
        const gn = dl.grad('logsumexp_naive', rIn).x.data;
        const gs = dl.grad('logsumexp', rIn).x.data;
        rowPlot.update(idx, [gs, gn]);
        lines.push(`${t.gradNaive}: ${fmtList(gn)}`, `${t.gradStable}: ${fmtList(gs)}`);
        shown.push(
          record('row naive grad', op.id, rIn, {}, 'grad:x', gn),
          record('row stable grad', stableId, rIn, {}, 'grad:x', gs),
        );
      }
      rowOut.textContent = lines.join('\n');

      if (tempPlot && tempOut) {
        const raw = Float32Array.from(row);
        const div = Float32Array.from(row, (v) => v / temp);
        const tIn = { x: { shape: [1, n], data: raw } };
        const dIn = { x: { shape: [1, n], data: div } };
        const ys = dl.eval('softmax_temperature', tIn, { temperature: temp }).data;
        const yn = dl.eval('softmax_naive', dIn).data;
        tempPlot.update(idx, [ys, yn]);
        tempOut.textContent = [
          `softmax_temperature(r, T = ${formatF32(Math.fround(temp))}): ${fmtList(ys)}`,
          `softmax_naive(r / T): ${fmtList(yn)}`,
        ].join('\n');
        shown.push(
          record('temperature stable', 'softmax_temperature', tIn, { temperature: temp }, 'value', ys),
          record('temperature naive', 'softmax_naive', dIn, {}, 'value', yn),
        );
      }
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      sweepPlot.destroy();
      rowPlot.destroy();
      tempPlot?.destroy();
    },
  };
}

// ---------------------------------------------------------------- BCE

const BCE_POINTS = 801;

function bceView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: T): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures nv-figures' });
  host.append(figures);
  let target = store.num('t', 1, 0, 1);
  let xr = store.num('xr', 100, 1, 10000);
  let probe = store.num('x', 20, -10000, 10000);
  const rerender = () => {
    ctx.changed();
    render();
  };
  slider(controls, { id: 'view-t', label: t.target, min: 0, max: 1, step: 0.01, value: target }, (v) => {
    if (!(v >= 0 && v <= 1)) return;
    target = v;
    store.set('t', v, 1);
    rerender();
  });
  slider(controls, { id: 'view-xr', label: t.xr, min: 5, max: 200, step: 1, value: xr }, (v) => {
    if (!(v >= 1 && v <= 10000)) return;
    xr = v;
    store.set('xr', v, 100);
    rerender();
  });
  const probeField = slider(
    controls,
    { id: 'view-probe', label: t.probe, min: -200, max: 200, step: 0.1, value: probe },
    (v) => {
      if (!(Math.abs(v) <= 10000)) return;
      probe = v;
      store.set('x', v, 20);
      rerender();
    },
  );
  const fig = new Figure(figures, t.bceFig, ctx.lang, 'figure-bce');
  const figErr = new Figure(figures, t.relFig, ctx.lang, 'figure-bce-error');
  const plot = new LinePlot(fig.body, {
    series: [
      { label: `${op.id} (${t.naive})`, color: 1, width: 3 },
      { label: `bce_with_logits (${t.stable})`, color: 0, dash: [6, 4] },
    ],
    xLabel: 'x',
    onPick: (x) => {
      probe = x;
      probeField.set(x);
      store.set('x', x, 20);
      rerender();
    },
  });
  fig.attach(plot);
  fig.setNote(t.bceNote);
  const rangeOut = readout(fig.root, 'bce-range');
  const probeOut = readout(fig.root, 'probe-readout');
  const errPlot = new LinePlot(figErr.body, { series: [{ label: t.relLabel, color: 1 }], xLabel: 'x' });
  figErr.attach(errPlot);
  figErr.setNote(t.relNote);
  let shown: Shown[] = [];

  function render(): void {
    guard(ctx, 'engine', () => {
      const xs = grid(-xr, xr, BCE_POINTS);
      const ts = new Float32Array(BCE_POINTS).fill(target);
      const inputs = { input: { shape: [BCE_POINTS], data: xs }, target: { shape: [BCE_POINTS], data: ts } };
      const naive = dl.eval('bce_naive', inputs, { reduction: 'none' }).data;
      const stable = dl.eval('bce_with_logits', inputs, { reduction: 'none' }).data;
      plot.update(xs, [naive, stable]);
      // Display transform of the two engine curves: digits the naive loss has lost.
      errPlot.update(xs, [
        Float64Array.from(naive, (v, i) =>
          Math.log10(Math.abs(v - stable[i]!) / Math.max(Math.abs(stable[i]!), 1e-30)),
        ),
      ]);
      // Where the naive curve stops: the last bad grid point on the left, the first on the right.
      let lo = -1;
      let hi = -1;
      for (let i = 0; i < BCE_POINTS; ++i) {
        if (Number.isFinite(naive[i]!)) continue;
        if (xs[i]! < 0) lo = i;
        else if (hi < 0) hi = i;
      }
      rangeOut.textContent =
        lo < 0 && hi < 0
          ? t.naiveNone
          : t.naiveRange(lo < 0 ? '−∞' : formatF32(xs[lo]!), hi < 0 ? '∞' : formatF32(xs[hi]!));
      const marks = [];
      if (lo >= 0) marks.push({ x: xs[lo]!, y: stable[lo]!, color: 1, label: fmtNum(naive[lo]!) });
      if (hi >= 0) marks.push({ x: xs[hi]!, y: stable[hi]!, color: 1, label: fmtNum(naive[hi]!) });

      const p = {
        input: { shape: [1], data: Float32Array.of(probe) },
        target: { shape: [1], data: Float32Array.of(target) },
      };
      const params = entryParams(op, ctx.params);
      const pn = dl.eval('bce_naive', p, params).data[0]!;
      const ps = dl.eval('bce_with_logits', p, params).data[0]!;
      const gn = dl.grad('bce_naive', p, params).input.data[0]!;
      const gs = dl.grad('bce_with_logits', p, params).input.data[0]!;
      if (Number.isFinite(ps) && Math.abs(probe) <= xr) marks.push({ x: p.input.data[0]!, y: ps, color: 3 });
      plot.setMarks(marks);
      const xText = formatF32(p.input.data[0]!);
      probeOut.textContent = [
        `x = ${xText}, t = ${formatF32(p.target.data[0]!)}`,
        `bce_naive = ${fmtNum(pn)}    ${t.grad} ${fmtNum(gn)}`,
        `bce_with_logits = ${fmtNum(ps)}    ${t.grad} ${fmtNum(gs)}`,
      ].join('\n');
      const recP = recordInputs(p);
      const sweep = recordInputs(inputs);
      shown = [
        {
          label: 'naive curve',
          id: 'bce_naive',
          inputs: sweep,
          params: { reduction: 'none' },
          what: 'value',
          values: Array.from(naive),
        },
        {
          label: 'stable curve',
          id: 'bce_with_logits',
          inputs: sweep,
          params: { reduction: 'none' },
          what: 'value',
          values: Array.from(stable),
        },
        { label: 'probe naive', id: 'bce_naive', inputs: recP, params, what: 'value', values: [pn] },
        { label: 'probe stable', id: 'bce_with_logits', inputs: recP, params, what: 'value', values: [ps] },
        { label: 'probe naive grad', id: 'bce_naive', inputs: recP, params, what: 'grad:input', values: [gn] },
        { label: 'probe stable grad', id: 'bce_with_logits', inputs: recP, params, what: 'grad:input', values: [gs] },
      ];
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      plot.destroy();
      errPlot.destroy();
    },
  };
}

// ---------------------------------------------------------------- clipping

const VEC_DEFAULT = [0.3, -2.5, 0.8, 4, -0.2, 1.5, -0.6, 0.1];
const PLANE = 4;

/** An arrow from the origin to (x, y) as two paths: the shaft and the head. */
function arrow(label: string, x: number, y: number, color: number, width = 2.5): Path[] {
  const len = Math.hypot(x, y);
  if (!(len > 0) || !Number.isFinite(len)) return [{ label, xs: [0], ys: [0], color, kind: 'points' }];
  const [[lx, ly], [rx, ry]] = arrowWings(x, y, x / len, y / len, Math.min(0.35, len * 0.35), 0.45);
  return [
    { label, xs: [0, x], ys: [0, y], color, width },
    { label: '', xs: [lx, x, rx], ys: [ly, y, ry], color, width },
  ];
}

/** The unit ball of a p-norm scaled to radius r, as a closed polyline (display geometry only). */
function ball(r: number, p: number, inf: boolean, n = 240): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; ++i) {
    const a = (2 * Math.PI * i) / n;
    const c = Math.cos(a);
    const s = Math.sin(a);
    const m = inf ? Math.max(Math.abs(c), Math.abs(s)) : (Math.abs(c) ** p + Math.abs(s) ** p) ** (1 / p);
    xs.push((r * c) / m);
    ys.push((r * s) / m);
  }
  return { xs, ys };
}

const degrees = (x: number, y: number) => `${((Math.atan2(y, x) * 180) / Math.PI).toFixed(1)}°`;

function clipView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: T, isValue: boolean): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures nv-figures' });
  host.append(figures);
  let gx = store.num('gx', 3, -PLANE, PLANE);
  let gy = store.num('gy', 1.2, -PLANE, PLANE);
  let vec = store.list('vec', VEC_DEFAULT, { min: -1e6, max: 1e6, maxLen: 64 });
  const rerender = () => {
    ctx.changed();
    render();
  };
  textField(controls, { id: 'view-vec', label: t.vec, value: vec.join(', '), wide: true }, (text) => {
    const v = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (!v.length || v.length > 64 || v.some((x) => !Number.isFinite(x) || Math.abs(x) > 1e6))
      return ctx.report('vec', new Error(`${t.vec}: '${text}'`));
    ctx.report('vec', null);
    vec = v;
    store.set('vec', v, VEC_DEFAULT);
    rerender();
  });

  // Both figures exist before the plots are built, so each plot is sized for its final column width.
  const figPlane = new Figure(figures, t.clipPlane, ctx.lang, 'figure-clip-plane');
  const figBars = new Figure(figures, t.clipBars, ctx.lang, 'figure-clip-bars');
  const plane = new PlanePlot(figPlane.body, {
    x: [-PLANE, PLANE],
    y: [-PLANE, PLANE],
    xLabel: 'g₁',
    yLabel: 'g₂',
    equalAspect: true,
    onDrag: (_i, x, y) => {
      gx = Number(Math.max(-PLANE, Math.min(PLANE, x)).toFixed(3));
      gy = Number(Math.max(-PLANE, Math.min(PLANE, y)).toFixed(3));
      store.set('gx', gx, 3);
      store.set('gy', gy, 1.2);
      rerender();
    },
    onClick: (x, y) => {
      gx = Number(x.toFixed(3));
      gy = Number(y.toFixed(3));
      store.set('gx', gx, 3);
      store.set('gy', gy, 1.2);
      rerender();
    },
  });
  figPlane.attach(plane);
  figPlane.setNote(t.clipNote);
  const planeOut = readout(figPlane.root, 'clip-readout');

  const bars = new LinePlot(figBars.body, {
    series: [
      { label: t.orig, kind: 'bars', color: 0 },
      { label: t.byValue, kind: 'bars', color: 1 },
      { label: t.byNorm, kind: 'bars', color: 2 },
    ],
    xLabel: t.entry,
  });
  figBars.attach(bars);
  const barsOut = readout(figBars.root, 'clip-bars-readout');
  let shown: Shown[] = [];
  let shownN = -1;

  function clipBoth(g: Float32Array) {
    const params = entryParams(op, ctx.params);
    const c = isValue ? params.clip_value! : params.max_norm!;
    const vp = isValue ? params : { clip_value: c };
    const np = isValue ? { max_norm: c } : params;
    const vIn = { input: { shape: [g.length], data: g } };
    const nIn = { grads: { shape: [g.length], data: g } };
    const v = dl.eval('clip_grad_value', vIn, vp).data;
    const r = dl.eval('clip_grad_norm', nIn, np);
    return { c, v, n: r.data, aux: r.aux, vp, np, vIn, nIn };
  }

  function render(): void {
    guard(ctx, 'engine', () => {
      const g = Float32Array.of(gx, gy);
      const a = clipBoth(g);
      const p = entryParams(op, ctx.params);
      const inf = !isValue && !!p.inf_norm;
      const pn = isValue ? 2 : p.norm_type!;
      const box = { xs: [-a.c, a.c, a.c, -a.c], ys: [-a.c, -a.c, a.c, a.c] };
      const b = ball(a.c, pn, inf);
      plane.update(
        [
          { label: t.box, ...box, color: 1, dash: [4, 4], width: 1.5, closed: true },
          { label: t.ball, ...b, color: 2, dash: [4, 4], width: 1.5, closed: true },
          ...arrow(t.orig, g[0]!, g[1]!, 0, 3),
          ...arrow(t.byValue, a.v[0]!, a.v[1]!, 1),
          ...arrow(t.byNorm, a.n[0]!, a.n[1]!, 2),
        ],
        [{ x: gx, y: gy, color: 0, label: 'g' }],
      );
      const line = (name: string, v: ArrayLike<number>) =>
        `${name}: ${fmtList(v)}   ${t.angle} ${degrees(v[0]!, v[1]!)}`;
      planeOut.textContent = [
        `${t.threshold} c = ${formatF32(Math.fround(a.c))}`,
        line(t.orig, g),
        line(`${t.byValue} (clip_grad_value)`, a.v),
        line(`${t.byNorm} (clip_grad_norm)`, a.n),
        `${t.totalNorm} ${fmtNum(a.aux.total_norm?.data[0] ?? NaN)}, ${t.scaleF} ${fmtNum(a.aux.scale?.data[0] ?? NaN)}`,
      ].join('\n');

      const gv = Float32Array.from(vec);
      const bb = clipBoth(gv);
      const idx = Array.from({ length: gv.length }, (_, i) => i);
      const xsB: number[] = [];
      const ys: number[][] = [[], [], []];
      idx.forEach((i) => {
        [gv, bb.v, bb.n].forEach((src, s) => {
          xsB.push(i + (s - 1) * 0.27);
          for (let q = 0; q < 3; ++q) ys[q]!.push(q === s ? src[i]! : NaN);
        });
      });
      if (gv.length !== shownN) {
        shownN = gv.length;
        bars.setOptions({ xRange: [-0.5, gv.length - 0.5] });
      }
      bars.update(xsB, ys);
      barsOut.textContent = [
        `${t.byValue}: ${fmtList(bb.v)}`,
        `${t.byNorm}: ${fmtList(bb.n)}`,
        `${t.totalNorm} ${fmtNum(bb.aux.total_norm?.data[0] ?? NaN)}, ${t.scaleF} ${fmtNum(bb.aux.scale?.data[0] ?? NaN)}`,
      ].join('\n');
      const recAll = (x: typeof a): Shown[] => [
        {
          label: `${x.v.length}-D clip by value`,
          id: 'clip_grad_value',
          inputs: recordInputs(x.vIn),
          params: x.vp,
          what: 'value',
          values: Array.from(x.v),
        },
        {
          label: `${x.v.length}-D clip by norm`,
          id: 'clip_grad_norm',
          inputs: recordInputs(x.nIn),
          params: x.np,
          what: 'value',
          values: Array.from(x.n),
        },
      ];
      shown = [...recAll(a), ...recAll(bb)];
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      plane.destroy();
      bars.destroy();
    },
  };
}
