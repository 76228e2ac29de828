// Optimizers: NoGrad ops that run a torch.optim update rule over a sequence
// of gradients. params [n] is the starting point, grads [T, n] the gradient
// of each step; the result [T, n] holds the parameters after every step.
// State (momentum buffers, moment estimates) lives in the workspace and
// starts as PyTorch's does (zeros, or initial_accumulator_value). The update
// itself is one flat Highway loop per step (optim-inl.h).
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/optim.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/optim-inl.h"
// clang-format on

#if HWY_ONCE
#include <cmath>
#include <cstring>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_optimizers(...) __VA_ARGS__
#include "core/src/ops/export.h"

DLMATH_HWY_EXPORT(SgdStep)
DLMATH_HWY_EXPORT(AdamStep)
DLMATH_HWY_EXPORT(RmspropStep)
DLMATH_HWY_EXPORT(AdagradStep)

namespace {

// grads must be [T, n] for params [n]; the result is [T, n] and the
// workspace holds `state` arrays of n floats.
Status OptimizerShape(const ShapeCtx& c, int state) {
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
  *c.workspace = state * p.dim[0];
  return {};
}

struct Steps {
  int64_t steps, n;
  const float* params;
  const float* grads;
  float* out;
  // Parameters before step t (0-based) and its gradient and result rows.
  const float* before(int64_t t) const {
    return t == 0 ? params : out + (t - 1) * n;
  }
  const float* grad(int64_t t) const { return grads + t * n; }
  float* after(int64_t t) const { return out + t * n; }
};
Steps StepsOf(const GenCall<float>& c) {
  return {c.in_shape[1][0], c.in_shape[1][1], c.in[0], c.in[1], c.out};
}

float F(double v) { return static_cast<float>(v); }

void SgdRun(const GenCall<float>& c, double lr, double mu, double dampening,
            double wd, bool nesterov) {
  const Steps s = StepsOf(c);
  float* buf = mu != 0 ? c.ws : nullptr;
  for (int64_t t = 0; t < s.steps; ++t) DLMATH_DISPATCH(SgdStep)
  (s.before(t), s.grad(t), buf, s.after(t), s.n, F(lr), F(wd), F(mu),
   F(1 - dampening), nesterov ? 1 : 0, t == 0 ? 1 : 0);
}

void AdamRun(const GenCall<float>& c, bool decoupled) {
  const Steps s = StepsOf(c);
  const double lr = c.p[0], b1 = c.p[1], b2 = c.p[2], eps = c.p[3], wd = c.p[4];
  const bool amsgrad = c.p[5] != 0;
  std::memset(c.ws, 0, (amsgrad ? 3 : 2) * s.n * sizeof(float));
  float* m = c.ws;
  float* v = c.ws + s.n;
  float* vmax = amsgrad ? c.ws + 2 * s.n : nullptr;
  for (int64_t t = 0; t < s.steps; ++t) {
    const double k = static_cast<double>(t + 1);
    const double bc1 = 1 - std::pow(b1, k), bc2 = 1 - std::pow(b2, k);
    DLMATH_DISPATCH(AdamStep)
    (s.before(t), s.grad(t), m, v, vmax, s.after(t), s.n,
     F(decoupled ? lr * wd : 0.0), F(decoupled ? 0.0 : wd), F(b1), F(b2),
     F(lr / bc1), F(1 / std::sqrt(bc2)), F(eps));
  }
}

}  // namespace

// ----- sgd, sgd_momentum, sgd_nesterov --------------------------------------
// Workspace: the momentum buffer (n), written on the first step.

Status SgdShape(const ShapeCtx& c) { return OptimizerShape(c, 0); }
void SgdForward(const GenCall<float>& c) {
  SgdRun(c, c.p[0], 0, 0, c.p[1], false);
}

Status SgdMomentumShape(const ShapeCtx& c) { return OptimizerShape(c, 1); }
void SgdMomentumForward(const GenCall<float>& c) {
  SgdRun(c, c.p[0], c.p[1], c.p[2], c.p[3], false);
}

Status SgdNesterovShape(const ShapeCtx& c) { return OptimizerShape(c, 1); }
void SgdNesterovForward(const GenCall<float>& c) {
  SgdRun(c, c.p[0], c.p[1], 0, c.p[2], true);
}

// ----- adam, adamw
// ------------------------------------------------------------ Workspace: m, v
// and (amsgrad) max v, n each, zeroed first.

Status AdamShape(const ShapeCtx& c) { return OptimizerShape(c, 3); }
void AdamForward(const GenCall<float>& c) { AdamRun(c, false); }

Status AdamWShape(const ShapeCtx& c) { return OptimizerShape(c, 3); }
void AdamWForward(const GenCall<float>& c) { AdamRun(c, true); }

// ----- rmsprop
// ------------------------------------------------------------------ Workspace:
// square_avg, grad_avg (centered), momentum buffer, n each.

Status RmspropShape(const ShapeCtx& c) { return OptimizerShape(c, 3); }
void RmspropForward(const GenCall<float>& c) {
  const Steps s = StepsOf(c);
  const double lr = c.p[0], alpha = c.p[1], eps = c.p[2], wd = c.p[3],
               mu = c.p[4];
  const bool centered = c.p[5] != 0;
  std::memset(c.ws, 0, 3 * s.n * sizeof(float));
  float* ga = centered ? c.ws + s.n : nullptr;
  float* buf = mu > 0 ? c.ws + 2 * s.n : nullptr;
  for (int64_t t = 0; t < s.steps; ++t) DLMATH_DISPATCH(RmspropStep)
  (s.before(t), s.grad(t), c.ws, ga, buf, s.after(t), s.n, F(lr), F(alpha),
   F(eps), F(wd), F(mu));
}

// ----- adagrad
// ------------------------------------------------------------------ Workspace:
// the sum of squares (n), starting at initial_accumulator_value.

Status AdagradShape(const ShapeCtx& c) { return OptimizerShape(c, 1); }
void AdagradForward(const GenCall<float>& c) {
  const Steps s = StepsOf(c);
  const double lr = c.p[0], lr_decay = c.p[1], wd = c.p[2], init = c.p[3],
               eps = c.p[4];
  for (int64_t i = 0; i < s.n; ++i) c.ws[i] = F(init);
  for (int64_t t = 0; t < s.steps; ++t) DLMATH_DISPATCH(AdagradStep)
  (s.before(t), s.grad(t), c.ws, s.after(t), s.n,
   F(lr / (1 + static_cast<double>(t) * lr_decay)), F(wd), F(eps));
}

}  // namespace dlmath
#endif  // HWY_ONCE
