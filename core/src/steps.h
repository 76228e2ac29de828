// Per-step forms of the registry's optimizers and learning-rate schedules.
// The training engine calls them once per step; the registry's replay forms
// (the optimizer ops run a whole gradient sequence, the schedule ops fill
// [steps]) are loops over these same functions, so there is one
// implementation of each rule (core/src/ops/optim.cc, schedules.cc).
#ifndef DLMATH_SRC_STEPS_H_
#define DLMATH_SRC_STEPS_H_

#include <cstdint>

#include "dlmath/registry.h"

namespace dlmath {

// Floats of state an optimizer op keeps for n parameters (momentum buffer,
// moments, accumulators), laid out as arrays of n.
int64_t OptimizerStateSize(const OpInfo& op, int64_t n);
// Sets the state as torch.optim starts it (zeros; adagrad's sum at
// initial_accumulator_value). p: the op's params, registry order.
void OptimizerInit(const OpInfo& op, const double* p, float* state, int64_t n);
// Step t = 1, 2, ... (torch.optim's count: bias corrections, lr_decay, the
// first momentum step): out = the n parameters after the update of
// `theta` by gradient g; the state advances in place. out may alias theta.
void OptimizerStep(const OpInfo& op, const double* p, int64_t t,
                   const float* theta, const float* g, float* state, float* out,
                   int64_t n);

// Learning rate of a schedule op at step t = 0, 1, ... (p: its params,
// registry order; the `steps` param is the replay's length, unused here).
double ScheduleAt(const OpInfo& op, const double* p, int64_t t);

}  // namespace dlmath

#endif  // DLMATH_SRC_STEPS_H_
