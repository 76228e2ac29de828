// Helpers shared by the Catch2 tests: the value sweep, the comparison rule,
// Highway target iteration and sample shapes from the registry.
#ifndef DLMATH_TESTS_CORE_TESTING_H_
#define DLMATH_TESTS_CORE_TESTING_H_

#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/src/ops/dispatch.h"
#include "dlmath/dlmath.h"
#include "dlmath/registry.h"
#if !DLMATH_STATIC_DISPATCH_ONLY
#include "hwy/targets.h"
#endif

namespace dlmath::testing {

// Values every elementwise kernel is swept over: signed zeros, tiny and
// subnormal values, the landmarks, infinities and NaN, a dense grid
// over [-12, 12] and log-spaced magnitudes up to 1e4 of both signs.
inline std::vector<float> SweepValues() {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {
      0.0f,    -0.0f,   1e-30f,
      -1e-30f, FLT_MIN, -FLT_MIN,
      1e-40f,  -1e-40f, std::numeric_limits<float>::denorm_min(),
      1.0f,    -1.0f,   5.0f,
      -5.0f,   20.0f,   -20.0f,
      50.0f,   -50.0f,  100.0f,
      -100.0f, 1e4f,    -1e4f,
      inf,     -inf,    std::numeric_limits<float>::quiet_NaN()};
  for (int i = -1200; i <= 1200; ++i) v.push_back(i * 0.01f + 0.00137f);
  for (double m = 1e-7; m < 1e4; m *= 1.37) {
    v.push_back(static_cast<float>(m));
    v.push_back(static_cast<float>(-m));
  }
  return v;
}

// Tail lengths around every vector width (4, 8, 16 lanes) and a large one.
inline std::vector<size_t> SweepLengths(size_t large) {
  return {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 35, large};
}

// |got - ref| <= tol * max(1, |ref|); NaN must be NaN, an infinite (or
// beyond-float) ref must be matched by the same infinity, and with
// exact_zero a zero ref must be matched bit-exactly (sign included).
inline bool Close(float got, double ref, double tol, bool exact_zero = false) {
  if (std::isnan(ref)) return std::isnan(got);
  if (std::fabs(ref) > FLT_MAX)
    return std::isinf(got) && std::signbit(got) == std::signbit(ref);
  if (exact_zero && ref == 0)
    return got == 0 && std::signbit(got) == std::signbit(ref);
  return std::fabs(got - ref) <= tol * std::max(1.0, std::fabs(ref));
}

// Runs fn once per compiled-and-supported Highway target (natively), or once
// (wasm: a single static target), naming the target in Catch's output.
inline void ForEachTarget(const std::function<void(const char*)>& fn) {
#if DLMATH_STATIC_DISPATCH_ONLY
  fn(ActiveTarget());
#else
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    fn(hwy::TargetName(target));
  }
  hwy::SetSupportedTargetsForTest(0);
#endif
}

// Param sets tried for every op: the defaults, and one with every param
// moved to another valid value.
inline std::vector<std::vector<double>> ParamSets(const OpInfo& op) {
  std::vector<double> def(kMaxParams, 0), alt(kMaxParams, 0);
  for (int k = 0; k < op.num_params(); ++k) {
    const ParamSpec& s = op.params[k];
    def[k] = s.def;
    double a;
    if (s.type == ParamType::kBool) {
      a = s.def ? 0 : 1;
    } else if (s.type == ParamType::kInt) {
      a = s.def + 1 <= s.hi ? s.def + 1 : s.def - 1;
    } else if (std::isfinite(s.lo) && std::isfinite(s.hi)) {
      a = s.lo + 0.3 * (s.hi - s.lo);
    } else {
      a = s.def * 1.5 + 0.25;
      if (!(a > s.lo) || !(a < s.hi)) a = s.def * 0.5;
    }
    alt[k] = a;
  }
  if (op.num_params() == 0) return {def};
  return {def, alt};
}

struct SampleInput {
  std::string name;
  Shape shape;
};
// Parses a registry `sample` string: "x=[2,3] weight=[3]".
inline std::vector<SampleInput> ParseSample(const char* text) {
  std::vector<SampleInput> out;
  std::string s(text);
  size_t pos = 0;
  while ((pos = s.find('=', pos)) != std::string::npos) {
    size_t start = s.rfind(' ', pos);
    start = start == std::string::npos ? 0 : start + 1;
    SampleInput in{s.substr(start, pos - start), {}};
    const size_t open = s.find('[', pos), close = s.find(']', open);
    std::stringstream dims(s.substr(open + 1, close - open - 1));
    std::string tok;
    while (std::getline(dims, tok, ','))
      if (!tok.empty()) in.shape[in.shape.rank++] = std::stoll(tok);
    out.push_back(in);
    pos = close;
  }
  return out;
}

// Deterministic data in [lo, hi].
inline std::vector<float> RandomData(size_t n, uint32_t seed, float lo = -3,
                                     float hi = 3) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

}  // namespace dlmath::testing

#endif  // DLMATH_TESTS_CORE_TESTING_H_
