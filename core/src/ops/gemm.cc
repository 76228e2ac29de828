// Placeholder: a plain triple loop with the final signature of gemm.h, so the
// training engine can be written against it while the Highway micro-kernel
// (packed panels, register tile) replaces this file.
#include "core/src/gemm.h"

namespace dlmath {

bool Gemm(Trans ta, Trans tb, size_t M, size_t N, size_t K, const float* A,
          size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
          bool accumulate) {
  for (size_t i = 0; i < M; ++i)
    for (size_t j = 0; j < N; ++j) {
      float s = 0;
      for (size_t k = 0; k < K; ++k) {
        const float a = ta == Trans::kNo ? A[i * lda + k] : A[k * lda + i];
        const float b = tb == Trans::kNo ? B[k * ldb + j] : B[j * ldb + k];
        s += a * b;
      }
      C[i * ldc + j] = accumulate ? C[i * ldc + j] + s : s;
    }
  return true;
}

bool GemmReserve(size_t, size_t, size_t) { return true; }

}  // namespace dlmath
