// The optimizer view's test surfaces (closed forms in JS) and its closed-loop
// driver of the engine's open-loop optimizers.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDlmath, type Dlmath } from 'dlmath';
import { descend, prefix, surface, SURFACE_IDS, surfaceLr, type SurfaceParams } from '../../web/src/views/surfaces.js';

let dl: Dlmath;
beforeAll(async () => {
  dl = await loadDlmath();
});

const KNOBS: SurfaceParams[] = [
  { kappa: 10, a: 1, b: 100 },
  { kappa: 37, a: -0.5, b: 3 },
];

describe('surface gradients match central differences', () => {
  for (const id of SURFACE_IDS)
    for (const knobs of KNOBS)
      it(`${id} (κ=${knobs.kappa}, a=${knobs.a}, b=${knobs.b})`, () => {
        const s = surface(id, knobs);
        // A fixed scatter of points over the surface's window.
        for (let i = 0; i < 25; ++i) {
          const x = s.x[0] + ((s.x[1] - s.x[0]) * (((i * 7) % 25) + 0.5)) / 25;
          const y = s.y[0] + ((s.y[1] - s.y[0]) * (((i * 11) % 25) + 0.5)) / 25;
          const hx = 1e-6 * Math.max(1, Math.abs(x));
          const hy = 1e-6 * Math.max(1, Math.abs(y));
          const fdx = (s.f(x + hx, y) - s.f(x - hx, y)) / (2 * hx);
          const fdy = (s.f(x, y + hy) - s.f(x, y - hy)) / (2 * hy);
          const [gx, gy] = s.grad(x, y);
          const scale = Math.max(1, Math.abs(gx), Math.abs(gy));
          expect(Math.abs(gx - fdx), `∂f/∂x at (${x}, ${y})`).toBeLessThan(1e-5 * scale);
          expect(Math.abs(gy - fdy), `∂f/∂y at (${x}, ${y})`).toBeLessThan(1e-5 * scale);
        }
      });

  it('minima are stationary points with the stated value', () => {
    for (const id of SURFACE_IDS) {
      const s = surface(id, KNOBS[0]);
      if (!s.min) continue;
      expect(s.f(s.min.x, s.min.y)).toBeCloseTo(s.min.f, 12);
      const [gx, gy] = s.grad(s.min.x, s.min.y);
      expect(Math.hypot(gx, gy)).toBeLessThan(1e-12);
    }
  });
});

