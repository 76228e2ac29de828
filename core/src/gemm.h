// Single-precision matrix products for training (linear layers, attention,
// the tiny GPT): our own Highway micro-kernel. Eigen stays for the solvers.
//
// Row-major, every orientation a layer needs through one entry point:
//   C[M,N] = op(A) · op(B) (+ 1 biasᵀ) (accumulate = false; bias [N] or
//                                       null, a linear layer's)
//   C[M,N] += op(A) · op(B)            (accumulate = true: backward sums into
//                                       gradients, as every kernel does; bias
//                                       must be null)
// op(A) is A stored [M, lda >= K] (ta = kNo) or Aᵀ with A stored
// [K, lda >= M] (ta = kYes); op(B) is B stored [K, ldb >= N] (tb = kNo) or Bᵀ
// with B stored [N, ldb >= K] (tb = kYes). C is [M, ldc >= N].
// A linear layer y = x Wᵀ + b (W [out, in], PyTorch's layout) uses
//   forward  Gemm(kNo, kYes): y = x · Wᵀ + 1 bᵀ
//   dx       Gemm(kNo, kNo):  dx = dy · W
//   dW      Gemm(kYes, kNo):  dW += dyᵀ · x
//
// M, N or K of 0 is allowed (K = 0 writes zeros, plus the bias, unless
// accumulating). C must not overlap A or B. Only the M x N block of C is
// written (its ldc padding never), and no operand is read past its last
// element.
//
// Error: each element is a float sum of its K products (plus the old C),
// |C - exact| <= gamma_{K+1} (|C_old| + sum_k |a_ik b_kj|), gamma_n =
// n u / (1 - n u), u = 2^-24. The bias is one float add to each finished sum
// (bias[j] + the element: the bits of the product followed by a pass adding
// the bias rows), as XNNPACK's fully-connected operator adds it in its
// micro-kernels' store: a small product adds it in registers, a blocked one
// in a pass over C after its K blocks. A call repeated on the same Highway
// target gives the same bits (other targets may differ: FMA or not, tile
// widths).
//
// Memory: packing space is per thread and only grows, at most 192 x 256
// floats (192 KiB; core/src/ops/gemm-inl.h blocks larger products);
// GemmReserve() grows it up front so a model built once never allocates in
// its training step; small products (N <= 16 and K <= 32, a tiny MLP's
// layers) and a column C of contiguous rows need none. Returns false only
// when that space cannot be allocated (then C is not written).
//
// Kernel: core/src/ops/gemm-inl.h (Highway, XNNPACK's shape: packed panels,
// one register tile for every orientation).
#ifndef DLMATH_SRC_GEMM_H_
#define DLMATH_SRC_GEMM_H_

#include <cstddef>
#include <cstdint>

namespace dlmath {

enum class Trans : uint8_t { kNo, kYes };

bool Gemm(Trans ta, Trans tb, size_t M, size_t N, size_t K, const float* A,
          size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
          bool accumulate, const float* bias = nullptr);

// Makes sure a product of these sizes (any orientation) needs no allocation.
bool GemmReserve(size_t M, size_t N, size_t K);

// A product of fixed sizes, orientation and strides, its kernel chosen once
// (a layer's, planned when its row count changes), as Gemm would: Run goes
// straight to a small product's kernel, without Gemm's checks and its call
// around the kernel (in wasm V8 pays a frame per call); a blocked product
// runs through Gemm.
struct GemmPlan {
  using Kernel = void (*)(bool a_trans, bool b_trans, size_t M, size_t N,
                          size_t K, const float* A, size_t lda, const float* B,
                          size_t ldb, float* C, size_t ldc, bool accumulate,
                          const float* bias);
  Kernel kernel = nullptr;
  bool a_trans = false, b_trans = false, accumulate = false;
  size_t M = 0, N = 0, K = 0, lda = 0, ldb = 0, ldc = 0;
  // C (+)= op(A) op(B) (+ 1 biasᵀ), as Gemm with the planned arguments.
  void Run(const float* A, const float* B, float* C,
           const float* bias = nullptr) const {
    kernel(a_trans, b_trans, M, N, K, A, lda, B, ldb, C, ldc, accumulate, bias);
  }
};
// Plans Gemm(ta, tb, M, N, K, ., lda, ., ldb, ., ldc, accumulate, .) (the
// bias, as the operands, given to Run), its
// packing space grown here (GemmReserve): the plan runs on this thread
// without allocating. False when that space cannot be allocated (then
// the plan writes nothing).
bool PlanGemm(Trans ta, Trans tb, size_t M, size_t N, size_t K, size_t lda,
              size_t ldb, size_t ldc, bool accumulate, GemmPlan* plan);

}  // namespace dlmath

#endif  // DLMATH_SRC_GEMM_H_
