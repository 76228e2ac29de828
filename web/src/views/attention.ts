// Attention and positional encoding. Scaled dot-product attention: seeded (or
// typed) Q, K, V, the attention weights as a heatmap whose cells can be
// clicked to mask a key, the output and the gradient with respect to Q.
// Multi-head attention: one sequence attending to itself, every head's weights
// side by side, the output and the gradient. Sinusoidal: the position table,
// the dot-product similarity between positions and a few columns as curves.
import type { OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { Figure } from '../ui/plots/figure.js';
import { Heatmap } from '../ui/plots/heatmap.js';
import { LinePlot } from '../ui/plots/line.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { controlGroup, formatMatrix, parseMatrix, readout, slider, textField } from '../ui/widgets.js';
import {
  arrow,
  entryParams,
  evalCall,
  f32,
  fmt,
  gradCall,
  normals,
  record,
  type F32Input,
  type F32Inputs,
  guard,
} from './common.js';
import { colorKey } from './color-key.js';
import { familyView, forIds } from './dispatch.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import './views.css';

const L = {
  en: {
    view: 'Inputs',
    len: 'sequence length L (= S)',
    dim: 'feature width E',
    seed: 'seed of Q, K, V',
    seedX: 'seed of x and the projections',
    amp: 'scale of Q and K (sharper softmax when larger)',
    q: 'Q (rows = queries; "1, 2; 3, 4")',
    k: 'K (rows = keys)',
    v: 'V (rows = values)',
    inQ: 'query Q',
    inK: 'key K',
    inV: 'value V',
    weights: 'Attention weights P = softmax(s QKᵀ + M)',
    weightsNote:
      'Row i: how query i spreads its attention over the keys; every row sums to 1. Turn on is_causal to hide the keys after each query. Click a cell to mask that key for that query (the mask follows mask_kind).',
    out: 'Output P V',
    gradQ: 'Gradient ∂L/∂Q for L = Σ output',
    gradQuery: 'Gradient ∂L/∂query for L = Σ output',
    queryWord: 'query',
    headWidth: 'each head has width',
    keyWord: 'key',
    dimWord: 'dimension',
    cosAxis: 'cos (column 2i+1)',
    sinAxis: 'sin (column 2i)',
    gradNote: 'A query row gets no gradient when its weights are saturated (one key takes everything) or fully masked.',
    masked: 'masked cells',
    x: 'Input sequence x (query = key = value)',
    heads: 'Weights of each head (average_attn_weights off)',
    avg: 'The entry’s own aux weights',
    avgNone: 'need_weights is off: the entry returns no weights.',
    headsNote:
      'Each head projects x with its own slice of in_proj_weight, so the heads attend differently. Raise num_heads (it must divide E) to see more heads; their average is the entry’s own weights.',
    head: 'head',
    pe: 'Positional encoding PEᵀ (rows = dimensions, columns = positions)',
    peNote:
      'Read a column: the code of one position. The top rows (fast sines and cosines) tell neighbours apart; the bottom rows change slowly and locate the position coarsely.',
    sim: 'Similarity between positions: PE PEᵀ (dot, all pairs)',
    simNote:
      'Nearby positions have similar codes: the similarity depends only on the distance |i − j|, so every diagonal is constant.',
    curves: 'Columns of PE against the position',
    curvesNote:
      'Low columns oscillate fast, high ones slowly: the wavelengths grow geometrically from 2π towards 2π·base.',
    maxLen: 'max_len (positions)',
    dModel: 'd_model (dimensions)',
    dims: 'columns to plot (comma-separated)',
    pos: 'position',
    scale: 'scale used',
    outShape: 'output shape',
    bad: 'not a matrix',
    pair: 'sine–cosine pair i (columns 2i, 2i+1)',
    rot: 'One pair of columns: every position on the unit circle',
    rotNote:
      'Position p sits at angle p·wᵢ, so moving k positions ahead turns every point by the same angle k·wᵢ: a shift is a rotation, which attention can read off a dot product. The arrows are positions 0–3. Angle per position for',
    rotStep: 'wᵢ =',
    rotNone: 'd_model needs at least 2 columns for a sine–cosine pair.',
    maskCells: 'masked cells (query-key pairs)',
  },
  zh: {
    view: '输入',
    len: '序列长度 L(= S)',
    dim: '特征宽度 E',
    seed: 'Q、K、V 的随机种子',
    seedX: 'x 与投影矩阵的随机种子',
    amp: 'Q 与 K 的尺度(越大 softmax 越尖锐)',
    q: 'Q(每行一个查询;格式 "1, 2; 3, 4")',
    k: 'K(每行一个键)',
    v: 'V(每行一个值)',
    inQ: '查询 Q',
    inK: '键 K',
    inV: '值 V',
    weights: '注意力权重 P = softmax(s QKᵀ + M)',
    weightsNote:
      '第 i 行表示查询 i 如何把注意力分配给各个键,每行之和为 1。打开 is_causal 会屏蔽每个查询之后的键。点击某个格子可为该查询屏蔽该键(掩码类型由 mask_kind 决定)。',
    out: '输出 P V',
    gradQ: '梯度 ∂L/∂Q(L = Σ 输出)',
    gradQuery: '梯度 ∂L/∂query(L = Σ 输出)',
    queryWord: '查询',
    headWidth: '每个头的宽度为',
    keyWord: '键',
    dimWord: '维度',
    cosAxis: 'cos(第 2i+1 列)',
    sinAxis: 'sin(第 2i 列)',
    gradNote: '当某一行的权重饱和(一个键占据全部注意力)或全部被屏蔽时,该查询行几乎得不到梯度。',
    masked: '被屏蔽的格子',
    x: '输入序列 x(query = key = value)',
    heads: '各个头的权重(关闭 average_attn_weights)',
    avg: '本条目自身返回的 aux 权重',
    avgNone: 'need_weights 已关闭:本条目不返回权重。',
    headsNote:
      '每个头用 in_proj_weight 中属于自己的那一段投影 x,所以各头的注意力模式不同。增大 num_heads(必须整除 E)可以看到更多的头;它们的平均就是本条目自身返回的权重。',
    head: '头',
    pe: '位置编码 PEᵀ(行 = 维度,列 = 位置)',
    peNote: '每一列是一个位置的编码。上面几行(高频的正弦和余弦)区分相邻位置;下面几行变化缓慢,粗略地定位位置。',
    sim: '位置之间的相似度:PE PEᵀ(dot,两两组合)',
    simNote: '相邻位置的编码相似:相似度只取决于距离 |i − j|,所以每条对角线上的值都相同。',
    curves: 'PE 的若干列随位置的变化',
    curvesNote: '低维的列振荡得快,高维的列振荡得慢:波长从 2π 起按几何级数增长,趋近 2π·base。',
    maxLen: 'max_len(位置数)',
    dModel: 'd_model(维度数)',
    dims: '要画的列(逗号分隔)',
    pos: '位置',
    scale: '实际缩放',
    outShape: '输出形状',
    bad: '不是矩阵',
    pair: '正弦–余弦对 i(第 2i 与 2i+1 列)',
    rot: '一对列:每个位置都落在单位圆上',
    rotNote:
      '位置 p 位于角度 p·wᵢ 处,所以向后移动 k 个位置会把每个点都转过同一个角度 k·wᵢ:平移就是旋转,注意力可以从点积中读出它。箭头表示位置 0–3。每个位置转过的角度,',
    rotStep: 'wᵢ =',
    rotNone: 'd_model 至少要有 2 列才能构成一对正弦和余弦。',
    maskCells: '被屏蔽的格子(查询-键 对)',
  },
};
type Texts = (typeof L)['en'];

/** Builds the attention view of one entry (the generic view for an entry not listed here). */
export const createView = familyView([
  forIds(['scaled_dot_product_attention'], (host, op, ctx) => sdpaView(host, op, ctx, L[ctx.lang])),
  forIds(['multi_head_attention'], (host, op, ctx) => mhaView(host, op, ctx, L[ctx.lang])),
  forIds(['sinusoidal'], (host, op, ctx) => sinusoidalView(host, op, ctx, L[ctx.lang])),
]);

/** A small figure with a heatmap, in a row of figures. */
function heatFigure(parent: HTMLElement, title: string, ctx: ViewContext, testid: string, opts = {}) {
  const fig = new Figure(parent, title, ctx.lang, testid);
  const heat = new Heatmap(fig.body, { map: 'diverging', maxHeight: 260, label: title, ...opts });
  fig.attach(heat);
  return { fig, heat };
}

function randomMatrix(rows: number, cols: number, next: () => number, scale: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => scale * next()));
}

