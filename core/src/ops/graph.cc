// Graph Laplacians of a weighted undirected graph, from its adjacency matrix
// A [n, n] (non-negative weights). Only the symmetric part S = (A + A^T) / 2
// is used, so any non-negative square matrix is a valid input. Each op
// returns its Laplacian [n, n] and the eigenvalues [n] (ascending) of its
// symmetric form, from Eigen's SelfAdjointEigenSolver (tridiagonalisation +
// implicit QR), which maps the output buffer in place.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/graph.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/graph-inl.h"
// clang-format on

#if HWY_ONCE
#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_graph(...) __VA_ARGS__
#include "core/src/ops/export.h"

namespace {

using MatR =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Mat = Eigen::Map<MatR>;

// Which Laplacian: D - S, I - D^-1/2 S D^-1/2, I - D^-1 S.
enum class Lap { kPlain, kSym, kRandomWalk };

Status GraphShape(const ShapeCtx& c) {
  const std::string op(c.op);
  const Shape& a = c.in[0];
  if (a.dim[0] != a.dim[1])
    return Status(ErrorCode::kBadShape, op, "A",
                  "op '" + op + "': input 'A' must be a square adjacency " +
                      "matrix [n, n], got " + a.str());
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!(c.data[0][i] >= 0) || std::isinf(c.data[0][i])) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", c.data[0][i]);
      return Status(ErrorCode::kBadValue, op, "A",
                    "op '" + op + "': input 'A' must hold finite edge " +
                        "weights >= 0; element [" + std::to_string(i / a[1]) +
                        ", " + std::to_string(i % a[1]) + "] is " + buf);
    }
  *c.out = a;
  c.aux[0] = Shape{a.dim[0]};
  return {};
}

// L = D - S, D^-1/2 (D - S) D^-1/2 or D^-1 (D - S); degrees d_i = sum_j
// S_ij in double. Error: the solver's, ~n eps ||L|| (about 1e-6 here). Isolated
// nodes (d_i = 0) get a zero row and column in the normalised forms (networkx's
// convention).
void GraphForward(const GenCall<float>& c, Lap kind) {
  const int64_t n = c.in_shape[0][0];
  const float* a = c.in[0];
  Mat l(c.out, n, n);
  std::vector<double> deg(n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      deg[i] += 0.5 * (double{a[i * n + j]} + a[j * n + i]);
  std::vector<float> rs(n);  // d^-1/2, 0 for isolated nodes
  for (int64_t i = 0; i < n; ++i)
    rs[i] = deg[i] > 0 ? static_cast<float>(1 / std::sqrt(deg[i])) : 0.0f;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const float s = 0.5f * (a[i * n + j] + a[j * n + i]);
      const float plain = (i == j ? static_cast<float>(deg[i]) : 0.0f) - s;
      switch (kind) {
        case Lap::kPlain:
          l(i, j) = plain;
          break;
        case Lap::kSym:
          l(i, j) = rs[i] * plain * rs[j];
          break;
        case Lap::kRandomWalk:
          l(i, j) = deg[i] > 0 ? static_cast<float>(plain / deg[i]) : 0.0f;
          break;
      }
    }
  // Eigenvalues of the symmetric form: L itself, or L_sym for L_rw (the two
  // are similar, D^1/2 L_rw D^-1/2 = L_sym).
  MatR sym(n, n);
  if (kind == Lap::kRandomWalk) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        sym(i, j) = rs[i] *
                    ((i == j ? static_cast<float>(deg[i]) : 0.0f) -
                     0.5f * (a[i * n + j] + a[j * n + i])) *
                    rs[j];
  } else {
    sym = l;
  }
  Eigen::SelfAdjointEigenSolver<MatR> es(sym, Eigen::EigenvaluesOnly);
  Eigen::Map<Eigen::VectorXf>(c.aux[0], n) = es.eigenvalues();
}

}  // namespace

Status LaplacianShape(const ShapeCtx& c) { return GraphShape(c); }
void LaplacianForward(const GenCall<float>& c) { GraphForward(c, Lap::kPlain); }

Status NormalizedLaplacianShape(const ShapeCtx& c) { return GraphShape(c); }
void NormalizedLaplacianForward(const GenCall<float>& c) {
  GraphForward(c, Lap::kSym);
}

Status RandomWalkLaplacianShape(const ShapeCtx& c) { return GraphShape(c); }
void RandomWalkLaplacianForward(const GenCall<float>& c) {
  GraphForward(c, Lap::kRandomWalk);
}

}  // namespace dlmath
#endif  // HWY_ONCE
