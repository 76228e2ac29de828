// Initialization: the entry's weights as a histogram against the theoretical
// density (std and bound from the engine's calculate_gain), and the spread of
// activations through a 20-layer net for a chosen activation, Xavier vs He vs
// orthogonal. calculate_gain itself gets the gain of every nonlinearity.
// Weights and activations come from the engine (dl.init, dl.eval); the
// matrix products of the deep net are plain JS, a display of those weights.
import type { OpMeta, Params } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import { Figure } from '../ui/plots/figure.js';
import { LinePlot, type Mark } from '../ui/plots/line.js';
import { controlGroup, readout, select, slider, toggle } from '../ui/widgets.js';
import { frameRenderer, guard } from './common.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import { familyView, forTable } from './dispatch.js';

export const DEPTH = 20;
/** Activations per layer (batch × width): the batch shrinks as the net widens. */
const SAMPLES = 1024;
const WIDTHS = ['64', '128', '192', '256'] as const;
const BINS = 61;
const MAX_FAN = 256;
const MAX_SHOWN = 5000;
const NONLINEARITIES = ['leaky_relu', 'relu', 'tanh', 'sigmoid', 'linear', 'selu'] as const;
type Nonlinearity = (typeof NONLINEARITIES)[number];
const COMPARED = ['xavier_normal', 'kaiming_normal', 'orthogonal'] as const;

const L = {
  en: {
    weights: 'Weights',
    fanIn: 'fan_in (columns)',
    fanOut: 'fan_out (rows)',
    hist: 'Histogram of the weights',
    density: 'density',
    theory: 'theory',
    drawn: 'drawn',
    histNote:
      'Bars: the engine’s weights of shape [fan_out, fan_in]. Line: the density they are drawn from, its std (and bound) from the formula with the gain from the engine’s calculate_gain.',
    orthNote:
      'Orthogonal weights are not drawn entry by entry; their entries still spread like a normal with variance gain² / max(fan_in, fan_out). The Gram check multiplies the weights in JS.',
    deep: 'Deep net',
    act: 'activation',
    follow: 'same as nonlinearity',
    width: 'width',
    matched: 'Scale every init by calculate_gain(activation)',
    depthTitle: `Std of the activations through ${DEPTH} layers`,
    layer: 'layer',
    deepNote: `h₀ is a seeded standard normal batch; h_{l+1} = act(W_l h_l) with W_l from dl.init and act from dl.eval, the matrix products in plain JS. Log scale: a straight line is a constant factor per layer, down (vanishing) or up (exploding). For square layers Xavier and Kaiming (fan_in) coincide once given the same gain.`,
    gains: 'Gain of each nonlinearity',
    gainNote:
      'The factor calculate_gain recommends before each nonlinearity (leaky_relu with the entry’s param). Kaiming inits use it directly; Xavier and orthogonal take it as their gain. The deep net on the right uses the nonlinearity param as its activation unless you pick another (linear: no activation at all).',
    std: 'std',
    mean: 'mean',
    bound: 'bound',
    gram: 'max |W Wᵀ − gain² I|',
    entry: 'this entry',
  },
  zh: {
    weights: '权重',
    fanIn: 'fan_in(列数)',
    fanOut: 'fan_out(行数)',
    hist: '权重直方图',
    density: '密度',
    theory: '理论',
    drawn: '抽样',
    histNote:
      '柱:引擎生成的 [fan_out, fan_in] 形状权重。曲线:它们所服从的分布密度,标准差(及边界)按公式计算,其中增益取自引擎的 calculate_gain。',
    orthNote:
      '正交权重并非逐个元素独立抽取;但其元素的分布仍近似方差为 gain² / max(fan_in, fan_out) 的正态分布。格拉姆矩阵的检验在 JS 中做矩阵乘法。',
    deep: '深层网络',
    act: '激活函数',
    follow: '与 nonlinearity 参数相同',
    width: '宽度',
    matched: '每种初始化都乘以 calculate_gain(激活函数)',
    depthTitle: `${DEPTH} 层网络中激活值的标准差`,
    layer: '层',
    deepNote: `h₀ 是带种子的标准正态批量;h_{l+1} = act(W_l h_l),其中 W_l 来自 dl.init,act 来自 dl.eval,矩阵乘法用纯 JS 计算。对数坐标下,直线表示每层乘以固定倍数:向下即信号消失,向上即爆炸。对于方阵层,只要增益相同,Xavier 与 Kaiming(fan_in)就完全一致。`,
    gains: '各非线性函数的增益',
    gainNote:
      'calculate_gain 为每种非线性推荐的缩放系数(leaky_relu 使用本条目的 param)。Kaiming 初始化直接使用它;Xavier 与正交初始化把它作为 gain。右侧的深层网络默认以参数 nonlinearity 作为激活函数,也可另选(linear 表示不用激活函数)。',
    std: '标准差',
    mean: '均值',
    bound: '边界',
    gram: 'max |W Wᵀ − gain² I|',
    entry: '本条目',
  },
};

