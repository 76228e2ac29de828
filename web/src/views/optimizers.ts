// Optimizers: the entry's path on a 2-D test surface (ill-conditioned
// quadratic, Rosenbrock, a saddle, Beale), with other optimizers overlaid, a
// draggable start and the loss per step; or all four surfaces side by side.
// The surfaces are closed forms in JS (surfaces.ts); every step is the
// engine's optimizer, run closed-loop (see descend()).
import type { OpMeta, Params } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import { Figure } from '../ui/plots/figure.js';
import { renderMath } from '../ui/math.js';
import { LinePlot } from '../ui/plots/line.js';
import { PlanePlot, type Path } from '../ui/plots/plane.js';
import { button, controlGroup, readout, select, slider, toggle } from '../ui/widgets.js';
import {
  descend,
  prefix,
  sampleField,
  surface,
  SURFACE_DEFAULTS,
  SURFACE_IDS,
  SURFACE_LR,
  surfaceLr,
  type Descent,
  type Surface,
  type SurfaceId,
  type SurfaceParams,
} from './surfaces.js';

type SurfaceRates = (typeof SURFACE_LR)[SurfaceId];
import { frameRenderer, overlayToggles, guard } from './common.js';
import type { FamilyView, Shown, ViewContext } from './view.js';
import { familyView, forMeta } from './dispatch.js';
import './views.css';
import './optimizers.css';

export const MAX_STEPS = 300;
const DEFAULT_STEPS = 100;
const FIELD_N = 121;

