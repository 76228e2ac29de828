// Matrix product kernel (Highway), the XNNPACK / BLIS shape: the operands
// are laid out as small panels that look the same in every orientation, and
// one MR x NR register tile multiplies them. Legend: C[M, N] (+)= op(A)[M, K]
// op(B)[K, N] (see core/src/gemm.h).
//
//   A panel: kMR rows of op(A) over kc steps of k, [kc][rows];
//   B panel: kNR columns of op(B) over kc steps, [kc][kNR], zero-padded past
//            N (those lanes are computed, never stored);
//   tile:    kMR x kNR floats of C in 2 kMR vector accumulators; each k step
//            is one broadcast of A per row times two vectors of B (MulAdd;
//            a small product's first step stores the products alone).
//            A panel of at most one vector of columns (N <= lanes, or the
//            last panel) multiplies only its first vector.
//
// Transposed operands change only how the panels are filled (PackPanel), not
// the tile; a small operand already in panel layout (A^T, B) is read in
// place, a small row-major B even when its rows are not whole vectors (the
// tile reads its last row only up to its end). Blocking: K in blocks of at most
// kGemmKC (a B panel, kc x kNR floats, stays in L1 while every row block of A
// passes over it), M in blocks of at most kGemmMC rows (their packed A, kc x mc
// floats, stays in L2 while the B panels go by). Edges: the last row block
// takes a shorter tile, the last column panel stores its partial vectors by
// halves; a column C [M, 1] (ldc 1) runs as the row C^T = op(B)^T op(A)^T, its
// M along the lanes instead of one useful lane per tile row; nothing past an
// operand's last element is read, nothing outside C's M x N block written.
// A small product of K <= 2 (GemmRegK) takes no tile: op(B)'s K rows stay in
// registers while the rows of C go by, one a turn.
// The bias (gemm.h: C = op(A) op(B) + 1 bias^T, not accumulating) goes into
// the small products' store, added to the finished sums in registers (a
// tile loads its vectors after the k loop, GemmRegK holds them through its
// rows, GemmDots adds one float, the C^T path as it copies back); a blocked
// product adds it in a pass over C (AddBiasRows) after its K blocks.
// Each output element is one sequential sum over k per K block, added to C
// block after block: error <= gamma_{K+1} (|C| + sum |a||b|), gamma_n =
// n u / (1 - n u), u = 2^-24.

