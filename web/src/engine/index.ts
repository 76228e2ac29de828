/**
 * dlmath: the mathematics of deep learning, values and exact gradients,
 * computed by a SIMD C++ core in WebAssembly.
 *
 * ```js
 * import { loadDlmath } from 'dlmath';
 * const dl = await loadDlmath();
 * dl.gelu_tanh([0, 1, 2]);                 // {shape: [3], data: Float32Array}
 * dl.grad('softmax', {x: [[1, 2, 3]]});    // {x: {shape: [1, 3], data}}
 * ```
 * @packageDocumentation
 */
export { loadCatalogue, loadDlmath, type LoadOptions } from './loader.js';
export {
  Dlmath,
  type EvalResult,
  type InputValue,
  type OpFunction,
  type OpMeta,
  type OutBuffer,
  type Params,
  type Result,
  type ValueAndGrads,
} from './dlmath.js';
export { DlTensor } from './tensor.js';
export {
  DlModel,
  decodeStats,
  type DiagnosticsLayout,
  type ActivationId,
  type DiagnosticsLog,
  type EpochStats,
  type FitHistory,
  type FitOptions,
  type FitProgress,
  type InitId,
  type InitSpec,
  type LayerInfo,
  type LayerSpec,
  type LayerStats,
  type LossId,
  type LossSpec,
  type ModelDescription,
  type ModelSpec,
  type ModelStats,
  type OptimizerId,
  type OptimizerSpec,
  type ParameterInfo,
  type SavedModel,
  type SavedTensor,
  type ScheduleId,
  type ScheduleSpec,
  type SamplingOptions,
  type SequenceInfo,
  type SequenceMetrics,
  type StepResult,
  type StopReason,
} from './model.js';
export {
  DlTrainer,
  RemoteModel,
  type RemoteFitOptions,
  type Snapshot,
  type SnapshotRequest,
  type TrainerOptions,
  type TrainProgress,
} from './worker-client.js';
export {
  DlGpt,
  GptClassifier,
  GPT_DEFAULTS,
  gptSpec,
  type ClassifierConfig,
  type ClassifierEvaluation,
  type GptAttention,
  type GptCheckpoint,
  type GptHistory,
  type CurvePoint,
  type GptConfig,
  type GptEvaluation,
  type GptProgress,
  type GptSettings,
  type TokenProbability,
} from './gpt.js';
export { CharTokenizer, END, IGNORE, START, TEXT_LIMITS, splitText, type EncodedSequences } from './gpt-tokenizer.js';
export { DlFormula, type FormulaInput, type FormulaParams, type FormulaResult } from './formula.js';
export { DlmathError, ErrorCode } from './errors.js';
export { OP_IDS, type OpId } from './gen/ops.js';
export { sampleInputs, sampleValues } from './sample.js';
