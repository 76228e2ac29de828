/**
 * Shortest decimal text that reads back as the same float32, so a probe
 * shows full float32 precision and no noise digits.
 * @param v - a value that is exactly representable in float32
 */
export function formatF32(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  for (let p = 1; p <= 9; ++p) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return v.toPrecision(9);
}