interface InitCall {
  id: string;
  shape: [number, number];
  params: Params;
  data: Float32Array;
}

/** std of a sample (population form). */
function stdOf(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < a.length; ++i) s += a[i]!;
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; ++i) v += (a[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / a.length) };
}

/** out[b, j] = Σ_k W[j, k] x[b, k] for a batch of rows x [B, n] and W [n, n]. */
function matmulRows(x: Float32Array, w: Float32Array, batch: number, n: number, out: Float32Array): void {
  for (let b = 0; b < batch; ++b) {
    const xo = b * n;
    for (let j = 0; j < n; ++j) {
      const wo = j * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 3 < n; k += 4) {
        s0 += w[wo + k]! * x[xo + k]!;
        s1 += w[wo + k + 1]! * x[xo + k + 1]!;
        s2 += w[wo + k + 2]! * x[xo + k + 2]!;
        s3 += w[wo + k + 3]! * x[xo + k + 3]!;
      }
      for (; k < n; ++k) s0 += w[wo + k]! * x[xo + k]!;
      out[xo + j] = s0 + s1 + s2 + s3;
    }
  }
}

/** Evenly spread indices into n values, at most m of them. */
function spread(n: number, m: number): number[] | null {
  if (n <= m) return null;
  const step = n / m;
  return Array.from({ length: m }, (_, i) => Math.floor(i * step));
}

/**
 * The entries, by the law their weights follow (std from the fans and the entry's params): 'xavier' std
 * gain·√(2 / (fan_in + fan_out)), 'kaiming' std gain(nonlinearity, a) / √fan, 'orthogonal' rows (or columns)
 * orthonormal times gain; `uniform`: a uniform density on ±bound instead of a normal one. calculate_gain draws
 * no weights: its picture is the gain of every nonlinearity.
 */
type Law = 'xavier' | 'kaiming' | 'orthogonal' | 'gain';
const INITS: Record<string, { law: Law; uniform: boolean }> = {
  xavier_uniform: { law: 'xavier', uniform: true },
  xavier_normal: { law: 'xavier', uniform: false },
  kaiming_uniform: { law: 'kaiming', uniform: true },
  kaiming_normal: { law: 'kaiming', uniform: false },
  orthogonal: { law: 'orthogonal', uniform: false },
  calculate_gain: { law: 'gain', uniform: false },
};

/** Builds the initialization view of one entry (the generic view for an entry not listed here). */
export const createView = familyView([forTable(INITS, initView)]);

