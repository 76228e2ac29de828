// Ranking and embedding losses on draggable points: margin ranking over
// (x₁, x₂), cosine embedding between two vectors, and the triplet loss of an
// anchor, a positive and a negative; each plane is coloured by the loss as one
// point moves, with −∇ℓ drawn as arrows.
import { formatF32 } from '../../ui/format.js';
import { Figure } from '../../ui/plots/figure.js';
import { PlanePlot, type Path } from '../../ui/plots/plane.js';
import { grid as linspace } from '../../ui/sampler.js';
import { readout } from '../../ui/widgets.js';
import { arrowWings, entryParams, gradOf, guard, record } from '../common.js';
import { forIds } from '../dispatch.js';
import type { FamilyView, Shown } from '../view.js';
import {
  CURVE_POINTS,
  curvePair,
  ev,
  filled,
  fmt,
  labelSelect,
  lineFigure,
  tensor,
  texts,
  withEnv,
  type Env,
  type Inputs,
} from './shared.js';

const L = {
  en: {
    mrLoss: 'Loss against x₁ − x₂',
    mrGrad: 'Gradient ∂ℓ/∂x₁ (∂ℓ/∂x₂ is its negative)',
    mrNote: 'The loss depends only on x₁ − x₂: with y = +1 it is zero once x₁ beats x₂ by the margin.',
    mrPlane: 'Loss over (x₁, x₂): drag the point',
    arrowNote: 'The colour is the loss; the arrow is −∇ℓ, the direction a gradient step moves the point.',
    cosPlane: 'Two embeddings a and b: drag them (colour: the loss as b moves)',
    cosNote:
      'Only directions matter: moving b along its ray changes nothing. Arrows are −∂ℓ/∂a and −∂ℓ/∂b, always perpendicular to their own vector.',
    cosAngle: 'Loss against the angle from a to b',
    angle: 'angle (degrees)',
    tripPlane: 'Anchor, positive and negative: drag them (colour: the loss as the negative moves)',
    tripNote:
      'The loss is zero once the negative is farther from the anchor than the positive by the margin (outside the ring). Arrows are −∇ℓ for each point.',
  },
  zh: {
    mrLoss: '损失随 x₁ − x₂ 的变化',
    mrGrad: '梯度 ∂ℓ/∂x₁(∂ℓ/∂x₂ 是它的相反数)',
    mrNote: '损失只取决于 x₁ − x₂:y = +1 时,只要 x₁ 比 x₂ 高出间隔,损失就为零。',
    mrPlane: '(x₁, x₂) 平面上的损失:可拖动该点',
    arrowNote: '颜色表示损失;箭头是 −∇ℓ,即一次梯度下降移动该点的方向。',
    cosPlane: '两个嵌入 a 与 b:可拖动(颜色:b 移动时的损失)',
    cosNote: '只有方向起作用:沿射线移动 b 不改变任何值。箭头是 −∂ℓ/∂a 与 −∂ℓ/∂b,总是垂直于各自的向量。',
    cosAngle: '损失随 a 到 b 夹角的变化',
    angle: '夹角(度)',
    tripPlane: '锚点、正样本与负样本:可拖动(颜色:负样本移动时的损失)',
    tripNote: '当负样本到锚点的距离比正样本远出一个间隔(圆环之外)时损失为零。箭头是每个点的 −∇ℓ。',
  },
};

/** The sub-views of the pair and triplet losses. */
export const marginRanking = forIds(['margin_ranking'], (host, op, ctx) => withEnv(host, op, ctx, marginRankingView));
export const cosineEmbedding = forIds(['cosine_embedding'], (host, op, ctx) => withEnv(host, op, ctx, cosineView));
export const triplet = forIds(['triplet_margin'], (host, op, ctx) => withEnv(host, op, ctx, tripletView));

/** Field resolution of the planes (one call of FIELD² rows). */
const FIELD = 61;

/** A polyline arrow from (x, y) along (dx, dy), its length capped for display. */
function arrow(label: string, x: number, y: number, dx: number, dy: number, color: number, cap: number): Path {
  const len = Math.hypot(dx, dy);
  if (!(len > 1e-9)) return { label, xs: [x], ys: [y], color };
  const k = len > cap ? cap / len : 1;
  const ex = x + dx * k;
  const ey = y + dy * k;
  // Head: two short strokes back from the tip, ±30°.
  const [[lx, ly], [rx, ry]] = arrowWings(ex, ey, dx / len, dy / len, Math.min(0.25 * cap, 0.4 * len * k));
  return {
    label,
    xs: [x, ex, lx, ex, rx],
    ys: [y, ey, ly, ey, ry],
    color,
    width: 2.5,
  };
}

