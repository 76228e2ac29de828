// Normalization: a seeded batch x[N, C, HW] whose channels and samples are
// shifted apart, the entry's output from the engine, histograms before and
// after, both as matrices, and a grid picture of which (sample, channel)
// cells share their statistics (batch: a channel across the batch; layer and
// RMS: one sample; instance: one sample-channel; group: a channel group of one
// sample). weight_norm: a 2-D weight split into direction and length, with
// the gradients for a draggable upstream dL/dw.
import type { OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { Figure } from '../ui/plots/figure.js';
import { Heatmap } from '../ui/plots/heatmap.js';
import { LinePlot } from '../ui/plots/line.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { controlGroup, readout, slider } from '../ui/widgets.js';
import { arrow, entryParams, evalCall, f32, fmt, gradCall, normals, record, type F32Inputs, guard } from './common.js';
import { colorKey } from './color-key.js';
import { familyView, forIds, forTable } from './dispatch.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import './views.css';

const L = {
  en: {
    view: 'Input batch',
    shapes: 'shapes',
    weightView: 'Weight',
    N: 'batch size N',
    C: 'channels C',
    S: 'spatial positions H·W',
    seed: 'seed',
    chan: 'offset between channels',
    samp: 'offset between samples',
    scale: 'spread of the values',
    gamma: 'weight γ (every feature)',
    beta: 'bias β (every feature)',
    histIn: 'Histogram of the input',
    histOut: 'Histogram of the output',
    histNote:
      'The input is a mixture of shifted groups; after normalization each group that shares statistics is centred and scaled to unit spread, then γ and β set the spread and the centre.',
    rmsNote:
      'RMS norm divides by the root mean square without subtracting the mean, so a shift shared by a whole sample is only scaled, not removed: the output can stay off centre.',
    grid: 'Which cells share statistics (rows: samples n, columns: channels c)',
    matIn: 'Input x (rows: (n, c), columns: positions)',
    matOut: 'Output y (rows: (n, c), columns: positions)',
    share: {
      layer_norm:
        'Layer norm: each sample is normalized over all of its features (here C·HW values as one row of D), whatever the rest of the batch holds.',
      rms_norm: 'RMS norm: like layer norm, one sample at a time, but only divided by its root mean square.',
      batch_norm:
        'Batch norm: one channel across the whole batch and every position shares its mean and variance (in training); with training off the running statistics are used instead.',
      group_norm:
        'Group norm: within one sample, num_groups groups of consecutive channels; num_groups = 1 is layer norm over (C, HW), num_groups = C is instance norm.',
      instance_norm: 'Instance norm: each channel of each sample on its own, over its positions only.',
    } as Record<string, string>,
    running: 'running statistics (aux)',
    runTitle: 'Running statistics over 40 training steps on fresh batches (first channels)',
    runNote:
      'Each step is one engine call on a new batch, fed the running_mean and running_var the previous call returned. momentum is the weight of the new batch: small values give smooth, slow curves. With training off nothing moves: evaluation only reads them.',
    step: 'step',
    meanWord: 'running_mean',
    varWord: 'running_var',
    bins: 'value',
    count: 'count',
    g: 'length g',
    wnPlane: 'w = g · v / ‖v‖',
    wnNote:
      'Dashed: v and the unit circle; solid: w, always of length |g| along v. The upstream gradient G = ∂L/∂w (drag its tip) gives ∂L/∂g = G·v/‖v‖ and ∂L/∂v, which is perpendicular to v: moving v along itself changes nothing.',
    gradV: '∂L/∂v',
    gradG: '∂L/∂g',
    planeLabel: 'Weight plane: arrow keys move v or the tip of G (Shift: faster), [ and ] switch between them',
  },
  zh: {
    view: '输入批次',
    shapes: '形状',
    weightView: '权重',
    N: '批大小 N',
    C: '通道数 C',
    S: '空间位置数 H·W',
    seed: '随机种子',
    chan: '通道之间的偏移',
    samp: '样本之间的偏移',
    scale: '数值的离散程度',
    gamma: '权重 γ(所有特征)',
    beta: '偏置 β(所有特征)',
    histIn: '输入的直方图',
    histOut: '输出的直方图',
    histNote:
      '输入是若干个相互错开的组混在一起;归一化之后,共享统计量的每一组都被中心化并缩放到单位离散程度,再由 γ 和 β 决定离散程度和中心。',
    rmsNote: 'RMSNorm 只除以均方根而不减均值,所以整个样本共有的偏移只会被缩放而不会被消除:输出可以偏离中心。',
    grid: '哪些格子共享统计量(行:样本 n,列:通道 c)',
    matIn: '输入 x(行:(n, c),列:位置)',
    matOut: '输出 y(行:(n, c),列:位置)',
    share: {
      layer_norm:
        '层归一化:每个样本在自己的全部特征上归一化(这里把 C·HW 个值当作长度为 D 的一行),与批次中其他样本无关。',
      rms_norm: 'RMSNorm:与层归一化一样逐样本处理,但只除以均方根。',
      batch_norm: '批归一化:同一个通道在整个批次和所有位置上共享均值和方差(训练模式);关闭 training 时改用滑动统计量。',
      group_norm:
        '组归一化:在一个样本内,把相邻的通道分成 num_groups 组;num_groups = 1 即在 (C, HW) 上的层归一化,num_groups = C 即实例归一化。',
      instance_norm: '实例归一化:每个样本的每个通道单独归一化,只在它的各个位置上统计。',
    } as Record<string, string>,
    running: '滑动统计量(aux)',
    runTitle: '在新批次上训练 40 步时的滑动统计量(前几个通道)',
    runNote:
      '每一步都是对新批次的一次引擎调用,并传入上一次调用返回的 running_mean 与 running_var。momentum 是新批次的权重:取值越小,曲线越平滑、变化越慢。关闭 training 时曲线不动:评估模式只读取它们。',
    step: '步数',
    meanWord: '滑动均值',
    varWord: '滑动方差',
    bins: '数值',
    count: '个数',
    g: '长度 g',
    wnPlane: 'w = g · v / ‖v‖',
    wnNote:
      '虚线:v 与单位圆;实线:w,它沿 v 的方向,长度总是 |g|。上游梯度 G = ∂L/∂w(拖动其末端)给出 ∂L/∂g = G·v/‖v‖ 和 ∂L/∂v,后者与 v 垂直:沿 v 自身的方向移动 v 不改变任何东西。',
    gradV: '∂L/∂v',
    gradG: '∂L/∂g',
    planeLabel: '权重平面:方向键移动 v 或 G 的末端(按住 Shift 更快),[ 和 ] 在两者之间切换',
  },
};
type Texts = (typeof L)['en'];

const BINS = 24;
/** Training steps of the running-statistics picture. */
const STEPS = 40;

/**
 * The entries normalizing a batch, by which cells of x[N, C, HW] share one mean and variance: a whole sample
 * (its C·HW values as one row), a channel across the batch, a group of channels of one sample, or one
 * channel of one sample. `centred: false`: divided by the root mean square, the mean is not subtracted.
 */
const BATCH_NORMS: Record<string, { cells: 'sample' | 'channel' | 'group' | 'instance'; centred: boolean }> = {
  layer_norm: { cells: 'sample', centred: true },
  rms_norm: { cells: 'sample', centred: false },
  batch_norm: { cells: 'channel', centred: true },
  group_norm: { cells: 'group', centred: true },
  instance_norm: { cells: 'instance', centred: true },
};

/** Builds the normalization view of one entry (the generic view for an entry not listed here). */
export const createView = familyView([
  forTable(BATCH_NORMS, (host, op, ctx, conf) => batchView(host, op, ctx, L[ctx.lang], conf)),
  forIds(['weight_norm'], (host, op, ctx) => weightNormView(host, op, ctx, L[ctx.lang])),
]);

/** Counts of `data` in BINS equal bins over [lo, hi] (a display transform). */
function histogram(data: ArrayLike<number>, lo: number, hi: number): Float32Array {
  const c = new Float32Array(BINS);
  const w = (hi - lo) / BINS || 1;
  for (let i = 0; i < data.length; ++i) {
    const v = data[i]!;
    if (!Number.isFinite(v)) continue;
    c[Math.min(BINS - 1, Math.max(0, Math.floor((v - lo) / w)))]! += 1;
  }
  return c;
}

function range(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; ++i) {
    const v = data[i]!;
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(lo < hi)) return [lo - 1 || -1, hi + 1 || 1];
  return [lo, hi];
}

