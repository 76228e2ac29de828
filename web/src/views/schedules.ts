// Schedules: the entry's learning rate over the steps (one engine call), with
// other schedules overlaid on the same axis, its warmup ends, drops and
// restarts marked, and the rate read out at a chosen step.
import type { OpMeta, Params } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import { Figure } from '../ui/plots/figure.js';
import { LinePlot, type Mark } from '../ui/plots/line.js';
import { controlGroup, readout, slider, toggle } from '../ui/widgets.js';
import { overlayToggles, guard } from './common.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import { familyView, forMeta } from './dispatch.js';
import { autoHorizon, events, fitted, MAX_STEPS } from './schedule-timing.js';
import './views.css';

/** Points plotted at most; longer horizons are sampled with a stride. */
const MAX_POINTS = 4000;

const L = {
  en: {
    view: 'Horizon and readout',
    auto: (n: number) =>
      `Horizon: ${n} steps, chosen from the entry’s own params so the whole shape shows. Set the “steps” param to choose it yourself.`,
    fixed: (n: number) => `Horizon: ${n} steps (the “steps” param).`,
    at: 'read the rate at step',
    logy: 'Logarithmic lr axis',
    overlays: 'Overlay other schedules',
    overlayHint:
      'The overlays share the horizon and the entry’s peak rate; their timings (step size, T_max, cycle, warmup, decay) are fitted to the horizon, their other knobs are the registry defaults.',
    curve: 'Learning rate per step',
    step: 'step t',
    lr: 'lr',
    note: 'Click the plot to read the rate at a step. Dots mark where the schedule changes regime (warmup end, drops, restarts, peak).',
    ev: {
      drop: 'drop',
      half: 'halved',
      tmax: 'T_max',
      restart: 'restart',
      warm: 'warmup end',
      peak: 'peak',
      end: 'end',
      low: 'back at start',
    },
    tooLong: (n: number) => `steps = ${n} is more than this view draws (${MAX_STEPS}); drawn up to ${MAX_STEPS}.`,
  },
  zh: {
    view: '横轴范围与读数',
    auto: (n: number) =>
      `横轴范围:${n} 步,根据本条目自身的参数选取,以便显示完整形状。在参数面板中设置 “steps” 可自行指定。`,
    fixed: (n: number) => `横轴范围:${n} 步(即参数 “steps”)。`,
    at: '读取学习率的步数',
    logy: '学习率取对数坐标',
    overlays: '叠加其他调度',
    overlayHint:
      '叠加的曲线与本条目共用横轴范围和峰值学习率;它们的时间参数(间隔、T_max、周期、预热、衰减)按横轴范围设定,其余参数取注册表默认值。',
    curve: '每一步的学习率',
    step: '步数 t',
    lr: '学习率',
    note: '点击图中任意位置可读取该步的学习率。圆点标出调度切换阶段的位置(预热结束、下降、重启、峰值)。',
    ev: {
      drop: '下降',
      half: '减半',
      tmax: 'T_max',
      restart: '重启',
      warm: '预热结束',
      peak: '峰值',
      end: '结束',
      low: '回到起点',
    },
    tooLong: (n: number) => `steps = ${n} 超出本视图绘制的上限(${MAX_STEPS});只画到 ${MAX_STEPS}。`,
  },
};

interface Curve {
  id: string;
  params: Params;
  /** Engine output, all n steps. */
  lr: Float32Array;
}

/** The schedules that decay geometrically: their curves start on a log scale. */
const LOG_SCALE = ['step_lr', 'exponential_lr'];

/**
 * Builds the schedule view of one entry. Every schedule is a learning-rate curve, so the registry's kind decides: a
 * new schedule is drawn here by itself, any other kind of entry gets the generic view.
 */
export const createView = familyView([forMeta((op) => op.kind === 'schedule', scheduleView)]);

