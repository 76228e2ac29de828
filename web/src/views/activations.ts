// Activations: f and f' of the entry over an x range, with other activations
// overlaid for comparison, and a probe point read out exactly. Row-wise ops
// (softmax, glu, ...) vary the first entry of a fixed row; general ones
// (prelu, swiglu) fill their extra inputs with a constant.
import type { OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import { Figure } from '../ui/plots/figure.js';
import { LinePlot } from '../ui/plots/line.js';
import { grid, plotMode, sampleCurves, EXTRA_INPUT_DEFAULT, extraInputs, type Curves } from '../ui/sampler.js';
import { checklist, controlGroup, readout, slider, textField } from '../ui/widgets.js';
import { entryParams, guard, storedRangeProbe } from './common.js';
import { familyView, forMeta } from './dispatch.js';
import type { FamilyView, Shown, ViewContext } from './view.js';

/** Points on the x grid: enough for a smooth curve, cheap enough for every slider frame. */
export const GRID_POINTS = 2001;
/** Overlays get the series colours 2..7 (0 is the entry, 1 the probe). */
const MAX_OVERLAYS = 6;

const L = {
  en: {
    view: 'Plot',
    xmin: 'x min',
    xmax: 'x max',
    probe: 'probe x',
    compare: 'Overlay to compare',
    tooMany: 'At most 6 overlays: the first 6 checked are drawn.',
    f: 'f(x)',
    df: 'f′(x)',
    row: 'Row entries after x',
    rowHelp:
      'A row-wise op maps a row to a row: the plot varies the first entry x of [x, r₁, r₂, …] and shows output[0] and ∂output[0]/∂x.',
    fill: 'Fill of the other inputs',
  },
  zh: {
    view: '绘图',
    xmin: 'x 最小值',
    xmax: 'x 最大值',
    probe: '探针 x',
    compare: '叠加比较',
    tooMany: '最多叠加 6 条曲线:只画前 6 个勾选项。',
    f: 'f(x)',
    df: 'f′(x)',
    row: 'x 之后的行内各项',
    rowHelp: '按行运算把一行映射为一行:图中只改变 [x, r₁, r₂, …] 的第一项 x,画出 output[0] 与 ∂output[0]/∂x。',
    fill: '其余输入的填充值',
  },
};

/** The two engine calls behind sampled curves as Shown records (f from the value, f′ from the gradient). */
export function callRecords(
  label: string,
  op: OpMeta,
  c: Curves,
  params: Record<string, number>,
  f: ArrayLike<number>,
  df: ArrayLike<number>,
): Shown[] {
  const inputs = Object.fromEntries(
    Object.entries(c.call.inputs).map(([k, v]) => [k, { shape: v.shape, data: Array.from(v.data) }]),
  );
  const up = c.call.upstream;
  const n = f.length;
  const pick = (stride: number) => Array.from({ length: n }, (_, i) => i * stride);
  return [
    {
      label: `${label} f`,
      id: op.id,
      inputs,
      params,
      what: 'value',
      values: Array.from(f),
      pick: pick(c.call.stride.f),
    },
    {
      label: `${label} f′`,
      id: op.id,
      inputs,
      params,
      what: `grad:${op.inputs[0]!.name}`,
      upstream: up ? { shape: up.shape, data: Array.from(up.data) } : undefined,
      values: Array.from(df),
      pick: pick(c.call.stride.df),
    },
  ];
}

/**
 * Whether f and f′ of the entry can be drawn against x: its metadata says how to slice it (element-wise,
 * row-wise, or general: the first input varies), and a general op must also give one output per grid point,
 * which one two-point call tells.
 */
function plottable(op: OpMeta, ctx: ViewContext): boolean {
  const mode = plotMode(op);
  if (mode !== 'general') return mode !== null;
  try {
    sampleCurves(ctx.dl, op, mode, Float32Array.of(0, 1), { params: entryParams(op, ctx.params), row: [], inputs: {} });
    return true;
  } catch {
    return false;
  }
}

/** Builds the activations view of one entry (the generic view for an entry that cannot be drawn against x). */
export const createView = familyView([forMeta(plottable, curveView)]);

function curveView(host: HTMLElement, op: OpMeta, ctx: ViewContext): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  const mode = plotMode(op)!;
  const elementwise = dl.ops().filter((o) => o.family === 'activations' && o.form === 'elementwise');
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures' });
  host.append(figures);
  const rowDefault = op.rowOut === 'half' ? [0, 1, 0] : [0, 1];

  const validCmp = (ids: string[]) => ids.filter((id) => elementwise.some((o) => o.id === id) && id !== op.id);
  let cmp = validCmp(store.text('cmp', '', 200).split(',').filter(Boolean)).slice(0, MAX_OVERLAYS);
  let row = store.list('row', rowDefault, { min: -1e4, max: 1e4, maxLen: 64 });
  let fill = store.num('fill', EXTRA_INPUT_DEFAULT, -100, 100);

  const rerender = () => {
    ctx.changed();
    render();
  };
  const xr = storedRangeProbe(controls, store, 'view', t, rerender);
  if (mode === 'rowwise') {
    controls.append(h('p', { class: 'muted hint', text: t.rowHelp }));
    textField(controls, { id: 'view-row', label: t.row, value: row.join(', ') }, (text) => {
      const v = text.split(',').map(Number);
      if (!v.length || v.some((x) => !Number.isFinite(x))) return ctx.report('row', new Error(`${t.row}: '${text}'`));
      ctx.report('row', null);
      row = v;
      store.set('row', v, rowDefault);
      rerender();
    });
  }
  if (mode === 'general' && extraInputs(op).length) {
    slider(
      controls,
      { id: 'view-fill', label: `${t.fill} (${extraInputs(op).join(', ')})`, min: -2, max: 2, step: 0.01, value: fill },
      (v) => {
        fill = v;
        store.set('fill', v, EXTRA_INPUT_DEFAULT);
        rerender();
      },
    );
  }
  if (mode === 'elementwise') {
    checklist(
      controls,
      {
        id: 'view-cmp',
        legend: t.compare,
        options: elementwise
          .filter((o) => o.id !== op.id)
          .map((o) => ({ value: o.id, label: o.title[ctx.lang] || o.id })),
        checked: cmp,
      },
      (ids) => {
        ctx.report('cmp', ids.length > MAX_OVERLAYS ? new Error(t.tooMany) : null);
        cmp = validCmp(ids).slice(0, MAX_OVERLAYS);
        store.set('cmp', cmp.join(','), '');
        rerender();
      },
    );
  }
  const probeOut = readout(controls, 'probe-readout');

  const figF = new Figure(figures, t.f, ctx.lang, 'figure-f');
  const figDf = new Figure(figures, t.df, ctx.lang, 'figure-df');
  const onPick = xr.pick;
  const plotOpts = (label: string) => ({
    series: [{ label }, ...cmp.map((id, i) => ({ label: id, color: i + 2, width: 1.5, dash: [6, 4] }))],
    syncKey: 'dlmath-x',
    onPick,
  });
  const plotF = new LinePlot(figF.body, plotOpts(op.id));
  const plotDf = new LinePlot(figDf.body, plotOpts(`${op.id}′`));
  figF.attach(plotF);
  figDf.attach(plotDf);
  let shownCmp = '';
  let gridCache: { key: string; xs: Float32Array } | null = null;
  let last: { curves: Curves; probe: Curves; setup: ReturnType<typeof setupOf> } | null = null;
  let curves: Curves | null = null;
  let lastCurveKey = '';

  function setupOf() {
    const params: Record<string, number> = {};
    for (const p of op.params) params[p.name] = ctx.params[p.name] ?? p.default;
    const inputs: Record<string, number> = {};
    for (const name of extraInputs(op)) inputs[name] = fill;
    return { params, row, inputs };
  }

  function render(): void {
    if (!(xr.xmin < xr.xmax)) return ctx.report('range', new Error(`x: [${xr.xmin}, ${xr.xmax}]`));
    ctx.report('range', null);
    const key = `${xr.xmin},${xr.xmax}`;
    if (gridCache?.key !== key) gridCache = { key, xs: grid(xr.xmin, xr.xmax, GRID_POINTS) };
    const gridXs = gridCache.xs;
    const setup = setupOf();
    guard(ctx, 'engine', () => {
      // Moving only the probe redraws the marks, not the curves.
      const curveKey = JSON.stringify([key, setup, cmp]);
      if (curveKey !== lastCurveKey) {
        curves = sampleCurves(dl, op, mode, gridXs, setup);
        const others = cmp.map((id) => {
          const o = elementwise.find((e) => e.id === id)!;
          return sampleCurves(dl, o, 'elementwise', gridXs, { params: {}, row: [], inputs: {} });
        });
        if (cmp.join() !== shownCmp) {
          shownCmp = cmp.join();
          plotF.setOptions(plotOpts(op.id));
          plotDf.setOptions(plotOpts(`${op.id}′`));
        }
        plotF.update(curves.x, [curves.f, ...others.map((c) => c.f)]);
        plotDf.update(curves.x, [curves.df, ...others.map((c) => c.df)]);
        lastCurveKey = curveKey;
      }
      const pc = sampleCurves(dl, op, mode, Float32Array.of(xr.probe), setup);
      plotF.setMarks([{ x: pc.x[0]!, y: pc.f[0]!, color: 1 }]);
      plotDf.setMarks([{ x: pc.x[0]!, y: pc.df[0]!, color: 1 }]);
      probeOut.textContent = `x = ${formatF32(pc.x[0]!)}   f(x) = ${formatF32(pc.f[0]!)}   f′(x) = ${formatF32(pc.df[0]!)}`;
      last = { curves: curves!, probe: pc, setup };
    });
  }

  return {
    render,
    shown(): Shown[] {
      if (!last) return [];
      // The calls behind the probe readout and the two drawn curves, exactly as
      // made; a row-wise op's curve is every row's first entry (`pick`).
      const { curves: c, probe: pc, setup } = last;
      return [
        ...callRecords('probe', op, pc, setup.params, [pc.f[0]!], [pc.df[0]!]),
        ...callRecords('curve', op, c, setup.params, c.f, c.df),
      ];
    },
    destroy() {
      plotF.destroy();
      plotDf.destroy();
    },
  };
}
