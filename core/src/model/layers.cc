// The layers: linear (Gemm), registry activations (Impl pointers), formula
// activations (dlmath::Formula's exact derivative), and the General-form
// registry ops (prelu, dropout, the norms) through one GenCall-building
// layer. Forward and backward side by side.
#include "core/src/model/layers.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>

#include "core/src/gemm.h"
#include "core/src/model/stats.h"
#include "dlmath/dlmath.h"

namespace dlmath::model {

// ----- arenas ----------------------------------------------------------------

namespace {
std::atomic<int64_t> g_arena_allocations{0};
constexpr int64_t kLine = 16;  // floats per 64-byte line
int64_t Lines(int64_t floats) { return (floats + kLine - 1) / kLine * kLine; }
}  // namespace

Status AllocateArena(int64_t floats, const char* what, Buffer* out) {
  ++g_arena_allocations;
  *out = Buffer(floats);
  if (floats > 0 && out->data() == nullptr)
    return Status(ErrorCode::kOutOfMemory, "", what,
                  std::string("model: out of memory for the ") + what + " (" +
                      std::to_string(floats) + " floats)");
  return {};
}

int ActivationArena::Add(int64_t per_row, int64_t fixed) {
  per_row_.push_back(per_row);
  fixed_.push_back(fixed);
  offset_.push_back(0);
  return static_cast<int>(per_row_.size()) - 1;
}

int64_t ActivationArena::FloatsFor(int64_t rows) const {
  int64_t total = 0;
  for (size_t i = 0; i < per_row_.size(); ++i)
    total += Lines(per_row_[i] * rows + fixed_[i]);
  return total;
}

int64_t ActivationArena::RowsLimit() const {
  int64_t per_row = 0, fixed = 0;
  for (size_t i = 0; i < per_row_.size(); ++i) {
    per_row += per_row_[i];
    fixed += fixed_[i] + kLine;  // the rounding of each slot, at most
  }
  if (fixed >= kMaxActivationFloats) return 0;
  return per_row == 0 ? kMaxActivationFloats
                      : (kMaxActivationFloats - fixed) / per_row;
}

Status ActivationArena::Layout(int64_t rows) {
  Buffer b;
  if (Status s = AllocateArena(FloatsFor(rows), "activation arena", &b);
      !s.ok())
    return s;
  buffer_ = std::move(b);
  int64_t at = 0;
  for (size_t i = 0; i < per_row_.size(); ++i) {
    offset_[i] = at;
    at += Lines(per_row_[i] * rows + fixed_[i]);
  }
  capacity_ = rows;
  return {};
}

double ZeroColumns(const float* v, int64_t rows, int64_t cols) {
  // A unit alive on the first row is alive: that row usually settles all.
  if (cols == 0 || (rows > 0 && std::find(v, v + cols, 0.0f) == v + cols))
    return 0;
  int64_t dead = 0;
  for (int64_t j = 0; j < cols; ++j) {
    int64_t r = 0;
    while (r < rows && v[r * cols + j] == 0) ++r;
    dead += r == rows;
  }
  return static_cast<double>(dead) / static_cast<double>(cols);
}

// ----- the base
// ---------------------------------------------------------------

double Layer::DeadFraction(const Pass& p, const float* x, const float* y) {
  return ZeroColumns(y, p.rows, spec_.out_width);
}

const double* Layer::PassParams(const Pass& p, double* scratch) const {
  // A fixed-size memcpy the compiler inlines (std::copy became a call to
  // memmove).
  std::memcpy(scratch, spec_.p, sizeof(double) * kMaxParams);
  for (const auto& [k, slot] : learnable_) scratch[k] = p.params[slot.offset];
  if (training_param_ >= 0) scratch[training_param_] = p.training ? 1 : 0;
  if (seed_param_ >= 0)
    scratch[seed_param_] = p.seed(p.model_seed, index_, p.step);
  return scratch;
}

namespace {

// Runs registry initializer `op` (params p, seed replaced) into out, shape
// [rows, cols].
Status RunInit(const OpInfo& op, const double* p, uint32_t seed, int64_t rows,
               int64_t cols, float* out) {
  const float dims[2] = {static_cast<float>(rows), static_cast<float>(cols)};
  const NamedTensor shape{"shape", {dims, Shape{2}}};
  NamedParam params[kMaxParams];
  for (int k = 0; k < op.num_params(); ++k)
    params[k] = {op.params[k].name,
                 std::string_view(op.params[k].name) == "seed" ? seed : p[k]};
  Call call;
  if (Status s = Prepare(op.id, std::span(&shape, 1),
                         std::span(params, op.num_params()), &call);
      !s.ok())
    return s;
  Buffer ws;
  if (Status s = AllocateArena(call.workspace, "initializer workspace", &ws);
      !s.ok())
    return s;
  Forward(call, out, ws.data());
  return {};
}

}  // namespace

Status InitWeight(const InitSpec& init, uint32_t seed, int64_t rows,
                  int64_t cols, float* w) {
  if (!init.op) {
    std::fill(w, w + rows * cols, 0.0f);
    return {};
  }
  if (Status s = RunInit(*init.op, init.p, seed, rows, cols, w); !s.ok())
    return s;
  if (init.normal_std > 0) {
    // kaiming_normal's draws (fan_in = cols, gain 1) have std 1/sqrt(cols).
    const float k = static_cast<float>(init.normal_std *
                                       std::sqrt(static_cast<double>(cols)));
    for (int64_t i = 0; i < rows * cols; ++i) w[i] *= k;
  }
  return {};
}

uint32_t ParamSeed(uint32_t seed, int64_t offset) {
  return static_cast<uint32_t>(
      (static_cast<uint64_t>(seed) * 0x9E3779B1u + 0x632BE5ABu) ^
      static_cast<uint64_t>(offset) * 0x85EBCA77u);
}

bool Linear::Plan(int64_t r) {
  rows = r;
  const size_t n = static_cast<size_t>(r);
  bool ok =
      PlanGemm(Trans::kNo, Trans::kYes, n, out, in, in, in, out, false, &fwd);
  ok &= PlanGemm(Trans::kYes, Trans::kNo, out, in, n, out, in, in,
                 !overwrite_grads, &dw_plan);
  ok &= PlanGemm(Trans::kNo, Trans::kNo, n, in, out, out, in, in, !overwrite_dx,
                 &dx_plan);
  return ok;
}

namespace {

// ----- linear: y = x W^T + b ------------------------------------------------
// x [R, I], W [O, I] (PyTorch's layout), b [O]. The products run through
// Linear (layers.h), planned Gemm products: forward x·Wᵀ, dx = dy·W, dW +=
// dyᵀ·x. Saved: nothing (x and y are the arena's).

class LinearLayer : public Layer {
 public:
  using Layer::Layer;

