// The training playground: pick data, shape a network, train it live in a
// Web Worker and watch why it learns. The page owns no model: the Player
// (nn/player.ts) drives a fit in the worker; progress (losses, diagnostics)
// streams back at most once per frame, and one snapshot at a time (grid
// outputs, every neuron's map, evaluations, parameters, input gradients)
// is requested between training chunks. Everything drawn is the engine's.
// The page mounts into the host it is given and keeps its state in the
// key/value store it is given (the URL hash through the shell).
import type { EpochStats, RemoteModel, Snapshot, SnapshotRequest, TrainProgress } from '../engine/index.js';
import type { WorkerFitOptions } from '../engine/worker-protocol.js';
import {
  CsvError,
  csvToPlane,
  DATA_SOURCES,
  DOMAIN,
  MULTICLASS_SETS,
  parseCsv,
  REGRESSION_SETS,
  split,
  toySet,
  applyEdits,
  MAX_EDITS,
  pointEdit,
  type CsvTable,
  type PlaneData,
  type ToySet,
} from '../nn/data.js';
import { FEATURE_LABELS, FEATURES, featureMatrix, gridPoints, planeGradient, type Feature } from '../nn/features.js';
import { History, thin } from '../nn/history.js';
import { LESSONS, lessonState } from '../nn/lessons.js';
import { Player } from '../nn/player.js';
import { buildSpec, fitOptions, lossOf, type LayerMap } from '../nn/spec.js';
import {
  catalog,
  CLASS_LOSSES,
  defaultLayers,
  GAINED_INITS,
  defaultState,
  INITS,
  NORMS,
  OPTIMIZERS,
  readState,
  REGRESSION_LOSSES,
  SCHEDULES,
  writeState,
  type Catalog,
  type Hideable,
  type TrainState,
} from '../nn/state.js';
import { h } from '../ui/dom.js';
import { finiteRange } from '../ui/plots/colormap.js';
import { Figure } from '../ui/plots/figure.js';
import { LinePlot } from '../ui/plots/line.js';
import { download } from '../ui/plots/svg.js';
import { toHash, ViewStore } from '../state/store.js';
import { button, controlGroup, readout, select, slider, textField, toggle } from '../ui/widgets.js';
import { evalCall, record } from '../views/common.js';
import type { FamilyView, Shown, ViewContext } from '../views/view.js';
import { BoundaryPlot } from './boundary.js';
import { loadDigits, MnistView, type Digits } from './digits.js';
import { TRAIN_LABELS, type TrainLabels } from './labels.js';
import { NetworkDiagram, type Picked } from './network.js';
import './train.css';

/** The charts below the plane, by the suffix of their data-testid. */
type ChartKey = 'loss' | 'acc' | 'eloss' | 'eacc' | 'batch' | 'lr' | 'grad' | 'ratio' | 'hw' | 'hg' | 'ha';

/** Grid side of the plane's maps. */
export const GRID = 40;
/** MNIST: rows of the training set evaluated at each snapshot (the whole set is too slow per frame). */
const MNIST_EVAL_ROWS = 1000;
/** While training, the network diagram's least time between redraws. */
const NET_MS = 300;
/** While training, the share of the worker's time snapshots may take. */
const SNAPSHOT_SHARE = 0.03;

/** The numbers of the data in use, as the worker gets them. */
interface Prepared {
  inputs: number;
  classes: number;
  train: { x: Float32Array; y: Float32Array; rows: number };
  test: { x: Float32Array; y: Float32Array; rows: number };
}

/** What the page last drew, for the tests. */
export interface TrainDebug {
  state: TrainState;
  step: number;
  snapshot: Snapshot | null;
  /** Test accuracy and loss as printed. */
  printed: { testAccuracy: number; testLoss: number; trainAccuracy: number; trainLoss: number } | null;
  /** The worker's model (for tests that repeat its numbers). */
  model: RemoteModel | null;
  playing: boolean;
  stop: string;
  train: Prepared['train'] | null;
  /** The options the page's fits run with (a benchmark repeats them on the main thread). */
  fitOptions: WorkerFitOptions;
  test: Prepared['test'] | null;
  grid: Float32Array | null;
  /** Per-step losses and learning rates streamed so far. */
  losses: Float32Array;
  /** Completed epochs with their validation numbers, as the per-epoch charts draw them. */
  epochs: EpochStats[];
  lrs: Float32Array;
}

declare global {
  interface Window {
    /** Test hook: the training page mounted last. */
    dlmathTrain?: {
      debug(): TrainDebug;
      whenIdle(): Promise<void>;
      play(): void;
      pause(): Promise<void>;
      /** Bytes in use on the worker's wasm heap. */
      heapUsed(): Promise<number>;
    };
  }
}

/**
 * Builds the page inside `host`.
 * @param host - the page's box
 * @param ctx - engine, language, store
 */
export function createLesson(host: HTMLElement, ctx: ViewContext): FamilyView {
  return new TrainPage(host, ctx);
}

class TrainPage implements FamilyView {
  readonly #ctx: ViewContext;
  readonly #t: TrainLabels;
  readonly #cat: Catalog;
  #s: TrainState;
  readonly #player: Player;
  readonly #history = new History();
  #plane: { train: PlaneData; test: PlaneData } | null = null;
  #csv: { table: CsvTable; fx: number; fy: number; label: number } | null = null;
  #digits: Digits | null = null;
  #prep: Prepared | null = null;
  #map: LayerMap | null = null;
  #linear: number[] = [];
  #grid: Float32Array | null = null;
  #snap: Snapshot | null = null;
  #snapBusy = false;
  #snapAt = 0;
  /** The worker's time for the last three snapshots (their least paces the next: one slow outlier does not). */
  #snapMs = [0];
  #curvesAt = 0;
  #netAt = 0;
  /** What each chart last drew: the version of its numbers (a count of points, or the snapshot). */
  #drawn: Partial<Record<ChartKey, unknown>> = {};
  /** Charts out of view (or hidden): while training they wait until they scroll in. */
  readonly #offscreen = new Set<ChartKey>();
  readonly #seen: IntersectionObserver;
  #snapTimer = 0;
  #drawPending = false;
  #dirty = false;
  #frame = 0;
  #wantPlay = false;
  #stop = '';
  #step = 0;
  #epoch = 0;
  #rate = { t: 0, step: 0, sps: 0 };
  #queue: Promise<void> = Promise.resolve();
  #dead = false;
  #clickMode = 'add:0';
  #histLayer = 0;
  #printed: TrainDebug['printed'] = null;
  #shown: Shown[] = [];
  readonly #unhook: () => void;
  // DOM
  readonly #side: HTMLElement;
  readonly #main: HTMLElement;
  readonly #status: HTMLOutputElement;
  readonly #metrics: HTMLOutputElement;
  readonly #message: HTMLElement;
  readonly #playBtn: HTMLButtonElement;
  readonly #planeFig: Figure;
  readonly #boundary: BoundaryPlot;
  readonly #net: NetworkDiagram;
  readonly #editor: HTMLElement;
  readonly #digitsView: MnistView;
  readonly #plots: Record<ChartKey, LinePlot>;
  readonly #figs: Partial<Record<ChartKey, Figure>> = {};
  #histSelect: HTMLSelectElement | null = null;

