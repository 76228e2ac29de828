// Validation and execution of registry calls. Every check that can fail does
// so here, before any kernel runs, with a message naming op, input or param.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>

#include "core/src/kernels.h"
#include "dlmath/dlmath.h"

namespace dlmath {

// ----- small types ---------------------------------------------------------

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ", ";
    s += std::to_string(dim[i]);
  }
  return s + "]";
}

namespace {
int64_t g_allocations = 0;
int64_t g_fail_after = -1;  // countdown to a forced failure; -1: none
}  // namespace

float* AllocateFloats(int64_t n) {
  if (n <= 0 || n > kMaxCallElements) return nullptr;
  if (g_fail_after >= 0 && g_fail_after-- == 0) return nullptr;
  // Round up to whole 64-byte lines: aligned_alloc requires it.
  const size_t bytes =
      (static_cast<size_t>(n) * sizeof(float) + 63) & ~size_t{63};
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (p) ++g_allocations;
  return p;
}
void FreeFloats(float* p) { std::free(p); }
int64_t AllocationCount() { return g_allocations; }
void FailAllocationAfter(int64_t k) { g_fail_after = k < 0 ? -1 : k; }

Buffer::Buffer(int64_t n) {
  if (n == 0) return;
  data_ = AllocateFloats(n);
  failed_ = data_ == nullptr;
  size_ = failed_ ? 0 : n;
}
Buffer::~Buffer() { FreeFloats(data_); }
Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    FreeFloats(data_);
    data_ = o.data_;
    size_ = o.size_;
    failed_ = o.failed_;
    o.data_ = nullptr;
    o.size_ = 0;
    o.failed_ = false;
  }
  return *this;
}

const char* ErrorCodeName(ErrorCode code) {
  static constexpr const char* kNames[] = {
#define DLMATH_ERROR_NAME(code, name) name,
      DLMATH_ERROR_CODES(DLMATH_ERROR_NAME)
#undef DLMATH_ERROR_NAME
  };
  static_assert(std::size(kNames) == kNumErrorCodes);
  const int i = static_cast<int>(code);
  return i >= 0 && i < kNumErrorCodes ? kNames[i] : "unknown";
}