  void Declare(AddTensor add, void* ctx) override {
    const int64_t o = spec_.out_width, i = spec_.in_width;
    if (!spec_.tie)
      w_ = {
          add(ctx, spec_.path + ".weight", Shape{o, i}, TensorKind::kParameter),
          o * i};
    if (spec_.bias)
      b_ = {add(ctx, spec_.path + ".bias", Shape{o}, TensorKind::kParameter),
            o};
  }

  Status Init(float* params, float* buffers, uint32_t seed) override {
    const int64_t o = spec_.out_width, i = spec_.in_width;
    if (!spec_.tie)
      if (Status s = InitWeight(spec_.init, ParamSeed(seed, w_.offset), o, i,
                                params + w_.offset);
          !s.ok())
        return s;
    if (!spec_.bias) return {};
    float* b = params + b_.offset;
    if (spec_.bias_zeros) {
      std::fill(b, b + o, 0.0f);
      return {};
    }
    // PyTorch's U(-1/sqrt(I), 1/sqrt(I)): kaiming_uniform with a = sqrt(5)
    // on [O, I] has exactly that bound; keep the first O draws.
    const OpInfo& ku = Op(OpId::kaiming_uniform);
    double p[kMaxParams] = {};
    for (int k = 0; k < ku.num_params(); ++k) p[k] = ku.params[k].def;
    p[DLMATH_PARAM(kaiming_uniform, a)] = std::sqrt(5.0);
    Buffer draws;
    if (Status s = AllocateArena(o * i, "bias initializer", &draws); !s.ok())
      return s;
    if (Status s =
            RunInit(ku, p, ParamSeed(seed, b_.offset), o, i, draws.data());
        !s.ok())
      return s;
    std::copy(draws.data(), draws.data() + o, b);
    return {};
  }