const L = {
  en: {
    surface: 'Surface',
    surfaces: {
      quadratic: 'Ill-conditioned quadratic',
      rosenbrock: 'Rosenbrock valley',
      saddle: 'Saddle x² − y²',
      beale: 'Beale function',
    } as Record<SurfaceId, string>,
    kappa: 'condition number κ',
    ra: 'Rosenbrock a',
    rb: 'Rosenbrock b',
    steps: 'steps',
    grid: 'All four surfaces side by side',
    run: 'Run',
    overlays: 'Compare with',
    olr: 'Hyper-parameters of the compared optimizers',
    own: 'their defaults, at each surface’s learning rate',
    same: 'their defaults, with this entry’s lr',
    reset: 'Reset start point',
    path: 'Path on the surface',
    loss: 'Loss per step',
    lossMin: 'f(θₜ) − f(θ*) per step (log scale)',
    lossRaw: 'f(θₜ) per step',
    step: 'step',
    start: 'start',
    end: 'end',
    diverged: (k: number) => `diverged: |θ| > 10⁴ after step ${k}`,
    stopped: 'stopped: non-finite gradient',
    planeNote:
      'Drag the start point (or focus the plot and use the arrow keys). Background: the surface, coloured by log(1 + f − min f). The surface and its gradient are closed forms in JavaScript; each step is the engine’s optimizer, run closed-loop: after k steps the gradient at the current point is appended and the engine replays all k + 1 gradients, rebuilding its state exactly.',
    lossNote:
      'Log scale: a straight line is linear convergence; plateaus are flat valleys or saddles. Dashed curves are the compared optimizers; a diverging run leaves the chart once its loss passes 10⁴ times the starting loss.',
    lrHint: (r: SurfaceRates) =>
      `While lr stays at its registry default (made for networks with many parameters, and too small to move a point of these surfaces far), every optimizer runs at a learning rate chosen for the surface so that each one travels: here ${r.adaptive} for Adam, AdamW and Adagrad, ${r.rmsprop} for RMSprop (it has no bias correction, so its first steps are lr / sqrt(1 − alpha) = 10 × lr) and ${r.plain} for the SGD family. Set lr in the parameters to run this entry at yours.`,
    diverging: (runs: string[]) =>
      `Diverging: ${runs.join(', ')}. There the loss rises above 10⁴ times its starting value (or stops being a finite number) and the path leaves the chart; each path is drawn as far as it can be. A smaller lr keeps it on the surface.`,
    runAway: (id: string, k: number, where: string) => `${id}${where ? ` (${where})` : ''} at step ${k}`,
    gridNote: 'Each surface starts from its own default point (drag to move); the entry is the solid line.',
  },
  zh: {
    surface: '曲面',
    surfaces: {
      quadratic: '病态二次函数',
      rosenbrock: 'Rosenbrock 山谷',
      saddle: '鞍面 x² − y²',
      beale: 'Beale 函数',
    } as Record<SurfaceId, string>,
    kappa: '条件数 κ',
    ra: 'Rosenbrock 的 a',
    rb: 'Rosenbrock 的 b',
    steps: '步数',
    grid: '四个曲面并排显示',
    run: '运行',
    overlays: '对比的优化器',
    olr: '对比优化器的超参数',
    own: '各自的默认值,学习率取各曲面的设定',
    same: '默认值,但学习率与本条目相同',
    reset: '重置起点',
    path: '曲面上的优化路径',
    loss: '每步的损失',
    lossMin: '每步的 f(θₜ) − f(θ*)(对数坐标)',
    lossRaw: '每步的 f(θₜ)',
    step: '步',
    start: '起点',
    end: '终点',
    diverged: (k: number) => `发散:第 ${k} 步后 |θ| > 10⁴`,
    stopped: '已停止:梯度不是有限值',
    planeNote:
      '拖动起点(或聚焦图后用方向键移动)。背景是曲面,按 log(1 + f − min f) 着色。曲面及其梯度是 JavaScript 中的闭式公式;每一步都由引擎的优化器计算,并以闭环方式运行:走完 k 步后,把当前点的梯度追加到序列末尾,引擎重放全部 k + 1 个梯度,从而精确重建优化器的内部状态。',
    lossNote:
      '对数坐标下,直线表示线性收敛;平台段对应平坦的谷底或鞍点。虚线是对比的优化器;发散的运行在损失超过起点损失的 10⁴ 倍后不再画出。',
    lrHint: (r: SurfaceRates) =>
      `当 lr 保持注册表中的默认值时(它是为参数众多的网络准备的,在这些曲面上几乎挪不动点),每个优化器都按为该曲面挑选的学习率运行,使它们都能走出明显的路径:当前曲面上 Adam、AdamW 和 Adagrad 取 ${r.adaptive},RMSprop 取 ${r.rmsprop}(它没有偏差修正,最初几步约为 lr / sqrt(1 − alpha) = 10 × lr),SGD 一族取 ${r.plain}。在参数面板中设置 lr,本条目就按你的值运行。`,
    diverging: (runs: string[]) =>
      `发散:${runs.join('、')}。损失在该步升到起点的 10⁴ 倍以上(或不再是有限数),路径离开了图;每条路径都尽量画出。调小 lr 就能让它留在曲面上。`,
    runAway: (id: string, k: number, where: string) => `${id}${where ? `(${where})` : ''} 在第 ${k} 步`,
    gridNote: '每个曲面从各自的默认起点出发(可拖动);实线是本条目的优化器。',
  },
};

// A diverging run would stretch the loss axis over dozens of decades: values far above the start (10⁴ × its
// loss, or 10⁴ for the unbounded saddle) are left off the chart.
const LOSS_CAP = 1e4;

/** A run's loss above the surface's minimum at each of its points, and the cap past which it is off the chart. */
function losses(d: Descent, s: Surface): { values: Float64Array; cap: number } {
  const fmin = s.min?.f ?? 0;
  const values = Float64Array.from(d.xs, (x, i) => s.f(x, d.ys[i]!) - fmin);
  return { values, cap: LOSS_CAP * Math.max(1, Math.abs(values[0]!)) };
}

/**
 * The first step at which a run blows up: its loss rises past the cap or stops being finite (falling without
 * bound on the saddle is an escape, not a failure); null when it does not.
 */
