// The activation explorer: wires the picker, controls, formula view and
// charts to the engine and to the URL state. Every number shown comes from
// the wasm core; this class only decides what to ask and where to show it.
import type { Dlmath, OpMeta } from '../engine/index.js';
import { defaultState, parseState, stateToHash, type ExplorerState } from '../state/explorer.js';
import { LineChart } from './chart.js';
import { ExtraInputPanel, ParamPanel, parseRow, ProbeView, RangeControls, RowPanel } from './controls.js';
import { h } from './dom.js';
import { FormulaView } from './formula-view.js';
import { htmlLang, LABELS, LANG_NAMES, LANGS, saveLang, type Labels, type Lang } from './i18n.js';
import { Notice } from './notice.js';
import { OpPicker } from './op-picker.js';
import {
  EXTRA_INPUT_DEFAULT,
  extraInputs,
  grid,
  plotMode,
  sampleCurves,
  type Curves,
  type PlotMode,
  type Setup,
} from './sampler.js';

/** Points on the x grid of the plots. */
export const GRID_POINTS = 2001;

/** The op shown first when the URL names none. */
const PREFERRED_OP = 'gelu_tanh';

/** Row entries after x when the URL gives none ('half' ops need an even row). */
function defaultRow(op: OpMeta): string {
  return op.rowOut === 'half' ? '0, 1, 0' : '0, 1';
}

/** Where the explorer lives: the page's containers (see index.html). */
export interface ExplorerDom {
  notice: HTMLElement;
  langSelect: HTMLSelectElement;
  langLabel: HTMLElement;
  heading: HTMLElement;
  tagline: HTMLElement;
  picker: HTMLElement;
  params: HTMLElement;
  extraInputs: HTMLElement;
  row: HTMLElement;
  range: HTMLElement;
  probe: HTMLElement;
  opHead: HTMLElement;
  opDetails: HTMLElement;
  charts: HTMLElement;
  notPlotted: HTMLElement;
  chartF: HTMLElement;
  chartDf: HTMLElement;
  chartFTitle: HTMLElement;
  chartDfTitle: HTMLElement;
  footer: HTMLElement;
}

/** Browser services the explorer uses (injectable for tests). */
export interface ExplorerEnv {
  storage: Storage | null;
  location: Location;
  history: History;
}

/** What the page currently shows, for tests and debugging. */
export interface ExplorerSnapshot {
  op: string;
  mode: PlotMode | null;
  x: number[];
  f: number[];
  df: number[];
  probe: { x: number; f: number; df: number } | null;
}

