// The training engine's own small kernels (Highway, stats-inl.h): the step's
// diagnostics sums, which read each array once, vectorised, instead of a
// scalar double loop per statistic; and a linear layer's bias gradient.
#ifndef DLMATH_SRC_MODEL_STATS_H_
#define DLMATH_SRC_MODEL_STATS_H_

#include <cstddef>
#include <cstdint>

namespace dlmath::model {

// One layer's arrays for its step diagnostics: its output and output
// gradient, n floats each, and its dead-unit probe, a slot [probe_rows,
// probe_cols] in which a column holding a nonzero shows a live unit (null:
// none).
struct LayerArrays {
  const float* out = nullptr;
  const float* dout = nullptr;
  int64_t n = 0;
  const float* probe = nullptr;
  int64_t probe_rows = 0, probe_cols = 0;
};
// out[4k..4k+3] = {sum out, sum out^2, sum dout^2, zero columns} of layer k
// < count: its output moments, its gradient's norm and the number of probe
// columns that hold 0 in every row (0 without a probe; each column read
// down the rows only until it shows a nonzero: usually the first row
// settles all), every layer of a step in one call. Relative error ~1e-7
// (float lanes per block of 1024, block sums in double).
void MomentsOf(const LayerArrays* layers, size_t count, double* out);
// s += the column sums of v [rows, cols], row after row (the bias
// gradient: the same bits as a scalar loop over the rows); accumulate false:
// s = those sums (the bits of s zeroed first).
void AddColumnSums(const float* v, size_t rows, size_t cols, float* s,
                   bool accumulate = true);

}  // namespace dlmath::model

#endif  // DLMATH_SRC_MODEL_STATS_H_
