// What the loss views share: the texts every one of them uses, the Env a
// sub-view is built in (its control group, its figures, a store that redraws
// once per frame), small helpers for engine calls on float32 inputs, and the
// figures several of them draw (a loss and its gradient over one x grid, the
// probe sliders, a ±1 label). The engine computes every value and gradient,
// one batched call per curve; JS only lays out inputs and picks outputs.
import type { Dlmath, OpMeta } from '../../engine/index.js';
import { h } from '../../ui/dom.js';
import { formatF32 } from '../../ui/format.js';
import type { SliderField } from '../../ui/controls.js';
import { Figure } from '../../ui/plots/figure.js';
import { LinePlot, type LineSeries, type Mark } from '../../ui/plots/line.js';
import { controlGroup, select, slider } from '../../ui/widgets.js';
import { evalCall, frameRenderer, type CallParams, type F32Input, type F32Inputs } from '../common.js';
import type { FamilyView, ViewContext } from '../view.js';
import '../views.css';
import './losses.css';

/** Points on a curve's grid: smooth, and cheap on every slider frame. */
export const CURVE_POINTS = 401;

const SHARED = {
  en: {
    view: 'Plot',
    target: 'target y',
    probe: 'prediction x (probe)',
    xmin: 'x min',
    xmax: 'x max',
    loss: 'Loss ℓ(x; y) as the prediction x moves',
    grad: 'Gradient ∂ℓ/∂x',
    lossNote: 'Each point is the loss of one prediction x against the target y (reduction none). The dot is the probe.',
    logit: 'logit x',
    label: 'label',
    seed: 'seed',
    focalCompare: 'dashed: cross-entropy (γ = 0)',
  },
  zh: {
    view: '绘图',
    target: '目标 y',
    probe: '预测值 x(探针)',
    xmin: 'x 最小值',
    xmax: 'x 最大值',
    loss: '预测值 x 变化时的损失 ℓ(x; y)',
    grad: '梯度 ∂ℓ/∂x',
    lossNote: '每个点是一个预测值 x 相对目标 y 的损失(reduction 为 none)。圆点是探针位置。',
    logit: 'logit x',
    label: '标签',
    seed: '随机种子',
    focalCompare: '虚线:交叉熵(γ = 0)',
  },
};
/** The texts every loss view uses. */
export type SharedTexts = (typeof SHARED)['en'];

/**
 * A sub-view's texts: the shared ones and its own, in the page's language.
 * @param env - the sub-view's Env (its language)
 * @param own - the sub-view's own texts in both languages
 */
export function texts<T extends object>(env: Env, own: { en: T; zh: T }): SharedTexts & T {
  return { ...env.t, ...own[env.ctx.lang] };
}

// ---- engine calls on float32 inputs ------------------------------------------

/** An input as the engine sees it. */
export type Tensor = F32Input;
export type Inputs = F32Inputs;
export type Params = CallParams;

/**
 * A float32 input of `shape` (default: a vector) from plain numbers.
 * @param data - the values in row-major order
 * @param shape - the input's shape
 */
export function tensor(data: ArrayLike<number>, shape: number[] = [data.length]): Tensor {
  return { shape, data: Float32Array.from(data) };
}

/**
 * `n` copies of `v` as float32.
 * @param n - how many
 * @param v - the value
 */
export function filled(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}

/** The value of a call (dl.eval's data). */
export const ev = (dl: Dlmath, id: string, inputs: Inputs, params: Params): Float32Array =>
  evalCall(dl, id, inputs, params).data;

/**
 * A readout's text of a value as the engine sees it (rounded to float32 first).
 * @param v - the value
 */
export function fmt(v: number): string {
  return formatF32(Math.fround(v));
}

/**
 * Index of the smallest finite value (−1 if none).
 * @param a - the values
 */
export function argmin(a: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < a.length; ++i) if (Number.isFinite(a[i]!) && (best < 0 || a[i]! < a[best]!)) best = i;
  return best;
}

/**
 * Numbers separated by commas or spaces (null when there is none or one is not a number).
 * @param text - what was typed
 */
export function parseList(text: string): number[] | null {
  const v = text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);
  return v.length && v.every(Number.isFinite) ? v : null;
}

