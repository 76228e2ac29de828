import { describe, DlmathError, toError } from './errors.js';
import { disposeSymbol, leakDetector } from './handles.js';
import { DlTensor, toResident, type Heap, type Resident } from './tensor.js';
import type { RawError, RawFormula, RawTensor } from './wasm.js';

/** What a formula is evaluated at: numbers, or a resident tensor (any shape, read flat). */
export type FormulaInput = ArrayLike<number> | DlTensor;

/** Values of a formula's parameters by name, e.g. `{a: 2, b: 0.5}`. */
export type FormulaParams = Record<string, number>;

/** f(x) and df/dx elementwise, from one core call. */
export interface FormulaResult {
  value: Float32Array;
  grad: Float32Array;
}

const leaks = leakDetector<RawFormula>('formula');

/**
 * A formula in `x` and named parameters, parsed once by the core, e.g.
 * `x*sigmoid(1.702*x)` or `a*x^2 - tanh(b*x)`. Its values and exact
 * derivative df/dx (forward-mode automatic differentiation, not finite
 * differences) come from one core call per array of x. Get one with
 * `dl.formula(text)`; release it with `dispose()` (or `using`).
 */
export class DlFormula {
  /** The text as given. */
  readonly text: string;
  /** Parameter names, in order of first appearance. */
  readonly params: readonly string[];
  /** The parsed formula as KaTeX-renderable LaTeX. */
  readonly latex: string;
  #raw: RawFormula | null;
  readonly #heap: Heap;

  /** @internal Use `dl.formula(text)`. */
  constructor(heap: Heap, raw: RawFormula) {
    this.#heap = heap;
    this.#raw = raw;
    this.text = raw.text();
    this.params = Object.freeze(raw.params());
    this.latex = raw.latex();
    leaks?.register(this, raw, this);
  }

  /**
   * f(x) elementwise.
   * @param x - the points (a DlTensor is read flat, whatever its shape)
   * @param params - a value for every name in {@link DlFormula.params}
   */
  eval(x: FormulaInput, params?: FormulaParams): Float32Array {
    return this.#run(x, params, false).value;
  }

  /**
   * df/dx elementwise (exact, by automatic differentiation).
   * @param x - the points
   * @param params - a value for every name in {@link DlFormula.params}
   */
  grad(x: FormulaInput, params?: FormulaParams): Float32Array {
    return this.#run(x, params, true).grad;
  }

  /**
   * f(x) and df/dx together, from one core call.
   * @param x - the points
   * @param params - a value for every name in {@link DlFormula.params}
   */
  evalWithGrad(x: FormulaInput, params?: FormulaParams): FormulaResult {
    return this.#run(x, params, true);
  }

  /** Whether dispose() has run. */
  get disposed(): boolean {
    return this.#raw === null;
  }

  /** Frees the compiled formula. Further use throws a DlmathError. */
  dispose(): void {
    if (this.#raw === null) return;
    leaks?.unregister(this);
    this.#raw.delete();
    this.#raw = null;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  #run(x: FormulaInput, params: FormulaParams | undefined, wantGrad: boolean): FormulaResult {
    const raw = this.#raw;
    if (raw === null)
      throw new DlmathError('disposed', 'this formula was disposed; compile it again with dl.formula()');
    const names: string[] = [];
    const values: number[] = [];
    if (params !== undefined && params !== null) {
      if (typeof params !== 'object' || Array.isArray(params))
        throw new DlmathError('bad_type', `formula: params must be an object such as {a: 1}, got ${describe(params)}`);
      for (const [k, v] of Object.entries(params)) {
        if (typeof v !== 'number')
          throw new DlmathError('bad_type', `formula: parameter '${k}' must be a number, got ${describe(v)}`, '', k);
        names.push(k);
        values.push(v);
      }
    }
    const input = this.#input(x);
    let out: { error?: RawError; value?: RawTensor; grad?: RawTensor } | undefined;
    try {
      out = raw.eval(input.raw, names, values, wantGrad);
      if (out.error) throw toError(out.error);
      return { value: this.#take(out.value!), grad: wantGrad ? this.#take(out.grad!) : new Float32Array(0) };
    } finally {
      if (input.owned) input.raw.delete();
      if (out?.value && !out.value.isDeleted()) out.value.delete();
      if (out?.grad && !out.grad.isDeleted()) out.grad.delete();
    }
  }

  // x as a resident tensor: a DlTensor as is, numbers copied in (the same
  // checks as every op input; the core checks the size).
  #input(x: FormulaInput): Resident {
    if (x instanceof DlTensor) return { raw: x.raw(), owned: false };
    if (!Array.isArray(x) && !ArrayBuffer.isView(x))
      throw new DlmathError(
        'bad_type',
        `formula: x must be an array or typed array of numbers or a dl.tensor(), got ${describe(x)}`,
        '',
        'x',
      );
    return toResident(this.#heap, x, '', 'x');
  }

  // Copies a result out of the heap and frees it.
  #take(raw: RawTensor): Float32Array {
    try {
      const start = raw.ptr() >>> 2;
      return this.#heap.mod.HEAPF32.slice(start, start + raw.size());
    } finally {
      raw.delete();
    }
  }
}

/**
 * @internal Compiles `text` (what `dl.formula` does).
 * @param heap - the raw module and its limits
 * @param text - the formula
 */
export function compileFormula(heap: Heap, text: unknown): DlFormula {
  if (typeof text !== 'string')
    throw new DlmathError(
      'bad_type',
      `dl.formula: the formula must be a string such as 'x*sigmoid(x)', got ${describe(text)}`,
    );
  const r = heap.mod._formulaCompile(text);
  if (r.error) throw toError(r.error);
  return new DlFormula(heap, r.formula!);
}
