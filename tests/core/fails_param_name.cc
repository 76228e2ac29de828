// Must not compile (CTest fails_param_name, CMakeLists.txt): a param name
// that elu's row does not have. The compiler's message names
// NoParamOfThisNameInTheRow, which the test looks for.
#include "dlmath/registry.h"

namespace dlmath {

static_assert(DLMATH_PARAM(elu, alpha) == 0);  // the real name compiles
inline constexpr int kMisspelt = DLMATH_PARAM(elu, alhpa);

}  // namespace dlmath
