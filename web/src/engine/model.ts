// The training engine from JavaScript: `dl.model(spec)` builds a network in
// the wasm core (core/include/dlmath/model.h), which trains it entirely in
// C++. This file only marshals: the spec crosses as JSON text (the core is
// its one validator and writes every message), arrays cross once per call
// through the model's staging buffers, results come back through heap views
// read right after the call.
import { describe, DlmathError, toError } from './errors.js';
import type { InputValue, Result } from './dlmath.js';
import {
  LIMITS,
  type OpFamilies,
  type OpForms,
  type OpId,
  type OpKinds,
  type OpParams,
  type OpRequiredInputs,
} from './gen/ops.js';
import { HandleOwner, leakDetector } from './handles.js';
import { DlTensor, flatten } from './tensor.js';
import type { RawError, RawModule } from './wasm.js';

// ---- the spec's types ----------------------------------------------------------

/** Registry ids an activation layer takes: every element-wise or row-wise op, and prelu. */
export type ActivationId =
  | { [K in OpId]: OpKinds[K] extends 'op' ? (OpForms[K] extends 'elementwise' | 'rowwise' ? K : never) : never }[OpId]
  | 'prelu';
/** Losses a model trains with: the registry's losses of (input, target). */
export type LossId = {
  [K in OpId]: OpFamilies[K] extends 'losses'
    ? OpForms[K] extends 'general'
      ? [OpRequiredInputs[K]] extends ['input' | 'target']
        ? ['input' | 'target'] extends [OpRequiredInputs[K]]
          ? K
          : never
        : never
      : never
    : never;
}[OpId];
/** Registry optimizers, updated once per step. */
export type OptimizerId = { [K in OpId]: OpKinds[K] extends 'optimizer' ? K : never }[OpId];
/** Registry learning-rate schedules. */
export type ScheduleId = { [K in OpId]: OpKinds[K] extends 'schedule' ? K : never }[OpId];
/** Registry weight initializers. */
export type InitId = Exclude<{ [K in OpId]: OpKinds[K] extends 'init' ? K : never }[OpId], 'calculate_gain'>;

// An op's params as spec keys (an op without params adds none).
type ParamsOf<K extends OpId> = OpParams[K] extends { [name: string]: never } ? unknown : OpParams[K];

/** A weight initializer: a registry id, `{id, ...its params}`, PyTorch's default, zeros or N(0, std²) ('normal': std 1). */
export type InitSpec =
  | 'default'
  | 'zeros'
  | 'normal'
  | { id: 'normal'; std?: number }
  | InitId
  | { [K in InitId]: { id: K } & Omit<ParamsOf<K>, 'seed' | 'shape'> }[InitId];

/** `y = x W^T + b`, W [units, in] as PyTorch's nn.Linear. */
export interface LinearLayer {
  type: 'linear';
  /** Output width. */
  units: number;
  /** Adds a bias (default true). */
  bias?: boolean;
  /** Weight initializer (default 'default': PyTorch's nn.Linear). */
  init?: InitSpec;
  /** Bias initializer: 'default' (U(±1/√in), PyTorch's) or 'zeros'. */
  bias_init?: 'default' | 'zeros';
  /** Sequence models: share the token embedding's weight (units = vocabulary, input = its dim). */
  tie?: boolean;
}
/** A registry activation with its params as keys, e.g. `{type: 'activation', id: 'elu', alpha: 0.5}`. */
export type RegistryActivationLayer = {
  [K in Exclude<ActivationId, 'prelu'>]: { type: 'activation'; id: K } & ParamsOf<K>;
}[Exclude<ActivationId, 'prelu'>];
/** nn.PReLU: a learned slope, one or one per unit. */
export interface PreluLayer {
  type: 'activation';
  id: 'prelu';
  /** 1 or the layer's width (default 1). */
  num_parameters?: number;
  /** Starting slope (default 0.25). */
  init?: number;
}
/** An activation typed as a formula in x, e.g. `{type: 'activation', formula: 'x*sigmoid(a*x)', a: 1.5}`. */
export interface FormulaLayer {
  type: 'activation';
  formula: string;
  /** A formula layer has no registry id. */
  id?: never;
  /** The formula's parameters (fixed, not trained). */
  [param: string]: string | number | undefined;
}
/** Dropout with probability `p` (default 0.5) in training mode; identity in eval mode. */
export interface DropoutLayer {
  type: 'dropout';
  p?: number;
}
/** nn.BatchNorm1d: running statistics are buffers. */
export interface BatchNormLayer {
  type: 'batch_norm';
  momentum?: number;
  eps?: number;
  affine?: boolean;
}
/** nn.LayerNorm over the width. */
export interface LayerNormLayer {
  type: 'layer_norm';
  eps?: number;
  affine?: boolean;
}
/** RMSNorm over the width (weight only). */
export interface RmsNormLayer {
  type: 'rms_norm';
  eps?: number;
  affine?: boolean;
}
/** nn.GroupNorm; num_groups must divide the width. */
export interface GroupNormLayer {
  type: 'group_norm';
  num_groups?: number;
  eps?: number;
  affine?: boolean;
}
/** `x + f(x)` with f the given layers, which keep the width. */
export interface ResidualLayer {
  type: 'residual';
  layers: LayerSpec[];
}
/** Token ids to vectors, weight [vocabulary, dim] as nn.Embedding; the first layer of a sequence model. */
export interface EmbeddingLayer {
  type: 'embedding';
  dim: number;
  /** Default 'default': nn.Embedding's N(0, 1). */
  init?: InitSpec;
}
/** Adds a position's vector: a learned [block, C] table or the fixed sinusoidal one. */
export interface PositionalLayer {
  type: 'positional';
  kind?: 'learned' | 'sinusoidal';
  init?: InitSpec;
  /** Sinusoidal: the wavelength base (default 10000). */
  base?: number;
}
/** Multi-head self-attention over each sequence (nn.MultiheadAttention's parameters). */
export interface AttentionLayer {
  type: 'attention';
  /** Heads; they must divide the width. */
  heads: number;
  /** Hide keys after the query (default true). */
  causal?: boolean;
  bias?: boolean;
  /** Hide pad tokens' keys (default: when the input has a pad token). */
  key_padding?: boolean;
  init?: InitSpec;
}
/** SiLU(x W) ⊙ (x V), W and V [in, units]. */
export interface SwigluLayer {
  type: 'swiglu';
  units: number;
  init?: InitSpec;
}
/** One layer of a model spec. */
export type LayerSpec =
  | LinearLayer
  | RegistryActivationLayer
  | PreluLayer
  | FormulaLayer
  | DropoutLayer
  | BatchNormLayer
  | LayerNormLayer
  | RmsNormLayer
  | GroupNormLayer
  | ResidualLayer
  | EmbeddingLayer
  | PositionalLayer
  | AttentionLayer
  | SwigluLayer;

/** Per-class vectors some losses take, `outputs` numbers each. */
interface ClassVectors {
  /** cross_entropy, nll, multi_margin: class weights. */
  weight?: number[];
  /** focal_multiclass: per-class alpha. */
  alpha?: number[];
  /** bce_with_logits: positive-class weights. */
  pos_weight?: number[];
}
/** The loss: a registry id and its params, e.g. `{id: 'cross_entropy', label_smoothing: 0.1}`. */
export type LossSpec = {
  [K in LossId]: { id: K } & Omit<ParamsOf<K>, 'reduction' | keyof ClassVectors> & {
      reduction?: 'mean' | 'sum';
    } & Pick<ClassVectors, Extract<keyof ClassVectors, keyof ParamsOf<K> | 'weight' | 'alpha' | 'pos_weight'>>;
}[LossId];
/**
 * The optimizer: a registry id and its hyper-parameters, e.g. `{id: 'adamw', lr: 3e-3, weight_decay: 0.01}`;
 * `decay: 'matrices'` applies weight decay to parameters of rank >= 2 only (not biases and norms).
 */