/** The wide, square figure the pair views draw their plane in ('figure-plane'). */
function squareFigure(env: Env, title: string): Figure {
  const fig = new Figure(env.figures, title, env.ctx.lang, 'figure-plane');
  fig.root.classList.add('wide-figure');
  fig.body.classList.add('losses-square');
  return fig;
}

/**
 * A plane of draggable points over R × R (equal aspect) in `fig`, with its note.
 * @param onDrag - point i was dragged to (x, y)
 */
function dragPlane(
  fig: Figure,
  R: [number, number],
  labels: [string, string],
  note: string,
  onDrag: (i: number, x: number, y: number) => void,
): PlanePlot {
  const plane = new PlanePlot(fig.body, {
    x: R,
    y: R,
    xLabel: labels[0],
    yLabel: labels[1],
    equalAspect: true,
    onDrag,
  });
  fig.attach(plane);
  fig.setNote(note);
  return plane;
}

/** `pts` ([x0, y0, x1, y1, …]) with point i moved to (x, y), rounded to 3 decimals as the link keeps them. */
function movePoint(pts: number[], i: number, x: number, y: number): number[] {
  const out = pts.slice();
  out[2 * i] = Number(x.toFixed(3));
  out[2 * i + 1] = Number(y.toFixed(3));
  return out;
}

/** The plane's grid points as rows [x, y] (row-major, y from min to max). */
function fieldGrid(x: [number, number], y: [number, number]): { xs: Float32Array; ys: Float32Array } {
  const xs = new Float32Array(FIELD * FIELD);
  const ys = new Float32Array(FIELD * FIELD);
  for (let r = 0; r < FIELD; ++r)
    for (let c = 0; c < FIELD; ++c) {
      xs[r * FIELD + c] = x[0] + ((x[1] - x[0]) * c) / (FIELD - 1);
      ys[r * FIELD + c] = y[0] + ((y[1] - y[0]) * r) / (FIELD - 1);
    }
  return { xs, ys };
}

function interleave(xs: ArrayLike<number>, ys: ArrayLike<number>): Float32Array {
  const out = new Float32Array(2 * xs.length);
  for (let i = 0; i < xs.length; ++i) {
    out[2 * i] = xs[i]!;
    out[2 * i + 1] = ys[i]!;
  }
  return out;
}

function marginRankingView(env: Env): FamilyView {
  const { op, ctx } = env;
  const t = texts(env, L);
  const { dl } = ctx;
  const id = op.id;
  let y = labelSelect(env, (v) => (y = v));
  const R: [number, number] = [-3, 3];
  let pt = ctx.store.list('pt', [0.5, 1], { min: R[0], max: R[1], minLen: 2, maxLen: 2 });
  const out = readout(env.controls, 'loss-readout');
  const pair = curvePair(env, 'x₁ − x₂', () => {}, [t.mrLoss, t.mrGrad], 'x₁');
  pair.fl.fig.setNote(t.mrNote);
  const plane = dragPlane(squareFigure(env, t.mrPlane), R, ['x₁', 'x₂'], t.arrowNote, (_i, x, yy) => {
    pt = movePoint(pt, 0, x, yy);
    env.save('pt', pt, [0.5, 1]);
  });
  const grid = fieldGrid(R, R);
  let fieldKey = '';
  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx.params);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const n = CURVE_POINTS;
      const ds = linspace(-4, 4, n);
      const ins = { input1: tensor(ds), input2: tensor(filled(n, 0)), target: tensor(filled(n, y)) };
      const params = { ...p, reduction: 'none' };
      const f = ev(dl, id, ins, params);
      const df = gradOf(dl, id, ins, params, 'input1');
      rs.push(record('loss against x1 − x2', id, ins, params, 'value', f));
      rs.push(record('∂ℓ/∂x1 against x1 − x2', id, ins, params, 'grad:input1', df));
      const pin = { input1: tensor([pt[0]!]), input2: tensor([pt[1]!]), target: tensor([y]) };
      const pv = ev(dl, id, pin, p);
      const g1 = gradOf(dl, id, pin, p, 'input1');
      const g2 = gradOf(dl, id, pin, p, 'input2');
      rs.push(record('loss at the point', id, pin, p, 'value', pv));
      rs.push(record('∂ℓ/∂x1 at the point', id, pin, p, 'grad:input1', g1));
      rs.push(record('∂ℓ/∂x2 at the point', id, pin, p, 'grad:input2', g2));
      const d = pin.input1.data[0]! - pin.input2.data[0]!;
      pair.draw(ds, [{ label: id, color: 0 }], [f], [df], { x: d, y: pv[0]!, color: 0 }, { x: d, y: g1[0]!, color: 0 });
      const fk = `${y},${p.margin}`;
      if (fk !== fieldKey) {
        fieldKey = fk;
        const m = grid.xs.length;
        plane.setField({
          nx: FIELD,
          ny: FIELD,
          values: ev(
            dl,
            id,
            { input1: tensor(grid.xs), input2: tensor(grid.ys), target: tensor(filled(m, y)) },
            params,
          ),
        });
      }
      plane.update(
        [arrow('−∇ℓ', pt[0]!, pt[1]!, -g1[0]!, -g2[0]!, 1, 1.5)],
        [{ x: pt[0]!, y: pt[1]!, color: 0, label: '(x₁, x₂)' }],
      );
      out.textContent = `x₁ = ${fmt(pt[0]!)}   x₂ = ${fmt(pt[1]!)}   y = ${y}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂x₁ = ${formatF32(g1[0]!)}   ∂ℓ/∂x₂ = ${formatF32(g2[0]!)}`;
      shown = rs;
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      pair.destroy();
      plane.destroy();
    },
  };
}

