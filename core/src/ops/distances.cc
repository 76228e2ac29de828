// Distances and similarities between rows: General-form ops on x1 [N, D] and
// x2 [M, D]. The pair rule, shared by every op here: N == M (and all_pairs
// off) compares row i with row i, y [N]; otherwise (or with all_pairs) every
// row of x1 meets every row of x2, y [N, M] (torch.cdist's layout). The
// per-pair loops are Highway kernels (distances-inl.h); products over all
// pairs (dot, cosine) and mahalanobis' triangular solves are Eigen.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/distances.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/distances-inl.h"
// clang-format on

#if HWY_ONCE
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_distances(...) __VA_ARGS__
#include "core/src/ops/export.h"

DLMATH_HWY_EXPORT(DistanceForward)
DLMATH_HWY_EXPORT(DistanceBackward)
DLMATH_HWY_EXPORT(CosineRowForward)
DLMATH_HWY_EXPORT(CosineRowBackward)

namespace {

using MatR =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Mat = Eigen::Map<MatR>;
using ConstMat = Eigen::Map<const MatR>;
using VecF = Eigen::Map<Eigen::VectorXf>;

// Same numbering as DistanceKind in distances-inl.h.
enum Kind { kDot = 0, kEuclid = 1, kL1 = 2, kPNorm = 3 };

// The all_pairs param of the row of op kOp.
template <OpId kOp>
bool AllPairsOf(const double* p) {
  return p[DLMATH_PARAM_OF(kOp, all_pairs)] != 0;
}

// The pair rule (see the file comment).
bool AllPairs(bool all_pairs, const Shape& x1, const Shape& x2) {
  return all_pairs || x1.dim[0] != x2.dim[0];
}

// Checks x2's row length against x1's and sets the output shape.
Status PairShape(const ShapeCtx& c, bool all_pairs, bool keepdim = false) {
  const Shape& a = c.in[0];
  const Shape& b = c.in[1];
  const std::string op(c.op);
  if (b.dim[1] != a.dim[1])
    return Status(ErrorCode::kBadShape, op, "x2",
                  "op '" + op + "': input 'x2' must have shape [M, " +
                      std::to_string(a.dim[1]) +
                      "] (rows as long as those of x1 " + a.str() + "), got " +
                      b.str());
  Shape out =
      AllPairs(all_pairs, a, b) ? Shape{a.dim[0], b.dim[0]} : Shape{a.dim[0]};
  if (keepdim) out.dim[out.rank++] = 1;
  *c.out = out;
  return {};
}

struct Sizes {
  size_t n, m, dim;
  int pairs;
};
template <class T>
Sizes SizesOf(const GenCall<T>& c, bool all_pairs) {
  const Shape& a = c.in_shape[0];
  const Shape& b = c.in_shape[1];
  return {static_cast<size_t>(a.dim[0]), static_cast<size_t>(b.dim[0]),
          static_cast<size_t>(a.dim[1]), AllPairs(all_pairs, a, b) ? 1 : 0};
}

void PairForward(const GenCall<float>& c, bool all_pairs, int kind,
                 double p = 2, float eps = 0) {
  const Sizes s = SizesOf(c, all_pairs);
  DLMATH_DISPATCH(DistanceForward)
  (c.in[0], c.in[1], c.out, s.n, s.m, s.dim, s.pairs, kind, p, eps);
}
void PairBackward(const GenCall<float>& c, bool all_pairs, int kind,
                  double p = 2, float eps = 0) {
  const Sizes s = SizesOf(c, all_pairs);
  DLMATH_DISPATCH(DistanceBackward)
  (c.in[0], c.in[1], c.out, c.dy, c.din[0], c.din[1], s.n, s.m, s.dim, s.pairs,
   kind, p, eps);
}

}  // namespace

// ----- dot: x1 . x2 ----------------------------------------------------------
// Row mode: Highway dot per row (double block totals). All pairs: the GEMM
// x1 x2^T (Eigen; error ~D ulp of sum |terms|). Backward: dx1 += g x2,
// dx2 += g x1 (all pairs: dx1 += G x2, dx2 += G^T x1). Nothing saved.

Status DotShape(const ShapeCtx& c) {
  return PairShape(c, AllPairsOf<OpId::dot>(c.p));
}

void DotForward(const GenCall<float>& c) {
  const Sizes s = SizesOf(c, AllPairsOf<OpId::dot>(c.p));
  if (!s.pairs) return PairForward(c, AllPairsOf<OpId::dot>(c.p), kDot);
  const Eigen::Index n = s.n, m = s.m, d = s.dim;
  Mat(c.out, n, m).noalias() =
      ConstMat(c.in[0], n, d) * ConstMat(c.in[1], m, d).transpose();
}