export type OptimizerSpec = { [K in OptimizerId]: { id: K; decay?: 'all' | 'matrices' } & ParamsOf<K> }[OptimizerId];
/**
 * A learning-rate schedule evaluated at every step, with two generic keys:
 * `steps` (its length: t_max, total_steps, total_iters or t_0) and `warmup`.
 */
export type ScheduleSpec = {
  [K in ScheduleId]: { id: K; steps?: number; warmup?: number } & Omit<ParamsOf<K>, 'steps'>;
}[ScheduleId];

/** A model: its input width, layers, loss, optimizer and training knobs (see core/include/dlmath/model.h). */
export interface ModelSpec {
  /**
   * Features per example, or a sequence model's tokens: vocabulary, positions per sequence, start/pad token,
   * and `pack` (default true): a batch's passes stop after its longest real sequence (false: every position).
   */
  input: number | { tokens: number; block: number; pad?: number; pack?: boolean };
  /** Sequence models: a linear head on the last real position's hidden state; the step minimises L2 + lm_weight · L1. */
  classifier?: {
    classes: number;
    lm_weight?: number;
    bias?: boolean;
    init?: InitSpec;
    bias_init?: 'default' | 'zeros';
  };
  layers: LayerSpec[];
  loss: LossSpec;
  optimizer: OptimizerSpec;
  schedule?: ScheduleSpec;
  /** Gradient clipping by total L2 norm or by value. */
  clip?: { norm: number } | { value: number };
  /** L1 and L2 penalties on every linear weight. */
  l1?: number;
  l2?: number;
  /** Every initializer, dropout mask and shuffle derives from it. */
  seed?: number;
  /** Rows the activations are first sized for (0: the first call's). */
  max_batch?: number;
}

// ---- results -------------------------------------------------------------------

/** What one training step did (the header of the diagnostics row). */
export interface StepResult {
  /** Loss plus penalties: what was minimised. */
  loss: number;
  /** The loss alone. */
  dataLoss: number;
  /** Learning rate this step used. */
  lr: number;
  /** Total L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** ... after clipping (what the optimizer saw). */
  clippedGradNorm: number;
  /** The model's step count after this step. */
  step: number;
  /** Rows of the batch. */
  rows: number;
}

/** Per-layer diagnostics of the last step. */
export interface LayerStats {
  /** Index in {@link DlModel.layers}. */
  index: number;
  type: LayerInfo['type'];
  /** PyTorch module path, e.g. 'layers.2'. */
  path: string;
  /** L2 norm of its parameters' gradient (0 without parameters). */
  gradNorm: number;
  /** L2 norm of its parameters after the update. */
  weightNorm: number;
  /** ‖Δw‖ / ‖w‖ of this step. */
  updateRatio: number;
  /** Mean and population std of its output over the batch. */
  actMean: number;
  actStd: number;
  /** Fraction of its units dead for every row (zero output or zero local derivative). */
  deadFraction: number;
  /** L2 norm of d loss / d output. */
  outGradNorm: number;
}

/** The last step's diagnostics: the step's own numbers and every layer's. */
export interface ModelStats extends StepResult {
  layers: LayerStats[];
}

/** One layer of the built model, in execution order (a residual block before its layers). */
export interface LayerInfo {
  type:
    | 'linear'
    | 'activation'
    | 'dropout'
    | 'batch_norm'
    | 'layer_norm'
    | 'rms_norm'
    | 'group_norm'
    | 'residual'
    | 'embedding'
    | 'positional'
    | 'attention'
    | 'swiglu';
  /** PyTorch module path: 'layers.0', 'layers.2.layers.1'. */
  path: string;
  /** Its place in the spec: 'layers[2].layers[1]'. */
  spec: string;
  /** The registry op it runs ('' for linear, residual and formulas). */
  id: string;
  /** A formula activation's text ('' otherwise). */
  formula: string;
  inWidth: number;
  outWidth: number;
  /** Enclosing residual block's index, -1 for none. */
  parent: number;
  /** Attention: its heads, whether keys after the query and pad tokens' keys are hidden. */
  heads: number;
  causal: boolean;
  keyPadding: boolean;
  /** Linear: shares the token embedding's weight. */
  tied: boolean;
  /** The classifier head of a sequence model (outside the forward chain). */
  head: boolean;
}

/** A row of the parameter table (PyTorch's state_dict names). */
export interface ParameterInfo {
  /** e.g. 'layers.0.weight'. */
  name: string;
  shape: number[];
  /** 'parameter' (trained) or 'buffer' (batch-norm running statistics). */
  kind: 'parameter' | 'buffer';
  /** Index of its layer. */
  layer: number;
}

/** Loss and accuracy of one epoch (accuracy is NaN for regression, validation NaN without a split). */
export interface EpochStats {
  /** 1-based. */
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
}

/** Where a fit stands (see {@link DlModel.fitRun}). */
export interface FitProgress {
  state: 'idle' | 'running' | 'finished' | 'early_stopped' | 'diverged';
  /** The model's optimizer steps so far. */
  step: number;
  /** Epochs completed, and planned. */
  epoch: number;
  epochs: number;
  /** Batches done in the current epoch, of batchesPerEpoch. */
  batch: number;
  batchesPerEpoch: number;
  /** Steps run by the last fitRun call. */
  stepsRun: number;
  /** Loss of the last step. */
  loss: number;
  /** Early stopping: the best epoch so far and its watched loss. */
  bestEpoch: number;
  best: number;
  /** The last completed epoch, null before the first. */
  lastEpoch: EpochStats | null;
  /** State 'diverged': the core's error naming the step and what went non-finite. */
  error?: DlmathError;
}

/** Fit options (the core's keys) plus the JS-only `onProgress`. */
export interface FitOptions {
  /** Passes over the data (default 1). */
  epochs?: number;
  /** Rows per step (default 32). */
  batchSize?: number;
  /** Reshuffle every epoch, seeded (default true). */
  shuffle?: boolean;
  /** The last fraction of the examples held out and evaluated after every epoch (default 0). */
  validationSplit?: number;
  /** Stop after `patience` epochs without improvement of the validation (else train) loss. */
  earlyStopping?: { patience?: number; minDelta?: number; restoreBest?: boolean };
  /** Rows of the per-step diagnostics log kept per fitRun call (default 1000). */
  logSteps?: number;
  /**
   * Called after every chunk of `progressSteps` steps (default: one epoch);
   * return false to stop the fit ('cancelled').
   */
  onProgress?: (progress: FitProgress) => boolean | void;
  /** Steps between onProgress calls. */
  progressSteps?: number;
}

/** Why a fit ended. */
export type StopReason = 'done' | 'early_stopped' | 'nan' | 'cancelled';