namespace {

std::string NameList(const OpInfo& op, bool params) {
  const int n = params ? op.num_params() : op.num_inputs();
  if (n == 0) return params ? "it has no params" : "it has no inputs";
  std::string s = params ? "its params: " : "its inputs: ";
  for (int i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += params ? op.params[i].name : op.inputs[i].name;
  }
  return s;
}

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// "'mean', 'sum', 'none'" from "mean|sum|none".
std::string ChoiceList(const char* choices) {
  std::string out = "'";
  for (const char* c = choices; *c; ++c)
    out += *c == '|' ? std::string("', '") : std::string(1, *c);
  return out + "'";
}

// Index of `name` among "a|b|c", or -1.
int ChoiceIndex(const char* choices, std::string_view name) {
  int k = 0;
  for (const char *a = choices, *b = choices;; ++b) {
    if (*b == '|' || *b == '\0') {
      if (name == std::string_view(a, b - a)) return k;
      if (*b == '\0') return -1;
      a = b + 1;
      ++k;
    }
  }
}

std::string RangeText(const ParamSpec& s) {
  if (s.type == ParamType::kBool) return "0 or 1";
  if (s.type == ParamType::kEnum) return "one of " + ChoiceList(s.choices);
  std::string r = s.lo_open || std::isinf(s.lo) ? "(" : "[";
  r += FormatNumber(s.lo) + ", " + FormatNumber(s.hi);
  r += s.hi_open || std::isinf(s.hi) ? ")" : "]";
  if (s.type == ParamType::kInt) r = "an integer in " + r;
  return r;
}

bool InRange(const ParamSpec& s, double v) {
  // An infinite bound is always open: no param takes an infinite value.
  const bool below = (s.lo_open || std::isinf(s.lo)) ? !(v > s.lo) : v < s.lo;
  const bool above = (s.hi_open || std::isinf(s.hi)) ? !(v < s.hi) : v > s.hi;
  return !below && !above;
}

// Resolves one param to the number the kernels get, or says why not.
Status CheckParam(const OpInfo& op, const ParamSpec& s, const NamedParam& p,
                  double* value) {
  auto bad = [&](ErrorCode code, const std::string& why) {
    return Status(
        code, op.id, s.name,
        "op '" + std::string(op.id) + "': param '" + s.name + "' " + why);
  };
  double v = p.value;
  if (p.choice) {
    if (s.type != ParamType::kEnum)
      return bad(ErrorCode::kBadType, "takes a number, got the text '" +
                                          std::string(*p.choice) + "'");
    const int k = ChoiceIndex(s.choices, *p.choice);
    if (k < 0)
      return bad(ErrorCode::kBadParam, "must be one of " +
                                           ChoiceList(s.choices) + ", got '" +
                                           std::string(*p.choice) + "'");
    v = k;
  }
  if (std::isnan(v))
    return bad(ErrorCode::kBadParam, "is NaN; expected " + RangeText(s));
  const bool integral = std::floor(v) == v;
  if (s.type == ParamType::kEnum && (!integral || v < s.lo || v > s.hi))
    return bad(ErrorCode::kBadParam, "must be one of " + ChoiceList(s.choices) +
                                         ", got index " + FormatNumber(v));
  if (s.type != ParamType::kReal && !integral)
    return bad(ErrorCode::kBadParam,
               "must be " + RangeText(s) + ", got " + FormatNumber(v));
  if (!InRange(s, v))
    return bad(ErrorCode::kBadParam,
               "must be in " + RangeText(s) + ", got " + FormatNumber(v));
  if (s.type == ParamType::kReal) {
    // The kernels compute in float32: the value they see must be finite and
    // still in range (1e-50 for a positive eps would become 0).
    if (std::fabs(v) > FLT_MAX)
      return bad(ErrorCode::kBadParam,
                 "is " + FormatNumber(v) +
                     ", beyond the float32 range (about ±3.4e38) the kernels "
                     "compute in");
    const double f = static_cast<float>(v);
    if (!InRange(s, f))
      return bad(ErrorCode::kBadParam,
                 "is " + FormatNumber(v) + ", which is " + FormatNumber(f) +
                     " in float32 (the kernels' precision), outside " +
                     RangeText(s));
  }
  *value = v;
  return {};
}

// How messages name a tensor: "op 'softmax': input 'x'".
std::string TensorName(std::string_view op, std::string_view arg) {
  if (op.empty())
    return arg.empty() ? "tensor" : "tensor '" + std::string(arg) + "'";
  const std::string where = "op '" + std::string(op) + "': ";
  if (arg == "upstream") return where + "the upstream gradient";
  if (arg == "out") return where + "output 'out'";
  return where + "input '" + std::string(arg) + "'";
}

// A shape's numbers against the rank and size limits; `sh` is built as the
// numbers are read, so an absurd one is refused before anything multiplies.
Status CheckDims(std::span<const double> dims, std::string_view op,
                 std::string_view arg, Shape* sh) {
  const std::string name = TensorName(op, arg);
  auto text = [&] {  // integers in full, anything else as a number
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
      const double d = dims[i];
      s += i ? ", " : "";
      s += std::floor(d) == d && std::fabs(d) < 1e15
               ? std::to_string(static_cast<int64_t>(d))
               : FormatNumber(d);
    }
    return s + "]";
  };
  if (dims.size() > static_cast<size_t>(kMaxRank))
    return Status(ErrorCode::kBadRank, std::string(op), std::string(arg),
                  name + " has rank " + std::to_string(dims.size()) +
                      "; dlmath supports ranks 0 to " +
                      std::to_string(kMaxRank));
  *sh = Shape{};
  int64_t n = 1;
  for (const double d : dims) {
    if (!(d >= 0) || std::floor(d) != d)
      return Status(ErrorCode::kBadShape, std::string(op), std::string(arg),
                    name + " has shape " + text() +
                        "; dimensions must be non-negative integers");
    // Compared before multiplying so absurd shapes cannot overflow int64.
    if (d > static_cast<double>(kMaxElements) ||
        (d > 0 && n > kMaxElements / static_cast<int64_t>(d)))
      return Status(ErrorCode::kTooLarge, std::string(op), std::string(arg),
                    name + " with shape " + text() + " exceeds the limit of " +
                        std::to_string(kMaxElements) + " elements");
    sh->dim[sh->rank++] = static_cast<int64_t>(d);
    n *= static_cast<int64_t>(d);
  }
  return {};
}