function cosineView(env: Env): FamilyView {
  const { op, ctx } = env;
  const t = texts(env, L);
  const { dl } = ctx;
  const id = op.id;
  let y = labelSelect(env, (v) => (y = v));
  const R: [number, number] = [-2, 2];
  const defs = [1.2, 0.3, 0.4, 1.1];
  let pts = ctx.store.list('pts', defs, { min: R[0], max: R[1], minLen: 4, maxLen: 4 });
  const out = readout(env.controls, 'loss-readout');
  const figP = squareFigure(env, t.cosPlane);
  // Every figure exists before the plane is built, so its width is final when it measures itself.
  const fa = lineFigure(env, t.cosAngle, 'figure-angle', [{ label: 'y = +1' }, { label: 'y = −1', color: 1 }], {
    xLabel: t.angle,
  });
  const plane = dragPlane(figP, R, ['dim 0', 'dim 1'], t.cosNote, (i, x, yy) => {
    pts = movePoint(pts, i, x, yy);
    env.save('pts', pts, defs);
  });
  const grid = fieldGrid(R, R);
  let shown: Shown[] = [];

  function render(): void {
    const p = entryParams(op, ctx.params);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const [ax, ay, bx, by] = pts as [number, number, number, number];
      const pin = { input1: tensor([ax, ay], [1, 2]), input2: tensor([bx, by], [1, 2]), target: tensor([y]) };
      const pv = ev(dl, id, pin, p);
      const ga = gradOf(dl, id, pin, p, 'input1');
      const gb = gradOf(dl, id, pin, p, 'input2');
      rs.push(record('loss of the pair', id, pin, p, 'value', pv));
      rs.push(record('∂ℓ/∂a', id, pin, p, 'grad:input1', ga));
      rs.push(record('∂ℓ/∂b', id, pin, p, 'grad:input2', gb));
      // The field: the loss as b moves over the plane, a fixed (one call).
      const m = grid.xs.length;
      const fin = {
        input1: tensor(interleave(filled(m, ax), filled(m, ay)), [m, 2]),
        input2: tensor(interleave(grid.xs, grid.ys), [m, 2]),
        target: tensor(filled(m, y)),
      };
      plane.setField({ nx: FIELD, ny: FIELD, values: ev(dl, id, fin, { ...p, reduction: 'none' }) });
      plane.update(
        [
          { label: 'a', xs: [0, ax], ys: [0, ay], color: 0, width: 1.5, dash: [4, 3] },
          { label: 'b', xs: [0, bx], ys: [0, by], color: 2, width: 1.5, dash: [4, 3] },
          arrow('−∂ℓ/∂a', ax, ay, -ga[0]!, -ga[1]!, 0, 1),
          arrow('−∂ℓ/∂b', bx, by, -gb[0]!, -gb[1]!, 2, 1),
        ],
        [
          { x: ax, y: ay, color: 0, label: 'a' },
          { x: bx, y: by, color: 2, label: 'b' },
        ],
      );
      // The loss against the angle from a to b (b rotated around the origin, its length kept).
      const n = CURVE_POINTS;
      const th = linspace(-Math.PI, Math.PI, n);
      const rb = Math.hypot(bx, by) || 1;
      const a0 = Math.atan2(ay, ax);
      const ain = interleave(filled(n, ax), filled(n, ay));
      const bin = interleave(
        Float32Array.from(th, (v) => rb * Math.cos(a0 + v)),
        Float32Array.from(th, (v) => rb * Math.sin(a0 + v)),
      );
      const curves = [1, -1].map((yy) => {
        const ins = { input1: tensor(ain, [n, 2]), input2: tensor(bin, [n, 2]), target: tensor(filled(n, yy)) };
        const f = ev(dl, id, ins, { ...p, reduction: 'none' });
        if (yy === y)
          rs.push(record(`loss against the angle (y = ${yy})`, id, ins, { ...p, reduction: 'none' }, 'value', f));
        return f;
      });
      const deg = Float32Array.from(th, (v) => (v * 180) / Math.PI);
      fa.plot.update(deg, curves);
      const ang = Math.atan2(ax * by - ay * bx, ax * bx + ay * by);
      fa.plot.setMarks([{ x: (ang * 180) / Math.PI, y: pv[0]!, color: y === 1 ? 0 : 1 }]);
      out.textContent = `y = ${y}   ℓ = ${formatF32(pv[0]!)}   ∂ℓ/∂a = (${formatF32(ga[0]!)}, ${formatF32(ga[1]!)})   ∂ℓ/∂b = (${formatF32(gb[0]!)}, ${formatF32(gb[1]!)})`;
      shown = rs;
    });
  }
  return {
    render,
    shown: () => shown,
    destroy() {
      plane.destroy();
      fa.plot.destroy();
    },
  };
}

