// Dispatch macros. Native builds compile every target Highway supports and
// pick the best at run time (HWY_EXPORT + HWY_DYNAMIC_DISPATCH, libhwy); the
// wasm build has one static target (WASM, -msimd128) and no libhwy, so it
// calls that target directly.
#ifndef DLMATH_SRC_OPS_DISPATCH_H_
#define DLMATH_SRC_OPS_DISPATCH_H_

#include "hwy/highway.h"

#if HWY_TARGETS == HWY_STATIC_TARGET
#define DLMATH_STATIC_DISPATCH_ONLY 1
#define DLMATH_HWY_EXPORT(f)
#define DLMATH_DISPATCH(f) HWY_STATIC_DISPATCH(f)
#else
#define DLMATH_STATIC_DISPATCH_ONLY 0
#define DLMATH_HWY_EXPORT(f) HWY_EXPORT(f);
#define DLMATH_DISPATCH(f) HWY_DYNAMIC_DISPATCH(f)
#endif

#endif  // DLMATH_SRC_OPS_DISPATCH_H_
