import type { RawError } from './wasm.js';

/** Error codes a DlmathError carries (stable, for programs to switch on). */
export const ErrorCode = {
  unknownOp: 'unknown_op',
  unknownInput: 'unknown_input',
  missingInput: 'missing_input',
  badRank: 'bad_rank',
  badShape: 'bad_shape',
  unknownParam: 'unknown_param',
  badParam: 'bad_param',
  tooLarge: 'too_large',
  outOfMemory: 'out_of_memory',
  badType: 'bad_type',
  notDifferentiable: 'not_differentiable',
  badValue: 'bad_value',
  badFormula: 'bad_formula',
  disposed: 'disposed',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

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
  return typeof v === 'object' ? `a ${v.constructor?.name ?? 'object'}` : `a ${typeof v}`;
}
