// Matrix products (core/src/gemm.h): the per-thread packing space and the
// dispatch to the Highway kernel in gemm-inl.h (best target at run time
// natively, the static WASM target in wasm).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/gemm.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/gemm-inl.h"
// clang-format on

#if HWY_ONCE
#include "core/src/gemm.h"

#include <algorithm>
#include <memory>
#include <new>

#include "core/src/ops/dispatch.h"

namespace dlmath {

DLMATH_HWY_EXPORT(GemmDots)
DLMATH_HWY_EXPORT(GemmSmall)
DLMATH_HWY_EXPORT(GemmBlocked)

namespace {

// Grow-only, one per thread: a product never shares its packed A.
struct PackSpace {
  std::unique_ptr<float[]> data;
  size_t size = 0;
};
thread_local PackSpace pack_space;

// Floats of packed A that a product of these sizes needs (M, K > 0).
size_t PackFloats(size_t M, size_t K) {
  return std::min(M, kGemmMC) * std::min(K, kGemmKC);
}

// At least `floats` of this thread's space, or null if it cannot grow.
float* PackSpaceFor(size_t floats) {
  PackSpace& s = pack_space;
  if (floats > s.size) {
    float* grown = new (std::nothrow) float[floats];
    if (!grown) return nullptr;
    s.data.reset(grown);
    s.size = floats;
  }
  return s.data.get();
}

}  // namespace

bool Gemm(Trans ta, Trans tb, size_t M, size_t N, size_t K, const float* A,
          size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
          bool accumulate) {
  if (M == 0 || N == 0) return true;
  if (K == 0) {
    if (!accumulate)
      for (size_t i = 0; i < M; ++i) std::fill_n(C + i * ldc, N, 0.0f);
    return true;
  }
  if (N == 1 && ta == Trans::kNo && (tb == Trans::kYes || ldb == 1)) {
    DLMATH_DISPATCH(GemmDots)(M, K, A, lda, B, C, ldc, accumulate);
    return true;
  }
  if (GemmIsSmall(N, K)) {
    DLMATH_DISPATCH(GemmSmall)
    (ta == Trans::kYes, tb == Trans::kYes, M, N, K, A, lda, B, ldb, C, ldc,
     accumulate);
    return true;
  }
  float* ap = PackSpaceFor(PackFloats(M, K));
  if (!ap) return false;
  DLMATH_DISPATCH(GemmBlocked)
  (ta == Trans::kYes, tb == Trans::kYes, M, N, K, A, lda, B, ldb, C, ldc,
   accumulate, ap);
  return true;
}

bool GemmReserve(size_t M, size_t N, size_t K) {
  return M == 0 || N == 0 || K == 0 || PackSpaceFor(PackFloats(M, K));
}

}  // namespace dlmath
#endif  // HWY_ONCE