void DotBackward(const GenCall<float>& c) {
  const Sizes s = SizesOf(c, AllPairsOf<OpId::dot>(c.p));
  if (!s.pairs) return PairBackward(c, AllPairsOf<OpId::dot>(c.p), kDot);
  const Eigen::Index n = s.n, m = s.m, d = s.dim;
  const ConstMat g(c.dy, n, m);
  if (c.din[0]) Mat(c.din[0], n, d).noalias() += g * ConstMat(c.in[1], m, d);
  if (c.din[1])
    Mat(c.din[1], m, d).noalias() += g.transpose() * ConstMat(c.in[0], n, d);
}

// ----- cosine_similarity: x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) ------
// PyTorch >= 1.12's formula: each norm is clamped separately (older
// versions clamped the product). Row mode: Highway (distances-inl.h). All
// pairs: the GEMM x1 x2^T divided by the outer product of the clamped
// norms. Backward (all pairs) uses the workspace: A = G / (c1 c2^T) [N, M],
// then dx1 += A x2 - diag(sum_j G y / (c1 n1)) x1, likewise for x2.

Status CosineSimilarityShape(const ShapeCtx& c) {
  if (Status s = PairShape(c, AllPairsOf<OpId::cosine_similarity>(c.p));
      !s.ok())
    return s;
  if (AllPairs(AllPairsOf<OpId::cosine_similarity>(c.p), c.in[0], c.in[1]))
    *c.workspace =
        c.in[0].dim[0] * c.in[1].dim[0] + c.in[0].dim[0] + c.in[1].dim[0];
  return {};
}

namespace {
// Norms of the rows of x [rows, d] into nr (unclamped: backward needs both).
void RowNorms(const float* x, Eigen::Index rows, Eigen::Index d, float* nr) {
  VecF(nr, rows) = ConstMat(x, rows, d).rowwise().norm();
}
float Clamp(float v, float eps) { return v < eps ? eps : v; }
}  // namespace

void CosineSimilarityForward(const GenCall<float>& c) {
  const Sizes s = SizesOf(c, AllPairsOf<OpId::cosine_similarity>(c.p));
  const double eps = c.p[DLMATH_PARAM(cosine_similarity, eps)];
  if (!s.pairs)
    return DLMATH_DISPATCH(CosineRowForward)(c.in[0], c.in[1], c.out, s.n,
                                             s.dim, eps);
  const Eigen::Index n = s.n, m = s.m, d = s.dim;
  float* n1 = c.ws + n * m;
  float* n2 = n1 + n;
  RowNorms(c.in[0], n, d, n1);
  RowNorms(c.in[1], m, d, n2);
  Mat y(c.out, n, m);
  y.noalias() = ConstMat(c.in[0], n, d) * ConstMat(c.in[1], m, d).transpose();
  const float e = static_cast<float>(eps);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < m; ++j)
      y(i, j) /= Clamp(n1[i], e) * Clamp(n2[j], e);
}

void CosineSimilarityBackward(const GenCall<float>& c) {
  const Sizes s = SizesOf(c, AllPairsOf<OpId::cosine_similarity>(c.p));
  const double eps = c.p[DLMATH_PARAM(cosine_similarity, eps)];
  if (!s.pairs)
    return DLMATH_DISPATCH(CosineRowBackward)(
        c.in[0], c.in[1], c.out, c.dy, c.din[0], c.din[1], s.n, s.dim, eps);
  const Eigen::Index n = s.n, m = s.m, d = s.dim;
  const float e = static_cast<float>(eps);
  const float* n1 = c.ws + n * m;
  const float* n2 = n1 + n;
  const ConstMat x1(c.in[0], n, d), x2(c.in[1], m, d), g(c.dy, n, m),
      y(c.out, n, m);
  Mat a(c.ws, n, m);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < m; ++j)
      a(i, j) = g(i, j) / (Clamp(n1[i], e) * Clamp(n2[j], e));
  if (c.din[0]) {
    Mat dx1(c.din[0], n, d);
    dx1.noalias() += a * x2;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!(n1[i] > 0)) continue;
      const double r =
          (g.row(i).cast<double>().array() * y.row(i).cast<double>().array())
              .sum() /
          (Clamp(n1[i], e) * double{n1[i]});
      dx1.row(i) -= static_cast<float>(r) * x1.row(i);
    }
  }
  if (c.din[1]) {
    Mat dx2(c.din[1], m, d);
    dx2.noalias() += a.transpose() * x1;
    for (Eigen::Index j = 0; j < m; ++j) {
      if (!(n2[j] > 0)) continue;
      const double r =
          (g.col(j).cast<double>().array() * y.col(j).cast<double>().array())
              .sum() /
          (Clamp(n2[j], e) * double{n2[j]});
      dx2.row(j) -= static_cast<float>(r) * x2.row(j);
    }
  }
}

