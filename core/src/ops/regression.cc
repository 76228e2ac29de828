// Linear least squares: the solver (least_squares) and the loss it minimises
// (least_squares_loss). Legend: m samples, n features, k targets (Y is [m]
// or [m, k], theta [n] or [n, k]). Eigen, mapped over the caller's buffers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/regression.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/regression-inl.h"
// clang-format on

#if HWY_ONCE
#include <Eigen/Core>
#include <Eigen/QR>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_regression(...) __VA_ARGS__
#include "core/src/ops/export.h"

namespace {

using MatR =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatRd =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Mat = Eigen::Map<MatR>;
using ConstMat = Eigen::Map<const MatR>;

// Columns of a [m] or [m, k] tensor.
int64_t Cols(const Shape& s) { return s.rank == 1 ? 1 : s.dim[1]; }

Status BadShape(const std::string& op, const char* input,
                const std::string& want, const Shape& got) {
  return Status(ErrorCode::kBadShape, op, input,
                "op '" + op + "': input '" + input + "' must have shape " +
                    want + ", got " + got.str());
}

}  // namespace

// ----- least_squares
// ------------------------------------------------------------ theta = argmin
// 1/2 ||X theta - Y||^2, the minimum-norm one when X is rank deficient, from
// Eigen's CompleteOrthogonalDecomposition (column-pivoted QR, then an RZ step
// on the rank-r block: backward stable, never the normal equations, whose X^T X
// squares the condition number). The decomposition copies X anyway, so it runs
// in double: a float32 solve loses cond(X) * 6e-8 in theta (1e-5 at cond 100),
// double leaves only the final rounding. Rank threshold: Eigen's default,
// |r_ii| <= n * eps_double * |r_11|. aux: loss [1] = 1/2 ||X theta - Y||^2 and
// residual = Y - X theta (the data minus the fit), shaped like Y.

Status LeastSquaresShape(const ShapeCtx& c) {
  const std::string op(c.op);
  const Shape& x = c.in[0];
  const Shape& y = c.in[1];
  if (y.dim[0] != x.dim[0])
    return BadShape(op, "Y",
                    "[" + std::to_string(x.dim[0]) + "] or [" +
                        std::to_string(x.dim[0]) + ", k] (one row per row of " +
                        "X " + x.str() + ")",
                    y);
  *c.out = y.rank == 1 ? Shape{x.dim[1]} : Shape{x.dim[1], y.dim[1]};
  c.aux[0] = Shape{1};
  c.aux[1] = y;
  return {};
}

void LeastSquaresForward(const GenCall<float>& c) {
  const int64_t m = c.in_shape[0][0], n = c.in_shape[0][1];
  const int64_t k = Cols(c.in_shape[1]);
  const MatRd x = ConstMat(c.in[0], m, n).cast<double>();
  const MatRd y = ConstMat(c.in[1], m, k).cast<double>();
  const Eigen::CompleteOrthogonalDecomposition<MatRd> cod(x);
  const MatRd theta = cod.solve(y);
  const MatRd r = y - x * theta;
  Mat(c.out, n, k) = theta.cast<float>();
  Mat(c.aux[1], m, k) = r.cast<float>();
  c.aux[0][0] = static_cast<float>(0.5 * r.squaredNorm());
}

// ----- least_squares_loss
// ----------------------------------------------------- l = 1/2 ||X theta -
// Y||^2 (a sum, not a mean). Float32 GEMV/GEMM through Eigen; the squared norm
// is summed in double. Forward saves r = X theta - Y in ws (m k floats).
// Backward: dX += g r theta^T, dtheta += g X^T r, dY -= g r.

Status LeastSquaresLossShape(const ShapeCtx& c) {
  const std::string op(c.op);
  const Shape& x = c.in[0];
  const Shape& t = c.in[1];
  const Shape& y = c.in[2];
  if (t.dim[0] != x.dim[1])
    return BadShape(op, "theta",
                    "[" + std::to_string(x.dim[1]) + "] or [" +
                        std::to_string(x.dim[1]) + ", k] (one row per " +
                        "column of X " + x.str() + ")",
                    t);
  const Shape want = t.rank == 1 ? Shape{x.dim[0]} : Shape{x.dim[0], t.dim[1]};
  if (!(y == want))
    return BadShape(op, "Y", want.str() + " (rows of X, columns of theta)", y);
  *c.out = Shape{};
  *c.workspace = want.numel();
  return {};
}

void LeastSquaresLossForward(const GenCall<float>& c) {
  const int64_t m = c.in_shape[0][0], n = c.in_shape[0][1];
  const int64_t k = Cols(c.in_shape[1]);
  Mat r(c.ws, m, k);
  r.noalias() = ConstMat(c.in[0], m, n) * ConstMat(c.in[1], n, k);
  r -= ConstMat(c.in[2], m, k);
  double s = 0;
  for (int64_t i = 0; i < m * k; ++i) s += double{c.ws[i]} * c.ws[i];
  c.out[0] = static_cast<float>(0.5 * s);
}

void LeastSquaresLossBackward(const GenCall<float>& c) {
  const int64_t m = c.in_shape[0][0], n = c.in_shape[0][1];
  const int64_t k = Cols(c.in_shape[1]);
  const float g = c.dy[0];
  const ConstMat r(c.ws, m, k);
  if (c.din[0])
    Mat(c.din[0], m, n).noalias() +=
        g * (r * ConstMat(c.in[1], n, k).transpose());
  if (c.din[1])
    Mat(c.din[1], n, k).noalias() +=
        g * (ConstMat(c.in[0], m, n).transpose() * r);
  if (c.din[2]) Mat(c.din[2], m, k) -= g * r;
}

}  // namespace dlmath
#endif  // HWY_ONCE
