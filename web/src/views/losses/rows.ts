// Multi-class losses on one row of logits (or log-probabilities for nll):
// the loss and its gradient as the true class's entry x_t moves with the rest
// of the row fixed, a dashed comparison curve, and the gradient of every
// entry of the probe row beside its softmax.
import { formatF32 } from '../../ui/format.js';
import type { Mark } from '../../ui/plots/line.js';
import { grid as linspace } from '../../ui/sampler.js';
import { readout, slider, textField } from '../../ui/widgets.js';
import { entryParams, gradOf, guard, record } from '../common.js';
import { forTable } from '../dispatch.js';
import type { FamilyView, Shown } from '../view.js';
import { gammaFigures } from './focal.js';
import {
  argmin,
  CURVE_POINTS,
  curvePair,
  ev,
  filled,
  fmt,
  lineFigure,
  overlayCall,
  parseList,
  tensor,
  texts,
  withEnv,
  xControls,
  type Env,
  type Inputs,
  type Overlay,
  type PairSeries,
  type Params,
} from './shared.js';

const L = {
  en: {
    trueClass: 'true class t',
    row: 'logits of the row, comma-separated (entry t is the one varied)',
    rowLog: 'log-probabilities of the row, comma-separated (entry t is the one varied)',
    classGrad: 'Gradient of the loss for every logit of the probe row',
    classGradNote: 'The true class is pushed up (negative gradient), the others down.',
    ceCompare: 'dashed: without label smoothing',
    lsNote:
      'With label smoothing ε the target is no longer one-hot, so the loss has a finite optimum: the gradient crosses zero where the true class gets probability 1 − ε + ε/C.',
    nllNote:
      'nll expects log-probabilities (e.g. log_softmax output) and only reads the true class: its loss is −input[t], with gradient −1 there and 0 elsewhere.',
    mmNote: 'Each wrong class within the margin of the true class adds a penalty; outside the margin, nothing.',
    rowNote: 'Each point is one row of logits whose true-class entry is x_t (reduction none). The dot is the probe.',
    rowLoss: 'Loss as the logit x_t of the true class moves (the rest of the row fixed)',
    rowGrad: 'Gradient ∂ℓ/∂x_t',
    nllLoss: 'Loss as the log-probability x_t of the true class moves',
    nllBarNote: 'Only the true class receives a gradient; the other log-probabilities are never read.',
    badList: 'needs numbers separated by commas',
  },
  zh: {
    trueClass: '真实类别 t',
    row: '该行的 logits,逗号分隔(第 t 项是被改变的那一项)',
    rowLog: '该行的对数概率,逗号分隔(第 t 项是被改变的那一项)',
    classGrad: '探针所在行每个 logit 的损失梯度',
    classGradNote: '真实类别被向上推(梯度为负),其余类别被向下压。',
    ceCompare: '虚线:不做标签平滑',
    lsNote: '使用标签平滑 ε 后目标不再是 one-hot,损失有有限的最优点:当真实类别的概率为 1 − ε + ε/C 时梯度穿过零。',
    nllNote:
      'nll 要求输入是对数概率(例如 log_softmax 的输出),并且只读取真实类别:损失为 −input[t],该处梯度为 −1,其余为 0。',
    mmNote: '每个与真实类别相差不足间隔的错误类别都会带来惩罚;超出间隔则没有。',
    rowNote: '每个点是一行 logits,其真实类别一项取 x_t(reduction 为 none)。圆点是探针位置。',
    rowLoss: '真实类别的 logit x_t 变化时的损失(该行其余各项不变)',
    rowGrad: '梯度 ∂ℓ/∂x_t',
    nllLoss: '真实类别的对数概率 x_t 变化时的损失',
    nllBarNote: '只有真实类别得到梯度;其余的对数概率根本不会被读取。',
    badList: '需要用逗号分隔的数字',
  },
};

