// Params by name (registry.h, ParamsByName): kernels and references read
// p[DLMATH_PARAM(op, name)], never p[0]. The proof is a second build of the
// library (dlmath_core_rotated, CMakeLists.txt) whose ops.def rows list their
// params rotated by one place: every op must compute exactly what it computes
// in the registry's order. A kernel that read a param by position would read
// its neighbour there and give another result.
#include <cstring>
#include <string>

#include "tests/core/param_order_run.h"
#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

// The index is the row's position, looked up while compiling.
static_assert(DLMATH_PARAM(elu, alpha) == 0);
static_assert(DLMATH_PARAM(huber, reduction) == 0);
static_assert(DLMATH_PARAM(huber, delta) == 1);
static_assert(DLMATH_PARAM(triplet_margin, reduction) == 4);
static_assert(DLMATH_PARAM(ctc, zero_infinity) == 2);

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

TEST_CASE("the rotated build lists every row's params rotated", "[params]") {
  int rotated = 0;
  for (const OpInfo& op : Ops()) {
    INFO("op " << op.id);
    const param_order::Result a =
        param_order::RunRegistryOrder(op.id, {}, {}, {});
    const param_order::Result b =
        param_order::RunRotatedOrder(op.id, {}, {}, {});
    const int n = op.num_params();
    REQUIRE(a.param_names.size() == static_cast<size_t>(n));
    REQUIRE(b.param_names.size() == static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) {
      REQUIRE(a.param_names[k] == op.params[k].name);
      REQUIRE(b.param_names[k] == op.params[(k + 1) % n].name);
    }
    rotated += n >= 2;
  }
  REQUIRE(rotated > 40);  // most rows have two or more params
}

TEST_CASE("every op computes the same with its row's params rotated",
          "[params]") {
  for (const OpInfo& op : Ops()) {
    if (op.num_params() < 2) continue;
    DYNAMIC_SECTION(op.id) {
      for (const std::vector<double>& p : ParamSets(op)) {
        // Inputs: elementwise and rowwise rows get a row of the sweep, the
        // others their sample, as the kernel tests.
        std::vector<param_order::Input> in;
        if (op.form == Form::Elementwise || op.form == Form::Rowwise) {
          const size_t cols = op.row_out == RowOut::kHalf ? 40 : 37;
          in.push_back({op.inputs[0].name,
                        {3, static_cast<int64_t>(cols)},
                        RandomData(3 * cols, 3, -6, 6)});
        } else {
          const SampleCall sc = MakeSampleCall(op, p, 300);
          for (int k = 0; k < op.num_inputs(); ++k) {
            if (sc.data[k].empty()) continue;
            const Shape& s = sc.call.in[k].shape;
            in.push_back({op.inputs[k].name,
                          std::vector<int64_t>(s.dim, s.dim + s.rank),
                          sc.data[k]});
          }
        }
        param_order::NamedValues params;
        for (int k = 0; k < op.num_params(); ++k)
          params.push_back({op.params[k].name, p[k]});
          // Both builds on the rotated one's single Highway target, so equal
          // code gives equal bits.
#if !DLMATH_STATIC_DISPATCH_ONLY
        hwy::SetSupportedTargetsForTest(HWY_STATIC_TARGET);
#endif
        param_order::Result a =
            param_order::RunRegistryOrder(op.id, in, params, {});
        const std::vector<float> dy = RandomData(a.y.size(), 5, -2, 2);
        a = param_order::RunRegistryOrder(op.id, in, params, dy);
        const param_order::Result b =
            param_order::RunRotatedOrder(op.id, in, params, dy);
#if !DLMATH_STATIC_DISPATCH_ONLY
        hwy::SetSupportedTargetsForTest(0);
#endif
        INFO("op " << op.id << ", " << op.params[0].name << " = " << p[0]
                   << ", " << op.params[1].name << " = " << p[1]);
        REQUIRE(a.error.empty());
        REQUIRE(b.error.empty());
        REQUIRE(SameBits(a.y, b.y));
        REQUIRE(a.aux.size() == b.aux.size());
        for (size_t k = 0; k < a.aux.size(); ++k)
          REQUIRE(SameBits(a.aux[k], b.aux[k]));
        REQUIRE(a.din.size() == b.din.size());
        for (size_t k = 0; k < a.din.size(); ++k) {
          INFO("gradient of input " << op.inputs[k].name);
          REQUIRE(SameBits(a.din[k], b.din[k]));
        }
        REQUIRE(a.dp == b.dp);
      }
    }
  }
}

}  // namespace
}  // namespace dlmath::testing