/** What `fit` returns. */
export interface FitHistory {
  /** Every completed epoch. */
  epochs: EpochStats[];
  stop: StopReason;
  /** Steps this fit ran. */
  steps: number;
  /** Early stopping: the best epoch (its weights are restored when restoreBest). */
  bestEpoch: number;
  /** stop 'nan': the core's error naming the step and what went non-finite. */
  error?: DlmathError;
}

/** How a diagnostics row is laid out: `stride` floats, the `header` fields (StepResult's keys), then `layer` fields per layer. */
export interface DiagnosticsLayout {
  stride: number;
  header: readonly string[];
  layer: readonly string[];
}

/** Per-step diagnostics of the last fitRun call, oldest first: `rows` rows of `stride` floats. */
export interface DiagnosticsLog extends DiagnosticsLayout {
  rows: number;
  data: Float32Array;
}

/** A saved model: `model.toJSON()`, restored bit-exactly by `dl.loadModel`. */
export interface SavedModel {
  format: 'dlmath-model';
  version: 1;
  /** The canonical spec (every default filled in). */
  spec: ModelSpec;
  /** Trained parameters and buffers by name: shape and little-endian float32 bytes in base64. */
  parameters: Record<string, SavedTensor>;
  buffers: Record<string, SavedTensor>;
}
export interface SavedTensor {
  shape: number[];
  data: string;
}

// ---- the raw handle (wasm/model.cc) --------------------------------------------

interface Rows {
  address: number;
  rows: number;
  width: number;
}
type Raw<T> = { error: RawError } | ({ error?: undefined } & T);

/** @internal The Embind model handle; JS owns it and must delete() it. */
export interface RawModel {
  info(): {
    inputs: number;
    outputs: number;
    classTargets: boolean;
    targetWidth: number;
    hasAccuracy: boolean;
    numParameters: number;
    numBuffers: number;
    diagStride: number;
    diagHeader: string[];
    diagLayer: string[];
    fitProgress: string[];
    fitStates: FitProgress['state'][];
    layers: LayerInfo[];
    parameters: (ParameterInfo & { offset: number })[];
    isSequence: boolean;
    vocab: number;
    block: number;
    pad: number;
    classes: number;
  };
  spec(): string;
  /** The handle's address, for the module's plain exports (RawTraining). */
  self(): number;
  gradients(): number;
  diagnostics(): number;
  parameters(): number;
  buffers(): number;
  lastError(): { error: RawError };
  fitBegin(options: string): Raw<object>;
  diagnosticsLog(): Rows;
  predict(): Raw<Rows>;
  evaluate(): Raw<{ loss: number; accuracy: number }>;
  inputGradient(): Raw<Rows>;
  outputGradient(unit: number): Raw<Rows>;
  layerOutput(layer: number): Raw<Rows>;
  getParameter(name: string): Raw<Rows>;
  setParameter(name: string): Raw<object>;
  setParameterValue(name: string, index: number, value: number): Raw<object>;
  lr(): number;
  setLr(lr: number): Raw<object>;
  stepCount(): number;
  resetOptimizer(): void;
  toPyTorch(): Raw<{ source: string }>;
  evaluateSequences(): Raw<SequenceMetrics>;
  nextTokens(temperature: number, topK: number): Raw<Rows>;
  generate(temperature: number, topK: number, end: number, seed: number): Raw<Rows>;
  classify(): Raw<Rows>;
  attention(layer: number): Raw<Rows>;
  lastLosses(): { lm: number; cls: number };
  optimizerState(): Raw<Rows>;
  setOptimizerState(step: number): Raw<object>;
  delete(): void;
  isDeleted(): boolean;
}

/** @internal The module's training entry points (wasm/model.cc). */
export interface RawTraining {
  _modelCreate(spec: string): Raw<{ model: RawModel }>;
  _modelArenaAllocations(): number;
  _allocations(): number;
  /** One step on the staged batch of the model at `self` (RawModel.self): the diagnostics row's address, or 0 (lastError). */
  _dlmath_model_step(self: number): number;
  /** Room for the n floats of an array of the given rank and first dimensions in staging slot `slot`: its address, or 0 (lastError). */
  _dlmath_model_stage(self: number, slot: number, n: number, rank: number, d0: number, d1: number): number;
  /** Up to maxSteps steps of the fit: the address of its progress, doubles laid out as info().fitProgress. */
  _dlmath_model_fit_run(self: number, maxSteps: number): number;
  /**
   * Starts a fit on the staged data with these options (NaN: not given; see fitArguments): 1, or 0
   * (lastError).
   */
  _dlmath_model_fit_begin(
    self: number,
    epochs: number,
    batchSize: number,
    shuffle: number,
    validationSplit: number,
    logSteps: number,
  ): number;
  /** The fit's epochs: the address of their count, then EPOCH_FIELDS doubles per epoch (a double's address). */
  _dlmath_model_history(self: number): number;
  /** Header field `field` of every step in the diagnostics log: the address of its column (0: lastError). */
  _dlmath_model_log_column(self: number, field: number): number;
}

type Module = RawModule & RawTraining;

const X = 0;
const Y = 1;
const leaks = leakDetector<RawModel>('model');

const STOP: Record<string, StopReason> = { finished: 'done', early_stopped: 'early_stopped', diverged: 'nan' };

/** Numbers per epoch in {@link DlModel.epochRows}: epoch, loss, accuracy, valLoss, valAccuracy. */
const EPOCH_FIELDS = 5;

/**
 * @internal The epochs of {@link DlModel.epochRows}' rows (the worker host sends them so).
 * @param rows - EPOCH_FIELDS numbers per epoch
 */
export function decodeEpochs(rows: Float64Array): EpochStats[] {
  const out: EpochStats[] = [];
  for (let i = 0; i < rows.length; i += EPOCH_FIELDS) out.push(epochAt(rows, i));
  return out;
}

// The epoch whose EPOCH_FIELDS numbers start at rows[i].
function epochAt(rows: Float64Array, i: number): EpochStats {
  return {
    epoch: rows[i]!,
    loss: rows[i + 1]!,
    accuracy: rows[i + 2]!,
    valLoss: rows[i + 3]!,
    valAccuracy: rows[i + 4]!,
  };
}

/**
 * @internal How a fit ended, its epochs aside (see {@link DlModel.fitEnd}).
 * @param last - the last progress fitRun returned
 * @param steps - steps the fit ran
 */
export function fitStop(last: FitProgress, steps: number): Omit<FitHistory, 'epochs'> {
  const h: Omit<FitHistory, 'epochs'> = { stop: STOP[last.state] ?? 'cancelled', steps, bestEpoch: last.bestEpoch };
  if (last.error) h.error = last.error;
  return h;
}

// The fit options' keys that fitBegin's plain export takes, in its order.
const FIT_ARGUMENTS = ['epochs', 'batchSize', 'shuffle', 'validationSplit', 'logSteps'] as const;

// The fit options as the plain export's numbers (NaN for a key not given),
// or null for the JSON text's path when any key is another one (earlyStopping,
// a misspelling) or of another type: there the core parses them and writes
// the messages. Keys and values as JSON.stringify takes them: own enumerable
// keys, undefined as absent; integers as the core's parser accepts them.
function fitArguments(options: Record<string, unknown>): number[] | null {
  const a = [NaN, NaN, NaN, NaN, NaN];
  for (const key of Object.keys(options)) {
    const v = options[key];
    if (v === undefined) continue;
    const i = FIT_ARGUMENTS.indexOf(key as (typeof FIT_ARGUMENTS)[number]);
    if (i < 0) return null;
    if (key === 'shuffle') {
      if (typeof v !== 'boolean') return null;
      a[i] = v ? 1 : 0;
    } else {
      const integer = key !== 'validationSplit';
      if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !(Number.isInteger(v) && Math.abs(v) <= 9e15)))
        return null;
      a[i] = v;
    }
  }
  return a;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function check<T>(r: Raw<T>): T {
  if (r.error) throw toError(r.error);
  return r as T;
}

