// Matrix product kernel (Highway), the XNNPACK / BLIS shape: both operands
// are copied into small panels whose layout is the same in every
// orientation, and one MR x NR register tile multiplies them. Legend: C[M, N]
// (+)= op(A)[M, K] op(B)[K, N] (see core/src/gemm.h).
//
//   A panel: kMR rows of op(A) over kc steps of k, laid out [kc][rows];
//   B panel: kNR columns of op(B) over kc steps, [kc][kNR], zero-padded past
//            N (those lanes are computed but never stored);
//   tile:    kMR x kNR floats of C in 2 kMR vector accumulators, each k step
//            is one broadcast of A per row times two vectors of B (MulAdd).
//
// Transposed operands change only how the panels are filled (PackPanel), not
// the tile. Blocking: K in blocks of at most kGemmKC (a B panel, kc x kNR
// floats, stays in L1 while every row block of A passes over it), M in blocks
// of at most kGemmMC rows (their packed A, kc x mc floats, stays in L2 while
// the B panels go by). Each output element is one sequential sum over k per
// K block, added to C block after block: error <= gamma_{K+1} (|C| + sum
// |a||b|), gamma_n = n u / (1 - n u), u = 2^-24.

// Blocking sizes, the same for every target: gemm.cc sizes the packing space
// for A from them (min(M, kGemmMC) * min(K, kGemmKC) floats).
#ifndef DLMATH_OPS_GEMM_BLOCKING_
#define DLMATH_OPS_GEMM_BLOCKING_
#include <cstddef>
namespace dlmath {
inline constexpr size_t kGemmKC = 256;
inline constexpr size_t kGemmMC = 192;  // a multiple of every target's kMR
}  // namespace dlmath
#endif  // DLMATH_OPS_GEMM_BLOCKING_

#if defined(DLMATH_OPS_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_GEMM_INL_H_
#undef DLMATH_OPS_GEMM_INL_H_
#else
#define DLMATH_OPS_GEMM_INL_H_
#endif

#include "core/src/ops/simd-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {

using GemmTag = hn::ScalableTag<float>;
inline constexpr size_t kGemmLanes = hn::MaxLanes(GemmTag());
// Tile: kMR rows x two vectors. 128-bit (SSE4, wasm SIMD128): 4 x 8, eight
// accumulators cover the add latency without FMA (XNNPACK's choice for wasm
// on x86); wider targets have FMA and take 6 rows (12 accumulators).
inline constexpr size_t kNR = 2 * kGemmLanes;
inline constexpr size_t kMR = kGemmLanes <= 4 ? 4 : 6;
static_assert(kGemmMC % kMR == 0, "row blocks must split into whole tiles");

// dst[k * w + x] = element (k, x) of the source, for k < kc and x < n, and 0
// for n <= x < w. The source holds (k, x) at src[k * ld + x] (k_major) or at
// src[x * ld + k]; nothing outside those n rows or columns is read.
HWY_INLINE void PackPanel(const float* HWY_RESTRICT src, size_t ld,
                          bool k_major, size_t kc, size_t n, size_t w,
                          float* HWY_RESTRICT dst) {
  const GemmTag d;
  if (k_major) {
    for (size_t k = 0; k < kc; ++k) {
      const float* s = src + k * ld;
      float* o = dst + k * w;
      for (size_t x = 0; x < w; x += kGemmLanes) {
        const auto v = x < n ? LoadUpTo(d, s + x, n - x) : hn::Zero(d);
        StoreUpTo(d, v, o + x, w - x);
      }
    }
    return;
  }
  for (size_t x = 0; x < n; ++x) {
    const float* s = src + x * ld;
    for (size_t k = 0; k < kc; ++k) dst[k * w + x] = s[k];
  }
  for (size_t x = n; x < w; ++x)
    for (size_t k = 0; k < kc; ++k) dst[k * w + x] = 0.0f;
}

// c[0, n) (+)= v, n <= lanes; n == 0 touches nothing.
HWY_INLINE void StoreTileVector(GemmTag d, hn::Vec<GemmTag> v, float* c,
                                size_t n, bool load_c) {
  if (n == 0) return;
  if (load_c) v = hn::Add(LoadUpTo(d, c, n), v);
  StoreUpTo(d, v, c, n);
}

