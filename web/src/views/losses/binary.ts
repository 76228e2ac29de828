// Binary classification losses: the loss and its gradient against the
// prediction (a probability, a logit or a hinge score) for a chosen target,
// with a dashed comparison curve; focal loss against cross-entropy as γ
// grows; and why bce_with_logits exists: bce on sigmoid outputs saturates in
// float32 where the fused loss keeps growing.
import { formatF32 } from '../../ui/format.js';
import { grid as linspace } from '../../ui/sampler.js';
import { readout, slider } from '../../ui/widgets.js';
import { entryParams, gradOf, guard, record } from '../common.js';
import { forTable } from '../dispatch.js';
import type { FamilyView, Shown } from '../view.js';
import { gammaFigures } from './focal.js';
import {
  CURVE_POINTS,
  curvePair,
  ev,
  filled,
  fmt,
  labelSelect,
  lineFigure,
  overlayCall,
  storeSlider,
  tensor,
  texts,
  withEnv,
  xControls,
  type Env,
  type Inputs,
  type Overlay,
  type Params,
  type SharedTexts,
} from './shared.js';

const L = {
  en: {
    prob: 'probability x',
    hingeCompare: 'dashed: logistic loss log(1 + e^{−yx}) (bce_with_logits)',
    hingeNote: 'Scores beyond the margin on the right side cost nothing and give no gradient.',
    bceNote: 'The gradient (x − y) / (x(1 − x)) explodes near the wrong end; PyTorch clamps each log at −100.',
    bcelNote:
      'On logits the gradient is simply σ(x) − y when pos_weight = 1, never larger than 1 in size; pos_weight multiplies the pull of the positive term.',
    posWeight: 'pos_weight',
    satFig: 'The same loss through sigmoid then bce, and fused on the logits',
    satNote:
      'In float32, sigmoid(z) rounds to exactly 1 once z passes about 17 and to 0 below about −104; bce then sees log 0, clamped at −100, and the loss freezes at 100 (and no gradient reaches z) while bce_with_logits keeps growing like |z|. Set the target y to 0 to see the first jump, to 1 for the second.',
  },
  zh: {
    prob: '概率 x',
    hingeCompare: '虚线:逻辑损失 log(1 + e^{−yx})(bce_with_logits)',
    hingeNote: '在正确一侧且超过间隔的得分没有损失,也没有梯度。',
    bceNote: '梯度 (x − y) / (x(1 − x)) 在错误的一端急剧增大;PyTorch 把每个对数项截断在 −100。',
    bcelNote: 'pos_weight = 1 时,在 logits 上梯度就是 σ(x) − y,绝对值不超过 1;pos_weight 放大正样本项的拉力。',
    posWeight: 'pos_weight',
    satFig: '同一个损失:先 sigmoid 再 bce,与直接在 logits 上融合计算',
    satNote:
      'float32 下,z 超过约 17 时 sigmoid(z) 恰好舍入为 1,低于约 −104 时下溢为 0;此时 bce 遇到 log 0,被截断在 −100,损失停在 100(也没有梯度传回 z),而 bce_with_logits 仍按 |z| 增长。把目标 y 设为 0 可看到第一处跳变,设为 1 可看到第二处。',
  },
};
type Texts = (typeof L)['en'];

/** What x is, with its default range and probe and the limits of its sliders. */
const AXES = {
  prob: { def: { xmin: 0.001, xmax: 0.999, x: 0.3 }, lim: [0, 1] as [number, number] },
  logit: { def: { xmin: -6, xmax: 6, x: 1 }, lim: [-30, 30] as [number, number] },
  score: { def: { xmin: -3, xmax: 3, x: 0.5 }, lim: [-30, 30] as [number, number] },
};

/** How a binary loss is drawn. */
interface BinaryEntry {
  /** x is a probability, a logit, or a score (hinge). */
  axis: keyof typeof AXES;
  /** The target is a ±1 label (otherwise a probability in [0, 1]). */
  sign: boolean;
  note: 'bceNote' | 'bcelNote' | 'hingeNote' | 'lossNote';
  gradNote?: 'focalCompare' | 'hingeCompare';
  overlay?: Overlay;
  /** Also drawn: bce on sigmoid outputs against bce_with_logits on the logits. */
  saturation?: boolean;
  /** Also drawn: the loss against p_t for several γ, and its share of cross-entropy. */
  gammas?: boolean;
}

const ENTRIES: Record<string, BinaryEntry> = {
  bce: { axis: 'prob', sign: false, note: 'bceNote', saturation: true },
  bce_with_logits: { axis: 'logit', sign: false, note: 'bcelNote', saturation: true },
  focal: {
    axis: 'logit',
    sign: false,
    note: 'lossNote',
    gradNote: 'focalCompare',
    overlay: { label: 'γ = 0', params: { gamma: 0 } },
    gammas: true,
  },
  hinge: {
    axis: 'score',
    sign: true,
    note: 'hingeNote',
    gradNote: 'hingeCompare',
    overlay: { label: 'logistic', id: 'bce_with_logits', params: {}, target: (y) => (y + 1) / 2 },
  },
};

/** The binary losses' sub-view. */
export const binary = forTable(ENTRIES, (host, op, ctx, conf) =>
  withEnv(host, op, ctx, (env) => binaryView(env, conf)),
);

function binaryView(env: Env, conf: BinaryEntry): FamilyView {
  const { op, ctx } = env;
  const t = texts(env, L);
  const { dl } = ctx;
  const id = op.id;
  const axis = AXES[conf.axis];
  const { s, onPick } = xControls(env, axis.def, axis.lim);
  let y: number;
  if (conf.sign) y = labelSelect(env, (v) => (y = v));
  else {
    y = ctx.store.num('y', 1, 0, 1);
    slider(env.controls, { id: 'view-y', label: t.target, min: 0, max: 1, step: 0.01, value: y }, (v) => {
      y = v;
      env.save('y', v, 1);
    });
  }
  // A positive-class weight per column, where the registry row takes one.
  const pw = op.inputs.some((i) => i.name === 'pos_weight')
    ? storeSlider(env, 'pw', t.posWeight, 1, 0.05, 20, 0.05, (v) => (pw!.value = v))
    : null;
  const out = readout(env.controls, 'loss-readout');
  const pair = curvePair(env, conf.axis === 'prob' ? t.prob : conf.axis === 'score' ? 'x' : t.logit, onPick);
  pair.fl.fig.setNote(t[conf.note]);
  if (conf.gradNote) pair.fg.fig.setNote(t[conf.gradNote]);
  const gam = conf.gammas ? gammaFigures(env, false) : null;
  const sat = conf.saturation ? saturationFigure(env, t) : null;
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
      if (conf.overlay)
        calls.push({
          label: conf.overlay.label,
          ...overlayCall(conf.overlay, op, p),
          target: conf.overlay.target ? conf.overlay.target(y) : y,
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
function saturationFigure(env: Env, t: SharedTexts & Texts) {
  const { ctx } = env;
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