// ----- layer / rms / batch / group / instance norm ---------------------------

function batchView(
  host: HTMLElement,
  op: OpMeta,
  ctx: ViewContext,
  t: Texts,
  { cells, centred }: (typeof BATCH_NORMS)[string],
): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures' });
  host.append(figures);
  const perSample = cells === 'sample';
  // The optional inputs it takes, from its registry row.
  const takes = (name: string) => op.inputs.some((i) => i.name === name);
  const running = takes('running_mean') && takes('running_var');

  const s = {
    N: store.int('N', 4, 1, 6),
    C: store.int('C', 6, 1, 8),
    S: store.int('S', 8, 1, 16),
    seed: store.int('seed', 1, 0, 9999),
    chan: store.num('chan', 2, 0, 5),
    samp: store.num('samp', 0.8, 0, 5),
    scale: store.num('scale', 1, 0.05, 4),
    gamma: store.num('gamma', 1, -3, 3),
    beta: store.num('beta', 0, -3, 3),
  };
  const defs = { ...s, N: 4, C: 6, S: 8, seed: 1, chan: 2, samp: 0.8, scale: 1, gamma: 1, beta: 0 };
  const num = (key: keyof typeof s, label: string, min: number, max: number, step: number) =>
    slider(controls, { id: `view-${key}`, label, min, max, step, value: s[key] }, (v) => {
      s[key] = step === 1 ? Math.round(v) : v;
      store.set(key, s[key], defs[key]);
      ctx.changed();
      render();
    });
  num('N', t.N, 1, 6, 1);
  num('C', t.C, 1, 8, 1);
  num('S', t.S, 1, 16, 1);
  num('seed', t.seed, 0, 200, 1);
  num('chan', t.chan, 0, 5, 0.05);
  num('samp', t.samp, 0, 5, 0.05);
  num('scale', t.scale, 0.05, 4, 0.05);
  num('gamma', t.gamma, -3, 3, 0.05);
  num('beta', t.beta, -3, 3, 0.05);
  const out = readout(controls, 'norm-readout');

  const row = h('div', { class: 'view-row' });
  figures.append(row);
  const figHi = new Figure(row, t.histIn, ctx.lang, 'figure-hist-in');
  const histIn = new LinePlot(figHi.body, { series: [{ label: t.count, kind: 'bars', color: 0 }], xLabel: t.bins });
  figHi.attach(histIn);
  const figHo = new Figure(row, t.histOut, ctx.lang, 'figure-hist-out');
  const histOut = new LinePlot(figHo.body, { series: [{ label: t.count, kind: 'bars', color: 2 }], xLabel: t.bins });
  figHo.attach(histOut);
  figHo.setNote(centred ? t.histNote : `${t.histNote} ${t.rmsNote}`);

  const figGrid = h('figure', { class: 'panel figure', 'data-testid': 'figure-groups' });
  const gridCaption = h('figcaption', { text: t.grid });
  const gridBox = h('div', { class: 'norm-grid' });
  const gridNote = h('p', { class: 'figure-note muted', text: t.share[op.id] ?? '' });
  figGrid.append(gridCaption, gridBox, gridNote);
  figures.append(figGrid);

  const row2 = h('div', { class: 'view-row' });
  figures.append(row2);
  const figXi = new Figure(row2, t.matIn, ctx.lang, 'figure-x');
  const heatIn = new Heatmap(figXi.body, { map: 'diverging', numbersUpTo: 0, maxHeight: 480 });
  figXi.attach(heatIn);
  const figXo = new Figure(row2, t.matOut, ctx.lang, 'figure-y');
  const heatOut = new Heatmap(figXo.body, { map: 'diverging', numbersUpTo: 0, maxHeight: 480 });
  figXo.attach(heatOut);

  let shown: Shown[] = [];
  let gridKey = '';
  let runPlot: LinePlot | null = null;
  let runCols = 0;
  let runDone: { key: string; rec: Shown | null } = { key: '', rec: null };
  if (running) {
    const figRun = new Figure(figures, t.runTitle, ctx.lang, 'figure-running');
    figRun.root.classList.add('wide-figure');
    runPlot = new LinePlot(figRun.body, { series: [{ label: 'mean' }], xLabel: t.step, height: 240 });
    figRun.attach(runPlot);
    figRun.setNote(t.runNote);
  }

  /** Which statistics group the cell (n, c) belongs to, or null when the op fails. */
  function groupOf(n: number, c: number, params: Record<string, number>): number {
    const { C } = s;
    switch (cells) {
      case 'channel':
        return c;
      case 'group': {
        const G = Math.max(1, Math.round(params.num_groups ?? 1));
        return n * G + Math.floor(c / Math.max(1, C / G));
      }
      case 'instance':
        return n * C + c;
      case 'sample':
        return n;
    }
  }

  function drawGrid(params: Record<string, number>): void {
    const key = `${s.N},${s.C},${params.num_groups ?? ''}`;
    if (key === gridKey) return;
    gridKey = key;
    const head = h(
      'tr',
      {},
      h('th', { text: '' }),
      ...Array.from({ length: s.C }, (_, c) => h('th', { scope: 'col', text: `c${c}` })),
    );
    const rows = Array.from({ length: s.N }, (_, n) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row', text: `n${n}` }),
        ...Array.from({ length: s.C }, (_, c) => {
          const g = groupOf(n, c, params);
          return h('td', { class: `g${g % 8}`, title: `group ${g}`, text: String(g) });
        }),
      ),
    );
    gridBox.replaceChildren(h('table', { class: 'norm-table' }, h('thead', {}, head), h('tbody', {}, ...rows)));
  }

  function render(): void {
    guard(ctx, 'engine', () => {
      const { N, C, S } = s;
      const next = normals(s.seed * 2654435761 + 11);
      const chanOff = Array.from({ length: C }, () => next());
      // A batch: channel offsets fixed, sample offsets and noise drawn afresh from `rnd`.
      const batch = (rnd: () => number) => {
        const sampOff = Array.from({ length: N }, () => rnd());
        const b = new Float32Array(N * C * S);
        for (let n = 0; n < N; ++n)
          for (let c = 0; c < C; ++c)
            for (let p = 0; p < S; ++p)
              b[(n * C + c) * S + p] = s.chan * chanOff[c]! + s.samp * sampOff[n]! + s.scale * rnd();
        return b;
      };
      const x = batch(next);
      const params = entryParams(op, ctx.params);
      const feat = perSample ? C * S : C;
      const inputs: F32Inputs = {
        input: perSample ? { shape: [N, C * S], data: x } : { shape: [N, C, S], data: x },
        weight: f32([feat], new Array(feat).fill(s.gamma)),
      };
      if (takes('bias')) inputs.bias = f32([feat], new Array(feat).fill(s.beta));
      if (running) {
        inputs.running_mean = f32([C], new Array(C).fill(0));
        inputs.running_var = f32([C], new Array(C).fill(1));
      }
      const res = evalCall(dl, op.id, inputs, params);
      const y = res.data;
      const [lo, hi] = range(x);
      const [lo2, hi2] = range(y);
      const centres = (a: number, b: number) =>
        Float32Array.from({ length: BINS }, (_, i) => a + ((b - a) * (i + 0.5)) / BINS);
      histIn.update(centres(lo, hi), [histogram(x, lo, hi)]);
      histOut.update(centres(lo2, hi2), [histogram(y, lo2, hi2)]);
      heatIn.update(x, N * C, S);
      heatOut.update(y, N * C, S);
      drawGrid(params);
      let text = `${t.shapes}: input ${inputs.input!.shape.join('×')} → output ${res.shape.join('×')}`;
      const rm = res.aux.running_mean;
      const rv = res.aux.running_var;
      if (rm && rv)
        text += `\n${t.running}: running_mean = [${Array.from(rm.data, (v) => fmt(v, 3)).join(', ')}]   running_var = [${Array.from(rv.data, (v) => fmt(v, 3)).join(', ')}]`;
      out.textContent = text;
      shown = [record('output', op.id, inputs, params, 'value', y)];
      // The running statistics do not depend on γ and β: rerun the steps only when something else moved.
      const runKey = [N, C, S, s.seed, s.chan, s.samp, s.scale, params.training, params.momentum, params.eps].join();
      if (runPlot && runKey === runDone.key) {
        if (runDone.rec) shown.push(runDone.rec);
      } else if (runPlot) {
        // Training steps on fresh batches, each call fed the running statistics of the one before.
        const rnd = normals(s.seed * 2654435761 + 97);
        let mean: Float32Array = new Float32Array(C);
        let vari: Float32Array = new Float32Array(C).fill(1);
        const cols = Math.min(C, 4);
        const curves = Array.from({ length: 2 * cols }, () => new Float32Array(STEPS + 1));
        for (let c = 0; c < cols; ++c) {
          curves[c]![0] = 0;
          curves[cols + c]![0] = 1;
        }
        let last: F32Inputs | null = null;
        for (let k = 1; k <= STEPS; ++k) {
          const stepIn: F32Inputs = { ...inputs, input: { shape: [N, C, S], data: batch(rnd) } };
          stepIn.running_mean = { shape: [C], data: mean };
          stepIn.running_var = { shape: [C], data: vari };
          const r = evalCall(dl, op.id, stepIn, params);
          mean = r.aux.running_mean!.data;
          vari = r.aux.running_var!.data;
          for (let c = 0; c < cols; ++c) {
            curves[c]![k] = mean[c]!;
            curves[cols + c]![k] = vari[c]!;
          }
          last = stepIn;
        }
        if (runCols !== cols) {
          runCols = cols;
          runPlot.setOptions({
            series: [
              ...Array.from({ length: cols }, (_, c) => ({ label: `${t.meanWord} c${c}`, color: c })),
              ...Array.from({ length: cols }, (_, c) => ({ label: `${t.varWord} c${c}`, color: c, dash: [5, 4] })),
            ],
          });
        }
        runPlot.update(
          Float32Array.from({ length: STEPS + 1 }, (_, i) => i),
          curves,
        );
        runDone = {
          key: runKey,
          rec: last ? record(`running_mean after ${STEPS} steps`, op.id, last, params, 'aux:running_mean', mean) : null,
        };
        if (runDone.rec) shown.push(runDone.rec);
      }
      if (rm && rv)
        shown.push(
          record('running_mean', op.id, inputs, params, 'aux:running_mean', rm.data),
          record('running_var', op.id, inputs, params, 'aux:running_var', rv.data),
        );
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      histIn.destroy();
      histOut.destroy();
      heatIn.destroy();
      heatOut.destroy();
      runPlot?.destroy();
    },
  };
}

