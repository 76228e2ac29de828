// The schedule view's timings: horizons from an entry's own params, and the
// overlays fitted to a horizon with the entry's peak learning rate.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDlmath, type Dlmath } from 'dlmath';
import { autoHorizon, events, fitted, MAX_STEPS } from '../../web/src/views/schedule-timing.js';

let dl: Dlmath;
beforeAll(async () => {
  dl = await loadDlmath();
});

const defaults = (id: string) => {
  const p: Record<string, number> = {};
  for (const q of dl.ops().find((o) => o.id === id)!.params) if (q.name !== 'steps') p[q.name] = q.default;
  return p;
};
const schedules = () => dl.ops().filter((o) => o.kind === 'schedule');

describe('schedule timings', () => {
  it('the automatic horizon is runnable and marks fall inside it', () => {
    for (const op of schedules()) {
      const p = defaults(op.id);
      const n = autoHorizon(op.id, p);
      expect(n, op.id).toBeGreaterThanOrEqual(10);
      expect(n, op.id).toBeLessThanOrEqual(MAX_STEPS);
      const lr = dl.schedule(op.id as 'noam', p as never, n);
      expect(lr.length).toBe(n);
      for (const e of events(op.id, p, n)) {
        expect(e.t, `${op.id} ${e.ev}`).toBeGreaterThanOrEqual(0);
        expect(e.t, `${op.id} ${e.ev}`).toBeLessThan(n);
      }
    }
  });

  it('fitted overlays run over the horizon and peak at the given rate', () => {
    for (const n of [10, 37, 1000, MAX_STEPS])
      for (const op of schedules()) {
        const peak = 0.05;
        const lr = dl.schedule(op.id as 'noam', fitted(op, n, peak) as never, n);
        expect(lr.length).toBe(n);
        let max = 0;
        for (const v of lr) max = Math.max(max, v);
        expect(Math.abs(max - peak) / peak, `${op.id} over ${n} steps peaks at ${max}`).toBeLessThan(1e-3);
      }
  });

  it('marks sit where the regime changes', () => {
    const p = { lr: 0.1, step_size: 7, gamma: 0.5 };
    const lr = dl.schedule('step_lr', p, 30);
    for (const e of events('step_lr', p, 30)) expect(lr[e.t]).toBeLessThan(lr[e.t - 1]!);
    const w = { lr: 0.1, warmup_steps: 12, total_steps: 50, final_lr: 0 };
    const lw = dl.schedule('warmup_cosine', w, 60);
    const warm = events('warmup_cosine', w, 60).find((e) => e.ev === 'warm')!;
    expect(lw[warm.t]).toBeCloseTo(0.1, 6);
    const nm = { d_model: 512, warmup_steps: 40, factor: 1 };
    const ln = dl.schedule('noam', nm, 200);
    const top = events('noam', nm, 200).find((e) => e.ev === 'peak')!;
    expect(Math.max(...ln)).toBe(ln[top.t]);
  });
});
