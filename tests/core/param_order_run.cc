// See param_order_run.h. In the rotated build, -Ddlmath=dlmath_rotated turns
// every dlmath:: below into the rotated library's namespace.
#include "tests/core/param_order_run.h"

#include "dlmath/dlmath.h"

#ifndef DLMATH_PARAM_ORDER_RUN
#define DLMATH_PARAM_ORDER_RUN RunRegistryOrder
#endif

namespace param_order {

Result DLMATH_PARAM_ORDER_RUN(const std::string& op_id,
                              const std::vector<Input>& in,
                              const NamedValues& params,
                              const std::vector<float>& dy) {
  Result r;
  const dlmath::OpInfo* op = dlmath::FindOp(op_id);
  if (!op) {
    r.error = "unknown op " + op_id;
    return r;
  }
  for (int k = 0; k < op->num_params(); ++k)
    r.param_names.push_back(op->params[k].name);
  std::vector<dlmath::NamedTensor> tensors;
  for (const Input& t : in) {
    dlmath::Shape s;
    for (int64_t d : t.shape) s.dim[s.rank++] = d;
    tensors.push_back({t.name, {t.data.data(), s}});
  }
  std::vector<dlmath::NamedParam> named;
  for (const auto& [name, value] : params) named.push_back({name, value});
  dlmath::Call call;
  dlmath::Evaluation ev;
  dlmath::Status st = dlmath::Prepare(op_id, tensors, named, &call);
  if (st.ok()) st = dlmath::Run(call, &ev);
  if (!st.ok()) {
    r.error = st.message();
    return r;
  }
  r.y.assign(ev.y.data(), ev.y.data() + ev.y.size());
  for (int k = 0; k < op->num_aux(); ++k)
    r.aux.emplace_back(ev.aux[k].data(), ev.aux[k].data() + ev.aux[k].size());
  if (!op->differentiable()) return r;
  dlmath::Gradients g;
  st = dlmath::RunBackward(call, &ev, dy.data(), &g);
  if (!st.ok()) {
    r.error = st.message();
    return r;
  }
  for (int k = 0; k < op->num_inputs(); ++k)
    r.din.emplace_back(g.din[k].data(), g.din[k].data() + g.din[k].size());
  for (int k = 0; k < op->num_params(); ++k)
    if (op->params[k].learnable) r.dp.push_back({op->params[k].name, g.dp[k]});
  return r;
}

}  // namespace param_order