// C[kRows, cols] (+)= A panel [kc][kRows] x B panel [kc][kNR], cols <= kNR.
// load_c: add to C (accumulating, or a later K block) instead of storing.
template <size_t kRows>
HWY_INLINE void GemmTile(const float* HWY_RESTRICT a,
                         const float* HWY_RESTRICT b, size_t kc,
                         float* HWY_RESTRICT c, size_t ldc, size_t cols,
                         bool load_c) {
  const GemmTag d;
  using V = hn::Vec<GemmTag>;
  V acc0[kRows], acc1[kRows];
  for (size_t r = 0; r < kRows; ++r) acc0[r] = acc1[r] = hn::Zero(d);
  for (size_t k = 0; k < kc; ++k) {
    const V b0 = hn::Load(d, b + k * kNR);
    const V b1 = hn::Load(d, b + k * kNR + kGemmLanes);
    for (size_t r = 0; r < kRows; ++r) {
      const V ar = hn::Set(d, a[k * kRows + r]);
      acc0[r] = hn::MulAdd(ar, b0, acc0[r]);
      acc1[r] = hn::MulAdd(ar, b1, acc1[r]);
    }
  }
  const size_t cols1 = cols > kGemmLanes ? cols - kGemmLanes : 0;
  for (size_t r = 0; r < kRows; ++r) {
    StoreTileVector(d, acc0[r], c + r * ldc, cols - cols1, load_c);
    StoreTileVector(d, acc1[r], c + r * ldc + kGemmLanes, cols1, load_c);
  }
}

// GemmTile for the row count known only at run time (the last row block).
template <size_t kRows = kMR>
HWY_INLINE void GemmTileRows(size_t rows, const float* a, const float* b,
                             size_t kc, float* c, size_t ldc, size_t cols,
                             bool load_c) {
  if constexpr (kRows > 1) {
    if (rows < kRows)
      return GemmTileRows<kRows - 1>(rows, a, b, kc, c, ldc, cols, load_c);
  }
  GemmTile<kRows>(a, b, kc, c, ldc, cols, load_c);
}

// C[M, N] (+)= op(A) op(B) for M, N, K > 0 (gemm.h); a_trans / b_trans:
// op is the transpose. ap: at least min(M, kGemmMC) * min(K, kGemmKC) floats
// for the packed A block.
HWY_NOINLINE void GemmBlocked(bool a_trans, bool b_trans, size_t M, size_t N,
                              size_t K, const float* A, size_t lda,
                              const float* B, size_t ldb, float* C, size_t ldc,
                              bool accumulate, float* ap) {
  // Even blocks: K = 784 runs as 4 x 196, not 3 x 256 + 16.
  const size_t m_blocks = hwy::DivCeil(M, kGemmMC);
  const size_t mc = hwy::RoundUpTo(hwy::DivCeil(M, m_blocks), kMR);
  const size_t kcb = hwy::DivCeil(K, hwy::DivCeil(K, kGemmKC));
  HWY_ALIGN float bp[kGemmKC * kNR];
  for (size_t i0 = 0; i0 < M; i0 += mc) {
    const size_t m = HWY_MIN(mc, M - i0);
    for (size_t k0 = 0; k0 < K; k0 += kcb) {
      const size_t kc = HWY_MIN(kcb, K - k0);
      for (size_t ib = 0; ib < m; ib += kMR) {
        const size_t i = i0 + ib, rows = HWY_MIN(kMR, m - ib);
        PackPanel(a_trans ? A + k0 * lda + i : A + i * lda + k0, lda, a_trans,
                  kc, rows, rows, ap + ib * kc);
      }
      for (size_t j0 = 0; j0 < N; j0 += kNR) {
        const size_t cols = HWY_MIN(kNR, N - j0);
        PackPanel(b_trans ? B + j0 * ldb + k0 : B + k0 * ldb + j0, ldb,
                  !b_trans, kc, cols, kNR, bp);
        for (size_t ib = 0; ib < m; ib += kMR)
          GemmTileRows(HWY_MIN(kMR, m - ib), ap + ib * kc, bp, kc,
                       C + (i0 + ib) * ldc + j0, ldc, cols,
                       accumulate || k0 > 0);
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_GEMM_INL_H_
