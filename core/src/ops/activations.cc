// Per-target build of the activation kernels and their dispatch wrappers;
// General-form activations (prelu, swiglu) are defined after the wrappers.
// foreach_target.h must come before the -inl.h files it re-includes.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/activations.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/activations-inl.h"
#include "core/src/ops/rowwise-inl.h"
// clang-format on

#if HWY_ONCE
#include <Eigen/Core>
#include <algorithm>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"
namespace dlmath {
#define DLMATH_IF_activations(...) __VA_ARGS__
#include "core/src/ops/export.h"

// ----- General-form activations ---------------------------------------------

// prelu: y = x > 0 ? x : w[c] * x with one learnable slope per channel
// (dimension 1 of x when its rank is >= 2) or one shared slope, as
// torch.nn.functional.prelu. The SIMD blocks are in rowwise-inl.h.
DLMATH_HWY_EXPORT(PreluForwardBlocks)
DLMATH_HWY_EXPORT(PreluBackwardBlocks)

namespace {

struct PreluDims {
  size_t outer = 1, channels = 1, inner = 1;
};
PreluDims PreluLayout(const Shape& x) {
  PreluDims l;
  if (x.rank >= 2) {
    l.outer = static_cast<size_t>(x.dim[0]);
    l.channels = static_cast<size_t>(x.dim[1]);
    for (int k = 2; k < x.rank; ++k) l.inner *= static_cast<size_t>(x.dim[k]);
  } else {
    l.outer = static_cast<size_t>(x.numel());
  }
  return l;
}

}  // namespace

Status PreluShape(const ShapeCtx& c) {
  const char* op = c.op;
  const Shape& x = c.in[0];
  const Shape& w = c.in[1];
  const int64_t channels = x.rank >= 2 ? x.dim[1] : 1;
  if (w.numel() != 1 && w.numel() != channels) {
    const std::string want =
        x.rank >= 2
            ? "shape [1] or [" + std::to_string(channels) +
                  "] (one slope per channel, dimension 1 of x " + x.str() + ")"
            : "shape [1] (x " + x.str() + " has no channel dimension)";
    return Status(ErrorCode::kBadShape, op, "weight",
                  "op '" + std::string(op) + "': input 'weight' must have " +
                      want + ", got " + w.str());
  }
  *c.out = x;
  return {};
}

void PreluForward(const GenCall<float>& c) {
  const PreluDims l = PreluLayout(c.in_shape[0]);
  const auto blocks = DLMATH_DISPATCH(PreluForwardBlocks);
  blocks(c.in[0], c.in[1], c.out, l.outer, l.channels, l.inner,
         static_cast<size_t>(c.in_shape[1].numel()));
}

// Accumulates into dx (din[0]) and dweight (din[1]), either may be null.
void PreluBackward(const GenCall<float>& c) {
  const PreluDims l = PreluLayout(c.in_shape[0]);
  const auto blocks = DLMATH_DISPATCH(PreluBackwardBlocks);
  blocks(c.in[0], c.in[1], c.dy, c.din[0], c.din[1], l.outer, l.channels,
         l.inner, static_cast<size_t>(c.in_shape[1].numel()));
}

namespace {
using MatR =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Mat = Eigen::Map<MatR>;
using ConstMat = Eigen::Map<const MatR>;
using Arr = Eigen::Map<Eigen::ArrayXf>;
using ConstArr = Eigen::Map<const Eigen::ArrayXf>;
}  // namespace

// ---------------------------------------------------------------------------
// swiglu. x [N, d], w [d, h], v [d, h] -> y [N, h]:
// y = silu(x w) * (x v), silu(a) = a / (1 + e^-a) (PyTorch's form, which
// also gives its NaN at a = -inf). Error: the GEMMs' float rounding, about
// d * 6e-8 relative to the sum of |terms|; the gate adds ~2 ulp.
// Forward saves A = x w and B = x v in the workspace (2 N h floats).
// Backward turns them, in place, into dA = dy * B * silu'(A) and
// dB = dy * silu(A), silu'(a) = s (1 + a (1 - s)), s = sigmoid(a), then
// accumulates dx += dA w^T + dB v^T, dw += x^T dA, dv += x^T dB. So one
// Backward consumes what Forward saved: run Forward again before another.

Status SwigluShape(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  const Shape& w = c.in[1];
  const Shape& v = c.in[2];
  const std::string name(c.op);
  if (w.dim[0] != x.dim[1])
    return Status(ErrorCode::kBadShape, name, "W",
                  "op '" + name + "': input 'W' must have shape [" +
                      std::to_string(x.dim[1]) + ", h] to match x " + x.str() +
                      ", got " + w.str());
  if (!(v == w))
    return Status(ErrorCode::kBadShape, name, "V",
                  "op '" + name + "': input 'V' must have shape " + w.str() +
                      " to match W " + w.str() + ", got " + v.str());
  *c.out = Shape{x.dim[0], w.dim[1]};
  *c.workspace = 2 * x.dim[0] * w.dim[1];
  return {};
}

void SwigluForward(const GenCall<float>& c) {
  const Eigen::Index n = c.in_shape[0][0], d = c.in_shape[0][1];
  const Eigen::Index h = c.in_shape[1][1];
  const ConstMat x(c.in[0], n, d), w(c.in[1], d, h), v(c.in[2], d, h);
  Mat a(c.ws, n, h), b(c.ws + n * h, n, h);
  a.noalias() = x * w;
  b.noalias() = x * v;
  const ConstArr av(c.ws, n * h), bv(c.ws + n * h, n * h);
  Arr(c.out, n * h) = av / (1.0f + (-av).exp()) * bv;
}

// Accumulates into din[0..2] (dx, dw, dv); each may be null.
void SwigluBackward(const GenCall<float>& c) {
  const Eigen::Index n = c.in_shape[0][0], d = c.in_shape[0][1];
  const Eigen::Index h = c.in_shape[1][1];
  const Eigen::Index nh = n * h;
  float* a = c.ws;
  float* b = c.ws + nh;
  // The gate in chunks, so sigmoid(A) is computed once per element without
  // a heap temporary; dA overwrites A and dB overwrites B.
  constexpr Eigen::Index kChunk = 512;
  for (Eigen::Index i = 0; i < nh; i += kChunk) {
    const Eigen::Index len = std::min(kChunk, nh - i);
    alignas(64) float sbuf[kChunk], tbuf[kChunk];
    Arr av(a + i, len), bv(b + i, len), s(sbuf, len), t(tbuf, len);
    const ConstArr g(c.dy + i, len);
    s = 1.0f / (1.0f + (-av).exp());
    t = g * av * s;                                // dB
    av = g * bv * (s * (1.0f + av * (1.0f - s)));  // dA
    bv = t;
  }
  const ConstMat x(c.in[0], n, d), w(c.in[1], d, h), v(c.in[2], d, h);
  const ConstMat da(a, n, h), db(b, n, h);
  if (c.din[0]) {
    Mat dx(c.din[0], n, d);
    dx.noalias() += da * w.transpose();
    dx.noalias() += db * v.transpose();
  }
  if (c.din[1]) Mat(c.din[1], d, h).noalias() += x.transpose() * da;
  if (c.din[2]) Mat(c.din[2], d, h).noalias() += x.transpose() * db;
}

}  // namespace dlmath
#endif  // HWY_ONCE
