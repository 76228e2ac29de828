// Float64 references of the losses, written from the definitions with
// PyTorch's conventions; the oracle for core/src/ops/losses.cc. Backward
// functions accumulate like the kernels.
#ifndef DLMATH_REF_LOSSES_H_
#define DLMATH_REF_LOSSES_H_

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "dlmath/registry.h"

namespace dlmath::ref {

// reduction: 0 mean, 1 sum, 2 none.

inline void MseForward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[DLMATH_PARAM(mse, reduction)]);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = c.in[0][i] - c.in[1][i];
    if (r == 2) c.out[i] = e * e;
    s += e * e;
  }
  if (r != 2) c.out[0] = r == 0 ? s / n : s;
}
inline void MseBackward(const GenCall<double>& c) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(c.p[DLMATH_PARAM(mse, reduction)]);
  for (int64_t i = 0; i < n; ++i) {
    const double g = r == 2 ? c.dy[i] : c.dy[0] / (r == 0 ? n : 1);
    const double d = 2 * g * (c.in[0][i] - c.in[1][i]);
    if (c.din[0]) c.din[0][i] += d;
    if (c.din[1]) c.din[1][i] -= d;
  }
}

inline double NllRowWeight(const GenCall<double>& c, int64_t i) {
  const double t = c.in[1][i];
  if (t == c.p[DLMATH_PARAM(nll, ignore_index)]) return 0;  // ignore_index
  return c.in[2] ? c.in[2][static_cast<int64_t>(t)] : 1.0;
}
inline void NllForward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[DLMATH_PARAM(nll, reduction)]);
  double sum = 0, wsum = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const double w = NllRowWeight(c, i);
    const double li =
        w == 0 ? 0
               : -w * c.in[0][i * classes + static_cast<int64_t>(c.in[1][i])];
    if (r == 2) c.out[i] = li;
    sum += li;
    wsum += w;
  }
  if (r == 1) c.out[0] = sum;
  if (r == 0) c.out[0] = sum / wsum;
}
inline void NllBackward(const GenCall<double>& c) {
  const int64_t rows = c.in_shape[0][0], classes = c.in_shape[0][1];
  const int r = static_cast<int>(c.p[DLMATH_PARAM(nll, reduction)]);
  double wsum = 0;
  for (int64_t i = 0; i < rows; ++i) wsum += NllRowWeight(c, i);
  for (int64_t i = 0; i < rows; ++i) {
    const double w = NllRowWeight(c, i);
    if (w == 0) continue;
    const double g = r == 2 ? c.dy[i] : c.dy[0];
    c.din[0][i * classes + static_cast<int64_t>(c.in[1][i])] -=
        w * g / (r == 0 ? wsum : 1.0);
  }
}

// ----- pointwise losses: loss(i) of element i, then the reduction --------
// (reduction 3 is kl_div's 'batchmean': the sum over input.shape[0]).

inline double LossDenominator(const GenCall<double>& c, int r) {
  if (r == 0) return static_cast<double>(c.in_shape[0].numel());
  if (r == 3 && c.in_shape[0].rank > 0)
    return static_cast<double>(c.in_shape[0][0]);
  return 1;
}
template <class F>
void LossPointwiseForward(const GenCall<double>& c, double reduction,
                          const F& loss) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(reduction);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double l = loss(i);
    if (r == 2) c.out[i] = l;
    s += l;
  }
  if (r != 2) c.out[0] = s / LossDenominator(c, r);
}
// grad(i, u) with u = d(output)/d(loss of element i).
template <class F>
void LossPointwiseBackward(const GenCall<double>& c, double reduction,
                           const F& grad) {
  const int64_t n = c.in_shape[0].numel();
  const int r = static_cast<int>(reduction);
  const double k = 1 / LossDenominator(c, r);
  for (int64_t i = 0; i < n; ++i) grad(i, r == 2 ? c.dy[i] : c.dy[0] * k);
}
// Adds v to gradient k at i when it is wanted.
inline void LossAdd(const GenCall<double>& c, int k, int64_t i, double v) {
  if (c.din[k]) c.din[k][i] += v;
}
inline double LossSign(double e) {  // PyTorch's sgn: 0 at 0, NaN kept
  return e > 0 ? 1 : e < 0 ? -1 : e;
}

// l1: |x - y|.
inline void L1Forward(const GenCall<double>& c) {
  LossPointwiseForward(c, c.p[DLMATH_PARAM(l1, reduction)], [&](int64_t i) {
    return std::fabs(c.in[0][i] - c.in[1][i]);
  });
}
inline void L1Backward(const GenCall<double>& c) {
  LossPointwiseBackward(c, c.p[DLMATH_PARAM(l1, reduction)],
                        [&](int64_t i, double u) {
                          const double s = LossSign(c.in[0][i] - c.in[1][i]);
                          LossAdd(c, 0, i, u * s);
                          LossAdd(c, 1, i, -u * s);
                        });
}