Status CheckShape(const Shape& sh, std::string_view op, std::string_view arg) {
  if (sh.rank < 0 || sh.rank > kMaxRank)
    return Status(ErrorCode::kBadRank, std::string(op), std::string(arg),
                  TensorName(op, arg) + " has rank " + std::to_string(sh.rank) +
                      "; dlmath supports ranks 0 to " +
                      std::to_string(kMaxRank));
  double dims[kMaxRank];
  for (int i = 0; i < sh.rank; ++i) dims[i] = static_cast<double>(sh.dim[i]);
  Shape copy;
  return CheckDims({dims, static_cast<size_t>(sh.rank)}, op, arg, &copy);
}

}  // namespace

Status ShapeFromNumbers(std::span<const double> dims, int64_t values,
                        std::string_view op, std::string_view arg, Shape* out) {
  if (Status s = CheckDims(dims, op, arg, out); !s.ok()) return s;
  if (values >= 0 && values != out->numel())
    return Status(ErrorCode::kBadShape, std::string(op), std::string(arg),
                  TensorName(op, arg) + " has " + std::to_string(values) +
                      " values but shape " + out->str() + " needs " +
                      std::to_string(out->numel()));
  return {};
}

bool HasGradient(const Call& c, int k) {
  return c.op->inputs[k].diff && c.in[k].data != nullptr;
}