/**
 * The name of the entry's reduction as its params set it ('' when it has none).
 * @param op - the entry's metadata
 * @param p - its params (enums by index)
 */
export function reductionName(op: OpMeta, p: Params): string {
  return op.params.find((q) => q.name === 'reduction')?.choices[Number(p.reduction)] ?? '';
}

// ---- the Env of a sub-view ---------------------------------------------------

/** Everything a loss sub-view is built with. */
export interface Env {
  host: HTMLElement;
  op: OpMeta;
  ctx: ViewContext;
  t: SharedTexts;
  controls: HTMLElement;
  figures: HTMLElement;
  /** Saves a store value (the URL follows) and redraws in the next frame. */
  save(
    key: string,
    v: number | boolean | string | readonly number[],
    def: number | boolean | string | readonly number[],
  ): void;
}

/**
 * Builds a loss sub-view in its Env: the view's control group and figure grid, and a store whose changes
 * redraw at most once per animation frame.
 * @param host - the view's box
 * @param op - the entry
 * @param ctx - the view's context
 * @param build - the sub-view
 */
export function withEnv(host: HTMLElement, op: OpMeta, ctx: ViewContext, build: (env: Env) => FamilyView): FamilyView {
  const t = SHARED[ctx.lang];
  const controls = controlGroup(host, t.view);
  const figures = h('div', { class: 'figures losses-figures' });
  host.append(figures);
  let view: FamilyView | null = null;
  // The view's own controls redraw at most once per animation frame.
  const redraw = frameRenderer(ctx, () => view?.render());
  const env: Env = {
    host,
    op,
    ctx,
    t,
    controls,
    figures,
    save(key, v, def) {
      ctx.store.set(key, v, def);
      redraw.request();
    },
  };
  const inner = build(env);
  view = inner;
  return {
    render: () => inner.render(),
    shown: () => inner.shown(),
    destroy() {
      redraw.stop();
      inner.destroy();
    },
  };
}

// ---- controls and figures several sub-views draw -----------------------------

/**
 * A figure with a LinePlot in it, in the sub-view's figure grid.
 * @param env - the sub-view's Env
 * @param title - the figure's caption
 * @param testid - its data-testid
 * @param series - the plot's series
 * @param extra - more plot options (axis label, ranges, cursor sync ...)
 */
export function lineFigure(
  env: Env,
  title: string,
  testid: string,
  series: LineSeries[],
  extra: Partial<ConstructorParameters<typeof LinePlot>[1]> = {},
) {
  const fig = new Figure(env.figures, title, env.ctx.lang, testid);
  const plot = new LinePlot(fig.body, { series, ...extra });
  fig.attach(plot);
  return { fig, plot };
}

/**
 * A slider bound to a store key (its id is `view-<key>`).
 * @param env - the sub-view's Env
 * @param key - the store key
 * @param label - the slider's label
 * @param def - the default value
 * @param min - the smallest value
 * @param max - the largest value
 * @param step - the slider's step
 * @param onSet - called with a new value before it is saved
 * @returns the value as the link (or the default) gives it, and the field
 */
export function storeSlider(
  env: Env,
  key: string,
  label: string,
  def: number,
  min: number,
  max: number,
  step: number,
  onSet: (v: number) => void,
): { value: number; field: SliderField } {
  const value = env.ctx.store.num(key, def, min, max);
  const field = slider(env.controls, { id: `view-${key}`, label, min, max, step, value }, (v) => {
    onSet(v);
    env.save(key, v, def);
  });
  return { value, field };
}

/**
 * A ±1 label control bound to the store (key 'sign').
 * @param env - the sub-view's Env
 * @param onSet - called with the new label
 * @returns the label as the link (or the default, +1) gives it
 */
export function labelSelect(env: Env, onSet: (v: number) => void): number {
  const y = Number(env.ctx.store.choice('sign', ['1', '-1'] as const, '1'));
  select(
    env.controls,
    {
      id: 'view-y',
      label: env.t.label,
      options: [
        { value: '1', label: '+1' },
        { value: '-1', label: '−1' },
      ],
      value: y === 1 ? '1' : '-1',
    },
    (v) => {
      onSet(Number(v));
      env.save('sign', v, '1');
    },
  );
  return y;
}