// huber: a = x - y; a^2 / 2 if |a| <= delta, else delta (|a| - delta / 2).
inline void HuberForward(const GenCall<double>& c) {
  const double delta = c.p[DLMATH_PARAM(huber, delta)];
  LossPointwiseForward(c, c.p[DLMATH_PARAM(huber, reduction)], [&](int64_t i) {
    const double a = c.in[0][i] - c.in[1][i];
    return std::fabs(a) <= delta ? 0.5 * a * a
                                 : delta * (std::fabs(a) - 0.5 * delta);
  });
}
inline void HuberBackward(const GenCall<double>& c) {
  const double delta = c.p[DLMATH_PARAM(huber, delta)];
  LossPointwiseBackward(
      c, c.p[DLMATH_PARAM(huber, reduction)], [&](int64_t i, double u) {
        const double a = c.in[0][i] - c.in[1][i];
        const double g = std::fabs(a) <= delta ? a : delta * LossSign(a);
        LossAdd(c, 0, i, u * g);
        LossAdd(c, 1, i, -u * g);
      });
}

// smooth_l1: a^2 / (2 beta) if |a| < beta, else |a| - beta / 2; beta = 0 is
// |a| (PyTorch switches to l1_loss).
inline void SmoothL1Forward(const GenCall<double>& c) {
  const double beta = c.p[DLMATH_PARAM(smooth_l1, beta)];
  LossPointwiseForward(c, c.p[DLMATH_PARAM(smooth_l1, reduction)],
                       [&](int64_t i) {
                         const double a = c.in[0][i] - c.in[1][i];
                         if (beta == 0) return std::fabs(a);
                         return std::fabs(a) < beta ? 0.5 * a * a / beta
                                                    : std::fabs(a) - 0.5 * beta;
                       });
}
inline void SmoothL1Backward(const GenCall<double>& c) {
  const double beta = c.p[DLMATH_PARAM(smooth_l1, beta)];
  LossPointwiseBackward(
      c, c.p[DLMATH_PARAM(smooth_l1, reduction)], [&](int64_t i, double u) {
        const double a = c.in[0][i] - c.in[1][i];
        const double g =
            beta != 0 && std::fabs(a) < beta ? a / beta : LossSign(a);
        LossAdd(c, 0, i, u * g);
        LossAdd(c, 1, i, -u * g);
      });
}

// bce: -w (t log x + (1 - t) log(1 - x)), each log clamped below at -100.
inline double BceLogOf(double v) { return std::max(std::log(v), -100.0); }
inline void BceForward(const GenCall<double>& c) {
  LossPointwiseForward(c, c.p[DLMATH_PARAM(bce, reduction)], [&](int64_t i) {
    const double x = c.in[0][i], t = c.in[1][i];
    const double w = c.in[2] ? c.in[2][i] : 1.0;
    return -w * (t * BceLogOf(x) + (1 - t) * BceLogOf(1 - x));
  });
}
// PyTorch: d/dx = w (x - t) / max(x (1 - x), 1e-12); d/dt = -w logit(x)
// (with the clamped logs, which differ only for x = 0, 1 or subnormal).
inline void BceBackward(const GenCall<double>& c) {
  LossPointwiseBackward(
      c, c.p[DLMATH_PARAM(bce, reduction)], [&](int64_t i, double u) {
        const double x = c.in[0][i], t = c.in[1][i];
        const double uw = u * (c.in[2] ? c.in[2][i] : 1.0);
        LossAdd(c, 0, i, uw * (x - t) / std::max(x * (1 - x), 1e-12));
        LossAdd(c, 1, i, uw * (BceLogOf(1 - x) - BceLogOf(x)));
      });
}

// bce_with_logits: w [p y softplus(-x) + (1 - y) softplus(x)] =
// -w [p y log sigma(x) + (1 - y) log(1 - sigma(x))], pos_weight p [C]
// indexed by the last dimension.
inline double LossSoftplus(double z) {
  return std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z)));
}
inline double LossSigmoid(double z) {
  return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
}
inline double BceLogitsPosWeight(const GenCall<double>& c, int64_t i) {
  return c.in[3] ? c.in[3][i % c.in_shape[0].cols()] : 1.0;
}
inline void BceWithLogitsForward(const GenCall<double>& c) {
  LossPointwiseForward(
      c, c.p[DLMATH_PARAM(bce_with_logits, reduction)], [&](int64_t i) {
        const double x = c.in[0][i], y = c.in[1][i];
        const double w = c.in[2] ? c.in[2][i] : 1.0,
                     p = BceLogitsPosWeight(c, i);
        return w * (p * y * LossSoftplus(-x) + (1 - y) * LossSoftplus(x));
      });
}
inline void BceWithLogitsBackward(const GenCall<double>& c) {
  LossPointwiseBackward(
      c, c.p[DLMATH_PARAM(bce_with_logits, reduction)],
      [&](int64_t i, double u) {
        const double x = c.in[0][i], y = c.in[1][i];
        const double uw = u * (c.in[2] ? c.in[2][i] : 1.0);
        const double p = BceLogitsPosWeight(c, i);
        LossAdd(c, 0, i,
                uw * ((1 - y) * LossSigmoid(x) - p * y * LossSigmoid(-x)));
        LossAdd(c, 1, i, uw * (p * LossSoftplus(-x) - LossSoftplus(x)));
      });
}

