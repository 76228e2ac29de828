// The input features the network sees, computed from a point (x₁, x₂) as in
// TensorFlow Playground: each can be switched on or off. This is the data's
// preprocessing, not the model: the model's first layer takes the chosen
// features as its inputs. The Jacobian turns the engine's ∂loss/∂feature
// into ∂loss/∂(x₁, x₂) for the arrows on the input plane.

export const FEATURES = ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'] as const;
export type Feature = (typeof FEATURES)[number];

/** How each feature reads on screen. */
export const FEATURE_LABELS: Record<Feature, string> = {
  x1: 'x₁',
  x2: 'x₂',
  x1sq: 'x₁²',
  x2sq: 'x₂²',
  x1x2: 'x₁x₂',
  sinx1: 'sin x₁',
  sinx2: 'sin x₂',
};

// Value and partial derivatives (∂/∂x₁, ∂/∂x₂) of each feature at (a, b).
const DEF: Record<Feature, (a: number, b: number) => [number, number, number]> = {
  x1: (a) => [a, 1, 0],
  x2: (_a, b) => [b, 0, 1],
  x1sq: (a) => [a * a, 2 * a, 0],
  x2sq: (_a, b) => [b * b, 0, 2 * b],
  x1x2: (a, b) => [a * b, b, a],
  sinx1: (a) => [Math.sin(a), Math.cos(a), 0],
  sinx2: (_a, b) => [Math.sin(b), 0, Math.cos(b)],
};

/**
 * The feature matrix of points.
 * @param points - [n, 2] row-major (x₁, x₂)
 * @param active - the features, in FEATURES order
 * @returns [n, active.length] row-major
 */
export function featureMatrix(points: ArrayLike<number>, active: readonly Feature[]): Float32Array {
  const n = points.length / 2;
  const out = new Float32Array(n * active.length);
  for (let i = 0; i < n; ++i)
    active.forEach((f, j) => {
      out[i * active.length + j] = DEF[f](points[2 * i]!, points[2 * i + 1]!)[0];
    });
  return out;
}

/**
 * ∂loss/∂(x₁, x₂) of each point from ∂loss/∂features (the chain rule through the feature map).
 * @param points - [n, 2]
 * @param active - the features
 * @param dFeatures - [n, active.length], the engine's input gradient
 * @returns [n, 2]
 */
export function planeGradient(
  points: ArrayLike<number>,
  active: readonly Feature[],
  dFeatures: ArrayLike<number>,
): Float32Array {
  const n = points.length / 2;
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; ++i)
    active.forEach((f, j) => {
      const [, da, db] = DEF[f](points[2 * i]!, points[2 * i + 1]!);
      const g = dFeatures[i * active.length + j]!;
      out[2 * i] = out[2 * i]! + g * da;
      out[2 * i + 1] = out[2 * i + 1]! + g * db;
    });
  return out;
}

/**
 * The points of an nx × nx grid over [-d, d]², rows from y = -d up (as PlanePlot's fields).
 * @param nx - samples per side
 * @param d - half the side
 */
export function gridPoints(nx: number, d: number): Float32Array {
  const out = new Float32Array(nx * nx * 2);
  for (let r = 0; r < nx; ++r)
    for (let c = 0; c < nx; ++c) {
      out[2 * (r * nx + c)] = -d + (2 * d * (c + 0.5)) / nx;
      out[2 * (r * nx + c) + 1] = -d + (2 * d * (r + 0.5)) / nx;
    }
  return out;
}
