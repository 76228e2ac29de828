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
    } else if (s.type == ParamType::kInt || s.type == ParamType::kEnum) {
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

// Deterministic data in [lo, hi].
inline std::vector<float> RandomData(size_t n, uint32_t seed, float lo = -3,
                                     float hi = 3) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// A validated General call on the row's sample inputs: data drawn from each
// input's sample range (integers for integer inputs), inputs the sample
// leaves out must be optional. `data` keeps the floats alive.
struct SampleCall {
  std::vector<std::vector<float>> data;  // per registry input, empty if absent
  Call call;
};
inline SampleCall MakeSampleCall(const OpInfo& op, const std::vector<double>& p,
                                 uint32_t seed) {
  SampleCall sc;
  sc.data.resize(op.num_inputs());
  std::vector<NamedTensor> named;
  const auto sample = ParseSample(op.sample);
  for (const SampleInput& si : sample) {
    const int k = op.InputIndex(si.name);
    INFO("sample input " << si.name);
    REQUIRE(k >= 0);
    const bool integer = op.inputs[k].integer;
    auto& v = sc.data[k];
    v = RandomData(si.shape.numel(), seed + k, si.lo,
                   integer ? si.hi + 1 : si.hi);
    if (integer)
      for (float& f : v) f = std::min<float>(std::floor(f), si.hi);
  }
  for (const SampleInput& si : sample) {
    const int k = op.InputIndex(si.name);
    named.push_back({op.inputs[k].name, {sc.data[k].data(), si.shape}});
  }
  for (int k = 0; k < op.num_inputs(); ++k)
    if (sc.data[k].empty()) REQUIRE(op.inputs[k].optional);
  std::vector<NamedParam> params;
  for (int k = 0; k < op.num_params(); ++k)
    params.push_back({op.params[k].name, p[k]});
  const Status st = Prepare(op.id, named, params, &sc.call);
  INFO(st.message());
  REQUIRE(st.ok());
  return sc;
}

// Buffers for running a General op's float64 reference on a call's inputs.
struct RefBuffers {
  std::vector<std::vector<double>> in, aux;
  std::vector<double> y, ws;
  const double* in_ptr[kMaxInputs] = {};
  double* aux_ptr[kMaxAux] = {};
  Shape shapes[kMaxInputs];
};
// Forward of the reference; `in` (double copies of the inputs) may be
// perturbed by the caller first (finite differences).
inline GenCall<double> RefForward(const Call& call, RefBuffers* b,
                                  const double* p = nullptr) {
  const OpInfo& op = *call.op;
  for (int k = 0; k < op.num_inputs(); ++k) {
    b->in_ptr[k] = call.in[k].data ? b->in[k].data() : nullptr;
    b->shapes[k] = call.in[k].shape;
  }
  b->y.assign(call.out.numel(), 0);
  b->ws.assign(call.workspace + 1, 0);
  b->aux.resize(kMaxAux);
  for (int k = 0; k < op.num_aux(); ++k) {
    b->aux[k].assign(call.aux[k].numel(), 0);
    b->aux_ptr[k] = b->aux[k].data();
  }
  GenCall<double> c{.in = b->in_ptr,
                    .in_shape = b->shapes,
                    .p = p ? p : call.p,
                    .out = b->y.data(),
                    .out_shape = call.out,
                    .ws = b->ws.data(),
                    .aux = b->aux_ptr,
                    .aux_shape = call.aux};
  op.impl.gen_ref_fwd(c);
  return c;
}
inline RefBuffers RefInputs(const Call& call) {
  RefBuffers b;
  for (int k = 0; k < call.op->num_inputs(); ++k)
    b.in.emplace_back(
        call.in[k].data,
        call.in[k].data + (call.in[k].data ? call.in[k].shape.numel() : 0));
  return b;
}

// PyTorch's values, from tests/fixtures/torch_values.py (float64 runs on
// inputs exact in float32).
namespace torch {
#include "tests/fixtures/torch_values.inc"
static_assert(kTorchValuesVersion == 1,
              "tests/fixtures/torch_values.inc is stale: regenerate it with "
              "/usr/bin/python3 tests/fixtures/torch_values.py > "
              "tests/fixtures/torch_values.inc");
}  // namespace torch

// A fixture array as float inputs.
template <size_t N>
std::vector<float> Floats(const double (&v)[N]) {
  return std::vector<float>(v, v + N);
}

// got[0, N) against PyTorch's values: |got - want| <= tol * max(1, |want|)
// (Close), naming the first index that is off.
template <size_t N>
void RequireTorch(const float* got, size_t n, const double (&want)[N],
                  double tol) {
  REQUIRE(n == N);
  for (size_t i = 0; i < N; ++i) {
    INFO("[" << i << "] got " << got[i] << ", PyTorch " << want[i]);
    REQUIRE(Close(got[i], want[i], tol));
  }
}
template <size_t N>
void RequireTorch(const std::vector<float>& got, const double (&want)[N],
                  double tol) {
  RequireTorch(got.data(), got.size(), want, tol);
}

// d/dt of sum(dy * ref_forward(in[k][j] + t)) at t = 0 by a central
// difference with step 1e-5, in double: the oracle for a reference backward.
inline double RefCentralDiff(const Call& call, const RefBuffers& rb,
                             const std::vector<double>& dy, int k, size_t j) {
  auto loss = [&](double t) {
    RefBuffers b = rb;
    b.in[k][j] += t;
    RefForward(call, &b);
    double v = 0;
    for (size_t i = 0; i < b.y.size(); ++i) v += dy[i] * b.y[i];
    return v;
  };
  const double h = 1e-5;
  return (loss(h) - loss(-h)) / (2 * h);
}

}  // namespace dlmath::testing

#endif  // DLMATH_TESTS_CORE_TESTING_H_