// ----- euclidean: ||x1 - x2||_2
// ------------------------------------------------ Per pair, the squared
// differences summed in double blocks, then sqrt: never the ||a||^2 + ||b||^2 -
// 2 a.b shortcut, which cancels for close rows. Backward: dx1 += g (x1 - x2) /
// y, dx2 -= the same; 0 at y = 0 (the subgradient torch.cdist returns). Nothing
// saved.

Status EuclideanShape(const ShapeCtx& c) {
  return PairShape(c, AllPairsOf<OpId::euclidean>(c.p));
}
void EuclideanForward(const GenCall<float>& c) {
  PairForward(c, AllPairsOf<OpId::euclidean>(c.p), kEuclid);
}
void EuclideanBackward(const GenCall<float>& c) {
  PairBackward(c, AllPairsOf<OpId::euclidean>(c.p), kEuclid);
}

// ----- manhattan: sum |x1 - x2| ---------------------------------------------
// Backward: dx1 += g sign(x1 - x2), sign(0) = 0 (PyTorch). Nothing saved.

Status ManhattanShape(const ShapeCtx& c) {
  return PairShape(c, AllPairsOf<OpId::manhattan>(c.p));
}
void ManhattanForward(const GenCall<float>& c) {
  PairForward(c, AllPairsOf<OpId::manhattan>(c.p), kL1);
}
void ManhattanBackward(const GenCall<float>& c) {
  PairBackward(c, AllPairsOf<OpId::manhattan>(c.p), kL1);
}

// ----- mahalanobis: sqrt((x1 - x2)^T S^-1 (x1 - x2))
// ---------------------------- S [D, D] symmetric positive definite (a
// covariance; optional, identity when absent). With S = L L^T (Cholesky, in
// double), the distance is the euclidean distance of the whitened rows w = x
// L^-T, so forward whitens both inputs (Eigen triangular solves) and runs the
// euclidean kernel. Workspace: L [D, D], w1 [N, D], w2 [M, D] (forward) and
// dw1, dw2 (backward: the euclidean gradients, then dx += dw L^-1).

Status MahalanobisShape(const ShapeCtx& c) {
  if (Status s = PairShape(c, AllPairsOf<OpId::mahalanobis>(c.p)); !s.ok())
    return s;
  if (!c.data[2]) return {};
  const std::string op(c.op);
  const int64_t d = c.in[0].dim[1];
  if (!(c.in[2] == Shape{d, d}))
    return Status(ErrorCode::kBadShape, op, "S",
                  "op '" + op + "': input 'S' must have shape [" +
                      std::to_string(d) + ", " + std::to_string(d) +
                      "] (D x D for rows of length " + std::to_string(d) +
                      "), got " + c.in[2].str());
  const Eigen::MatrixXd s =
      Eigen::Map<const MatR>(c.data[2], d, d).cast<double>();
  const double big = s.cwiseAbs().maxCoeff();
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < i; ++j)
      if (!(std::fabs(s(i, j) - s(j, i)) <= 1e-6 * big))
        return Status(ErrorCode::kBadValue, op, "S",
                      "op '" + op + "': input 'S' must be symmetric; S[" +
                          std::to_string(i) + ", " + std::to_string(j) +
                          "] = " + std::to_string(s(i, j)) + " but S[" +
                          std::to_string(j) + ", " + std::to_string(i) +
                          "] = " + std::to_string(s(j, i)));
  const Eigen::LLT<Eigen::MatrixXd> llt(s);
  if (llt.info() != Eigen::Success || !s.allFinite())
    return Status(ErrorCode::kBadValue, op, "S",
                  "op '" + op +
                      "': input 'S' must be positive definite (a covariance "
                      "of full rank); its Cholesky factorisation failed");
  *c.workspace = d * d + 2 * (c.in[0].dim[0] + c.in[1].dim[0]) * d;
  return {};
}