describe('closed-loop descent through the engine', () => {
  const OPTIMIZERS = ['sgd', 'sgd_momentum', 'sgd_nesterov', 'adam', 'adamw', 'rmsprop', 'adagrad'];

  it('row k of a longer call equals the last row of the k-step call (so replaying is exact)', () => {
    const g = Float32Array.from({ length: 40 }, (_, i) => Math.sin(1.7 * i + 0.3) * (1 + (i % 3)));
    for (const id of OPTIMIZERS) {
      const full = dl.optimize(
        id as 'sgd',
        { params: [0.5, -1.25], grads: { shape: [20, 2], data: g } },
        {
          lr: 0.05,
        },
      ).data;
      for (let k = 1; k <= 20; ++k) {
        const part = dl.optimize(
          id as 'sgd',
          { params: [0.5, -1.25], grads: { shape: [k, 2], data: g.subarray(0, 2 * k) } },
          { lr: 0.05 },
        ).data;
        expect(Array.from(part), `${id}, ${k} steps`).toEqual(Array.from(full.subarray(0, 2 * k)));
      }
    }
  });

  it('each step uses the gradient at the point the engine reached', () => {
    const s = surface('rosenbrock');
    for (const id of OPTIMIZERS) {
      const d = descend(dl as never, id, [-1.5, 2.5], s.grad, { lr: 1e-3 }, 30);
      expect(d.steps).toBe(30);
      expect(d.stop).toBeNull();
      for (let k = 0; k < d.steps; ++k) {
        const [gx, gy] = s.grad(d.xs[k]!, d.ys[k]!);
        expect(d.call.grads[2 * k]).toBe(Math.fround(gx));
        expect(d.call.grads[2 * k + 1]).toBe(Math.fround(gy));
      }
      // The recorded call reproduces the path.
      const again = dl.optimize(
        id as 'sgd',
        { params: d.call.params, grads: { shape: [30, 2], data: d.call.grads } },
        d.call.hyper as never,
      ).data;
      expect(Array.from(again)).toEqual(Array.from(d.call.out));
    }
  });

  it('a resumed run equals a fresh one, and a prefix equals a shorter run', () => {
    const s = surface('beale');
    for (const id of OPTIMIZERS) {
      const hyper = { lr: 0.01 };
      const fresh = descend(dl as never, id, [1, 1.4], s.grad, hyper, 40);
      const short = descend(dl as never, id, [1, 1.4], s.grad, hyper, 15);
      const resumed = descend(dl as never, id, [1, 1.4], s.grad, hyper, 40, 1e4, short);
      for (const [a, b] of [
        [fresh, resumed],
        [prefix(fresh, 15), short],
      ] as const) {
        expect(a.steps, id).toBe(b.steps);
        expect(a.stop, id).toBe(b.stop);
        expect(Array.from(a.xs), id).toEqual(Array.from(b.xs));
        expect(Array.from(a.call.grads), id).toEqual(Array.from(b.call.grads));
        expect(Array.from(a.call.out), id).toEqual(Array.from(b.call.out));
      }
    }
  });

  it('sgd on the quadratic contracts by (1 - lr) and (1 - lr κ) per step', () => {
    const s = surface('quadratic', { kappa: 10, a: 1, b: 100 });
    const d = descend(dl as never, 'sgd', [2, 1], s.grad, { lr: 0.05 }, 10);
    expect(d.xs[10]).toBeCloseTo(2 * 0.95 ** 10, 5);
    expect(d.ys[10]).toBeCloseTo(1 * 0.5 ** 10, 5);
  });

  it('stops a diverging run and keeps only finite rows', () => {
    const s = surface('quadratic', { kappa: 10, a: 1, b: 100 });
    const d = descend(dl as never, 'sgd', [2, 1], s.grad, { lr: 1 }, 300);
    expect(d.stop).toBe('left');
    expect(d.steps).toBeLessThan(300);
    expect(d.call.out.every(Number.isFinite)).toBe(true);
  });
});

describe('the surfaces’ learning rates move every optimizer', () => {
  // At its registry default Adam moves a point of these surfaces by about 0.1 in 100 steps; at the view's
  // per-surface rates every optimizer of the registry travels: its loss falls by at least a third in the
  // view's 100 default steps, or the run leaves the saddle (whose loss has no floor) downhill.
  it('every optimizer of the registry, on every surface', () => {
    const optimizers = dl.ops().filter((o) => o.kind === 'optimizer');
    expect(optimizers.length).toBeGreaterThan(4);
    const stuck: string[] = [];
    for (const id of SURFACE_IDS) {
      const s = surface(id);
      const f0 = s.f(...s.start) - (s.min?.f ?? 0);
      for (const o of optimizers) {
        const hyper: Record<string, number> = {};
        for (const p of o.params) hyper[p.name] = p.default;
        hyper.lr = surfaceLr(o, id);
        const d = descend(dl as never, o.id, s.start, s.grad, hyper, 100);
        const f = s.f(d.xs[d.steps]!, d.ys[d.steps]!) - (s.min?.f ?? 0);
        const escaped = id === 'saddle' && (d.stop === 'left' || f < 0);
        if (!escaped && !(d.stop === null && f < (2 / 3) * f0))
          stuck.push(`${o.id} on ${id} at lr ${hyper.lr}: f ${f0} → ${f}${d.stop ? ` (${d.stop})` : ''}`);
      }
    }
    expect(stuck).toEqual([]);
  });
});
