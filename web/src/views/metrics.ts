// Metrics: entropy, KL divergence and cross-entropy of editable distributions
// (logits per class, turned into probabilities by the engine's softmax), the
// identity H(p, q) = H(p) + KL(p ‖ q) read from the engine's three values, and
// perplexity from a list of per-token probabilities with one token swept from
// likely to very unlikely.
import type { OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { Figure } from '../ui/plots/figure.js';
import { LinePlot } from '../ui/plots/line.js';
import { controlGroup, readout, slider, textField } from '../ui/widgets.js';
import { entryParams, fmtList, fmtNum, guard, intSlider, record } from './common.js';
import { familyView, forIds, forTable } from './dispatch.js';
import { grid } from '../ui/sampler.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import './numerics.css';

const L = {
  en: {
    view: 'Distributions',
    classes: 'Classes K',
    logitP: (i: number) => `logit of p, class ${i}`,
    logitQ: (i: number) => `logit of q, class ${i}`,
    probs: 'p and q = softmax(logits)',
    probsP: 'p = softmax(logits)',
    class: 'class',
    fromLogits:
      'The sliders set logits; the engine’s softmax turns them into the probabilities drawn here (so every row sums to 1 and no class is exactly 0).',
    sharpFig: 'Entropy as the logits are scaled by s (softmax(s · z))',
    sharpNote:
      's = 0 is the uniform distribution, with the largest entropy log K; a large s piles the mass on the top class and the entropy falls toward 0. The dot is the distribution set above (s = 1).',
    scale: 'scale s',
    hMax: 'log K (uniform)',
    moveFig: 'q slides toward p: q_t = softmax((1 − t) z_q + t z_p)',
    moveNoteKl:
      'Both divergences reach 0 only at t = 1, where q = p, and they differ everywhere else: KL is not symmetric. The dots are at the q set above (t = 0).',
    moveNoteCe:
      'The cross-entropy never goes below H(p): the gap is KL(p ‖ q), and it closes at t = 1 where q = p. The dots are at the q set above (t = 0).',
    tAxis: 't',
    identity: 'H(p) + KL(p ‖ q) vs H(p, q), from three engine calls',
    diff: 'difference, float32 rounding',
    ends: (a: string, b: string) => `H(one-hot) = ${a} (0 log 0 counts as 0),  H(uniform) = log K = ${b}`,
    ppl: 'Perplexity',
    tokens: 'Per-token probabilities p(w_t) (comma-separated, in (0, 1])',
    which: 'Token to vary (index)',
    tokenFig: 'Probability of each observed token',
    tokenNote:
      'The engine takes log_probs = ln p(w_t), computed from the numbers typed above. The orange bar is the token that the other plot varies (click a bar to pick another).',
    others: 'other tokens',
    varied: 'varied token',
    token: 'token t',
    sweepFig: 'Perplexity as one token becomes unlikely',
    sweepNote:
      'Perplexity is exp of the mean negative log-likelihood, so a single token with probability 10⁻⁶ adds ln 10⁶ / T ≈ 13.8 / T to the mean and multiplies the perplexity by 10^(6/T). The dashed line is the perplexity of the other tokens alone.',
    xLog: 'log₁₀ p(varied token)',
    withoutIt: 'without that token',
    pplIs: (v: string, n: number) => `PPL = ${v} over T = ${n} tokens: as unsure as a uniform choice among ${v} words`,
    grad: '∂PPL/∂log p_t (each token)',
    badTokens: (s: string) => `Not probabilities in (0, 1]: '${s}'`,
  },
  zh: {
    view: '分布',
    classes: '类别数 K',
    logitP: (i: number) => `p 的 logit,类别 ${i}`,
    logitQ: (i: number) => `q 的 logit,类别 ${i}`,
    probs: 'p 与 q = softmax(logits)',
    probsP: 'p = softmax(logits)',
    class: '类别',
    fromLogits: '滑块设置的是 logits;由引擎的 softmax 把它们变成图中的概率(因此每行和为 1,且没有哪个类别恰好为 0)。',
    sharpFig: 'logits 乘以 s 时的熵(softmax(s · z))',
    sharpNote:
      's = 0 对应均匀分布,熵最大,为 log K;s 很大时概率集中到最高的类别上,熵趋于 0。圆点是上面设置的分布(s = 1)。',
    scale: '缩放 s',
    hMax: 'log K(均匀分布)',
    moveFig: 'q 逐渐移向 p:q_t = softmax((1 − t) z_q + t z_p)',
    moveNoteKl: '两个散度只在 t = 1(q = p)时为 0,其余位置都不相等:KL 散度不对称。圆点对应上面设置的 q(t = 0)。',
    moveNoteCe: '交叉熵永远不低于 H(p):两者之差就是 KL(p ‖ q),在 t = 1(q = p)时差为零。圆点对应上面设置的 q(t = 0)。',
    tAxis: 't',
    identity: 'H(p) + KL(p ‖ q) 与 H(p, q) 的比较(来自三次引擎调用)',
    diff: '差,float32 舍入误差',
    ends: (a: string, b: string) => `H(one-hot) = ${a}(0 log 0 按 0 计),H(均匀) = log K = ${b}`,
    ppl: '困惑度',
    tokens: '每个 token 的概率 p(w_t)(逗号分隔,取值于 (0, 1])',
    which: '要改变的 token(下标)',
    tokenFig: '每个实际出现的 token 的概率',
    tokenNote:
      '引擎接收的是 log_probs = ln p(w_t),由上面输入的数计算得到。橙色柱是另一幅图中被改变的 token(点击柱子可换一个)。',
    others: '其他 token',
    varied: '被改变的 token',
    token: 'token t',
    sweepFig: '某一个 token 变得不可能时的困惑度',
    sweepNote:
      '困惑度是平均负对数似然的指数,所以一个概率为 10⁻⁶ 的 token 会让平均值增加 ln 10⁶ / T ≈ 13.8 / T,困惑度乘以 10^(6/T)。虚线是只看其他 token 时的困惑度。',
    xLog: 'log₁₀ p(被改变的 token)',
    withoutIt: '去掉该 token',
    pplIs: (v: string, n: number) => `PPL = ${v}(共 T = ${n} 个 token):不确定程度相当于在 ${v} 个词中均匀选择`,
    grad: '∂PPL/∂log p_t(每个 token)',
    badTokens: (s: string) => `不是 (0, 1] 内的概率:'${s}'`,
  },
};
type T = (typeof L)['en'];

/**
 * The distribution entries and the curve each one gets: entropy as the logits sharpen, or q sliding toward p
 * with both KL directions, or with the cross-entropy split into H(p) + KL.
 */
const DISTRIBUTIONS: Record<string, 'entropy' | 'kl' | 'ce'> = {
  entropy: 'entropy',
  kl_divergence: 'kl',
  distribution_cross_entropy: 'ce',
};

/** Builds the metrics view of one entry (the generic view for an entry not listed here). */
export const createView = familyView([
  forTable(DISTRIBUTIONS, (host, op, ctx, curve) => distributionView(host, op, ctx, L[ctx.lang], curve)),
  forIds(['perplexity'], (host, op, ctx) => perplexityView(host, op, ctx, L[ctx.lang])),
]);

// ---------------------------------------------------------------- distributions

const K_MAX = 10;
const ZP_DEFAULT = [2, 1, 0.5, 0, -3, -1, 0.3, 0.8, -0.5, 1.2];
const ZQ_DEFAULT = [0.3, 0, 0.2, 0, 0.5, 0, -0.4, 0.2, 1, -1];
const SHARP = 121;
const MOVE = 101;

function distributionView(
  host: HTMLElement,
  op: OpMeta,
  ctx: ViewContext,
  t: T,
  kind: 'entropy' | 'kl' | 'ce',
): FamilyView {
  const { dl, store } = ctx;
  const two = kind !== 'entropy';
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures nv-figures' });
  host.append(figures);

  let k = store.int('k', 5, 2, K_MAX);
  const zp = store.list('zp', ZP_DEFAULT, { min: -20, max: 20, minLen: K_MAX, maxLen: K_MAX });
  const zq = store.list('zq', ZQ_DEFAULT, { min: -20, max: 20, minLen: K_MAX, maxLen: K_MAX });
  const rerender = () => {
    ctx.changed();
    render();
  };
  intSlider(controls, store, { key: 'k', label: t.classes, min: 2, max: K_MAX, def: 5, value: k }, (v) => {
    k = v;
    buildSliders();
    rerender();
  });
  controls.append(h('p', { class: 'muted hint', text: t.fromLogits }));
  const boxP = h('div', { class: 'nv-sliders' });
  const boxQ = h('div', { class: 'nv-sliders' });
  controls.append(boxP, boxQ);
  function buildSliders(): void {
    const add = (box: HTMLElement, z: number[], key: 'zp' | 'zq', label: (i: number) => string, def: number[]) => {
      box.replaceChildren();
      for (let i = 0; i < k; ++i)
        slider(box, { id: `view-${key}-${i}`, label: label(i), min: -8, max: 8, step: 0.05, value: z[i]! }, (v) => {
          if (!(Math.abs(v) <= 20)) return;
          z[i] = v;
          store.set(key, z, def);
          rerender();
        });
    };
    add(boxP, zp, 'zp', t.logitP, ZP_DEFAULT);
    if (two) add(boxQ, zq, 'zq', t.logitQ, ZQ_DEFAULT);
  }
  buildSliders();

  const figP = new Figure(figures, two ? t.probs : t.probsP, ctx.lang, 'figure-probs');
  const fig2 = new Figure(figures, two ? t.moveFig : t.sharpFig, ctx.lang, 'figure-curve');
  const barPlot = new LinePlot(figP.body, {
    series: two
      ? [
          { label: 'p', kind: 'bars', color: 0 },
          { label: 'q', kind: 'bars', color: 1 },
        ]
      : [{ label: 'p', kind: 'bars', color: 0 }],
    xLabel: t.class,
    yRange: [0, 1],
  });
  figP.attach(barPlot);
  const mainOut = readout(figP.root, 'metric-readout');
  const curveSeries =
    kind === 'entropy'
      ? [{ label: 'H(softmax(s · z_p))' }, { label: t.hMax, color: 3, dash: [6, 4] }]
      : kind === 'kl'
        ? [{ label: 'KL(p ‖ q_t)' }, { label: 'KL(q_t ‖ p)', color: 1 }]
        : [{ label: 'H(p, q_t)' }, { label: 'H(p)', color: 3, dash: [6, 4] }, { label: 'KL(p ‖ q_t)', color: 1 }];
  const curve = new LinePlot(fig2.body, { series: curveSeries, xLabel: two ? t.tAxis : t.scale });
  fig2.attach(curve);
  fig2.setNote(kind === 'entropy' ? t.sharpNote : kind === 'kl' ? t.moveNoteKl : t.moveNoteCe);
  let shown: Shown[] = [];
  let shownK = -1;

  function render(): void {
    guard(ctx, 'engine', () => {
      const params = entryParams(op, ctx.params);
      // Probabilities from the engine's softmax: p (and q) in one call.
      const rows = two ? 2 : 1;
      const z = new Float32Array(rows * k);
      for (let i = 0; i < k; ++i) {
        z[i] = zp[i]!;
        if (two) z[k + i] = zq[i]!;
      }
      const zIn = { x: { shape: [rows, k], data: z } };
      const pq = dl.eval('softmax', zIn).data;
      const p = pq.slice(0, k);
      const q = two ? pq.slice(k, 2 * k) : new Float32Array(0);
      if (k !== shownK) {
        shownK = k;
        barPlot.setOptions({ xRange: [-0.5, k - 0.5] });
      }
      if (two) {
        const x: number[] = [];
        const yp: number[] = [];
        const yq: number[] = [];
        for (let i = 0; i < k; ++i) {
          x.push(i - 0.2, i + 0.2);
          yp.push(p[i]!, NaN);
          yq.push(NaN, q[i]!);
        }
        barPlot.update(x, [yp, yq]);
      } else {
        barPlot.update(
          Array.from({ length: k }, (_, i) => i),
          [p],
        );
      }
      shown = [record('probabilities', 'softmax', zIn, {}, 'value', pq)];

      const pIn = { p: { shape: [1, k], data: p } };
      const H = dl.eval('entropy', pIn, params).data[0]!;
      shown.push(record('H(p)', 'entropy', pIn, params, 'value', [H]));
      const lines = [`p = ${fmtList(p)}`];
      if (two) lines.push(`q = ${fmtList(q)}`);
      if (!two) {
        lines.push(`H(p) = ${fmtNum(H)}`);
        const g = dl.grad('entropy', pIn, params).p.data;
        lines.push(`∂H/∂p = ${fmtList(g)}`);
        shown.push(record('dH/dp', 'entropy', pIn, params, 'grad:p', g));
        // The two ends of the range: a one-hot row (0 log 0 counts as 0) and the uniform row.
        const ends = new Float32Array(2 * k);
        ends[0] = 1;
        ends.fill(1 / k, k);
        const eIn = { p: { shape: [2, k], data: ends } };
        const he = dl.eval('entropy', eIn, params).data;
        lines.push(t.ends(fmtNum(he[0]!), fmtNum(he[1]!)));
        shown.push(record('H of one-hot and uniform', 'entropy', eIn, params, 'value', he));
      } else {
        const pqIn = { p: { shape: [1, k], data: p }, q: { shape: [1, k], data: q } };
        const KL = dl.eval('kl_divergence', pqIn, params).data[0]!;
        const CE = dl.eval('distribution_cross_entropy', pqIn, params).data[0]!;
        const sum = Math.fround(H + KL);
        lines.push(
          `H(p) = ${fmtNum(H)}`,
          `KL(p ‖ q) = ${fmtNum(KL)}`,
          `H(p, q) = ${fmtNum(CE)}`,
          `${t.identity}:`,
          `  ${fmtNum(H)} + ${fmtNum(KL)} = ${fmtNum(sum)}  vs  ${fmtNum(CE)}  (${t.diff} ${fmtNum(sum - CE)})`,
        );
        shown.push(
          record('KL(p||q)', 'kl_divergence', pqIn, params, 'value', [KL]),
          record('H(p,q)', 'distribution_cross_entropy', pqIn, params, 'value', [CE]),
        );
      }
      mainOut.textContent = lines.join('\n');

      if (!two) {
        // Entropy against the sharpness s: one softmax call and one entropy call over all s.
        const ss = grid(0, 6, SHARP);
        const Z = new Float32Array(SHARP * k);
        for (let r = 0; r < SHARP; ++r) for (let i = 0; i < k; ++i) Z[r * k + i] = ss[r]! * zp[i]!;
        const P = dl.eval('softmax', { x: { shape: [SHARP, k], data: Z } }).data;
        const hIn = { p: { shape: [SHARP, k], data: P } };
        const Hs = dl.eval('entropy', hIn, params).data;
        // log K from the engine: the entropy of the uniform row (s = 0) is Hs[0].
        curve.update(ss, [Hs, new Float32Array(SHARP).fill(Hs[0]!)]);
        const one = ss.findIndex((s) => s >= 1);
        curve.setMarks([{ x: ss[one]!, y: Hs[one]!, color: 0 }]);
        shown.push(record('H over s', 'entropy', hIn, params, 'value', Hs));
      } else {
        const ts = grid(0, 1, MOVE);
        const Z = new Float32Array(MOVE * k);
        for (let r = 0; r < MOVE; ++r)
          for (let i = 0; i < k; ++i) Z[r * k + i] = (1 - ts[r]!) * zq[i]! + ts[r]! * zp[i]!;
        const Q = dl.eval('softmax', { x: { shape: [MOVE, k], data: Z } }).data;
        const P = new Float32Array(MOVE * k);
        for (let r = 0; r < MOVE; ++r) P.set(p, r * k);
        const fwd = { p: { shape: [MOVE, k], data: P }, q: { shape: [MOVE, k], data: Q } };
        if (kind === 'kl') {
          const rev = { p: { shape: [MOVE, k], data: Q }, q: { shape: [MOVE, k], data: P } };
          const a = dl.eval('kl_divergence', fwd, params).data;
          const b = dl.eval('kl_divergence', rev, params).data;
          curve.update(ts, [a, b]);
          curve.setMarks([
            { x: 0, y: a[0]!, color: 0 },
            { x: 0, y: b[0]!, color: 1 },
          ]);
          shown.push(record('KL(p||q_t)', 'kl_divergence', fwd, params, 'value', a));
        } else {
          const ce = dl.eval('distribution_cross_entropy', fwd, params).data;
          const hp = dl.eval('entropy', { p: fwd.p }, params).data;
          const kl = dl.eval('kl_divergence', fwd, params).data;
          curve.update(ts, [ce, hp, kl]);
          curve.setMarks([
            { x: 0, y: ce[0]!, color: 0 },
            { x: 0, y: kl[0]!, color: 1 },
          ]);
          shown.push(record('H(p,q_t)', 'distribution_cross_entropy', fwd, params, 'value', ce));
        }
      }
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      barPlot.destroy();
      curve.destroy();
    },
  };
}

// ---------------------------------------------------------------- perplexity

const TOKENS_DEFAULT = [0.9, 0.6, 0.25, 0.8, 0.05, 0.7, 0.5, 0.95];
const PPL_SWEEP = 81;

function perplexityView(host: HTMLElement, op: OpMeta, ctx: ViewContext, t: T): FamilyView {
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.ppl);
  const figures = h('div', { class: 'figures nv-figures' });
  host.append(figures);
  const valid = (v: number[]) =>
    v.length >= 1 && v.length <= 64 && v.every((x) => Number.isFinite(x) && x > 0 && x <= 1);
  let probs = store.list('p', TOKENS_DEFAULT, { min: 1e-30, max: 1, maxLen: 64 });
  if (!valid(probs)) probs = TOKENS_DEFAULT.slice();
  let which = store.int('k', 4, 0, 63);
  const rerender = () => {
    ctx.changed();
    render();
  };
  textField(controls, { id: 'view-tokens', label: t.tokens, value: probs.join(', '), wide: true }, (text) => {
    const v = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (!valid(v)) return ctx.report('tokens', new Error(t.badTokens(text)));
    ctx.report('tokens', null);
    probs = v;
    store.set('p', v, TOKENS_DEFAULT);
    rerender();
  });
  const whichField = intSlider(
    controls,
    store,
    { key: 'k', label: t.which, min: 0, max: 63, def: 4, value: which },
    (v) => {
      which = v;
      rerender();
    },
  );
  const pplOut = readout(controls, 'ppl-readout');

  const figTok = new Figure(figures, t.tokenFig, ctx.lang, 'figure-tokens');
  const figSweep = new Figure(figures, t.sweepFig, ctx.lang, 'figure-ppl-sweep');
  const tokPlot = new LinePlot(figTok.body, {
    series: [
      { label: t.others, kind: 'bars', color: 0 },
      { label: t.varied, kind: 'bars', color: 1 },
    ],
    xLabel: t.token,
    yRange: [0, 1],
    onPick: (x) => {
      const i = Math.round(x);
      if (i < 0 || i >= probs.length) return;
      which = i;
      whichField.set(i);
      store.set('k', i, 4);
      rerender();
    },
  });
  figTok.attach(tokPlot);
  figTok.setNote(t.tokenNote);
  const sweep = new LinePlot(figSweep.body, {
    series: [{ label: 'PPL' }, { label: t.withoutIt, color: 3, dash: [6, 4] }],
    xLabel: t.xLog,
    logY: true,
  });
  figSweep.attach(sweep);
  figSweep.setNote(t.sweepNote);
  let shown: Shown[] = [];
  let shownN = -1;

  function render(): void {
    guard(ctx, 'engine', () => {
      const n = probs.length;
      const k = Math.min(which, n - 1);
      if (k !== which) whichField.set(k);
      // The engine's input: natural-log probabilities of the observed tokens.
      const lp = Float32Array.from(probs, Math.log);
      const inp = { log_probs: { shape: [n], data: lp } };
      const ppl = dl.eval('perplexity', inp).data[0]!;
      const g = dl.grad('perplexity', inp).log_probs.data;
      pplOut.textContent = [t.pplIs(fmtNum(ppl), n), `log_probs = ${fmtList(lp)}`, `${t.grad} = ${fmtList(g)}`].join(
        '\n',
      );
      shown = [
        record('perplexity', 'perplexity', inp, {}, 'value', [ppl]),
        record('dPPL/dlog_probs', 'perplexity', inp, {}, 'grad:log_probs', g),
      ];
      if (n !== shownN) {
        shownN = n;
        tokPlot.setOptions({ xRange: [-0.5, n - 0.5] });
      }
      const idx = Array.from({ length: n }, (_, i) => i);
      tokPlot.update(idx, [probs.map((v, i) => (i === k ? NaN : v)), probs.map((v, i) => (i === k ? v : NaN))]);

      // One token's probability swept over 10^-8 … 1 (perplexity reduces a whole list to one number, so one call per point).
      const xs = grid(-8, 0, PPL_SWEEP);
      const ys = new Float32Array(PPL_SWEEP);
      const buf = Float32Array.from(lp);
      for (let i = 0; i < PPL_SWEEP; ++i) {
        buf[k] = Math.log(10 ** xs[i]!);
        ys[i] = dl.eval('perplexity', { log_probs: { shape: [n], data: buf } }).data[0]!;
      }
      const rest = Float32Array.from(lp.filter((_, i) => i !== k));
      const restIn = { log_probs: { shape: [rest.length], data: rest } };
      const without = rest.length ? dl.eval('perplexity', restIn).data[0]! : NaN;
      sweep.update(xs, [ys, new Float32Array(PPL_SWEEP).fill(without)]);
      sweep.setMarks([{ x: Math.log10(probs[k]!), y: ppl, color: 1, label: `PPL ${fmtNum(ppl)}` }]);
      if (rest.length) shown.push(record('PPL without token', 'perplexity', restIn, {}, 'value', [without]));
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      tokPlot.destroy();
      sweep.destroy();
    },
  };
}
