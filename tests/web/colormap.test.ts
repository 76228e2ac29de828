// The colour ramps that paint images pixel by pixel (the training page's
// neuron maps) agree with colorOf, the one colour function of every plot.
import { describe, expect, it } from 'vitest';
import { colorOf, colorRamp, divergingIndex } from '../../web/src/ui/plots/colormap.js';

describe('colorRamp', () => {
  it('matches colorOf within one ramp step, clamps, and marks non-finite values', () => {
    for (const map of ['diverging', 'sequential'] as const) {
      const ramp = colorRamp(map);
      expect(ramp.length).toBe(256 * 4);
      expect(colorRamp(map)).toBe(ramp); // built once
      for (let k = 0; k < 256; ++k) {
        const want = map === 'diverging' ? colorOf(2 * (k / 255) - 1, -1, 1, map) : colorOf(k / 255, 0, 1, map);
        for (let j = 0; j < 3; ++j) expect(Math.abs(ramp[4 * k + j]! - want[j]!)).toBeLessThanOrEqual(0.5);
        expect(ramp[4 * k + 3]).toBe(255);
      }
    }
    // Every value of [-m, m] lands within half a step of its place on the ramp.
    const ramp = colorRamp('diverging');
    let worst = 0;
    for (let i = 0; i <= 2000; ++i) {
      const v = -3 + (6 * i) / 2000;
      const k = divergingIndex(v, 3);
      const want = colorOf(v, -3, 3, 'diverging');
      for (let j = 0; j < 3; ++j) worst = Math.max(worst, Math.abs(ramp[4 * k + j]! - want[j]!));
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect([divergingIndex(-7, 3), divergingIndex(0, 3), divergingIndex(7, 3)]).toEqual([0, 128, 255]);
    expect([NaN, Infinity, -Infinity].map((v) => divergingIndex(v, 3))).toEqual([-1, -1, -1]);
  });
});