/** One curve of a loss / gradient pair of figures. */
export interface PairSeries {
  label: string;
  color: number;
  dash?: number[];
}

/**
 * The loss and gradient figures of one x grid, with cursors in sync and click-to-probe.
 * @param env - the sub-view's Env
 * @param xLabel - the x axis's label
 * @param onPick - called with the x clicked on either figure
 * @param titles - the two captions (default: loss and gradient against x)
 * @param dname - the variable the gradient is taken by, in the legends
 */
export function curvePair(
  env: Env,
  xLabel: string,
  onPick: (x: number) => void,
  titles?: [string, string],
  dname = 'x',
) {
  const { t } = env;
  const opts = { syncKey: 'dlmath-loss-x', onPick, xLabel };
  const fl = lineFigure(env, titles?.[0] ?? t.loss, 'figure-loss', [{ label: env.op.id }], opts);
  const fg = lineFigure(env, titles?.[1] ?? t.grad, 'figure-grad', [{ label: `∂/∂${dname} ${env.op.id}` }], opts);
  let key = '';
  return {
    fl,
    fg,
    /** Draws curves (rebuilding the legends when the set of series changes). */
    draw(
      xs: Float32Array,
      series: PairSeries[],
      fs: Float32Array[],
      dfs: Float32Array[],
      probe: Mark | null,
      probeG: Mark | null,
      extra: Mark[] = [],
    ) {
      const k = series.map((s) => s.label).join('|');
      if (k !== key) {
        key = k;
        const ls = series.map((s) => ({ label: s.label, color: s.color, dash: s.dash, width: s.dash ? 1.5 : 2 }));
        fl.plot.setOptions({ series: ls });
        fg.plot.setOptions({ series: ls.map((q) => ({ ...q, label: `∂/∂${dname} ${q.label}` })) });
      }
      fl.plot.update(xs, fs);
      fg.plot.update(xs, dfs);
      fl.plot.setMarks([...(probe ? [probe] : []), ...extra]);
      fg.plot.setMarks(probeG ? [probeG] : []);
    },
    destroy() {
      fl.plot.destroy();
      fg.plot.destroy();
    },
  };
}

/**
 * Range and probe sliders shared by the 1-D views, kept in the store as 'x', 'xmin' and 'xmax'.
 * @param env - the sub-view's Env
 * @param def - the defaults
 * @param lim - the sliders' limits
 * @returns the sliders, and `onPick(x)` that moves the probe from a click on a figure
 */
export function xControls(env: Env, def: { xmin: number; xmax: number; x: number }, lim: [number, number]) {
  const s = {
    x: storeSlider(env, 'x', env.t.probe, def.x, lim[0], lim[1], 0.001, (v) => (s.x.value = v)),
    xmin: storeSlider(env, 'xmin', env.t.xmin, def.xmin, lim[0], lim[1], 0.01, (v) => (s.xmin.value = v)),
    xmax: storeSlider(env, 'xmax', env.t.xmax, def.xmax, lim[0], lim[1], 0.01, (v) => (s.xmax.value = v)),
  };
  const onPick = (x: number) => {
    s.x.value = x;
    s.x.field.set(x);
    env.save('x', x, def.x);
  };
  return { s, onPick };
}

/**
 * A dashed curve drawn with the entry's own for comparison: the entry with some params changed (no `id`), or
 * another entry with its defaults and `params`.
 */
export interface Overlay {
  label: string;
  id?: string;
  params: Params;
  /** The other entry's target for the entry's target y (hinge's ±1 label as the logistic loss's 0 / 1). */
  target?: (y: number) => number;
}

/**
 * The registry id and params (reduction none) of an overlay's curve.
 * @param o - the overlay
 * @param op - the entry it is drawn with
 * @param p - the entry's params
 */
export function overlayCall(o: Overlay, op: OpMeta, p: Params): { id: string; params: Params } {
  return o.id
    ? { id: o.id, params: { ...o.params, reduction: 'none' } }
    : { id: op.id, params: { ...p, ...o.params, reduction: 'none' } };
}