Status Prepare(std::string_view id, std::span<const NamedTensor> inputs,
               std::span<const NamedParam> params, Call* call) {
  const OpInfo* op = FindOp(id);
  if (!op) return UnknownOp(id);
  *call = Call{};
  call->op = op;
  const std::string op_name = op->id;
  const int ni = op->num_inputs(), np = op->num_params();

  bool seen[kMaxInputs] = {};
  for (const NamedTensor& t : inputs) {
    const int k = op->InputIndex(t.name);
    if (k < 0)
      return Status(ErrorCode::kUnknownInput, op_name, std::string(t.name),
                    "op '" + op_name + "' has no input '" +
                        std::string(t.name) + "' (" + NameList(*op, false) +
                        ")");
    const InputSpec& s = op->inputs[k];
    if (seen[k])
      return Status(
          ErrorCode::kUnknownInput, op_name, s.name,
          "op '" + op_name + "': input '" + s.name + "' is given twice");
    const Shape& sh = t.tensor.shape;
    if (Status st = CheckShape(sh, op_name, s.name); !st.ok()) return st;
    const std::string where = "op '" + op_name + "': input '" + s.name + "' ";
    if (sh.rank < s.min_rank || sh.rank > s.max_rank) {
      std::string want =
          s.min_rank == s.max_rank ? "rank " + std::to_string(s.min_rank)
          : s.max_rank == kMaxRank ? "rank >= " + std::to_string(s.min_rank)
                                   : "rank " + std::to_string(s.min_rank) +
                                         " to " + std::to_string(s.max_rank);
      return Status(ErrorCode::kBadRank, op_name, s.name,
                    where + "must have " + want + ", got rank " +
                        std::to_string(sh.rank) + " (shape " + sh.str() + ")");
    }
    if (sh.numel() == 0)
      return Status(
          ErrorCode::kBadShape, op_name, s.name,
          where + "is empty (shape " + sh.str() + "); pass at least one value");
    if (!t.tensor.data)
      return Status(ErrorCode::kMissingInput, op_name, s.name,
                    where + "has no data");
    seen[k] = true;
    call->in[k] = t.tensor;
  }
  // Integer inputs (class indices, lengths, dimensions) must be integers a
  // kernel can convert to int32 without undefined behaviour.
  for (int k = 0; k < ni; ++k) {
    if (!seen[k] || !op->inputs[k].integer) continue;
    const float* v = call->in[k].data;
    const std::string where =
        "op '" + op_name + "': input '" + op->inputs[k].name + "' ";
    for (int64_t i = 0, n = call->in[k].shape.numel(); i < n; ++i) {
      const std::string element =
          "element [" + std::to_string(i) + "] is " + FormatNumber(v[i]);
      if (!std::isfinite(v[i]) || std::floor(v[i]) != v[i])
        return Status(ErrorCode::kBadType, op_name, op->inputs[k].name,
                      where + "must hold integers; " + element);
      if (std::fabs(v[i]) > 2147483647.0)
        return Status(ErrorCode::kTooLarge, op_name, op->inputs[k].name,
                      where + "holds indices, lengths or dimensions up to " +
                          "2147483647 in size; " + element);
    }
  }
  for (int k = 0; k < ni; ++k)
    if (!seen[k] && !op->inputs[k].optional)
      return Status(ErrorCode::kMissingInput, op_name, op->inputs[k].name,
                    "op '" + op_name + "' needs input '" + op->inputs[k].name +
                        "' (" + NameList(*op, false) + ")");

  for (int k = 0; k < np; ++k) call->p[k] = op->params[k].def;
  for (const NamedParam& p : params) {
    const int k = op->ParamIndex(p.name);
    if (k < 0)
      return Status(ErrorCode::kUnknownParam, op_name, std::string(p.name),
                    "op '" + op_name + "' has no param '" +
                        std::string(p.name) + "' (" + NameList(*op, true) +
                        ")");
    if (Status s = CheckParam(*op, op->params[k], p, &call->p[k]); !s.ok())
      return s;
  }

  const Shape& x = call->in[0].shape;
  switch (op->form) {
    case Form::Elementwise:
      call->out = x;
      break;
    case Form::Rowwise:
      call->out = x;
      if (op->row_out == RowOut::kDrop) {
        call->out.rank -= 1;
      } else if (op->row_out == RowOut::kHalf) {
        if (x.cols() % 2 != 0)
          return Status(ErrorCode::kBadShape, op_name, op->inputs[0].name,
                        "op '" + op_name + "': the last dimension of input '" +
                            op->inputs[0].name + "' must be even to split in " +
                            "halves, got " + std::to_string(x.cols()) +
                            " (shape " + x.str() + ")");
        call->out.dim[x.rank - 1] = x.cols() / 2;
      }
      break;
    case Form::General:
    case Form::NoGrad: {
      Shape shapes[kMaxInputs];
      const float* data[kMaxInputs] = {};
      for (int k = 0; k < ni; ++k) {
        shapes[k] = call->in[k].shape;
        data[k] = call->in[k].data;
      }
      const ShapeCtx ctx{.op = op->id,
                         .in = shapes,
                         .data = data,
                         .p = call->p,
                         .out = &call->out,
                         .workspace = &call->workspace,
                         .aux = call->aux};
      if (Status s = op->impl.gen_shape(ctx); !s.ok()) return s;
      break;
    }
  }
  // What the op asks for, one tensor at a time (the call's total is
  // checked where it allocates).
  auto too_large = [&](const std::string& what, int64_t n) {
    return Status(ErrorCode::kTooLarge, op_name, "",
                  "op '" + op_name + "': " + what + " of " + std::to_string(n) +
                      " values exceeds the limit of " +
                      std::to_string(kMaxElements) + " elements");
  };
  if (call->out.numel() > kMaxElements)
    return too_large("the result " + call->out.str(), call->out.numel());
  if (call->workspace < 0 || call->workspace > kMaxElements)
    return too_large("its workspace", call->workspace);
  for (int k = 0; k < op->num_aux(); ++k)
    if (call->aux[k].numel() > kMaxElements)
      return too_large("its output '" + std::string(op->aux[k]) + "'",
                       call->aux[k].numel());
  return {};
}

namespace {

// General ops take pointer arrays; build them from the call.
GenCall<float> MakeGenCall(const Call& c, const float** in, Shape* shapes,
                           float* y, float* ws, float* const* aux) {
  for (int k = 0; k < kMaxInputs; ++k) {
    in[k] = c.in[k].data;
    shapes[k] = c.in[k].shape;
  }
  return GenCall<float>{.in = in,
                        .in_shape = shapes,
                        .p = c.p,
                        .out = y,
                        .out_shape = c.out,
                        .ws = ws,
                        .aux = aux,
                        .aux_shape = c.aux};
}

}  // namespace

