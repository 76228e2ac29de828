// The public C++ API: validate a call against the registry, then run the
// forward or backward pass. Used by the wasm bindings, the tests and the
// benchmark alike.
#ifndef DLMATH_DLMATH_H_
#define DLMATH_DLMATH_H_

#include <optional>
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
// A param by name: a number, or (enum params) the name of one of its choices.
struct NamedParam {
  std::string_view name;
  double value = 0;
  std::optional<std::string_view> choice = std::nullopt;  // set: by name
};

// A validated call: inputs in registry order, every param resolved (defaults
// filled in), the output shape and the scratch size worked out.
struct Call {
  const OpInfo* op = nullptr;
  ConstTensor in[kMaxInputs];  // data == nullptr: an optional input not given
  double p[kMaxParams] = {};
  Shape out;
  Shape aux[kMaxAux];     // shapes of the secondary outputs (op.aux)
  int64_t workspace = 0;  // floats
};

// Checks names, ranks, shapes, param types, ranges (as the float32 value the
// kernels will see) and sizes. On success Forward/Backward cannot fail.
Status Prepare(std::string_view id, std::span<const NamedTensor> inputs,
               std::span<const NamedParam> params, Call* call);

// Whether backward computes a gradient for input k: it is differentiable and
// was given. No buffer is made and nothing is returned for the others.
bool HasGradient(const Call& call, int k);

// y: call.out.numel() floats; ws: call.workspace floats (may alias nothing);
// aux[k]: call.aux[k].numel() floats for each of op.aux (null if none).
void Forward(const Call& call, float* y, float* ws,
             float* const* aux = nullptr);

// After Forward (y, ws as it left them). din[k] is null or call.in[k]'s size
// (null wherever !HasGradient(call, k)), dp has kMaxParams slots. Both are
// ACCUMULATED into: zero them first.
void Backward(const Call& call, const float* y, float* ws, const float* dy,
              float* const* din, double* dp);

// Allocating wrappers (what the tests and the benchmark use): Run allocates
// y, the workspace and the aux outputs and runs Forward; RunBackward then
// allocates and zeroes one gradient per input with HasGradient and runs
// Backward with dy, or with ones when dy is null. kTooLarge past
// kMaxCallElements, kOutOfMemory if an allocation fails.
struct Evaluation {
  Shape shape;
  Buffer y;
  Buffer ws;
  Buffer aux[kMaxAux];
};
struct Gradients {
  Buffer din[kMaxInputs];  // empty where !HasGradient or written elsewhere
  double dp[kMaxParams] = {};
};
Status Run(const Call& call, Evaluation* ev);
Status RunBackward(const Call& call, Evaluation* ev, const float* dy,
                   Gradients* g);

// ---- One call, the way the bindings (and the fuzz targets) make it ---------

// A caller's buffer: `size` floats at `data`.
struct OutBuffer {
  float* data = nullptr;
  int64_t size = 0;
};
struct NamedOut {
  std::string_view name;  // an input's name: where its gradient goes
  OutBuffer buffer;
};
struct Request {
  std::string_view id;
  std::span<const NamedTensor> inputs;
  std::span<const NamedParam> params;
  bool backward = false;  // gradients wanted too (the forward pass runs once)
  // Backward: dL/dy, of the result's shape; absent: ones.
  std::optional<ConstTensor> upstream;
  // The result written into the caller's buffer (of the result's size)
  // instead of a new one; it then takes the result's shape.
  std::optional<OutBuffer> out;
  // Gradients written into the caller's buffers (each of its input's size)
  // instead of new ones.
  std::span<const NamedOut> grad_out;
};
struct Response {
  Call call;
  Evaluation ev;               // ev.y empty when the result went to request.out
  Gradients grads;             // din[k] empty where written to grad_out
  bool into[kMaxInputs] = {};  // gradient k went to a grad_out buffer
};
// Validates everything (the call, the sizes of `out`, `upstream` and every
// `grad_out`, the total size, and aliasing), then runs forward and, when
// asked, backward. Aliasing is decided here, by the op's form, and nowhere
// else: the result may overwrite its op's first input exactly (in place)
// only for Elementwise ops and Rowwise ops that keep the row length, and
// only when no backward follows in the same call (backward reads the
// inputs); every other overlap between an output and an input, the
// upstream, or another output is refused with kAliasedOutput.
Status Execute(const Request& request, Response* response);

// A shape given as numbers by a caller (JS): at most kMaxRank dimensions,
// each a non-negative integer, at most kMaxElements elements in all.
// `values` is how many values come with it (they must fill it exactly), or
// -1 when none do (a new, zeroed tensor). `op` and `arg` name the tensor in
// the message ('' outside an op call).
Status ShapeFromNumbers(std::span<const double> dims, int64_t values,
                        std::string_view op, std::string_view arg, Shape* out);

// Highway's target for this process (e.g. "AVX2", "WASM").
const char* ActiveTarget();

}  // namespace dlmath

#endif  // DLMATH_DLMATH_H_
