// kl_div in PyTorch's convention (input is log q, target is p): the loss and
// its gradient against log q per element, the pointwise terms of two editable
// distributions, and KL between two coins as one of them moves (it is not
// symmetric).
import { formatF32 } from '../../ui/format.js';
import { grid as linspace } from '../../ui/sampler.js';
import { readout, slider, textField } from '../../ui/widgets.js';
import { entryParams, gradOf, guard, record } from '../common.js';
import { forIds } from '../dispatch.js';
import type { FamilyView, Shown } from '../view.js';
import {
  argmin,
  CURVE_POINTS,
  curvePair,
  ev,
  filled,
  fmt,
  lineFigure,
  parseList,
  reductionName,
  tensor,
  texts,
  withEnv,
  xControls,
  type Env,
} from './shared.js';

const L = {
  en: {
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
  },
  zh: {
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
  },
};

/** The KL loss's sub-view. */
export const kl = forIds(['kl_div'], (host, op, ctx) => withEnv(host, op, ctx, klView));

function klView(env: Env): FamilyView {
  const { op, ctx } = env;
  const t = texts(env, L);
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
      const red = reductionName(op, p);
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
