// Distances and similarities: two draggable points a = x1 and b = x2 in the
// plane. Distances show the unit ball of the entry's metric around a (the
// engine measures a ring of directions in one call; each direction is scaled
// to distance 1), the balls of L1, L2 and Mahalanobis for comparison, the
// distance to b as a background field and the gradient with respect to a.
// Dot and cosine show the vectors from the origin, the projection of b on a
// and the angle. pairwise_distance adds more points and their distance matrix.
import type { OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { Figure } from '../ui/plots/figure.js';
import { Heatmap } from '../ui/plots/heatmap.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { controlGroup, readout, slider, toggle } from '../ui/widgets.js';
import {
  arrow,
  entryParams,
  evalCall,
  f32,
  fmt,
  gradCall,
  record,
  type CallParams,
  type F32Inputs,
  guard,
} from './common.js';
import { colorKey, type KeyItem } from './color-key.js';
import { familyView, forTable } from './dispatch.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import './views.css';

const L = {
  en: {
    view: 'Points',
    plane: 'The plane: a = x1, b = x2',
    planeLabel: 'Plane with points a and b: arrow keys move the selected point (Shift: faster), [ and ] select another',
    cmp: 'Compare with the unit balls of L1, L2 and Mahalanobis',
    field: 'Colour the plane by the value at x against b',
    cov: 'Mahalanobis covariance S',
    sx: 'σ₁ (spread along x)',
    sy: 'σ₂ (spread along y)',
    rho: 'correlation ρ',
    readouts: 'Between a and b (each from its own engine call)',
    matrix: 'Distance matrix of the points (all pairs)',
    ballNote:
      'Solid: the unit ball of this metric around a, i.e. every point at distance 1 from a. Dashed: the other metrics. The arrow is ∂d(a, b)/∂a from the engine: the direction in which a moves away from b fastest, across the contours of the field (directly away from b only for L2; Mahalanobis tilts it, L1 snaps it to a diagonal).',
    simNote:
      'Both vectors start at the origin. The thick segment is the projection of b on the direction of a (length a·b / |a|); the arrow at a is the gradient of the value with respect to a.',
    cosNote:
      'Cosine similarity only sees the angle: stretch a or b and the value stays. Its gradient with respect to a is perpendicular to a.',
    dotNote: 'The dot product grows with both lengths; its gradient with respect to a is b itself.',
    matNote:
      'Drag the points. As in PyTorch, eps is added to every difference, so the diagonal is eps·2^(1/p) rather than 0.',
    grad: 'gradient w.r.t. a',
    angle: 'angle',
    mahaS: 'S',
    pairs: 'p-norm (p = 2)',
    own: 'this entry',
    proj: 'projection of b on a',
    ball: 'unit ball',
  },
  zh: {
    view: '点',
    plane: '平面:a = x1,b = x2',
    planeLabel: '含点 a、b 的平面:方向键移动选中的点(按住 Shift 更快),[ 和 ] 切换点',
    cmp: '对比 L1、L2 与马氏距离的单位球',
    field: '按 x 与 b 之间的值给平面着色',
    cov: '马氏距离的协方差 S',
    sx: 'σ₁(x 方向的分布宽度)',
    sy: 'σ₂(y 方向的分布宽度)',
    rho: '相关系数 ρ',
    readouts: 'a 与 b 之间(各自由一次引擎调用算出)',
    matrix: '各点之间的距离矩阵(两两组合)',
    ballNote:
      '实线:该度量下以 a 为中心的单位球,即与 a 距离为 1 的所有点;虚线:其他度量。箭头是引擎算出的 ∂d(a, b)/∂a:a 远离 b 最快的方向,穿过背景的等值线(只有 L2 时才正对着背离 b 的方向;马氏距离会使它倾斜,L1 则使它落在对角线方向上)。',
    simNote: '两个向量都从原点出发。粗线段是 b 在 a 方向上的投影(长度为 a·b / |a|);a 处的箭头是该值对 a 的梯度。',
    cosNote: '余弦相似度只看夹角:拉长 a 或 b,数值不变。它对 a 的梯度与 a 垂直。',
    dotNote: '点积随两个向量的长度增大;它对 a 的梯度就是 b 本身。',
    matNote: '拖动各点。与 PyTorch 一致,eps 加在每个差值上,所以对角线是 eps·2^(1/p),而不是 0。',
    grad: '对 a 的梯度',
    angle: '夹角',
    mahaS: 'S',
    pairs: 'p 范数(p = 2)',
    own: '本条目',
    proj: 'b 在 a 上的投影',
    ball: '单位球',
  },
};

const RANGE: [number, number] = [-3, 3];
const RING = 181;
const FIELD_N = 61;
/**
 * The entries and their picture: a distance draws its unit ball around a (every one listed is homogeneous)
 * and may add the matrix of all points' distances; a similarity draws the two vectors, the projection and
 * the angle, with a note of its own.
 */
type Measure = { ball: true; matrix: boolean } | { ball: false; note: 'dotNote' | 'cosNote' };
const MEASURES: Record<string, Measure> = {
  euclidean: { ball: true, matrix: false },
  manhattan: { ball: true, matrix: false },
  mahalanobis: { ball: true, matrix: false },
  pairwise_distance: { ball: true, matrix: true },
  dot: { ball: false, note: 'dotNote' },
  cosine_similarity: { ball: false, note: 'cosNote' },
};
/** The comparison balls and their colours. */
const BALLS: { id: string; name: string; color: number }[] = [
  { id: 'euclidean', name: 'L2', color: 3 },
  { id: 'manhattan', name: 'L1', color: 4 },
  { id: 'mahalanobis', name: 'Mahalanobis', color: 5 },
];

/** Whether a metric takes a covariance matrix S (its registry row says). */
function takesCovariance(meta: OpMeta): boolean {
  return meta.inputs.some((i) => i.name === 'S');
}

/** Builds the distances view of one entry (the generic view for an entry not listed here). */
export const createView = familyView([forTable(MEASURES, measureView)]);

function measureView(host: HTMLElement, op: OpMeta, ctx: ViewContext, measure: Measure): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  const isDist = measure.ball;
  const isPairwise = measure.ball && measure.matrix;
  const metas = new Map(dl.ops().map((o) => [o.id, o]));
  const nPts = isPairwise ? 5 : 2;
  const ptsDef = isPairwise
    ? [-1, -0.5, 1.2, 0.8, -2, 1.5, 0.5, -2, 2, -1]
    : isDist
      ? [-1, -0.5, 1.2, 0.8]
      : [2, 0.5, 0.8, 1.6];
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures' });
  host.append(figures);

  const pts = store.list('pts', ptsDef, { min: RANGE[0], max: RANGE[1], minLen: 2 * nPts, maxLen: 2 * nPts });
  let sx = store.num('sx', 1.5, 0.2, 3);
  let sy = store.num('sy', 0.7, 0.2, 3);
  let rho = store.num('rho', 0.5, -0.95, 0.95);
  let cmp = store.bool('cmp', true);
  let field = store.bool('field', true);

  const rerender = () => {
    ctx.changed();
    render();
  };
  if (isDist) {
    toggle(controls, { id: 'view-cmp', label: t.cmp, checked: cmp }, (v) => {
      cmp = v;
      store.set('cmp', v, true);
      rerender();
    });
  }
  toggle(controls, { id: 'view-field', label: t.field, checked: field }, (v) => {
    field = v;
    store.set('field', v, true);
    rerender();
  });
  if (isDist) {
    controls.append(h('h4', { text: t.cov }));
    slider(controls, { id: 'view-sx', label: t.sx, min: 0.2, max: 3, step: 0.01, value: sx }, (v) => {
      sx = v;
      store.set('sx', v, 1.5);
      rerender();
    });
    slider(controls, { id: 'view-sy', label: t.sy, min: 0.2, max: 3, step: 0.01, value: sy }, (v) => {
      sy = v;
      store.set('sy', v, 0.7);
      rerender();
    });
    slider(controls, { id: 'view-rho', label: t.rho, min: -0.95, max: 0.95, step: 0.01, value: rho }, (v) => {
      rho = v;
      store.set('rho', v, 0.5);
      rerender();
    });
  }

  const figPlane = new Figure(figures, `${t.plane}`, ctx.lang, 'figure-plane');
  figPlane.root.classList.add('fixed-plane');
  const plane = new PlanePlot(figPlane.body, {
    x: RANGE,
    y: RANGE,
    equalAspect: true,
    label: t.planeLabel,
    onDrag: (i, x, y) => {
      pts[2 * i] = x;
      pts[2 * i + 1] = y;
      store.set('pts', pts, ptsDef);
      rerender();
    },
  });
  figPlane.attach(plane);
  figPlane.setNote(measure.ball ? t.ballNote : `${t.simNote} ${t[measure.note]}`);
  // A colour key (the plane has no legend of its own).
  colorKey(
    figPlane.body,
    isDist
      ? [
          [2, `${op.id} ${t.ball}`],
          ...BALLS.filter((b) => b.id !== op.id).map((b): KeyItem => [b.color, b.name, true]),
          [6, t.grad],
        ]
      : [
          [0, 'a'],
          [1, 'b'],
          [2, t.proj],
          [6, t.grad],
        ],
  );

  const readFig = h('section', { class: 'panel' }, h('h3', { text: t.readouts }));
  figures.append(readFig);
  const out = readout(readFig, 'distance-readout');
  const table = h('table', { class: 'readout-table' });
  readFig.append(table);

  let figMat: Figure | null = null;
  let heat: Heatmap | null = null;
  if (isPairwise) {
    figMat = new Figure(figures, t.matrix, ctx.lang, 'figure-matrix');
    heat = new Heatmap(figMat.body, { rowLabel: 'i', colLabel: 'j' });
    figMat.attach(heat);
    figMat.setNote(t.matNote);
  }

  // Precomputed layout: the ring of directions and the field grid.
  const ringDir = new Float32Array(2 * RING);
  for (let k = 0; k < RING; ++k) {
    const th = (2 * Math.PI * k) / (RING - 1);
    ringDir[2 * k] = Math.cos(th);
    ringDir[2 * k + 1] = Math.sin(th);
  }
  const gridPts = new Float32Array(2 * FIELD_N * FIELD_N);
  for (let r = 0; r < FIELD_N; ++r)
    for (let c = 0; c < FIELD_N; ++c) {
      const i = r * FIELD_N + c;
      gridPts[2 * i] = RANGE[0] + ((RANGE[1] - RANGE[0]) * c) / (FIELD_N - 1);
      gridPts[2 * i + 1] = RANGE[0] + ((RANGE[1] - RANGE[0]) * r) / (FIELD_N - 1);
    }

  let shown: Shown[] = [];

  /** Inputs and params of metric `id` for x1 / x2 of N rows each (pairs row by row). */
  function metricCall(
    id: string,
    x1: Float32Array,
    x2: Float32Array,
    n: number,
  ): { inputs: F32Inputs; params: CallParams } {
    const inputs: F32Inputs = { x1: { shape: [n, 2], data: x1 }, x2: { shape: [n, 2], data: x2 } };
    const params: CallParams = id === op.id ? entryParams(op, ctx.params) : {};
    // Row by row, one value per pair, and the covariance where the metric takes one (its registry row says).
    const meta = metas.get(id)!;
    if (meta.params.some((q) => q.name === 'all_pairs')) params.all_pairs = 0;
    if (meta.params.some((q) => q.name === 'keepdim')) params.keepdim = 0;
    if (takesCovariance(meta)) inputs.S = covariance();
    return { inputs, params };
  }

  function covariance() {
    const c = rho * sx * sy;
    return f32([2, 2], [sx * sx, c, c, sy * sy]);
  }

  /** The unit ball of metric `id` around a: one call over the ring. */
  function ball(
    id: string,
    ax: number,
    ay: number,
  ): { xs: Float32Array; ys: Float32Array; d: Float32Array; call: ReturnType<typeof metricCall> } {
    const x1 = new Float32Array(2 * RING);
    const x2 = new Float32Array(2 * RING);
    for (let k = 0; k < RING; ++k) {
      x1[2 * k] = ax;
      x1[2 * k + 1] = ay;
      x2[2 * k] = ax + ringDir[2 * k]!;
      x2[2 * k + 1] = ay + ringDir[2 * k + 1]!;
    }
    const call = metricCall(id, x1, x2, RING);
    const d = evalCall(dl, id, call.inputs, call.params).data;
    const xs = new Float32Array(RING);
    const ys = new Float32Array(RING);
    for (let k = 0; k < RING; ++k) {
      // Distance 1 along direction u: a + u / d(a, a + u) (every metric here is homogeneous).
      xs[k] = ax + ringDir[2 * k]! / d[k]!;
      ys[k] = ay + ringDir[2 * k + 1]! / d[k]!;
    }
    return { xs, ys, d, call };
  }

  function render(): void {
    const next: Shown[] = [];
    const ax = pts[0]!;
    const ay = pts[1]!;
    const bx = pts[2]!;
    const by = pts[3]!;
    const paths: Path[] = [];
    guard(ctx, 'engine', () => {
      const one = (x: number, y: number) => Float32Array.of(x, y);
      // The value at a against b, and its gradient with respect to a.
      const main = metricCall(op.id, one(ax, ay), one(bx, by), 1);
      main.params = entryParams(op, ctx.params);
      const val = evalCall(dl, op.id, main.inputs, main.params).data[0]!;
      const g = gradCall(dl, op.id, main.inputs, main.params).x1!.data;
      next.push(record(`${op.id}(a, b)`, op.id, main.inputs, main.params, 'value', [val]));
      next.push(record(`∂${op.id}/∂a`, op.id, main.inputs, main.params, 'grad:x1', g));

      // Background: the entry's value at every grid point x against b, one call.
      if (field) {
        const n = FIELD_N * FIELD_N;
        const x2 = new Float32Array(2 * n);
        for (let i = 0; i < n; ++i) {
          x2[2 * i] = bx;
          x2[2 * i + 1] = by;
        }
        const fc = metricCall(op.id, gridPts, x2, n);
        const fv = evalCall(dl, op.id, fc.inputs, fc.params).data;
        plane.setField({ nx: FIELD_N, ny: FIELD_N, values: fv, map: isDist ? 'sequential' : 'diverging' });
      } else plane.setField(null);

      if (isDist) {
        const own = ball(op.id, ax, ay);
        next.push(record(`${t.ball}: d(a, a + u)`, op.id, own.call.inputs, own.call.params, 'value', own.d));
        if (cmp)
          for (const b of BALLS) {
            if (b.id === op.id) continue;
            const o = ball(b.id, ax, ay);
            paths.push({ label: `${b.name} ${t.ball}`, xs: o.xs, ys: o.ys, color: b.color, dash: [6, 4], width: 1.5 });
          }
        paths.push({ label: `${op.id} ${t.ball}`, xs: own.xs, ys: own.ys, color: 2, width: 2.5 });
        paths.push({ label: 'a–b', xs: [ax, bx], ys: [ay, by], color: 7, dash: [2, 4], width: 1 });
      } else {
        // Vectors from the origin, the projection of b on a (a·b and a·a from one dot call).
        const pc = { x1: f32([2, 2], [ax, ay, ax, ay]), x2: f32([2, 2], [bx, by, ax, ay]) };
        const dots = evalCall(dl, 'dot', pc, { all_pairs: 0 }).data;
        next.push(record('a·b, a·a', 'dot', pc, { all_pairs: 0 }, 'value', dots));
        const s = dots[1]! > 0 ? dots[0]! / dots[1]! : 0;
        const va = arrow(0, 0, ax, ay, 0.2);
        const vb = arrow(0, 0, bx, by, 0.2);
        paths.push({ label: 'a', ...va, color: 0, width: 2 });
        paths.push({ label: 'b', ...vb, color: 1, width: 2 });
        paths.push({ label: 'proj', xs: [0, s * ax], ys: [0, s * ay], color: 2, width: 5 });
        paths.push({ label: 'b − proj', xs: [bx, s * ax], ys: [by, s * ay], color: 7, dash: [4, 4], width: 1 });
        // The angle as an arc of radius 0.45 (display only).
        const t0 = Math.atan2(ay, ax);
        let t1 = Math.atan2(by, bx);
        while (t1 - t0 > Math.PI) t1 -= 2 * Math.PI;
        while (t1 - t0 < -Math.PI) t1 += 2 * Math.PI;
        const arcX: number[] = [];
        const arcY: number[] = [];
        for (let k = 0; k <= 24; ++k) {
          const th = t0 + ((t1 - t0) * k) / 24;
          arcX.push(0.45 * Math.cos(th));
          arcY.push(0.45 * Math.sin(th));
        }
        paths.push({ label: t.angle, xs: arcX, ys: arcY, color: 4, width: 1.5 });
      }
      const ga = arrow(ax, ay, ax + g[0]!, ay + g[1]!, 0.18);
      paths.push({ label: t.grad, ...ga, color: 6, width: 2.5 });

      // The other points of pairwise_distance, and their distance matrix.
      let matrix: Float32Array | null = null;
      if (isPairwise && heat) {
        const P = f32([nPts, 2], pts);
        const mp = { ...entryParams(op, ctx.params), keepdim: 0, all_pairs: 1 };
        const mi = { x1: P, x2: P };
        matrix = evalCall(dl, op.id, mi, mp).data;
        heat.update(matrix, nPts, nPts);
        next.push(record('distance matrix', op.id, mi, mp, 'value', matrix));
      }

      plane.update(
        paths,
        Array.from({ length: nPts }, (_, i) => ({
          x: pts[2 * i]!,
          y: pts[2 * i + 1]!,
          color: i === 0 ? 0 : i === 1 ? 1 : 7,
          label: i === 0 ? 'a' : i === 1 ? 'b' : `p${i}`,
        })),
      );

      // Readouts: the entry and the other measures between a and b.
      const rows: HTMLTableRowElement[] = [];
      const others: { id: string; name: string; params: CallParams }[] = [
        { id: 'dot', name: 'dot  a·b', params: { all_pairs: 0 } },
        { id: 'cosine_similarity', name: 'cosine_similarity', params: { eps: 1e-8, all_pairs: 0 } },
        { id: 'euclidean', name: 'euclidean (L2)', params: { all_pairs: 0 } },
        { id: 'manhattan', name: 'manhattan (L1)', params: { all_pairs: 0 } },
        {
          id: 'mahalanobis',
          name: `mahalanobis (S = [${Array.from(covariance().data, (v) => fmt(v, 3)).join(', ')}])`,
          params: { all_pairs: 0 },
        },
        {
          id: 'pairwise_distance',
          name: `pairwise_distance, ${t.pairs}`,
          params: { p: 2, eps: 1e-6, keepdim: 0, all_pairs: 0 },
        },
      ];
      for (const o of others) {
        let v: number;
        let name = o.name;
        if (o.id === op.id) {
          v = val;
          name = `${o.id} (${t.own})`;
        } else {
          const inputs: F32Inputs = { x1: f32([1, 2], [ax, ay]), x2: f32([1, 2], [bx, by]) };
          if (takesCovariance(metas.get(o.id)!)) inputs.S = covariance();
          v = evalCall(dl, o.id, inputs, o.params).data[0]!;
          next.push(record(o.name, o.id, inputs, o.params, 'value', [v]));
        }
        let text = fmt(v, 5);
        if (o.id === 'cosine_similarity')
          text += `   (${t.angle} ${fmt((Math.acos(Math.max(-1, Math.min(1, v))) * 180) / Math.PI, 4)}°)`;
        rows.push(
          h(
            'tr',
            { class: o.id === op.id ? 'own' : undefined },
            h('th', { scope: 'row', text: name }),
            h('td', { text }),
          ),
        );
      }
      table.replaceChildren(...rows);
      out.textContent = `a = (${fmt(ax, 3)}, ${fmt(ay, 3)})   b = (${fmt(bx, 3)}, ${fmt(by, 3)})   ${op.id}(a, b) = ${fmt(val, 6)}   ${t.grad} = (${fmt(g[0]!, 4)}, ${fmt(g[1]!, 4)})`;
      if (isDist) {
        const S = covariance().data;
        out.textContent += `   ${t.mahaS} = [${fmt(S[0]!, 3)}, ${fmt(S[1]!, 3)}; ${fmt(S[2]!, 3)}, ${fmt(S[3]!, 3)}]`;
      }
      shown = next;
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      plane.destroy();
      heat?.destroy();
    },
  };
}
