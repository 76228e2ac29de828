// Per-step forms of the registry's optimizers and learning-rate schedules.
// The training engine calls them once per step; the registry's replay forms
// (the optimizer ops run a whole gradient sequence, the schedule ops fill
// [steps]) are loops over these same functions, so there is one
// implementation of each rule (core/src/ops/optim.cc, schedules.cc).
#ifndef DLMATH_SRC_STEPS_H_
#define DLMATH_SRC_STEPS_H_

#include <cstddef>
#include <cstdint>

#include "dlmath/registry.h"

namespace dlmath {

// Floats of state an optimizer op keeps for n parameters (momentum buffer,
// moments, accumulators), laid out as arrays of n.
int64_t OptimizerStateSize(const OpInfo& op, int64_t n);
// Sets the state as torch.optim starts it (zeros; adagrad's sum at
// initial_accumulator_value). p: the op's params, registry order.
void OptimizerInit(const OpInfo& op, const double* p, float* state, int64_t n);
// What the training engine watches in a step's pass over the parameters
// (the registry's replay watches nothing): the update's sums per piece k of
// [0, n), [ends[k - 1], ends[k]) (the first from 0, the last ending at n),
// sums[k][0..3] += {sum (out - theta)^2, sum theta^2, sum out^2, sum g^2}
// (g as given, before any weight decay; float lanes over blocks of 64
// vectors, the block sums added in double: relative error ~1e-7, no lane
// sums more than 64 terms); and
// before[i] = theta[i] for i < n, so that a step written over theta can be
// taken back.
struct StepWatch {
  size_t pieces = 0;
  const int64_t* ends = nullptr;
  double* const* sums = nullptr;
  float* before = nullptr;
};
// Step t = 1, 2, ... (torch.optim's count: bias corrections, lr_decay, the
// first momentum step): out = the n parameters after the update of
// `theta` by gradient g; the state advances in place. out may alias theta.
// watch (may be null): see StepWatch.
void OptimizerStep(const OpInfo& op, const double* p, int64_t t,
                   const float* theta, const float* g, float* state, float* out,
                   int64_t n, const StepWatch* watch = nullptr);

// Learning rate of a schedule op at step t = 0, 1, ... (p: its params,
// registry order; the `steps` param is the replay's length, unused here).
double ScheduleAt(const OpInfo& op, const double* p, int64_t t);

}  // namespace dlmath

#endif  // DLMATH_SRC_STEPS_H_