void Forward(const Call& c, float* y, float* ws, float* const* aux) {
  const OpInfo& op = *c.op;
  const ConstTensor& x = c.in[0];
  switch (op.form) {
    case Form::Elementwise:
      op.impl.ew_fwd(x.data, y, x.shape.numel(), c.p);
      break;
    case Form::Rowwise:
      op.impl.row_fwd(x.data, y, x.shape.rows(), x.shape.cols(), c.p);
      break;
    case Form::General:
    case Form::NoGrad: {
      const float* in[kMaxInputs];
      Shape shapes[kMaxInputs];
      op.impl.gen_fwd(MakeGenCall(c, in, shapes, y, ws, aux));
      break;
    }
  }
}

void Backward(const Call& c, const float* y, float* ws, const float* dy,
              float* const* din, double* dp) {
  const OpInfo& op = *c.op;
  const ConstTensor& x = c.in[0];
  switch (op.form) {
    case Form::Elementwise:
      op.impl.ew_bwd(x.data, y, dy, din[0], dp, x.shape.numel(), c.p);
      break;
    case Form::Rowwise:
      op.impl.row_bwd(x.data, y, dy, din[0], dp, x.shape.rows(), x.shape.cols(),
                      c.p);
      break;
    case Form::NoGrad:  // RunBackward refuses these: not differentiable
      break;
    case Form::General: {
      const float* in[kMaxInputs];
      Shape shapes[kMaxInputs];
      GenCall<float> g =
          MakeGenCall(c, in, shapes, const_cast<float*>(y), ws, nullptr);
      g.dy = dy;
      g.din = din;
      g.dp = dp;
      op.impl.gen_bwd(g);
      break;
    }
  }
}