/** What a model is, as DlModel and the worker's RemoteModel both show it. */
export interface ModelDescription {
  /** Features per example. */
  readonly inputs: number;
  /** Width of the last layer. */
  readonly outputs: number;
  /** True when targets are class indices (one per row), false when `outputs` floats per row. */
  readonly classTargets: boolean;
  /** True when the loss defines an accuracy. */
  readonly hasAccuracy: boolean;
  /** Trainable floats. */
  readonly numParameters: number;
  /** Every layer, in execution order. */
  readonly layers: readonly LayerInfo[];
  /** Every parameter and buffer (PyTorch state_dict names and shapes). */
  readonly parameterTable: readonly ParameterInfo[];
  /** How a diagnostics row is laid out: `header` fields, then `layer` fields per layer. */
  readonly diagnosticsLayout: DiagnosticsLayout;
  /** A sequence model's vocabulary, positions per sequence, start/pad token (-1: none) and classifier classes (0: none); null otherwise. */
  readonly sequence: SequenceInfo | null;
}

/** What a sequence model reads and predicts (see {@link ModelDescription.sequence}). */
export interface SequenceInfo {
  vocab: number;
  block: number;
  pad: number;
  classes: number;
}

/** A sequence model's metrics on held-out sequences, eval mode. */
export interface SequenceMetrics {
  /** Mean token loss over the scored positions (nats per token) and next-token accuracy. */
  lmLoss: number;
  lmAccuracy: number;
  /** Positions scored (targets other than ignore_index). */
  lmTokens: number;
  /** The registry's perplexity of those positions: exp(lmLoss). */
  perplexity: number;
  /** The classifier's loss and accuracy (NaN without one). */
  clsLoss: number;
  clsAccuracy: number;
  sequences: number;
}

/** Sampling for {@link DlModel.generate} and {@link DlModel.nextTokens}. */
export interface SamplingOptions {
  /** Divides the logits before the softmax (default 1; > 0). */
  temperature?: number;
  /** Keeps the k most likely tokens (default 0: all). */
  topK?: number;
}

// The description's fields, set by the constructor (Object.assign).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface DlModel extends ModelDescription {}

/**
 * A network trained in the wasm core: forward, loss, backward, clipping, the
 * optimizer and the schedule all run in C++, and a step allocates nothing.
 * Get one with `dl.model(spec)` or `dl.loadModel(saved)`; release it with
 * `dispose()` (or `using`).
 */
