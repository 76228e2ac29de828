// Per-target build of the activation kernels and their dispatch wrappers;
// General-form activations (prelu) are defined after the wrappers.
// foreach_target.h must come before the -inl.h files it re-includes.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/activations.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/activations-inl.h"
#include "core/src/ops/rowwise-inl.h"
// clang-format on

#if HWY_ONCE
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

}  // namespace dlmath
#endif  // HWY_ONCE