function initView(
  host: HTMLElement,
  op: OpMeta,
  ctx: ViewContext,
  { law, uniform }: { law: Law; uniform: boolean },
): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  const isGain = law === 'gain';
  const acts = dl
    .ops()
    .filter((o) => o.family === 'activations' && o.form === 'elementwise' && o.id !== 'rrelu')
    .map((o) => o.id);
  const actDefault = law === 'kaiming' ? 'relu' : 'tanh';
  // calculate_gain's deep net follows its nonlinearity param unless an activation is picked.
  const actChoices = isGain ? ['auto', ...acts] : acts;
  const actInitial = isGain ? 'auto' : acts.includes(actDefault) ? actDefault : acts[0]!;
  let act = store.choice('act', actChoices, actInitial);
  let width = Number(store.choice('width', WIDTHS, '128'));
  let matched = store.bool('matched', false);
  let fanIn = store.int('fan_in', 128, 1, MAX_FAN);
  let fanOut = store.int('fan_out', 64, 1, MAX_FAN);

  const redraw = frameRenderer(ctx, () => render());
  const rerender = redraw.request;

  // ---- controls ------------------------------------------------------------
  let histOut: HTMLOutputElement | null = null;
  if (!isGain) {
    const wc = controlGroup(host, t.weights);
    slider(wc, { id: 'view-fan-in', label: t.fanIn, min: 1, max: MAX_FAN, step: 1, value: fanIn }, (v) => {
      fanIn = Math.min(MAX_FAN, Math.max(1, Math.round(v)));
      store.set('fan_in', fanIn, 128);
      rerender();
    });
    slider(wc, { id: 'view-fan-out', label: t.fanOut, min: 1, max: MAX_FAN, step: 1, value: fanOut }, (v) => {
      fanOut = Math.min(MAX_FAN, Math.max(1, Math.round(v)));
      store.set('fan_out', fanOut, 64);
      rerender();
    });
    histOut = readout(wc, 'init-readout');
  }
  const dc = controlGroup(host, t.deep);
  const actOptions = actChoices.map((a) => ({ value: a, label: a === 'auto' ? t.follow : a }));
  select(dc, { id: 'view-act', label: t.act, options: actOptions, value: act }, (v) => {
    act = v;
    store.set('act', v, actInitial);
    rerender();
  });
  select(
    dc,
    {
      id: 'view-width',
      label: t.width,
      options: WIDTHS.map((w) => ({ value: w, label: w })),
      value: String(width) as (typeof WIDTHS)[number],
    },
    (v) => {
      width = Number(v);
      store.set('width', v, '128');
      rerender();
    },
  );
  if (!isGain)
    toggle(dc, { id: 'view-matched', label: t.matched, checked: matched }, (v) => {
      matched = v;
      store.set('matched', v, false);
      rerender();
    });
  const deepOut = readout(dc, 'deep-readout');

  // ---- figures (all boxes first, then the plots) -----------------------------
  const figures = h('div', { class: 'figures' });
  host.append(figures);
  const topFig = new Figure(figures, isGain ? t.gains : t.hist, ctx.lang, isGain ? 'figure-gains' : 'figure-hist');
  topFig.setNote(isGain ? t.gainNote : law === 'orthogonal' ? `${t.histNote} ${t.orthNote}` : t.histNote);
  const deepFig = new Figure(figures, t.depthTitle, ctx.lang, 'figure-depth');
  deepFig.setNote(t.deepNote);
  const topPlot = new LinePlot(
    topFig.body,
    isGain
      ? {
          series: [{ label: 'gain', kind: 'bars' }],
          xLabel: 'nonlinearity',
          xRange: [-0.7, 5.7],
          yRange: [0, 2],
          xTickText: (x: number) => (Number.isInteger(x) ? (NONLINEARITIES[x] ?? '') : ''),
        }
      : {
          series: [
            { label: t.drawn, kind: 'bars', color: 0 },
            { label: t.theory, color: 1, width: 2 },
          ],
          xLabel: 'w',
        },
  );
  topFig.attach(topPlot);
  let deepPlot: LinePlot | null = null;
  let deepKey = '';

  // ---- engine helpers ----------------------------------------------------------
  const gainCache = new Map<string, number>();
  function gainOf(nl: Nonlinearity, param: number): number {
    const key = `${nl}|${param}`;
    let g = gainCache.get(key);
    if (g === undefined) {
      g = dl.init('calculate_gain', [1], { nonlinearity: nl, param } as never).data[0]!;
      gainCache.set(key, g);
    }
    return g;
  }
  function init(id: string, shape: [number, number], params: Params): InitCall {
    return { id, shape, params, data: dl.init(id as 'xavier_normal', shape, params as never).data };
  }
  const nlOfAct = (a: string): Nonlinearity =>
    (['relu', 'leaky_relu', 'tanh', 'sigmoid', 'selu'] as string[]).includes(a) ? (a as Nonlinearity) : 'linear';
  const actParam = (a: string) => (a === 'leaky_relu' ? 0.01 : 0);

  function entryParams(): Params {
    const p: Params = {};
    for (const q of op.params) p[q.name] = ctx.params[q.name] ?? q.default;
    return p;
  }

  // ---- the top figure ------------------------------------------------------------
  let shownTop: Shown[] = [];

  function drawHistogram(p: Params): void {
    const call = init(op.id, [fanOut, fanIn], p);
    const w = call.data;
    const fi = fanIn;
    const fo = fanOut;
    let sigma: number;
    let bound: number | null = null;
    const extra: Shown[] = [];
    if (law === 'xavier') {
      const gain = Number(p.gain);
      sigma = gain * Math.sqrt(2 / (fi + fo));
      if (uniform) bound = gain * Math.sqrt(6 / (fi + fo));
    } else if (law === 'kaiming') {
      const nl = NONLINEARITIES[Number(p.nonlinearity)] ?? 'leaky_relu';
      const a = Number(p.a);
      const gain = gainOf(nl, a);
      extra.push({
        label: 'gain for the std',
        id: 'calculate_gain',
        inputs: { shape: { shape: [1], data: [1] } },
        params: { nonlinearity: nl, param: a },
        what: 'value',
        values: [gain],
      });
      const fan = Number(p.mode) === 1 ? fo : fi;
      sigma = gain / Math.sqrt(fan);
      if (uniform) bound = gain * Math.sqrt(3 / fan);
    } else {
      sigma = Number(p.gain) / Math.sqrt(Math.max(fi, fo));
    }
    let maxAbs = 0;
    for (const v of w) maxAbs = Math.max(maxAbs, Math.abs(v));
    const r = bound !== null ? bound * 1.15 : Math.max(4 * sigma, maxAbs * 1.02) || 1;
    const width = (2 * r) / BINS;
    const counts = new Float64Array(BINS);
    for (const v of w) counts[Math.min(BINS - 1, Math.max(0, Math.floor((v + r) / width)))]! += 1;
    const xs = Float64Array.from({ length: BINS }, (_, i) => -r + (i + 0.5) * width);
    const dens = Float64Array.from(counts, (c) => c / (w.length * width));
    const theory = Float64Array.from(xs, (x) =>
      bound !== null
        ? Math.abs(x) <= bound
          ? 1 / (2 * bound)
          : 0
        : Math.exp((-0.5 * x * x) / (sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI)),
    );
    topPlot.update(xs, [dens, theory]);
    const { mean, std } = stdOf(w);
    const parts = [
      `${t.mean} = ${mean.toPrecision(3)}`,
      `${t.std} = ${std.toPrecision(4)} (${t.theory} ${sigma.toPrecision(4)})`,
    ];
    if (bound !== null) parts.push(`${t.bound} ±${bound.toPrecision(4)}, max |w| = ${formatF32(maxAbs)}`);
    if (law === 'orthogonal') {
      // Gram matrix of the shorter side: rows orthonormal when rows ≤ cols, columns otherwise.
      const g2 = Number(p.gain) ** 2;
      let worst = 0;
      const rowsSide = fo <= fi;
      const m = rowsSide ? fo : fi;
      for (let i = 0; i < m; ++i)
        for (let j = 0; j <= i; ++j) {
          let s = 0;
          if (rowsSide) for (let k = 0; k < fi; ++k) s += w[i * fi + k]! * w[j * fi + k]!;
          else for (let k = 0; k < fo; ++k) s += w[k * fi + i]! * w[k * fi + j]!;
          worst = Math.max(worst, Math.abs(s - (i === j ? g2 : 0)));
        }
      parts.push(`${t.gram} = ${worst.toExponential(2)}`);
    }
    histOut!.textContent = parts.join('   ');
    const pick = spread(w.length, MAX_SHOWN);
    shownTop = [
      {
        label: 'weights in the histogram',
        id: op.id,
        inputs: { shape: { shape: [2], data: [fo, fi] } },
        params: p,
        what: 'value',
        values: pick ? pick.map((i) => w[i]!) : Array.from(w),
        ...(pick ? { pick } : {}),
      },
      ...extra,
    ];
  }

  function drawGains(p: Params): void {
    const param = Number(p.param);
    const chosen = NONLINEARITIES[Number(p.nonlinearity)] ?? 'leaky_relu';
    const gains = NONLINEARITIES.map((nl) => gainOf(nl, param));
    const xs = Float64Array.from(NONLINEARITIES, (_, i) => i);
    topPlot.update(xs, [Float64Array.from(gains)]);
    const marks: Mark[] = NONLINEARITIES.map((nl, i) => ({
      x: i,
      y: gains[i]!,
      color: nl === chosen ? 1 : 0,
      label: String(Number(gains[i]!.toPrecision(5))),
    }));
    topPlot.setMarks(marks);
    shownTop = NONLINEARITIES.map((nl, i) => ({
      label: `gain of ${nl}`,
      id: 'calculate_gain',
      inputs: { shape: { shape: [1], data: [1] } },
      params: { nonlinearity: nl, param },
      what: 'value',
      values: [gains[i]!],
    }));
  }

  // ---- the deep net ------------------------------------------------------------
  interface Series {
    label: string;
    id: string;
    params: Params;
  }
  const weightCache = new Map<string, Float32Array[]>();
  let deepCache: { key: string; stds: Float64Array[]; shown: Shown[]; text: string } | null = null;

  function weights(s: Series, n: number): Float32Array[] {
    const key = `${s.id}|${JSON.stringify(s.params)}|${n}`;
    let ws = weightCache.get(key);
    if (!ws) {
      ws = [];
      for (let l = 0; l < DEPTH; ++l) {
        const seed = (Number(s.params.seed ?? 0) + 1 + l) % 4294967296;
        ws.push(init(s.id, [n, n], { ...s.params, seed }).data);
      }
      weightCache.set(key, ws);
    }
    return ws;
  }

  /** The deep net's activation: the picked one, or (calculate_gain, 'auto') the entry's nonlinearity. */
  function effAct(p: Params): { id: string | null; params: Params; nl: Nonlinearity; gp: number } {
    if (act !== 'auto') return { id: act, params: {}, nl: nlOfAct(act), gp: actParam(act) };
    const nl = NONLINEARITIES[Number(p.nonlinearity)] ?? 'leaky_relu';
    const param = Number(p.param ?? 0.01);
    if (nl === 'leaky_relu') return { id: nl, params: { negative_slope: param }, nl, gp: param };
    return { id: nl === 'linear' ? null : nl, params: {}, nl, gp: 0 };
  }

  function deepSeries(p: Params): Series[] {
    const seed = Number(p.seed ?? 0);
    const eff = effAct(p);
    const nl = eff.nl;
    if (isGain) {
      // With and without the recommended gain for the chosen activation.
      const g = gainOf(nl, eff.gp);
      const gt = Number(g.toPrecision(4));
      return [
        { label: 'xavier_normal · gain 1', id: 'xavier_normal', params: { gain: 1, seed } },
        { label: `xavier_normal · gain ${gt}`, id: 'xavier_normal', params: { gain: g, seed } },
        { label: `orthogonal · gain ${gt}`, id: 'orthogonal', params: { gain: g, seed } },
      ];
    }
    const g = matched ? gainOf(nl, eff.gp) : 1;
    const list: Series[] = [{ label: `${op.id} (${t.entry})`, id: op.id, params: p }];
    for (const id of COMPARED) {
      if (id === op.id) continue;
      const params: Params =
        id === 'kaiming_normal'
          ? { a: matched ? eff.gp : 0, mode: 'fan_in', nonlinearity: matched ? nl : 'relu', seed }
          : { gain: g, seed };
      list.push({ label: id, id, params });
    }
    return list;
  }

  function drawDeep(p: Params): void {
    const series = deepSeries(p);
    const eff = effAct(p);
    const n = width;
    const batch = Math.max(1, Math.floor(SAMPLES / n));
    const key = `${JSON.stringify([eff.id, eff.params])}|${n}|${JSON.stringify(series.map((s) => [s.id, s.params]))}`;
    if (deepCache?.key !== key) {
      // Keep only the weights still in use.
      const live = new Set(series.map((s) => `${s.id}|${JSON.stringify(s.params)}|${n}`));
      for (const k of [...weightCache.keys()]) if (!live.has(k)) weightCache.delete(k);
      const seed = Number(p.seed ?? 0);
      // A standard normal batch: kaiming_normal 'linear' over fan_in = n has std 1/√n; scale by √n.
      const x0 = dl.init('kaiming_normal', [batch, n], { nonlinearity: 'linear', seed } as never).data;
      const scale = Math.sqrt(n);
      const h0 = Float32Array.from(x0, (v) => v * scale);
      const actName = eff.id === null ? '' : dl.ops().find((o) => o.id === eff.id)!.inputs[0]!.name;
      const stds: Float64Array[] = [];
      let shown: Shown[] = [];
      const finals: string[] = [];
      const pre = new Float32Array(batch * n);
      for (const [si, s] of series.entries()) {
        const ws = weights(s, n);
        const std = new Float64Array(DEPTH + 1);
        std[0] = stdOf(h0).std;
        let hcur: Float32Array = h0;
        for (let l = 0; l < DEPTH; ++l) {
          matmulRows(hcur, ws[l]!, batch, n, pre);
          const y =
            eff.id === null
              ? pre.slice()
              : dl.eval(eff.id as 'tanh', { [actName]: { shape: [batch, n], data: pre } } as never, eff.params as never)
                  .data;
          if (si === 0 && l === DEPTH - 1 && eff.id !== null)
            shown = [
              {
                label: `${s.label}: activations of layer ${DEPTH}`,
                id: eff.id,
                inputs: { [actName]: { shape: [batch, n], data: Array.from(pre) } },
                params: eff.params,
                what: 'value',
                values: Array.from(y),
              },
            ];
          hcur = y;
          std[l + 1] = stdOf(y).std;
        }
        stds.push(std);
        finals.push(`${s.label}: ${std[DEPTH]!.toPrecision(3)}`);
      }
      deepCache = { key, stds, shown, text: `${t.std} (${t.layer} ${DEPTH}) — ${finals.join('   ')}` };
    }
    const dkey = series.map((s) => s.label).join(',');
    if (!deepPlot || deepKey !== dkey) {
      deepPlot?.destroy();
      deepFig.body.replaceChildren();
      deepPlot = new LinePlot(deepFig.body, {
        series: series.map((s, i) => ({
          label: s.label,
          color: isGain ? i + 1 : i,
          width: i === 0 && !isGain ? 2.5 : 1.75,
          dash: i === 0 && !isGain ? undefined : [6, 4],
        })),
        xLabel: t.layer,
        logY: true,
      });
      deepFig.attach(deepPlot);
      deepKey = dkey;
    }
    deepPlot.update(
      Float64Array.from({ length: DEPTH + 1 }, (_, i) => i),
      deepCache.stds,
    );
    deepOut.textContent = deepCache.text;
  }

  function render(): void {
    const p = entryParams();
    guard(ctx, 'engine', () => {
      if (isGain) drawGains(p);
      else drawHistogram(p);
      drawDeep(p);
    });
  }

  return {
    render,
    shown: () => [...shownTop, ...(deepCache?.shown ?? [])],
    destroy() {
      redraw.stop();
      topPlot.destroy();
      deepPlot?.destroy();
      weightCache.clear();
    },
  };
}