// Blocking sizes, the same for every target: gemm.cc sizes the packing space
// for A from them (min(M, kGemmMC) * min(K, kGemmKC) floats).
#ifndef DLMATH_OPS_GEMM_BLOCKING_
#define DLMATH_OPS_GEMM_BLOCKING_
#include <cstddef>
namespace dlmath {
inline constexpr size_t kGemmKC = 256;
inline constexpr size_t kGemmMC = 192;  // a multiple of every target's kMR
// Products this narrow and this short (a tiny MLP's layers: N and K of a few
// to a batch) skip the blocking (GemmSmall): they need no packing space.
inline constexpr size_t kGemmSmallN = 16;
inline constexpr size_t kGemmSmallK = 32;
inline bool GemmIsSmall(size_t N, size_t K) {
  return N <= kGemmSmallN && K <= kGemmSmallK;
}
// Small products this short (K <= kGemmRegK: a layer of one or two inputs
// forward, of one or two outputs backward) hold op(B) in registers and go
// down the rows of C one at a time (GemmRegK): no tile, no k loop.
inline constexpr size_t kGemmRegK = 2;
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
// On the SCALAR target GCC 12's vectorizer packs the tile's scalar
// accumulators into SSE registers and, doing so, loads A and B one k step
// ahead: past the end of the operands (test_gemm's guard pages fault). That
// target runs only when forced, so it goes without.
#if HWY_TARGET == HWY_SCALAR && HWY_COMPILER_GCC_ACTUAL
#pragma GCC push_options
#pragma GCC optimize("no-tree-vectorize")
#endif
namespace dlmath {
namespace HWY_NAMESPACE {

using GemmTag = hn::ScalableTag<float>;
inline constexpr size_t kGemmLanes = hn::MaxLanes(GemmTag());
// Tile: kMR rows x two vectors. 128-bit (SSE4, wasm SIMD128): 4 x 8, eight
// accumulators cover the add latency without FMA (XNNPACK's choice for wasm
// on x86); wider targets have FMA and take 6 rows (12 accumulators).
inline constexpr size_t kNR = 2 * kGemmLanes;
inline constexpr size_t kMR =
    HWY_MIN(kGemmLanes <= 4 ? 4 : 6, kNR);  // SCALAR: 2
static_assert(kGemmMC % kMR == 0, "row blocks must split into whole tiles");
// GemmSmall's tiles over a row-major A (rows of a batch: forward, dx) on
// 128-bit targets are 5 rows high: a tiny MLP's batch of 10 takes 2 tiles
// instead of 4 + 4 + 2, and a tile's set-up and stores cost V8 60-100
// instructions whatever its height. (V8 spills 3 of the 10 accumulators each
// k step, and still the 2-8-8-1 step's products cost 66 x86 instructions
// less than with 4 rows.) Over A^T (a weight gradient's units) they keep kMR
// rows, without spills: 8 units as 4 + 4 cost V8 41 instructions less than
// 5 + 3 (2-8-8-1 dW2). The blocked products keep kMR: their row blocks are
// multiples of it.
inline constexpr size_t kSmallMR = kGemmLanes == 4 ? 5 : kMR;
static_assert(kMR <= kNR,
              "a panel row (A: kMR, B: kNR) is two vectors at most");

// p += step, as a walk. Emscripten compiles with -mllvm -disable-lsr, and
// LLVM rewrites a pointer stepped by a run-time stride in a loop back into
// base + index * stride: a multiply every step, which only loop strength
// reduction would have undone. An empty asm statement hides where the
// pointer came from, so each step stays one add.
template <typename Pointer>
HWY_INLINE void Walk(Pointer& p, size_t step) {
  p += step;
#if HWY_TARGET == HWY_WASM
  __asm__("" : "+r"(p));
#endif
}

// v as a finished sum, to which the bias is added: GCC would fuse a K = 1
// product's multiply and that add into one FMA on the targets that have it
// (one rounding where the product followed by the bias rows has two). An
// empty asm statement hides where v came from. (Wasm has no FMA.)
HWY_INLINE hn::Vec<hn::ScalableTag<float>> Rounded(
    hn::Vec<hn::ScalableTag<float>> v) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_WASM
  __asm__("" : "+v"(v.raw));
#endif
  return v;
}

// The first n < lanes of a vector, loaded (the rest 0) or stored, by halves:
// a few whole-half moves instead of LoadN / StoreN's call to memcpy, which
// made a partial edge cost more than a full tile in wasm.
template <class D>
HWY_INLINE hn::Vec<D> LoadPart(D d, const float* HWY_RESTRICT p, size_t n) {
#if HWY_TARGET == HWY_SCALAR
  return n ? hn::LoadU(d, p) : hn::Zero(d);
#else
  if constexpr (hn::MaxLanes(d) == 1) {
    return n ? hn::LoadU(d, p) : hn::Zero(d);
  } else {
    const hn::Half<D> dh;
    constexpr size_t kHalf = hn::MaxLanes(dh);
    if (n < kHalf) return hn::ZeroExtendVector(d, LoadPart(dh, p, n));
    return hn::Combine(d, LoadPart(dh, p + kHalf, n - kHalf), hn::LoadU(dh, p));
  }
#endif
}
template <class D>
HWY_INLINE void StorePart(D d, hn::Vec<D> v, float* HWY_RESTRICT p, size_t n) {
#if HWY_TARGET == HWY_SCALAR
  if (n) hn::StoreU(v, d, p);
#else
  if constexpr (hn::MaxLanes(d) == 1) {
    if (n) hn::StoreU(v, d, p);
  } else {
    const hn::Half<D> dh;
    constexpr size_t kHalf = hn::MaxLanes(dh);
    if (n < kHalf) return StorePart(dh, hn::LowerHalf(dh, v), p, n);
    hn::StoreU(hn::LowerHalf(dh, v), dh, p);
    StorePart(dh, hn::UpperHalf(dh, v), p + kHalf, n - kHalf);
  }
#endif
}

// o[0, min(w, lanes)) = s[0, n) followed by zeros; n = 0 reads nothing.
HWY_INLINE void PackVector(GemmTag d, const float* HWY_RESTRICT s, size_t n,
                           size_t w, float* HWY_RESTRICT o) {
  const auto v = n >= kGemmLanes ? hn::LoadU(d, s) : LoadPart(d, s, n);
  if (w >= kGemmLanes) {
    hn::StoreU(v, d, o);
  } else {
    StorePart(d, v, o, w);
  }
}

#if HWY_TARGET != HWY_SCALAR
// Columns 0 .. nk - 1 (nk <= 4; kWhole: 4) of the rows s, s + ld, s + 2 ld,
// s + 3 ld as rows 0 .. nk - 1 of o (w apart), through 128-bit registers. A
// function, not a lambda: V8 got the lambda as a call with its captures in
// memory.
template <bool kWhole>
HWY_INLINE void TransposeBlock(const float* HWY_RESTRICT s, size_t ld,
                               size_t nk, float* HWY_RESTRICT o, size_t w) {
  const hn::CappedTag<float, 4> d4;
  const auto load = [&](const float* p) {
    return kWhole ? hn::LoadU(d4, p) : LoadPart(d4, p, nk);
  };
  const auto r0 = load(s), r1 = load(s + ld);
  const auto r2 = load(s + 2 * ld), r3 = load(s + 3 * ld);
  // t0 = (r0[0] r1[0] r0[1] r1[1]), t1 the same of r2, r3; t2, t3 the
  // upper halves; column j is then two halves of them.
  const auto t0 = hn::InterleaveLower(d4, r0, r1);
  const auto t1 = hn::InterleaveLower(d4, r2, r3);
  const auto t2 = hn::InterleaveUpper(d4, r0, r1);
  const auto t3 = hn::InterleaveUpper(d4, r2, r3);
  hn::StoreU(hn::ConcatLowerLower(d4, t1, t0), d4, o);
  if (kWhole || nk > 1) hn::StoreU(hn::ConcatUpperUpper(d4, t1, t0), d4, o + w);
  if (kWhole || nk > 2)
    hn::StoreU(hn::ConcatLowerLower(d4, t3, t2), d4, o + 2 * w);
  if (kWhole || nk > 3)
    hn::StoreU(hn::ConcatUpperUpper(d4, t3, t2), d4, o + 3 * w);
}
#endif

// dst[k * w + x] = element (k, x) of the source, for k < kc and x < n, and 0
// for n <= x < w. The source holds (k, x) at src[k * ld + x] (k_major) or at
// src[x * ld + k]; nothing outside those n rows or columns is read.
HWY_INLINE void PackPanel(const float* HWY_RESTRICT src, size_t ld,
                          bool k_major, size_t kc, size_t n, size_t w,
                          float* HWY_RESTRICT dst) {
  const GemmTag d;
  if (k_major) {
    // Two vectors at most per row (w <= kNR), written out: as a loop, clang
    // turns the copy into a call to memcpy, which wasm runs 4 bytes at a
    // time (it made packing cost a third of the product).
    const float* s = src;
    float* o = dst;
    for (size_t k = 0; k < kc; ++k, Walk(s, ld), Walk(o, w)) {
      PackVector(d, s, n, w, o);
      if (w > kGemmLanes)
        PackVector(d, s + kGemmLanes, n > kGemmLanes ? n - kGemmLanes : 0,
                   w - kGemmLanes, o + kGemmLanes);
    }
    return;
  }
  // Transposing: the padding first (only B panels have any: whole vectors,
  // w is one or two), then 4 x 4 blocks (TransposeBlock) over it; a block
  // short of k (kc not a multiple of 4) loads part of its 4 rows and stores
  // only its first columns; the last rows of n element by element.
  if (n < w) {
    float* o = dst;
    for (size_t k = 0; k < kc; ++k, Walk(o, w)) {
      hn::StoreU(hn::Zero(d), d, o);
      if (w > kGemmLanes) hn::StoreU(hn::Zero(d), d, o + kGemmLanes);
    }
  }
  size_t x = 0;
#if HWY_TARGET != HWY_SCALAR
  for (; x + 4 <= n; x += 4) {
    const float* s = src + x * ld;
    const float* const s_whole = s + (kc - kc % 4);
    float* o = dst + x;
    for (; s != s_whole; Walk(s, 4), Walk(o, 4 * w))
      TransposeBlock<true>(s, ld, 4, o, w);
    if (kc % 4) TransposeBlock<false>(s, ld, kc % 4, o, w);
  }
#endif
  for (; x < n; ++x)
    for (size_t k = 0; k < kc; ++k) dst[k * w + x] = src[x * ld + k];
}

// c[0, n) (+)= v, n <= lanes; n == 0 touches nothing.
HWY_INLINE void StoreTileVector(GemmTag d, hn::Vec<GemmTag> v, float* c,
                                size_t n, bool load_c) {
  if (n == kGemmLanes) {
    if (load_c) v = hn::Add(hn::LoadU(d, c), v);
    hn::StoreU(v, d, c);
  } else if (n != 0) {
    if (load_c) v = hn::Add(LoadPart(d, c, n), v);
    StorePart(d, v, c, n);
  }
}

// kc steps of one operand of a tile: element (k, x) at p[k * ks + x * xs],
// x over the tile's rows (A: a panel has xs = 1, a row-major A read in place
// xs = lda) or columns (B: always xs = 1, the tile loads them as vectors).
// last (B): the floats readable in the last step's row; fewer than the
// tile's vectors when B is a row-major operand read in place whose rows are
// not whole vectors: the earlier rows are read past their columns (into the
// next row: lanes computed, never stored), the last one only up to its end.
struct GemmPanel {
  const float* p;
  size_t ks;
  size_t xs = 1;
  size_t last = kNR;
};

// The kVecs vectors of a B row of which n floats are readable (n > (kVecs -
// 1) lanes), zeros past n.
template <size_t kVecs>
HWY_INLINE void LoadPanelRow(GemmTag d, const float* HWY_RESTRICT bk, size_t n,
                             hn::Vec<GemmTag> (&bv)[kVecs]) {
  for (size_t v = 0; v < kVecs; ++v) {
    const size_t done = v * kGemmLanes;
    bv[v] = n >= done + kGemmLanes ? hn::LoadU(d, bk + done)
                                   : LoadPart(d, bk + done, n - done);
  }
}

// One k step of a tile: acc (+)= the kRows elements of A at ak (xs apart)
// times the vectors of B. kFirst starts the sums with the products (no zero
// added: the same sums, only an all-zero one may keep the sign of -0).
template <size_t kRows, size_t kVecs, bool kFirst>
HWY_INLINE void TileStep(GemmTag d, const float* HWY_RESTRICT ak, size_t xs,
                         const hn::Vec<GemmTag> (&bv)[kVecs],
                         hn::Vec<GemmTag> (&acc)[kVecs][kRows]) {
  for (size_t r = 0; r < kRows; ++r) {
    const auto ar = hn::Set(d, ak[r * xs]);
    for (size_t v = 0; v < kVecs; ++v) {
      if constexpr (kFirst) {
        acc[v][r] = hn::Mul(ar, bv[v]);
      } else {
        acc[v][r] = hn::MulAdd(ar, bv[v], acc[v][r]);
      }
    }
  }
}

// C[kRows, cols] (+)= A panel [kc][kRows] x B panel [kc][kVecs lanes], kc >
// 0, (kVecs - 1) lanes < cols <= kVecs lanes (kVecs = 1: a narrow product,
// N <= lanes, or a panel read or packed one vector wide).
// load_c: add to C (accumulating, or a later K block) instead of storing.
// bias (kSmall; null: none, and never with load_c): its cols floats added to
// every row's sums before the store, loaded after the k loop (loaded before
// it, or kept in registers through it, V8 spilled the tile).
// kRowStride: A's rows are a.xs apart (else adjacent, the packed panel's
// layout, with the stride a constant the compiler folds).
// kSmall (GemmSmall): the first k step stores the products instead of adding
// them to zeros, the last loads only b.last floats of its B row. Without it
// (the blocked products, whose panels are whole), one plain loop: V8 made the
// peeled steps' loop 7 % slower on MNIST's shapes.
template <size_t kRows, bool kRowStride, size_t kVecs, bool kSmall = false>
HWY_INLINE void GemmTile(GemmPanel a, GemmPanel b, size_t kc,
                         float* HWY_RESTRICT c, size_t ldc, size_t cols,
                         bool load_c, const float* HWY_RESTRICT bias) {
  const GemmTag d;
  using V = hn::Vec<GemmTag>;
  constexpr size_t kWhole = kVecs * kGemmLanes;
  const size_t xs = kRowStride ? a.xs : 1;
  const float* HWY_RESTRICT ak = a.p;
  const float* HWY_RESTRICT bk = b.p;
  V acc[kVecs][kRows];
  V bv[kVecs];
  if constexpr (kSmall) {
    LoadPanelRow(d, bk, kc == 1 ? b.last : kWhole, bv);
    TileStep<kRows, kVecs, true>(d, ak, xs, bv, acc);
    if (kc > 1) {
      // B's last row ends the loop (no step counter).
      const float* HWY_RESTRICT const b_last = b.p + (kc - 1) * b.ks;
      Walk(ak, a.ks);
      Walk(bk, b.ks);
      for (; bk != b_last; Walk(ak, a.ks), Walk(bk, b.ks)) {
        for (size_t v = 0; v < kVecs; ++v)
          bv[v] = hn::LoadU(d, bk + v * kGemmLanes);
        TileStep<kRows, kVecs, false>(d, ak, xs, bv, acc);
      }
      LoadPanelRow(d, bk, b.last, bv);
      TileStep<kRows, kVecs, false>(d, ak, xs, bv, acc);
    }
    if (bias) {
      LoadPanelRow(d, bias, cols, bv);
      for (size_t v = 0; v < kVecs; ++v)
        for (size_t r = 0; r < kRows; ++r)
          acc[v][r] = hn::Add(Rounded(acc[v][r]), bv[v]);
    }
  } else {
    for (size_t v = 0; v < kVecs; ++v)
      for (size_t r = 0; r < kRows; ++r) acc[v][r] = hn::Zero(d);
    for (size_t k = 0; k < kc; ++k, Walk(ak, a.ks), Walk(bk, b.ks)) {
      for (size_t v = 0; v < kVecs; ++v)
        bv[v] = hn::LoadU(d, bk + v * kGemmLanes);
      TileStep<kRows, kVecs, false>(d, ak, xs, bv, acc);
    }
  }
  // Every vector but the last is whole.
  for (size_t v = 0; v + 1 < kVecs; ++v)
    for (size_t r = 0; r < kRows; ++r)
      StoreTileVector(d, acc[v][r], c + r * ldc + v * kGemmLanes, kGemmLanes,
                      load_c);
  constexpr size_t kDone = (kVecs - 1) * kGemmLanes;
  for (size_t r = 0; r < kRows; ++r)
    StoreTileVector(d, acc[kVecs - 1][r], c + r * ldc + kDone, cols - kDone,
                    load_c);
}

// GemmTile for the row count known only at run time (rows <= kRows).
template <bool kRowStride, size_t kVecs, bool kSmall = false,
          size_t kRows = kMR>
HWY_INLINE void GemmTileRows(size_t rows, GemmPanel a, GemmPanel b, size_t kc,
                             float* c, size_t ldc, size_t cols, bool load_c,
                             const float* bias = nullptr) {
  if constexpr (kRows > 1) {
    if (rows < kRows)
      return GemmTileRows<kRowStride, kVecs, kSmall, kRows - 1>(
          rows, a, b, kc, c, ldc, cols, load_c, bias);
  }
  GemmTile<kRows, kRowStride, kVecs, kSmall>(a, b, kc, c, ldc, cols, load_c,
                                             bias);
}

// GemmTileRows one vector wide where the columns fit one.
template <bool kRowStride>
HWY_INLINE void GemmTileAny(size_t rows, GemmPanel a, GemmPanel b, size_t kc,
                            float* c, size_t ldc, size_t cols, bool load_c) {
  if (cols <= kGemmLanes)
    return GemmTileRows<kRowStride, 1>(rows, a, b, kc, c, ldc, cols, load_c);
  GemmTileRows<kRowStride, 2>(rows, a, b, kc, c, ldc, cols, load_c);
}

// C[M, cols] (+)= op(A) [M, kc] x one B panel (+ the bias's cols floats, or
// null): whole tiles of kSmallMR rows
// (A^T: kMR), then one shorter tile for the rest; the tile's width and A's
// layout chosen once by the caller. a: element (i, k) of op(A) at a.p[i * row
// step + k * a.ks], the row step a.xs (kRowStride) or 1.
template <bool kRowStride, size_t kVecs>
HWY_INLINE void GemmRowTiles(size_t M, GemmPanel a, GemmPanel b, size_t kc,
                             float* c, size_t ldc, size_t cols, bool load_c,
                             const float* bias) {
  // A's rows and C's walked a tile at a time (Walk).
  constexpr size_t kRows = kRowStride ? kSmallMR : kMR;
  const size_t a_step = kRows * (kRowStride ? a.xs : 1);
  size_t rest = M;
  for (; rest >= kRows; rest -= kRows) {
    GemmTile<kRows, kRowStride, kVecs, true>(a, b, kc, c, ldc, cols, load_c,
                                             bias);
    Walk(a.p, a_step);
    Walk(c, kRows * ldc);
  }
  if (rest)
    GemmTileRows<kRowStride, kVecs, true, kRows - 1>(rest, a, b, kc, c, ldc,
                                                     cols, load_c, bias);
}

// The size of the fewest blocks of at most `most` that cover n, as even as
// possible (K = 784 runs as 4 x 196, not 3 x 256 + 16).
HWY_INLINE size_t EvenBlock(size_t n, size_t most) {
  return n <= most ? n : hwy::DivCeil(n, hwy::DivCeil(n, most));
}

// Operands up to this size whose layout already is the panels' (A^T: the rows
// of op(A) side by side; B: the columns of op(B) side by side) are read in
// place: packing them would only copy what is already in L1. So is a small
// row-major A (op(A) = A): the tile broadcasts its elements one by one, from
// a.xs-strided rows as well as from a panel. Small products then pack only
// the B they transpose or pad.
inline constexpr size_t kInPlaceFloats = 4096;

// acc[r] = the products of row r of a [kRows, lda] with b (K floats), one
// vector per lanes of k (lane l sums the k = l mod lanes).
template <size_t kRows>
HWY_INLINE void DotRows(const float* HWY_RESTRICT a, size_t lda,
                        const float* HWY_RESTRICT b, size_t K,
                        hn::Vec<GemmTag> acc[kRows]) {
  const GemmTag d;
  // One pointer a row, walked with b's (Walk).
  const float* HWY_RESTRICT ar[kRows];
  for (size_t r = 0; r < kRows; ++r) {
    acc[r] = hn::Zero(d);
    ar[r] = a + r * lda;
  }
  const float* HWY_RESTRICT const b_whole = b + (K - K % kGemmLanes);
  for (; b != b_whole; Walk(b, kGemmLanes)) {
    const auto bk = hn::LoadU(d, b);
    for (size_t r = 0; r < kRows; ++r) {
      acc[r] = hn::MulAdd(hn::LoadU(d, ar[r]), bk, acc[r]);
      Walk(ar[r], kGemmLanes);
    }
  }
  if (const size_t rest = K % kGemmLanes) {
    const auto bk = LoadPart(d, b, rest);
    for (size_t r = 0; r < kRows; ++r)
      acc[r] = hn::MulAdd(LoadPart(d, ar[r], rest), bk, acc[r]);
  }
}

// C[i, 0] (+)= dot(row i of A, b) for i < M, K > 0: a column C whose op(A)
// rows (A [M, lda]) and op(B) column (b, K floats) are both contiguous, as a
// forward into one output unit. Each row is one vector of products per
// lanes of k, summed across the lanes at the end: a sum of the same K
// products in another order, within the same bound. On 4 lanes, four rows
// at a time: their vectors transposed, one vector of adds sums all four as
// (l0 + l2) + (l1 + l3), SumOfLanes' order (the bits of a row alone), where
// a row alone cost V8 ~43 instructions. Rows past the last four (M > 4, not
// a multiple of 4) run as the four rows that end at M: the rows done before
// come out with the same bits and keep their stored C (accumulating, C
// already holds their sum). The bias (null: none) is one float, added to
// every row's sum. GemmSmall's arguments (a GemmPlan kernel): N is 1, op(A)
// = A, and b = B whatever its orientation and ldb.
HWY_NOINLINE void GemmDots(bool, bool, size_t M, size_t, size_t K,
                           const float* HWY_RESTRICT A, size_t lda,
                           const float* HWY_RESTRICT b, size_t,
                           float* HWY_RESTRICT C, size_t ldc, bool accumulate,
                           const float* HWY_RESTRICT bias) {
  const GemmTag d;
  using V = hn::Vec<GemmTag>;
  size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  if constexpr (kGemmLanes == 4) {
    // `done`: how many of the four rows at i hold their final C already.
    for (size_t done = 0; i + 4 <= M;) {
      V acc[4];
      DotRows<4>(A + i * lda, lda, b, K, acc);
      const V t0 = hn::InterleaveLower(d, acc[0], acc[1]);
      const V t1 = hn::InterleaveLower(d, acc[2], acc[3]);
      const V t2 = hn::InterleaveUpper(d, acc[0], acc[1]);
      const V t3 = hn::InterleaveUpper(d, acc[2], acc[3]);
      // Lane r of column j is lane j of row r's vector.
      const V l0 = hn::ConcatLowerLower(d, t1, t0);
      const V l1 = hn::ConcatUpperUpper(d, t1, t0);
      const V l2 = hn::ConcatLowerLower(d, t3, t2);
      const V l3 = hn::ConcatUpperUpper(d, t3, t2);
      V sums = hn::Add(hn::Add(l0, l2), hn::Add(l1, l3));
      if (bias) sums = hn::Add(sums, hn::Set(d, *bias));
      if (ldc == 1) {  // a contiguous column: the four as a vector
        if (accumulate) {
          const V c = hn::LoadU(d, C + i);
          sums = hn::IfThenElse(hn::FirstN(d, done), c, hn::Add(c, sums));
        }
        hn::StoreU(sums, d, C + i);
      } else {
        HWY_ALIGN float dots[4];
        hn::Store(sums, d, dots);
        for (size_t r = done; r < 4; ++r)
          C[(i + r) * ldc] = accumulate ? C[(i + r) * ldc] + dots[r] : dots[r];
      }
      i += 4;
      if (i < M && i + 4 > M) {  // the last rows: the four that end at M
        done = i + 4 - M;
        i = M - 4;
      }
    }
  }
#endif
  for (; i < M; ++i) {
    V acc[1];
    DotRows<1>(A + i * lda, lda, b, K, acc);
    float sum = hn::GetLane(hn::SumOfLanes(d, acc[0]));
    if (bias) sum += *bias;
    C[i * ldc] = accumulate ? C[i * ldc] + sum : sum;
  }
}

// PackPanel as a call: inlined, its loop invariants (computed before the
// first tile whether or not a panel is packed) cost a small product more than
// the call.
HWY_NOINLINE void PackPanelOutOfLine(const float* HWY_RESTRICT src, size_t ld,
                                     bool k_major, size_t kc, size_t n,
                                     size_t w, float* HWY_RESTRICT dst) {
  PackPanel(src, ld, k_major, kc, n, w, dst);
}

// The small products' kernels (GemmSmall, GemmRegK) take one column panel
// a call: a wider C (N > kNR) runs as its first kNR columns, then the rest
// (and the rest of the bias), each through `kernel` (true: done so; false: N
// fits one panel).
using GemmSmallKernelFn = void (*)(bool, bool, size_t, size_t, size_t,
                                   const float*, size_t, const float*, size_t,
                                   float*, size_t, bool, const float*);
HWY_INLINE bool SplitColumnPanels(GemmSmallKernelFn kernel, bool a_trans,
                                  bool b_trans, size_t M, size_t N, size_t K,
                                  const float* A, size_t lda, const float* B,
                                  size_t ldb, float* C, size_t ldc,
                                  bool accumulate, const float* bias) {
  if (N <= kNR) return false;
  kernel(a_trans, b_trans, M, kNR, K, A, lda, B, ldb, C, ldc, accumulate, bias);
  kernel(a_trans, b_trans, M, N - kNR, K, A, lda,
         b_trans ? B + kNR * ldb : B + kNR, ldb, C + kNR, ldc, accumulate,
         bias ? bias + kNR : nullptr);
  return true;
}

// GemmBlocked for a small product (GemmIsSmall): one K block, A read in place
// (A^T's rows side by side, A's lda apart), a row-major B read in place
// unless a row's vectors would reach past the next row's end (a column B,
// ldb 1: then copied like a transposed B, into a stack panel); one vector
// wide where the columns fit one, so nothing is padded or multiplied past
// them.
#if HWY_TARGET == HWY_WASM
#define DLMATH_GEMM_SMALL_SCRATCH static thread_local
#else
#define DLMATH_GEMM_SMALL_SCRATCH
#endif
HWY_NOINLINE void GemmSmall(bool a_trans, bool b_trans, size_t M, size_t N,
                            size_t K, const float* A, size_t lda,
                            const float* B, size_t ldb, float* C, size_t ldc,
                            bool accumulate, const float* bias) {
  // The B panel (bp) and C^T (ct) below: on the stack natively, where that
  // is free; static (per thread) in wasm, whose stack is in linear memory
  // below a stack pointer that each call with a stack array moves and
  // restores (~10 instructions a call in V8; 2-8-8-1 step: -52). No
  // call uses them while an outer one still needs the same array: the
  // columns' recursion comes before bp is filled, and a C^T product, one
  // column panel (M <= kNR, N < M), never takes the C^T path itself.
  HWY_ALIGN DLMATH_GEMM_SMALL_SCRATCH float bp[kGemmSmallK * kNR];
  // One column panel per call. (The recursion also keeps wasm-opt from
  // inlining this function into Gemm, where V8 spilled the tile's
  // accumulators.)
  if (SplitColumnPanels(GemmSmall, a_trans, b_trans, M, N, K, A, lda, B, ldb, C,
                        ldc, accumulate, bias))
    return;
  if (N < kGemmLanes && N < M && M <= kNR) {
    // A narrow C (fewer columns than lanes, more rows than columns, as a
    // weight gradient into 2 inputs) runs as C^T = op(B)^T op(A)^T into a
    // scratch panel, its M (one column panel at most) along the lanes: N
    // tile rows instead of M, each element the same sum (then C + it when
    // accumulating: the same bits). Copied back a column of C at a time (a
    // row of C^T), walking both. Wasm 2-8-8-1 step (dW of 2 inputs):
    // GemmSmall 4,553 -> ~4,470 x86 instructions, its inner call included.
    // (Copying four rows at a time through a 4 x 4 transpose cost 22 more.)
    // The bias: bias[j] + each element of column j, as it is copied.
    HWY_ALIGN DLMATH_GEMM_SMALL_SCRATCH float ct[kGemmLanes * kNR];
    GemmSmall(!b_trans, !a_trans, N, M, K, B, ldb, A, lda, ct, M, false,
              nullptr);
    const float* t = ct;
    for (size_t j = 0; j < N; ++j) {
      float* c = C + j;
      const float* const t_end = t + M;
      if (accumulate) {
        for (; t != t_end; Walk(t, 1), Walk(c, ldc)) *c += *t;
      } else if (bias) {
        const float bj = bias[j];
        for (; t != t_end; Walk(t, 1), Walk(c, ldc)) *c = *t + bj;
      } else {
        for (; t != t_end; Walk(t, 1), Walk(c, ldc)) *c = *t;
      }
    }
    return;
  }
  const size_t w = N <= kGemmLanes ? kGemmLanes : kNR;
  GemmPanel b{B, ldb, 1, N};
  if (b_trans || ldb + N < w) {
    PackPanelOutOfLine(B, ldb, !b_trans, K, N, w, bp);
    b = {bp, w, 1, w};
  }
  const GemmPanel a = a_trans ? GemmPanel{A, lda} : GemmPanel{A, 1, lda};
  if (w == kGemmLanes) {
    if (a_trans)
      return GemmRowTiles<false, 1>(M, a, b, K, C, ldc, N, accumulate, bias);
    return GemmRowTiles<true, 1>(M, a, b, K, C, ldc, N, accumulate, bias);
  }
  if (a_trans)
    return GemmRowTiles<false, 2>(M, a, b, K, C, ldc, N, accumulate, bias);
  GemmRowTiles<true, 2>(M, a, b, K, C, ldc, N, accumulate, bias);
}

// C[M, cols] (+)= op(A) [M, kK] x op(B)'s kK rows bv (kVecs vectors each,
// (kVecs - 1) lanes < cols <= kVecs lanes; kWhole: cols is kVecs lanes), a
// row of C a turn: its products summed over k in order, the first stored
// alone (GemmTile's sums, the same bits), then added to C (kAdd kC), the bias
// added (kBias: its cols floats, held in registers) or stored. a: element
// (i, k) of op(A) at a.p[i * row step + k * k step], the row step a.xs and
// the k step 1 (kRowStride: a row-major A), or 1 and a.ks. The stores'
// choices are template arguments: as run-time tests in the row loop, V8 paid
// ~8 instructions a row for them.
enum class GemmRowAdd { kNone, kC, kBias };
template <size_t kK, bool kRowStride, size_t kVecs, GemmRowAdd kAdd,
          bool kWhole>
HWY_INLINE void GemmRegRows(size_t M, GemmPanel a,
                            const hn::Vec<GemmTag> (&bv)[kK][kVecs], float* c,
                            size_t ldc, size_t cols, const float* bias) {
  const GemmTag d;
  using V = hn::Vec<GemmTag>;
  constexpr size_t kDone = (kVecs - 1) * kGemmLanes;
  constexpr bool kLoadC = kAdd == GemmRowAdd::kC;
  const size_t ks = kRowStride ? 1 : a.ks;
  const size_t xs = kRowStride ? a.xs : 1;
  const float* HWY_RESTRICT ar = a.p;
  V bias_v[kVecs];
  if constexpr (kAdd == GemmRowAdd::kBias)
    LoadPanelRow(d, bias, kWhole ? kVecs * kGemmLanes : cols, bias_v);
  // C's rows walked to their end (Walk; no row counter).
  for (float* const c_end = c + M * ldc; c != c_end;
       Walk(ar, xs), Walk(c, ldc)) {
    V acc[kVecs];
    const V a0 = hn::Set(d, ar[0]);
    for (size_t v = 0; v < kVecs; ++v) acc[v] = hn::Mul(a0, bv[0][v]);
    for (size_t k = 1; k < kK; ++k) {
      const V ak = hn::Set(d, ar[k * ks]);
      for (size_t v = 0; v < kVecs; ++v)
        acc[v] = hn::MulAdd(ak, bv[k][v], acc[v]);
    }
    if constexpr (kAdd == GemmRowAdd::kBias)
      for (size_t v = 0; v < kVecs; ++v)
        acc[v] = hn::Add(Rounded(acc[v]), bias_v[v]);
    for (size_t v = 0; v < (kWhole ? kVecs : kVecs - 1); ++v) {
      float* const cv = c + v * kGemmLanes;
      hn::StoreU(kLoadC ? hn::Add(hn::LoadU(d, cv), acc[v]) : acc[v], d, cv);
    }
    if (!kWhole)
      StoreTileVector(d, acc[kVecs - 1], c + kDone, cols - kDone, kLoadC);
  }
}

// GemmRegRows with its stores chosen: added to C, the bias added or stored,
// the last vector whole or not.
template <size_t kK, bool kRowStride, size_t kVecs, GemmRowAdd kAdd>
HWY_INLINE void GemmRegRowsWhole(size_t M, GemmPanel a,
                                 const hn::Vec<GemmTag> (&bv)[kK][kVecs],
                                 float* C, size_t ldc, size_t N,
                                 const float* bias) {
  if (N == kVecs * kGemmLanes)
    return GemmRegRows<kK, kRowStride, kVecs, kAdd, true>(M, a, bv, C, ldc, N,
                                                          bias);
  GemmRegRows<kK, kRowStride, kVecs, kAdd, false>(M, a, bv, C, ldc, N, bias);
}
template <size_t kK, bool kRowStride, size_t kVecs>
HWY_INLINE void GemmRegRowsStoring(size_t M, GemmPanel a,
                                   const hn::Vec<GemmTag> (&bv)[kK][kVecs],
                                   float* C, size_t ldc, size_t N, bool load_c,
                                   const float* bias) {
  if (load_c)
    return GemmRegRowsWhole<kK, kRowStride, kVecs, GemmRowAdd::kC>(
        M, a, bv, C, ldc, N, nullptr);
  if (bias)
    return GemmRegRowsWhole<kK, kRowStride, kVecs, GemmRowAdd::kBias>(
        M, a, bv, C, ldc, N, bias);
  GemmRegRowsWhole<kK, kRowStride, kVecs, GemmRowAdd::kNone>(M, a, bv, C, ldc,
                                                             N, nullptr);
}

// GemmRegRows with op(B)'s kK rows loaded from bk (bks apart, N floats each
// readable), A's layout and the stores chosen here.
template <size_t kK, size_t kVecs>
HWY_INLINE void GemmRegRowsOf(size_t M, bool a_trans, const float* A,
                              size_t lda, const float* bk, size_t bks, float* C,
                              size_t ldc, size_t N, bool load_c,
                              const float* bias) {
  const GemmTag d;
  hn::Vec<GemmTag> bv[kK][kVecs];
  for (size_t k = 0; k < kK; ++k) LoadPanelRow(d, bk + k * bks, N, bv[k]);
  if (a_trans)
    return GemmRegRowsStoring<kK, false, kVecs>(M, {A, lda}, bv, C, ldc, N,
                                                load_c, bias);
  GemmRegRowsStoring<kK, true, kVecs>(M, {A, 1, lda}, bv, C, ldc, N, load_c,
                                      bias);
}

// A small product of K <= kGemmRegK (gemm.cc decides; a GemmPlan kernel):
// op(B)'s K rows (one column panel a call, SplitColumnPanels) in registers, B's
// rows read in place up to N floats, B^T's columns copied into a panel first;
// then GemmRegRows down C's M rows.
HWY_NOINLINE void GemmRegK(bool a_trans, bool b_trans, size_t M, size_t N,
                           size_t K, const float* A, size_t lda, const float* B,
                           size_t ldb, float* C, size_t ldc, bool accumulate,
                           const float* bias) {
  HWY_ALIGN DLMATH_GEMM_SMALL_SCRATCH float bp[kGemmRegK * kNR];
  if (SplitColumnPanels(GemmRegK, a_trans, b_trans, M, N, K, A, lda, B, ldb, C,
                        ldc, accumulate, bias))
    return;
  const size_t w = N <= kGemmLanes ? kGemmLanes : kNR;
  const float* bk = B;
  size_t bks = ldb;
  if (b_trans) {
    PackPanel(B, ldb, false, K, N, w, bp);
    bk = bp;
    bks = w;
  }
  if (w == kGemmLanes) {
    if (K == 1)
      return GemmRegRowsOf<1, 1>(M, a_trans, A, lda, bk, bks, C, ldc, N,
                                 accumulate, bias);
    return GemmRegRowsOf<2, 1>(M, a_trans, A, lda, bk, bks, C, ldc, N,
                               accumulate, bias);
  }
  if (K == 1)
    return GemmRegRowsOf<1, 2>(M, a_trans, A, lda, bk, bks, C, ldc, N,
                               accumulate, bias);
  GemmRegRowsOf<2, 2>(M, a_trans, A, lda, bk, bks, C, ldc, N, accumulate, bias);
}

#undef DLMATH_GEMM_SMALL_SCRATCH

// The bias rows of a blocked product, added at the end of GemmBlocked: the
// walk down the rows of kVecs adjacent columns of vectors at j, where C has
// two, one walk taking both (the walk's pointer step and loop test per row
// cost V8 as much as a vector's load, add and store).
template <size_t kVecs>
HWY_INLINE void AddBiasColumns(const float* HWY_RESTRICT bias,
                               float* HWY_RESTRICT c, size_t M, size_t ldc) {
  const GemmTag d;
  hn::Vec<GemmTag> bv[kVecs];
  for (size_t v = 0; v < kVecs; ++v)
    bv[v] = hn::LoadU(d, bias + v * kGemmLanes);
  for (size_t r = 0; r < M; ++r, c += ldc)
    for (size_t v = 0; v < kVecs; ++v) {
      float* const cv = c + v * kGemmLanes;
      hn::StoreU(hn::Add(hn::LoadU(d, cv), bv[v]), d, cv);
    }
}

// C[i, j] += bias[j] for i < M, j < N: each element one float add. A column
// of vectors (two) at a time, its bias loaded once and a pointer stepping
// down the rows: V8 compiles that to a load, an add and a store a vector (a
// flat loop wrapping the bias's index cost it 15 instructions a vector).
HWY_INLINE void AddBiasRows(const float* HWY_RESTRICT bias,
                            float* HWY_RESTRICT C, size_t M, size_t N,
                            size_t ldc) {
  const GemmTag d;
  if (N == 1 && ldc == 1) {  // one output (regression): down the column
    const auto b0 = hn::Set(d, bias[0]);
    size_t r = 0;
    for (; r + kGemmLanes <= M; r += kGemmLanes)
      hn::StoreU(hn::Add(hn::LoadU(d, C + r), b0), d, C + r);
    for (; r < M; ++r) C[r] += bias[0];
    return;
  }
  size_t j = 0;
  for (; j + 2 * kGemmLanes <= N; j += 2 * kGemmLanes)
    AddBiasColumns<2>(bias + j, C + j, M, ldc);
  if (j + kGemmLanes <= N) {
    AddBiasColumns<1>(bias + j, C + j, M, ldc);
    j += kGemmLanes;
  }
  for (; j < N; ++j) {
    float* HWY_RESTRICT c = C + j;
    for (size_t r = 0; r < M; ++r, c += ldc) *c += bias[j];
  }
}

// C[M, N] (+)= op(A) op(B) (+ 1 bias^T: bias null or N floats, only when not
// accumulating) for M, N, K > 0 (gemm.h); a_trans / b_trans: op is the
// transpose. ap: at least min(M, kGemmMC) * min(K, kGemmKC) floats for the
// packed A block.
HWY_NOINLINE void GemmBlocked(bool a_trans, bool b_trans, size_t M, size_t N,
                              size_t K, const float* A, size_t lda,
                              const float* B, size_t ldb, float* C, size_t ldc,
                              bool accumulate, const float* bias, float* ap) {
  if (N == 1 && ldc == 1 && M > 1) {
    // A column C [M, 1] is the row C^T = op(B)^T op(A)^T: the same products
    // summed in the same order (the same bits), but M runs along the tile's
    // lanes instead of one useful lane in kNR.
    GemmBlocked(!b_trans, !a_trans, 1, M, K, B, ldb, A, lda, C, M, accumulate,
                nullptr, ap);
    if (bias) AddBiasRows(bias, C, M, N, ldc);
    return;
  }
  const size_t mc = hwy::RoundUpTo(EvenBlock(M, kGemmMC), kMR);
  const size_t kcb = EvenBlock(K, kGemmKC);
  const bool a_in_place = a_trans && K * lda <= kInPlaceFloats;
  const bool a_rows = !a_trans && M * lda <= kInPlaceFloats;  // strided tile
  const bool b_in_place = !b_trans && K * ldb <= kInPlaceFloats;
  HWY_ALIGN float bp[kGemmKC * kNR];
  for (size_t i0 = 0; i0 < M; i0 += mc) {
    const size_t m = HWY_MIN(mc, M - i0);
    for (size_t k0 = 0; k0 < K; k0 += kcb) {
      const size_t kc = HWY_MIN(kcb, K - k0);
      for (size_t ib = 0; ib < m && !a_in_place && !a_rows; ib += kMR) {
        const size_t i = i0 + ib, rows = HWY_MIN(kMR, m - ib);
        PackPanel(a_trans ? A + k0 * lda + i : A + i * lda + k0, lda, a_trans,
                  kc, rows, rows, ap + ib * kc);
      }
      for (size_t j0 = 0; j0 < N; j0 += kNR) {
        const size_t cols = HWY_MIN(kNR, N - j0);
        GemmPanel b{B + k0 * ldb + j0, ldb};
        if (!b_in_place || cols < kNR) {  // a partial panel needs padding
          PackPanel(b_trans ? B + j0 * ldb + k0 : B + k0 * ldb + j0, ldb,
                    !b_trans, kc, cols, kNR, bp);
          b = {bp, kNR};
        }
        for (size_t ib = 0; ib < m; ib += kMR) {
          const size_t rows = HWY_MIN(kMR, m - ib);
          float* c = C + (i0 + ib) * ldc + j0;
          const bool load_c = accumulate || k0 > 0;
          if (a_rows) {
            GemmTileAny<true>(rows, {A + (i0 + ib) * lda + k0, 1, lda}, b, kc,
                              c, ldc, cols, load_c);
            continue;
          }
          const GemmPanel a = a_in_place
                                  ? GemmPanel{A + k0 * lda + i0 + ib, lda}
                                  : GemmPanel{ap + ib * kc, rows};
          GemmTileAny<false>(rows, a, b, kc, c, ldc, cols, load_c);
        }
      }
    }
  }
  if (bias) AddBiasRows(bias, C, M, N, ldc);
}

}  // namespace HWY_NAMESPACE
}  // namespace dlmath
#if HWY_TARGET == HWY_SCALAR && HWY_COMPILER_GCC_ACTUAL
#pragma GCC pop_options
#endif
HWY_AFTER_NAMESPACE();

#endif  // DLMATH_OPS_GEMM_INL_H_
