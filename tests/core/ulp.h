// Accuracy of an elementwise op in ulps, over every float32 bit pattern or a
// regular sample of them: the kernel (the active Highway target) against the
// op's float64 reference. test_kernels samples; ulp_exhaustive.cc takes
// every float.
#ifndef DLMATH_TESTS_CORE_ULP_H_
#define DLMATH_TESTS_CORE_ULP_H_

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::testing {

// Spacing of the floats around |ref|: 2^(e - 24) for |ref| in [2^(e-1),
// 2^e), the subnormal spacing below FLT_MIN.
inline double UlpOf(double ref) {
  int e;
  std::frexp(ref, &e);
  return std::ldexp(1.0, std::max(e - 24, -149));
}

// Whether the op's reference is odd, judged at a few points.
inline bool OddReference(const OpInfo& op, const double* p) {
  for (double x : {1e-3, 0.5, 1.0, 3.0, 20.0}) {
    if (op.impl.ew_ref_fwd(-x, p, 0) != -op.impl.ew_ref_fwd(x, p, 0))
      return false;
  }
  return true;
}

struct UlpReport {
  double ulp = 0;  // largest error, at x
  float x = 0, got = 0;
  double ref = 0;
  uint64_t mismatches = 0;  // specials or symmetry: each one a failure
};

// Every stride-th bit pattern: for an op whose reference is odd, the positive
// half, each -x checked against -f(x) bit for bit; else all 2^32. A NaN,
// infinity or zero of the reference must come out exactly (a zero with its
// sign); other values count their error in ulps of the reference.
inline UlpReport MeasureUlps(const OpInfo& op, const double* p,
                             uint64_t stride) {
  const bool odd = OddReference(op, p);
  const uint64_t end = odd ? 0x80000000ull : 0x100000000ull;
  constexpr size_t kChunk = 1 << 16;
  std::vector<float> x(kChunk), y(kChunk), yn(kChunk);
  UlpReport w;
  for (uint64_t base = 0; base < end; base += kChunk * stride) {
    size_t n = 0;
    for (uint64_t b = base; n < kChunk && b < end; b += stride, ++n) {
      const uint32_t bits = static_cast<uint32_t>(b);
      std::memcpy(&x[n], &bits, 4);
      yn[n] = -x[n];
    }
    op.impl.ew_fwd(x.data(), y.data(), n, p);
    if (odd) op.impl.ew_fwd(yn.data(), yn.data(), n, p);
    for (size_t i = 0; i < n; ++i) {
      const double ref = op.impl.ew_ref_fwd(x[i], p, 0);
      const float got = y[i], minus = -got;
      bool bad = odd && !(std::isnan(got) && std::isnan(yn[i])) &&
                 std::memcmp(&yn[i], &minus, 4) != 0;
      if (std::isnan(ref)) {
        bad = bad || !std::isnan(got);
      } else if (std::fabs(ref) > FLT_MAX || ref == 0) {
        bad = bad || got != ref || std::signbit(got) != std::signbit(ref);
      } else if (std::isnan(got)) {
        bad = true;
      } else {
        const double e = std::fabs(got - ref) / UlpOf(ref);
        if (e > w.ulp) w = {e, x[i], got, ref, w.mismatches};
      }
      if (bad && w.mismatches++ < 10) {
        std::printf("  %s mismatch at x = %a: got %a, at -x %a, ref %a\n",
                    op.id, x[i], got, yn[i], ref);
      }
    }
  }
  return w;
}

}  // namespace dlmath::testing

#endif  // DLMATH_TESTS_CORE_ULP_H_
