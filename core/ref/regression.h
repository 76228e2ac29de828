// Float64 references of least squares: the solution from Eigen's JacobiSVD
// (the pseudo-inverse, a different algorithm from the kernel's complete
// orthogonal decomposition; both give the minimum-norm solution), and the
// loss with plain loops. The oracle for core/src/ops/regression.cc.
#ifndef DLMATH_REF_REGRESSION_H_
#define DLMATH_REF_REGRESSION_H_

#include <Eigen/SVD>
#include <cstdint>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::ref {

inline void LeastSquaresForward(const GenCall<double>& c) {
  const int64_t m = c.in_shape[0][0], n = c.in_shape[0][1];
  const int64_t k = c.in_shape[1].rank == 1 ? 1 : c.in_shape[1][1];
  Eigen::MatrixXd x(m, n), y(m, k);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) x(i, j) = c.in[0][i * n + j];
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) y(i, j) = c.in[1][i * k + j];
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(
      x, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::MatrixXd theta = svd.solve(y);
  double loss = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double fit = 0;
      for (int64_t l = 0; l < n; ++l) fit += x(i, l) * theta(l, j);
      const double r = y(i, j) - fit;
      c.aux[1][i * k + j] = r;
      loss += 0.5 * r * r;
    }
  for (int64_t l = 0; l < n; ++l)
    for (int64_t j = 0; j < k; ++j) c.out[l * k + j] = theta(l, j);
  c.aux[0][0] = loss;
}

// r = X theta - Y, m x k.
inline std::vector<double> LstsqResidual(const GenCall<double>& c) {
  const int64_t m = c.in_shape[0][0], n = c.in_shape[0][1];
  const int64_t k = c.in_shape[1].rank == 1 ? 1 : c.in_shape[1][1];
  std::vector<double> r(m * k);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double s = 0;
      for (int64_t l = 0; l < n; ++l)
        s += c.in[0][i * n + l] * c.in[1][l * k + j];
      r[i * k + j] = s - c.in[2][i * k + j];
    }
  return r;
}
inline void LeastSquaresLossForward(const GenCall<double>& c) {
  double s = 0;
  for (double v : LstsqResidual(c)) s += 0.5 * v * v;
  c.out[0] = s;
}
inline void LeastSquaresLossBackward(const GenCall<double>& c) {
  const int64_t m = c.in_shape[0][0], n = c.in_shape[0][1];
  const int64_t k = c.in_shape[1].rank == 1 ? 1 : c.in_shape[1][1];
  const std::vector<double> r = LstsqResidual(c);
  const double g = c.dy[0];
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) {
      const double gr = g * r[i * k + j];
      for (int64_t l = 0; l < n; ++l) {
        if (c.din[0]) c.din[0][i * n + l] += gr * c.in[1][l * k + j];
        if (c.din[1]) c.din[1][l * k + j] += gr * c.in[0][i * n + l];
      }
      if (c.din[2]) c.din[2][i * k + j] -= gr;
    }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_REGRESSION_H_