function scheduleView(host: HTMLElement, op: OpMeta, ctx: ViewContext): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  const metas = new Map(dl.ops().map((o) => [o.id, o]));
  // Every other schedule of the registry can be overlaid (a new one appears here by itself).
  const others = dl
    .ops()
    .filter((o) => o.kind === 'schedule' && o.id !== op.id)
    .map((o) => o.id);
  const cmpDefault = ['cosine_annealing_lr', 'warmup_cosine', 'step_lr'].filter((id) => id !== op.id).slice(0, 2);
  const logDefault = LOG_SCALE.includes(op.id);
  let logY = store.bool('logy', logDefault);
  let at = store.int('at', -1, -1, MAX_STEPS);
  const stepsDefault = op.params.find((p) => p.name === 'steps')?.default ?? 10;

  const rerender = () => {
    ctx.changed();
    render();
  };

  const controls = controlGroup(host, t.view);
  const horizonText = h('p', { class: 'muted hint' });
  controls.append(horizonText);
  const atBox = h('div');
  controls.append(atBox);
  let atMax = -1;
  let atField: ReturnType<typeof slider> | null = null;
  toggle(controls, { id: 'view-logy', label: t.logy, checked: logY }, (v) => {
    logY = v;
    store.set('logy', v, logDefault);
    plotKey = '';
    rerender();
  });
  const out = readout(controls, 'schedule-readout');

  const cmpGroup = controlGroup(host, t.overlays);
  let cmp = overlayToggles(cmpGroup, store, others, cmpDefault, 300, (c) => {
    cmp = c;
    rerender();
  });
  cmpGroup.append(h('p', { class: 'muted hint', text: t.overlayHint }));

  const figures = h('div', { class: 'figures' });
  host.append(figures);
  const fig = new Figure(figures, t.curve, ctx.lang, 'figure-schedule');
  fig.setNote(t.note);
  let plot: LinePlot | null = null;
  let plotKey = '';

  let last: { curves: Curve[]; pick: number[] | null } | null = null;

  function setAt(v: number): void {
    at = Math.max(0, Math.min(MAX_STEPS, Math.round(v)));
    store.set('at', at, -1);
    rerender();
  }

  function call(id: string, params: Params, n: number): Float32Array {
    return dl.schedule(id as 'step_lr', params as never, n);
  }

  function render(): void {
    const hyper: Params = {};
    for (const p of op.params) if (p.name !== 'steps') hyper[p.name] = ctx.params[p.name] ?? p.default;
    const stepsParam = ctx.params.steps ?? stepsDefault;
    const auto = stepsParam === stepsDefault;
    const n = auto ? autoHorizon(op.id, hyper) : Math.min(MAX_STEPS, Math.max(1, Math.round(stepsParam)));
    horizonText.textContent = auto ? t.auto(n) : t.fixed(n);
    if (!auto && stepsParam > MAX_STEPS) ctx.report('horizon', new Error(t.tooLong(stepsParam)));
    else ctx.report('horizon', null);
    if (atMax !== n - 1) {
      atMax = n - 1;
      atBox.replaceChildren();
      atField = slider(
        atBox,
        {
          id: 'view-at',
          label: t.at,
          min: 0,
          max: n - 1,
          step: 1,
          value: at < 0 ? Math.floor(n / 2) : Math.min(at, n - 1),
        },
        setAt,
      );
    }
    const tAt = at < 0 ? Math.floor(n / 2) : Math.min(at, n - 1);
    atField?.set(tAt);
    guard(ctx, 'engine', () => {
      const curves: Curve[] = [{ id: op.id, params: { ...hyper, steps: n }, lr: call(op.id, hyper, n) }];
      let peak = 0;
      for (const v of curves[0]!.lr) if (Number.isFinite(v) && v > peak) peak = v;
      if (!(peak > 0)) peak = 0.1;
      for (const id of cmp) {
        const p = fitted(metas.get(id)!, n, peak);
        curves.push({ id, params: { ...p, steps: n }, lr: call(id, p, n) });
      }
      // Sample long horizons with a stride (the recorded values use the same picks).
      const stride = Math.ceil(n / MAX_POINTS);
      const idx: number[] = [];
      for (let i = 0; i < n; i += stride) idx.push(i);
      if (idx[idx.length - 1] !== n - 1) idx.push(n - 1);
      const xs = Float64Array.from(idx);
      const ys = curves.map((c) => Float64Array.from(idx, (i) => c.lr[i]!));
      const key = `${curves.map((c) => c.id).join(',')}|${logY}`;
      if (!plot || key !== plotKey) {
        plot?.destroy();
        fig.body.replaceChildren();
        plot = new LinePlot(fig.body, {
          series: curves.map((c, i) => ({
            label: c.id,
            color: i === 0 ? 0 : 1 + others.indexOf(c.id as (typeof others)[number]),
            width: i === 0 ? 2.5 : 1.5,
            dash: i === 0 ? undefined : [6, 4],
          })),
          xLabel: t.step,
          logY,
          onPick: (x) => setAt(x),
        });
        fig.attach(plot);
        plotKey = key;
      }
      plot.update(xs, ys);
      const entry = curves[0]!.lr;
      const marks: Mark[] = events(op.id, hyper, n).map((e) => ({
        x: e.t,
        y: entry[e.t]!,
        color: 0,
        label: `${t.ev[e.ev]} (t=${e.t})`,
      }));
      marks.push({ x: tAt, y: entry[tAt]!, color: 7 });
      plot.setMarks(marks);
      const parts = [`t = ${tAt}: ${op.id} lr = ${formatF32(entry[tAt]!)}`];
      for (const c of curves.slice(1)) parts.push(`${c.id} ${formatF32(c.lr[tAt]!)}`);
      out.textContent = parts.join('   ');
      last = { curves, pick: stride > 1 ? idx : null };
    });
  }

  return {
    render,
    shown(): Shown[] {
      if (!last) return [];
      const { curves, pick } = last;
      return curves.map((c) => ({
        label: `${c.id} learning rate`,
        id: c.id,
        inputs: {},
        params: c.params,
        what: 'value',
        values: pick ? pick.map((i) => c.lr[i]!) : Array.from(c.lr),
        ...(pick ? { pick } : {}),
      }));
    },
    destroy() {
      plot?.destroy();
    },
  };
}
