// The public C++ API: validate a call against the registry, then run the
// forward or backward pass. Used by the wasm bindings, the tests and the
// benchmark alike.
#ifndef DLMATH_DLMATH_H_
#define DLMATH_DLMATH_H_

#include <span>
#include <string_view>

#include "dlmath/registry.h"
#include "dlmath/status.h"
#include "dlmath/tensor.h"

namespace dlmath {

struct NamedTensor {
  std::string_view name;
  ConstTensor tensor;
};
struct NamedParam {
  std::string_view name;
  double value;
};

// A validated call: inputs in registry order, every param resolved (defaults
// filled in), the output shape and the scratch size worked out.
struct Call {
  const OpInfo* op = nullptr;
  ConstTensor in[kMaxInputs];
  double p[kMaxParams] = {};
  Shape out;
  Shape aux[kMaxAux];     // shapes of the secondary outputs (op.aux)
  int64_t workspace = 0;  // floats
};

// Checks names, ranks, shapes, param types and ranges and sizes. On success
// Forward/Backward cannot fail.
Status Prepare(std::string_view id, std::span<const NamedTensor> inputs,
               std::span<const NamedParam> params, Call* call);

// y: call.out.numel() floats; ws: call.workspace floats (may alias nothing);
// aux[k]: call.aux[k].numel() floats for each of op.aux (null if none).
void Forward(const Call& call, float* y, float* ws,
             float* const* aux = nullptr);

// After Forward (y, ws as it left them). din[k] is null or call.in[k]'s size,
// dp has kMaxParams slots. Both are ACCUMULATED into: zero them first.
void Backward(const Call& call, const float* y, float* ws, const float* dy,
              float* const* din, double* dp);

// Allocating wrappers (what the bindings, tests and benchmark use): Run
// allocates y, the workspace and the aux outputs and runs Forward; RunBackward
// then zeroes one gradient per differentiable input -- into[k] when the caller
// gives one (of the input's size), else a new buffer in g->din[k] -- and runs
// Backward with dy, or with ones when dy is null. kOutOfMemory if an allocation
// fails.
struct Evaluation {
  Shape shape;
  Buffer y;
  Buffer ws;
  Buffer aux[kMaxAux];
};
struct Gradients {
  Buffer din[kMaxInputs];  // empty where the input is not differentiable
  double dp[kMaxParams] = {};
};
// `into` (call.out.numel() floats), when given, receives y instead of ev->y.
Status Run(const Call& call, Evaluation* ev, float* into = nullptr);
Status RunBackward(const Call& call, Evaluation* ev, const float* dy,
                   Gradients* g, float* const* into = nullptr);

// Highway's target for this process (e.g. "AVX2", "WASM").
const char* ActiveTarget();

}  // namespace dlmath

#endif  // DLMATH_DLMATH_H_
