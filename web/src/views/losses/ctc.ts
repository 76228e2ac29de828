// CTC: seeded emissions with an alignment hint along a typed target, the
// emission probabilities and the gradient with respect to the log-probabilities
// as class-by-frame heatmaps, and the loss as the hint grows (one batched call).
import { formatF32 } from '../../ui/format.js';
import { Figure } from '../../ui/plots/figure.js';
import { Heatmap } from '../../ui/plots/heatmap.js';
import { grid as linspace } from '../../ui/sampler.js';
import { readout, textField } from '../../ui/widgets.js';
import { entryParams, gradOf, guard, record } from '../common.js';
import { forIds } from '../dispatch.js';
import type { FamilyView, Shown } from '../view.js';
import {
  ev,
  filled,
  lineFigure,
  reductionName,
  storeSlider,
  tensor,
  texts,
  withEnv,
  type Env,
  type Inputs,
} from './shared.js';

const L = {
  en: {
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
  },
  zh: {
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
  },
};

/** The CTC sub-view. */
export const ctc = forIds(['ctc'], (host, op, ctx) => withEnv(host, op, ctx, ctcView));

function ctcView(env: Env): FamilyView {
  const { op, ctx } = env;
  const t = texts(env, L);
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
      const red = reductionName(op, p);
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