  void Forward(const Pass& p, const float* x, float* y) override {
    Linear& l = *linear(p);
    l.Ready(p.rows);
    l.Forward(x, y);
  }

  void Backward(const Pass& p, const float* x, const float* y, const float* dy,
                float* dx) override {
    Linear& l = *linear(p);
    l.Ready(p.rows);
    l.Backward(x, dy, dx);
  }
  // Placed anew each call (cheap); planned again only when the overwrite
  // flags change (or the rows: Ready).
  Linear* linear(const Pass& p) override {
    lin_.w = p.params + w_.offset;
    lin_.dw = p.grads + w_.offset;
    lin_.b = spec_.bias ? p.params + b_.offset : nullptr;
    lin_.db = spec_.bias ? p.grads + b_.offset : nullptr;
    lin_.in = spec_.in_width;
    lin_.out = spec_.out_width;
    if (lin_.overwrite_dx != overwrite_dx_ ||
        lin_.overwrite_grads != overwrite_grads_) {
      lin_.overwrite_dx = overwrite_dx_;
      lin_.overwrite_grads = overwrite_grads_;
      lin_.rows = -1;
    }
    return &lin_;
  }
  bool TakesNullDx() const override { return true; }
  bool CanOverwrite() const override { return !spec_.tie; }
  void Tie(int64_t offset) override {
    w_ = {offset, spec_.out_width * spec_.in_width};
  }

 private:
  TensorSlot w_, b_;
  Linear lin_;
};

// ----- token embedding: y[r] = W[token r]
// ------------------------------------- x [R, 1] token ids (floats holding
// integers in [0, V), checked by the model), W [V, C] (nn.Embedding's layout).
// Backward scatter-adds dy's rows into dW (tokens repeat: rows add up); no dx
// (ids are not differentiable).

class EmbeddingLayer : public Layer {
 public:
  using Layer::Layer;

  void Declare(AddTensor add, void* ctx) override {
    const int64_t v = spec_.vocab, c = spec_.out_width;
    w_ = {add(ctx, spec_.path + ".weight", Shape{v, c}, TensorKind::kParameter),
          v * c};
  }
  Status Init(float* params, float* buffers, uint32_t seed) override {
    return InitWeight(spec_.init, ParamSeed(seed, w_.offset), spec_.vocab,
                      spec_.out_width, params + w_.offset);
  }

  void Forward(const Pass& p, const float* x, float* y) override {
    const int64_t c = spec_.out_width;
    const float* w = p.params + w_.offset;
    for (int64_t r = 0; r < p.rows; ++r)
      std::memcpy(y + r * c, w + static_cast<int64_t>(x[r]) * c,
                  c * sizeof(float));
  }

  void Backward(const Pass& p, const float* x, const float* y, const float* dy,
                float* dx) override {
    const int64_t c = spec_.out_width;
    float* dw = p.grads + w_.offset;
    for (int64_t r = 0; r < p.rows; ++r) {
      float* row = dw + static_cast<int64_t>(x[r]) * c;
      const float* g = dy + r * c;
      for (int64_t j = 0; j < c; ++j) row[j] += g[j];
    }
  }
  bool TakesNullDx() const override { return true; }

