// One op run from start to end with plain types only, so that test_params
// can call the library and its rotated-params build (CMakeLists.txt,
// dlmath_core_rotated) side by side: param_order_run.cc is compiled into
// both, as RunRegistryOrder and as RunRotatedOrder.
#ifndef DLMATH_TESTS_CORE_PARAM_ORDER_RUN_H_
#define DLMATH_TESTS_CORE_PARAM_ORDER_RUN_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace param_order {

struct Input {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};
using NamedValues = std::vector<std::pair<std::string, double>>;

struct Result {
  std::string error;                     // empty when the op ran
  std::vector<std::string> param_names;  // the op's params, in row order
  std::vector<float> y;
  std::vector<std::vector<float>> aux;  // per aux output
  std::vector<std::vector<float>> din;  // per input (empty: no gradient)
  NamedValues dp;                       // learnable params' gradients
};

// Prepare, Run and (when the op is differentiable) RunBackward with dy.
Result RunRegistryOrder(const std::string& op, const std::vector<Input>& in,
                        const NamedValues& params,
                        const std::vector<float>& dy);
Result RunRotatedOrder(const std::string& op, const std::vector<Input>& in,
                       const NamedValues& params, const std::vector<float>& dy);

}  // namespace param_order

#endif  // DLMATH_TESTS_CORE_PARAM_ORDER_RUN_H_
