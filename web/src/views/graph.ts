// Graph Laplacians: a small editable graph (nodes on a circle, draggable;
// edges toggled by clicking the adjacency heatmap or typed as "0-1, 1-2"),
// the adjacency A, the entry's Laplacian from the engine, and its spectrum
// (the engine's aux eigenvalues). The number of zero eigenvalues equals the
// number of connected components; the view counts both and shows they agree.
import type { OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { Figure } from '../ui/plots/figure.js';
import { Heatmap } from '../ui/plots/heatmap.js';
import { LinePlot } from '../ui/plots/line.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { controlGroup, readout, slider, textField } from '../ui/widgets.js';
import { evalCall, f32, fmt, record, type F32Inputs, guard } from './common.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import { familyView, forIds } from './dispatch.js';
import './views.css';

const L = {
  en: {
    view: 'Graph',
    nodes: 'number of nodes',
    edges: 'edges (pairs such as "0-1, 1-2")',
    weight: 'weight of every edge',
    graph: 'The graph',
    graphNote:
      'Click a node, then another, to add or remove the edge between them (or click a cell of A). Drag the nodes to rearrange the picture: the Laplacian does not depend on where they are.',
    planeLabel:
      'Graph: click a node then another to toggle their edge (Enter on the focused node); arrow keys move the focused node, [ and ] select another',
    adj: 'Adjacency A (click a cell to toggle an edge)',
    lap: 'The entry’s matrix from the engine',
    spec: 'Spectrum: eigenvalues in ascending order (aux), with the other two Laplacians as dashed lines',
    specNote:
      'Every connected component contributes one zero eigenvalue (its constant vector is in the null space). Cut an edge that holds two parts together and a second zero appears; the second-smallest eigenvalue (algebraic connectivity) shrinks as a graph gets easier to cut. The normalized and random-walk Laplacians have the same eigenvalues, all in [0, 2]; those of L grow with the degrees and the edge weight.',
    zeros: 'zero eigenvalues (|λ| < 1e-5)',
    comps: 'connected components (by graph search)',
    fiedler: 'second-smallest eigenvalue λ₂',
    bad: 'not a list of edges',
    index: 'index',
    lambda: 'λ',
  },
  zh: {
    view: '图',
    nodes: '节点数',
    edges: '边(节点对,例如 "0-1, 1-2")',
    weight: '每条边的权重',
    graph: '图',
    graphNote:
      '先点击一个节点,再点击另一个,即可添加或删除它们之间的边(也可以点击 A 的格子)。拖动节点可以调整画面:拉普拉斯矩阵与节点的位置无关。',
    planeLabel: '图:先后点击两个节点切换它们之间的边(在选中的节点上按 Enter);方向键移动选中的节点,[ 和 ] 切换节点',
    adj: '邻接矩阵 A(点击格子切换一条边)',
    lap: '引擎算出的本条目矩阵',
    spec: '谱:按升序排列的特征值(aux),另外两种拉普拉斯矩阵的特征值以虚线表示',
    specNote:
      '每个连通分量贡献一个零特征值(该分量上的常数向量属于零空间)。剪断连接两部分的边,就会多出一个零特征值;第二小的特征值(代数连通度)越小,图越容易被切开。归一化拉普拉斯矩阵与随机游走拉普拉斯矩阵的特征值相同,都在 [0, 2] 内;L 的特征值则随节点度和边权增大。',
    zeros: '零特征值个数(|λ| < 1e-5)',
    comps: '连通分量个数(图搜索得到)',
    fiedler: '第二小的特征值 λ₂',
    bad: '不是边的列表',
    index: '序号',
    lambda: 'λ',
  },
};

const EDGES_DEF = [1, 12, 2, 23, 45, 56];
/** The entries this view shows; each is drawn with the other two. */
const LAPLACIANS = ['laplacian', 'normalized_laplacian', 'random_walk_laplacian'];
/** The two Laplacians other than the entry's. */
const OTHERS = (id: string) => LAPLACIANS.filter((x) => x !== id);
const N_DEF = 7;
const N_MAX = 10;

function circle(n: number): number[] {
  const p: number[] = [];
  for (let i = 0; i < n; ++i) {
    const th = Math.PI / 2 - (2 * Math.PI * i) / n;
    p.push(Number((2 * Math.cos(th)).toFixed(3)), Number((2 * Math.sin(th)).toFixed(3)));
  }
  return p;
}

/** Edge codes i·10 + j (i < j) as "i-j" pairs. */
function edgesText(edges: number[]): string {
  return edges.map((e) => `${Math.floor(e / 10)}-${e % 10}`).join(', ');
}

/** Connected components by a plain search (a check beside the spectrum). */
function components(n: number, edges: number[]): number {
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (const e of edges) parent[find(Math.floor(e / 10))] = find(e % 10);
  return new Set(Array.from({ length: n }, (_, i) => find(i))).size;
}

/** Builds the graph view of one entry (the generic view for an entry that is not a Laplacian listed here). */
export const createView = familyView([forIds(LAPLACIANS, laplacianView)]);

function laplacianView(host: HTMLElement, op: OpMeta, ctx: ViewContext): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures' });
  host.append(figures);

  let n = store.int('n', N_DEF, 2, N_MAX);
  const valid = (e: number) => Number.isInteger(e) && Math.floor(e / 10) < e % 10 && e % 10 < n;
  let edges = store.list('edges', EDGES_DEF, { min: 0, max: 99, minLen: 0, maxLen: 45 }).filter(valid);
  let weight = store.num('w', 1, 0.1, 5);
  let pos = store.list('pos', circle(n), { min: -3, max: 3, minLen: 2 * n, maxLen: 2 * n });

  const rerender = () => {
    ctx.changed();
    render();
  };
  const setEdges = (next: number[]) => {
    edges = [...new Set(next.filter(valid))].sort((a, b) => a - b);
    store.set('edges', edges, EDGES_DEF);
    edgeField.value = edgesText(edges);
  };
  slider(controls, { id: 'view-n', label: t.nodes, min: 2, max: N_MAX, step: 1, value: n }, (v) => {
    n = Math.round(v);
    store.set('n', n, N_DEF);
    pos = circle(n);
    store.set('pos', undefined);
    setEdges(edges);
    rerender();
  });
  slider(controls, { id: 'view-w', label: t.weight, min: 0.1, max: 5, step: 0.1, value: weight }, (v) => {
    weight = v;
    store.set('w', v, 1);
    rerender();
  });
  const edgeField = textField(
    controls,
    { id: 'view-edges', label: t.edges, value: edgesText(edges), wide: true },
    (text) => {
      const parts = text.split(/[,;\s]+/).filter(Boolean);
      const codes: number[] = [];
      for (const p of parts) {
        const m = /^(\d+)-(\d+)$/.exec(p);
        const i = m ? Number(m[1]) : NaN;
        const j = m ? Number(m[2]) : NaN;
        if (!m || i === j || i >= n || j >= n) return ctx.report('edges', new Error(`${t.edges}: ${t.bad} '${p}'`));
        codes.push(Math.min(i, j) * 10 + Math.max(i, j));
      }
      ctx.report('edges', null);
      edges = [...new Set(codes)].sort((a, b) => a - b);
      store.set('edges', edges, EDGES_DEF);
      rerender();
    },
  );
  const out = readout(controls, 'graph-readout');

  const figG = new Figure(figures, t.graph, ctx.lang, 'figure-graph');
  figG.root.classList.add('fixed-plane');
  const plane = new PlanePlot(figG.body, {
    x: [-3, 3],
    y: [-3, 3],
    equalAspect: true,
    label: t.planeLabel,
    onHandleClick: (i) => {
      if (picked === null) picked = i;
      else if (picked === i) picked = null;
      else {
        const e = Math.min(picked, i) * 10 + Math.max(picked, i);
        picked = null;
        setEdges(edges.includes(e) ? edges.filter((x) => x !== e) : [...edges, e]);
        ctx.changed();
      }
      render();
    },
    onDrag: (i, x, y) => {
      pos[2 * i] = x;
      pos[2 * i + 1] = y;
      store.set('pos', pos, circle(n));
      rerender();
    },
  });
  figG.attach(plane);
  figG.setNote(t.graphNote);

  const figA = new Figure(figures, t.adj, ctx.lang, 'figure-adjacency');
  const heatA = new Heatmap(figA.body, {
    map: 'sequential',
    rowLabel: 'i',
    colLabel: 'j',
    onCell: (i, j) => {
      if (i === j) return;
      const e = Math.min(i, j) * 10 + Math.max(i, j);
      setEdges(edges.includes(e) ? edges.filter((x) => x !== e) : [...edges, e]);
      rerender();
    },
  });
  figA.attach(heatA);
  const figL = new Figure(figures, `${t.lap}: ${op.id}`, ctx.lang, 'figure-laplacian');
  const heatL = new Heatmap(figL.body, { map: 'diverging', rowLabel: 'i', colLabel: 'j' });
  figL.attach(heatL);
  const figS = new Figure(figures, t.spec, ctx.lang, 'figure-spectrum');
  const spec = new LinePlot(figS.body, {
    series: [
      { label: `${t.lambda}: ${op.id}`, kind: 'bars', color: 2 },
      ...OTHERS(op.id).map((id, i) => ({ label: id, color: 4 + i, width: 2, dash: i ? [3, 3] : [8, 4] })),
    ],
    xLabel: t.index,
  });
  figS.attach(spec);
  figS.setNote(t.specNote);

  let shown: Shown[] = [];
  /** The first node of an edge being toggled (a passing UI state, not in the URL). */
  let picked: number | null = null;

  function render(): void {
    guard(ctx, 'engine', () => {
      const A = new Float32Array(n * n);
      for (const e of edges) {
        const i = Math.floor(e / 10);
        const j = e % 10;
        A[i * n + j] = weight;
        A[j * n + i] = weight;
      }
      const inputs: F32Inputs = { A: f32([n, n], A) };
      const res = evalCall(dl, op.id, inputs);
      const ev = res.aux.eigenvalues?.data ?? new Float32Array(0);
      heatA.update(A, n, n);
      heatL.update(res.data, n, n);
      // The other two Laplacians of the same graph, for comparison (L_sym and L_rw share their spectrum).
      const others = OTHERS(op.id).map((id) => ({ id, ev: evalCall(dl, id, inputs).aux.eigenvalues!.data }));
      spec.update(
        Float32Array.from({ length: ev.length }, (_, i) => i),
        [ev, ...others.map((o) => o.ev)],
      );
      const zero = Array.from(ev).filter((v) => Math.abs(v) < 1e-5).length;
      const marks = Array.from(ev, (v, i) => ({ x: i, y: v, color: Math.abs(v) < 1e-5 ? 1 : 2 }));
      spec.setMarks(marks);
      out.textContent = `${t.zeros}: ${zero}   ${t.comps}: ${components(n, edges)}   ${t.fiedler}: ${ev.length > 1 ? fmt(ev[1]!, 5) : '–'}\nλ = [${Array.from(ev, (v) => fmt(v, 4)).join(', ')}]`;

      const paths: Path[] = edges.map((e) => {
        const i = Math.floor(e / 10);
        const j = e % 10;
        return {
          label: `${i}-${j}`,
          xs: [pos[2 * i]!, pos[2 * j]!],
          ys: [pos[2 * i + 1]!, pos[2 * j + 1]!],
          color: 7,
          width: 2,
        };
      });
      plane.update(
        paths,
        Array.from({ length: n }, (_, i) => ({
          x: pos[2 * i]!,
          y: pos[2 * i + 1]!,
          color: i === picked ? 1 : 0,
          label: String(i),
        })),
      );
      shown = [
        record(op.id, op.id, inputs, {}, 'value', res.data),
        record('eigenvalues', op.id, inputs, {}, 'aux:eigenvalues', ev),
        ...others.map((o) => record(`eigenvalues of ${o.id}`, o.id, inputs, {}, 'aux:eigenvalues', o.ev)),
      ];
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      plane.destroy();
      heatA.destroy();
      heatL.destroy();
      spec.destroy();
    },
  };
}
