// The training page's shareable state: one schema (key, type, default) read
// leniently from a key/value store (the URL hash through ViewStore, or an
// element's attributes) and written back with defaults left out. The seed is
// part of it, so a link reproduces data, initialization and training order.
// Functions travel by registry id; a typed activation travels as its text.
import type { OpMeta } from '../engine/index.js';
import { paramOk } from '../state/params.js';
import type { ViewStore } from '../state/store.js';
import {
  DATA_SOURCES,
  editsFromText,
  editsToText,
  MAX_EDITS,
  REGRESSION_SETS,
  type DataSource,
  type PointEdit,
  type ToySet,
} from './data.js';
import { FEATURES, type Feature } from './features.js';

/** Per hidden layer normalizations the page offers. */
export const NORMS = ['none', 'batch_norm', 'layer_norm', 'rms_norm'] as const;
export type Norm = (typeof NORMS)[number];
/** Initializers that take a gain. */
export const GAINED_INITS: readonly string[] = ['xavier_uniform', 'xavier_normal', 'orthogonal'];
/** Weight initializers the page offers ('default' is PyTorch's nn.Linear). */
export const INITS = [
  'default',
  'xavier_uniform',
  'xavier_normal',
  'kaiming_uniform',
  'kaiming_normal',
  'orthogonal',
  'zeros',
] as const;
export type Init = (typeof INITS)[number];
/** Losses for classes (targets are class indices) and for regression. */
export const CLASS_LOSSES = ['cross_entropy', 'multi_margin', 'focal_multiclass'] as const;
export const REGRESSION_LOSSES = ['mse', 'l1', 'huber', 'smooth_l1'] as const;
/** Optimizers (registry ids). */
export const OPTIMIZERS = ['sgd', 'sgd_momentum', 'sgd_nesterov', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
/** Schedules ('' = constant lr). */
export const SCHEDULES = [
  '',
  'step_lr',
  'exponential_lr',
  'cosine_annealing_lr',
  'linear_lr',
  'warmup_cosine',
  'one_cycle_lr',
] as const;

/** Control groups a teacher can hide with `<name>_hide=1`. */
export const HIDEABLE = [
  'data',
  'noise',
  'ratio',
  'seed',
  'features',
  'network',
  'loss',
  'optimizer',
  'lr',
  'schedule',
  'batch',
  'regularization',
  'training',
  'lessons',
  'export',
  'gradients',
  'histograms',
] as const;
export type Hideable = (typeof HIDEABLE)[number];

/** A hidden layer: width, activation (registry id or `f:<formula in x>`), normalization, dropout, init and its gain. */
export interface HiddenLayer {
  units: number;
  act: string;
  norm: Norm;
  drop: number;
  init: Init;
  /** Gain of an initializer that takes one (xavier_*, orthogonal). */
  gain: number;
}

/** Everything the page shows and trains, as the URL holds it. */
export interface TrainState {
  data: DataSource;
  /** 0–50 (percent, as TF Playground). */
  noise: number;
  /** Training share of the points, 10–90 %. */
  ratio: number;
  /** Points in a toy set. */
  points: number;
  /** Classes of the multi-class toy sets. */
  classes: number;
  seed: number;
  /** Points clicked in or out, replayed on the generated (or CSV) data. */
  edits: PointEdit[];
  features: Feature[];
  layers: HiddenLayer[];
  /** '' = the data's natural loss (cross-entropy or MSE). */
  loss: string;
  optimizer: string;
  lr: number;
  /** The optimizer's other registry params (only those set away from their defaults). */
  opt: Record<string, number>;
  schedule: string;
  /** Warmup steps (0 = none) and the schedule's length. */
  warmup: number;
  scheduleSteps: number;
  batch: number;
  /** Epochs before training stops by itself (0 = no limit). */
  epochs: number;
  l1: number;
  l2: number;
  /** Gradient clipping threshold (0 = off), by total norm or by value. */
  clip: number;
  clipBy: 'norm' | 'value';
  /** Validation share held out of the training points (0–0.5). */
  valSplit: number;
  /** Early stopping patience in epochs (0 = off). */
  patience: number;
  discretize: boolean;
  showTest: boolean;
  arrows: boolean;
  /** The lesson this state came from ('' = none). */
  lesson: string;
  hide: Set<Hideable>;
}

/** Which registry entries the page may name, from dl.ops(). */
export interface Catalog {
  ops: readonly OpMeta[];
  /** Element-wise and row-wise entries an activation layer takes. */
  activations: readonly string[];
}

/**
 * The catalog from the registry.
 * @param ops - dl.ops()
 */
export function catalog(ops: readonly OpMeta[]): Catalog {
  const activations = ops
    .filter(
      (o) =>
        o.kind === 'op' &&
        (o.form === 'elementwise' || o.form === 'rowwise') &&
        o.inputs.filter((i) => !i.optional).length === 1 &&
        o.rowOut === 'same',
    )
    .map((o) => o.id);
  return { ops, activations };
}

/** The default hidden layers of a data source. */
export function defaultLayers(data: DataSource): HiddenLayer[] {
  const l = (units: number, act = 'tanh'): HiddenLayer => ({
    units,
    act,
    norm: 'none',
    drop: 0,
    init: 'default',
    gain: 1,
  });
  if (data === 'mnist') return [l(128, 'relu')];
  return [l(8), l(8)];
}

/** The state every key's default gives (data 'spiral': the page's default). */
export function defaultState(data: DataSource = 'spiral'): TrainState {
  return {
    data,
    noise: 0,
    ratio: data === 'mnist' ? 80 : 50,
    points: 500,
    classes: 3,
    seed: 1,
    edits: [],
    features: ['x1', 'x2'],
    layers: defaultLayers(data),
    loss: '',
    optimizer: 'adam',
    lr: data === 'mnist' ? 0.001 : 0.01,
    opt: {},
    schedule: '',
    warmup: 0,
    scheduleSteps: 1000,
    batch: data === 'mnist' ? 64 : 10,
    epochs: 0,
    l1: 0,
    l2: 0,
    clip: 0,
    clipBy: 'norm',
    valSplit: 0,
    patience: 0,
    discretize: false,
    showTest: false,
    arrows: false,
    lesson: '',
    hide: new Set(),
  };
}

/** Whether the state's data has classes (else it is regression). */
export function isClassification(s: Pick<TrainState, 'data'>, csvClasses = 2): boolean {
  if (s.data === 'mnist') return true;
  if (s.data === 'csv') return csvClasses > 0;
  return !REGRESSION_SETS.includes(s.data as ToySet);
}

// Per-layer lists: ';'-separated (a formula may hold commas).
function perLayer(text: string, n: number): string[] {
  const parts = text.split(';').map((p) => p.trim());
  return Array.from({ length: n }, (_, i) => parts[Math.min(i, parts.length - 1)] ?? '');
}

/** Whether an activation text is a registry id the page accepts or a formula (`f:...`). */
export function activationOk(act: string, cat: Catalog): boolean {
  if (act.startsWith('f:')) return act.length > 2 && act.length <= 200;
  return cat.activations.includes(act);
}

/**
 * Reads the state; an invalid value is reported by the store and its default kept.
 * @param store - the page's key/value store
 * @param cat - registry ids
 */
export function readState(store: ViewStore, cat: Catalog): TrainState {
  const data = store.choice('data', DATA_SOURCES, 'spiral');
  const d = defaultState(data);
  const features = store
    .text('feat', d.features.join(','), 200)
    .split(',')
    .filter((f): f is Feature => (FEATURES as readonly string[]).includes(f));
  // 'none': no hidden layer (an empty value would leave the URL).
  const none = store.text('layers', '', 200) === 'none';
  const units = none
    ? []
    : store.list(
        'layers',
        d.layers.map((l) => l.units),
        { min: 1, max: 1024, maxLen: 24 },
      );
  const whole = units.every(Number.isInteger) ? units : d.layers.map((l) => l.units);
  const n = whole.length;
  const acts = perLayer(store.text('act', d.layers[0]?.act ?? 'tanh', 1000), n);
  const norms = perLayer(store.text('norm', 'none', 400), n);
  const inits = perLayer(store.text('init', 'default', 400), n);
  const drops = store.list('drop', [0], { min: 0, max: 0.9, minLen: 1, maxLen: 24 });
  // One gain per layer; a single value is every layer's.
  const gains = store.list('gain', [1], { min: 0.01, max: 20, minLen: 1, maxLen: 24 });
  const layers = whole.map((u, i) => ({
    units: u,
    act: activationOk(acts[i]!, cat) ? acts[i]! : 'tanh',
    norm: (NORMS as readonly string[]).includes(norms[i]!) ? (norms[i] as Norm) : 'none',
    drop: drops[Math.min(i, drops.length - 1)] ?? 0,
    init: (INITS as readonly string[]).includes(inits[i]!) ? (inits[i] as Init) : 'default',
    gain: gains[Math.min(i, gains.length - 1)] ?? 1,
  }));
  const optimizer = store.choice('opt', OPTIMIZERS, 'adam');
  const opMeta = cat.ops.find((o) => o.id === optimizer);
  const opt: Record<string, number> = {};
  for (const p of opMeta?.params ?? []) {
    if (p.name === 'lr') continue;
    const v = store.num(`o.${p.name}`, p.default);
    if (v !== p.default && paramOk(p, v)) opt[p.name] = v;
  }
  const hide = new Set<Hideable>(HIDEABLE.filter((c) => store.bool(`${c}_hide`, false)));
  const classLoss = isClassification({ data }) || data === 'csv';
  return {
    data,
    noise: store.int('noise', d.noise, 0, 50),
    ratio: store.int('ratio', d.ratio, 10, 90),
    points: store.int('n', d.points, 20, 2000),
    classes: store.int('classes', d.classes, 2, 5),
    seed: store.int('seed', d.seed, 0, 2 ** 31 - 1),
    edits: editsFromText(store.text('pts', '', MAX_EDITS * 24)),
    features: features.length ? features : d.features,
    layers,
    loss: store.choice('loss', ['', ...(classLoss ? CLASS_LOSSES : []), ...REGRESSION_LOSSES], ''),
    optimizer,
    lr: store.num('lr', d.lr, 0, 10),
    opt,
    schedule: store.choice('sched', SCHEDULES, ''),
    warmup: store.int('warmup', d.warmup, 0, 100000),
    scheduleSteps: store.int('ssteps', d.scheduleSteps, 1, 1000000),
    batch: store.int('bs', d.batch, 1, 1024),
    epochs: store.int('epochs', d.epochs, 0, 1000000),
    l1: store.num('l1', 0, 0, 1),
    l2: store.num('l2', 0, 0, 1),
    clip: store.num('clip', 0, 0, 1000),
    clipBy: store.choice('clipby', ['norm', 'value'] as const, 'norm'),
    valSplit: store.num('val', 0, 0, 0.5),
    patience: store.int('patience', 0, 0, 1000),
    discretize: store.bool('disc', false),
    showTest: store.bool('test', false),
    arrows: store.bool('arrows', false),
    lesson: store.text('lesson', '', 40),
    hide,
  };
}

/**
 * Writes the state (a value equal to its default leaves the URL).
 * @param store - the page's key/value store
 * @param s - the state
 * @param cat - registry ids (the optimizer's params and their defaults)
 */
export function writeState(store: ViewStore, s: TrainState, cat: Catalog): void {
  const d = defaultState(s.data);
  store.clear();
  store.set('data', s.data, 'spiral');
  store.set('noise', s.noise, d.noise);
  store.set('ratio', s.ratio, d.ratio);
  store.set('n', s.points, d.points);
  store.set('classes', s.classes, d.classes);
  store.set('seed', s.seed, d.seed);
  store.set('pts', editsToText(s.edits.slice(0, MAX_EDITS)), '');
  store.set('feat', s.features.join(','), d.features.join(','));
  store.set(
    'layers',
    s.layers.length ? s.layers.map((l) => l.units) : 'none',
    d.layers.map((l) => l.units),
  );
  const joined = (f: (l: HiddenLayer) => string, def: string) => {
    const parts = s.layers.map(f);
    return parts.every((p) => p === def) ? undefined : parts.join(';');
  };
  store.set(
    'act',
    joined((l) => l.act, d.layers[0]!.act),
  );
  store.set(
    'norm',
    joined((l) => l.norm, 'none'),
  );
  store.set(
    'init',
    joined((l) => l.init, 'default'),
  );
  store.set('drop', s.layers.some((l) => l.drop) ? s.layers.map((l) => l.drop) : undefined);
  store.set('loss', s.loss, '');
  store.set('opt', s.optimizer, 'adam');
  store.set('lr', s.lr, d.lr);
  const meta = cat.ops.find((o) => o.id === s.optimizer);
  for (const [k, v] of Object.entries(s.opt)) {
    const p = meta?.params.find((q) => q.name === k);
    if (p) store.set(`o.${k}`, v, p.default);
  }
  store.set('sched', s.schedule, '');
  store.set('warmup', s.warmup, d.warmup);
  store.set('ssteps', s.scheduleSteps, d.scheduleSteps);
  store.set('bs', s.batch, d.batch);
  store.set('epochs', s.epochs, d.epochs);
  store.set('l1', s.l1, 0);
  store.set('l2', s.l2, 0);
  store.set('gain', s.layers.some((l) => l.gain !== 1) ? s.layers.map((l) => l.gain) : undefined);
  store.set('clip', s.clip, 0);
  store.set('clipby', s.clipBy, 'norm');
  store.set('val', s.valSplit, 0);
  store.set('patience', s.patience, 0);
  store.set('disc', s.discretize, false);
  store.set('test', s.showTest, false);
  store.set('arrows', s.arrows, false);
  store.set('lesson', s.lesson, '');
  for (const c of s.hide) store.set(`${c}_hide`, true, false);
}
