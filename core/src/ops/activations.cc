// Per-target build of the activation kernels and their dispatch wrappers;
// General-form activations (prelu) are defined after the wrappers.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/activations.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/activations-inl.h"
#include "core/src/ops/rowwise-inl.h"

#if HWY_ONCE
#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"
namespace dlmath {
#define DLMATH_IF_activations(...) __VA_ARGS__
#include "core/src/ops/export.h"

// ----- General-form activations ---------------------------------------------

}  // namespace dlmath
#endif  // HWY_ONCE