namespace {
// Whitened rows (or the inputs themselves when S is absent).
struct Whitened {
  const float* w1;
  const float* w2;
  float* l;  // Cholesky factor, row-major [D, D]; null without S
};
Whitened Whiten(const GenCall<float>& c, bool compute) {
  if (!c.in[2]) return {c.in[0], c.in[1], nullptr};
  const Eigen::Index n = c.in_shape[0][0], m = c.in_shape[1][0],
                     d = c.in_shape[0][1];
  float* l = c.ws;
  float* w1 = l + d * d;
  float* w2 = w1 + n * d;
  if (compute) {
    const Eigen::LLT<Eigen::MatrixXd> llt(
        ConstMat(c.in[2], d, d).cast<double>());
    Mat(l, d, d) = llt.matrixL().toDenseMatrix().cast<float>();
    const auto lt =
        ConstMat(l, d, d).transpose().triangularView<Eigen::Upper>();
    Mat a(w1, n, d), b(w2, m, d);
    a = ConstMat(c.in[0], n, d);
    b = ConstMat(c.in[1], m, d);
    lt.solveInPlace<Eigen::OnTheRight>(a);  // a L^T = x1
    lt.solveInPlace<Eigen::OnTheRight>(b);
  }
  return {w1, w2, l};
}
}  // namespace

void MahalanobisForward(const GenCall<float>& c) {
  const Sizes s = SizesOf(c, AllPairsOf<OpId::mahalanobis>(c.p));
  const Whitened w = Whiten(c, true);
  DLMATH_DISPATCH(DistanceForward)
  (w.w1, w.w2, c.out, s.n, s.m, s.dim, s.pairs, kEuclid, 2.0, 0.0f);
}

void MahalanobisBackward(const GenCall<float>& c) {
  const Sizes s = SizesOf(c, AllPairsOf<OpId::mahalanobis>(c.p));
  const Whitened w = Whiten(c, false);
  if (!w.l)
    return DLMATH_DISPATCH(DistanceBackward)(w.w1, w.w2, c.out, c.dy, c.din[0],
                                             c.din[1], s.n, s.m, s.dim, s.pairs,
                                             kEuclid, 2.0, 0.0f);
  const Eigen::Index n = s.n, m = s.m, d = s.dim;
  float* dw1 = c.ws + d * d + (n + m) * d;
  float* dw2 = dw1 + n * d;
  std::fill(dw1, dw1 + (n + m) * d, 0.0f);
  DLMATH_DISPATCH(DistanceBackward)
  (w.w1, w.w2, c.out, c.dy, dw1, dw2, s.n, s.m, s.dim, s.pairs, kEuclid, 2.0,
   0.0f);
  const auto l = ConstMat(w.l, d, d).triangularView<Eigen::Lower>();
  Mat a(dw1, n, d), b(dw2, m, d);
  l.solveInPlace<Eigen::OnTheRight>(a);  // dw L^-1
  l.solveInPlace<Eigen::OnTheRight>(b);
  if (c.din[0]) Mat(c.din[0], n, d) += a;
  if (c.din[1]) Mat(c.din[1], m, d) += b;
}

// ----- pairwise_distance: ||x1 - x2 + eps||_p
// ---------------------------------- torch.nn.functional.pairwise_distance: eps
// is added to the difference (not a clamp), p > 0. keepdim appends a dimension
// of 1. p = 1, 2: plain sums; other p scale by max |u| before e^(p log v)
// (distances-inl.h). Backward: g sign(u) (|u| / y)^(p - 1), 0 where u = 0 or y
// = 0 (PyTorch's norm backward). Nothing saved.

Status PairwiseDistanceShape(const ShapeCtx& c) {
  return PairShape(c, AllPairsOf<OpId::pairwise_distance>(c.p),
                   c.p[DLMATH_PARAM(pairwise_distance, keepdim)] != 0);
}
void PairwiseDistanceForward(const GenCall<float>& c) {
  PairForward(c, AllPairsOf<OpId::pairwise_distance>(c.p), kPNorm,
              c.p[DLMATH_PARAM(pairwise_distance, p)],
              static_cast<float>(c.p[DLMATH_PARAM(pairwise_distance, eps)]));
}
void PairwiseDistanceBackward(const GenCall<float>& c) {
  PairBackward(c, AllPairsOf<OpId::pairwise_distance>(c.p), kPNorm,
               c.p[DLMATH_PARAM(pairwise_distance, p)],
               static_cast<float>(c.p[DLMATH_PARAM(pairwise_distance, eps)]));
}

}  // namespace dlmath
#endif  // HWY_ONCE