/** The sequence length, width, seed and scale every attention view starts from. */
interface Dims {
  T: number;
  E: number;
  seed: number;
  amp: number;
}

/**
 * The control group and figure row of an attention view, the group starting with the T, E, seed and amp
 * sliders (bound to the store).
 * @param def - the defaults (and the largest T and E)
 * @param onChange - called with all four after one changes (the store is already set)
 */
function dimControls(
  host: HTMLElement,
  ctx: ViewContext,
  t: Texts,
  seedLabel: string,
  def: Dims & { maxT: number; maxE: number },
  onChange: (d: Dims) => void,
): { controls: HTMLElement; figures: HTMLElement; dims: Dims } {
  const { store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures' });
  host.append(figures);
  const d: Dims = {
    T: store.int('T', def.T, 2, def.maxT),
    E: store.int('E', def.E, 1, def.maxE),
    seed: store.int('seed', def.seed, 0, 9999),
    amp: store.num('amp', def.amp, 0.1, 4),
  };
  const set = (key: keyof Dims, v: number) => {
    d[key] = v;
    store.set(key, v, def[key]);
    onChange({ ...d });
  };
  slider(controls, { id: 'view-T', label: t.len, min: 2, max: def.maxT, step: 1, value: d.T }, (v) =>
    set('T', Math.round(v)),
  );
  slider(controls, { id: 'view-E', label: t.dim, min: 1, max: def.maxE, step: 1, value: d.E }, (v) =>
    set('E', Math.round(v)),
  );
  slider(controls, { id: 'view-seed', label: seedLabel, min: 0, max: 200, step: 1, value: d.seed }, (v) =>
    set('seed', Math.round(v)),
  );
  slider(controls, { id: 'view-amp', label: t.amp, min: 0.1, max: 4, step: 0.05, value: d.amp }, (v) => set('amp', v));
  return { controls, figures, dims: { ...d } };
}

// ----- scaled dot-product attention ------------------------------------------

function sdpaView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: Texts): FamilyView {
  const { dl, store } = ctx;
  const { controls, figures, dims } = dimControls(
    host,
    ctx,
    t,
    t.seed,
    { T: 5, E: 4, seed: 1, amp: 1.2, maxT: 10, maxE: 8 },
    (d) => {
      ({ T, E, seed, amp } = d);
      regenerate();
    },
  );
  let { T, E, seed, amp } = dims;
  let hide = store.list('hide', [], { min: 0, max: 9999, minLen: 0, maxLen: 100 }).filter(Number.isInteger);
  const custom = { q: store.text('q', '', 600), k: store.text('k', '', 600), v: store.text('v', '', 600) };
  let mats = { q: [] as number[][], k: [] as number[][], v: [] as number[][] };

  const generate = () => {
    const next = normals(seed * 7919 + 17);
    const q = randomMatrix(T, E, next, amp);
    const k = randomMatrix(T, E, next, amp);
    const v = randomMatrix(T, E, next, 1);
    mats = { q, k, v };
    for (const key of ['q', 'k', 'v'] as const) {
      const m = custom[key] ? parseMatrix(custom[key]) : null;
      if (m || !custom[key]) ctx.report(`matrix-${key}`, null);
      if (m) mats[key] = m;
      else if (custom[key]) {
        // A link with a matrix that does not parse: say so and keep the seeded one.
        ctx.report(`matrix-${key}`, new Error(`${key.toUpperCase()}: ${t.bad} '${custom[key].slice(0, 40)}'`));
        custom[key] = '';
        store.set(key, '', '');
      }
    }
  };
  generate();

  const fields: Record<'q' | 'k' | 'v', HTMLInputElement | null> = { q: null, k: null, v: null };
  const regenerate = () => {
    custom.q = custom.k = custom.v = '';
    for (const key of ['q', 'k', 'v'] as const) store.set(key, '', '');
    setHide([]);
    generate();
    for (const key of ['q', 'k', 'v'] as const) if (fields[key]) fields[key]!.value = formatMatrix(mats[key]);
    ctx.changed();
    render();
  };
  for (const key of ['q', 'k', 'v'] as const) {
    fields[key] = textField(
      controls,
      { id: `view-${key}`, label: t[key], value: formatMatrix(mats[key]), wide: true },
      (text) => {
        const m = parseMatrix(text);
        if (!m) return ctx.report(`matrix-${key}`, new Error(`${key.toUpperCase()}: ${t.bad}`));
        ctx.report(`matrix-${key}`, null);
        custom[key] = text;
        store.set(key, text, '');
        mats[key] = m;
        ctx.changed();
        render();
      },
    );
  }
  const hideText = (cells: number[]) => cells.map((i) => `${Math.floor(i / 100)}-${i % 100}`).join(', ');
  const maskField = textField(
    controls,
    { id: 'view-mask', label: t.maskCells, value: hideText(hide), placeholder: '0-3, 1-4', wide: true },
    (text) => {
      const cells: number[] = [];
      for (const p of text.split(/[,;\s]+/).filter(Boolean)) {
        const m = /^(\d{1,2})-(\d{1,2})$/.exec(p);
        if (!m) return ctx.report('mask', new Error(`${t.maskCells}: '${p}'`));
        cells.push(Number(m[1]) * 100 + Number(m[2]));
      }
      ctx.report('mask', null);
      hide = [...new Set(cells)];
      store.set('hide', hide, []);
      ctx.changed();
      render();
    },
  );
  function setHide(next: number[]): void {
    hide = next;
    store.set('hide', hide, []);
    maskField.value = hideText(hide);
  }
  const info = readout(controls, 'attention-readout');

  const row = h('div', { class: 'view-row' });
  figures.append(row);
  const fq = heatFigure(row, t.inQ, ctx, 'figure-q');
  const fk = heatFigure(row, t.inK, ctx, 'figure-k');
  const fv = heatFigure(row, t.inV, ctx, 'figure-v');
  const row2 = h('div', { class: 'view-row' });
  figures.append(row2);
  const fw = heatFigure(row2, t.weights, ctx, 'figure-weights', {
    map: 'sequential',
    range: [0, 1],
    rowLabel: t.queryWord,
    colLabel: t.keyWord,
    onCell: (r: number, c: number) => {
      const i = r * 100 + c;
      setHide(hide.includes(i) ? hide.filter((x) => x !== i) : [...hide, i]);
      ctx.changed();
      render();
    },
  });
  fw.fig.setNote(t.weightsNote);
  const fo = heatFigure(row2, t.out, ctx, 'figure-output');
  const fg = heatFigure(row2, t.gradQ, ctx, 'figure-grad');
  fg.fig.setNote(t.gradNote);

  let shown: Shown[] = [];

  function render(): void {
    guard(ctx, 'engine', () => {
      const flat = (m: number[][]) => f32([m.length, m[0]?.length ?? 0], m.flat());
      const inputs: F32Inputs = { query: flat(mats.q), key: flat(mats.k), value: flat(mats.v) };
      const params = entryParams(op, ctx.params);
      const Lq = mats.q.length;
      const S = mats.k.length;
      // The clicked cells, as a mask of the kind the entry's mask_kind asks for (additive: -1e9,
      // finite so that the recorded call survives JSON; exp underflows to 0 all the same).
      const cells = hide.filter((i) => Math.floor(i / 100) < Lq && i % 100 < S);
      if (cells.length) {
        const boolean = params.mask_kind === 1;
        const m = new Float32Array(Lq * S).fill(boolean ? 1 : 0);
        for (const i of cells) m[Math.floor(i / 100) * S + (i % 100)] = boolean ? 0 : -1e9;
        inputs.attn_mask = { shape: [Lq, S], data: m };
      }
      const res = evalCall(dl, op.id, inputs, params);
      const g = gradCall(dl, op.id, inputs, params).query!;
      const P = res.aux.weights!.data;

      fq.heat.update(inputs.query!.data, Lq, mats.q[0]!.length);
      fk.heat.update(inputs.key!.data, S, mats.k[0]!.length);
      fv.heat.update(inputs.value!.data, mats.v.length, mats.v[0]!.length);
      fw.heat.update(P, Lq, S);
      fo.heat.update(res.data, res.shape[0]!, res.shape[1]!);
      fg.heat.update(g.data, g.shape[0]!, g.shape[1]!);
      // The scale as the op defines it (no number is computed here).
      const s = params.scale && params.scale > 0 ? fmt(params.scale, 5) : `1/√E, E = ${mats.q[0]!.length}`;
      info.textContent = `${t.scale}: s = ${s}   ${t.masked}: ${cells.length}   ${t.outShape}: ${res.shape.join('×')}`;
      shown = [
        record('attention weights', op.id, inputs, params, 'aux:weights', P),
        record('output', op.id, inputs, params, 'value', res.data),
        record('∂L/∂Q', op.id, inputs, params, 'grad:query', g.data),
      ];
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      for (const f of [fq, fk, fv, fw, fo, fg]) f.heat.destroy();
    },
  };
}

// ----- multi-head attention --------------------------------------------------

function mhaView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: Texts): FamilyView {
  const { dl, store } = ctx;
  const { controls, figures, dims } = dimControls(
    host,
    ctx,
    t,
    t.seedX,
    { T: 6, E: 8, seed: 1, amp: 1.5, maxT: 12, maxE: 16 },
    (d) => {
      ({ T, E, seed, amp } = d);
      ctx.changed();
      render();
    },
  );
  let { T, E, seed, amp } = dims;
  const info = readout(controls, 'attention-readout');

  const small = { numbersUpTo: 6 };
  const fx = heatFigure(figures, t.x, ctx, 'figure-x', small);
  const figHeads = new Figure(figures, t.heads, ctx.lang, 'figure-heads');
  figHeads.setNote(t.headsNote);
  const headRow = h('div', { class: 'view-row' });
  figHeads.body.append(headRow);
  let headMaps: { box: HTMLElement; heat: Heatmap }[] = [];
  const row2 = h('div', { class: 'view-row' });
  figures.append(row2);
  const fa = heatFigure(row2, t.avg, ctx, 'figure-weights', { map: 'sequential', range: [0, 1] });
  const fo = heatFigure(row2, t.out, ctx, 'figure-output', small);
  const fg = heatFigure(row2, t.gradQuery, ctx, 'figure-grad', small);

  let shown: Shown[] = [];

  function setHeads(n: number): void {
    if (headMaps.length === n) return;
    for (const m of headMaps) m.heat.destroy();
    headRow.replaceChildren();
    headMaps = Array.from({ length: n }, (_, i) => {
      const box = h('div', { class: 'head-box' }, h('div', { class: 'muted', text: `${t.head} ${i + 1}` }));
      headRow.append(box);
      return {
        box,
        heat: new Heatmap(box, { map: 'sequential', range: [0, 1], maxHeight: 200, numbersUpTo: n <= 2 ? 6 : 0 }),
      };
    });
    figHeads.attach(headMaps[0]!.heat);
  }

  function render(): void {
    guard(ctx, 'engine', () => {
      const next = normals(seed * 104729 + 3);
      const x = f32([T, E], randomMatrix(T, E, next, 1).flat());
      const w = 1 / Math.sqrt(E);
      const inW = f32([3 * E, E], randomMatrix(3 * E, E, next, w * amp).flat());
      const outW = f32([E, E], randomMatrix(E, E, next, w).flat());
      const inB = f32([3 * E], randomMatrix(1, 3 * E, next, 0.1)[0]!);
      const inputs: F32Inputs = {
        query: x,
        key: x,
        value: x,
        in_proj_weight: inW,
        in_proj_bias: inB,
        out_proj_weight: outW,
      };
      const params = entryParams(op, ctx.params);
      const res = evalCall(dl, op.id, inputs, params);
      const headParams = { ...params, need_weights: 1, average_attn_weights: 0 };
      const perHead = evalCall(dl, op.id, inputs, headParams);
      const g = gradCall(dl, op.id, inputs, params).query!;
      const H = Math.round(params.num_heads ?? 1);
      const pw = perHead.aux.weights!;
      setHeads(H);
      for (let i = 0; i < H; ++i) headMaps[i]!.heat.update(pw.data.subarray(i * T * T, (i + 1) * T * T), T, T);
      fx.heat.update(x.data, T, E);
      const own = res.aux.weights;
      if (own && own.data.length) {
        const rows = own.data.length / T;
        fa.heat.update(own.data, rows, T);
        fa.fig.setNote('');
      } else {
        fa.heat.update([], 0, 0);
        fa.fig.setNote(t.avgNone);
      }
      fo.heat.update(res.data, T, E);
      fg.heat.update(g.data, T, E);
      info.textContent = `E = ${E}, num_heads = ${H}: ${t.headWidth} E/H, s = 1/√(E/H)`;
      shown = [
        record('output', op.id, inputs, params, 'value', res.data),
        record('∂L/∂query', op.id, inputs, params, 'grad:query', g.data),
        record('weights per head', op.id, inputs, headParams, 'aux:weights', pw.data),
      ];
      if (own && own.data.length) shown.push(record('aux weights', op.id, inputs, params, 'aux:weights', own.data));
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      for (const f of [fx, fa, fo, fg]) f.heat.destroy();
      for (const m of headMaps) m.heat.destroy();
    },
  };
}

// ----- sinusoidal positional encoding ----------------------------------------

function sinusoidalView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: Texts): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures' });
  host.append(figures);

  let T = store.int('T', 48, 2, 96);
  let D = store.int('D', 16, 1, 32);
  let dims = store.list('dims', [0, 1, 6, 7], { min: 0, max: 31, maxLen: 6 });
  let pair = store.int('pair', 1, 0, 15);
  const rerender = () => {
    ctx.changed();
    render();
  };
  slider(controls, { id: 'view-T', label: t.maxLen, min: 2, max: 96, step: 1, value: T }, (v) => {
    T = Math.round(v);
    store.set('T', T, 48);
    rerender();
  });
  slider(controls, { id: 'view-D', label: t.dModel, min: 1, max: 32, step: 1, value: D }, (v) => {
    D = Math.round(v);
    store.set('D', D, 16);
    rerender();
  });
  textField(controls, { id: 'view-dims', label: t.dims, value: dims.join(', ') }, (text) => {
    const v = text
      .split(/[,\s]+/)
      .filter(Boolean)
      .map(Number);
    if (!v.length || v.length > 6 || v.some((x) => !Number.isInteger(x) || x < 0 || x > 31))
      return ctx.report('dims', new Error(`${t.dims}: '${text}'`));
    ctx.report('dims', null);
    dims = v;
    store.set('dims', v, [0, 1, 6, 7]);
    rerender();
  });
  slider(controls, { id: 'view-pair', label: t.pair, min: 0, max: 15, step: 1, value: pair }, (v) => {
    pair = Math.round(v);
    store.set('pair', pair, 1);
    rerender();
  });

  const pe = heatFigure(figures, t.pe, ctx, 'figure-pe', { rowLabel: t.dimWord, colLabel: t.pos, maxHeight: 420 });
  pe.fig.root.classList.add('wide-figure');
  pe.fig.setNote(t.peNote);
  const sim = heatFigure(figures, t.sim, ctx, 'figure-sim', {
    map: 'sequential',
    rowLabel: t.pos,
    colLabel: t.pos,
    maxHeight: 420,
  });
  sim.fig.setNote(t.simNote);
  const figC = new Figure(figures, t.curves, ctx.lang, 'figure-curves');
  figC.setNote(t.curvesNote);
  let plot: LinePlot | null = null;
  let plotKey = '';
  const figR = new Figure(figures, t.rot, ctx.lang, 'figure-rotation');
  const rot = new PlanePlot(figR.body, {
    x: [-1.25, 1.25],
    y: [-1.25, 1.25],
    xLabel: t.cosAxis,
    yLabel: t.sinAxis,
    equalAspect: true,
    label: t.rot,
  });
  figR.attach(rot);
  colorKey(figR.body, [
    [0, t.pos],
    [1, `${t.pos} 0`],
    [2, `${t.pos} 1`],
    [3, `${t.pos} 2`],
    [4, `${t.pos} 3`],
  ]);

  let shown: Shown[] = [];

  function render(): void {
    guard(ctx, 'engine', () => {
      const params = entryParams(op, ctx.params);
      const inputs: F32Inputs = { shape: f32([2], [T, D]) };
      const res = evalCall(dl, op.id, inputs, params);
      const P: F32Input = { shape: [T, D], data: res.data };
      const simIn: F32Inputs = { x1: P, x2: P };
      const simP = { all_pairs: 1 };
      const S = evalCall(dl, 'dot', simIn, simP).data;
      // Drawn transposed (dimensions down, positions across) so that long sequences fit.
      const peT = new Float32Array(T * D);
      for (let i = 0; i < T; ++i) for (let j = 0; j < D; ++j) peT[j * T + i] = res.data[i * D + j]!;
      pe.heat.update(peT, D, T);
      sim.heat.update(S, T, T);
      const cols = dims.filter((d) => d < D);
      const key = cols.join(',');
      if (!plot || key !== plotKey) {
        plot?.destroy();
        figC.body.replaceChildren();
        plot = new LinePlot(figC.body, {
          series: cols.map((d, i) => ({ label: `PE[:, ${d}]`, color: i })),
          xLabel: t.pos,
          yRange: [-1.1, 1.1],
        });
        figC.attach(plot);
        plotKey = key;
      }
      const xs = Float32Array.from({ length: T }, (_, i) => i);
      plot.update(
        xs,
        cols.map((d) => Float32Array.from({ length: T }, (_, i) => res.data[i * D + d]!)),
      );
      // One sine/cosine pair: position p sits at angle p·w_i on the unit circle.
      const i = Math.min(pair, Math.floor(D / 2) - 1);
      if (i >= 0) {
        const cs = Float32Array.from({ length: T }, (_, p) => res.data[p * D + 2 * i + 1]!);
        const sn = Float32Array.from({ length: T }, (_, p) => res.data[p * D + 2 * i]!);
        const spokes: Path[] = [0, 1, 2, 3]
          .filter((p) => p < T)
          .map((p) => ({ label: `pos ${p}`, ...arrow(0, 0, cs[p]!, sn[p]!, 0.08), color: p + 1, width: 2 }));
        rot.update([
          { label: `pair ${i}`, xs: cs, ys: sn, color: 7, width: 1 },
          { label: 'positions', xs: cs, ys: sn, kind: 'points', color: 0 },
          ...spokes,
        ]);
        const step = T > 1 ? Math.atan2(sn[1]!, cs[1]!) : 0;
        figR.setNote(`${t.rotNote} i = ${i}: ${t.rotStep} ${fmt(step, 4)} rad.`);
      } else {
        rot.update([]);
        figR.setNote(t.rotNone);
      }
      // Keep the records small: the similarity matrix by a prefix of at most 4096 numbers.
      const n = Math.min(S.length, 4096);
      const pick = Array.from({ length: n }, (_, i) => i);
      shown = [
        record('positional encoding', op.id, inputs, params, 'value', res.data),
        record('PE PEᵀ', 'dot', simIn, simP, 'value', S.subarray(0, n), n < S.length ? { pick } : {}),
      ];
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      pe.heat.destroy();
      sim.heat.destroy();
      plot?.destroy();
      rot.destroy();
    },
  };
}
