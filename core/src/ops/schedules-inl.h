// Schedule kernels (Highway). The schedules are one scalar per step in
// schedules.cc;
// nothing here is per-target yet. A new Elementwise or Rowwise row of this
// family puts its forward/backward pair here, in HWY_NAMESPACE, and export.h
// dispatches it: no other file changes.
#if defined(DLMATH_OPS_SCHEDULES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DLMATH_OPS_SCHEDULES_INL_H_
#undef DLMATH_OPS_SCHEDULES_INL_H_
#else
#define DLMATH_OPS_SCHEDULES_INL_H_
#endif

#include "core/src/ops/simd-inl.h"
#include "dlmath/registry.h"
#include "hwy/highway.h"

// Kernel pairs go in HWY_BEFORE_NAMESPACE(); namespace dlmath { namespace
// HWY_NAMESPACE { ... } } HWY_AFTER_NAMESPACE(); (see losses-inl.h).

#endif  // DLMATH_OPS_SCHEDULES_INL_H_
