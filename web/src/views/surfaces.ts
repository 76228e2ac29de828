// Test surfaces for the optimizer view: textbook closed forms of f(x, y) and
// its gradient, in plain JS. They only stand in for a model's loss; the
// optimizer steps themselves are computed by the engine.
import type { Dlmath, OpId, Params } from '../engine/index.js';

/** Which surface. */
export const SURFACE_IDS = ['quadratic', 'rosenbrock', 'saddle', 'beale'] as const;
export type SurfaceId = (typeof SURFACE_IDS)[number];

/** Shape knobs of the surfaces (unused ones are ignored). */
export interface SurfaceParams {
  /** Condition number of the quadratic (ratio of its curvatures). */
  kappa: number;
  /** Rosenbrock's a (the minimum sits at (a, a²)). */
  a: number;
  /** Rosenbrock's b (steepness of the valley walls). */
  b: number;
}

export const SURFACE_DEFAULTS: SurfaceParams = { kappa: 10, a: 1, b: 100 };

/** A surface: value, gradient, the plotted window, a default start and its minimum. */
export interface Surface {
  id: SurfaceId;
  f(x: number, y: number): number;
  grad(x: number, y: number): [number, number];
  x: [number, number];
  y: [number, number];
  start: [number, number];
  /** The global minimum's position and value, when there is one. */
  min: { x: number; y: number; f: number } | null;
  latex: string;
}

/**
 * Builds a surface.
 * @param id - which one
 * @param p - its shape knobs
 */
export function surface(id: SurfaceId, p: SurfaceParams = SURFACE_DEFAULTS): Surface {
  switch (id) {
    case 'quadratic': {
      // f = (x² + κ y²) / 2: curvature 1 along x, κ along y.
      const k = p.kappa;
      return {
        id,
        f: (x, y) => 0.5 * (x * x + k * y * y),
        grad: (x, y) => [x, k * y],
        x: [-3, 3],
        y: [-3, 3],
        start: [-2.5, 2],
        min: { x: 0, y: 0, f: 0 },
        latex: String.raw`f(x, y) = \tfrac12\,(x^2 + \kappa\,y^2)`,
      };
    }
    case 'rosenbrock': {
      const { a, b } = p;
      return {
        id,
        f: (x, y) => (a - x) ** 2 + b * (y - x * x) ** 2,
        grad: (x, y) => [-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)],
        x: [-2, 2],
        y: [-1, 3],
        start: [-1.5, 2.5],
        min: { x: a, y: a * a, f: 0 },
        latex: String.raw`f(x, y) = (a - x)^2 + b\,(y - x^2)^2`,
      };
    }
    case 'saddle':
      return {
        id,
        f: (x, y) => x * x - y * y,
        grad: (x, y) => [2 * x, -2 * y],
        x: [-2, 2],
        y: [-2, 2],
        start: [-1.8, 0.02],
        min: null,
        latex: String.raw`f(x, y) = x^2 - y^2`,
      };
    case 'beale': {
      return {
        id,
        f: (x, y) => {
          const t1 = 1.5 - x + x * y;
          const t2 = 2.25 - x + x * y * y;
          const t3 = 2.625 - x + x * y * y * y;
          return t1 * t1 + t2 * t2 + t3 * t3;
        },
        grad: (x, y) => {
          const t1 = 1.5 - x + x * y;
          const t2 = 2.25 - x + x * y * y;
          const t3 = 2.625 - x + x * y * y * y;
          return [
            2 * t1 * (y - 1) + 2 * t2 * (y * y - 1) + 2 * t3 * (y * y * y - 1),
            2 * t1 * x + 4 * t2 * x * y + 6 * t3 * x * y * y,
          ];
        },
        x: [-4.5, 4.5],
        y: [-4.5, 4.5],
        start: [1, 1.4],
        min: { x: 3, y: 0.5, f: 0 },
        latex: String.raw`f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2`,
      };
    }
  }
}

/**
 * Learning rates at which every optimizer travels visibly on each surface in its ~100 steps. The registry's
 * defaults suit networks with many parameters (Adam's 1e-3 moves a point of these surfaces by about 0.1 in
 * 100 steps). An adaptive optimizer (one with an `eps`: Adam, AdamW, Adagrad) steps about lr per coordinate
 * whatever the gradient's size, a plain one (SGD and its momentum forms) lr × the gradient, so each surface
 * has one rate of each kind: below the plain rate's stability limit on its steepest wall, and an adaptive rate
 * of a few hundredths of the window. RMSprop (the adaptive one with a smoothing `alpha`) has no bias
 * correction: its running mean of g² starts at zero, so its first steps are lr / sqrt(1 − alpha) = 10 × lr.
 * At the adaptive rate it would jump 1.0 on its first step (up Rosenbrock's wall to f ≈ 2000, and on the
 * quadratic down to f ≈ 1e-45 within the 100 steps); its own rate makes that first step 0.1–0.2.
 */
export const SURFACE_LR: Readonly<Record<SurfaceId, { plain: number; adaptive: number; rmsprop: number }>> = {
  quadratic: { plain: 0.02, adaptive: 0.1, rmsprop: 0.02 },
  rosenbrock: { plain: 5e-4, adaptive: 0.1, rmsprop: 0.01 },
  saddle: { plain: 0.01, adaptive: 0.02, rmsprop: 0.01 },
  beale: { plain: 1e-3, adaptive: 0.05, rmsprop: 0.02 },
};