// ----- weight norm -----------------------------------------------------------

function weightNormView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: Texts): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.weightView);
  const figures = h('div', { class: 'figures' });
  host.append(figures);
  const vDef = [0.9, 0.5];
  const upDef = [0.6, 1.2];
  const v = store.list('v', vDef, { min: -3, max: 3, minLen: 2, maxLen: 2 });
  const up = store.list('up', upDef, { min: -3, max: 3, minLen: 2, maxLen: 2 });
  let g = store.num('g', 2, -3, 3);
  slider(controls, { id: 'view-g', label: t.g, min: -3, max: 3, step: 0.01, value: g }, (x) => {
    g = x;
    store.set('g', x, 2);
    ctx.changed();
    render();
  });
  const out = readout(controls, 'norm-readout');

  const fig = new Figure(figures, t.wnPlane, ctx.lang, 'figure-weight-norm');
  fig.root.classList.add('fixed-plane');
  // Handle 0: v; handle 1: the tip of the upstream arrow drawn from w.
  let wTip = [0, 0];
  const plane = new PlanePlot(fig.body, {
    x: [-3, 3],
    y: [-3, 3],
    equalAspect: true,
    label: t.planeLabel,
    onDrag: (i, x, y) => {
      if (i === 0) {
        v[0] = x;
        v[1] = y;
        store.set('v', v, vDef);
      } else {
        up[0] = x - wTip[0]!;
        up[1] = y - wTip[1]!;
        store.set('up', up, upDef);
      }
      ctx.changed();
      render();
    },
  });
  fig.attach(plane);
  fig.setNote(t.wnNote);
  colorKey(fig.body, [
    [0, 'v', true],
    [2, 'w = g v/‖v‖'],
    [1, 'G = ∂L/∂w'],
    [6, t.gradV],
    [7, '‖·‖ = 1', true],
  ]);

  const circle = (r: number) => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let k = 0; k <= 96; ++k) {
      xs.push(r * Math.cos((2 * Math.PI * k) / 96));
      ys.push(r * Math.sin((2 * Math.PI * k) / 96));
    }
    return { xs, ys };
  };

  let shown: Shown[] = [];

  function render(): void {
    guard(ctx, 'engine', () => {
      const params = entryParams(op, ctx.params);
      const inputs: F32Inputs = { v: f32([1, 2], v), g: f32([1], [g]) };
      const upstream = f32([1, 2], up);
      const w = evalCall(dl, op.id, inputs, params).data;
      const grads = gradCall(dl, op.id, inputs, params, upstream);
      const gv = grads.v!.data;
      const gg = grads.g!.data;
      wTip = [w[0]!, w[1]!];
      const paths: Path[] = [
        { label: '‖·‖ = 1', ...circle(1), color: 7, dash: [3, 4], width: 1 },
        { label: `‖·‖ = |g|`, ...circle(Math.abs(g)), color: 2, dash: [1, 3], width: 1 },
        { label: 'v', ...arrow(0, 0, v[0]!, v[1]!), color: 0, dash: [6, 4], width: 1.5 },
        { label: 'w', ...arrow(0, 0, w[0]!, w[1]!), color: 2, width: 3 },
        { label: 'G', ...arrow(w[0]!, w[1]!, w[0]! + up[0]!, w[1]! + up[1]!), color: 1, width: 2 },
        { label: t.gradV, ...arrow(v[0]!, v[1]!, v[0]! + gv[0]!, v[1]! + gv[1]!), color: 6, width: 2.5 },
      ];
      plane.update(paths, [
        { x: v[0]!, y: v[1]!, color: 0, label: 'v' },
        { x: w[0]! + up[0]!, y: w[1]! + up[1]!, color: 1, label: 'G' },
      ]);
      out.textContent = `v = (${fmt(v[0]!, 3)}, ${fmt(v[1]!, 3)})   g = ${fmt(g, 3)}   w = (${fmt(w[0]!, 5)}, ${fmt(w[1]!, 5)})\nG = ∂L/∂w = (${fmt(up[0]!, 3)}, ${fmt(up[1]!, 3)})   ${t.gradG} = ${fmt(gg[0]!, 5)}   ${t.gradV} = (${fmt(gv[0]!, 5)}, ${fmt(gv[1]!, 5)})`;
      shown = [
        record('w', op.id, inputs, params, 'value', w),
        record('∂L/∂v', op.id, inputs, params, 'grad:v', gv, { upstream }),
        record('∂L/∂g', op.id, inputs, params, 'grad:g', gg, { upstream }),
      ];
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      plane.destroy();
    },
  };
}
