// Which Highway target the kernels run on (for the benchmark table and the
// JS `dl.target`).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/target.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace dlmath {
namespace HWY_NAMESPACE {
const char* TargetNameHere() { return hwy::TargetName(HWY_TARGET); }
}  // namespace HWY_NAMESPACE
}  // namespace dlmath
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"
#include "dlmath/dlmath.h"
namespace dlmath {
DLMATH_HWY_EXPORT(TargetNameHere)
const char* KernelTarget() { return DLMATH_DISPATCH(TargetNameHere)(); }
const char* ActiveTarget() { return KernelTarget(); }
}  // namespace dlmath
#endif  // HWY_ONCE