function runAwayStep(d: Descent, s: Surface): number | null {
  const { values, cap } = losses(d, s);
  const k = values.findIndex((v) => !(v <= cap));
  if (k >= 0) return k;
  return d.stop === 'nonfinite' ? d.steps + 1 : null;
}

interface Run {
  id: string;
  hyper: Params;
  d: Descent;
  color: number;
}

/** Hyper-params of an optimizer from its registry defaults, optionally with another lr. */
function defaults(op: OpMeta, lr?: number): Params {
  const p: Params = {};
  for (const q of op.params) p[q.name] = q.default;
  if (lr !== undefined && 'lr' in p) p.lr = lr;
  return p;
}

/**
 * Builds the optimizer view of one entry. Every optimizer runs on the same surfaces, so the registry's kind decides: a
 * new optimizer is drawn here by itself, any other kind of entry gets the generic view.
 */
export const createView = familyView([forMeta((op) => op.kind === 'optimizer', optimizerView)]);

function optimizerView(host: HTMLElement, op: OpMeta, ctx: ViewContext): FamilyView {
  const t = L[ctx.lang];
  const { dl, store } = ctx;
  const metas = new Map(dl.ops().map((o) => [o.id, o]));
  // Every other optimizer of the registry can be overlaid (a new one appears here by itself).
  const others = dl
    .ops()
    .filter((o) => o.kind === 'optimizer' && o.id !== op.id)
    .map((o) => o.id);
  const colorOf = (id: string) => (id === op.id ? 0 : 1 + others.indexOf(id));

  let surf = store.choice('surf', SURFACE_IDS, 'quadratic');
  const sp: SurfaceParams = {
    kappa: store.num('kappa', SURFACE_DEFAULTS.kappa, 1, 1000),
    a: store.num('a', SURFACE_DEFAULTS.a, -2, 2),
    b: store.num('b', SURFACE_DEFAULTS.b, 0, 1000),
  };
  let steps = store.int('steps', DEFAULT_STEPS, 1, MAX_STEPS);
  let grid = store.bool('grid', false);
  const cmpDefault = ['sgd', 'sgd_momentum', 'adam'].filter((id) => id !== op.id).slice(0, 2);
  let olr = store.choice('olr', ['own', 'same'] as const, 'own');
  const startOf = (id: SurfaceId) =>
    store.list(`start_${id}`, surface(id, sp).start, { min: -100, max: 100, minLen: 2, maxLen: 2 }) as [number, number];

  const redraw = frameRenderer(ctx, () => render());
  const rerender = redraw.request;

  // ---- controls ------------------------------------------------------------
  const controls = controlGroup(host, t.run);
  const surfSel = select(
    controls,
    {
      id: 'view-surface',
      label: t.surface,
      options: SURFACE_IDS.map((id) => ({ value: id, label: t.surfaces[id] })),
      value: surf,
    },
    (v) => {
      surf = v;
      store.set('surf', v, 'quadratic');
      showKnobs();
      rerender();
    },
  );
  const kappaField = slider(
    controls,
    { id: 'view-kappa', label: t.kappa, min: 1, max: 100, step: 1, value: sp.kappa },
    (v) => {
      sp.kappa = Math.min(1000, Math.max(1, v));
      store.set('kappa', sp.kappa, SURFACE_DEFAULTS.kappa);
      rerender();
    },
  );
  const aField = slider(controls, { id: 'view-ra', label: t.ra, min: -2, max: 2, step: 0.05, value: sp.a }, (v) => {
    sp.a = Math.min(2, Math.max(-2, v));
    store.set('a', sp.a, SURFACE_DEFAULTS.a);
    rerender();
  });
  const bField = slider(controls, { id: 'view-rb', label: t.rb, min: 1, max: 200, step: 1, value: sp.b }, (v) => {
    sp.b = Math.min(1000, Math.max(0, v));
    store.set('b', sp.b, SURFACE_DEFAULTS.b);
    rerender();
  });
  slider(controls, { id: 'view-steps', label: t.steps, min: 1, max: MAX_STEPS, step: 1, value: steps }, (v) => {
    steps = Math.min(MAX_STEPS, Math.max(1, Math.round(v)));
    store.set('steps', steps, DEFAULT_STEPS);
    rerender();
  });
  toggle(controls, { id: 'view-grid', label: t.grid, checked: grid }, (v) => {
    grid = v;
    store.set('grid', v, false);
    buildFigures();
    showKnobs();
    rerender();
  });
  button(controls, { testid: 'view-reset-start', text: t.reset }, () => {
    for (const id of SURFACE_IDS) store.set(`start_${id}`, undefined);
    rerender();
  });
  const surfMath = h('div', { class: 'math opt-formula', 'data-testid': 'surface-formula' });
  controls.append(surfMath);

  const cmpGroup = controlGroup(host, t.overlays);
  let cmp = overlayToggles(cmpGroup, store, others, cmpDefault, 200, (c) => {
    cmp = c;
    rerender();
  });
  select(
    cmpGroup,
    {
      id: 'view-olr',
      label: t.olr,
      options: [
        { value: 'own', label: t.own },
        { value: 'same', label: t.same },
      ],
      value: olr,
    },
    (v) => {
      olr = v;
      store.set('olr', v, 'own');
      rerender();
    },
  );
  const out = readout(cmpGroup, 'optimizer-readout');
  // Says which runs blow up (any lr is allowed, so a page must show a diverging run, not fail on it).
  const divergeNote = h('p', { class: 'hint opt-diverging', role: 'status', 'data-testid': 'optimizer-diverging' });
  const lrHint = h('p', { class: 'muted hint', 'data-testid': 'optimizer-lr-hint' });
  cmpGroup.append(divergeNote, lrHint);

  function showKnobs(): void {
    const single = !grid;
    surfSel.parentElement!.hidden = grid;
    kappaField.root.hidden = single && surf !== 'quadratic';
    aField.root.hidden = single && surf !== 'rosenbrock';
    bField.root.hidden = single && surf !== 'rosenbrock';
    surfMath.hidden = grid;
    if (single) {
      renderMath(surfMath, surface(surf, sp).latex, (err) => ctx.report('katex', err));
    }
  }
  showKnobs();

  // ---- figures -------------------------------------------------------------
  const figures = h('div', { class: 'figures' });
  host.append(figures);
  type Panel = { sid: SurfaceId; fig: Figure; plane: PlanePlot; fieldKey: string; paths: Path[] };
  let panels: Panel[] = [];
  let lossFig: Figure | null = null;
  let lossPlot: LinePlot | null = null;
  let lossKey = '';

  // Figures first, plots second: a plot sizes itself from its box, which is
  // final only once every figure of the grid is in place.
  function makePanel(fig: Figure, sid: SurfaceId): Panel {
    const s = surface(sid, sp);
    const panel: Panel = { sid, fig, plane: null as unknown as PlanePlot, fieldKey: '', paths: [] };
    panel.plane = new PlanePlot(fig.body, {
      x: s.x,
      y: s.y,
      xLabel: 'θ₁',
      yLabel: 'θ₂',
      equalAspect: true,
      onDrag: (_i, x, y) => moveStart(panel.sid, x, y),
      onClick: (x, y) => moveStart(panel.sid, x, y),
    });
    fig.attach(panel.plane);
    return panel;
  }

  function moveStart(sid: SurfaceId, x: number, y: number): void {
    const s = surface(sid, sp);
    const p: [number, number] = [Number(x.toFixed(3)), Number(y.toFixed(3))];
    store.set(`start_${sid}`, p, s.start);
    // Move the handle now (the paths follow on the next frame), so key presses within one frame add up.
    const panel = panels.find((q) => q.sid === sid);
    panel?.plane.update(panel.paths, [{ x: p[0], y: p[1], color: 0, label: t.start }]);
    rerender();
  }

  function destroyFigures(): void {
    for (const p of panels) p.plane.destroy();
    lossPlot?.destroy();
    panels = [];
    lossFig = null;
    lossPlot = null;
    lossKey = '';
    figures.replaceChildren();
  }

  function buildFigures(): void {
    destroyFigures();
    if (grid) {
      const box = h('div', { class: 'opt-grid' });
      figures.append(box);
      const figs = SURFACE_IDS.map((sid) => new Figure(box, t.surfaces[sid], ctx.lang, `figure-path-${sid}`));
      panels = SURFACE_IDS.map((sid, i) => makePanel(figs[i]!, sid));
      panels[0]!.fig.setNote(t.gridNote);
    } else {
      const fig = new Figure(figures, `${t.path}: ${t.surfaces[surf]}`, ctx.lang, 'figure-path');
      fig.setNote(t.planeNote);
      lossFig = new Figure(figures, t.loss, ctx.lang, 'figure-loss');
      lossFig.setNote(t.lossNote);
      panels = [makePanel(fig, surf)];
    }
  }
  buildFigures();

  // ---- computation ---------------------------------------------------------
  // Runs by problem (not by length): a longer run continues the cached one,
  // a shorter one is its prefix, so dragging the steps slider stays cheap.
  const cache = new Map<string, Descent>();
  function run(id: string, hyper: Params, s: Surface, start: [number, number]): Descent {
    const key = `${id}|${JSON.stringify(hyper)}|${s.id}|${sp.kappa},${sp.a},${sp.b}|${start.join(',')}`;
    let d = cache.get(key);
    if (!d || (d.steps < steps && !d.stop)) {
      d = descend(dl, id, start, s.grad, hyper, steps, 1e4, d);
      if (cache.size > 64) cache.clear();
      cache.set(key, d);
    }
    return prefix(d, steps);
  }

  let last: { runs: Run[]; sid: SurfaceId }[] = [];

  // The entry's hyper-params on a surface: the panel's, except an lr left at its registry default, which
  // becomes the surface's (SURFACE_LR): at network-sized defaults the adaptive optimizers would barely move.
  const lrSpec = op.params.find((p) => p.name === 'lr');
  function entryHyperOn(sid: SurfaceId): Params {
    const hyper: Params = {};
    for (const p of op.params) hyper[p.name] = ctx.params[p.name] ?? p.default;
    if (lrSpec && hyper.lr === lrSpec.default) hyper.lr = surfaceLr(op, sid);
    return hyper;
  }

  function render(): void {
    lrHint.textContent = t.lrHint(SURFACE_LR[surf]);
    const results: { runs: Run[]; sid: SurfaceId }[] = [];
    guard(ctx, 'engine', () => {
      for (const panel of panels) {
        if (!grid && panel.sid !== surf) {
          panel.sid = surf;
          const s0 = surface(surf, sp);
          panel.plane.setRanges(s0.x, s0.y);
          panel.fig.setTitle(`${t.path}: ${t.surfaces[surf]}`);
          panel.fieldKey = '';
        }
        const s = surface(panel.sid, sp);
        const fieldKey = `${panel.sid}|${sp.kappa},${sp.a},${sp.b}`;
        if (panel.fieldKey !== fieldKey) {
          panel.fieldKey = fieldKey;
          panel.plane.setField({ nx: FIELD_N, ny: FIELD_N, values: sampleField(s, FIELD_N, FIELD_N), log: true });
        }
        const start = startOf(panel.sid);
        const entryHyper = entryHyperOn(panel.sid);
        const runs: Run[] = [{ id: op.id, hyper: entryHyper, d: run(op.id, entryHyper, s, start), color: 0 }];
        for (const id of cmp) {
          const meta = metas.get(id)!;
          const lr = olr === 'same' && typeof entryHyper.lr === 'number' ? entryHyper.lr : surfaceLr(meta, panel.sid);
          const hyper = defaults(meta, lr);
          runs.push({ id, hyper, d: run(id, hyper, s, start), color: colorOf(id) });
        }
        const paths: Path[] = [];
        for (const r of runs.slice().reverse())
          paths.push({
            label: r.id,
            xs: r.d.xs,
            ys: r.d.ys,
            color: r.color,
            width: r.id === op.id ? 2.5 : 1.5,
            dash: r.id === op.id ? undefined : [6, 4],
          });
        for (const r of runs)
          paths.push({
            label: `${r.id} ${t.end}`,
            xs: [r.d.xs[r.d.xs.length - 1]!],
            ys: [r.d.ys[r.d.ys.length - 1]!],
            color: r.color,
            kind: 'points',
          });
        if (s.min) paths.push({ label: 'θ*', xs: [s.min.x], ys: [s.min.y], color: 7, kind: 'points' });
        panel.paths = paths;
        panel.plane.update(paths, [{ x: start[0], y: start[1], color: 0, label: t.start }]);
        results.push({ runs, sid: panel.sid });
      }
      if (!grid && lossFig) drawLoss(results[0]!.runs, surface(surf, sp));
      const away: string[] = [];
      for (const { runs, sid } of results)
        for (const r of runs) {
          const k = runAwayStep(r.d, surface(sid, sp));
          if (k !== null) away.push(t.runAway(r.id, k, grid ? t.surfaces[sid] : ''));
        }
      divergeNote.textContent = away.length ? t.diverging(away) : '';
      divergeNote.hidden = away.length === 0;
      const main = results[0]!.runs[0]!;
      const d = main.d;
      const n = d.steps;
      const s = surface(results[0]!.sid, sp);
      const fx = d.xs[n]!;
      const fy = d.ys[n]!;
      out.textContent =
        `${op.id} (lr ${main.hyper.lr}): θ_${n} = (${formatF32(Math.fround(fx))}, ${formatF32(Math.fround(fy))}), f = ${Number(s.f(fx, fy).toPrecision(6))}` +
        (d.stop === 'left' ? ` — ${t.diverged(n)}` : d.stop === 'nonfinite' ? ` — ${t.stopped}` : '');
      last = results;
    });
  }

  function drawLoss(runs: Run[], s: Surface): void {
    const logY = s.min !== null;
    const key = `${runs.map((r) => r.id).join(',')}|${logY}`;
    if (!lossPlot || key !== lossKey) {
      lossPlot?.destroy();
      lossFig!.body.replaceChildren();
      lossPlot = new LinePlot(lossFig!.body, {
        series: runs.map((r) => ({
          label: r.id,
          color: r.color,
          width: r.id === op.id ? 2.5 : 1.5,
          dash: r.id === op.id ? undefined : [6, 4],
        })),
        xLabel: t.step,
        logY,
      });
      lossFig!.attach(lossPlot);
      lossKey = key;
    }
    lossFig!.setTitle(logY ? t.lossMin : t.lossRaw);
    const xs = new Float64Array(steps + 1);
    for (let i = 0; i <= steps; ++i) xs[i] = i;
    const ys = runs.map((r) => {
      const y = new Float64Array(steps + 1).fill(NaN);
      const { values, cap } = losses(r.d, s);
      values.forEach((v, i) => (y[i] = Math.abs(v) <= cap ? v : NaN));
      return y;
    });
    lossPlot.update(xs, ys);
  }

  return {
    render,
    shown(): Shown[] {
      const list: Shown[] = [];
      last.forEach(({ runs, sid }, i) => {
        for (const r of runs) {
          if (i > 0 && r.id !== op.id) continue; // side by side: the entry on every surface, overlays on the first
          const c = r.d.call;
          const n = c.grads.length / 2;
          if (n === 0) continue;
          list.push({
            label: `${r.id} path on ${sid}`,
            id: r.id,
            inputs: {
              params: { shape: [2], data: Array.from(c.params) },
              grads: { shape: [n, 2], data: Array.from(c.grads) },
            },
            params: r.hyper,
            what: 'value',
            values: Array.from(c.out),
          });
        }
      });
      return list;
    },
    destroy() {
      redraw.stop();
      destroyFigures();
    },
  };
}
