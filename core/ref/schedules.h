// Float64 references of the learning-rate schedules, in the chainable forms
// of torch.optim.lr_scheduler where PyTorch has one (each step's rate from
// the previous one: StepLR, ExponentialLR, CosineAnnealingLR, LinearLR, and
// CosineAnnealingWarmRestarts' T_cur bookkeeping), so they check the closed
// forms of core/src/ops/schedules.cc. Each has a param `steps` (the result's
// length).
#ifndef DLMATH_REF_SCHEDULES_H_
#define DLMATH_REF_SCHEDULES_H_

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "dlmath/registry.h"

namespace dlmath::ref {

inline int64_t ScheduleSteps(const GenCall<double>& c) {
  return c.out_shape[0];
}

// StepLR.get_lr: multiply by gamma when t is a positive multiple of
// step_size.
inline void StepLrForward(const GenCall<double>& c) {
  const int64_t size =
      static_cast<int64_t>(c.p[DLMATH_PARAM(step_lr, step_size)]);
  const double gamma = c.p[DLMATH_PARAM(step_lr, gamma)];
  double lr = c.p[DLMATH_PARAM(step_lr, lr)];
  for (int64_t t = 0; t < ScheduleSteps(c); ++t) {
    if (t != 0 && t % size == 0) lr *= gamma;
    c.out[t] = lr;
  }
}

// ExponentialLR.get_lr: multiply by gamma every step after the first.
inline void ExponentialLrForward(const GenCall<double>& c) {
  const double gamma = c.p[DLMATH_PARAM(exponential_lr, gamma)];
  double lr = c.p[DLMATH_PARAM(exponential_lr, lr)];
  for (int64_t t = 0; t < ScheduleSteps(c); ++t) {
    if (t != 0) lr *= gamma;
    c.out[t] = lr;
  }
}

// CosineAnnealingLR.get_lr, the recursive form (Python's % is a floor mod).
inline void CosineAnnealingLrForward(const GenCall<double>& c) {
  const double base = c.p[DLMATH_PARAM(cosine_annealing_lr, lr)],
               t_max = c.p[DLMATH_PARAM(cosine_annealing_lr, t_max)],
               eta_min = c.p[DLMATH_PARAM(cosine_annealing_lr, eta_min)];
  const double pi = 3.14159265358979323846;
  const int64_t tm = static_cast<int64_t>(t_max);
  double lr = base;
  for (int64_t t = 0; t < ScheduleSteps(c); ++t) {
    if (t != 0) {
      const int64_t k = ((t - 1 - tm) % (2 * tm) + 2 * tm) % (2 * tm);
      if (k == 0) {
        lr += (base - eta_min) * (1 - std::cos(pi / t_max)) / 2;
      } else {
        lr = (1 + std::cos(pi * t / t_max)) /
                 (1 + std::cos(pi * (t - 1) / t_max)) * (lr - eta_min) +
             eta_min;
      }
    }
    c.out[t] = lr;
  }
}

// CosineAnnealingWarmRestarts.step() without an epoch: T_cur counts up and
// wraps at T_i, which is multiplied by T_mult at each restart.
inline void CosineAnnealingWarmRestartsForward(const GenCall<double>& c) {
  const double base = c.p[DLMATH_PARAM(cosine_annealing_warm_restarts, lr)],
               eta_min =
                   c.p[DLMATH_PARAM(cosine_annealing_warm_restarts, eta_min)];
  const double pi = 3.14159265358979323846;
  int64_t t_cur = 0,
          t_i = static_cast<int64_t>(
              c.p[DLMATH_PARAM(cosine_annealing_warm_restarts, t_0)]);
  const int64_t mult = static_cast<int64_t>(
      c.p[DLMATH_PARAM(cosine_annealing_warm_restarts, t_mult)]);
  for (int64_t t = 0; t < ScheduleSteps(c); ++t) {
    if (t != 0 && ++t_cur >= t_i) {
      t_cur -= t_i;
      t_i *= mult;
    }
    c.out[t] = eta_min + (base - eta_min) *
                             (1 + std::cos(pi * static_cast<double>(t_cur) /
                                           static_cast<double>(t_i))) /
                             2;
  }
}

// LinearLR.get_lr, the recursive form.
inline void LinearLrForward(const GenCall<double>& c) {
  const double start = c.p[DLMATH_PARAM(linear_lr, start_factor)],
               end = c.p[DLMATH_PARAM(linear_lr, end_factor)];
  const int64_t n =
      static_cast<int64_t>(c.p[DLMATH_PARAM(linear_lr, total_iters)]);
  double lr = c.p[DLMATH_PARAM(linear_lr, lr)] * start;
  for (int64_t t = 0; t < ScheduleSteps(c); ++t) {
    if (t != 0 && t <= n)
      lr *= 1 + (end - start) / (n * start + (t - 1) * (end - start));
    c.out[t] = lr;
  }
}

// OneCycleLR.get_lr: walk the phases until the step falls in one (or the
// last phase).
inline void OneCycleLrForward(const GenCall<double>& c) {
  const double max_lr = c.p[DLMATH_PARAM(one_cycle_lr, max_lr)],
               total = c.p[DLMATH_PARAM(one_cycle_lr, total_steps)],
               pct = c.p[DLMATH_PARAM(one_cycle_lr, pct_start)];
  const double initial = max_lr / c.p[DLMATH_PARAM(one_cycle_lr, div_factor)],
               min_lr =
                   initial / c.p[DLMATH_PARAM(one_cycle_lr, final_div_factor)];
  const bool cosine = c.p[DLMATH_PARAM(one_cycle_lr, anneal_strategy)] == 0,
             three = c.p[DLMATH_PARAM(one_cycle_lr, three_phase)] != 0;
  const double pi = 3.14159265358979323846;
  struct Phase {
    double end, from, to;
  };
  Phase two_phases[] = {{pct * total - 1, initial, max_lr},
                        {total - 1, max_lr, min_lr}};
  Phase three_phases[] = {{pct * total - 1, initial, max_lr},
                          {2 * pct * total - 2, max_lr, initial},
                          {total - 1, initial, min_lr}};
  const Phase* phases = three ? three_phases : two_phases;
  const int count = three ? 3 : 2;
  for (int64_t t = 0; t < ScheduleSteps(c); ++t) {
    double start = 0;
    for (int i = 0; i < count; ++i) {
      const Phase& ph = phases[i];
      if (t <= ph.end || i == count - 1) {
        const double frac = (t - start) / (ph.end - start);
        c.out[t] =
            cosine ? ph.to + (ph.from - ph.to) / 2 * (std::cos(pi * frac) + 1)
                   : (ph.to - ph.from) * frac + ph.from;
        break;
      }
      start = ph.end;
    }
  }
}

// Linear warmup from 0 to lr over W steps, then half a cosine to final_lr
// at total_steps, held there after.
inline void WarmupCosineForward(const GenCall<double>& c) {
  const double lr = c.p[DLMATH_PARAM(warmup_cosine, lr)],
               w = c.p[DLMATH_PARAM(warmup_cosine, warmup_steps)],
               n = c.p[DLMATH_PARAM(warmup_cosine, total_steps)],
               final_lr = c.p[DLMATH_PARAM(warmup_cosine, final_lr)];
  const double pi = 3.14159265358979323846;
  for (int64_t t = 0; t < ScheduleSteps(c); ++t) {
    if (t < w) {
      c.out[t] = lr * t / w;
      continue;
    }
    double progress = (t - w) / std::max(1.0, n - w);
    if (progress > 1) progress = 1;
    c.out[t] = final_lr + 0.5 * (lr - final_lr) * (1 + std::cos(pi * progress));
  }
}

// factor d_model^-1/2 min(s^-1/2, s W^-3/2), s = t + 1.
inline void NoamForward(const GenCall<double>& c) {
  const double d = c.p[DLMATH_PARAM(noam, d_model)],
               w = c.p[DLMATH_PARAM(noam, warmup_steps)],
               factor = c.p[DLMATH_PARAM(noam, factor)];
  for (int64_t t = 0; t < ScheduleSteps(c); ++t) {
    const double s = t + 1.0;
    c.out[t] = factor * std::pow(d, -0.5) *
               std::min(std::pow(s, -0.5), s * std::pow(w, -1.5));
  }
}

}  // namespace dlmath::ref

#endif  // DLMATH_REF_SCHEDULES_H_
