// Small helpers shared by the family views: one engine call with its Shown
// record, the entry's params, number formatting for readouts, a seeded input
// generator, the error-reporting wrapper of render(), a once-per-frame redraw,
// store-bound controls (overlay checkboxes, whole-number sliders, the x-range
// and probe sliders) and polyline shapes (arrows) for PlanePlot. The engine
// does the math; this file only lays out inputs, records what was called and
// formats results.
import { sampleValues, type Dlmath, type EvalResult, type OpId, type Result } from '../engine/index.js';
import type { ViewStore } from '../state/store.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import type { SliderField } from '../ui/controls.js';
import { rangeProbeSliders, slider, toggle, type RangeProbe } from '../ui/widgets.js';
import type { Shown, ViewContext } from './view.js';
import './views.css';

/** An input as the engine sees it: float32 data and a shape. */
export interface F32Input {
  shape: number[];
  data: Float32Array;
}
/** A call's inputs by name. */
export type F32Inputs = Record<string, F32Input>;
/** A call's params: numbers, or enum names and flags where the engine takes them. */
export type CallParams = Record<string, number | string | boolean>;

/**
 * A float32 input from plain numbers.
 * @param shape - the input's shape
 * @param data - its values in row-major order
 */
export function f32(shape: number[], data: ArrayLike<number>): F32Input {
  return { shape, data: Float32Array.from(data) };
}

/**
 * dl.eval with a free-form id (the views pick ids at run time).
 * @param dl - the engine
 * @param id - a registry id
 * @param inputs - the call's inputs by name
 * @param params - the call's params (missing ones at the engine's defaults)
 */
export function evalCall(dl: Dlmath, id: string, inputs: F32Inputs, params: CallParams = {}): EvalResult {
  return dl.eval(id as OpId, inputs as never, params as never);
}

/**
 * dl.grad with a free-form id: every input's gradient by name.
 * @param dl - the engine
 * @param id - a registry id
 * @param inputs - the call's inputs by name
 * @param params - the call's params
 * @param upstream - dL/d(output), ones when left out
 */
export function gradCall(
  dl: Dlmath,
  id: string,
  inputs: F32Inputs,
  params: CallParams = {},
  upstream?: F32Input,
): Record<string, Result> {
  return dl.grad(id as OpId, inputs as never, params as never, upstream) as Record<string, Result>;
}

/**
 * One input's gradient of a call (dl.grad with a free-form id).
 * @param dl - the engine
 * @param id - a registry id
 * @param inputs - the call's inputs by name
 * @param params - the call's params
 * @param name - the input whose gradient is wanted; an error if the op gives none for it
 * @param upstream - dL/d(output), ones when left out
 */
export function gradOf(
  dl: Dlmath,
  id: string,
  inputs: F32Inputs,
  params: CallParams,
  name: string,
  upstream?: F32Input,
): Float32Array {
  const g = gradCall(dl, id, inputs, params, upstream)[name];
  if (!g) throw new Error(`op '${id}': no gradient for '${name}'`);
  return g.data;
}

/**
 * An engine call's inputs as a Shown record holds them (the float32 values the engine saw, as plain arrays).
 * @param inputs - the call's inputs by name
 */
export function recordInputs(inputs: F32Inputs): Shown['inputs'] {
  const out: Shown['inputs'] = {};
  for (const [k, v] of Object.entries(inputs)) out[k] = { shape: v.shape.slice(), data: Array.from(v.data) };
  return out;
}

/**
 * The Shown record of a call: its inputs copied as plain arrays.
 * @param label - what it is on screen
 * @param id - the registry id called
 * @param inputs - the call's inputs
 * @param params - the call's params
 * @param what - which result the values come from (see Shown.what)
 * @param values - the numbers drawn (the whole result, or the picked ones)
 * @param extra - the picked indices and a non-default upstream gradient
 */
export function record(
  label: string,
  id: string,
  inputs: F32Inputs,
  params: CallParams,
  what: string,
  values: ArrayLike<number>,
  extra: { pick?: number[]; upstream?: F32Input } = {},
): Shown {
  const s: Shown = { label, id, inputs: recordInputs(inputs), params: { ...params }, what, values: Array.from(values) };
  if (extra.pick) s.pick = extra.pick.slice();
  if (extra.upstream) s.upstream = { shape: extra.upstream.shape.slice(), data: Array.from(extra.upstream.data) };
  return s;
}

