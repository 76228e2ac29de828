import { ERROR_CODES } from './gen/ops.js';
import type { RawError } from './wasm.js';

/** Error codes a DlmathError carries (stable, for programs to switch on): the core's table (status.h). */
export type ErrorCode = Exclude<(typeof ERROR_CODES)[number], 'ok'>;

type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** The error codes by name, e.g. `ErrorCode.badShape === 'bad_shape'`. */
export const ErrorCode = Object.freeze(
  Object.fromEntries(
    ERROR_CODES.filter((c) => c !== 'ok').map((c) => [c.replace(/_([a-z])/g, (_, l: string) => l.toUpperCase()), c]),
  ),
) as { readonly [C in ErrorCode as Camel<C>]: C };

/**
 * Every bad call throws this: `op` is the op id, `arg` the input or param
 * at fault ('' when the whole call is), and the message says what was
 * expected and what was got. The module keeps working afterwards.
 * Formula errors ('bad_formula') also say where: `column` (1-based, in
 * characters) and `length` of the offending token, for a caret.
 */
export class DlmathError extends Error {
  readonly code: ErrorCode;
  readonly op: string;
  readonly arg: string;
  /** 1-based column of the offending token in a formula's text; 0 when none. */
  readonly column: number;
  /** Length of the offending token (0 at the end of the text, or when none). */
  readonly length: number;

  /**
   * @param code - one of {@link ErrorCode}
   * @param message - what is wrong, naming op and argument
   * @param op - the op id ('' outside an op call)
   * @param arg - the input or param name ('' when none)
   * @param column - formulas: 1-based column of the offending token (0: none)
   * @param length - formulas: its length
   */
  constructor(code: ErrorCode, message: string, op = '', arg = '', column = 0, length = 0) {
    super(message);
    this.name = 'DlmathError';
    this.code = code;
    this.op = op;
    this.arg = arg;
    this.column = column;
    this.length = length;
  }
}

/** A raw error from the bindings as a DlmathError. */
export function toError(e: RawError): DlmathError {
  return new DlmathError(e.code as ErrorCode, e.message, e.op, e.arg, e.column, e.length);
}

/** How a wrong value is named in an error message: 'an array', 'a Float64Array', 'a string', … */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'object') return `a ${(v as object).constructor?.name ?? 'object'}`;
  return `a ${typeof v}`;
}
