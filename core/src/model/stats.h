// The training engine's own small kernels (Highway, stats-inl.h): the step's
// diagnostics sums, which read each array once, vectorised, instead of a
// scalar double loop per statistic; and a linear layer's bias rows.
#ifndef DLMATH_SRC_MODEL_STATS_H_
#define DLMATH_SRC_MODEL_STATS_H_

#include <cstddef>

namespace dlmath::model {

// {sum v, sum v^2, sum g^2} over v[0, n) and g[0, n): a layer's output
// moments and its gradient's norm in one pass over both. Relative error ~1e-7
// (float lanes per block of 1024, block sums in double).
struct Moments {
  double sum = 0, squares = 0, grad_squares = 0;
};
Moments MomentsOf(const float* v, const float* g, size_t n);

// Over [0, n): sum (after - before)^2, sum before^2, sum after^2.
struct UpdateSums {
  double delta = 0, before = 0, after = 0;
};
UpdateSums UpdateSumsOf(const float* before, const float* after, size_t n);

// y[r, :] += b for each of the rows of y [rows, cols] (the bias add).
void AddRowVector(const float* b, float* y, size_t rows, size_t cols);
// s += the column sums of v [rows, cols], row after row (the bias
// gradient: the same bits as a scalar loop over the rows).
void AddColumnSums(const float* v, size_t rows, size_t cols, float* s);

}  // namespace dlmath::model

#endif  // DLMATH_SRC_MODEL_STATS_H_
