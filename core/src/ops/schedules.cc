// Learning-rate schedules: NoGrad ops with no tensor input whose result [T]
// is the learning rate at steps 0 .. T-1 (T = param `steps`), in the closed
// forms of torch.optim.lr_scheduler (the references in core/ref/schedules.h
// use PyTorch's chainable, step-by-step forms instead, so each checks the
// other). Each schedule is one per-step function XxxAt(p, t) (ScheduleAt in
// core/src/steps.h, what the training engine calls every step); the op fills
// its array with it. Scalar code: one value per step, computed in double and
// rounded once to float.
#include <cmath>
#include <cstdint>
#include <string>

#include "core/src/kernels.h"
#include "core/src/steps.h"

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

// Writes at(p, t) for t = 0 .. steps-1: the array is the per-step form's.
void Fill(const GenCall<float>& c, double (*at)(const double*, int64_t)) {
  const int64_t steps = c.out_shape[0];
  for (int64_t t = 0; t < steps; ++t) c.out[t] = static_cast<float>(at(c.p, t));
}

double Cosine(double hi, double lo, double frac) {
  return lo + (hi - lo) * (1 + std::cos(kPi * frac)) / 2;
}

// ----- the per-step forms: p = the params in registry order -----------------

// step_lr: lr gamma^floor(t / step_size).
double StepLrAt(const double* p, int64_t t) {
  const int64_t size = static_cast<int64_t>(p[2]);
  return p[1] * std::pow(p[3], static_cast<double>(t / size));
}

// exponential_lr: lr gamma^t.
double ExponentialLrAt(const double* p, int64_t t) {
  return p[1] * std::pow(p[2], static_cast<double>(t));
}

// cosine_annealing_lr: PyTorch's closed form (periodic past t_max).
double CosineAnnealingLrAt(const double* p, int64_t t) {
  return Cosine(p[1], p[3], t / p[2]);
}

// cosine_annealing_warm_restarts: cycle i starts at t_0 (t_mult^i - 1) /
// (t_mult - 1) and lasts t_0 t_mult^i; found by walking the cycles in
// integers (PyTorch's log-based closed form can land one cycle off at the
// boundaries in floating point).
double CosineAnnealingWarmRestartsAt(const double* p, int64_t t) {
  const int64_t t0 = static_cast<int64_t>(p[2]),
                mult = static_cast<int64_t>(p[3]);
  int64_t start = 0, len = t0;
  if (mult == 1) {
    start = t - t % t0;
  } else {
    while (t >= start + len) {
      start += len;
      len *= mult;
    }
  }
  return Cosine(p[1], p[4], static_cast<double>(t - start) / len);
}

// linear_lr: lr (start + (end - start) min(t, N) / N).
double LinearLrAt(const double* p, int64_t t) {
  const double lr = p[1], start = p[2], end = p[3];
  const int64_t n = static_cast<int64_t>(p[4]);
  const double frac = static_cast<double>(t < n ? t : n) / n;
  return lr * (start + (end - start) * frac);
}

// one_cycle_lr: PyTorch's phases (end step, start lr, end lr) with end steps
// pct_start N - 1 (, 2 pct_start N - 2), N - 1; a step beyond the last end
// extrapolates the last phase, and t > N is refused by the op (PyTorch
// raises).
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
double OneCycleLrAt(const double* p, int64_t t) {
  const OneCycle ph = OneCyclePhases(p);
  int i = 0;
  while (i + 1 < ph.count && t > ph.end[i]) ++i;
  const double start = i == 0 ? 0 : ph.end[i - 1];
  const double frac = (t - start) / (ph.end[i] - start);
  return p[4] == 0 ? Cosine(ph.from[i], ph.to[i], frac)
                   : ph.from[i] + (ph.to[i] - ph.from[i]) * frac;
}

// warmup_cosine: lr t / W for t < W, then a half cosine to final_lr over
// max(1, N - W) steps, final_lr after.
double WarmupCosineAt(const double* p, int64_t t) {
  const double lr = p[1], final_lr = p[4];
  const int64_t w = static_cast<int64_t>(p[2]), n = static_cast<int64_t>(p[3]);
  if (t < w) return lr * static_cast<double>(t) / w;
  const double span = static_cast<double>(n - w > 1 ? n - w : 1);
  return Cosine(lr, final_lr, std::fmin(1.0, (t - w) / span));
}

// noam: factor d_model^-1/2 min(s^-1/2, s W^-3/2), s = t + 1.
double NoamAt(const double* p, int64_t t) {
  const double d_model = p[1], w = p[2], factor = p[3];
  const double s = static_cast<double>(t + 1);
  return factor / std::sqrt(d_model) *
         std::fmin(1 / std::sqrt(s), s / (w * std::sqrt(w)));
}

}  // namespace

double ScheduleAt(const OpInfo& op, const double* p, int64_t t) {
  switch (static_cast<OpId>(&op - Ops().data())) {
    case OpId::step_lr:
      return StepLrAt(p, t);
    case OpId::exponential_lr:
      return ExponentialLrAt(p, t);
    case OpId::cosine_annealing_lr:
      return CosineAnnealingLrAt(p, t);
    case OpId::cosine_annealing_warm_restarts:
      return CosineAnnealingWarmRestartsAt(p, t);
    case OpId::linear_lr:
      return LinearLrAt(p, t);
    case OpId::one_cycle_lr:
      return OneCycleLrAt(p, t);
    case OpId::warmup_cosine:
      return WarmupCosineAt(p, t);
    case OpId::noam:
      return NoamAt(p, t);
    default:
      return 0;  // not a schedule: the engine passes only schedules
  }
}

// ----- the ops: the per-step form over t = 0 .. steps-1
// -----------------------

Status StepLrShape(const ShapeCtx& c) { return ScheduleShape(c); }
void StepLrForward(const GenCall<float>& c) { Fill(c, StepLrAt); }

Status ExponentialLrShape(const ShapeCtx& c) { return ScheduleShape(c); }
void ExponentialLrForward(const GenCall<float>& c) { Fill(c, ExponentialLrAt); }

Status CosineAnnealingLrShape(const ShapeCtx& c) { return ScheduleShape(c); }
void CosineAnnealingLrForward(const GenCall<float>& c) {
  Fill(c, CosineAnnealingLrAt);
}

Status CosineAnnealingWarmRestartsShape(const ShapeCtx& c) {
  return ScheduleShape(c);
}
void CosineAnnealingWarmRestartsForward(const GenCall<float>& c) {
  Fill(c, CosineAnnealingWarmRestartsAt);
}

Status LinearLrShape(const ShapeCtx& c) { return ScheduleShape(c); }
void LinearLrForward(const GenCall<float>& c) { Fill(c, LinearLrAt); }

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
void OneCycleLrForward(const GenCall<float>& c) { Fill(c, OneCycleLrAt); }

Status WarmupCosineShape(const ShapeCtx& c) { return ScheduleShape(c); }
void WarmupCosineForward(const GenCall<float>& c) { Fill(c, WarmupCosineAt); }

Status NoamShape(const ShapeCtx& c) { return ScheduleShape(c); }
void NoamForward(const GenCall<float>& c) { Fill(c, NoamAt); }

}  // namespace dlmath