namespace {

// What a call allocates, in floats. Forward: the result unless it goes to
// the caller, the workspace, the aux outputs. Backward: the gradients not
// written to the caller's buffers and the ones of a default upstream.
int64_t ForwardFloats(const Call& c, bool own_y) {
  int64_t n = (own_y ? c.out.numel() : 0) + c.workspace;
  for (int k = 0; k < c.op->num_aux(); ++k) n += c.aux[k].numel();
  return n;
}
int64_t BackwardFloats(const Call& c, bool own_dy, const bool* into) {
  int64_t n = own_dy ? c.out.numel() : 0;
  for (int k = 0; k < c.op->num_inputs(); ++k)
    if (HasGradient(c, k) && !(into && into[k])) n += c.in[k].shape.numel();
  return n;
}

Status CheckTotal(const Call& c, int64_t floats) {
  if (floats <= kMaxCallElements) return {};
  return Status(ErrorCode::kTooLarge, c.op->id, "",
                "op '" + std::string(c.op->id) + "': the call needs " +
                    std::to_string(floats) +
                    " values for its results, workspace and gradients, "
                    "beyond the limit of " +
                    std::to_string(kMaxCallElements) + " per call");
}

Status OutOfMemory(const Call& c, const std::string& what) {
  return Status(ErrorCode::kOutOfMemory, c.op->id, "",
                "op '" + std::string(c.op->id) + "': out of memory for " +
                    what +
                    "; free some tensors (dispose()) or use smaller "
                    "inputs");
}

Status Allocate(const Call& c, int64_t n, const std::string& what, Buffer* b) {
  *b = Buffer(n);
  return b->ok() ? Status() : OutOfMemory(c, what);
}

// General ops' kernels keep some scratch of their own (a double per row,
// Eigen temporaries), which the wasm build cannot survive failing to get
// (no exceptions: operator new aborts the module). Before such a kernel
// runs, two doubles per element of its largest tensor must be available:
// allocated and freed at once, untouched, so it costs no page of memory.
Status CheckHeadroom(const Call& c) {
  if (c.op->form != Form::General && c.op->form != Form::NoGrad) return {};
  int64_t n = c.out.numel();
  for (int k = 0; k < c.op->num_inputs(); ++k)
    n = std::max(n, c.in[k].shape.numel());
  if (Buffer(4 * n).ok()) return {};
  return OutOfMemory(c, "the kernel's own scratch");
}

// Forward into y (the caller's buffer, or a new one in ev->y).
Status ForwardInto(const Call& c, Evaluation* ev, float* y) {
  ev->shape = c.out;
  if (!y) {
    if (Status s =
            Allocate(c, c.out.numel(), "a " + c.out.str() + " result", &ev->y);
        !s.ok())
      return s;
    y = ev->y.data();
  }
  if (Status s = Allocate(c, c.workspace, "its workspace", &ev->ws); !s.ok())
    return s;
  float* aux[kMaxAux] = {};
  for (int k = 0; k < c.op->num_aux(); ++k) {
    if (Status s = Allocate(c, c.aux[k].numel(),
                            "its output '" + std::string(c.op->aux[k]) + "'",
                            &ev->aux[k]);
        !s.ok())
      return s;
    aux[k] = ev->aux[k].data();
  }
  if (Status s = CheckHeadroom(c); !s.ok()) return s;
  Forward(c, y, ev->ws.data(), aux);
  return {};
}

// Backward after ForwardInto; din[k] given by the caller where into[k].
Status BackwardInto(const Call& c, const float* y, Evaluation* ev,
                    const float* dy, float* const* caller_din, Gradients* g) {
  const OpInfo& op = *c.op;
  if (!op.differentiable())
    return Status(ErrorCode::kNotDifferentiable, op.id, "",
                  "op '" + std::string(op.id) + "' has no gradient");
  Buffer ones;
  if (!dy) {
    if (Status s = Allocate(c, c.out.numel(), "the upstream gradient", &ones);
        !s.ok())
      return s;
    std::fill_n(ones.data(), ones.size(), 1.0f);
    dy = ones.data();
  }
  float* din[kMaxInputs] = {};
  for (int k = 0; k < op.num_inputs(); ++k) {
    if (!HasGradient(c, k)) continue;
    const int64_t n = c.in[k].shape.numel();
    if (caller_din && caller_din[k]) {
      din[k] = caller_din[k];
    } else {
      if (Status s = Allocate(
              c, n, "the gradient of '" + std::string(op.inputs[k].name) + "'",
              &g->din[k]);
          !s.ok())
        return s;
      din[k] = g->din[k].data();
    }
    std::memset(din[k], 0, n * sizeof(float));
  }
  for (double& v : g->dp) v = 0;
  if (Status s = CheckHeadroom(c); !s.ok()) return s;
  Backward(c, y, ev->ws.data(), dy, din, g->dp);
  return {};
}

// One region of memory a call reads or writes.
struct Region {
  const float* p;
  int64_t n;
  std::string name;  // as messages say it: "input 'x'", "output 'out'"
};
bool Overlap(const Region& a, const Region& b) {
  return a.p && b.p && a.n > 0 && b.n > 0 && a.p < b.p + b.n && b.p < a.p + a.n;
}

// The aliasing rule of Execute (see dlmath.h), in one place.
Status CheckAliasing(const Call& c, const float* y, const float* dy,
                     float* const* din, bool backward) {
  const OpInfo& op = *c.op;
  Region reads[kMaxInputs + 1];
  int nr = 0;
  for (int k = 0; k < op.num_inputs(); ++k)
    reads[nr++] = {c.in[k].data, c.in[k].shape.numel(),
                   "input '" + std::string(op.inputs[k].name) + "'"};
  if (backward && dy) reads[nr++] = {dy, c.out.numel(), "the upstream"};
  Region writes[kMaxInputs + 1];
  std::string what[kMaxInputs + 1];
  int nw = 0;
  if (y) {
    what[nw] = "out";
    writes[nw++] = {y, c.out.numel(), "output 'out'"};
  }
  for (int k = 0; din && k < op.num_inputs(); ++k)
    if (din[k]) {
      what[nw] = op.inputs[k].name;
      writes[nw++] = {
          din[k], c.in[k].shape.numel(),
          "the gradient of '" + std::string(op.inputs[k].name) + "'"};
    }
  // In place: each value computed from its own element (or row) before it
  // is stored, and nothing reads the input afterwards.
  const bool in_place_ok =
      !backward && (op.form == Form::Elementwise ||
                    (op.form == Form::Rowwise && op.row_out == RowOut::kSame));
  for (int w = 0; w < nw; ++w) {
    auto refuse = [&](const std::string& other, const std::string& why) {
      return Status(ErrorCode::kAliasedOutput, op.id, what[w],
                    "op '" + std::string(op.id) + "': " + writes[w].name +
                        " overlaps " + other + "; " + why);
    };
    for (int r = 0; r < nr; ++r) {
      if (!Overlap(writes[w], reads[r])) continue;
      const bool exact = writes[w].p == reads[r].p && writes[w].n == reads[r].n;
      if (w == 0 && y && r == 0 && exact && in_place_ok) continue;
      return refuse(
          reads[r].name,
          backward      ? "the backward pass reads the inputs and the upstream "
                          "gradient after the outputs are written"
          : in_place_ok ? "only its first input, exactly, may be overwritten"
                        : "only element-wise ops and row-wise ops that keep "
                          "the row length can write over their input");
    }
    for (int o = 0; o < w; ++o)
      if (Overlap(writes[w], writes[o]))
        return refuse(writes[o].name, "each output needs its own buffer");
  }
  return {};
}

}  // namespace

