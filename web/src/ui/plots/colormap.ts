// Colour maps for heatmaps and fields: a perceptual sequential map and a
// diverging one (for signed values, centred on zero).

type Stop = [number, number, number];

// Viridis sampled at 9 points (public-domain colour map by van der Walt & Smith).
const VIRIDIS: Stop[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];
const DIVERGING: Stop[] = [
  [33, 102, 172],
  [103, 169, 207],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [239, 138, 98],
  [178, 24, 43],
];

function lerp(stops: Stop[], t: number): Stop {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export type ColorMapName = 'sequential' | 'diverging';

/**
 * RGB of a value in [lo, hi] (diverging maps centre on zero: [-m, m], m = max(|lo|, |hi|)).
 */
export function colorOf(v: number, lo: number, hi: number, map: ColorMapName): Stop {
  if (!Number.isFinite(v)) return [128, 128, 128];
  if (map === 'diverging') {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return lerp(DIVERGING, (v / m + 1) / 2);
  }
  return lerp(VIRIDIS, hi > lo ? (v - lo) / (hi - lo) : 0.5);
}

const RAMP_SIZE = 256;
const ramps = new Map<ColorMapName, Uint8ClampedArray>();

/**
 * The map sampled at RAMP_SIZE (256) evenly spaced points from its low end to its high end, as
 * RGBA bytes (opaque), for painting images pixel by pixel without a colour object per pixel.
 * Entry k is colorOf at t = k / 255: within half a step of 1/255 of the range of colorOf itself.
 */
export function colorRamp(map: ColorMapName): Uint8ClampedArray {
  let ramp = ramps.get(map);
  if (!ramp) {
    ramp = new Uint8ClampedArray(RAMP_SIZE * 4);
    const stops = map === 'diverging' ? DIVERGING : VIRIDIS;
    for (let k = 0; k < RAMP_SIZE; ++k) {
      ramp.set(lerp(stops, k / (RAMP_SIZE - 1)), 4 * k);
      ramp[4 * k + 3] = 255;
    }
    ramps.set(map, ramp);
  }
  return ramp;
}

/** The ramp entry (0..255) of a value on a diverging scale [-m, m], m > 0; -1 for a non-finite value. */
export function divergingIndex(v: number, m: number): number {
  if (!Number.isFinite(v)) return -1;
  const k = Math.round((v / m + 1) * ((RAMP_SIZE - 1) / 2));
  return k < 0 ? 0 : k > RAMP_SIZE - 1 ? RAMP_SIZE - 1 : k;
}

/** CSS colour text. */
export function rgb(c: Stop): string {
  return `rgb(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])})`;
}

/** Min and max of the finite values (0, 1 when there are none). */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; ++i) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}
