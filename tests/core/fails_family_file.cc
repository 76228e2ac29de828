// Must not compile (CTest fails_family_file, CMakeLists.txt): a second
// kernel file for the losses family, which families.def gives to
// core/src/ops/losses.cc. export.h's static_assert names the rule.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tests/core/fails_family_file.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
// clang-format on

#if HWY_ONCE
#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_losses(...) __VA_ARGS__
#include "core/src/ops/export.h"
}  // namespace dlmath
#endif  // HWY_ONCE
