// The per-target build of stats-inl.h and its dispatch (stats.h).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/model/stats.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/model/stats-inl.h"
// clang-format on

#if HWY_ONCE
#include "core/src/model/stats.h"

#include "core/src/ops/dispatch.h"

namespace dlmath::model {

DLMATH_HWY_EXPORT(LayerSums)
DLMATH_HWY_EXPORT(AddColumnSums)

void MomentsOf(const LayerArrays* layers, size_t count, double* out) {
  DLMATH_DISPATCH(LayerSums)(layers, count, out);
}

void AddColumnSums(const float* v, size_t rows, size_t cols, float* s,
                   bool accumulate) {
  DLMATH_DISPATCH(AddColumnSums)(v, rows, cols, s, accumulate);
}

}  // namespace dlmath::model
#endif  // HWY_ONCE
