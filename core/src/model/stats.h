// The training step's diagnostics sums, as Highway kernels (stats-inl.h):
// the step reads each array once for them, vectorised, instead of a scalar
// double loop per statistic.
#ifndef DLMATH_SRC_MODEL_STATS_H_
#define DLMATH_SRC_MODEL_STATS_H_

#include <cstddef>

namespace dlmath::model {

// {sum v, sum v^2} over v[0, n). Relative error ~1e-7 (float lanes per
// block of 1024, block sums in double).
struct Moments {
  double sum = 0, squares = 0;
};
Moments MomentsOf(const float* v, size_t n);

// Over [0, n): sum (after - before)^2, sum before^2, sum after^2.
struct UpdateSums {
  double delta = 0, before = 0, after = 0;
};
UpdateSums UpdateSumsOf(const float* before, const float* after, size_t n);

}  // namespace dlmath::model

#endif  // DLMATH_SRC_MODEL_STATS_H_
