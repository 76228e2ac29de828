// Validation and execution of registry calls. Every check that can fail does
// so here, before any kernel runs, with a message naming op, input or param.
#include <cmath>
#include <cstdlib>
#include <cstring>
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

Buffer::Buffer(int64_t n) {
  if (n <= 0) return;
  // Round up to whole 64-byte lines: aligned_alloc requires it.
  const size_t bytes =
      (static_cast<size_t>(n) * sizeof(float) + 63) & ~size_t{63};
  data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (data_) size_ = n;
}
Buffer::~Buffer() { std::free(data_); }
Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    std::free(data_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kUnknownOp:
      return "unknown_op";
    case ErrorCode::kUnknownInput:
      return "unknown_input";
    case ErrorCode::kMissingInput:
      return "missing_input";
    case ErrorCode::kBadRank:
      return "bad_rank";
    case ErrorCode::kBadShape:
      return "bad_shape";
    case ErrorCode::kUnknownParam:
      return "unknown_param";
    case ErrorCode::kBadParam:
      return "bad_param";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kOutOfMemory:
      return "out_of_memory";
    case ErrorCode::kBadType:
      return "bad_type";
    case ErrorCode::kNotDifferentiable:
      return "not_differentiable";
    case ErrorCode::kBadValue:
      return "bad_value";
    case ErrorCode::kBadFormula:
      return "bad_formula";
  }
  return "unknown";
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

std::string RangeText(const ParamSpec& s) {
  if (s.type == ParamType::kBool) return "0 or 1";
  if (s.type == ParamType::kEnum) return "one of " + ChoiceList(s.choices);
  std::string r = s.lo_open || std::isinf(s.lo) ? "(" : "[";
  r += FormatNumber(s.lo) + ", " + FormatNumber(s.hi);
  r += s.hi_open || std::isinf(s.hi) ? ")" : "]";
  if (s.type == ParamType::kInt) r = "an integer in " + r;
  return r;
}