Status Run(const Call& c, Evaluation* ev) {
  if (Status s = CheckTotal(c, ForwardFloats(c, true)); !s.ok()) return s;
  return ForwardInto(c, ev, nullptr);
}

Status RunBackward(const Call& c, Evaluation* ev, const float* dy,
                   Gradients* g) {
  if (Status s = CheckTotal(c, BackwardFloats(c, !dy, nullptr)); !s.ok())
    return s;
  return BackwardInto(c, ev->y.data(), ev, dy, nullptr, g);
}

Status Execute(const Request& r, Response* res) {
  *res = Response();
  Call& c = res->call;
  if (Status s = Prepare(r.id, r.inputs, r.params, &c); !s.ok()) return s;
  const OpInfo& op = *c.op;
  const std::string id = op.id;
  if (r.backward && !op.differentiable())
    return Status(ErrorCode::kNotDifferentiable, id, "",
                  "op '" + id + "' has no gradient");
  float* y = nullptr;
  if (r.out) {
    if (r.out->size != c.out.numel() || (!r.out->data && r.out->size))
      return Status(ErrorCode::kBadShape, id, "out",
                    "op '" + id + "': output 'out' holds " +
                        std::to_string(r.out->size) + " values, the result " +
                        c.out.str() + " needs " +
                        std::to_string(c.out.numel()));
    y = r.out->data;
  }
  const float* dy = nullptr;
  if (r.backward && r.upstream) {
    if (!(r.upstream->shape == c.out) || !r.upstream->data)
      return Status(ErrorCode::kBadShape, id, "upstream",
                    "op '" + id +
                        "': the upstream gradient must have the result's "
                        "shape " +
                        c.out.str() + ", got " + r.upstream->shape.str());
    dy = r.upstream->data;
  }
  float* din[kMaxInputs] = {};
  for (const NamedOut& o : r.grad_out) {
    const int k = op.InputIndex(o.name);
    const std::string name(o.name);
    if (k < 0)
      return Status(ErrorCode::kUnknownInput, id, name,
                    "op '" + id + "': a gradient buffer is given for '" + name +
                        "', which is not an input (" + NameList(op, false) +
                        ")");
    if (!r.backward || !op.inputs[k].diff)
      return Status(
          ErrorCode::kNotDifferentiable, id, name,
          "op '" + id + "': input '" + name + "' has no gradient to write");
    if (!c.in[k].data)
      return Status(ErrorCode::kMissingInput, id, name,
                    "op '" + id + "': a gradient buffer is given for input '" +
                        name + "', which the call does not give");
    if (res->into[k])
      return Status(
          ErrorCode::kUnknownInput, id, name,
          "op '" + id + "': two gradient buffers for input '" + name + "'");
    if (o.buffer.size != c.in[k].shape.numel() || !o.buffer.data)
      return Status(ErrorCode::kBadShape, id, name,
                    "op '" + id + "': the buffer for the gradient of '" + name +
                        "' holds " + std::to_string(o.buffer.size) +
                        " values, the input has shape " + c.in[k].shape.str());
    din[k] = o.buffer.data;
    res->into[k] = true;
  }
  const int64_t floats = ForwardFloats(c, !y) +
                         (r.backward ? BackwardFloats(c, !dy, res->into) : 0);
  if (Status s = CheckTotal(c, floats); !s.ok()) return s;
  if (Status s = CheckAliasing(c, y, dy, din, r.backward); !s.ok()) return s;
  if (Status s = ForwardInto(c, &res->ev, y); !s.ok()) return s;
  if (!r.backward) return {};
  return BackwardInto(c, y ? y : res->ev.y.data(), &res->ev, dy, din,
                      &res->grads);
}

}  // namespace dlmath
