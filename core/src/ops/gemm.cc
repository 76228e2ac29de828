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
DLMATH_HWY_EXPORT(GemmRegK)
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

// The plans' kernels (GemmPlan::Kernel). In wasm, the one target's
// functions themselves (no call around them); natively, a jump through the
// dispatch table to the current target's (tests switch targets under a
// model's plans).
#if DLMATH_STATIC_DISPATCH_ONLY
constexpr GemmPlan::Kernel GemmDotsKernel = &HWY_STATIC_DISPATCH(GemmDots);
constexpr GemmPlan::Kernel GemmSmallKernel = &HWY_STATIC_DISPATCH(GemmSmall);
constexpr GemmPlan::Kernel GemmRegKKernel = &HWY_STATIC_DISPATCH(GemmRegK);
#else
void GemmDotsKernel(bool a_trans, bool b_trans, size_t M, size_t N, size_t K,
                    const float* A, size_t lda, const float* B, size_t ldb,
                    float* C, size_t ldc, bool accumulate, const float* bias) {
  DLMATH_DISPATCH(GemmDots)
  (a_trans, b_trans, M, N, K, A, lda, B, ldb, C, ldc, accumulate, bias);
}
void GemmSmallKernel(bool a_trans, bool b_trans, size_t M, size_t N, size_t K,
                     const float* A, size_t lda, const float* B, size_t ldb,
                     float* C, size_t ldc, bool accumulate, const float* bias) {
  DLMATH_DISPATCH(GemmSmall)
  (a_trans, b_trans, M, N, K, A, lda, B, ldb, C, ldc, accumulate, bias);
}
void GemmRegKKernel(bool a_trans, bool b_trans, size_t M, size_t N, size_t K,
                    const float* A, size_t lda, const float* B, size_t ldb,
                    float* C, size_t ldc, bool accumulate, const float* bias) {
  DLMATH_DISPATCH(GemmRegK)
  (a_trans, b_trans, M, N, K, A, lda, B, ldb, C, ldc, accumulate, bias);
}
#endif

// Which kernel a product takes (Gemm and PlanGemm decide alike).
enum class GemmPath : uint8_t {
  kNothing,
  kZeros,
  kDots,
  kRegK,
  kSmall,
  kBlocked
};
GemmPath PathOf(Trans ta, Trans tb, size_t M, size_t N, size_t K, size_t ldb) {
  if (M == 0 || N == 0) return GemmPath::kNothing;
  if (K == 0) return GemmPath::kZeros;
  if (N == 1 && ta == Trans::kNo && (tb == Trans::kYes || ldb == 1))
    return GemmPath::kDots;
  if (!GemmIsSmall(N, K)) return GemmPath::kBlocked;
  if (K <= kGemmRegK) return GemmPath::kRegK;
  return GemmPath::kSmall;
}

// Gemm as a plan's kernel: the blocked products (which wasm-opt inlines into
// Gemm: called from a kernel of their own, V8 ran MNIST's 2.3 % slower) and
// the empty ones.
void GemmKernel(bool a_trans, bool b_trans, size_t M, size_t N, size_t K,
                const float* A, size_t lda, const float* B, size_t ldb,
                float* C, size_t ldc, bool accumulate, const float* bias) {
  Gemm(a_trans ? Trans::kYes : Trans::kNo, b_trans ? Trans::kYes : Trans::kNo,
       M, N, K, A, lda, B, ldb, C, ldc, accumulate, bias);
}

// The kernel of a small product's path, the same for Gemm and its plans;
// null for the others.
GemmPlan::Kernel SmallKernelOf(GemmPath path) {
  switch (path) {
    case GemmPath::kDots:
      return GemmDotsKernel;
    case GemmPath::kRegK:
      return GemmRegKKernel;
    case GemmPath::kSmall:
      return GemmSmallKernel;
    default:
      return nullptr;
  }
}

}  // namespace

bool Gemm(Trans ta, Trans tb, size_t M, size_t N, size_t K, const float* A,
          size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
          bool accumulate, const float* bias) {
  const GemmPath path = PathOf(ta, tb, M, N, K, ldb);
  if (path == GemmPath::kNothing) return true;
  if (const GemmPlan::Kernel kernel = SmallKernelOf(path)) {
    kernel(ta == Trans::kYes, tb == Trans::kYes, M, N, K, A, lda, B, ldb, C,
           ldc, accumulate, bias);
    return true;
  }
  if (path == GemmPath::kZeros) {
    if (accumulate) return true;
    for (size_t i = 0; i < M; ++i) {
      float* c = C + i * ldc;
      if (!bias) {
        std::fill_n(c, N, 0.0f);
        continue;
      }
      // The empty sum's +0, then the bias (0 + -0 is +0, as the pass gave).
      for (size_t j = 0; j < N; ++j) c[j] = 0.0f + bias[j];
    }
    return true;
  }
  float* ap = PackSpaceFor(PackFloats(M, K));
  if (!ap) return false;
  DLMATH_DISPATCH(GemmBlocked)
  (ta == Trans::kYes, tb == Trans::kYes, M, N, K, A, lda, B, ldb, C, ldc,
   accumulate, bias, ap);
  return true;
}

bool PlanGemm(Trans ta, Trans tb, size_t M, size_t N, size_t K, size_t lda,
              size_t ldb, size_t ldc, bool accumulate, GemmPlan* plan) {
  *plan = {GemmKernel,
           ta == Trans::kYes,
           tb == Trans::kYes,
           accumulate,
           M,
           N,
           K,
           lda,
           ldb,
           ldc};
  const GemmPath path = PathOf(ta, tb, M, N, K, ldb);
  if (const GemmPlan::Kernel kernel = SmallKernelOf(path))
    plan->kernel = kernel;
  return path != GemmPath::kBlocked || PackSpaceFor(PackFloats(M, K));
}

bool GemmReserve(size_t M, size_t N, size_t K) {
  return M == 0 || N == 0 || K == 0 || PackSpaceFor(PackFloats(M, K));
}

}  // namespace dlmath
#endif  // HWY_ONCE
