// The training engine's own small kernels (Highway), see stats.h: the
// diagnostics sums, one pass over an array per statistic group, in float
// lanes summed per block of 1024 values and the block sums in double (as
// BlockSum in core/src/ops/simd-inl.h: relative error ~1e-7 whatever n;
// tails load zeros past n, which add nothing); and a linear layer's bias
// rows, forward and backward.
#if defined(DLMATH_MODEL_STATS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_MODEL_STATS_INL_H_
#undef DLMATH_MODEL_STATS_INL_H_
#else
#define DLMATH_MODEL_STATS_INL_H_
#endif

#include <array>

#include "core/src/model/stats.h"
#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// out[j] += sum over i < n of term(v_i)[j], j < kSums, for the vectors v_i of
// `load(i, r)` (r lanes from element i; zeros past them).
template <size_t kSums, class D, class Load, class Terms>
HWY_INLINE void BlockSums(D d, size_t n, const Load& load, const Terms& terms,
                          double* out) {
  const size_t N = hn::Lanes(d);
  using V = hn::Vec<D>;
  for (size_t start = 0; start < n; start += 1024) {
    const size_t end = start + 1024 < n ? start + 1024 : n;
    V a[kSums], b[kSums];  // two accumulators a sum: a short chain
    for (size_t j = 0; j < kSums; ++j) a[j] = b[j] = hn::Zero(d);
    size_t i = start;
    for (; i + 2 * N <= end; i += 2 * N) {
      terms(load(i, N), a);
      terms(load(i + N, N), b);
    }
    if (i < end) terms(load(i, end - i < N ? end - i : N), a);
    if (i + N < end) terms(load(i + N, end - i - N), b);
    for (size_t j = 0; j < kSums; ++j)
      out[j] += hn::GetLane(hn::SumOfLanes(d, hn::Add(a[j], b[j])));
  }
}

// K arrays of n values read side by side: index i of each, as one struct.
// A tail of r < Lanes values comes from the whole vector that ends at i + r,
// its first lanes (read before) zeroed: the sums need not know which lane
// holds a value, and a whole load costs less than LoadN's copy. Only an
// array shorter than a vector takes LoadN.
template <class D, size_t K>
struct VecSet {
  hn::Vec<D> v[K];
};
template <size_t K, class D>
HWY_INLINE auto ArraysLoader(D d, const float* const (&arrays)[K]) {
  return [d, a = std::to_array(arrays)](size_t i, size_t r) {
    const size_t N = hn::Lanes(d);
    VecSet<D, K> out;
    for (size_t k = 0; k < K; ++k) {
      if (r == N) {
        out.v[k] = hn::LoadU(d, a[k] + i);
      } else if (i + r < N) {
        out.v[k] = LoadN(d, a[k] + i, r);
      } else {
        out.v[k] = hn::IfThenElseZero(hn::Not(hn::FirstN(d, N - r)),
                                      hn::LoadU(d, a[k] + i + r - N));
      }
    }
    return out;
  };
}

// The number of columns of p [rows, cols] that hold 0 in every row: each
// column read down the rows until it shows a nonzero value (a vector of
// columns until all its lanes have).
template <class D>
HWY_INLINE size_t ZeroColumns(D d, const float* p, size_t rows, size_t cols) {
  const size_t N = hn::Lanes(d);
  const auto zero = hn::Zero(d);
  size_t zeros = 0, j = 0;
  for (; j + N <= cols; j += N) {
    auto seen = hn::Ne(hn::LoadU(d, p + j), zero);
    for (size_t row = 1; row < rows && !hn::AllTrue(d, seen); ++row)
      seen = hn::Or(seen, hn::Ne(hn::LoadU(d, p + row * cols + j), zero));
    zeros += N - hn::CountTrue(d, seen);
  }
  for (; j < cols; ++j) {
    size_t row = 0;
    while (row < rows && p[row * cols + j] == 0.0f) ++row;
    zeros += row == rows;
  }
  return zeros;
}

// out[4k..4k+3] = {sum out, sum out^2, sum dout^2, zero columns} of layer k
// < count (stats.h): each layer's output moments, its gradient's squares
// and its dead-unit probe, all layers in one call.
HWY_NOINLINE void LayerSums(const model::LayerArrays* layers, size_t count,
                            double* out) {
  const hn::ScalableTag<float> d;
  for (const model::LayerArrays* l = layers; l < layers + count;
       ++l, out += 4) {
    out[0] = out[1] = out[2] = 0;
    BlockSums<3>(
        d, static_cast<size_t>(l->n), ArraysLoader<2>(d, {l->out, l->dout}),
        [&](const auto& p, auto* acc) {
          acc[0] = hn::Add(acc[0], p.v[0]);
          acc[1] = hn::MulAdd(p.v[0], p.v[0], acc[1]);
          acc[2] = hn::MulAdd(p.v[1], p.v[1], acc[2]);
        },
        out);
    out[3] = l->probe ? static_cast<double>(ZeroColumns(
                            d, l->probe, static_cast<size_t>(l->probe_rows),
                            static_cast<size_t>(l->probe_cols)))
                      : 0.0;
  }
}

// y[r, j] += b[j] for r < rows, j < cols: each element one float add. A
// column of vectors at a time, its b loaded once and a pointer stepping down
// the rows: V8 compiles that to a load, an add and a store a vector (a flat
// loop wrapping b's index cost it 15 instructions a vector).
HWY_NOINLINE void AddRowVector(const float* HWY_RESTRICT b,
                               float* HWY_RESTRICT y, size_t rows,
                               size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  if (cols == 1) {  // one output (regression): add b[0] down the column
    const auto b0 = hn::Set(d, b[0]);
    size_t r = 0;
    for (; r + N <= rows; r += N)
      hn::StoreU(hn::Add(hn::LoadU(d, y + r), b0), d, y + r);
    for (; r < rows; ++r) y[r] += b[0];
    return;
  }
  size_t j = 0;
  for (; j + N <= cols; j += N) {
    const auto bj = hn::LoadU(d, b + j);
    float* HWY_RESTRICT p = y + j;
    for (size_t r = 0; r < rows; ++r, p += cols)
      hn::StoreU(hn::Add(hn::LoadU(d, p), bj), d, p);
  }
  for (; j < cols; ++j) {
    float* HWY_RESTRICT p = y + j;
    for (size_t r = 0; r < rows; ++r, p += cols) *p += b[j];
  }
}

// s[j] += v[r, j] for r = 0, 1, ..., rows - 1 in that order, j < cols: each
// s[j] the sequential float sum a scalar loop over the rows gives (from 0
// when not accumulating: the bits of a zeroed s). A pointer steps down the
// rows (an index times cols cost V8 a multiply a row).
HWY_NOINLINE void AddColumnSums(const float* HWY_RESTRICT v, size_t rows,
                                size_t cols, float* HWY_RESTRICT s,
                                bool accumulate) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t j = 0;
  for (; j + N <= cols; j += N) {
    auto acc = accumulate ? hn::LoadU(d, s + j) : hn::Zero(d);
    const float* HWY_RESTRICT p = v + j;
    for (size_t r = 0; r < rows; ++r, p += cols)
      acc = hn::Add(acc, hn::LoadU(d, p));
    hn::StoreU(acc, d, s + j);
  }
  for (; j < cols; ++j) {
    float acc = accumulate ? s[j] : 0.0f;
    const float* HWY_RESTRICT p = v + j;
    for (size_t r = 0; r < rows; ++r, p += cols) acc += *p;
    s[j] = acc;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_MODEL_STATS_INL_H_