export class Explorer {
  readonly #dl: Dlmath;
  readonly #dom: ExplorerDom;
  readonly #env: ExplorerEnv;
  readonly #ops: OpMeta[];
  readonly #notice: Notice;
  readonly #picker: OpPicker;
  readonly #formula: FormulaView;
  readonly #params: ParamPanel;
  readonly #extra: ExtraInputPanel;
  readonly #row: RowPanel;
  readonly #range: RangeControls;
  readonly #probe: ProbeView;
  readonly #chartF: LineChart;
  readonly #chartDf: LineChart;
  #state: ExplorerState;
  #lang: Lang;
  #op: OpMeta | null = null;
  #mode: PlotMode | null = null;
  #grid: Float32Array | null = null;
  #probeValues: { x: number; f: number; df: number } | null = null;
  #frame = 0;
  #hashTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param dl - the loaded engine
   * @param dom - the page's containers
   * @param env - storage, location and history
   * @param lang - initial UI language
   */
  constructor(dl: Dlmath, dom: ExplorerDom, env: ExplorerEnv, lang: Lang) {
    this.#dl = dl;
    this.#dom = dom;
    this.#env = env;
    this.#lang = lang;
    this.#ops = dl.ops().filter((o) => o.family === 'activations');
    this.#state = parseState(env.location.hash);
    this.#notice = new Notice(dom.notice);
    this.#picker = new OpPicker(dom.picker, this.#ops, (id) => this.#selectOp(id, true));
    this.#formula = new FormulaView(dom.opHead, dom.opDetails, (err) => this.#notice.show('latex', err));
    this.#params = new ParamPanel(dom.params, (name, v) => {
      this.#state.params[name] = v;
      this.#schedule();
    });
    this.#extra = new ExtraInputPanel(dom.extraInputs, (name, v) => {
      this.#state.inputs[name] = v;
      this.#schedule();
    });
    this.#row = new RowPanel(dom.row, (text) => {
      this.#state.row = text;
      this.#schedule();
    });
    this.#range = new RangeControls(dom.range, (min, max) => {
      this.#state.xmin = min;
      this.#state.xmax = max;
      this.#grid = null;
      this.#schedule();
    });
    const probeAt = (x: number) => {
      this.#state.x = x;
      this.#schedule();
    };
    this.#probe = new ProbeView(dom.probe, probeAt);
    this.#chartF = new LineChart(dom.chartF, '', '--line-f', 'dlmath-x', probeAt);
    this.#chartDf = new LineChart(dom.chartDf, '', '--line-df', 'dlmath-x', probeAt);

    dom.langSelect.replaceChildren(
      ...LANGS.map((l) => h('option', { value: l, lang: htmlLang(l), text: LANG_NAMES[l] })),
    );
    dom.langSelect.addEventListener('change', () => this.setLang(dom.langSelect.value as Lang));
    // replaceState() never fires hashchange: this is the user editing the URL.
    window.addEventListener('hashchange', () => {
      this.#state = parseState(env.location.hash);
      this.#grid = null;
      this.#selectOp(this.#state.op, false);
    });
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      this.#chartF.rebuild();
      this.#chartDf.rebuild();
    });

    this.#applyLang();
    if (this.#ops.length === 0) {
      this.#notice.show('ops', new Error(this.#t.noActivations));
      return;
    }
    this.#selectOp(this.#state.op, false);
  }

  get #t(): Labels {
    return LABELS[this.#lang];
  }

  /**
   * Switches the UI language and remembers the choice.
   * @param lang - 'en' or 'zh'
   */
  setLang(lang: Lang): void {
    if (!LANGS.includes(lang)) return;
    this.#lang = lang;
    saveLang(this.#env.storage, lang);
    this.#applyLang();
    this.#showOp();
  }

  /**
   * Shows an error that arose outside the explorer's own calls.
   * @param source - what failed
   * @param err - the error
   */
  showError(source: string, err: unknown): void {
    this.#notice.show(source, err);
  }

  /** What is on screen: the plotted curves and the probe, as numbers. */
  snapshot(): ExplorerSnapshot {
    const f = this.#chartF.data;
    const df = this.#chartDf.data;
    return {
      op: this.#op?.id ?? '',
      mode: this.#mode,
      x: f ? Array.from(f.x) : [],
      f: f ? Array.from(f.y) : [],
      df: df ? Array.from(df.y) : [],
      probe: this.#probeValues,
    };
  }

  #applyLang(): void {
    const t = this.#t;
    const dom = this.#dom;
    document.documentElement.lang = htmlLang(this.#lang);
    document.title = t.pageTitle;
    dom.langSelect.value = this.#lang;
    dom.langLabel.textContent = t.language;
    dom.heading.textContent = t.heading;
    dom.tagline.textContent = t.tagline;
    dom.notPlotted.textContent = t.notPlotted;
    dom.footer.textContent = `${t.footer}: ${this.#dl.target} · ${this.#ops.length} ${t.ops}`;
    this.#notice.update(t);
  }

  // Makes `id` the current op (falls back to the preferred / first one). A
  // user's pick starts from the op's defaults; a URL keeps its values.
  #selectOp(id: string, userChoice: boolean): void {
    const op = this.#ops.find((o) => o.id === id) ?? this.#ops.find((o) => o.id === PREFERRED_OP) ?? this.#ops[0]!;
    if (id && op.id !== id) this.#notice.show('op', new Error(`${this.#t.unknownOp} '${id}' → '${op.id}'`));
    else this.#notice.clear('op');
    if (userChoice) {
      const fresh = defaultState();
      this.#state.params = fresh.params;
      this.#state.inputs = fresh.inputs;
      this.#state.row = fresh.row;
    }
    this.#state.op = op.id;
    for (const name of extraInputs(op)) this.#state.inputs[name] ??= EXTRA_INPUT_DEFAULT;
    this.#op = op;
    this.#mode = this.#plottable(op);
    this.#showOp();
  }

  // The plot mode, or null when a trial on two points fails (general ops
  // whose inputs cannot be sliced along x).
  #plottable(op: OpMeta): PlotMode | null {
    const mode = plotMode(op);
    if (mode !== 'general') return mode;
    try {
      sampleCurves(this.#dl, op, mode, Float32Array.of(0, 1), this.#setup(op)!);
      return mode;
    } catch (err) {
      console.info(`dlmath explorer: '${op.id}' is not plotted:`, err);
      return null;
    }
  }

  // Rebuilds everything that depends on the op or the language.
  #showOp(): void {
    const op = this.#op;
    if (!op) return;
    const t = this.#t;
    const s = this.#state;
    const rowwise = this.#mode === 'rowwise';
    this.#picker.update(op.id, t, this.#lang);
    this.#formula.update(op, t, this.#lang);
    this.#params.update(op, s.params, t);
    this.#extra.update(this.#mode === 'general' ? extraInputs(op) : [], s.inputs, t);
    this.#row.update(rowwise, s.row || defaultRow(op), t);
    this.#range.update(s.xmin, s.xmax, t);
    const fLabel = rowwise ? t.rowOutput : t.plotF;
    const dfLabel = rowwise ? t.rowGrad : t.plotDf;
    this.#dom.chartFTitle.textContent = fLabel;
    this.#dom.chartDfTitle.textContent = dfLabel;
    this.#chartF.relabel(fLabel);
    this.#chartDf.relabel(dfLabel);
    this.#dom.notPlotted.hidden = this.#mode !== null;
    this.#dom.charts.hidden = this.#mode === null;
    this.#render();
  }

  #setup(op: OpMeta): Setup | null {
    const params: Record<string, number> = {};
    for (const p of op.params) params[p.name] = this.#state.params[p.name] ?? p.default;
    let row: number[] = [];
    if (plotMode(op) === 'rowwise') {
      const text = this.#state.row || defaultRow(op);
      const parsed = parseRow(text);
      if (parsed === null) {
        this.#notice.show('row', new Error(`${this.#t.rowParseError} '${text}'`));
        return null;
      }
      this.#notice.clear('row');
      row = parsed;
    }
    return { params, row, inputs: this.#state.inputs };
  }

  // Coalesces input events into one render per animation frame.
  #schedule(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#render();
    });
  }

  #render(): void {
    if (this.#frame) {
      cancelAnimationFrame(this.#frame);
      this.#frame = 0;
    }
    const op = this.#op;
    if (!op) return;
    const s = this.#state;
    this.#scheduleHash();
    this.#probeValues = null;
    const setup = this.#setup(op);
    if (setup === null || this.#mode === null) {
      this.#probe.update(s.x, null, this.#t);
      return;
    }
    if (!(s.xmin < s.xmax)) {
      this.#notice.show('range', new Error(`${this.#t.rangeError} [${s.xmin}, ${s.xmax}]`));
    } else {
      this.#notice.clear('range');
    }
    let curves: Curves | null = null;
    try {
      const probe = sampleCurves(this.#dl, op, this.#mode, Float32Array.of(s.x), setup);
      this.#probeValues = { x: probe.x[0]!, f: probe.f[0]!, df: probe.df[0]! };
      if (s.xmin < s.xmax) {
        this.#grid ??= grid(s.xmin, s.xmax, GRID_POINTS);
        curves = sampleCurves(this.#dl, op, this.#mode, this.#grid, setup);
      }
      this.#notice.clear('engine');
    } catch (err) {
      this.#notice.show('engine', err);
    }
    this.#probe.update(s.x, this.#probeValues, this.#t);
    if (curves) {
      const p = this.#probeValues;
      this.#chartF.update({ x: curves.x, y: curves.f, probe: p ? { x: p.x, y: p.f } : undefined });
      this.#chartDf.update({ x: curves.x, y: curves.df, probe: p ? { x: p.x, y: p.df } : undefined });
    }
  }

  // Browsers throttle history updates made on every frame of a drag, so the
  // URL follows the state a moment after it settles.
  #scheduleHash(): void {
    clearTimeout(this.#hashTimer);
    this.#hashTimer = setTimeout(() => this.#writeHash(), 250);
  }

  #writeHash(): void {
    const hash = stateToHash(this.#state);
    if (this.#env.location.hash.replace(/^#/, '') === hash) return;
    this.#env.history.replaceState(
      null,
      '',
      hash ? `#${hash}` : this.#env.location.pathname + this.#env.location.search,
    );
  }
}