  constructor(host: HTMLElement, ctx: ViewContext) {
    this.#ctx = ctx;
    this.#t = TRAIN_LABELS[ctx.lang];
    this.#cat = catalog(ctx.dl.ops());
    this.#s = readState(ctx.store, this.#cat);
    this.#player = new Player(ctx.dl.worker());
    const t = this.#t;
    host.classList.add('train-page');
    this.#side = h('div', { class: 'train-side' });
    this.#main = h('div', { class: 'train-main' });
    host.append(this.#side, this.#main);

    // Top bar: play, step, reset, status.
    const bar = h('div', { class: 'train-bar panel', 'data-hide': 'training' });
    this.#playBtn = h('button', { type: 'button', class: 'view-button primary', 'data-testid': 'train-play' });
    this.#playBtn.addEventListener('click', () => (this.#wantPlay ? void this.#pause() : this.#play()));
    const stepBtn = h('button', { type: 'button', class: 'view-button', 'data-testid': 'train-step', text: t.step });
    stepBtn.addEventListener('click', () => this.#stepOnce());
    const resetBtn = h('button', { type: 'button', class: 'view-button', 'data-testid': 'train-reset', text: t.reset });
    resetBtn.addEventListener('click', () => this.#rebuild('arch'));
    bar.append(this.#playBtn, stepBtn, resetBtn);
    this.#status = readout(bar, 'train-status');
    this.#metrics = readout(bar, 'train-metrics');
    this.#message = h('p', { class: 'train-message', 'data-testid': 'train-message', hidden: true });
    this.#main.append(bar, this.#message);

    // The plane and the network.
    const top = h('div', { class: 'train-top' });
    this.#main.append(top);
    this.#planeFig = new Figure(top, t.plane, ctx.lang, 'train-plane-fig');
    this.#boundary = new BoundaryPlot(this.#planeFig.body, DOMAIN, t.planeLabel, (x, y) => this.#click(x, y));
    this.#planeFig.attach(this.#boundary);
    const netBox = h('section', { class: 'panel train-netbox', 'data-hide': 'network' });
    top.append(netBox);
    this.#net = new NetworkDiagram(netBox, (p) => this.#editParam(p));
    this.#editor = h('div', { class: 'train-editor', hidden: true });
    netBox.append(this.#editor);
    this.#digitsView = new MnistView(this.#main, t, ctx.lang);

    // Curves.
    const charts = h('div', { class: 'train-charts' });
    this.#main.append(charts);
    // Nobody sees an off-screen chart redraw: while training, only those in view do (see #drawCurves).
    this.#seen = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const key = (e.target as HTMLElement).dataset.testid!.slice('train-'.length) as ChartKey;
        if (e.isIntersecting) this.#offscreen.delete(key);
        else this.#offscreen.add(key);
      }
    });
    const fig = (key: ChartKey, title: string, hide?: Hideable) => {
      const f = new Figure(charts, title, ctx.lang, `train-${key}`);
      if (hide) f.root.dataset.hide = hide;
      this.#figs[key] = f;
      this.#seen.observe(f.root);
      return f;
    };
    const plot = (key: ChartKey, title: string, o: ConstructorParameters<typeof LinePlot>[1], hide?: Hideable) => {
      const f = fig(key, title, hide);
      const p = new LinePlot(f.body, o);
      f.attach(p);
      return p;
    };
    const both = [
      { label: t.train, color: 0 },
      { label: t.test, color: 1, dash: [4, 3] },
    ];
    const epochs = [
      { label: t.train, color: 0 },
      { label: t.validation, color: 4, dash: [2, 2] },
    ];
    this.#plots = {
      loss: plot('loss', t.lossCurve, { series: both, xLabel: t.step_, logY: true }),
      acc: plot('acc', t.accCurve, { series: both, xLabel: t.step_, yRange: [0, 1] }),
      // Per epoch, beside the curves above: the epoch's mean training numbers and the held-out validation's.
      eloss: plot('eloss', t.epochLoss, { series: epochs, xLabel: t.epoch_, logY: true }),
      eacc: plot('eacc', t.epochAcc, { series: epochs, xLabel: t.epoch_, yRange: [0, 1] }),
      batch: plot('batch', t.batchLoss, { series: [{ label: t.loss, color: 2 }], xLabel: t.step_, logY: true }),
      lr: plot('lr', t.lrCurve, { series: [{ label: t.lr, color: 3 }], xLabel: t.step_ }),
      grad: plot('grad', t.gradNorms, { series: [], xLabel: t.step_, logY: true }, 'gradients'),
      ratio: plot('ratio', t.ratios, { series: [], xLabel: t.step_, logY: true }, 'gradients'),
      hw: plot('hw', t.histWeights, { series: [{ label: t.count, kind: 'bars', color: 0 }] }, 'histograms'),
      hg: plot('hg', t.histGrads, { series: [{ label: t.count, kind: 'bars', color: 1 }] }, 'histograms'),
      ha: plot('ha', t.histActs, { series: [{ label: t.count, kind: 'bars', color: 2 }] }, 'histograms'),
    };
    this.#controls();
    this.#unhook = this.#hook();
    this.#rebuild('data');
  }

  render(): void {
    this.#requestFrame();
  }

  shown(): Shown[] {
    return this.#shown;
  }

  destroy(): void {
    this.#dead = true;
    cancelAnimationFrame(this.#frame);
    clearTimeout(this.#snapTimer);
    this.#seen.disconnect();
    this.#unhook();
    this.#boundary.destroy();
    this.#net.destroy();
    for (const p of Object.values(this.#plots)) p.destroy();
    void this.#player.dispose();
  }

  // ---- state and rebuilding ---------------------------------------------------

  #write(): void {
    writeState(this.#ctx.store, this.#s, this.#cat);
    this.#ctx.changed();
  }

  /**
   * Applies a change. 'data': new data and a fresh model; 'arch': a fresh
   * model; 'knob': the same weights under new training settings (optimizer
   * state restarts); 'lr': the learning rate in place; 'view': a redraw.
   */
  #change(patch: Partial<TrainState>, level: 'data' | 'arch' | 'knob' | 'lr' | 'view'): void {
    Object.assign(this.#s, patch);
    this.#write();
    if (level === 'view') return this.#draw();
    if (level === 'lr') {
      this.#enqueue(async () => {
        await this.#player.model?.setLr(this.#s.lr);
      });
      return;
    }
    this.#rebuild(level);
  }

  #enqueue(job: () => Promise<void>): void {
    this.#queue = this.#queue.then(job).catch((err: unknown) => {
      if (err instanceof Error && err.message === 'superseded') return;
      if (!this.#dead) this.#ctx.report('train', err);
    });
  }

  #rebuild(level: 'data' | 'arch' | 'knob'): void {
    const resume = this.#wantPlay;
    this.#enqueue(async () => {
      await this.#player.pause();
      if (level === 'data') await this.#loadData();
      const prep = this.#prep;
      if (!prep) return;
      const { spec, map } = buildSpec(this.#s, { inputs: prep.inputs, classes: prep.classes });
      const weights = level === 'knob' && this.#player.model ? await this.#player.model.toJSON() : null;
      await this.#player.build(spec, weights);
      this.#map = map;
      this.#linear = [...map.hidden.map((l) => l.linear), map.output];
      if (level !== 'knob') {
        this.#history.reset();
        this.#snap = null;
        this.#stop = '';
        this.#step = 0;
        this.#epoch = 0;
      }
      await this.#sendData();
      this.#ctx.report('train', null);
      this.#layerPlots();
      this.#dirty = true;
      this.#requestFrame();
      if (resume && level === 'knob') this.#play();
      else if (level !== 'knob') this.#setPlaying(false);
    });
  }

  // ---- data ---------------------------------------------------------------------

  async #loadData(): Promise<void> {
    const s = this.#s;
    this.#digitsView.show(s.data === 'mnist');
    this.#planeFig.root.hidden = s.data === 'mnist';
    // Digits have no plane to map and too many inputs to draw as a diagram.
    this.#net.root.parentElement!.hidden = s.data === 'mnist' || s.hide.has('network');
    if (s.data === 'mnist') {
      if (!this.#digits) {
        this.#message.hidden = false;
        this.#message.textContent = this.#t.mnistLoading;
        this.#digits = await loadDigits();
        this.#message.hidden = true;
      }
      this.#plane = null;
      this.#prep = this.#digits.prepare(s.ratio / 100);
      return;
    }
    let full: PlaneData;
    if (s.data === 'csv' && this.#csv) {
      const { table, fx, fy, label } = this.#csv;
      full = csvToPlane(table, fx, fy, label).data;
    } else {
      const set: ToySet = s.data === 'csv' ? 'spiral' : (s.data as ToySet);
      full = toySet(set, { n: s.points, noise: s.noise / 100, classes: s.classes, seed: s.seed });
      if (s.data === 'csv') this.#ctx.report('csv', new Error(this.#t.csvNone));
    }
    const { train, test } = applyEdits(split(full, s.ratio / 100, s.seed), s.edits);
    this.#plane = { train, test };
    this.#preparePlane();
  }

  #preparePlane(): void {
    const p = this.#plane!;
    const f = this.#s.features;
    const rows = (d: PlaneData) => ({
      x: featureMatrix(d.points, f),
      y: Float32Array.from(d.labels),
      rows: d.labels.length,
    });
    this.#prep = { inputs: f.length, classes: p.train.classes, train: rows(p.train), test: rows(p.test) };
    this.#grid = featureMatrix(gridPoints(GRID, DOMAIN), f);
  }

  // Sends the training data and the snapshot sets to the worker.
  async #sendData(): Promise<void> {
    const p = this.#prep!;
    const y = (d: Prepared['train']) => ({ shape: p.classes > 0 ? [d.rows] : [d.rows, 1], data: d.y });
    const x = (d: Prepared['train']) => ({ shape: [d.rows, p.inputs], data: d.x.slice() });
    const sets = [
      { name: 'test', x: x(p.test), y: y(p.test) },
      { name: 'train', ...this.#evalRows(p, x, y) },
    ];
    if (this.#grid)
      sets.push({ name: 'grid', x: { shape: [GRID * GRID, p.inputs], data: this.#grid.slice() } } as never);
    await this.#player.setData({ x: x(p.train), y: y(p.train) }, fitOptions(this.#s), sets);
  }

  // The training rows a snapshot evaluates: all of them, or MNIST's first MNIST_EVAL_ROWS.
  #evalRows(
    p: Prepared,
    x: (d: Prepared['train']) => { shape: number[]; data: Float32Array },
    y: (d: Prepared['train']) => { shape: number[]; data: Float32Array },
  ): { x: { shape: number[]; data: Float32Array }; y: { shape: number[]; data: Float32Array } } {
    const n = Math.min(p.train.rows, this.#s.data === 'mnist' ? MNIST_EVAL_ROWS : Infinity);
    const part = { x: p.train.x.subarray(0, n * p.inputs), y: p.train.y.subarray(0, n), rows: n };
    return { x: x(part), y: y(part) };
  }

  #click(x: number, y: number): void {
    const p = this.#plane;
    if (!p || this.#s.data === 'mnist') return;
    const edit = pointEdit(x, y, this.#clickMode === 'remove' ? undefined : Number(this.#clickMode.slice(4)));
    const next = applyEdits(p, [edit]);
    if (!next.applied) return;
    this.#plane = { train: next.train, test: next.test };
    this.#s.edits = [...this.#s.edits, edit];
    // Past MAX_EDITS the link keeps the first ones only: say so.
    this.#ctx.report('points', this.#s.edits.length > MAX_EDITS ? new Error(this.#t.tooManyPoints(MAX_EDITS)) : null);
    this.#write();
    this.#preparePlane();
    const resume = this.#wantPlay;
    this.#enqueue(async () => {
      await this.#player.pause();
      await this.#sendData();
      this.#dirty = true;
      this.#requestFrame();
      if (resume) this.#play();
    });
  }

  async #csvFile(file: File): Promise<void> {
    try {
      const table = parseCsv(await file.text());
      const cols = table.columns.length;
      const pick = { table, fx: 0, fy: cols > 2 ? 1 : 0, label: cols - 1 };
      csvToPlane(table, pick.fx, pick.fy, pick.label); // throws before anything changes
      this.#csv = pick;
      this.#ctx.report('csv', null);
      this.#s.data = 'csv';
      this.#s.loss = '';
      this.#s.edits = [];
      this.#write();
      this.#controls();
      this.#rebuild('data');
    } catch (err) {
      const why = err instanceof CsvError ? err.message : err instanceof Error ? err.message : String(err);
      this.#ctx.report('csv', new Error(`${this.#t.csvBad}: ${why}`));
    }
  }

  // ---- training -------------------------------------------------------------------

  #play(): void {
    if (!this.#player.model) return;
    this.#setPlaying(true);
    this.#stop = '';
    this.#rate = { t: performance.now(), step: this.#step, sps: 0 };
    this.#history.beginFit();
    const run = this.#player.play((p) => this.#progress(p));
    void run.then(
      (hist) => {
        // Progress carried one epoch per message; the fit's end has the latest ones.
        if (hist) this.#history.addEpochs(hist.epochs);
        if (!hist || hist.stop === 'cancelled') return;
        this.#stop = hist.stop;
        this.#setPlaying(false);
        this.#dirty = true;
        this.#requestFrame();
      },
      (err: unknown) => {
        this.#setPlaying(false);
        this.#ctx.report('train', err);
      },
    );
  }

  async #pause(): Promise<void> {
    this.#setPlaying(false);
    await this.#player.pause();
    this.#dirty = true;
    this.#requestFrame();
  }

  #stepOnce(): void {
    if (this.#wantPlay || !this.#player.model) return;
    this.#history.beginFit();
    void this.#player
      .play((p) => this.#progress(p), 1)
      .then((hist) => {
        if (hist) this.#history.addEpochs(hist.epochs);
        this.#dirty = true;
        this.#requestFrame();
      });
  }

  #setPlaying(on: boolean): void {
    this.#wantPlay = on;
    this.#playBtn.textContent = on ? this.#t.pause : this.#t.play;
    this.#playBtn.classList.toggle('playing', on);
    if (!on) this.#rate.sps = 0;
  }

  #progress(p: TrainProgress): void {
    this.#history.addSteps(p.losses, p.lrs);
    this.#history.addLayers(p.stats, this.#linear);
    if (p.lastEpoch) this.#history.addEpochs([p.lastEpoch]);
    this.#step = p.step;
    this.#epoch = p.epoch;
    const now = performance.now();
    if (now - this.#rate.t >= 500) {
      this.#rate = { t: now, step: p.step, sps: ((p.step - this.#rate.step) * 1000) / (now - this.#rate.t) };
    }
    this.#dirty = true;
    this.#requestFrame();
  }

  // ---- drawing ----------------------------------------------------------------------

  #requestFrame(): void {
    if (this.#frame || this.#dead) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      if (this.#dirty) this.#snapshot();
      // A frame draws the new snapshot or the curves (nine charts, at most ten
      // times a second while training), not both: each frame's work stays short.
      if (this.#drawPending) {
        this.#drawPending = false;
        this.#draw();
        if (this.#wantPlay) return void this.#requestFrame();
      }
      if (!this.#wantPlay || performance.now() - this.#curvesAt >= 100) this.#drawCurves();
      else this.#requestFrame();
    });
  }

  // One snapshot in flight at a time. Training waits while the worker computes
  // one, so while playing they come SNAPSHOT_SHARE⁻¹ times their cost apart
  // (a few percent of the steps), at most ten and at least one a second.
  #snapshot(): void {
    const m = this.#player.model;
    if (!m || this.#snapBusy || !this.#prep) return;
    const gap = this.#wantPlay ? Math.min(1000, Math.max(100, Math.min(...this.#snapMs) / SNAPSHOT_SHARE)) : 0;
    const wait = this.#snapAt + gap - performance.now();
    if (wait > 0) {
      // One timer for the next snapshot, not one per frame that asked.
      if (!this.#snapTimer)
        this.#snapTimer = window.setTimeout(() => {
          this.#snapTimer = 0;
          this.#requestFrame();
        }, wait);
      return;
    }
    this.#dirty = false;
    this.#snapBusy = true;
    this.#snapAt = performance.now();
    void m
      .snapshot(this.#request())
      .then((snap) => {
        if (this.#dead || m !== this.#player.model) return;
        this.#snap = snap;
        this.#snapMs = [...this.#snapMs.slice(-2), snap.ms];
        this.#step = snap.step;
        const ev = snap.evaluate!;
        this.#history.addEval({
          step: snap.step,
          trainLoss: ev.train!.loss,
          trainAccuracy: ev.train!.accuracy,
          testLoss: ev.test!.loss,
          testAccuracy: ev.test!.accuracy,
        });
        this.#drawPending = true;
        this.#requestFrame();
      })
      .catch((err: unknown) => !this.#dead && this.#ctx.report('snapshot', err))
      .finally(() => {
        this.#snapBusy = false;
        if (this.#dirty) this.#requestFrame();
      });
  }

  #request(): SnapshotRequest {
    const r: SnapshotRequest = { evaluate: ['train', 'test'] };
    const layers = this.#map!.hidden.map((l) => l.output);
    const hist = this.#map!.hidden[this.#histLayer];
    const histograms = !this.#s.hide.has('histograms');
    if (this.#s.data === 'mnist') {
      // No diagram: only the histogram's weights.
      r.forward = [{ set: 'test' }];
      if (histograms) r.parameters = [`layers.${hist ? hist.linear : this.#map!.output}.weight`];
    } else {
      r.forward = [{ set: 'grid', layers }];
      r.parameters = true;
      if (this.#s.arrows) r.inputGradient = 'test';
    }
    if (hist && histograms) r.forward.push({ set: 'train', layers: [hist.output] });
    // Gradients without an update: only where they leave no trace (no batch statistics, no dropout draw).
    const pure = this.#s.layers.every((l) => l.norm !== 'batch_norm' && l.drop === 0);
    if (pure && histograms) r.gradients = 'train';
    return r;
  }

  #draw(): void {
    const snap = this.#snap;
    const p = this.#prep;
    const t = this.#t;
    this.#status.textContent = t.status(this.#step, this.#epoch, this.#wantPlay ? this.#rate.sps : 0);
    const msg = t.stopped[this.#stop] ?? '';
    if (this.#s.data !== 'mnist' || this.#digits) {
      this.#message.hidden = msg === '';
      this.#message.textContent = msg;
    }
    if (!snap || !p || !this.#map) return;
    const ev = snap.evaluate!;
    const f = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
    const pct = (v: number) => (Number.isNaN(v) ? '–' : `${(100 * v).toFixed(1)} %`);
    this.#printed = {
      trainLoss: ev.train!.loss,
      trainAccuracy: ev.train!.accuracy,
      testLoss: ev.test!.loss,
      testAccuracy: ev.test!.accuracy,
    };
    this.#metrics.textContent = t.metrics(
      f(ev.train!.loss),
      pct(ev.train!.accuracy),
      f(ev.test!.loss),
      pct(ev.test!.accuracy),
    );
    const fwd = snap.forward!;
    if (this.#s.data === 'mnist') {
      this.#digitsView.update(this.#digits!, fwd[0]!.outputs, p.train.rows);
    } else {
      const out = fwd[0]!;
      const grid = p.classes > 0 ? this.#softmax(out.outputs) : out.outputs.data;
      const test = this.#s.showTest || this.#s.arrows ? this.#plane!.test : null;
      const arrows =
        this.#s.arrows && snap.inputGradient
          ? planeGradient(this.#plane!.test.points, this.#s.features, snap.inputGradient.data)
          : null;
      this.#boundary.update({
        nx: GRID,
        grid,
        classes: p.classes,
        train: this.#plane!.train,
        test,
        arrows,
        discretize: this.#s.discretize,
      });
      // Every neuron's map is the costliest panel: while training, at most NET_MS apart.
      const now = performance.now();
      if (!this.#wantPlay || now - this.#netAt >= NET_MS) {
        this.#netAt = now;
        this.#drawNet(
          snap,
          out.layers.map((l) => l.data),
        );
      }
    }
  }

  // Class probabilities of the grid: the registry's softmax of the model's logits.
  #softmax(logits: { shape: number[]; data: Float32Array }): Float32Array {
    const inputs = { x: { shape: logits.shape, data: logits.data } };
    const r = evalCall(this.#ctx.dl, 'softmax', inputs);
    this.#shown = [record('grid class probabilities', 'softmax', inputs, {}, 'value', r.data)];
    return r.data;
  }

  #drawNet(snap: Snapshot, maps: Float32Array[]): void {
    const t = this.#t;
    const s = this.#s;
    const feat = s.features;
    const gridMaps = this.#grid!;
    const cols = [
      {
        title: t.inputs,
        units: feat.length,
        maps: gridMaps,
        weight: null,
        bias: null,
      },
      ...s.layers.map((l, i) => ({
        title: `${t.hidden(i + 1)}`,
        units: l.units,
        maps: maps[i] ?? null,
        weight: `layers.${this.#map!.hidden[i]!.linear}.weight`,
        bias: `layers.${this.#map!.hidden[i]!.linear}.bias`,
      })),
      {
        title: t.output,
        units: Math.max(1, this.#prep!.classes),
        maps: null,
        weight: `layers.${this.#map!.output}.weight`,
        bias: `layers.${this.#map!.output}.bias`,
      },
    ];
    this.#net.update({
      nx: GRID,
      columns: cols,
      parameters: snap.parameters ?? null,
      classes: this.#prep!.classes > 0,
    });
  }

  #editParam(p: Picked): void {
    const t = this.#t;
    const input = h('input', {
      type: 'number',
      step: 'any',
      'data-testid': 'train-edit-value',
      value: String(p.value),
    });
    const go = h('button', { type: 'button', class: 'view-button', 'data-testid': 'train-edit-set', text: t.edit });
    const apply = () => {
      const v = Number(input.value);
      if (!Number.isFinite(v)) return;
      this.#enqueue(async () => {
        await this.#player.model?.setParameterValue(p.name, p.index, v);
        this.#dirty = true;
        this.#requestFrame();
      });
      this.#editor.hidden = true;
    };
    go.addEventListener('click', apply);
    input.addEventListener('keydown', (e) => e.key === 'Enter' && apply());
    this.#editor.replaceChildren(h('label', { text: t.editing(p.label) }), input, go);
    this.#editor.hidden = false;
    input.focus();
  }

  // One histogram of the chosen layer: its weights, their gradients or its outputs.
  #drawHistogram(key: 'hw' | 'hg' | 'ha', snap: Snapshot): void {
    const l = this.#map!.hidden[this.#histLayer] ?? null;
    const weight = `layers.${l ? l.linear : this.#map!.output}.weight`;
    const v =
      key === 'hw'
        ? snap.parameters?.[weight]?.data
        : key === 'hg'
          ? snap.gradients?.[weight]?.data
          : l
            ? snap.forward?.at(-1)?.layers[0]?.data
            : undefined;
    if (!v) return this.#plots[key].update([], [[]]);
    const { x, y } = histogram(v, 24);
    this.#plots[key].update(x, [y]);
  }

  // Whether a chart is to be redrawn with numbers of this version, and if so, notes it as drawn.
  // While training, a chart out of view waits: it redraws once it scrolls in or training stops.
  #due(key: ChartKey, version: unknown): boolean {
    if (this.#drawn[key] === version || (this.#wantPlay && this.#offscreen.has(key))) return false;
    this.#drawn[key] = version;
    return true;
  }

  // Redraws the charts whose numbers changed since they were last drawn.
  #drawCurves(): void {
    this.#curvesAt = performance.now();
    const hist = this.#history;
    const snap = this.#snap;
    if (snap && this.#map)
      for (const key of ['hw', 'hg', 'ha'] as const) if (this.#due(key, snap)) this.#drawHistogram(key, snap);
    const ev = hist.evals;
    const cls = (this.#prep?.classes ?? 0) > 0;
    const evSteps = () => ev.map((e) => e.step);
    if (this.#due('loss', ev.length))
      this.#plots.loss.update(evSteps(), [ev.map((e) => e.trainLoss), ev.map((e) => e.testLoss)]);
    this.#figs.acc!.root.hidden = !cls;
    if (cls && this.#due('acc', ev.length))
      this.#plots.acc.update(evSteps(), [ev.map((e) => e.trainAccuracy), ev.map((e) => e.testAccuracy)]);
    const ep = hist.epochs;
    // Shown once an epoch has a validation (a validation split set).
    const val = ep.some((e) => !Number.isNaN(e.valLoss));
    this.#figs.eloss!.root.hidden = !val;
    this.#figs.eacc!.root.hidden = !val || !cls;
    const epochs = () => ep.map((e) => e.epoch);
    if (val && this.#due('eloss', ep.length))
      this.#plots.eloss.update(epochs(), [ep.map((e) => e.loss), ep.map((e) => e.valLoss)]);
    if (val && cls && this.#due('eacc', ep.length))
      this.#plots.eacc.update(epochs(), [ep.map((e) => e.accuracy), ep.map((e) => e.valAccuracy)]);
    if (this.#due('batch', hist.lastStep)) {
      const b = thin(hist.losses, hist.firstStep + 1, 800, hist.stride);
      this.#plots.batch.update(b.x, [b.y]);
    }
    if (this.#due('lr', hist.lastStep)) {
      const lr = thin(hist.lrs, hist.firstStep + 1, 800, hist.stride);
      this.#plots.lr.update(lr.x, [lr.y]);
      const last = hist.lrs.length;
      if (last) this.#plots.lr.setMarks([{ x: hist.lastStep, y: hist.lrs[last - 1]!, label: 'now' }]);
    }
    const layers = hist.layers;
    const n = this.#linear.length;
    for (const [key, field] of [
      ['grad', 'gradNorm'],
      ['ratio', 'updateRatio'],
    ] as const)
      if (this.#due(key, layers.length))
        this.#plots[key].update(
          layers.map((p) => p.step),
          Array.from({ length: n }, (_, k) => layers.map((p) => p[field][k]!)),
        );
  }

  #layerPlots(): void {
    this.#drawn = {};
    const n = this.#linear.length;
    const series = Array.from({ length: n }, (_, k) => ({
      label: k < n - 1 ? this.#t.layer(k + 1) : this.#t.output,
      color: k,
    }));
    this.#plots.grad.setOptions({ series });
    this.#plots.ratio.setOptions({ series });
    if (this.#histSelect) {
      const opts = [...this.#s.layers.map((_, i) => this.#t.hidden(i + 1)), this.#t.output];
      this.#histSelect.replaceChildren(...opts.map((o, i) => h('option', { value: String(i), text: o })));
      this.#histLayer = Math.min(this.#histLayer, opts.length - 1);
      this.#histSelect.value = String(this.#histLayer);
    }
  }

  // ---- controls -----------------------------------------------------------------------

  #controls(): void {
    const t = this.#t;
    const s = this.#s;
    const side = this.#side;
    side.replaceChildren();
    const group = (title: string, hide: Hideable) => {
      const g = controlGroup(side, title);
      g.dataset.hide = hide;
      return g;
    };
    // Data
    const data = group(t.data, 'data');
    select(
      data,
      {
        id: 'tr-data',
        label: t.dataset,
        options: DATA_SOURCES.map((d) => ({ value: d, label: t.sets[d] })),
        value: s.data,
      },
      (v) => {
        this.#s = stateFor(this.#s, v);
        this.#write();
        this.#controls();
        this.#rebuild('data');
      },
    );
    if (s.data !== 'mnist' && s.data !== 'csv') {
      const noise = h('div', { 'data-hide': 'noise' });
      slider(noise, { id: 'tr-noise', label: t.noise, min: 0, max: 50, step: 1, value: s.noise }, (v) =>
        this.#change({ noise: v }, 'data'),
      );
      data.append(noise);
      slider(data, { id: 'tr-points', label: t.points, min: 20, max: 2000, step: 10, value: s.points }, (v) =>
        this.#change({ points: v }, 'data'),
      );
      if (MULTICLASS_SETS.includes(s.data as ToySet))
        slider(data, { id: 'tr-classes', label: t.classes, min: 2, max: 5, step: 1, value: s.classes }, (v) =>
          this.#change({ classes: v }, 'data'),
        );
    }
    const ratio = h('div', { 'data-hide': 'ratio' });
    slider(ratio, { id: 'tr-ratio', label: t.ratio, min: 10, max: 90, step: 5, value: s.ratio }, (v) =>
      this.#change({ ratio: v }, 'data'),
    );
    data.append(ratio);
    const seed = h('div', { class: 'train-row', 'data-hide': 'seed' });
    textField(seed, { id: 'tr-seed', label: t.seed, value: String(s.seed) }, (v) => {
      const n = Number(v);
      if (Number.isInteger(n) && n >= 0 && n < 2 ** 31) this.#change({ seed: n }, 'data');
    });
    button(seed, { testid: 'train-regenerate', text: t.regenerate }, () => {
      this.#change({ seed: (s.seed + 1) % 2 ** 31 }, 'data');
      this.#controls();
    });
    data.append(seed);
    if (s.data !== 'mnist') {
      const k = this.#prep?.classes ?? (REGRESSION_SETS.includes(s.data as ToySet) ? 0 : s.classes);
      const modes = [
        ...(k > 0
          ? Array.from({ length: k }, (_, i) => ({ value: `add:${i}`, label: t.addClass(i) }))
          : [1, -1].map((v) => ({ value: `add:${v}`, label: t.addValue(v) }))),
        { value: 'remove', label: t.remove },
      ];
      if (!modes.some((m) => m.value === this.#clickMode)) this.#clickMode = modes[0]!.value;
      select(data, { id: 'tr-click', label: t.clickMode, options: modes, value: this.#clickMode }, (v) => {
        this.#clickMode = v;
      });
      this.#csvZone(data);
    }

    // Features
    if (s.data !== 'mnist') {
      const feats = group(t.features, 'features');
      const row = h('div', { class: 'train-features' });
      for (const f of FEATURES) {
        const box = toggle(
          row,
          { id: `tr-f-${f}`, label: FEATURE_LABELS[f], checked: s.features.includes(f) },
          (on) => {
            const next = FEATURES.filter((g) => (g === f ? on : s.features.includes(g)));
            if (!next.length) return void (box.checked = true);
            this.#change({ features: next as Feature[] }, 'data');
          },
        );
      }
      feats.append(row);
    }

    // Network
    this.#networkControls(group(t.network, 'network'));

    // Training knobs
    const train = group(t.training, 'optimizer');
    const classes = this.#prep?.classes ?? (s.data === 'mnist' ? 10 : 2);
    const losses = ['', ...(classes > 0 ? CLASS_LOSSES : []), ...REGRESSION_LOSSES].filter(
      (l) => classes > 0 || !CLASS_LOSSES.includes(l as never),
    );
    const lossBox = h('div', { 'data-hide': 'loss' });
    select(
      lossBox,
      {
        id: 'tr-loss',
        label: t.loss,
        options: losses.map((l) => ({ value: l, label: l || t.naturalLoss(lossOf(s, classes)) })),
        value: s.loss,
      },
      (v) => this.#change({ loss: v }, 'knob'),
    );
    link(lossBox, lossOf(s, classes), this.#cat, t);
    train.append(lossBox);
    select(
      train,
      {
        id: 'tr-opt',
        label: t.optimizer,
        options: OPTIMIZERS.map((o) => ({ value: o, label: o })),
        value: s.optimizer,
      },
      (v) => {
        this.#change({ optimizer: v, opt: {} }, 'knob');
        this.#controls();
      },
    );
    link(train, s.optimizer, this.#cat, t);
    const meta = this.#cat.ops.find((o) => o.id === s.optimizer);
    for (const p of meta?.params ?? []) {
      if (p.name === 'lr' || p.type === 'enum' || p.type === 'bool') continue;
      textField(train, { id: `tr-o-${p.name}`, label: p.name, value: String(s.opt[p.name] ?? p.default) }, (v) => {
        const n = Number(v);
        if (v.trim() !== '' && Number.isFinite(n)) this.#change({ opt: { ...s.opt, [p.name]: n } }, 'knob');
      });
    }
    const lr = h('div', { 'data-hide': 'lr' });
    textField(lr, { id: 'tr-lr', label: t.lr, value: String(s.lr) }, (v) => {
      const n = Number(v);
      if (v.trim() !== '' && Number.isFinite(n) && n > 0 && n <= 10) this.#change({ lr: n }, 'lr');
    });
    train.append(lr);
    const sched = h('div', { 'data-hide': 'schedule' });
    select(
      sched,
      {
        id: 'tr-sched',
        label: t.schedule,
        options: SCHEDULES.map((o) => ({ value: o, label: o || t.constant })),
        value: s.schedule,
      },
      (v) => this.#change({ schedule: v }, 'knob'),
    );
    if (s.schedule) link(sched, s.schedule, this.#cat, t);
    textField(sched, { id: 'tr-warmup', label: t.warmup, value: String(s.warmup) }, (v) => {
      const n = Number(v);
      if (Number.isInteger(n) && n >= 0) this.#change({ warmup: n }, 'knob');
    });
    textField(sched, { id: 'tr-ssteps', label: t.scheduleSteps, value: String(s.scheduleSteps) }, (v) => {
      const n = Number(v);
      if (Number.isInteger(n) && n >= 1) this.#change({ scheduleSteps: n }, 'knob');
    });
    train.append(sched);
    const batch = h('div', { 'data-hide': 'batch' });
    textField(batch, { id: 'tr-bs', label: t.batch, value: String(s.batch) }, (v) => {
      const n = Number(v);
      if (Number.isInteger(n) && n >= 1 && n <= 1024) this.#change({ batch: n }, 'knob');
    });
    textField(batch, { id: 'tr-epochs', label: t.epochs, value: String(s.epochs) }, (v) => {
      const n = Number(v);
      if (Number.isInteger(n) && n >= 0) this.#change({ epochs: n }, 'knob');
    });
    train.append(batch);

    // Regularization
    const reg = group(t.regularization, 'regularization');
    const num = (id: string, label: string, key: 'l1' | 'l2' | 'clip' | 'valSplit' | 'patience', max: number) =>
      textField(reg, { id, label, value: String(s[key]) }, (v) => {
        const n = Number(v);
        if (v.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= max) this.#change({ [key]: n }, 'knob');
      });
    num('tr-l1', t.l1, 'l1', 1);
    link(reg, 'l1_penalty', this.#cat, t);
    num('tr-l2', t.l2, 'l2', 1);
    link(reg, 'l2_penalty', this.#cat, t);
    num('tr-clip', t.clip, 'clip', 1000);
    select(
      reg,
      {
        id: 'tr-clipby',
        label: t.clipBy,
        options: [
          { value: 'norm' as const, label: t.clipNorm },
          { value: 'value' as const, label: t.clipValue },
        ],
        value: s.clipBy,
      },
      (v) => {
        this.#change({ clipBy: v }, 'knob');
        this.#controls();
      },
    );
    link(reg, s.clipBy === 'norm' ? 'clip_grad_norm' : 'clip_grad_value', this.#cat, t);
    num('tr-val', t.valSplit, 'valSplit', 0.5);
    num('tr-patience', t.patience, 'patience', 1000);

    // What the plane shows
    const view = group(t.view, 'training');
    toggle(view, { id: 'tr-disc', label: t.discretize, checked: s.discretize }, (v) =>
      this.#change({ discretize: v }, 'view'),
    );
    toggle(view, { id: 'tr-test', label: t.showTest, checked: s.showTest }, (v) =>
      this.#change({ showTest: v }, 'view'),
    );
    toggle(view, { id: 'tr-arrows', label: t.arrows, checked: s.arrows }, (v) => {
      this.#change({ arrows: v }, 'view');
      this.#dirty = true;
      this.#requestFrame();
    });
    this.#histSelect = select(view, { id: 'tr-hist', label: t.histLayer, options: [], value: '' }, (v) => {
      this.#histLayer = Number(v);
      this.#drawn.hw = this.#drawn.hg = this.#drawn.ha = null;
      this.#dirty = true;
      this.#requestFrame();
    });
    if (this.#map) this.#layerPlots();

    // Lessons
    const lessons = group(t.lessons, 'lessons');
    const lang = this.#ctx.lang;
    const current = LESSONS.find((l) => l.id === s.lesson);
    if (current)
      lessons.append(h('p', { class: 'train-lesson', 'data-testid': 'train-lesson-text', text: current.text[lang] }));
    lessons.append(
      h(
        'ul',
        { class: 'train-lessons' },
        ...LESSONS.map((l) =>
          h(
            'li',
            {},
            h('a', { href: lessonHref(l.id, this.#cat), 'data-testid': `train-lesson-${l.id}`, text: l.title[lang] }),
          ),
        ),
      ),
    );

    // Export
    const ex = group(t.export, 'export');
    button(ex, { testid: 'train-json', text: t.json }, () =>
      this.#enqueue(async () => {
        const saved = await this.#player.model?.toJSON();
        if (saved) download(new Blob([JSON.stringify(saved)], { type: 'application/json' }), 'dlmath-model.json');
      }),
    );
    button(ex, { testid: 'train-pytorch', text: t.pytorch }, () =>
      this.#enqueue(async () => {
        const code = await this.#player.model?.toPyTorch();
        if (!code) return;
        await navigator.clipboard?.writeText(code).catch(() => undefined);
        this.#ctx.report('copy', new Error(t.copied));
        download(new Blob([code], { type: 'text/x-python' }), 'dlmath_model.py');
      }),
    );
    button(ex, { testid: 'train-csv', text: t.csvHistory }, () =>
      download(new Blob([this.#history.toCsv()], { type: 'text/csv' }), 'dlmath-loss-history.csv'),
    );
    this.#applyHide();
  }

  #networkControls(net: HTMLElement): void {
    const t = this.#t;
    const s = this.#s;
    const head = h('div', { class: 'train-row' });
    head.append(h('span', { 'data-testid': 'train-depth', text: t.hiddenLayers(s.layers.length) }));
    button(head, { testid: 'train-add-layer', text: t.addLayer }, () => {
      const last = s.layers.at(-1) ?? defaultLayers('spiral')[0]!;
      this.#change({ layers: [...s.layers, { ...last }] }, 'arch');
      this.#controls();
    });
    button(head, { testid: 'train-remove-layer', text: t.removeLayer }, () => {
      this.#change({ layers: s.layers.slice(0, -1) }, 'arch');
      this.#controls();
    });
    net.append(head);
    const acts = this.#cat.activations;
    s.layers.forEach((l, i) => {
      const box = h(
        'fieldset',
        { class: 'train-layer', 'data-testid': `train-layer-${i}` },
        h('legend', { text: t.layer(i + 1) }),
      );
      const setLayer = (patch: Partial<TrainState['layers'][number]>, level: 'arch' | 'knob') => {
        const layers = s.layers.map((m, j) => (j === i ? { ...m, ...patch } : m));
        this.#change({ layers }, level);
      };
      textField(box, { id: `tr-units-${i}`, label: t.units, value: String(l.units) }, (v) => {
        const n = Number(v);
        if (Number.isInteger(n) && n >= 1 && n <= 1024) setLayer({ units: n }, 'arch');
      });
      const formula = l.act.startsWith('f:');
      select(
        box,
        {
          id: `tr-act-${i}`,
          label: t.activation,
          options: [...acts.map((a) => ({ value: a, label: a })), { value: 'f:', label: t.formulaOption }],
          value: formula ? 'f:' : l.act,
        },
        (v) => {
          setLayer({ act: v === 'f:' ? 'f:tanh(x)' : v }, 'arch');
          this.#controls();
        },
      );
      if (formula)
        textField(box, { id: `tr-formula-${i}`, label: t.formulaText, value: l.act.slice(2) }, (v) => {
          if (v.trim()) setLayer({ act: `f:${v}` }, 'arch');
        });
      else link(box, l.act, this.#cat, t);
      select(
        box,
        { id: `tr-norm-${i}`, label: t.norm, options: NORMS.map((n) => ({ value: n, label: n })), value: l.norm },
        (v) => setLayer({ norm: v }, 'arch'),
      );
      if (l.norm !== 'none') link(box, l.norm, this.#cat, t);
      textField(box, { id: `tr-drop-${i}`, label: t.dropout, value: String(l.drop) }, (v) => {
        const n = Number(v);
        if (v.trim() !== '' && n >= 0 && n <= 0.9) setLayer({ drop: n }, 'arch');
      });
      link(box, 'dropout', this.#cat, t);
      select(
        box,
        { id: `tr-init-${i}`, label: t.init, options: INITS.map((n) => ({ value: n, label: n })), value: l.init },
        (v) => {
          setLayer({ init: v }, 'arch');
          this.#controls();
        },
      );
      if (l.init !== 'default') link(box, l.init, this.#cat, t);
      if (GAINED_INITS.includes(l.init)) {
        textField(box, { id: `tr-gain-${i}`, label: t.gain, value: String(l.gain) }, (v) => {
          const n = Number(v);
          if (v.trim() !== '' && n >= 0.01 && n <= 20) setLayer({ gain: n }, 'arch');
        });
        link(box, 'calculate_gain', this.#cat, t);
      }
      net.append(box);
    });
  }

  #csvZone(parent: HTMLElement): void {
    const t = this.#t;
    const input = h('input', { type: 'file', accept: '.csv,text/csv,text/plain', 'data-testid': 'train-csv-file' });
    const zone = h(
      'label',
      { class: 'train-drop', 'data-testid': 'train-csv-drop' },
      h('span', { text: t.csvDrop }),
      input,
    );
    input.addEventListener('change', () => {
      const f = input.files?.[0];
      if (f) void this.#csvFile(f);
      input.value = '';
    });
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      const f = e.dataTransfer?.files[0];
      if (f) void this.#csvFile(f);
    });
    parent.append(zone);
    const csv = this.#csv;
    if (this.#s.data !== 'csv' || !csv) return;
    const cols = csv.table.columns.map((c, i) => ({ value: String(i), label: c }));
    const pick = (key: 'fx' | 'fy' | 'label') => (v: string) => {
      const next = { ...csv, [key]: Number(v) };
      try {
        csvToPlane(next.table, next.fx, next.fy, next.label);
        this.#csv = next;
        this.#ctx.report('csv', null);
        this.#rebuild('data');
      } catch (err) {
        this.#ctx.report('csv', err);
      }
    };
    select(parent, { id: 'tr-csv-x1', label: t.csvX1, options: cols, value: String(csv.fx) }, pick('fx'));
    select(parent, { id: 'tr-csv-x2', label: t.csvX2, options: cols, value: String(csv.fy) }, pick('fy'));
    select(parent, { id: 'tr-csv-label', label: t.csvLabel, options: cols, value: String(csv.label) }, pick('label'));
    const plane = csvToPlane(csv.table, csv.fx, csv.fy, csv.label).data;
    parent.append(
      h('p', { class: 'muted', 'data-testid': 'train-csv-info', text: t.csvLoaded(csv.table.rows, plane.classes) }),
    );
  }

  // `<group>_hide=1` hides a group of controls (for teachers).
  #applyHide(): void {
    for (const el of [this.#side, this.#main])
      el.querySelectorAll<HTMLElement>('[data-hide]').forEach((g) => {
        g.hidden = this.#s.hide.has(g.dataset.hide as Hideable);
      });
  }

  // ---- test hook ----------------------------------------------------------------------

  #hook(): () => void {
    const api = {
      debug: (): TrainDebug => ({
        state: this.#s,
        step: this.#step,
        snapshot: this.#snap,
        printed: this.#printed,
        model: this.#player.model,
        playing: this.#wantPlay,
        stop: this.#stop,
        train: this.#prep?.train ?? null,
        fitOptions: fitOptions(this.#s),
        test: this.#prep?.test ?? null,
        grid: this.#grid,
        losses: this.#history.losses.slice(),
        epochs: this.#history.epochs.slice(),
        lrs: this.#history.lrs.slice(),
      }),
      whenIdle: async () => {
        let q: Promise<void>;
        do {
          q = this.#queue;
          await q;
        } while (q !== this.#queue);
        while (this.#snapBusy || this.#dirty || this.#drawPending) await new Promise((r) => setTimeout(r, 20));
      },
      play: () => this.#play(),
      pause: () => this.#pause(),
      heapUsed: () => this.#player.heapUsed(),
    };
    window.dlmathTrain = api;
    return () => {
      if (window.dlmathTrain === api) delete window.dlmathTrain;
    };
  }
}

/** The state a new data source starts from: the knobs kept, unless digits come or go (their defaults differ). */
function stateFor(s: TrainState, data: TrainState['data']): TrainState {
  if (data !== 'mnist' && s.data !== 'mnist') return { ...s, data, loss: '', lesson: '', edits: [] };
  return { ...defaultState(data), seed: s.seed, hide: s.hide };
}

/** The link of a lesson: its state written as the page's URL. */
export function lessonHref(id: string, cat: Catalog): string {
  const l = LESSONS.find((x) => x.id === id)!;
  const values = new Map<string, string>([['e', 'train']]);
  writeState(new ViewStore(values, 'v.', () => undefined), lessonState(l), cat);
  return `#${toHash(values)}`;
}

// A link to a formula's catalogue page beside its control.
function link(parent: HTMLElement, id: string, cat: Catalog, t: TrainLabels): void {
  if (!cat.ops.some((o) => o.id === id)) return;
  parent.append(
    h('a', {
      class: 'formula-link',
      href: `#e=${id}`,
      'data-testid': `train-link-${id}`,
      text: `${t.formulaOf}: ${id}`,
    }),
  );
}

/** Counts of `bins` equal bins over the values' range. */
export function histogram(v: ArrayLike<number>, bins: number): { x: Float32Array; y: Float32Array } {
  const [lo, top] = finiteRange(v);
  const hi = top > lo ? top : lo + 1e-6;
  const w = (hi - lo) / bins;
  const x = Float32Array.from({ length: bins }, (_, i) => lo + (i + 0.5) * w);
  const y = new Float32Array(bins);
  for (let i = 0; i < v.length; ++i) {
    const a = v[i]!;
    if (Number.isFinite(a)) ++y[Math.min(bins - 1, Math.floor((a - lo) / w))]!;
  }
  return { x, y };
}
