// Float64 references of the losses, written from the definitions with
// PyTorch's conventions; the oracle for core/src/ops/losses.cc. Backward
// functions accumulate like the kernels.
#ifndef DLMATH_REF_LOSSES_H_
#define DLMATH_REF_LOSSES_H_

#include <cstdint>

#include "dlmath/registry.h"

namespace dlmath::ref {

// reduction: 0 mean, 1 sum, 2 none.

inline void MseForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[0]);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = c.in[0][i] - c.in[1][i];
    if (r == 2) c.out[i] = e * e;
    s += e * e;
  }
  if (r != 2) c.out[0] = r == 0 ? s / n : s;
}
inline void MseBackward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[0]);
  for (int64_t i = 0; i < n; ++i) {
    const double g = r == 2 ? c.dy[i] : c.dy[0] / (r == 0 ? n : 1);
    const double d = 2 * g * (c.in[0][i] - c.in[1][i]);
    if (c.din[0]) c.din[0][i] += d;
    if (c.din[1]) c.din[1][i] -= d;
  }
}

inline double NllRowWeight(const GenCall<double>& c, int64_t i) {
  const double t = c.in[1][i];
  if (t == c.p[1]) return 0;  // ignore_index
  return c.in[2] ? c.in[2][static_cast<int64_t>(t)] : 1.0;
}
inline void NllForward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[0]);
  double sum = 0, wsum = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const double w = NllRowWeight(c, i);
    const double li =
        w == 0 ? 0
               : -w * c.in[0][i * classes + static_cast<int64_t>(c.in[1][i])];
    if (r == 2) c.out[i] = li;
    sum += li;
    wsum += w;
  }
  if (r == 1) c.out[0] = sum;
  if (r == 0) c.out[0] = sum / wsum;
}
inline void NllBackward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[0]);
  double wsum = 0;
  for (int64_t i = 0; i < rows; ++i) wsum += NllRowWeight(c, i);
  for (int64_t i = 0; i < rows; ++i) {
    const double w = NllRowWeight(c, i);
    if (w == 0) continue;
    const double g = r == 2 ? c.dy[i] : c.dy[0];
    c.din[0][i * classes + static_cast<int64_t>(c.in[1][i])] -=
        w * g / (r == 0 ? wsum : 1.0);
  }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_LOSSES_H_
