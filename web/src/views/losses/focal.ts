// Focal loss against cross-entropy for several γ, shared by the binary and
// the multi-class focal loss: the loss over the true-class probability p_t,
// and the share of cross-entropy it keeps.
import { grid as linspace } from '../../ui/sampler.js';
import type { Shown } from '../view.js';
import { record } from '../common.js';
import { ev, filled, fmt, lineFigure, tensor, type Env, type Inputs, type Params } from './shared.js';

const L = {
  en: {
    focalFig: 'Loss against the probability of the true class, for several γ',
    focalNote:
      'Well-classified examples (p_t → 1) are down-weighted by (1 − p_t)^γ: the larger γ, the sooner an easy example stops contributing, so the rare hard ones dominate. Class balancing α is left out of these two figures.',
    ratioFig: 'Focal loss / cross-entropy: the down-weighting factor',
    pt: 'p_t (true-class probability)',
  },
  zh: {
    focalFig: '不同 γ 下损失随真实类别概率的变化',
    focalNote:
      '已经分对的样本(p_t → 1)被 (1 − p_t)^γ 降权:γ 越大,简单样本越早失去作用,少见的难样本因而占主导。这两幅图不含类别平衡系数 α。',
    ratioFig: 'Focal 损失 / 交叉熵:降权因子',
    pt: 'p_t(真实类别的概率)',
  },
};

/** The γ always drawn (the entry's own is added when it is none of them). */
const GAMMAS = [0, 0.5, 1, 2, 5];

/**
 * Focal against cross-entropy for several gamma: loss over the true-class
 * probability p_t, and the share of cross-entropy the focal loss keeps. The
 * probability grid is laid out here; the engine sees its logits.
 * @param env - the sub-view's Env
 * @param multi - the entry takes rows of logits and class indices (otherwise one logit per element)
 */
export function gammaFigures(env: Env, multi: boolean) {
  const { op, ctx } = env;
  const t = L[ctx.lang];
  const { dl } = ctx;
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
