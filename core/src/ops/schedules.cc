// Learning-rate schedules: NoGrad ops with no tensor input whose result [T]
// is the learning rate at steps 0 .. T-1 (T = param `steps`), in the closed
// forms of torch.optim.lr_scheduler (the references in core/ref/schedules.h
// use PyTorch's chainable, step-by-step forms instead, so each checks the
// other). Scalar code: one value per step, computed in double and rounded
// once to float.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/src/ops/schedules.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/src/ops/schedules-inl.h"
// clang-format on

#if HWY_ONCE
#include <cmath>
#include <cstdint>
#include <string>

#include "core/src/kernels.h"
#include "core/src/ops/dispatch.h"

namespace dlmath {
#define DLMATH_IF_schedules(...) __VA_ARGS__
#include "core/src/ops/export.h"

namespace {

constexpr double kPi = 3.14159265358979323846;

int64_t StepsOf(const double* p) { return static_cast<int64_t>(p[0]); }

Status ScheduleShape(const ShapeCtx& c) {
  *c.out = Shape{StepsOf(c.p)};
  return {};
}

// Writes f(t) for t = 0 .. steps-1.
template <class T, class F>
void Fill(const GenCall<T>& c, F f) {
  const int64_t steps = c.out_shape[0];
  for (int64_t t = 0; t < steps; ++t) c.out[t] = static_cast<T>(f(t));
}

double Cosine(double hi, double lo, double frac) {
  return lo + (hi - lo) * (1 + std::cos(kPi * frac)) / 2;
}

}  // namespace

// ----- step_lr: lr gamma^floor(t / step_size) ------------------------------
Status StepLrShape(const ShapeCtx& c) { return ScheduleShape(c); }
void StepLrForward(const GenCall<float>& c) {
  const double lr = c.p[1], gamma = c.p[3];
  const int64_t size = static_cast<int64_t>(c.p[2]);
  Fill(c, [&](int64_t t) {
    return lr * std::pow(gamma, static_cast<double>(t / size));
  });
}

// ----- exponential_lr: lr gamma^t ------------------------------------------
Status ExponentialLrShape(const ShapeCtx& c) { return ScheduleShape(c); }
void ExponentialLrForward(const GenCall<float>& c) {
  const double lr = c.p[1], gamma = c.p[2];
  Fill(c,
       [&](int64_t t) { return lr * std::pow(gamma, static_cast<double>(t)); });
}

// ----- cosine_annealing_lr: PyTorch's closed form (periodic past t_max) ----
Status CosineAnnealingLrShape(const ShapeCtx& c) { return ScheduleShape(c); }
void CosineAnnealingLrForward(const GenCall<float>& c) {
  const double lr = c.p[1], t_max = c.p[2], eta_min = c.p[3];
  Fill(c, [&](int64_t t) { return Cosine(lr, eta_min, t / t_max); });
}

// ----- cosine_annealing_warm_restarts ---------------------------------------
// Cycle i starts at t_0 (t_mult^i - 1) / (t_mult - 1) and lasts
// t_0 t_mult^i; found by walking the cycles in integers (PyTorch's log-based
// closed form can land one cycle off at the boundaries in floating point).
Status CosineAnnealingWarmRestartsShape(const ShapeCtx& c) {
  return ScheduleShape(c);
}
void CosineAnnealingWarmRestartsForward(const GenCall<float>& c) {
  const double lr = c.p[1], eta_min = c.p[4];
  const int64_t t0 = static_cast<int64_t>(c.p[2]),
                mult = static_cast<int64_t>(c.p[3]);
  Fill(c, [&](int64_t t) {
    int64_t start = 0, len = t0;
    if (mult == 1) {
      start = t - t % t0;
    } else {
      while (t >= start + len) {
        start += len;
        len *= mult;
      }
    }
    return Cosine(lr, eta_min, static_cast<double>(t - start) / len);
  });
}

// ----- linear_lr: lr (start + (end - start) min(t, N) / N) ------------------
Status LinearLrShape(const ShapeCtx& c) { return ScheduleShape(c); }
void LinearLrForward(const GenCall<float>& c) {
  const double lr = c.p[1], start = c.p[2], end = c.p[3];
  const int64_t n = static_cast<int64_t>(c.p[4]);
  Fill(c, [&](int64_t t) {
    const double frac = static_cast<double>(t < n ? t : n) / n;
    return lr * (start + (end - start) * frac);
  });
}

// ----- one_cycle_lr
// ----------------------------------------------------------- PyTorch's phases:
// (end step, start lr, end lr) with end steps pct_start N - 1 (, 2 pct_start N
// - 2), N - 1; a step beyond the last end extrapolates the last phase, and t >
// N is refused (PyTorch raises).
namespace {
struct OneCycle {
  int count;
  double end[3], from[3], to[3];
};
OneCycle OneCyclePhases(const double* p) {
  const double max_lr = p[1], total = p[2], pct = p[3], div = p[5],
               final_div = p[6];
  const double initial = max_lr / div, min_lr = initial / final_div;
  if (p[7] != 0)
    return {3,
            {pct * total - 1, 2 * pct * total - 2, total - 1},
            {initial, max_lr, initial},
            {max_lr, initial, min_lr}};
  return {2, {pct * total - 1, total - 1}, {initial, max_lr}, {max_lr, min_lr}};
}
}  // namespace

Status OneCycleLrShape(const ShapeCtx& c) {
  const std::string op(c.op);
  const int64_t steps = StepsOf(c.p), total = static_cast<int64_t>(c.p[2]);
  if (steps - 1 > total)
    return Status(ErrorCode::kBadValue, op, "steps",
                  "op '" + op + "': steps = " + std::to_string(steps) +
                      " runs past total_steps = " + std::to_string(total) +
                      " (the last step is " + std::to_string(steps - 1) +
                      "); PyTorch raises there: use steps <= total_steps + 1");
  const OneCycle ph = OneCyclePhases(c.p);
  double start = 0;
  for (int i = 0; i < ph.count; ++i) {
    if (ph.end[i] == start)
      return Status(ErrorCode::kBadValue, op, "pct_start",
                    "op '" + op + "': pct_start * total_steps = " +
                        std::to_string(c.p[3] * c.p[2]) + " gives phase " +
                        std::to_string(i + 1) +
                        " zero length (PyTorch divides by zero there)");
    start = ph.end[i];
  }
  return ScheduleShape(c);
}
void OneCycleLrForward(const GenCall<float>& c) {
  const OneCycle ph = OneCyclePhases(c.p);
  const bool cosine = c.p[4] == 0;
  Fill(c, [&](int64_t t) {
    int i = 0;
    while (i + 1 < ph.count && t > ph.end[i]) ++i;
    const double start = i == 0 ? 0 : ph.end[i - 1];
    const double frac = (t - start) / (ph.end[i] - start);
    return cosine ? Cosine(ph.from[i], ph.to[i], frac)
                  : ph.from[i] + (ph.to[i] - ph.from[i]) * frac;
  });
}

// ----- warmup_cosine
// ------------------------------------------------------------
Status WarmupCosineShape(const ShapeCtx& c) { return ScheduleShape(c); }
void WarmupCosineForward(const GenCall<float>& c) {
  const double lr = c.p[1], final_lr = c.p[4];
  const int64_t w = static_cast<int64_t>(c.p[2]),
                n = static_cast<int64_t>(c.p[3]);
  Fill(c, [&](int64_t t) {
    if (t < w) return lr * static_cast<double>(t) / w;
    const double span = static_cast<double>(n - w > 1 ? n - w : 1);
    const double frac = std::fmin(1.0, (t - w) / span);
    return Cosine(lr, final_lr, frac);
  });
}

// ----- noam
// ----------------------------------------------------------------------
Status NoamShape(const ShapeCtx& c) { return ScheduleShape(c); }
void NoamForward(const GenCall<float>& c) {
  const double d_model = c.p[1], w = c.p[2], factor = c.p[3];
  Fill(c, [&](int64_t t) {
    const double s = static_cast<double>(t + 1);
    return factor / std::sqrt(d_model) *
           std::fmin(1 / std::sqrt(s), s / (w * std::sqrt(w)));
  });
}

}  // namespace dlmath
#endif  // HWY_ONCE
