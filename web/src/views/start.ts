// The start page's live figure: five activations and their derivatives
// overlaid, every point computed by the engine, with a probe that sweeps x
// and reads each value out, so the first thing a visitor sees is live
// mathematics. A click on a plot puts the probe there and stops the sweep
// (as does a preference for reduced motion); each name links to its page.
import type { Dlmath, OpMeta } from '../engine/index.js';
import { h } from '../ui/dom.js';
import { formatF32 } from '../ui/format.js';
import type { Lang } from '../ui/i18n.js';
import { Figure } from '../ui/plots/figure.js';
import { LinePlot } from '../ui/plots/line.js';
import { grid, sampleCurves, type Curves } from '../ui/sampler.js';
import { callRecords } from './activations.js';
import type { FamilyView, Shown } from './view.js';

/** The activations drawn, in series colour order. */
export const START_IDS = ['relu', 'gelu_tanh', 'silu', 'tanh', 'sigmoid'];
/** Their series colours: distinct in both themes. */
const COLORS = [0, 1, 2, 3, 5];
const RANGE: [number, number] = [-4, 4];
const POINTS = 401;
/** One sweep of the probe across the range, in ms. */
const SWEEP_MS = 7000;

const L = {
  en: {
    f: 'Activations f(x)',
    df: 'Their derivatives f′(x)',
    note: 'Every curve and every number here comes from the WebAssembly core: the values in one call per activation, the derivatives from its exact backward pass. Click a plot to move the probe; open an activation to change its parameters.',
    open: 'Open',
    at: 'at x =',
  },
  zh: {
    f: '激活函数 f(x)',
    df: '它们的导数 f′(x)',
    note: '这里的每条曲线、每个数字都来自 WebAssembly 内核:每个激活函数的值由一次调用算出,导数来自它精确的反向传播。点击图可以移动探针;打开某个激活函数可以调整它的参数。',
    open: '打开',
    at: 'x =',
  },
};

/**
 * Builds the start page's figure in `host`.
 * @param host - the box to fill
 * @param dl - the engine
 * @param lang - language of the captions
 */
export function createStart(host: HTMLElement, dl: Dlmath, lang: Lang): FamilyView {
  const t = L[lang];
  const ops = START_IDS.map((id) => dl.ops().find((o) => o.id === id)).filter((o): o is OpMeta => !!o);
  const figures = h('div', { class: 'figures', 'data-testid': 'start-figures' });
  // The values at the probe, one row per activation.
  const xCell = h('th', { scope: 'col' });
  const cells = START_IDS.map(() => [h('td'), h('td')] as const);
  const readout = h(
    'table',
    { class: 'readout-table fill', 'data-testid': 'start-readout' },
    h(
      'thead',
      {},
      h('tr', {}, xCell, h('th', { scope: 'col', text: 'f(x)' }), h('th', { scope: 'col', text: 'f′(x)' })),
    ),
    h(
      'tbody',
      {},
      ...START_IDS.map((id, i) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, h('span', { class: `swatch swatch-${COLORS[i]}` }), ` ${id}`),
          ...cells[i]!,
        ),
      ),
    ),
  );
  const links = h(
    'p',
    { class: 'muted small' },
    `${t.open}: `,
    ...ops.flatMap((o, i) => [i ? ' · ' : '', h('a', { href: `#e=${o.id}`, text: o.title[lang] || o.title.en })]),
  );
  host.append(figures, readout, h('p', { class: 'muted small', text: t.note }), links);
  const series = ops.map((o, i) => ({ label: o.id, color: COLORS[i] }));
  let probe = 1;
  let sweeping = !matchMedia('(prefers-reduced-motion: reduce)').matches;
  const pick = (x: number) => {
    sweeping = false;
    probe = x;
    mark();
  };
  const figF = new Figure(figures, t.f, lang, 'figure-start-f');
  const figDf = new Figure(figures, t.df, lang, 'figure-start-df');
  const plotF = new LinePlot(figF.body, { series, syncKey: 'dlmath-start', onPick: pick });
  const plotDf = new LinePlot(figDf.body, { series, syncKey: 'dlmath-start', onPick: pick });
  figF.attach(plotF);
  figDf.attach(plotDf);

  const setup = { params: {}, row: [], inputs: {} };
  let curves: Curves[] = [];
  let probes: Curves[] = [];
  // The engine's values at the probe: the marks on both plots and the readout.
  function mark(): void {
    probes = ops.map((o) => sampleCurves(dl, o, 'elementwise', Float32Array.of(probe), setup));
    plotF.setMarks(probes.map((p, i) => ({ x: p.x[0]!, y: p.f[0]!, color: COLORS[i] })));
    plotDf.setMarks(probes.map((p, i) => ({ x: p.x[0]!, y: p.df[0]!, color: COLORS[i] })));
    xCell.textContent = `${t.at} ${formatF32(Math.fround(probe))}`;
    probes.forEach((p, i) => {
      cells[i]![0].textContent = formatF32(p.f[0]!);
      cells[i]![1].textContent = formatF32(p.df[0]!);
    });
  }

  let frame = 0;
  let t0 = 0;
  const tick = (now: number) => {
    if (!sweeping) return;
    t0 ||= now;
    // Back and forth across the range.
    const phase = ((now - t0) % (2 * SWEEP_MS)) / SWEEP_MS;
    const u = phase < 1 ? phase : 2 - phase;
    probe = Math.round((RANGE[0] + (RANGE[1] - RANGE[0]) * u) * 100) / 100;
    mark();
    frame = requestAnimationFrame(tick);
  };

  return {
    render() {
      const xs = grid(RANGE[0], RANGE[1], POINTS);
      curves = ops.map((o) => sampleCurves(dl, o, 'elementwise', xs, setup));
      plotF.update(
        xs,
        curves.map((c) => c.f),
      );
      plotDf.update(
        xs,
        curves.map((c) => c.df),
      );
      mark();
      cancelAnimationFrame(frame);
      if (sweeping) frame = requestAnimationFrame(tick);
    },
    shown(): Shown[] {
      return ops.flatMap((o, i) => [
        ...callRecords(`${o.id} curve`, o, curves[i]!, {}, curves[i]!.f, curves[i]!.df),
        ...callRecords(`${o.id} probe`, o, probes[i]!, {}, probes[i]!.f, probes[i]!.df),
      ]);
    },
    destroy() {
      sweeping = false;
      cancelAnimationFrame(frame);
      plotF.destroy();
      plotDf.destroy();
    },
  };
}