export class DlModel extends HandleOwner<RawModel> {
  readonly #mod: Module;
  readonly #offsets: ReadonlyMap<string, number>;
  // What step() last staged per slot (see #stage).
  // `flat`: n when the slot holds a flat array (rank 1, d0 = n), else -1.
  #staged: [Staged | null, Staged | null] = [null, null];
  // Where each progress field sits in fitRun's numbers, and the states by number.
  readonly #progressFields: ProgressFields;
  readonly #fitStates: readonly FitProgress['state'][];
  // The handle's address (RawModel.self), valid while the handle is held.
  readonly #self: number;
  // The module's HEAPF32, kept: see #heap.
  #f32: Float32Array;
  #f64: Float64Array;
  // The module's step export, kept: reading it from the module (a
  // dictionary) costs a megamorphic property load per step. Emscripten's
  // glue first exports a wrapper that replaces itself by the wasm function
  // at its first call, so the first step takes it again after the call.
  #stepExport: (self: number) => number = (self) => {
    const at = this.#mod._dlmath_model_step(self);
    this.#stepExport = this.#mod._dlmath_model_step;
    return at;
  };

  /** @internal Use `dl.model(spec)`. */
  constructor(mod: Module, raw: RawModel) {
    super(raw, leaks);
    this.#mod = mod;
    const info = raw.info();
    const description: ModelDescription = {
      inputs: info.inputs,
      outputs: info.outputs,
      classTargets: info.classTargets,
      hasAccuracy: info.hasAccuracy,
      numParameters: info.numParameters,
      layers: Object.freeze(info.layers.map((l) => Object.freeze(l))),
      parameterTable: Object.freeze(
        info.parameters.map(({ offset: _, ...p }) =>
          Object.freeze({ ...p, shape: Object.freeze(p.shape) as number[] }),
        ),
      ),
      diagnosticsLayout: Object.freeze({
        stride: info.diagStride,
        header: Object.freeze(info.diagHeader),
        layer: Object.freeze(info.diagLayer),
      }),
      sequence: info.isSequence
        ? Object.freeze({ vocab: info.vocab, block: info.block, pad: info.pad, classes: info.classes })
        : null,
    };
    Object.assign(this, description);
    this.#offsets = new Map(info.parameters.map((p) => [p.name, p.offset]));
    checkStepFields(info.diagHeader);
    this.#progressFields = fieldsAt(info.fitProgress, PROGRESS_FIELDS);
    this.#fitStates = info.fitStates;
    this.#self = raw.self();
    this.#f32 = mod.HEAPF32;
    this.#f64 = new Float64Array(this.#f32.buffer);
  }

  /**
   * One training step on a batch: forward, loss, backward, clipping and one
   * optimizer update, in training mode.
   * @param x - inputs [rows, inputs] (any input form of `dl.eval`; flat arrays are read row by row)
   * @param y - targets: class indices [rows] when {@link DlModel.classTargets}, else [rows, outputs]
   * @returns the step's loss, learning rate and gradient norms
   */
  step(x: InputValue, y: InputValue): StepResult {
    // Float32Arrays of the sizes staged last are copied in place (what
    // #stage would do, without its checks of other input forms).
    const sx = this.#staged[X],
      sy = this.#staged[Y];
    if (
      x instanceof Float32Array &&
      y instanceof Float32Array &&
      sx !== null &&
      sy !== null &&
      sx.flat === x.length &&
      sy.flat === y.length
    ) {
      this.#handle();
      const heap = this.#heap();
      setFloats.call(heap, x, sx.at >>> 2);
      setFloats.call(heap, y, sy.at >>> 2);
    } else {
      this.#stage(X, x, 'model.step', 'x', true);
      this.#stage(Y, y, 'model.step', 'y', true);
    }
    // The plain export, not an Embind method: see wasm/model.cc.
    const at = this.#stepExport(this.#self);
    if (!at) throw toError(this.#handle().lastError().error);
    return stepResult(this.#heap(), at >>> 2);
  }

  /**
   * Gradients of the loss (plus penalties) on a batch without an update, per
   * parameter (unclipped); running statistics update as in a training forward.
   * @param x - inputs, as for {@link DlModel.step}
   * @param y - targets, as for {@link DlModel.step}
   * @returns `{name: {shape, data}}` for every trainable parameter
   */
  gradients(x: InputValue, y: InputValue): Record<string, Result> {
    const raw = this.#handle();
    this.#stage(X, x, 'model.gradients', 'x', true);
    this.#stage(Y, y, 'model.gradients', 'y', true);
    const at = raw.gradients();
    if (!at) throw toError(raw.lastError().error);
    return this.#arena(at, 'parameter');
  }

  /**
   * Trains on a dataset, the whole loop in wasm: shuffled batches, epochs,
   * validation, early stopping and the NaN guard.
   * @param x - every example's inputs [n, inputs]
   * @param y - every example's targets
   * @param options - epochs, batchSize, shuffle, validationSplit, earlyStopping, ... and onProgress
   * @returns per-epoch losses and accuracies and why the fit stopped
   */
  fit(x: InputValue, y: InputValue, options: FitOptions = {}): FitHistory {
    if (!isPlainObject(options as unknown))
      throw new DlmathError('bad_type', `model.fit: options must be an object, got ${describe(options)}`, 'model');
    const { onProgress, progressSteps, ...core } = options;
    if (onProgress !== undefined && typeof onProgress !== 'function')
      throw new DlmathError(
        'bad_type',
        `model.fit: onProgress must be a function, got ${describe(onProgress)}`,
        'model',
        'onProgress',
      );
    let p = this.fitBegin(x, y, core);
    const chunk = progressSteps ?? (onProgress ? p.batchesPerEpoch : Infinity);
    let steps = 0;
    let cancelled = false;
    while (p.state === 'running' && !cancelled) {
      p = this.fitRun(chunk);
      steps += p.stepsRun;
      if (onProgress && onProgress(p) === false) cancelled = true;
    }
    return this.fitEnd(p, steps);
  }

  /**
   * Starts a resumable fit (what `fit` and the worker host run in chunks):
   * copies the data into the model; then call {@link DlModel.fitRun} until
   * its state is not 'running', and {@link DlModel.fitEnd}.
   * @param x - every example's inputs
   * @param y - every example's targets
   * @param options - the core's fit options (no callbacks)
   * @returns the progress before any step (batchesPerEpoch is set)
   */
  fitBegin(x: InputValue, y: InputValue, options: Omit<FitOptions, 'onProgress' | 'progressSteps'> = {}): FitProgress {
    const raw = this.#handle();
    if (!isPlainObject(options))
      throw new DlmathError('bad_type', `model.fit: options must be an object, got ${describe(options)}`, 'model');
    this.#stage(X, x, 'model.fit', 'x');
    this.#stage(Y, y, 'model.fit', 'y');
    const a = fitArguments(options);
    if (a === null) check(raw.fitBegin(JSON.stringify(options)));
    else if (!this.#mod._dlmath_model_fit_begin(this.#self, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!))
      throw toError(raw.lastError().error);
    return this.fitRun(0);
  }

  /**
   * Runs up to `maxSteps` steps of the fit begun by {@link DlModel.fitBegin}
   * (and the end-of-epoch evaluations they reach).
   * @param maxSteps - at most this many steps (Infinity: to the end)
   * @returns where the fit stands; state 'diverged' with `error` when a
   *   loss, gradient or update went non-finite (that update is not applied)
   */
  fitRun(maxSteps: number): FitProgress {
    const raw = this.#handle();
    if (typeof maxSteps !== 'number' || Number.isNaN(maxSteps))
      throw new DlmathError('bad_type', `model.fitRun: maxSteps must be a number, got ${describe(maxSteps)}`, 'model');
    const at = this.#mod._dlmath_model_fit_run(this.#self, Math.min(Math.max(maxSteps, 0), Number.MAX_SAFE_INTEGER));
    const k = this.#progressFields;
    const r = this.#heap64();
    const i = at >>> 3;
    const p: FitProgress = {
      state: this.#fitStates[r[i + k.state]!]!,
      step: r[i + k.step]!,
      epoch: r[i + k.epoch]!,
      epochs: r[i + k.epochs]!,
      batch: r[i + k.batch]!,
      batchesPerEpoch: r[i + k.batchesPerEpoch]!,
      stepsRun: r[i + k.stepsRun]!,
      loss: r[i + k.loss]!,
      bestEpoch: r[i + k.bestEpoch]!,
      best: r[i + k.best]!,
      lastEpoch: r[i + k.hasEpoch] ? epochAt(r, i + k.lastEpoch) : null,
    };
    if (!r[i + k.failed]) return p;
    const error = raw.lastError().error;
    if (p.state !== 'diverged') throw toError(error);
    return { ...p, error: toError(error) };
  }

  /**
   * The history of the current (or last) fit; stop 'cancelled' when it was left running.
   * @param last - the last progress fitRun returned
   * @param steps - steps the fit ran
   */
  fitEnd(last: FitProgress, steps: number): FitHistory {
    return { epochs: decodeEpochs(this.epochRows()), ...fitStop(last, steps) };
  }

  /**
   * @internal The current (or last) fit's epochs as rows of numbers (epoch, loss, accuracy, valLoss,
   * valAccuracy), copied: what the worker host sends instead of an object per epoch.
   * @param last - only the last this many epochs
   */
  epochRows(last = Infinity): Float64Array {
    this.#handle();
    // The plain export: the count of epochs, then their rows (wasm/model.cc).
    const at = this.#mod._dlmath_model_history(this.#self) >>> 3;
    const heap = this.#heap64();
    const start = at + 1,
      length = heap[at]! * EPOCH_FIELDS;
    return heap.slice(start + Math.max(0, length - last * EPOCH_FIELDS), start + length);
  }

  /**
   * The model's outputs in eval mode (dropout off, batch norm on running statistics).
   * @param x - inputs [rows, inputs]
   * @returns [rows, outputs]
   */
  predict(x: InputValue): Result {
    const raw = this.#handle();
    this.#stage(X, x, 'model.predict', 'x');
    return this.#take(check(raw.predict()));
  }

  /**
   * Loss (without penalties) and accuracy in eval mode.
   * @param x - inputs
   * @param y - targets
   * @returns accuracy is NaN when the loss has none (regression)
   */
  evaluate(x: InputValue, y: InputValue): { loss: number; accuracy: number } {
    const raw = this.#handle();
    this.#stage(X, x, 'model.evaluate', 'x');
    this.#stage(Y, y, 'model.evaluate', 'y');
    const { loss, accuracy } = check(raw.evaluate());
    return { loss, accuracy };
  }

  /**
   * The last step's diagnostics: loss, learning rate, gradient norms, and per
   * layer gradient and weight norms, update ratio, activation statistics and
   * dead units.
   */
  stats(): ModelStats {
    const raw = this.#handle();
    return decodeStats(this.#heap(), raw.diagnostics() >>> 2, this.diagnosticsLayout, this.layers);
  }

  /** The last step's diagnostics row, copied (`diagnosticsLayout.stride` floats; see {@link decodeStats}). */
  diagnostics(): Float32Array {
    const at = this.#handle().diagnostics() >>> 2;
    return this.#heap().slice(at, at + this.diagnosticsLayout.stride);
  }

  /** Every step's diagnostics row of the last fitRun call (at most `logSteps` rows), copied. */
  diagnosticsLog(): DiagnosticsLog {
    const { address, rows, width } = this.#handle().diagnosticsLog();
    const start = address >>> 2;
    return { rows, ...this.diagnosticsLayout, data: this.#heap().slice(start, start + rows * width) };
  }

  /**
   * One header field of every row of the diagnostics log, e.g. the loss of every step of the last fitRun.
   * @param field - a StepResult key
   */
  diagnosticsColumn(field: keyof StepResult): Float32Array {
    return this.diagnosticsColumns([field]);
  }

  /**
   * Several header fields of every row of the diagnostics log, read in one pass over the rows (the
   * worker host streams every step's loss and lr so).
   * @param fields - StepResult keys
   * @param into - given the floats needed, the array to fill from its start (at least that long: a
   *   reused buffer, as the worker host's); default a new Float32Array
   * @returns field-major: the k-th field's column is [k * rows, (k + 1) * rows); a view of `into`'s
   *   first floats when it was longer
   */
  diagnosticsColumns(
    fields: readonly (keyof StepResult)[],
    into: (floats: number) => Float32Array = (n) => new Float32Array(n),
  ): Float32Array {
    const { header } = this.diagnosticsLayout;
    const ks = fields.map((field) => {
      const k = header.indexOf(field);
      if (k < 0)
        throw new DlmathError(
          'bad_value',
          `model.diagnosticsColumn: no field '${String(field)}'; the fields are ${header.join(', ')}`,
          'model',
          'field',
        );
      return k;
    });
    const { rows } = this.#handle().diagnosticsLog();
    const n = rows * ks.length;
    const given = into(n);
    if (!(given instanceof Float32Array) || given.length < n)
      throw new DlmathError(
        'bad_value',
        `model.diagnosticsColumns: into(${n}) must return a Float32Array of at least ${n} floats, got ${describe(given)}`,
        'model',
        'into',
      );
    const out = given.length === n ? given : given.subarray(0, n);
    // Columns the core keeps as it logs: copied, not gathered from the log's rows.
    for (let j = 0; j < ks.length && rows > 0; ++j) {
      const at = this.#mod._dlmath_model_log_column(this.#self, ks[j]!) >>> 2;
      if (!at) throw toError(this.#handle().lastError().error);
      out.set(this.#heap().subarray(at, at + rows), j * rows);
    }
    return out;
  }

  /**
   * A layer's output for the last forward's batch (step, predict, ...), e.g. every neuron's map.
   * @param layer - index in {@link DlModel.layers}
   * @returns [rows, width]
   */
  layerOutput(layer: number): Result {
    const raw = this.#handle();
    if (!Number.isInteger(layer))
      throw new DlmathError('bad_type', `model.layerOutput: layer must be an integer, got ${describe(layer)}`, 'model');
    return this.#take(check(raw.layerOutput(layer)));
  }

  /**
   * The gradient of the loss (summed over rows) with respect to each input row, in eval mode.
   * @param x - inputs
   * @param y - targets
   * @returns [rows, inputs]
   */
  inputGradient(x: InputValue, y: InputValue): Result {
    const raw = this.#handle();
    this.#stage(X, x, 'model.inputGradient', 'x');
    this.#stage(Y, y, 'model.inputGradient', 'y');
    return this.#take(check(raw.inputGradient()));
  }

  /**
   * d output[:, unit] / d x row by row, in eval mode.
   * @param x - inputs
   * @param unit - output unit
   * @returns [rows, inputs]
   */
  outputGradient(x: InputValue, unit: number): Result {
    const raw = this.#handle();
    if (typeof unit !== 'number')
      throw new DlmathError('bad_type', `model.outputGradient: unit must be a number, got ${describe(unit)}`, 'model');
    this.#stage(X, x, 'model.outputGradient', 'x');
    return this.#take(check(raw.outputGradient(unit)));
  }

  /**
   * A parameter or buffer, copied.
   * @param name - e.g. 'layers.0.weight'
   */
  getParameter(name: string): Result {
    const raw = this.#handle();
    const { address, width } = check(raw.getParameter(this.#name(name)));
    const start = address >>> 2;
    const entry = this.parameterTable.find((p) => p.name === name)!;
    return { shape: entry.shape.slice(), data: this.#heap().slice(start, start + width) };
  }

  /**
   * Overwrites a parameter or buffer.
   * @param name - e.g. 'layers.0.weight'
   * @param values - all its values, row-major
   */
  setParameter(name: string, values: InputValue): void {
    const raw = this.#handle();
    this.#stage(X, values, 'model.setParameter', name);
    check(raw.setParameter(this.#name(name)));
  }

  /**
   * Sets one value of a parameter (e.g. a weight clicked in a diagram).
   * @param name - e.g. 'layers.0.weight'
   * @param index - row-major index
   * @param value - the new value
   */
  setParameterValue(name: string, index: number, value: number): void {
    const raw = this.#handle();
    if (typeof index !== 'number' || typeof value !== 'number')
      throw new DlmathError(
        'bad_type',
        `model.setParameterValue: index and value must be numbers, got ${describe(index)} and ${describe(value)}`,
        'model',
      );
    check(raw.setParameterValue(this.#name(name), index, value));
  }

  /** Parameters and buffers by name, copied (PyTorch's state_dict()). */
  stateDict(): Record<string, Result> {
    return {
      ...this.#arena(this.#handle().parameters(), 'parameter'),
      ...this.#arena(this.#handle().buffers(), 'buffer'),
    };
  }

  /** The optimizer's base learning rate. */
  get lr(): number {
    return this.#handle().lr();
  }
  set lr(lr: number) {
    this.setLr(lr);
  }

  /**
   * Changes the base learning rate from the next step on (state and step count stay).
   * @param lr - a finite number >= 0
   */
  setLr(lr: number): void {
    if (typeof lr !== 'number')
      throw new DlmathError('bad_type', `model.setLr: lr must be a number, got ${describe(lr)}`, 'model', 'lr');
    check(this.#handle().setLr(lr));
  }

  /** Optimizer steps taken so far. */
  get stepCount(): number {
    return this.#handle().stepCount();
  }

  /** Zeroes the optimizer's state (moments) and the step count. */
  resetOptimizer(): void {
    this.#handle().resetOptimizer();
  }

  /** The canonical spec: every default filled in, the current learning rate. */
  spec(): ModelSpec {
    return JSON.parse(this.#handle().spec()) as ModelSpec;
  }

  /**
   * The model as a plain JSON-able object: canonical spec, parameters and
   * buffers (base64 float32). `dl.loadModel` restores it bit-exactly; the
   * optimizer's state and step count are not saved.
   */
  toJSON(): SavedModel {
    const saved: SavedModel = { format: 'dlmath-model', version: 1, spec: this.spec(), parameters: {}, buffers: {} };
    for (const [name, t] of Object.entries(this.stateDict())) {
      const kind = this.parameterTable.find((p) => p.name === name)!.kind;
      (kind === 'parameter' ? saved.parameters : saved.buffers)[name] = { shape: t.shape, data: toBase64(t.data) };
    }
    return saved;
  }

  /**
   * Python source for PyTorch (1.13+) defining a module-level `model`: an
   * nn.Module of the same architecture with these weights, in eval() mode,
   * that reproduces `predict` within 1e-5.
   */
  toPyTorch(): string {
    return check(this.#handle().toPyTorch()).source;
  }

  // ---- sequence models (input {tokens, block}) ---------------------------------

  /**
   * Token loss, next-token accuracy, perplexity (and the classifier's loss and accuracy) in eval mode.
   * @param x - sequences [rows, block] of token ids
   * @param y - next-token targets [rows, block] (then the class, with a classifier)
   */
  evaluateSequences(x: InputValue, y: InputValue): SequenceMetrics {
    const raw = this.#handle();
    this.#stage(X, x, 'model.evaluateSequences', 'x');
    this.#stage(Y, y, 'model.evaluateSequences', 'y');
    return { ...check(raw.evaluateSequences()) };
  }

  /**
   * Probabilities of the next token after each sequence's last real position.
   * @param x - sequences [rows, block] (padded with the pad token)
   * @param options - temperature and top-k
   * @returns [rows, vocab]
   */
  nextTokens(x: InputValue, options: SamplingOptions = {}): Result {
    const raw = this.#handle();
    const { temperature = 1, topK = 0 } = sampling(options, 'model.nextTokens');
    this.#stage(X, x, 'model.nextTokens', 'x');
    return this.#take(check(raw.nextTokens(temperature, topK)));
  }

  /**
   * Grows each prefix by sampling until `end` is drawn or the block is full (reproducible by seed).
   * @param prefixes - sequences [rows, block]: the start token, a prefix, then padding
   * @param options - temperature, topK, the end token (-1: none) and the seed
   * @returns the sequences [rows, block]
   */
  generate(prefixes: InputValue, options: SamplingOptions & { end?: number; seed?: number } = {}): Result {
    const raw = this.#handle();
    const { temperature = 1, topK = 0 } = sampling(options, 'model.generate');
    const { end = -1, seed = 0 } = options;
    if (typeof end !== 'number' || typeof seed !== 'number')
      throw new DlmathError(
        'bad_type',
        `model.generate: end and seed must be numbers, got ${describe(end)} and ${describe(seed)}`,
        'model',
      );
    this.#stage(X, prefixes, 'model.generate', 'prefixes');
    return this.#take(check(raw.generate(temperature, topK, end, seed >>> 0)));
  }

  /**
   * The classifier's logits (eval mode).
   * @param x - sequences [rows, block]
   * @returns [rows, classes]
   */
  classify(x: InputValue): Result {
    const raw = this.#handle();
    this.#stage(X, x, 'model.classify', 'x');
    return this.#take(check(raw.classify()));
  }

  /**
   * An attention layer's weights for the last forward's sequences (predict, nextTokens, ...).
   * @param layer - index in {@link DlModel.layers} of an attention layer
   * @returns [rows, heads · block · block]: per sequence, per head, the query's row over the keys
   */
  attention(layer: number): Result {
    const raw = this.#handle();
    if (!Number.isInteger(layer))
      throw new DlmathError('bad_type', `model.attention: layer must be an integer, got ${describe(layer)}`, 'model');
    return this.#take(check(raw.attention(layer)));
  }

  /** The parts of the last loss computed: the token loss L1 and the classifier's L2 (NaN without one). */
  lastLosses(): { lm: number; cls: number } {
    return this.#handle().lastLosses();
  }

  /** The optimizer's state (moments, ...) and step count, copied: with the weights, a resumable checkpoint. */
  optimizerState(): { step: number; data: Float32Array } {
    const raw = this.#handle();
    const { address, width } = check(raw.optimizerState());
    const start = address >>> 2;
    return { step: raw.stepCount(), data: this.#heap().slice(start, start + width) };
  }

  /**
   * Restores the optimizer's state and step count (from {@link DlModel.optimizerState}).
   * @param state - `{step, data}`
   */
  setOptimizerState(state: { step: number; data: InputValue }): void {
    const raw = this.#handle();
    if (typeof state !== 'object' || state === null || typeof state.step !== 'number')
      throw new DlmathError(
        'bad_type',
        `model.setOptimizerState: expected {step, data}, got ${describe(state)}`,
        'model',
      );
    this.#stage(X, state.data, 'model.setOptimizerState', 'data');
    check(raw.setOptimizerState(state.step));
  }

  // ---- internals -----------------------------------------------------------

  #handle(): RawModel {
    return this.held('this model was disposed; create a new one with dl.model()', 'model');
  }

  #name(name: unknown): string {
    if (typeof name !== 'string')
      throw new DlmathError(
        'bad_type',
        `model: a parameter name must be a string such as 'layers.0.weight', got ${describe(name)}`,
        'model',
      );
    return name;
  }

  // Copies an input into a staging slot, with its shape for the next call.
  // `reuse` (step and gradients): a slot already staged with the same size
  // and shape is written in place, without a call; any other call forgets
  // that, since it may stage other sizes or release large staging.
  #stage(slot: number, value: InputValue, call: string, arg: string, reuse = false): void {
    const raw = this.#handle();
    // A Float32Array is what flatten would return it as (rank 1): taken as
    // it is, without flatten's error-message set-up or any array, which a
    // step would allocate for every batch.
    let data: ArrayLike<number> | null = null;
    let shape: number[] | null = null;
    if (value instanceof Float32Array) data = value;
    else if (value instanceof DlTensor) shape = value.shape;
    else ({ shape, data } = flatten(LIMITS, value, call, arg));
    // (Explicit null tests: a bare `data ?` on a maybe-object costs V8 a
    // full truthiness check, ~12 x86 instructions, for each.)
    const n = data !== null ? data.length : shape!.reduce((a, b) => a * b, 1);
    const rank = shape !== null ? shape.length : 1;
    const d0 = shape !== null ? (shape[0] ?? 0) : n;
    const d1 = shape !== null ? (shape[1] ?? 0) : 0;
    const known = this.#staged[slot as 0 | 1];
    let at: number;
    if (reuse && known !== null && known.n === n && known.rank === rank && known.d0 === d0 && known.d1 === d1)
      at = known.at;
    else {
      if (!reuse) this.#staged = [null, null];
      at = this.#mod._dlmath_model_stage(this.#self, slot, n, rank, d0, d1);
      if (!at) throw toError(raw.lastError().error);
      if (reuse) this.#staged[slot as 0 | 1] = { n, rank, d0, d1, at, flat: rank === 1 && d0 === n ? n : -1 };
    }
    if (data !== null) setFloats.call(this.#heap(), data, at >>> 2);
    else {
      const src = (value as DlTensor).raw().ptr() >>> 2;
      this.#heap().copyWithin(at >>> 2, src, src + n);
    }
  }

  // The wasm heap as floats, read right after a call. The view is kept
  // rather than read from the module per call (a step reads it three times,
  // and the module object is a dictionary); memory growth detaches it
  // (length 0), and the module's new view is taken then.
  #heap(): Float32Array {
    if (this.#f32.length === 0) this.#f32 = this.#mod.HEAPF32;
    return this.#f32;
  }

  // The same heap as doubles (fitRun's progress, the epochs), kept as well.
  #heap64(): Float64Array {
    if (this.#f64.length === 0) this.#f64 = new Float64Array(this.#heap().buffer);
    return this.#f64;
  }

  #take({ address, rows, width }: Rows): Result {
    const start = address >>> 2;
    return { shape: [rows, width], data: this.#heap().slice(start, start + rows * width) };
  }

  // Every table entry of `kind`, copied out of its arena at `address`.
  #arena(address: number, kind: ParameterInfo['kind']): Record<string, Result> {
    const heap = this.#heap();
    const out: Record<string, Result> = {};
    for (const p of this.parameterTable) {
      if (p.kind !== kind) continue;
      const at = (address >>> 2) + this.#offsets.get(p.name)!;
      out[p.name] = { shape: p.shape.slice(), data: heap.slice(at, at + p.shape.reduce((a, b) => a * b, 1)) };
    }
    return out;
  }
}

// Checks the sampling options' types (the core checks their values).
function sampling(o: SamplingOptions, call: string): SamplingOptions {
  if (typeof o !== 'object' || o === null)
    throw new DlmathError('bad_type', `${call}: options must be an object, got ${describe(o)}`, 'model');
  const { temperature = 1, topK = 0 } = o;
  if (typeof temperature !== 'number' || typeof topK !== 'number')
    throw new DlmathError(
      'bad_type',
      `${call}: temperature and topK must be numbers, got ${describe(temperature)} and ${describe(topK)}`,
      'model',
    );
  return { temperature, topK };
}

// What a staging slot holds (DlModel.#stage).
interface Staged {
  n: number;
  rank: number;
  d0: number;
  d1: number;
  at: number;
  flat: number;
}

const STEP_FIELDS = ['loss', 'dataLoss', 'lr', 'gradNorm', 'clippedGradNorm', 'step', 'rows'] as const;
const PROGRESS_FIELDS = [
  'state',
  'step',
  'epoch',
  'epochs',
  'batch',
  'batchesPerEpoch',
  'stepsRun',
  'loss',
  'bestEpoch',
  'best',
  'failed',
  'hasEpoch',
  'lastEpoch',
] as const;
type ProgressFields = Readonly<Record<(typeof PROGRESS_FIELDS)[number], number>>;

// Each of `names`' position in a row laid out by the core as `layout`
// (its names, wasm/model.cc).
function fieldsAt<K extends string>(layout: readonly string[], names: readonly K[]): Readonly<Record<K, number>> {
  const at = {} as Record<K, number>;
  for (const name of names) {
    const k = layout.indexOf(name);
    if (k < 0) throw new Error(`dlmath: the core's row layout has no '${name}'`);
    at[name] = k;
  }
  return at;
}

// TypedArray.prototype.set, called on the heap through this constant: V8's
// optimizing compiler cannot fold a `heap.set` property load (it lives on
// %TypedArray%.prototype) and calls a load IC for it every time (wasm
// 2-8-8-1 step(): -27 x86 instructions a step, each copy ~20 % faster).
const setFloats = Float32Array.prototype.set;

// Checks that the diagnostics header begins with StepResult's fields in
// STEP_FIELDS' order (the core's kDiagNames), once per model: stepResult
// reads them at fixed offsets, without loading 7 positions per step.
function checkStepFields(header: readonly string[]): void {
  const k = fieldsAt(header, STEP_FIELDS);
  STEP_FIELDS.forEach((name, i) => {
    if (k[name] !== i) throw new Error(`dlmath: the core's diagnostics header has '${name}' at ${k[name]}, not ${i}`);
  });
}

// The step's result from the diagnostics row at `at`: one object literal,
// so every result shares a shape (several times cheaper per step than
// assigning the header's names in a loop, as fields does).
function stepResult(row: Float32Array, at: number): StepResult {
  return {
    loss: row[at]!,
    dataLoss: row[at + 1]!,
    lr: row[at + 2]!,
    gradNorm: row[at + 3]!,
    clippedGradNorm: row[at + 4]!,
    step: row[at + 5]!,
    rows: row[at + 6]!,
  };
}

// Named fields of a diagnostics row from `at`.
function fields(row: ArrayLike<number>, at: number, names: readonly string[]): Record<string, number> {
  const r: Record<string, number> = {};
  for (let k = 0; k < names.length; ++k) r[names[k]!] = row[at + k]!;
  return r;
}

/**
 * Decodes a diagnostics row (e.g. `model.diagnostics()`, a row of the log, or one streamed by the worker host).
 * @param row - the values
 * @param at - where the row starts in `row`
 * @param layout - the model's `diagnosticsLayout`
 * @param layers - the model's `layers`
 */
export function decodeStats(
  row: ArrayLike<number>,
  at: number,
  layout: DiagnosticsLayout,
  layers: readonly LayerInfo[],
): ModelStats {
  const head = fields(row, at, layout.header) as unknown as StepResult;
  const per = layout.layer.length;
  return {
    ...head,
    layers: layers.map((l, i) => ({
      index: i,
      type: l.type,
      path: l.path,
      ...(fields(row, at + layout.header.length + i * per, layout.layer) as Omit<
        LayerStats,
        'index' | 'type' | 'path'
      >),
    })),
  };
}

/**
 * @internal Builds a model (what `dl.model` does).
 * @param mod - the raw module
 * @param spec - the user's spec object, passed to the core as JSON text
 */
export function createModel(mod: RawModule, spec: unknown): DlModel {
  if (!isPlainObject(spec))
    throw new DlmathError(
      'bad_type',
      `dl.model: the spec must be an object such as {input: 2, layers: [...], loss: {...}, optimizer: {...}}, got ${describe(spec)}`,
      'model',
    );
  const m = mod as Module;
  return new DlModel(m, check(m._modelCreate(JSON.stringify(spec))).model);
}

/**
 * @internal Restores a saved model (what `dl.loadModel` does).
 * @param mod - the raw module
 * @param saved - `model.toJSON()`'s object, or its JSON text
 */
export function loadModel(mod: RawModule, saved: unknown): DlModel {
  const s = typeof saved === 'string' ? parseSaved(saved) : saved;
  if (!isPlainObject(s) || s.format !== 'dlmath-model' || s.version !== 1)
    throw new DlmathError(
      'bad_value',
      `dl.loadModel: expected a saved model (model.toJSON(): format 'dlmath-model', version 1), got ${describe(s)}` +
        (isPlainObject(s) ? ` with format ${JSON.stringify(s.format)}, version ${JSON.stringify(s.version)}` : ''),
      'model',
    );
  const model = createModel(mod, s.spec);
  try {
    for (const group of ['parameters', 'buffers'] as const) {
      const tensors = s[group] ?? {};
      if (!isPlainObject(tensors))
        throw new DlmathError(
          'bad_type',
          `dl.loadModel: ${group} must be an object, got ${describe(tensors)}`,
          'model',
        );
      for (const [name, t] of Object.entries(tensors)) {
        const data = isPlainObject(t) && typeof t.data === 'string' ? fromBase64(t.data, name) : null;
        if (!data)
          throw new DlmathError(
            'bad_type',
            `dl.loadModel: ${group}['${name}'] must be {shape, data: base64 string}`,
            'model',
            name,
          );
        model.setParameter(name, data);
      }
    }
    const given = (p: ParameterInfo) => {
      const group = p.kind === 'parameter' ? s.parameters : s.buffers;
      return isPlainObject(group) && p.name in group;
    };
    const missing = model.parameterTable.find((p) => !given(p));
    if (missing)
      throw new DlmathError(
        'bad_value',
        `dl.loadModel: the saved model has no values for '${missing.name}'`,
        'model',
        missing.name,
      );
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

function parseSaved(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DlmathError('bad_value', `dl.loadModel: the text is not JSON (${(e as Error).message})`, 'model');
  }
}

/** @internal Float32 values as base64 of their little-endian bytes (wasm's byte order). */
export function toBase64(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** @internal The values of {@link toBase64}'s text; `name` is the tensor named in errors. */
export function fromBase64(text: string, name: string): Float32Array {
  let bin: string;
  try {
    bin = atob(text);
  } catch {
    throw new DlmathError('bad_value', `dl.loadModel: the data of '${name}' is not base64`, 'model', name);
  }
  if (bin.length % 4)
    throw new DlmathError(
      'bad_value',
      `dl.loadModel: the data of '${name}' has ${bin.length} bytes, not a whole number of float32 values`,
      'model',
      name,
    );
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; ++i) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}
