// Float64 references of the graph Laplacians: the matrices from their
// definitions on S = (A + A^T) / 2 with plain loops, the eigenvalues from
// Eigen's SelfAdjointEigenSolver in double. The oracle for
// core/src/ops/graph.cc.
#ifndef DLMATH_REF_GRAPH_H_
#define DLMATH_REF_GRAPH_H_

#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::ref {

// kind: 0 L = D - S, 1 L_sym = I - D^-1/2 S D^-1/2, 2 L_rw = I - D^-1 S;
// isolated nodes (degree 0) give zero rows in 1 and 2 (networkx).
inline void LaplacianRef(const GenCall<double>& c, int kind) {
  const int64_t n = c.in_shape[0][0];
  auto s = [&](int64_t i, int64_t j) {
    return 0.5 * (c.in[0][i * n + j] + c.in[0][j * n + i]);
  };
  std::vector<double> deg(n, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) deg[i] += s(i, j);
  Eigen::MatrixXd sym(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double plain = (i == j ? deg[i] : 0) - s(i, j);
      const bool isolated = deg[i] == 0 || deg[j] == 0;
      const double lsym =
          isolated ? 0 : plain / std::sqrt(deg[i]) / std::sqrt(deg[j]);
      const double lrw = deg[i] == 0 ? 0 : plain / deg[i];
      c.out[i * n + j] = kind == 0 ? plain : kind == 1 ? lsym : lrw;
      sym(i, j) = kind == 0 ? plain : lsym;
    }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(sym,
                                                    Eigen::EigenvaluesOnly);
  for (int64_t i = 0; i < n; ++i) c.aux[0][i] = es.eigenvalues()[i];
}

inline void LaplacianForward(const GenCall<double>& c) { LaplacianRef(c, 0); }
inline void NormalizedLaplacianForward(const GenCall<double>& c) {
  LaplacianRef(c, 1);
}
inline void RandomWalkLaplacianForward(const GenCall<double>& c) {
  LaplacianRef(c, 2);
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_GRAPH_H_