// kl_div (input x = log q, target t = p): xlogy(t, t) - t x, or with
// log_target e^t (t - x).
inline void KlDivForward(const GenCall<double>& c) {
  const bool log_target = c.p[DLMATH_PARAM(kl_div, log_target)] != 0;
  LossPointwiseForward(c, c.p[DLMATH_PARAM(kl_div, reduction)], [&](int64_t i) {
    const double x = c.in[0][i], t = c.in[1][i];
    if (log_target) return std::exp(t) * (t - x);
    return (t == 0 ? 0.0 : t * std::log(t)) - t * x;
  });
}
inline void KlDivBackward(const GenCall<double>& c) {
  const bool log_target = c.p[DLMATH_PARAM(kl_div, log_target)] != 0;
  LossPointwiseBackward(
      c, c.p[DLMATH_PARAM(kl_div, reduction)], [&](int64_t i, double u) {
        const double x = c.in[0][i], t = c.in[1][i];
        if (log_target) {
          LossAdd(c, 0, i, -u * std::exp(t));
          LossAdd(c, 1, i, u * std::exp(t) * (t + 1 - x));
        } else {
          LossAdd(c, 0, i, -u * t);
          LossAdd(c, 1, i, t == 0 ? 0.0 : u * (std::log(t) + 1 - x));
        }
      });
}

// poisson_nll: e^x - t x (log_input) or x - t log(x + eps), plus with full
// Stirling's t log t - t + log(2 pi t) / 2 where t > 1.
inline constexpr double kLossLog2Pi = 1.8378770664093454836;
inline void PoissonNllForward(const GenCall<double>& c) {
  const bool log_input = c.p[DLMATH_PARAM(poisson_nll, log_input)] != 0,
             full = c.p[DLMATH_PARAM(poisson_nll, full)] != 0;
  const double eps = c.p[DLMATH_PARAM(poisson_nll, eps)];
  LossPointwiseForward(
      c, c.p[DLMATH_PARAM(poisson_nll, reduction)], [&](int64_t i) {
        const double x = c.in[0][i], t = c.in[1][i];
        double l = log_input ? std::exp(x) - t * x : x - t * std::log(x + eps);
        if (full && t > 1)
          l += t * std::log(t) - t + 0.5 * (kLossLog2Pi + std::log(t));
        return l;
      });
}
inline void PoissonNllBackward(const GenCall<double>& c) {
  const bool log_input = c.p[DLMATH_PARAM(poisson_nll, log_input)] != 0,
             full = c.p[DLMATH_PARAM(poisson_nll, full)] != 0;
  const double eps = c.p[DLMATH_PARAM(poisson_nll, eps)];
  LossPointwiseBackward(
      c, c.p[DLMATH_PARAM(poisson_nll, reduction)], [&](int64_t i, double u) {
        const double x = c.in[0][i], t = c.in[1][i];
        LossAdd(c, 0, i, u * (log_input ? std::exp(x) - t : 1 - t / (x + eps)));
        double gt = log_input ? -x : -std::log(x + eps);
        if (full && t > 1) gt += std::log(t) + 0.5 / t;
        LossAdd(c, 1, i, u * gt);
      });
}

// gaussian_nll: v = max(var, eps); (log v + (x - y)^2 / v) / 2, plus
// log(2 pi) / 2 with full. As in PyTorch (clamp under no_grad), var's
// gradient uses the clamped v and passes through the clamp.
inline void GaussianNllForward(const GenCall<double>& c) {
  const bool full = c.p[DLMATH_PARAM(gaussian_nll, full)] != 0;
  const double eps = c.p[DLMATH_PARAM(gaussian_nll, eps)];
  LossPointwiseForward(c, c.p[DLMATH_PARAM(gaussian_nll, reduction)],
                       [&](int64_t i) {
                         const double e = c.in[0][i] - c.in[1][i];
                         const double v = std::max(c.in[2][i], eps);
                         return 0.5 * (std::log(v) + e * e / v) +
                                (full ? 0.5 * kLossLog2Pi : 0.0);
                       });
}
inline void GaussianNllBackward(const GenCall<double>& c) {
  const double eps = c.p[DLMATH_PARAM(gaussian_nll, eps)];
  LossPointwiseBackward(c, c.p[DLMATH_PARAM(gaussian_nll, reduction)],
                        [&](int64_t i, double u) {
                          const double e = c.in[0][i] - c.in[1][i];
                          const double v = std::max(c.in[2][i], eps);
                          LossAdd(c, 0, i, u * e / v);
                          LossAdd(c, 1, i, -u * e / v);
                          LossAdd(c, 2, i, u * 0.5 * (1 / v - e * e / (v * v)));
                        });
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_LOSSES_H_