 private:
  TensorSlot w_;
};

// ----- positional encodings: y[r] = x[r] + P[position of r] -----------------
// P [block, C]: a learned parameter "weight" (dP[t] += the dy rows at
// position t), or the registry's sinusoidal table, a buffer "pe" filled once.
// Backward: dx += dy.

class PositionalLayer : public Layer {
 public:
  using Layer::Layer;

  void Declare(AddTensor add, void* ctx) override {
    const int64_t t = spec_.block, c = spec_.out_width;
    const bool fixed = spec_.sinusoidal;
    table_ = {add(ctx, spec_.path + (fixed ? ".pe" : ".weight"), Shape{t, c},
                  fixed ? TensorKind::kBuffer : TensorKind::kParameter),
              t * c};
  }
  Status Init(float* params, float* buffers, uint32_t seed) override {
    const int64_t t = spec_.block, c = spec_.out_width;
    if (!spec_.sinusoidal)
      return InitWeight(spec_.init, ParamSeed(seed, table_.offset), t, c,
                        params + table_.offset);
    const float dims[2] = {static_cast<float>(t), static_cast<float>(c)};
    const NamedTensor shape{"shape", {dims, Shape{2}}};
    NamedParam named[kMaxParams];
    const OpInfo& op = *spec_.op;
    for (int k = 0; k < op.num_params(); ++k)
      named[k] = {op.params[k].name, spec_.p[k]};
    Call call;
    if (Status s = Prepare(op.id, std::span(&shape, 1),
                           std::span(named, op.num_params()), &call);
        !s.ok())
      return s;
    dlmath::Forward(call, buffers + table_.offset, nullptr);
    return {};
  }

  void Forward(const Pass& p, const float* x, float* y) override {
    const float* table = Table(p);
    const int64_t c = spec_.out_width;
    for (int64_t r = 0; r < p.rows; ++r) {
      const float* row = table + static_cast<int64_t>(p.positions[r]) * c;
      for (int64_t k = 0; k < c; ++k) y[r * c + k] = x[r * c + k] + row[k];
    }
  }

  void Backward(const Pass& p, const float* x, const float* y, const float* dy,
                float* dx) override {
    const int64_t c = spec_.out_width, total = p.rows * c;
    if (!spec_.sinusoidal) {
      float* dp = p.grads + table_.offset;
      for (int64_t r = 0; r < p.rows; ++r) {
        float* row = dp + static_cast<int64_t>(p.positions[r]) * c;
        for (int64_t k = 0; k < c; ++k) row[k] += dy[r * c + k];
      }
    }
    if (dx)
      for (int64_t k = 0; k < total; ++k) dx[k] += dy[k];
  }
  bool TakesNullDx() const override { return true; }

 private:
  const float* Table(const Pass& p) const {
    return (spec_.sinusoidal ? p.buffers : p.params) + table_.offset;
  }
  TensorSlot table_;
};

// ----- Elementwise / Rowwise registry activations ---------------------------
// The op's own kernels via its Impl pointers. Learnable params (swish_beta's
// beta) are [1] parameters: their value joins the params, dp their grad.
// Saved: nothing; for the dead-unit count, the local derivative (backward
// with dy = 1) in a scratch slot.

class PointwiseLayer : public Layer {
 public:
  PointwiseLayer(const LayerSpec& spec, int index)
      : Layer(spec, index),
        impl_(spec.op->impl),
        elementwise_(spec.op->form == Form::Elementwise) {}

  void Declare(AddTensor add, void* ctx) override {
    const OpInfo& op = *spec_.op;
    for (int k = 0; k < op.num_params(); ++k)
      if (op.params[k].learnable)
        learnable_.push_back({k,
                              {add(ctx, spec_.path + "." + op.params[k].name,
                                   Shape{1}, TensorKind::kParameter),
                               1}});
  }
  Status Init(float* params, float* buffers, uint32_t seed) override {
    for (const auto& [k, slot] : learnable_)
      params[slot.offset] = static_cast<float>(spec_.p[k]);
    return {};
  }
  void Plan(ActivationArena* acts) override {
    if (elementwise_) deriv_ = acts->Add(spec_.in_width, 0);
  }