/**
 * The entry's params as the shell holds them (missing ones at their defaults).
 * @param op - the entry's metadata
 * @param live - the shell's param values (`ctx.params`)
 */
export function entryParams(
  op: { params: readonly { name: string; default: number }[] },
  live: Record<string, number>,
): Record<string, number> {
  const p: Record<string, number> = {};
  for (const q of op.params) p[q.name] = live[q.name] ?? q.default;
  return p;
}

/**
 * A seeded stream of standard normal numbers for example inputs: Box–Muller over the engine's own seeded
 * uniforms (`sampleValues`), so the views and the sample inputs share one generator.
 * @param seed - any integer; equal seeds give equal streams
 */
export function normals(seed: number): () => number {
  // sampleValues(n, …, seed) is a prefix of sampleValues(2n, …, seed): the stream grows by doubling.
  let u = sampleValues(256, 0, 1, false, seed);
  let i = 0;
  const uni = () => {
    if (i >= u.length) u = sampleValues(2 * u.length, 0, 1, false, seed);
    return u[i++]!;
  };
  return () => {
    const a = Math.max(1e-12, uni());
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * uni());
  };
}

/**
 * An arrow from (x0, y0) to (x1, y1) as one polyline: shaft, then both wings of the head.
 * @param x0 - the tail, x
 * @param y0 - the tail, y
 * @param x1 - the tip, x
 * @param y1 - the tip, y
 * @param head - the length of the head's wings (at most 40% of the arrow)
 */
export function arrow(x0: number, y0: number, x1: number, y1: number, head = 0.18): { xs: number[]; ys: number[] } {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len = Math.hypot(dx, dy);
  if (!(len > 0)) return { xs: [x0], ys: [y0] };
  const [[lx, ly], [rx, ry]] = arrowWings(x1, y1, dx / len, dy / len, Math.min(head, len * 0.4));
  return { xs: [x0, x1, lx, x1, rx], ys: [y0, y1, ly, y1, ry] };
}

/**
 * The two wing ends of an arrow head: back from the tip (x, y) by `hl`, `angle` either side of the shaft.
 * @param x - the tip, x
 * @param y - the tip, y
 * @param ux - the shaft's direction (a unit vector), x
 * @param uy - the shaft's direction, y
 * @param hl - the wings' length
 * @param angle - between each wing and the shaft, in radians
 * @returns the left wing's end (counter-clockwise from the shaft, seen from the tip back), then the right one's
 */
export function arrowWings(
  x: number,
  y: number,
  ux: number,
  uy: number,
  hl: number,
  angle = Math.PI / 6,
): [[number, number], [number, number]] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [
    [x - hl * (ux * c - uy * s), y - hl * (uy * c + ux * s)],
    [x - hl * (ux * c + uy * s), y - hl * (uy * c - ux * s)],
  ];
}

/**
 * Short text of an engine float32 value for readouts (`digits` significant digits, exponent when tiny or huge).
 * @param v - the value
 * @param digits - significant digits
 */
export function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e5)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

/**
 * A float32 value as text at full float32 precision, with inf and NaN spelled as the engine returns them.
 * @param v - a float32 value
 */
export function fmtNum(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return formatF32(v);
}

/**
 * A list of float32 values as `[a, b, …]` (see fmtNum), cut after `max` values.
 * @param a - the values
 * @param max - how many to spell before '…'
 */
export function fmtList(a: ArrayLike<number>, max = 12): string {
  const parts = Array.from(a).slice(0, max).map(fmtNum);
  return `[${parts.join(', ')}${a.length > max ? ', …' : ''}]`;
}

/**
 * Runs one part of a render and shows its error in the page's notice area (or clears it when it ran through).
 * @param ctx - the view's context
 * @param source - the notice key (one message per key)
 * @param fn - the work; what it throws is reported, not rethrown
 */
export function guard(ctx: Pick<ViewContext, 'report'>, source: string, fn: () => void): void {
  try {
    fn();
    ctx.report(source, null);
  } catch (err) {
    ctx.report(source, err);
  }
}

/**
 * Redraws at most once per animation frame: a drag sends more events than a closed-loop run can keep up with.
 * `request()` tells the shell the store changed (so the URL follows) and schedules `render`; `stop()` cancels
 * a pending frame for good (call it in destroy()).
 * @param ctx - the view's context
 * @param render - the view's render()
 */
