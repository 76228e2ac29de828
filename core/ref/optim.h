// Float64 references of the optimizers, written element by element after
// torch.optim's single-tensor update rules (SGD, Adam, AdamW, RMSprop,
// Adagrad); the oracle for core/src/ops/optim.cc. params [n], grads [T, n],
// out [T, n] = the parameters after each step.
#ifndef DLMATH_REF_OPTIM_H_
#define DLMATH_REF_OPTIM_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dlmath/registry.h"

namespace dlmath::ref {

// Runs `update(theta, g, i, t)` (t = 1, 2, ...: PyTorch's step count) on a
// copy of the parameters, recording them after each step.
template <class Update>
void OptimizerRun(const GenCall<double>& c, Update update) {
  const int64_t steps = c.in_shape[1][0], n = c.in_shape[1][1];
  std::vector<double> theta(c.in[0], c.in[0] + n);
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t i = 0; i < n; ++i)
      update(theta[i], c.in[1][t * n + i], i, t + 1);
    std::copy(theta.begin(), theta.end(), c.out + t * n);
  }
}

// torch.optim.SGD: d = g + wd p; momentum: buf = d (first step), else
// mu buf + (1 - dampening) d; nesterov: d + mu buf, else buf; p -= lr d.
inline void SgdRef(const GenCall<double>& c, double lr, double mu,
                   double dampening, double wd, bool nesterov) {
  std::vector<double> buf(c.in_shape[0][0], 0);
  OptimizerRun(c, [&](double& p, double g, int64_t i, int64_t t) {
    double d = g;
    if (wd != 0) d += wd * p;
    if (mu != 0) {
      buf[i] = t == 1 ? d : mu * buf[i] + (1 - dampening) * d;
      d = nesterov ? d + mu * buf[i] : buf[i];
    }
    p -= lr * d;
  });
}
inline void SgdForward(const GenCall<double>& c) {
  SgdRef(c, c.p[DLMATH_PARAM(sgd, lr)], 0, 0,
         c.p[DLMATH_PARAM(sgd, weight_decay)], false);
}
inline void SgdMomentumForward(const GenCall<double>& c) {
  SgdRef(c, c.p[DLMATH_PARAM(sgd_momentum, lr)],
         c.p[DLMATH_PARAM(sgd_momentum, momentum)],
         c.p[DLMATH_PARAM(sgd_momentum, dampening)],
         c.p[DLMATH_PARAM(sgd_momentum, weight_decay)], false);
}
inline void SgdNesterovForward(const GenCall<double>& c) {
  SgdRef(c, c.p[DLMATH_PARAM(sgd_nesterov, lr)],
         c.p[DLMATH_PARAM(sgd_nesterov, momentum)], 0,
         c.p[DLMATH_PARAM(sgd_nesterov, weight_decay)], true);
}

// torch.optim.Adam (kOp adam) / AdamW (adamw). Params lr, beta1, beta2, eps,
// weight_decay, amsgrad.
template <OpId kOp>
void AdamRef(const GenCall<double>& c) {
  const bool decoupled = kOp == OpId::adamw;
  const double lr = c.p[DLMATH_PARAM_OF(kOp, lr)],
               b1 = c.p[DLMATH_PARAM_OF(kOp, beta1)],
               b2 = c.p[DLMATH_PARAM_OF(kOp, beta2)],
               eps = c.p[DLMATH_PARAM_OF(kOp, eps)],
               wd = c.p[DLMATH_PARAM_OF(kOp, weight_decay)];
  const bool amsgrad = c.p[DLMATH_PARAM_OF(kOp, amsgrad)] != 0;
  const int64_t n = c.in_shape[0][0];
  std::vector<double> m(n, 0), v(n, 0), vmax(n, 0);
  OptimizerRun(c, [&](double& p, double g, int64_t i, int64_t t) {
    if (decoupled) {
      p *= 1 - lr * wd;  // AdamW: decay first, then the Adam step
    } else if (wd != 0) {
      g += wd * p;  // Adam: L2 penalty in the gradient
    }
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    double vv = v[i];
    if (amsgrad) vv = vmax[i] = std::max(vmax[i], v[i]);
    const double denom = std::sqrt(vv) / std::sqrt(bc2) + eps;
    p -= lr / bc1 * m[i] / denom;
  });
}
inline void AdamForward(const GenCall<double>& c) { AdamRef<OpId::adam>(c); }
inline void AdamWForward(const GenCall<double>& c) { AdamRef<OpId::adamw>(c); }

// torch.optim.RMSprop.
inline void RmspropForward(const GenCall<double>& c) {
  const double lr = c.p[DLMATH_PARAM(rmsprop, lr)],
               alpha = c.p[DLMATH_PARAM(rmsprop, alpha)],
               eps = c.p[DLMATH_PARAM(rmsprop, eps)],
               wd = c.p[DLMATH_PARAM(rmsprop, weight_decay)],
               mu = c.p[DLMATH_PARAM(rmsprop, momentum)];
  const bool centered = c.p[DLMATH_PARAM(rmsprop, centered)] != 0;
  const int64_t n = c.in_shape[0][0];
  std::vector<double> sq(n, 0), ga(n, 0), buf(n, 0);
  OptimizerRun(c, [&](double& p, double g, int64_t i, int64_t) {
    if (wd != 0) g += wd * p;
    sq[i] = alpha * sq[i] + (1 - alpha) * g * g;
    double avg;
    if (centered) {
      ga[i] = alpha * ga[i] + (1 - alpha) * g;
      avg = std::sqrt(sq[i] - ga[i] * ga[i]) + eps;
    } else {
      avg = std::sqrt(sq[i]) + eps;
    }
    if (mu > 0) {
      buf[i] = mu * buf[i] + g / avg;
      p -= lr * buf[i];
    } else {
      p -= lr * g / avg;
    }
  });
}

// torch.optim.Adagrad.
inline void AdagradForward(const GenCall<double>& c) {
  const double lr = c.p[DLMATH_PARAM(adagrad, lr)],
               lr_decay = c.p[DLMATH_PARAM(adagrad, lr_decay)],
               wd = c.p[DLMATH_PARAM(adagrad, weight_decay)],
               eps = c.p[DLMATH_PARAM(adagrad, eps)];
  std::vector<double> sum(
      c.in_shape[0][0], c.p[DLMATH_PARAM(adagrad, initial_accumulator_value)]);
  OptimizerRun(c, [&](double& p, double g, int64_t i, int64_t t) {
    if (wd != 0) g += wd * p;
    const double clr = lr / (1 + (t - 1) * lr_decay);
    sum[i] += g * g;
    p -= clr * g / (std::sqrt(sum[i]) + eps);
  });
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_OPTIM_H_
