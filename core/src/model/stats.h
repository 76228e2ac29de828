// The training engine's own small kernels (Highway, stats-inl.h): the step's
// diagnostics sums, which read each array once, vectorised, instead of a
// scalar double loop per statistic; and a linear layer's bias rows.
#ifndef DLMATH_SRC_MODEL_STATS_H_
#define DLMATH_SRC_MODEL_STATS_H_

#include <cstddef>
#include <cstdint>

namespace dlmath::model {

// out[4k..4k+3] = {sum v, sum v^2, sum g^2, zeros} over v[k][0, n[k]) and
// g[k][0, n[k]), zeros the number of zeros among probe[k][0, width[k]) (0
// when probe[k] is null), k < count: each layer's output moments, its
// gradient's norm and its dead-unit probe, every layer of a step in one
// call. Relative error ~1e-7 (float lanes per block of 1024, block sums in
// double).
void MomentsOf(const float* const* v, const float* const* g, const int64_t* n,
               const float* const* probe, const int64_t* width, size_t count,
               double* out);
// y[r, :] += b for each of the rows of y [rows, cols] (the bias add).
void AddRowVector(const float* b, float* y, size_t rows, size_t cols);
// s += the column sums of v [rows, cols], row after row (the bias
// gradient: the same bits as a scalar loop over the rows); accumulate false:
// s = those sums (the bits of s zeroed first).
void AddColumnSums(const float* v, size_t rows, size_t cols, float* s,
                   bool accumulate = true);

}  // namespace dlmath::model

#endif  // DLMATH_SRC_MODEL_STATS_H_