  void Forward(const Pass& p, const float* x, float* y) override {
    double scratch[kMaxParams];
    const double* pp = ParamsFor(p, scratch);
    if (elementwise_) {
      impl_.ew_fwd(x, y, p.rows * spec_.in_width, pp);
    } else {
      impl_.row_fwd(x, y, p.rows, spec_.in_width, pp);
    }
  }

  void Backward(const Pass& p, const float* x, const float* y, const float* dy,
                float* dx) override {
    double scratch[kMaxParams], dp[kMaxParams] = {};
    const double* pp = ParamsFor(p, scratch);
    if (elementwise_) {
      impl_.ew_bwd(x, y, dy, dx, dp, p.rows * spec_.in_width, pp);
    } else {
      impl_.row_bwd(x, y, dy, dx, dp, p.rows, spec_.in_width, pp);
    }
    for (const auto& [k, slot] : learnable_)
      p.grads[slot.offset] += static_cast<float>(dp[k]);
  }

  Elementwise elementwise() const override {
    if (!elementwise_ || !FixedParams()) return {};
    return {impl_.ew_fwd, impl_.ew_bwd, spec_.p, spec_.in_width};
  }
  DeadProbe dead_probe() const override {
    return elementwise_ ? DeadProbe::kInputGradient : DeadProbe::kOutput;
  }
  double DeadFraction(const Pass& p, const float* x, const float* y) override {
    if (!elementwise_) return Layer::DeadFraction(p, x, y);
    const size_t width = spec_.in_width;
    float* d = p.acts->Ptr(deriv_);
    double scratch[kMaxParams], dp[kMaxParams] = {};
    const double* pp = ParamsFor(p, scratch);
    // The local derivatives of the first `rows` rows into d.
    auto derivatives = [&](size_t rows) {
      std::fill(d, d + rows * width, 0.0f);
      impl_.ew_bwd(x, y, p.ones, d, dp, rows * width, pp);
    };
    // A unit alive on the first row is alive: that row usually settles all.
    derivatives(1);
    if (std::find(d, d + width, 0.0f) == d + width) return 0;
    derivatives(p.rows);
    return ZeroColumns(d, p.rows, width);
  }

 private:
  const Impl& impl_;        // the op's kernels
  const bool elementwise_;  // else Rowwise
  int deriv_ = -1;
};

// ----- formula activations
// ---------------------------------------------------- y = f(x) elementwise;
// forward also stores f'(x) (Formula's exact derivative) when a backward
// follows; backward dx += dy f'(x). Saved: f'.

class FormulaLayer : public Layer {
 public:
  FormulaLayer(const LayerSpec& spec, int index) : Layer(spec, index) {
    // Compiled and evaluated once while parsing: cannot fail now.
    (void)Formula::Compile(spec.formula, &formula_);
    std::vector<NamedParam> named;
    for (const auto& [n, v] : spec.formula_params) named.push_back({n, v});
    (void)formula_.BindParams(named, &values_);
  }
  void Plan(ActivationArena* acts) override {
    deriv_ = acts->Add(spec_.in_width, 0);
  }
  Status Resize(int64_t rows) override {
    return formula_.MakePlan(values_, rows * spec_.in_width, &plan_);
  }

  void Forward(const Pass& p, const float* x, float* y) override {
    formula_.Run(&plan_, x, p.rows * spec_.in_width, y,
                 p.backward ? p.acts->Ptr(deriv_) : nullptr);
  }
  void Backward(const Pass& p, const float* x, const float* y, const float* dy,
                float* dx) override {
    const float* d = p.acts->Ptr(deriv_);
    for (int64_t i = 0, n = p.rows * spec_.in_width; i < n; ++i)
      dx[i] += dy[i] * d[i];
  }
  DeadProbe dead_probe() const override { return DeadProbe::kInputGradient; }
  double DeadFraction(const Pass& p, const float* x, const float* y) override {
    return ZeroColumns(p.acts->Ptr(deriv_), p.rows, spec_.in_width);
  }

