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

#include <cstddef>

#include "core/src/model/stats.h"
#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

// The r < Lanes(d) values before `end` as a vector whose other lanes are 0:
// the whole vector that ends there (when the array, from `begin`, is that
// long: a whole load costs less than LoadN's copy) with its first lanes,
// read before, zeroed.
template <class D>
HWY_INLINE hn::Vec<D> LoadTail(D d, const float* begin, const float* end,
                               size_t r) {
  const size_t N = hn::Lanes(d);
  if (static_cast<size_t>(end - begin) < N) return LoadN(d, end - r, r);
  return hn::IfThenElseZero(hn::Not(hn::FirstN(d, N - r)),
                            hn::LoadU(d, end - N));
}

// The number of columns of p [rows, cols] that hold 0 in every row: each
// column read down the rows until it shows a nonzero value (a vector of
// columns until all its lanes have).
template <class D>
HWY_INLINE size_t ZeroColumns(D d, const float* p, size_t rows, size_t cols) {
  const size_t N = hn::Lanes(d);
  const auto zero = hn::Zero(d);
  if (cols >= N) {  // usually the first row alone shows every column live
    // The least of the first row's values shifted left by one bit (the
    // sign out: 0 only for +-0) as unsigned integers, one vector op a
    // vector (a mask And cost V8 a three-instruction blend).
    const hn::RebindToUnsigned<D> du;
    const auto magnitude = [&](size_t j) {
      return hn::ShiftLeft<1>(hn::BitCast(du, hn::LoadU(d, p + j)));
    };
    auto least = magnitude(cols - N);
    // Not unrolled: a row is a few vectors, and LLVM's unrolled loop's
    // set-up (trip count, remainder) cost V8 more than the loop itself.
#if defined(__clang__)
#pragma clang loop unroll(disable)
#endif
    for (size_t j = 0; j + N < cols; j += N)
      least = hn::Min(least, magnitude(j));
    if (hn::AllFalse(du, hn::Eq(least, hn::Zero(du)))) return 0;
  } else if (rows * cols >= N) {  // narrow rows (one output): the same test
    // on the first row's lanes of the array's first vector (a column loop
    // a row deep cost V8 two loops' entries and stack checks).
    const auto seen = hn::Ne(hn::LoadU(d, p), zero);
    if (hn::CountTrue(d, hn::And(hn::FirstN(d, cols), seen)) == cols) return 0;
  }
  size_t zeros = 0, j = 0;
  for (; j + N <= cols; j += N) {
    auto seen = hn::Ne(hn::LoadU(d, p + j), zero);
    for (size_t row = 1; row < rows && !hn::AllTrue(d, seen); ++row)
      seen = hn::Or(seen, hn::Ne(hn::LoadU(d, p + row * cols + j), zero));
    zeros += N - hn::CountTrue(d, seen);
  }
#if defined(__clang__)
#pragma clang loop unroll(disable)
#endif
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
  const size_t N = hn::Lanes(d);
  using V = hn::Vec<decltype(d)>;
  for (const model::LayerArrays* l = layers; l < layers + count;
       ++l, out += 4) {
    // The sums in locals, stored once (zeroing out first and adding to it
    // in memory cost V8 stores, a spill and its reload a layer).
    double sums[4] = {0, 0, 0, 0};
    // Pointers walk the two arrays (V8 folds a constant offset into a load's
    // address, not an index's), four vectors a turn (the loop's own
    // instructions cost as much as two vectors' sums): blocks of 1024
    // values, two accumulators a sum (a short chain), the block's four sums
    // added to out in double.
    const float* o = l->out;
    const float* g = l->dout;
    const float* const o_end = o + l->n;
    while (o < o_end) {
      const float* const stop = o_end - o > 1024 ? o + 1024 : o_end;
      V a[4], b[4];
      for (size_t j = 0; j < 4; ++j) a[j] = b[j] = hn::Zero(d);
      const auto add = [](V vo, V vg, V* acc) {
        acc[0] = hn::Add(acc[0], vo);
        acc[1] = hn::MulAdd(vo, vo, acc[1]);
        acc[2] = hn::MulAdd(vg, vg, acc[2]);
      };
      for (; stop - o >= static_cast<ptrdiff_t>(4 * N);
           o += 4 * N, g += 4 * N) {
        add(hn::LoadU(d, o), hn::LoadU(d, g), a);
        add(hn::LoadU(d, o + N), hn::LoadU(d, g + N), b);
        add(hn::LoadU(d, o + 2 * N), hn::LoadU(d, g + 2 * N), a);
        add(hn::LoadU(d, o + 3 * N), hn::LoadU(d, g + 3 * N), b);
      }
      for (; stop - o >= static_cast<ptrdiff_t>(N); o += N, g += N)
        add(hn::LoadU(d, o), hn::LoadU(d, g), a);
      if (const size_t r = static_cast<size_t>(stop - o)) {
        add(LoadTail(d, l->out, stop, r), LoadTail(d, l->dout, g + r, r), b);
        o += r;
        g += r;
      }
      const V s[4] = {hn::Add(a[0], b[0]), hn::Add(a[1], b[1]),
                      hn::Add(a[2], b[2]), hn::Add(a[3], b[3])};
      AddLaneSums4(d, s, sums);
    }
    out[0] = sums[0];
    out[1] = sums[1];
    out[2] = sums[2];
    out[3] = l->probe ? static_cast<double>(ZeroColumns(
                            d, l->probe, static_cast<size_t>(l->probe_rows),
                            static_cast<size_t>(l->probe_cols)))
                      : 0.0;
  }
}

// AddColumnSums' walk down the rows of kVecs adjacent columns of vectors at
// j: where a matrix has two, one walk takes both (the walk's pointer step and
// loop test per row cost V8 as much as a vector's load, add and store).
template <size_t kVecs, class D>
HWY_INLINE void AddColumnSumsColumns(D d, const float* HWY_RESTRICT v,
                                     size_t rows, size_t cols,
                                     float* HWY_RESTRICT s, bool accumulate) {
  const size_t N = hn::Lanes(d);
  hn::Vec<D> acc[kVecs];
  for (size_t c = 0; c < kVecs; ++c)
    acc[c] = accumulate ? hn::LoadU(d, s + c * N) : hn::Zero(d);
  for (size_t r = 0; r < rows; ++r, v += cols)
    for (size_t c = 0; c < kVecs; ++c)
      acc[c] = hn::Add(acc[c], hn::LoadU(d, v + c * N));
  for (size_t c = 0; c < kVecs; ++c) hn::StoreU(acc[c], d, s + c * N);
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
  for (; j + 2 * N <= cols; j += 2 * N)
    AddColumnSumsColumns<2>(d, v + j, rows, cols, s + j, accumulate);
  if (j + N <= cols) {
    AddColumnSumsColumns<1>(d, v + j, rows, cols, s + j, accumulate);
    j += N;
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