/**
 * The learning rate an optimizer runs at on a surface (see SURFACE_LR).
 * @param op - the optimizer's registry metadata (its params say which kind it is)
 * @param id - the surface
 */
export function surfaceLr(op: { params: readonly { name: string }[] }, id: SurfaceId): number {
  const lr = SURFACE_LR[id];
  const has = (name: string) => op.params.some((p) => p.name === name);
  if (!has('eps')) return lr.plain;
  return has('alpha') ? lr.rmsprop : lr.adaptive;
}

/**
 * The surface sampled on an nx × ny grid over its window (row-major, y rows
 * from bottom to top), as PlanePlot's field wants it.
 */
export function sampleField(s: Surface, nx: number, ny: number): Float64Array {
  const out = new Float64Array(nx * ny);
  for (let r = 0; r < ny; ++r) {
    const y = s.y[0] + ((s.y[1] - s.y[0]) * r) / (ny - 1);
    for (let c = 0; c < nx; ++c) out[r * nx + c] = s.f(s.x[0] + ((s.x[1] - s.x[0]) * c) / (nx - 1), y);
  }
  return out;
}

/** A path of an engine optimizer run closed-loop on a gradient field. */
export interface Descent {
  /** Positions θ_0 … θ_n (θ_0 = the float32 start). */
  xs: Float64Array;
  ys: Float64Array;
  /** Steps taken (rows of the last call). */
  steps: number;
  /** Why it stopped before the last step: left the safe region, or met a non-finite value. */
  stop: 'left' | 'nonfinite' | null;
  /** The last engine call: the start, the n gradients met along the way, the hyper-params, and its result [n, 2]. */
  call: { params: Float32Array; grads: Float32Array; hyper: Params; out: Float32Array };
}

/**
 * Runs an engine optimizer on a 2-D gradient field, closed-loop and exactly.
 * The engine's optimizers are open-loop (they replay a given gradient
 * sequence), so after k steps the gradient at the current point is appended
 * and the engine replays all k + 1 gradients: its state is rebuilt from the
 * sequence, so row k of a longer call equals the last row of the shorter one.
 * O(T²) work, fine for T ≤ 300 and two parameters.
 * @param dl - the engine
 * @param id - optimizer id
 * @param start - θ_0
 * @param grad - ∇f at a point (k = the step about to be taken, from 0)
 * @param hyper - hyper-params (lr, ...)
 * @param steps - at most this many steps
 * @param limit - stop once |x| or |y| exceeds this (a diverging run)
 * @param resume - a shorter run of the same problem to continue from (same id, start, grad, hyper, limit)
 */
export function descend(
  dl: Dlmath,
  id: string,
  start: [number, number],
  grad: (x: number, y: number, k: number) => [number, number],
  hyper: Params,
  steps: number,
  limit = 1e4,
  resume?: Descent,
): Descent {
  const p0 = Float32Array.of(start[0], start[1]);
  const g = new Float32Array(2 * steps);
  let out: Float32Array = new Float32Array(0);
  let n = 0;
  let stop: Descent['stop'] = null;
  let x = p0[0]!;
  let y = p0[1]!;
  if (resume && resume.steps <= steps) {
    g.set(resume.call.grads);
    out = resume.call.out;
    n = resume.steps;
    x = resume.xs[n]!;
    y = resume.ys[n]!;
    stop = resume.stop;
    if (!stop && n > 0 && n < steps && (Math.abs(x) > limit || Math.abs(y) > limit)) stop = 'left';
  }
  for (let k = n; k < steps && !stop; ++k) {
    const [gx, gy] = grad(x, y, k);
    g[2 * k] = gx;
    g[2 * k + 1] = gy;
    if (!Number.isFinite(g[2 * k]!) || !Number.isFinite(g[2 * k + 1]!)) {
      stop = 'nonfinite';
      break;
    }
    const r = dl.optimize(
      id as OpId,
      { params: { shape: [2], data: p0 }, grads: { shape: [k + 1, 2], data: g.subarray(0, 2 * k + 2) } } as never,
      hyper as never,
    );
    const nx = r.data[2 * k]!;
    const ny = r.data[2 * k + 1]!;
    if (!Number.isFinite(nx) || !Number.isFinite(ny)) {
      stop = 'nonfinite';
      break;
    }
    out = r.data;
    n = k + 1;
    x = nx;
    y = ny;
    if (Math.abs(x) > limit || Math.abs(y) > limit) {
      if (k + 1 < steps) stop = 'left';
      break;
    }
  }
  const xs = new Float64Array(n + 1);
  const ys = new Float64Array(n + 1);
  xs[0] = p0[0]!;
  ys[0] = p0[1]!;
  for (let k = 0; k < n; ++k) {
    xs[k + 1] = out[2 * k]!;
    ys[k + 1] = out[2 * k + 1]!;
  }
  return { xs, ys, steps: n, stop, call: { params: p0, grads: g.slice(0, 2 * n), hyper, out } };
}

/** The first `m` steps of a run (exact: row k of a longer replay equals the shorter replay's last row). */
export function prefix(d: Descent, m: number): Descent {
  if (m >= d.steps) return d;
  return {
    xs: d.xs.slice(0, m + 1),
    ys: d.ys.slice(0, m + 1),
    steps: m,
    stop: null,
    call: {
      params: d.call.params,
      grads: d.call.grads.slice(0, 2 * m),
      hyper: d.call.hyper,
      out: d.call.out.slice(0, 2 * m),
    },
  };
}
