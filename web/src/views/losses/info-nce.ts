// InfoNCE on a batch of queries and keys (each key its query plus seeded
// noise): the similarity matrix, which key each query picks after the
// softmax, the gradient for every query, each query's loss, and the loss of
// the batch against the temperature.
import { formatF32 } from '../../ui/format.js';
import { Figure } from '../../ui/plots/figure.js';
import { Heatmap } from '../../ui/plots/heatmap.js';
import { grid as linspace } from '../../ui/sampler.js';
import { readout } from '../../ui/widgets.js';
import { entryParams, gradOf, guard, record } from '../common.js';
import { forIds } from '../dispatch.js';
import type { FamilyView, Shown } from '../view.js';
import { ev, fmt, lineFigure, reductionName, storeSlider, tensor, texts, withEnv, type Env } from './shared.js';

const L = {
  en: {
    batch: 'batch size N',
    noise: 'key noise (how far each key is from its query)',
    nceSim: 'Similarities s_ij of queries and keys',
    nceSimNote: 'The diagonal holds the positive pairs; every other key in the row is a negative.',
    nceProb: 'softmax_j(s_ij / τ): which key each query picks',
    nceProbNote: 'The loss of row i is −log of its diagonal entry. Lower the temperature and the rows sharpen.',
    nceGrad: 'Gradient of the loss with respect to each query',
    ncePer: 'Loss of each query (reduction none)',
    nceTemp: 'Loss of this batch against the temperature τ',
    nceTempNote:
      'A small τ makes each row’s softmax nearly one-hot: the loss is small if every query already prefers its own key and large if not. As τ grows the rows flatten and the loss tends to log N.',
  },
  zh: {
    batch: '批大小 N',
    noise: 'key 噪声(每个 key 与其 query 的距离)',
    nceSim: 'query 与 key 的相似度 s_ij',
    nceSimNote: '对角线是正样本对;同一行里其余的 key 都是负样本。',
    nceProb: 'softmax_j(s_ij / τ):每个 query 选中哪个 key',
    nceProbNote: '第 i 行的损失是其对角元素的 −log。降低温度,各行会变得更尖锐。',
    nceGrad: '损失对每个 query 的梯度',
    ncePer: '每个 query 的损失(reduction 为 none)',
    nceTemp: '这一批数据的损失随温度 τ 的变化',
    nceTempNote:
      'τ 很小时每行的 softmax 接近 one-hot:若每个 query 已经偏向自己的 key,损失就很小,否则很大。τ 增大时各行趋于平坦,损失趋近 log N。',
  },
};

/** The InfoNCE sub-view. */
export const infoNce = forIds(['info_nce'], (host, op, ctx) => withEnv(host, op, ctx, infoNceView));

const NCE_DIM = 8;

function infoNceView(env: Env): FamilyView {
  const { op, ctx } = env;
  const t = texts(env, L);
  const { dl } = ctx;
  const id = op.id;
  const s = {
    n: storeSlider(env, 'n', t.batch, 6, 2, 12, 1, (v) => (s.n.value = Math.round(v))),
    seed: storeSlider(env, 'seed', t.seed, 1, 0, 999, 1, (v) => (s.seed.value = Math.round(v))),
    noise: storeSlider(env, 'noise', t.noise, 1.2, 0, 3, 0.01, (v) => (s.noise.value = v)),
  };
  const out = readout(env.controls, 'loss-readout');
  const mk = (title: string, testid: string, map: 'sequential' | 'diverging', range?: [number, number]) => {
    const fig = new Figure(env.figures, title, ctx.lang, testid);
    const hm = new Heatmap(fig.body, { map, range, rowLabel: 'query', colLabel: 'key' });
    fig.attach(hm);
    return { fig, hm };
  };
  const sim = mk(t.nceSim, 'figure-sim', 'diverging');
  sim.fig.setNote(t.nceSimNote);
  const prob = mk(t.nceProb, 'figure-prob', 'sequential', [0, 1]);
  prob.fig.setNote(t.nceProbNote);
  const gq = new Figure(env.figures, t.nceGrad, ctx.lang, 'figure-grad-query');
  gq.root.classList.add('wide-figure');
  const ghm = new Heatmap(gq.body, { map: 'diverging', rowLabel: 'query', colLabel: 'dim', numbersUpTo: 6 });
  gq.attach(ghm);
  const per = lineFigure(env, t.ncePer, 'figure-per-row', [{ label: 'ℓ_i', kind: 'bars' }], { xLabel: 'i' });
  const ft = lineFigure(env, t.nceTemp, 'figure-temperature', [{ label: 'ℓ' }], { xLabel: 'log₁₀ τ' });
  ft.fig.setNote(t.nceTempNote);
  const taus = linspace(-2, 0.5, 41);
  let perN = 0;
  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx.params);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const N = s.n.value;
      const D = NCE_DIM;
      // Queries and the noise come from the engine's seeded initializer; each key is its query plus noise.
      const q = dl.init('xavier_normal', [N, D], { seed: s.seed.value }).data;
      const e = dl.init('xavier_normal', [N, D], { seed: s.seed.value + 1000 }).data;
      const k = Float32Array.from(q, (v, i) => v + s.noise.value * e[i]!);
      const ins = { query: tensor(q, [N, D]), key: tensor(k, [N, D]) };
      const norm = Number(p.normalize) !== 0;
      const sin = { x1: ins.query, x2: ins.key };
      const simId = norm ? 'cosine_similarity' : 'dot';
      const sp = { all_pairs: true };
      const S = ev(dl, simId, sin, sp);
      rs.push(record('similarity matrix', simId, sin, sp, 'value', S));
      sim.hm.update(S, N, N);
      const tin = { x: tensor(S, [N, N]) };
      const tp = { temperature: Number(p.temperature) };
      const P = ev(dl, 'softmax_temperature', tin, tp);
      rs.push(record('softmax(s / τ) per query', 'softmax_temperature', tin, tp, 'value', P));
      prob.hm.update(P, N, N);
      const none = { ...p, reduction: 'none' };
      const li = ev(dl, id, ins, none);
      rs.push(record('loss per query', id, ins, none, 'value', li));
      const lv = ev(dl, id, ins, p);
      rs.push(record('loss', id, ins, p, 'value', lv));
      const g = gradOf(dl, id, ins, p, 'query');
      rs.push(record('∂ℓ/∂query', id, ins, p, 'grad:query', g));
      ghm.update(g, N, D);
      // One bar per loss term the entry returns (reduction none): a term per query.
      if (li.length !== perN) {
        perN = li.length;
        per.plot.setOptions({ xRange: [-0.6, perN - 0.4] });
      }
      per.plot.update(
        Float32Array.from(li, (_, i) => i),
        [li],
      );
      // The loss of the same batch over a range of temperatures (one small call each).
      const lt = Float32Array.from(taus, (u) => ev(dl, id, ins, { ...p, temperature: 10 ** u })[0]!);
      ft.plot.update(taus, [lt]);
      ft.plot.setMarks([{ x: Math.log10(Number(p.temperature)), y: lv[0]!, color: 1 }]);
      const red = reductionName(op, p);
      out.textContent = `N = ${N}   D = ${D}   τ = ${fmt(Number(p.temperature))}   ℓ (${red}) = ${formatF32(lv[0]!)}   log N = ${fmt(Math.log(N))}`;
      shown = rs;
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      sim.hm.destroy();
      prob.hm.destroy();
      ghm.destroy();
      per.plot.destroy();
      ft.plot.destroy();
    },
  };
}