function tripletView(env: Env): FamilyView {
  const { op, ctx } = env;
  const t = texts(env, L);
  const { dl } = ctx;
  const id = op.id;
  const R: [number, number] = [-3, 3];
  const defs = [0, 0, 1.2, 0.6, 0.8, -1];
  let pts = ctx.store.list('pts', defs, { min: R[0], max: R[1], minLen: 6, maxLen: 6 });
  const out = readout(env.controls, 'loss-readout');
  const plane = dragPlane(squareFigure(env, t.tripPlane), R, ['dim 0', 'dim 1'], t.tripNote, (i, x, yy) => {
    pts = movePoint(pts, i, x, yy);
    env.save('pts', pts, defs);
  });
  const grid = fieldGrid(R, R);
  let shown: Shown[] = [];
  const names = ['anchor', 'positive', 'negative'] as const;

  function render(): void {
    const p = entryParams(op, ctx.params);
    const rs: Shown[] = [];
    guard(ctx, 'engine', () => {
      const pin: Inputs = {};
      names.forEach((nm, i) => (pin[nm] = tensor([pts[2 * i]!, pts[2 * i + 1]!], [1, 2])));
      const pv = ev(dl, id, pin, p);
      rs.push(record('triplet loss', id, pin, p, 'value', pv));
      const gs = names.map((nm) => {
        const g = gradOf(dl, id, pin, p, nm);
        rs.push(record(`∂ℓ/∂${nm}`, id, pin, p, `grad:${nm}`, g));
        return g;
      });
      // The field: the loss as the negative moves, anchor and positive fixed.
      const m = grid.xs.length;
      const fin = {
        anchor: tensor(interleave(filled(m, pts[0]!), filled(m, pts[1]!)), [m, 2]),
        positive: tensor(interleave(filled(m, pts[2]!), filled(m, pts[3]!)), [m, 2]),
        negative: tensor(interleave(grid.xs, grid.ys), [m, 2]),
      };
      plane.setField({ nx: FIELD, ny: FIELD, values: ev(dl, id, fin, { ...p, reduction: 'none' }) });
      const colors = [0, 2, 1];
      plane.update(
        [
          { label: 'a–p', xs: [pts[0]!, pts[2]!], ys: [pts[1]!, pts[3]!], color: 2, width: 1.5, dash: [4, 3] },
          { label: 'a–n', xs: [pts[0]!, pts[4]!], ys: [pts[1]!, pts[5]!], color: 1, width: 1.5, dash: [4, 3] },
          ...names.map((nm, i) =>
            arrow(`−∂ℓ/∂${nm}`, pts[2 * i]!, pts[2 * i + 1]!, -gs[i]![0]!, -gs[i]![1]!, colors[i]!, 1.5),
          ),
        ],
        names.map((nm, i) => ({ x: pts[2 * i]!, y: pts[2 * i + 1]!, color: colors[i], label: nm })),
      );
      // The two distances the loss compares, from the engine's pairwise_distance with the same p and eps.
      const dp = { p: Number(p.p), eps: Number(p.eps) };
      const dIn = (other: string) => ({ x1: pin.anchor!, x2: pin[other]! });
      const dap = ev(dl, 'pairwise_distance', dIn('positive'), dp);
      const dan = ev(dl, 'pairwise_distance', dIn('negative'), dp);
      rs.push(record('d(anchor, positive)', 'pairwise_distance', dIn('positive'), dp, 'value', dap));
      rs.push(record('d(anchor, negative)', 'pairwise_distance', dIn('negative'), dp, 'value', dan));
      out.textContent = `d(a, p) = ${formatF32(dap[0]!)}   d(a, n) = ${formatF32(dan[0]!)}   ℓ = ${formatF32(pv[0]!)}   ${names.map((nm, i) => `∂ℓ/∂${nm} = (${formatF32(gs[i]![0]!)}, ${formatF32(gs[i]![1]!)})`).join('   ')}`;
      shown = rs;
    });
  }
  return { render, shown: () => shown, destroy: () => plane.destroy() };
}
