// Assertions shared by the Node tests of the JS API.
import { expect } from 'vitest';
import { DlmathError } from 'dlmath';

/**
 * Every value within `tol` of `want`, relative to max(1, |want|); NaN where `want` is NaN.
 * @param got - values under test
 * @param want - reference values
 * @param tol - tolerance
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; ++i) {
    const w = want[i]!;
    if (Number.isNaN(w)) expect(got[i]).toBeNaN();
    else
      expect(Math.abs(got[i]! - w), `index ${i}: got ${got[i]}, want ${w}`).toBeLessThanOrEqual(
        tol * Math.max(1, Math.abs(w)),
      );
  }
}

/**
 * Runs `fn` and expects a DlmathError with `code` whose message contains every part.
 * @returns the error, for further checks
 */
export function expectError(fn: () => unknown, code: string, ...parts: string[]): DlmathError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DlmathError);
  const e = err as DlmathError;
  expect(e.code).toBe(code);
  for (const p of parts) expect(e.message).toContain(p);
  return e;
}