export function frameRenderer(
  ctx: Pick<ViewContext, 'changed'>,
  render: () => void,
): { request(): void; stop(): void } {
  let frame = 0;
  let dead = false;
  return {
    request() {
      ctx.changed();
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        if (!dead) render();
      });
    },
    stop() {
      dead = true;
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
    },
  };
}

/**
 * The overlay checkboxes of a view that draws other entries next to its own: one per id, each followed by its
 * plot colour (swatch i + 1). The choice lives in the store under 'cmp' as a comma-separated list.
 * @param parent - where the boxes go
 * @param store - the view's store
 * @param ids - the ids that can be overlaid, in colour order
 * @param def - the ids overlaid by default
 * @param maxLen - the longest list text read from a link
 * @param onChange - called with the new choice after a box changes (the store is already set)
 * @returns the choice as the link (or the default) gives it
 */
export function overlayToggles(
  parent: HTMLElement,
  store: ViewStore,
  ids: readonly string[],
  def: readonly string[],
  maxLen: number,
  onChange: (chosen: string[]) => void,
): string[] {
  let chosen = store
    .text('cmp', def.join(','), maxLen)
    .split(',')
    .filter((id) => ids.includes(id));
  const boxes = h('div', { class: 'opt-overlays' });
  parent.append(boxes);
  for (const id of ids) {
    const box = toggle(boxes, { id: `view-cmp-${id}`, label: id, checked: chosen.includes(id) }, (on) => {
      chosen = ids.filter((o) => (o === id ? on : chosen.includes(o)));
      // 'none' keeps an empty choice in the link (an empty value would fall back to the default).
      store.set('cmp', chosen.length ? chosen.join(',') : 'none', def.join(','));
      onChange(chosen);
    });
    // The overlay's colour on the plots, next to its name.
    box.parentElement?.append(h('span', { class: `swatch swatch-${1 + ids.indexOf(id)}`, 'aria-hidden': 'true' }));
  }
  return chosen;
}

/**
 * A whole-number slider bound to a store key (its id is `view-<key>`); a typed value that is not a whole
 * number in [min, max] is ignored.
 * @param parent - where the slider goes
 * @param store - the view's store
 * @param o - the key, label, range, default and current value
 * @param onSet - called with the new value after the store is set
 */
export function intSlider(
  parent: HTMLElement,
  store: ViewStore,
  o: { key: string; label: string; min: number; max: number; def: number; value: number },
  onSet: (v: number) => void,
): SliderField {
  return slider(
    parent,
    { id: `view-${o.key}`, label: o.label, min: o.min, max: o.max, step: 1, value: o.value },
    (v) => {
      if (!Number.isInteger(v) || v < o.min || v > o.max) return;
      store.set(o.key, v, o.def);
      onSet(v);
    },
  );
}

/** Where a curve view keeps its x range and probe in the store, and their defaults. */
const RANGE_KEYS = { xmin: ['xmin', -6], xmax: ['xmax', 6], probe: ['x', 1] } as const;

/**
 * The x range and probe of a curve view with their sliders, kept in the store as 'xmin', 'xmax' and 'x'
 * (defaults −6, 6 and 1; a range read from a link that is empty falls back to the defaults).
 * @param parent - where the sliders go
 * @param store - the view's store
 * @param idPrefix - the sliders' id prefix
 * @param labels - the three labels
 * @param onChange - called after a value changed and was stored
 * @returns the live values, and `pick(x)` that moves the probe from elsewhere (slider, store, onChange)
 */
export function storedRangeProbe(
  parent: HTMLElement,
  store: ViewStore,
  idPrefix: string,
  labels: { xmin: string; xmax: string; probe: string },
  onChange: () => void,
): RangeProbe & { pick(x: number): void } {
  const r: RangeProbe = {
    xmin: store.num('xmin', -6, -1e4, 1e4),
    xmax: store.num('xmax', 6, -1e4, 1e4),
    probe: 0,
  };
  if (!(r.xmin < r.xmax)) [r.xmin, r.xmax] = [-6, 6];
  r.probe = store.num('x', 1, -1e4, 1e4);
  const save = (key: keyof RangeProbe) => {
    const [k, def] = RANGE_KEYS[key];
    store.set(k, r[key], def);
    onChange();
  };
  const probeField = rangeProbeSliders(parent, idPrefix, labels, r, save);
  return Object.assign(r, {
    pick(x: number) {
      r.probe = x;
      probeField.set(x);
      save('probe');
    },
  });
}
