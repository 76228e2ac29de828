// Hand-written types of the raw Embind module (Emscripten 3.1.6 cannot emit
// them). Only the facade in this folder touches these `_`-prefixed calls.

/** A tensor resident on the wasm heap; JS owns it and must delete() it. */
export interface RawTensor {
  ptr(): number;
  size(): number;
  shape(): number[];
  delete(): void;
  isDeleted(): boolean;
}

export interface RawError {
  code: string;
  op: string;
  arg: string;
  message: string;
  /** Formula errors: 1-based column in code points; 0 otherwise. */
  column: number;
  /** Formula errors: length of the offending token in code points; 0 otherwise. */
  length: number;
}

/** A compiled formula (dl.formula); JS owns it and must delete() it. */
export interface RawFormula {
  text(): string;
  latex(): string;
  params(): string[];
  eval(
    x: RawTensor,
    paramNames: string[],
    paramValues: number[],
    wantGrad: boolean,
  ): { error?: RawError; value?: RawTensor; grad?: RawTensor };
  delete(): void;
  isDeleted(): boolean;
}

/** One entry of the catalogue, ops.json (scripts/gen-ops.mjs writes it from the registry). */
export interface RawOpMeta {
  id: string;
  family: string;
  form: 'elementwise' | 'rowwise' | 'general' | 'nograd';
  /** op: dl.eval / dl.grad; optimizer: dl.optimize; schedule: dl.schedule; init: dl.init. */
  kind: 'op' | 'optimizer' | 'schedule' | 'init';
  rowOut: 'same' | 'drop' | 'half';
  title: { en: string; zh: string };
  inputs: {
    name: string;
    minRank: number;
    maxRank: number;
    differentiable: boolean;
    optional: boolean;
    integer: boolean;
  }[];
  params: {
    name: string;
    default: number;
    min: number;
    max: number;
    minOpen: boolean;
    maxOpen: boolean;
    type: 'real' | 'int' | 'bool' | 'enum';
    learnable: boolean;
    /** Names of an enum param's values; [] otherwise. */
    choices: string[];
  }[];
  /** Names of the secondary outputs `dl.eval` returns in `aux`. */
  aux: string[];
  sample: string;
  /** The sample parsed: each input's shape and the range sample values come from. */
  sampleInputs: { name: string; shape: number[]; min: number; max: number }[];
  latex: string;
  dlatex: string;
  /** The explanation: plain text with inline LaTeX between dollar signs (`$x^2$`; a literal dollar is `\$`). */
  doc: { en: string; zh: string };
  props: { range: string; monotonic: boolean; zeroCentred: boolean; smooth: boolean };
  tolerance: { value: number; grad: number; why: string };
  differentiable: boolean;
}

/** What `_call` returns: an error, or the new tensors the call made (JS owns them). */
export interface RawCallResult {
  error?: RawError;
  tensor?: RawTensor;
  aux?: Record<string, RawTensor>;
  grads?: Record<string, RawTensor>;
}

export interface RawModule {
  HEAPF32: Float32Array;
  HEAPU8: Uint8Array;
  /** A new tensor of shape `dims` for `values` numbers (-1: zeroed), or the core's error. */
  _tensorCreate(dims: number[], values: number, op: string, arg: string): { error?: RawError; tensor?: RawTensor };
  /** Whether `values` numbers fill shape `dims`: `{}` or the core's error. */
  _shapeCheck(dims: number[], values: number, op: string, arg: string): { error?: RawError };
  _formulaCompile(text: string): { error?: RawError; formula?: RawFormula };
  /** Every op call: inputs and params by name, checked and run by the core. */
  _call(
    id: string,
    names: string[],
    tensors: RawTensor[],
    paramNames: string[],
    paramValues: (number | string)[],
    options: {
      backward: boolean;
      value: boolean;
      out: RawTensor | null;
      upstream: RawTensor | null;
      gradNames: string[];
      gradTensors: RawTensor[];
    },
  ): RawCallResult;
  /** The registry's ids in table order (its metadata is in ops.json, see loader.ts). */
  _opIds(): string[];
  /** The core's error code names, in table order. */
  _errorCodes(): string[];
  _heapUsed(): number;
  _target(): string;
  _limits(): { maxRank: number; maxElements: number };
}

export type RawFactory = (opts: {
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** Emscripten's hook: instantiate the module with `imports`, hand the instance to `done`, return {}. */
  instantiateWasm?: (
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
  ) => object;
}) => Promise<RawModule>;
