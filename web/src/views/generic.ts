// The fallback view for an entry no family picture shows (dispatch.ts): the
// entry is called on example inputs built from its metadata (re-drawn with a
// seed slider), and its output and input gradient are shown as bars, a curve
// or a heatmap. Every entry is therefore live, whatever its family and kind.
import type { OpMeta } from '../engine/index.js';
import { sampleInputs } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { Figure } from '../ui/plots/figure.js';
import { Heatmap } from '../ui/plots/heatmap.js';
import { LinePlot } from '../ui/plots/line.js';
import { controlGroup, slider } from '../ui/widgets.js';
import { guard } from './common.js';
import type { FamilyView, Shown, ViewContext } from './view.js';

const L = {
  en: { view: 'Example inputs', seed: 'seed of the example inputs', out: 'output', grad: 'gradient', shapes: 'shapes' },
  zh: { view: '示例输入', seed: '示例输入的随机种子', out: '输出', grad: '梯度', shapes: '形状' },
};

type Plot = { kind: 'bars' | 'line'; plot: LinePlot } | { kind: 'heat'; plot: Heatmap };

/** A vector longer than this is drawn as a curve (a schedule's learning rates), a shorter one as bars. */
const MAX_BARS = 64;

function show(fig: Figure, prev: Plot | null, shape: number[], data: Float32Array, label: string): Plot {
  const cols = shape.length >= 2 ? shape[shape.length - 1]! : data.length;
  const rows = data.length / Math.max(1, cols);
  const kind: Plot['kind'] = shape.length >= 2 && rows > 1 ? 'heat' : data.length > MAX_BARS ? 'line' : 'bars';
  let p = prev;
  if (!p || p.kind !== kind) {
    if (p) p.plot.destroy();
    fig.body.replaceChildren();
    p =
      kind === 'heat'
        ? { kind, plot: new Heatmap(fig.body, { map: 'diverging' }) }
        : { kind, plot: new LinePlot(fig.body, { series: [{ label, kind }], xLabel: 'i' }) };
    fig.attach(p.plot);
  }
  if (p.kind === 'heat') p.plot.update(data, rows, cols);
  else
    p.plot.update(
      Float32Array.from(data, (_, i) => i),
      [data],
    );
  return p;
}

/** Builds the fallback view of one entry. */
export function createView(host: HTMLElement, op: OpMeta, ctx: ViewContext): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  let seed = store.int('seed', 0, 0, 9999);
  const controls = controlGroup(host, t.view);
  slider(controls, { id: 'view-seed', label: t.seed, min: 0, max: 100, step: 1, value: seed }, (v) => {
    seed = v;
    store.set('seed', v, 0);
    ctx.changed();
    render();
  });
  const info = h('p', { class: 'muted small', 'data-testid': 'generic-shapes' });
  controls.append(info);
  const figures = h('div', { class: 'figures' });
  host.append(figures);
  const figOut = new Figure(figures, t.out, ctx.lang, 'figure-out');
  const diffName = op.inputs.find((i) => i.differentiable && !i.integer)?.name;
  const figGrad =
    op.differentiable && diffName ? new Figure(figures, `${t.grad} ∂/∂${diffName}`, ctx.lang, 'figure-grad') : null;
  let plotOut: Plot | null = null;
  let plotGrad: Plot | null = null;
  let shown: Shown[] = [];

  function render(): void {
    const inputs = sampleInputs(op, seed);
    const params: Record<string, number> = {};
    for (const p of op.params) params[p.name] = ctx.params[p.name] ?? p.default;
    const call = dl as unknown as {
      eval(id: string, i: object, p: object): { shape: number[]; data: Float32Array };
      grad(id: string, i: object, p: object): Record<string, { shape: number[]; data: Float32Array }>;
    };
    const rec = Object.fromEntries(
      Object.entries(inputs).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.data) }]),
    );
    guard(ctx, 'engine', () => {
      // dl.eval runs every kind: a schedule's sample inputs are none (its
      // params hold the steps), an initializer's is the shape.
      const y = call.eval(op.id, inputs, params);
      plotOut = show(figOut, plotOut, y.shape, y.data, t.out);
      info.textContent = `${t.shapes}: ${Object.entries(inputs)
        .map(([k, v]) => `${k} [${v.shape.join(', ')}]`)
        .join(', ')} → [${y.shape.join(', ')}]`;
      shown = [{ label: 'output', id: op.id, inputs: rec, params, what: 'value', values: Array.from(y.data) }];
      if (figGrad && diffName) {
        const g = call.grad(op.id, inputs, params)[diffName]!;
        plotGrad = show(figGrad, plotGrad, g.shape, g.data, t.grad);
        shown.push({
          label: 'gradient',
          id: op.id,
          inputs: rec,
          params,
          what: `grad:${diffName}`,
          values: Array.from(g.data),
        });
      }
    });
  }

  return {
    render,
    shown: () => shown,
    destroy() {
      plotOut?.plot.destroy();
      plotGrad?.plot.destroy();
    },
  };
}
