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
export { DlFormula, type FormulaInput, type FormulaParams, type FormulaResult } from './formula.js';
export { DlmathError, ErrorCode } from './errors.js';
export { OP_IDS, type OpId } from './gen/ops.js';
export { sampleInputs, sampleValues } from './sample.js';
