// Optimizers: NoGrad ops that run a torch.optim update rule over a sequence
// of gradients. params [n] is the starting point, grads [T, n] the gradient
// of each step; the result [T, n] holds the parameters after every step.
// State (momentum buffers, moment estimates) lives in the workspace and
// starts as PyTorch's does (zeros, or initial_accumulator_value). Each step
// is OptimizerStep (core/src/steps.h), the function the training engine
// calls once per step: one flat Highway loop (optim-inl.h).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/optim.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/optim-inl.h"
// clang-format on

#if HWY_ONCE
#include <algorithm>
#include <cmath>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"
#include "core/src/steps.h"

namespace dlmath {
#define DLMATH_IF_optimizers(...) __VA_ARGS__
#include "core/src/ops/export.h"

DLMATH_HWY_EXPORT(SgdStep)
DLMATH_HWY_EXPORT(AdamStep)
DLMATH_HWY_EXPORT(RmspropStep)
DLMATH_HWY_EXPORT(AdagradStep)

namespace {

float F(double v) { return static_cast<float>(v); }

// State arrays of n floats each optimizer keeps (see OptimizerStep).
int StateArrays(OpId id) {
  switch (id) {
    case OpId::sgd:
      return 0;
    case OpId::sgd_momentum:
    case OpId::sgd_nesterov:
    case OpId::adagrad:
      return 1;
    default:  // adam, adamw (m, v, max v), rmsprop (sq, mean g, buffer)
      return 3;
  }
}

OpId IdOf(const OpInfo& op) { return static_cast<OpId>(&op - Ops().data()); }

// One SGD step (torch.optim.SGD). buf: the momentum buffer, unused (null)
// when mu == 0.
void SgdUpdate(const float* theta, const float* g, float* buf, float* out,
               int64_t n, int64_t t, double lr, double mu, double dampening,
               double wd, bool nesterov, const StepWatch* w) {
  DLMATH_DISPATCH(SgdStep)
  (theta, g, mu != 0 ? buf : nullptr, out, n, F(lr), F(wd), F(mu),
   F(1 - dampening), nesterov ? 1 : 0, t == 1 ? 1 : 0, w);
}

// One Adam (kOp adam) / AdamW (adamw: decoupled weight decay) step; state:
// m, v and (amsgrad) max v, n each.
template <OpId kOp>
void AdamUpdate(const double* p, int64_t t, const float* theta, const float* g,
                float* state, float* out, int64_t n, const StepWatch* w) {
  constexpr bool kDecoupled = kOp == OpId::adamw;
  const double lr = p[DLMATH_PARAM_OF(kOp, lr)],
               b1 = p[DLMATH_PARAM_OF(kOp, beta1)],
               b2 = p[DLMATH_PARAM_OF(kOp, beta2)],
               eps = p[DLMATH_PARAM_OF(kOp, eps)],
               wd = p[DLMATH_PARAM_OF(kOp, weight_decay)];
  const bool amsgrad = p[DLMATH_PARAM_OF(kOp, amsgrad)] != 0;
  const double k = static_cast<double>(t);
  const double bc1 = 1 - std::pow(b1, k), bc2 = 1 - std::pow(b2, k);
  DLMATH_DISPATCH(AdamStep)
  (theta, g, state, state + n, amsgrad ? state + 2 * n : nullptr, out, n,
   F(kDecoupled ? lr * wd : 0.0), F(kDecoupled ? 0.0 : wd), F(b1), F(b2),
   F(lr / bc1), F(1 / std::sqrt(bc2)), F(eps), w);
}

}  // namespace

int64_t OptimizerStateSize(const OpInfo& op, int64_t n) {
  return StateArrays(IdOf(op)) * n;
}

void OptimizerInit(const OpInfo& op, const double* p, float* state, int64_t n) {
  const int64_t size = OptimizerStateSize(op, n);
  const float v = IdOf(op) == OpId::adagrad
                      ? F(p[DLMATH_PARAM(adagrad, initial_accumulator_value)])
                      : 0.0f;
  std::fill(state, state + size, v);
}

void OptimizerStep(const OpInfo& op, const double* p, int64_t t,
                   const float* theta, const float* g, float* state, float* out,
                   int64_t n, const StepWatch* w) {
  switch (IdOf(op)) {
    case OpId::sgd:
      SgdUpdate(theta, g, nullptr, out, n, t, p[DLMATH_PARAM(sgd, lr)], 0, 0,
                p[DLMATH_PARAM(sgd, weight_decay)], false, w);
      break;
    case OpId::sgd_momentum:
      SgdUpdate(theta, g, state, out, n, t, p[DLMATH_PARAM(sgd_momentum, lr)],
                p[DLMATH_PARAM(sgd_momentum, momentum)],
                p[DLMATH_PARAM(sgd_momentum, dampening)],
                p[DLMATH_PARAM(sgd_momentum, weight_decay)], false, w);
      break;
    case OpId::sgd_nesterov:
      SgdUpdate(theta, g, state, out, n, t, p[DLMATH_PARAM(sgd_nesterov, lr)],
                p[DLMATH_PARAM(sgd_nesterov, momentum)], 0,
                p[DLMATH_PARAM(sgd_nesterov, weight_decay)], true, w);
      break;
    case OpId::adam:
      AdamUpdate<OpId::adam>(p, t, theta, g, state, out, n, w);
      break;
    case OpId::adamw:
      AdamUpdate<OpId::adamw>(p, t, theta, g, state, out, n, w);
      break;
    case OpId::rmsprop: {
      const double mu = p[DLMATH_PARAM(rmsprop, momentum)];
      float* ga = p[DLMATH_PARAM(rmsprop, centered)] != 0 ? state + n : nullptr;
      float* buf = mu > 0 ? state + 2 * n : nullptr;
      DLMATH_DISPATCH(RmspropStep)
      (theta, g, state, ga, buf, out, n, F(p[DLMATH_PARAM(rmsprop, lr)]),
       F(p[DLMATH_PARAM(rmsprop, alpha)]), F(p[DLMATH_PARAM(rmsprop, eps)]),
       F(p[DLMATH_PARAM(rmsprop, weight_decay)]), F(mu), w);
      break;
    }
    case OpId::adagrad: {
      const double decay =
          1 + static_cast<double>(t - 1) * p[DLMATH_PARAM(adagrad, lr_decay)];
      DLMATH_DISPATCH(AdagradStep)
      (theta, g, state, out, n, F(p[DLMATH_PARAM(adagrad, lr)] / decay),
       F(p[DLMATH_PARAM(adagrad, weight_decay)]),
       F(p[DLMATH_PARAM(adagrad, eps)]), w);
      break;
    }
    default:
      break;  // not an optimizer: the engine only passes optimizers
  }
}

namespace {

// grads must be [T, n] for params [n]; the result is [T, n] and the
// workspace holds the optimizer's state.
Status OptimizerShape(const ShapeCtx& c) {
  const Shape& p = c.in[0];
  const Shape& g = c.in[1];
  if (g.dim[1] != p.dim[0]) {
    const std::string op(c.op);
    return Status(ErrorCode::kBadShape, op, "grads",
                  "op '" + op + "': input 'grads' must have shape [steps, " +
                      std::to_string(p.dim[0]) + "] (one gradient of params " +
                      p.str() + " per step), got " + g.str());
  }
  *c.out = g;
  *c.workspace = OptimizerStateSize(*FindOp(c.op), p.dim[0]);
  return {};
}

// The replay: the parameters after each of the T steps, row t from row
// t - 1 (params for t = 0), through the engine's step function.
void Replay(const GenCall<float>& c, OpId id) {
  const OpInfo& op = Op(id);
  const int64_t steps = c.in_shape[1][0], n = c.in_shape[1][1];
  OptimizerInit(op, c.p, c.ws, n);
  for (int64_t t = 0; t < steps; ++t)
    OptimizerStep(op, c.p, t + 1, t == 0 ? c.in[0] : c.out + (t - 1) * n,
                  c.in[1] + t * n, c.ws, c.out + t * n, n);
}

}  // namespace

// params [n], grads [T, n] -> [T, n]; workspace: the state (StateArrays).
Status SgdShape(const ShapeCtx& c) { return OptimizerShape(c); }
void SgdForward(const GenCall<float>& c) { Replay(c, OpId::sgd); }
Status SgdMomentumShape(const ShapeCtx& c) { return OptimizerShape(c); }
void SgdMomentumForward(const GenCall<float>& c) {
  Replay(c, OpId::sgd_momentum);
}
Status SgdNesterovShape(const ShapeCtx& c) { return OptimizerShape(c); }
void SgdNesterovForward(const GenCall<float>& c) {
  Replay(c, OpId::sgd_nesterov);
}
Status AdamShape(const ShapeCtx& c) { return OptimizerShape(c); }
void AdamForward(const GenCall<float>& c) { Replay(c, OpId::adam); }
Status AdamWShape(const ShapeCtx& c) { return OptimizerShape(c); }
void AdamWForward(const GenCall<float>& c) { Replay(c, OpId::adamw); }
Status RmspropShape(const ShapeCtx& c) { return OptimizerShape(c); }
void RmspropForward(const GenCall<float>& c) { Replay(c, OpId::rmsprop); }
Status AdagradShape(const ShapeCtx& c) { return OptimizerShape(c); }
void AdagradForward(const GenCall<float>& c) { Replay(c, OpId::adagrad); }

}  // namespace dlmath
#endif  // HWY_ONCE