/** How a multi-class loss is drawn. */
interface RowEntry {
  /** The row holds log-probabilities (read as they are: no softmax beside the gradient). */
  logProbs: boolean;
  /** The probe's default x_t. */
  x: number;
  note: 'nllNote' | 'mmNote' | 'lsNote' | 'rowNote';
  gradNote?: 'focalCompare' | 'ceCompare';
  /** The dashed comparison curve for the entry's params (null: none for these). */
  overlay?: (p: Params) => Overlay | null;
  /** Whether the loss has a finite minimum along x_t for these params, to be marked. */
  finiteMin?: (p: Params) => boolean;
  /** Also drawn: the loss against p_t for several γ, and its share of cross-entropy. */
  gammas?: boolean;
}

/** With label smoothing the target is no longer one-hot, and the loss has a finite optimum. */
const smoothed = (p: Params) => Number(p.label_smoothing) > 0;

const ENTRIES: Record<string, RowEntry> = {
  cross_entropy: {
    logProbs: false,
    x: 2,
    note: 'lsNote',
    gradNote: 'ceCompare',
    overlay: (p) => (smoothed(p) ? { label: 'ε = 0', params: { label_smoothing: 0 } } : null),
    finiteMin: smoothed,
  },
  focal_multiclass: {
    logProbs: false,
    x: 2,
    note: 'rowNote',
    gradNote: 'focalCompare',
    overlay: () => ({ label: 'γ = 0', params: { gamma: 0 } }),
    gammas: true,
  },
  nll: { logProbs: true, x: -0.5, note: 'nllNote' },
  multi_margin: {
    logProbs: false,
    x: 1,
    note: 'mmNote',
    overlay: () => ({ label: 'cross_entropy', id: 'cross_entropy', params: {} }),
  },
};

/** The multi-class losses' sub-view. */
export const rows = forTable(ENTRIES, (host, op, ctx, conf) => withEnv(host, op, ctx, (env) => rowView(env, conf)));

function rowView(env: Env, conf: RowEntry): FamilyView {
  const { op, ctx } = env;
  const t = texts(env, L);
  const { dl } = ctx;
  const id = op.id;
  const { logProbs } = conf;
  const rowDef = logProbs ? [-0.5, -1.5, -2, -3] : [2, 0.5, -1, 0];
  const def = logProbs ? { xmin: -8, xmax: 0, x: conf.x } : { xmin: -6, xmax: 8, x: conf.x };
  const { s, onPick } = xControls(env, def, [-30, 30]);
  let row = ctx.store.list('row', rowDef, { min: -100, max: 100, minLen: 2, maxLen: 10 });
  let tc = ctx.store.int('t', 0, 0, 9);
  const tField = slider(env.controls, { id: 'view-t', label: t.trueClass, min: 0, max: 9, step: 1, value: tc }, (v) => {
    tc = Math.round(v);
    env.save('t', tc, 0);
  });
  textField(
    env.controls,
    { id: 'view-row', label: logProbs ? t.rowLog : t.row, value: row.join(', '), wide: true },
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
    `x_t (${logProbs ? 'log p_t' : t.logit})`,
    onPick,
    [logProbs ? t.nllLoss : t.rowLoss, t.rowGrad],
    'x_t',
  );
  pair.fl.fig.setNote(t[conf.note]);
  if (conf.gradNote) pair.fg.fig.setNote(t[conf.gradNote]);
  const bars = lineFigure(env, t.classGrad, 'figure-class-grad', [{ label: '∂ℓ/∂x_c', kind: 'bars' }], { xLabel: 'c' });
  bars.fig.setNote(logProbs ? t.nllBarNote : t.classGradNote);
  const gam = conf.gammas ? gammaFigures(env, true) : null;
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
      const overlay = conf.overlay?.(p);
      if (overlay) calls.push({ label: overlay.label, ...overlayCall(overlay, op, p), color: 1, dash: [6, 4] });
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
      if (conf.finiteMin?.(p)) {
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
      if (!logProbs) {
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