 private:
  Formula formula_;
  std::vector<double> values_;
  Formula::Plan plan_;
  int deriv_ = -1;
};

// ----- General registry ops: prelu, dropout, the norms -----------------------
// Each registry input is bound to the layer's input x, a parameter, a buffer,
// or nothing; the workspace and secondary outputs get scratch slots of the
// sizes the registry asked for (spec.sizes). A secondary output named like
// a buffer input (batch norm's running_mean / running_var) is that buffer's
// new value, committed when the step is accepted.

class GeneralLayer : public Layer {
 public:
  using Layer::Layer;

  void Declare(AddTensor add, void* ctx) override {
    const OpInfo& op = *spec_.op;
    const int64_t width = spec_.in_width;
    for (int k = 1; k < op.num_inputs(); ++k) {
      const std::string name = op.inputs[k].name;
      Bind& b = bind_[k];
      if (name == "weight" && std::string_view(op.id) == "prelu") {
        b.kind = kParam;
        b.shape = Shape{spec_.prelu_count};
      } else if (name == "W" || name == "V") {  // swiglu: [in, units]
        b.kind = kParam;
        b.shape = Shape{width, spec_.out_width};
      } else if ((name == "weight" || name == "bias") && spec_.affine) {
        b.kind = kParam;
        b.shape = Shape{width};
      } else if (name == "running_mean" || name == "running_var") {
        b.kind = kBuffer;
        b.shape = Shape{width};
      } else {
        continue;  // dropout's mask: drawn from the seed
      }
      b.slot = {
          add(ctx, spec_.path + "." + name, b.shape,
              b.kind == kParam ? TensorKind::kParameter : TensorKind::kBuffer),
          b.shape.numel()};
    }
  }

  Status Init(float* params, float* buffers, uint32_t seed) override {
    const OpInfo& op = *spec_.op;
    for (int k = 1; k < op.num_inputs(); ++k) {
      const Bind& b = bind_[k];
      if (b.kind == kNone) continue;
      const std::string_view name = op.inputs[k].name;
      float* at = (b.kind == kParam ? params : buffers) + b.slot.offset;
      if (b.shape.rank == 2) {  // swiglu's W and V: fan_in = the input width
        if (Status s = InitWeight(spec_.init, ParamSeed(seed, b.slot.offset),
                                  b.shape[1], b.shape[0], at);
            !s.ok())
          return s;
        continue;
      }
      // PyTorch's starts: prelu 0.25 (init), norm weight 1, bias 0,
      // running_mean 0, running_var 1.
      float v = name == "running_var" || name == "weight" ? 1.0f : 0.0f;
      if (std::string_view(op.id) == "prelu")
        v = static_cast<float>(spec_.prelu_init);
      std::fill(at, at + b.slot.size, v);
    }
    return {};
  }

  void Plan(ActivationArena* acts) override {
    ws_ = acts->Add(spec_.sizes.ws_row, spec_.sizes.ws_fixed);
    for (int k = 0; k < spec_.op->num_aux(); ++k)
      aux_[k] = acts->Add(spec_.sizes.aux_row[k], spec_.sizes.aux_fixed[k]);
  }

  void Forward(const Pass& p, const float* x, float* y) override {
    Frame f(*this, p, x, y);
    spec_.op->impl.gen_fwd(f.call);
  }

  void Backward(const Pass& p, const float* x, const float* y, const float* dy,
                float* dx) override {
    Frame f(*this, p, x, const_cast<float*>(y));
    float* din[kMaxInputs] = {dx};
    for (int k = 1; k < spec_.op->num_inputs(); ++k)
      if (bind_[k].kind == kParam) din[k] = p.grads + bind_[k].slot.offset;
    double dp[kMaxParams] = {};
    f.call.dy = dy;
    f.call.din = din;
    f.call.dp = dp;
    spec_.op->impl.gen_bwd(f.call);
  }

