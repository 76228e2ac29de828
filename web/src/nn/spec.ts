// From the page's state to the engine's model spec and fit options. Each
// hidden layer is linear → [normalization] → activation → [dropout]; the
// output layer is linear with one unit per class (cross-entropy on logits)
// or one unit (regression). The engine validates all of it.
import type { LayerSpec, ModelSpec } from '../engine/index.js';
import type { WorkerFitOptions } from '../engine/worker-protocol.js';
import { GAINED_INITS, type TrainState } from './state.js';

/** The layers' shape as the data decides it. */
export interface Shape {
  /** Features per example. */
  inputs: number;
  /** Classes (0: regression with one output). */
  classes: number;
}

/** Where each hidden layer's output sits in the model's layer list. */
export interface LayerMap {
  /** Per hidden layer: the index of its linear layer and of its activation's output. */
  hidden: { linear: number; output: number }[];
  /** Index of the output linear layer. */
  output: number;
}

/** The loss a state trains with: its own choice or the data's natural one. */
export function lossOf(s: TrainState, classes: number): string {
  if (s.loss) return s.loss;
  return classes > 0 ? 'cross_entropy' : 'mse';
}

/**
 * The model spec of a state.
 * @param s - the page's state
 * @param shape - inputs and classes of the data
 */
export function buildSpec(s: TrainState, shape: Shape): { spec: ModelSpec; map: LayerMap } {
  const layers: LayerSpec[] = [];
  const hidden: LayerMap['hidden'] = [];
  for (const l of s.layers) {
    const linear = layers.length;
    const init = GAINED_INITS.includes(l.init) && l.gain !== 1 ? { id: l.init, gain: l.gain } : l.init;
    layers.push({ type: 'linear', units: l.units, init } as LayerSpec);
    if (l.norm !== 'none') layers.push({ type: l.norm } as LayerSpec);
    layers.push(
      (l.act.startsWith('f:')
        ? { type: 'activation', formula: l.act.slice(2) }
        : { type: 'activation', id: l.act }) as LayerSpec,
    );
    hidden.push({ linear, output: layers.length - 1 });
    if (l.drop > 0) layers.push({ type: 'dropout', p: l.drop });
  }
  const output = layers.length;
  const classes = shape.classes;
  layers.push({ type: 'linear', units: classes > 0 ? classes : 1 });
  const spec: ModelSpec = {
    input: shape.inputs,
    layers,
    loss: { id: lossOf(s, classes) } as ModelSpec['loss'],
    optimizer: { id: s.optimizer, lr: s.lr, ...s.opt } as ModelSpec['optimizer'],
    seed: s.seed,
    max_batch: s.batch,
  };
  const schedule = scheduleSpec(s);
  if (schedule) spec.schedule = schedule;
  if (s.clip > 0) spec.clip = s.clipBy === 'norm' ? { norm: s.clip } : { value: s.clip };
  if (s.l1 > 0) spec.l1 = s.l1;
  if (s.l2 > 0) spec.l2 = s.l2;
  return { spec, map: { hidden, output } };
}

// The schedule: its id with its length (`steps`) where it has one, and the
// warmup; a warmup alone is a constant schedule with a warmup.
function scheduleSpec(s: TrainState): ModelSpec['schedule'] | undefined {
  const warmup = s.warmup > 0 ? { warmup: s.warmup } : {};
  if (!s.schedule)
    return s.warmup > 0
      ? ({ id: 'linear_lr', start_factor: 1, end_factor: 1, steps: 1, ...warmup } as ModelSpec['schedule'])
      : undefined;
  const lengthless = s.schedule === 'step_lr' || s.schedule === 'exponential_lr';
  return { id: s.schedule, ...(lengthless ? {} : { steps: s.scheduleSteps }), ...warmup } as ModelSpec['schedule'];
}

/** A key that changes exactly when the weights' shapes change (their values can then carry over). */
export function architectureKey(s: TrainState, shape: Shape): string {
  return JSON.stringify([shape, s.layers.map((l) => [l.units, l.norm, l.drop > 0, l.act.startsWith('f:')])]);
}

/** The fit options of a state. */
export function fitOptions(s: TrainState): WorkerFitOptions {
  const o: WorkerFitOptions = {
    epochs: s.epochs > 0 ? Math.min(s.epochs, 1e7) : 1e7,
    batchSize: s.batch,
    validationSplit: s.valSplit,
    // The worker host runs a frame of steps per chunk, at most logSteps (every step's loss streams):
    // a frame of the spiral's 2-8-8-3 is ~5,000 steps.
    logSteps: 8192,
  };
  if (s.patience > 0) o.earlyStopping = { patience: s.patience, restoreBest: true };
  return o;
}