Status CheckParam(const OpInfo& op, const ParamSpec& s, double v) {
  auto bad = [&](const std::string& why) {
    return Status(
        ErrorCode::kBadParam, op.id, s.name,
        "op '" + std::string(op.id) + "': param '" + s.name + "' " + why);
  };
  if (std::isnan(v)) return bad("is NaN; expected " + RangeText(s));
  const bool integral = std::floor(v) == v;
  if (s.type == ParamType::kEnum && (!integral || v < s.lo || v > s.hi))
    return bad("must be one of " + ChoiceList(s.choices) + ", got index " +
               FormatNumber(v));
  if ((s.type != ParamType::kReal) && !integral)
    return bad("must be " + RangeText(s) + ", got " + FormatNumber(v));
  // An infinite bound is always open: no param takes an infinite value.
  const bool below = (s.lo_open || std::isinf(s.lo)) ? !(v > s.lo) : v < s.lo;
  const bool above = (s.hi_open || std::isinf(s.hi)) ? !(v < s.hi) : v > s.hi;
  if (below || above)
    return bad("must be in " + RangeText(s) + ", got " + FormatNumber(v));
  return {};
}

}  // namespace

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
    const Shape& sh = t.tensor.shape;
    auto where = "op '" + op_name + "': input '" + s.name + "' ";
    if (sh.rank < 0 || sh.rank > kMaxRank)
      return Status(ErrorCode::kBadRank, op_name, s.name,
                    where + "has rank " + std::to_string(sh.rank) +
                        "; dlmath supports ranks 0 to " +
                        std::to_string(kMaxRank));
    int64_t n = 1;
    for (int i = 0; i < sh.rank; ++i) {
      if (sh.dim[i] < 0)
        return Status(ErrorCode::kBadShape, op_name, s.name,
                      where + "has a negative dimension in shape " + sh.str());
      // Check before multiplying so absurd shapes cannot overflow int64.
      if (sh.dim[i] > kMaxElements ||
          (sh.dim[i] && n > kMaxElements / sh.dim[i]))
        return Status(ErrorCode::kTooLarge, op_name, s.name,
                      where + "with shape " + sh.str() +
                          " exceeds the limit of " +
                          std::to_string(kMaxElements) + " elements");
      n *= sh.dim[i];
    }
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
    if (n == 0)
      return Status(
          ErrorCode::kBadShape, op_name, s.name,
          where + "is empty (shape " + sh.str() + "); pass at least one value");
    seen[k] = true;
    call->in[k] = t.tensor;
  }
  for (int k = 0; k < ni; ++k) {
    if (!seen[k] || !op->inputs[k].integer) continue;
    const float* v = call->in[k].data;
    for (int64_t i = 0, n = call->in[k].shape.numel(); i < n; ++i)
      if (!(std::floor(v[i]) == v[i]))
        return Status(ErrorCode::kBadType, op_name, op->inputs[k].name,
                      "op '" + op_name + "': input '" + op->inputs[k].name +
                          "' must hold integers; element [" +
                          std::to_string(i) + "] is " + FormatNumber(v[i]));
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
    if (Status s = CheckParam(*op, op->params[k], p.value); !s.ok()) return s;
    call->p[k] = p.value;
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
  int64_t aux_total = 0;
  for (int k = 0; k < op->num_aux(); ++k) aux_total += call->aux[k].numel();
  if (call->out.numel() > kMaxElements || call->workspace > kMaxElements ||
      aux_total > kMaxElements)
    return Status(ErrorCode::kTooLarge, op_name, "",
                  "op '" + op_name + "': the result " + call->out.str() +
                      " exceeds the limit of " + std::to_string(kMaxElements) +
                      " elements");
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

Status Run(const Call& c, Evaluation* ev, float* into) {
  ev->shape = c.out;
  if (!into) ev->y = Buffer(c.out.numel());
  ev->ws = Buffer(c.workspace);
  float* aux[kMaxAux] = {};
  bool aux_ok = true;
  for (int k = 0; k < c.op->num_aux(); ++k) {
    ev->aux[k] = Buffer(c.aux[k].numel());
    aux_ok = aux_ok && ev->aux[k].ok();
    aux[k] = ev->aux[k].data();
  }
  if (!ev->y.ok() || !ev->ws.ok() || !aux_ok)
    return Status(ErrorCode::kOutOfMemory, c.op->id, "",
                  "op '" + std::string(c.op->id) + "': out of memory for a " +
                      c.out.str() + " result");
  Forward(c, into ? into : ev->y.data(), ev->ws.data(), aux);
  return {};
}

Status RunBackward(const Call& c, Evaluation* ev, const float* dy, Gradients* g,
                   float* const* into) {
  const OpInfo& op = *c.op;
  if (!op.differentiable())
    return Status(ErrorCode::kNotDifferentiable, op.id, "",
                  "op '" + std::string(op.id) + "' has no gradient");
  auto oom = [&] {
    return Status(
        ErrorCode::kOutOfMemory, op.id, "",
        "op '" + std::string(op.id) + "': out of memory for gradients");
  };
  Buffer ones;
  if (!dy) {
    ones = Buffer(c.out.numel());
    if (!ones.ok()) return oom();
    for (int64_t i = 0; i < ones.size(); ++i) ones.data()[i] = 1.0f;
    dy = ones.data();
  }
  float* din[kMaxInputs] = {};
  for (int k = 0; k < op.num_inputs(); ++k) {
    if (!op.inputs[k].diff) continue;
    const int64_t n = c.in[k].shape.numel();
    if (into && into[k]) {
      din[k] = into[k];
    } else {
      g->din[k] = Buffer(n);
      if (!g->din[k].ok()) return oom();
      din[k] = g->din[k].data();
    }
    std::memset(din[k], 0, n * sizeof(float));
  }
  for (double& v : g->dp) v = 0;
  Backward(c, ev->y.data(), ev->ws.data(), dy, din, g->dp);
  return {};
}

}  // namespace dlmath