  void Commit(const Pass& p) override {
    const OpInfo& op = *spec_.op;
    for (int a = 0; a < op.num_aux(); ++a) {
      const int k = CommittedInput(a);
      if (k < 0) continue;
      const float* v = p.acts->Ptr(aux_[a]);
      std::copy(v, v + bind_[k].slot.size, p.buffers + bind_[k].slot.offset);
    }
  }
  bool Commits() const override {
    for (int a = 0; a < spec_.op->num_aux(); ++a)
      if (CommittedInput(a) >= 0) return true;
    return false;
  }

 private:
  enum Kind { kNone, kParam, kBuffer };
  // The buffer input that secondary output a is the new value of (-1: none).
  int CommittedInput(int a) const {
    const OpInfo& op = *spec_.op;
    const int k = op.InputIndex(op.aux[a]);
    return k >= 0 && bind_[k].kind == kBuffer ? k : -1;
  }
  struct Bind {
    Kind kind = kNone;
    Shape shape;
    TensorSlot slot;
  };

  // The GenCall of one pass, built on the stack.
  struct Frame {
    const float* in[kMaxInputs] = {};
    Shape shapes[kMaxInputs];
    double p[kMaxParams];
    float* aux[kMaxAux] = {};
    Shape aux_shapes[kMaxAux];
    GenCall<float> call;
    Frame(const GeneralLayer& l, const Pass& pass, const float* x, float* y) {
      const OpInfo& op = *l.spec_.op;
      const Shape xs{pass.rows, l.spec_.in_width};
      in[0] = x;
      shapes[0] = xs;
      for (int k = 1; k < op.num_inputs(); ++k) {
        const Bind& b = l.bind_[k];
        if (b.kind == kNone) continue;
        in[k] = (b.kind == kParam ? pass.params : pass.buffers) + b.slot.offset;
        shapes[k] = b.shape;
      }
      const double* params = l.ParamsFor(pass, p);
      for (int a = 0; a < op.num_aux(); ++a) {
        aux[a] = pass.acts->Ptr(l.aux_[a]);
        aux_shapes[a] = Shape{pass.acts->SlotFloats(l.aux_[a], pass.rows)};
      }
      call = GenCall<float>{.in = in,
                            .in_shape = shapes,
                            .p = params,
                            .out = y,
                            .out_shape = Shape{pass.rows, l.spec_.out_width},
                            .ws = pass.acts->Ptr(l.ws_),
                            .aux = aux,
                            .aux_shape = aux_shapes};
    }
  };

  Bind bind_[kMaxInputs];
  int ws_ = -1;
  int aux_[kMaxAux] = {};
};

// Residual blocks: the model computes x + f(x) around their layers.
class ResidualLayer : public Layer {
 public:
  using Layer::Layer;
  void Forward(const Pass&, const float*, float*) override {}
  void Backward(const Pass&, const float*, const float*, const float*,
                float*) override {}
};

}  // namespace

std::unique_ptr<Layer> MakeLayer(const LayerSpec& spec, int index) {
  switch (spec.type) {
    case LayerType::kLinear:
      return std::make_unique<LinearLayer>(spec, index);
    case LayerType::kActivation:
      if (!spec.op) return std::make_unique<FormulaLayer>(spec, index);
      if (spec.op->form == Form::General)
        return std::make_unique<GeneralLayer>(spec, index);  // prelu
      return std::make_unique<PointwiseLayer>(spec, index);
    case LayerType::kResidual:
      return std::make_unique<ResidualLayer>(spec, index);
    case LayerType::kEmbedding:
      return std::make_unique<EmbeddingLayer>(spec, index);
    case LayerType::kPositional:
      return std::make_unique<PositionalLayer>(spec, index);
    case LayerType::kAttention:
      return MakeAttentionLayer(spec, index);
    default:
      return std::make_unique<GeneralLayer>(spec, index);
  }
}

}  // namespace dlmath::model

namespace dlmath {
int64_t ModelArenaAllocations() { return model::g_arena_allocations.load(); }
}  // namespace dlmath
