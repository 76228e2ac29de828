// The model: building the layers and arenas from the spec (llm.c's
// malloc_and_point_parameters: a table of (name, shape, offset) into one
// arena per kind), the training step (forward, loss, backward, penalties,
// clipping, the optimizer's per-step update, the schedule) with its
// diagnostics and NaN guard, the resumable fit, and inference.
#include "core/src/model/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "core/src/gemm.h"
#include "core/src/kernels.h"
#include "core/src/model/json.h"
#include "core/src/random.h"
#include "core/src/steps.h"
#include "dlmath/dlmath.h"

namespace dlmath {

using model::Clip;
using model::Layer;
using model::LayerSpec;
using model::Pass;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Status Bad(ErrorCode code, const std::string& what, const std::string& why) {
  return Status(code, "", what, what + ": " + why);
}

uint32_t SeedOf(uint32_t model_seed, int layer, int64_t step) {
  uint32_t h =
      Mix32Scalar(model_seed + 0x9E3779B9u * static_cast<uint32_t>(layer + 1));
  h = Mix32Scalar(h ^ static_cast<uint32_t>(step));
  return Mix32Scalar(h ^
                     static_cast<uint32_t>(static_cast<uint64_t>(step) >> 32));
}

// Flattens the spec tree into layer order (a residual before its layers)
// and the forward order (a residual after them).
void Flatten(const std::vector<LayerSpec>& list, int parent, int src,
             Model::Impl* m, int* out_last) {
  int prev = src;
  for (const LayerSpec& l : list) {
    const int i = static_cast<int>(m->infos.size());
    LayerInfo info;
    info.type = l.type;
    info.path = l.path;
    info.spec = l.where;
    info.op = l.op;
    info.formula = l.formula;
    info.in_width = l.in_width;
    info.out_width = l.out_width;
    info.parent = parent;
    std::copy(l.p, l.p + kMaxParams, info.p);
    m->infos.push_back(info);
    m->specs.push_back(&l);
    m->src.push_back(prev);
    m->tail.push_back(-1);
    if (l.type == LayerType::kResidual) {
      int inner_last = -1;
      Flatten(l.layers, i, prev, m, &inner_last);
      m->infos[i].first_child = i + 1;
      m->infos[i].end_child = static_cast<int>(m->infos.size());
      m->tail[i] = inner_last;
    }
    m->order.push_back(i);
    prev = i;
  }
  *out_last = prev;
}

// The params of `op` (registry order): its defaults, then `set` by name.
void OpParams(const OpInfo& op,
              std::initializer_list<std::pair<std::string_view, double>> set,
              double* p) {
  for (int k = 0; k < op.num_params(); ++k) p[k] = op.params[k].def;
  for (const auto& [name, value] : set) p[op.ParamIndex(name)] = value;
}

// Adds a named tensor to the table (Layer::Declare's callback).
int64_t AddTensor(void* ctx, const std::string& name, const Shape& shape,
                  TensorKind kind) {
  auto* m = static_cast<Model::Impl*>(ctx);
  int64_t& total =
      kind == TensorKind::kParameter ? m->num_params : m->num_buffers;
  ParamEntry e;
  e.name = name;
  e.shape = shape;
  e.offset = total;
  e.kind = kind;
  e.layer = static_cast<int>(m->layers.size()) - 1;
  m->table.push_back(e);
  total += shape.numel();
  return e.offset;
}

// Sum and sum of squares of v, in double with four independent partial
// sums (diagnostics only: a short dependency chain, not a kernel's order).
struct Moments {
  double sum = 0, squares = 0;
};
Moments MomentsOf(const float* v, int64_t n) {
  double s[4] = {}, q[4] = {};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) {
      s[k] += v[i + k];
      q[k] += static_cast<double>(v[i + k]) * v[i + k];
    }
  for (; i < n; ++i) {
    s[0] += v[i];
    q[0] += static_cast<double>(v[i]) * v[i];
  }
  return {(s[0] + s[1]) + (s[2] + s[3]), (q[0] + q[1]) + (q[2] + q[3])};
}

}  // namespace

// ----- building
// ----------------------------------------------------------------

Status Model::Impl::Build() {
  int top_last = -1;
  Flatten(spec.layers, -1, -1, this, &top_last);
  last = top_last;
  for (size_t i = 0; i < infos.size(); ++i) {
    layers.push_back(model::MakeLayer(*specs[i], static_cast<int>(i)));
    infos[i].first_param = static_cast<int>(table.size());
    const int64_t before_layer = num_params;
    layers.back()->Declare(AddTensor, this);
    infos[i].end_param = static_cast<int>(table.size());
    param_begin.push_back(before_layer);
    if (num_params > kMaxModelParams)
      return Bad(ErrorCode::kTooLarge, infos[i].spec,
                 "the model reaches " + std::to_string(num_params) +
                     " trainable parameters here, above the limit of " +
                     std::to_string(kMaxModelParams));
    if (infos[i].type == LayerType::kLinear)
      penalized.push_back({table[infos[i].first_param].offset,
                           table[infos[i].first_param].shape.numel()});
    has_batch_norm = has_batch_norm || infos[i].type == LayerType::kBatchNorm;
  }

  // Arenas: parameters, gradients, the staged update, optimizer state,
  // buffers; per-layer pieces for clip_grad_norm.
  const int nl = static_cast<int>(infos.size());
  const int64_t state_size = OptimizerStateSize(*spec.optimizer, num_params);
  if (Status s = model::AllocateArena(num_params, "parameters", &params);
      !s.ok())
    return s;
  if (Status s = model::AllocateArena(num_params, "gradients", &grads); !s.ok())
    return s;
  if (Status s = model::AllocateArena(num_params, "staged update", &staging);
      !s.ok())
    return s;
  if (Status s = model::AllocateArena(state_size, "optimizer state", &state);
      !s.ok())
    return s;
  if (Status s = model::AllocateArena(num_buffers, "buffers", &buffers);
      !s.ok())
    return s;
  if (Status s = model::AllocateArena(nl, "clip pieces", &piece_sizes); !s.ok())
    return s;
  if (Status s = model::AllocateArena(nl, "layer norms", &layer_norms); !s.ok())
    return s;
  for (int i = 0; i < nl; ++i)
    piece_sizes.data()[i] = static_cast<float>(LayerParamFloats(i));
  for (int i = 0; i < nl; ++i)
    if (Status s = layers[i]->Init(params.data(), buffers.data(), spec.seed);
        !s.ok())
      return s;
  std::fill(grads.data(), grads.data() + num_params, 0.0f);
  lr = spec.opt_p[spec.optimizer->ParamIndex("lr")];
  OptimizerInit(*spec.optimizer, spec.opt_p, state.data(), num_params);

  // Activation slots: each layer's output and its gradient, then what the
  // layers ask for, the input gradient, ones, the loss's scratch.
  ones_width = spec.input;
  for (int i = 0; i < nl; ++i) {
    out_slot.push_back(acts.Add(infos[i].out_width, 0));
    dout_slot.push_back(acts.Add(infos[i].out_width, 0));
    ones_width = std::max({ones_width, infos[i].in_width, infos[i].out_width});
  }
  for (auto& l : layers) l->Plan(&acts);
  dx_slot = acts.Add(spec.input, 0);
  ones_slot = acts.Add(ones_width, 0);
  loss_ws_slot = acts.Add(spec.loss_sizes.ws_row, spec.loss_sizes.ws_fixed);
  loss_out_slot = acts.Add(0, 1);
  if (acts.RowsLimit() < std::max<int64_t>(spec.max_batch, 1))
    return Bad(ErrorCode::kTooLarge, "max_batch",
               std::to_string(std::max<int64_t>(spec.max_batch, 1)) +
                   " rows need " +
                   std::to_string(
                       acts.FloatsFor(std::max<int64_t>(spec.max_batch, 1))) +
                   " floats of activations, above the limit of " +
                   std::to_string(kMaxActivationFloats) + " (at most " +
                   std::to_string(acts.RowsLimit()) + " rows)");
  diag.assign(kDiagHeader + kLayerDiagStride * nl, 0.0f);
  if (spec.max_batch > 0) return EnsureCapacity(spec.max_batch);
  return {};
}

int64_t Model::Impl::LayerParamFloats(int layer) const {
  const size_t next = static_cast<size_t>(layer) + 1;
  return (next < param_begin.size() ? param_begin[next] : num_params) -
         param_begin[layer];
}

Status Model::Impl::EnsureCapacity(int64_t rows) {
  if (rows <= acts.capacity()) return {};
  if (rows > acts.RowsLimit())
    return Bad(ErrorCode::kTooLarge, "rows",
               std::to_string(rows) + " rows need " +
                   std::to_string(acts.FloatsFor(rows)) +
                   " floats of activations, above the limit of " +
                   std::to_string(kMaxActivationFloats) + " (at most " +
                   std::to_string(acts.RowsLimit()) + " rows at once)");
  if (Status s = acts.Layout(rows); !s.ok()) return s;
  for (auto& l : layers)
    if (Status s = l->Resize(rows); !s.ok()) return s;
  float* ones = acts.Ptr(ones_slot);
  std::fill(ones, ones + rows * ones_width, 1.0f);
  for (size_t i = 0; i < infos.size(); ++i) {
    if (infos[i].type != LayerType::kLinear) continue;
    const size_t o = infos[i].out_width, in = infos[i].in_width;
    const size_t r = static_cast<size_t>(rows);
    if (!GemmReserve(r, o, in) || !GemmReserve(r, in, o) ||
        !GemmReserve(o, in, r))
      return Bad(ErrorCode::kOutOfMemory, "rows",
                 "out of memory for the matrix products of " +
                     std::to_string(rows) + " rows");
  }
  return {};
}

Pass Model::Impl::MakePass(int64_t rows, bool training, bool backward) {
  Pass p;
  p.rows = rows;
  p.training = training;
  p.backward = backward;
  p.step = t;
  p.params = params.data();
  p.grads = grads.data();
  p.buffers = buffers.data();
  p.acts = &acts;
  p.ones = acts.Ptr(ones_slot);
  p.seed = SeedOf;
  p.model_seed = spec.seed;
  return p;
}

// ----- forward and backward
// ---------------------------------------------------

const float* Model::Impl::Forward(const Pass& p, const float* x) {
  for (int i : order) {
    const float* in = src[i] < 0 ? x : acts.Ptr(out_slot[src[i]]);
    float* y = acts.Ptr(out_slot[i]);
    if (infos[i].type == LayerType::kResidual) {
      const float* f = acts.Ptr(out_slot[tail[i]]);
      for (int64_t k = 0, n = p.rows * infos[i].out_width; k < n; ++k)
        y[k] = in[k] + f[k];
    } else {
      layers[i]->Forward(p, in, y);
    }
  }
  last_rows = p.rows;
  return acts.Ptr(out_slot[last]);
}

void Model::Impl::ZeroBackward(const Pass& p) {
  std::fill(grads.data(), grads.data() + num_params, 0.0f);
  for (size_t i = 0; i < infos.size(); ++i) {
    float* d = acts.Ptr(dout_slot[i]);
    std::fill(d, d + p.rows * infos[i].out_width, 0.0f);
  }
  float* dx = acts.Ptr(dx_slot);
  std::fill(dx, dx + p.rows * spec.input, 0.0f);
}

void Model::Impl::Backward(const Pass& p, const float* x, float* dx) {
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const int i = *it;
    const float* in = src[i] < 0 ? x : acts.Ptr(out_slot[src[i]]);
    const float* dy = acts.Ptr(dout_slot[i]);
    float* din = src[i] < 0 ? dx : acts.Ptr(dout_slot[src[i]]);
    if (infos[i].type == LayerType::kResidual) {
      // y = x + f(x): dy reaches both f's output and x.
      float* df = acts.Ptr(dout_slot[tail[i]]);
      for (int64_t k = 0, n = p.rows * infos[i].out_width; k < n; ++k) {
        df[k] += dy[k];
        if (din) din[k] += dy[k];
      }
      continue;
    }
    if (!din && !layers[i]->TakesNullDx()) din = acts.Ptr(dx_slot);
    layers[i]->Backward(p, in, acts.Ptr(out_slot[i]), dy, din);
  }
}

namespace {
// The loss's GenCall over [rows, outputs] and the targets.
struct LossFrame {
  const float* in[kMaxInputs] = {};
  Shape shapes[kMaxInputs];
  GenCall<float> call;
  LossFrame(Model::Impl& m, const Pass& p, const float* y) {
    const model::ModelSpec& s = m.spec;
    const int64_t o = s.outputs();
    in[0] = m.acts.Ptr(m.out_slot[m.last]);
    shapes[0] = Shape{p.rows, o};
    in[1] = y;
    shapes[1] = s.class_targets ? Shape{p.rows} : Shape{p.rows, o};
    if (s.loss_vector_input >= 0) {
      in[s.loss_vector_input] = s.loss_vector.data();
      shapes[s.loss_vector_input] = Shape{o};
    }
    call = GenCall<float>{.in = in,
                          .in_shape = shapes,
                          .p = s.loss_p,
                          .out = m.acts.Ptr(m.loss_out_slot),
                          .out_shape = Shape{},
                          .ws = m.acts.Ptr(m.loss_ws_slot)};
  }
};
}  // namespace

double Model::Impl::LossForward(const Pass& p, const float* y) {
  LossFrame f(*this, p, y);
  spec.loss->impl.gen_fwd(f.call);
  return f.call.out[0];
}

void Model::Impl::LossBackward(const Pass& p, const float* y, float seed) {
  LossFrame f(*this, p, y);
  float* din[kMaxInputs] = {acts.Ptr(dout_slot[last])};
  double dp[kMaxParams] = {};
  f.call.dy = &seed;
  f.call.din = din;
  f.call.dp = dp;
  spec.loss->impl.gen_bwd(f.call);
}

// The registry's own validation of the targets against this output (class
// ranges, -1/+1 labels, [0, 1] targets and probabilities). `full`: through
// Prepare, which also checks that Index inputs hold integers (FitBegin,
// once per data set); otherwise the loss's shape function alone, which
// allocates nothing on success (every Step).
Status Model::Impl::CheckTargets(const float* out, const float* y, int64_t rows,
                                 bool full) const {
  const OpInfo& op = *spec.loss;
  const int64_t o = spec.outputs();
  const int v = spec.loss_vector_input;
  Shape shapes[kMaxInputs] = {
      Shape{rows, o}, spec.class_targets ? Shape{rows} : Shape{rows, o}};
  const float* data[kMaxInputs] = {out, y};
  if (v >= 0) {
    shapes[v] = Shape{o};
    data[v] = spec.loss_vector.data();
  }
  Status s;
  if (full) {
    NamedTensor in[kMaxInputs];
    int count = 0;
    for (int k = 0; k < op.num_inputs(); ++k)
      if (data[k]) in[count++] = {op.inputs[k].name, {data[k], shapes[k]}};
    NamedParam params[kMaxParams];
    for (int k = 0; k < op.num_params(); ++k)
      params[k] = {op.params[k].name, spec.loss_p[k]};
    Call call;
    s = Prepare(op.id, std::span(in, count), std::span(params, op.num_params()),
                &call);
  } else {
    Shape out_shape, aux[kMaxAux];
    int64_t workspace = 0;
    s = op.impl.gen_shape(ShapeCtx{.op = op.id,
                                   .in = shapes,
                                   .data = data,
                                   .p = spec.loss_p,
                                   .out = &out_shape,
                                   .workspace = &workspace,
                                   .aux = aux});
  }
  if (s.ok()) return s;
  return Bad(s.code(), s.what() == "input" ? "loss" : "y", s.message());
}

// ----- the step -------------------------------------------------------------

double Model::Impl::Lr(int64_t step) const {
  double rate = lr;
  if (spec.schedule) {
    const OpInfo& op = *spec.schedule;
    double p[kMaxParams];
    std::copy(spec.sched_p, spec.sched_p + kMaxParams, p);
    int64_t at = step;
    if (op.ParamIndex("lr") >= 0) p[op.ParamIndex("lr")] = lr;
    if (&op == &Op(OpId::one_cycle_lr)) {
      p[op.ParamIndex("max_lr")] = lr;
      // It ends at total_steps (PyTorch raises past it): hold that value.
      at = std::min<int64_t>(
          at, static_cast<int64_t>(p[op.ParamIndex("total_steps")]));
    }
    rate = ScheduleAt(op, p, at);
  }
  if (step < spec.warmup)
    rate *= static_cast<double>(step + 1) / static_cast<double>(spec.warmup);
  return rate;
}

// The l1 and l2 penalties over the linear weights: their value, or (with
// backward) their gradient accumulated into grads.
double Model::Impl::Penalties(bool backward) {
  double total = 0;
  const double lams[2] = {spec.l1, spec.l2};
  for (int which = 0; which < 2; ++which) {
    if (lams[which] == 0) continue;
    double p[kMaxParams];
    OpParams(Op(which == 0 ? OpId::l1_penalty : OpId::l2_penalty),
             {{"lam", lams[which]}}, p);
    for (const model::TensorSlot& w : penalized) {
      const float* in[1] = {params.data() + w.offset};
      float* din[1] = {grads.data() + w.offset};
      const Shape shape{w.size};
      const float one = 1;
      float value = 0;
      double dp[kMaxParams] = {};
      GenCall<float> c{.in = in,
                       .in_shape = &shape,
                       .p = p,
                       .out = &value,
                       .out_shape = Shape{},
                       .dy = &one,
                       .din = din,
                       .dp = dp};
      if (backward) {
        (which == 0 ? L1PenaltyBackward : L2PenaltyBackward)(c);
      } else {
        (which == 0 ? L1PenaltyForward : L2PenaltyForward)(c);
      }
      total += value;
    }
  }
  return total;
}

Status Model::Impl::ForwardBackward(const Pass& p, const float* x,
                                    const float* y, bool validate,
                                    double* data_loss, double* penalty) {
  const float* out = Forward(p, x);
  if (validate)
    if (Status s = CheckTargets(out, y, p.rows, false); !s.ok()) return s;
  *data_loss = LossForward(p, y);
  *penalty = Penalties(false);
  ZeroBackward(p);
  LossBackward(p, y, 1.0f);
  Backward(p, x, nullptr);
  Penalties(true);
  return {};
}

Status Model::Impl::TrainStep(const float* x, const float* y, int64_t rows,
                              bool validate, double* loss_out) {
  if (Status s = EnsureCapacity(rows); !s.ok()) return s;
  const Pass p = MakePass(rows, true, true);
  double data_loss, penalty;
  if (Status s = ForwardBackward(p, x, y, validate, &data_loss, &penalty);
      !s.ok())
    return s;
  const double loss = data_loss + penalty;
  *loss_out = loss;
  auto diverged = [&](const std::string& what) {
    OptimizerInit(*spec.optimizer, spec.opt_p, state.data(), num_params);
    return Status(ErrorCode::kBadValue, "", "step",
                  "training stopped at step " + std::to_string(t + 1) + ": " +
                      what +
                      "; the weights are those before this step and the "
                      "optimizer state was reset (lower the learning rate, "
                      "clip the gradients or check the data)");
  };
  if (!std::isfinite(loss))
    return diverged("the loss is " +
                    std::string(std::isnan(loss) ? "NaN" : "infinite"));

  // Per layer: output mean and std, dead units, output gradient norm.
  const int nl = static_cast<int>(infos.size());
  float* d = diag.data();
  for (int i = 0; i < nl; ++i) {
    const float* v = acts.Ptr(out_slot[i]);
    const int64_t n = rows * infos[i].out_width;
    const Moments mo = MomentsOf(v, n);
    const double mean = mo.sum / n, s2 = mo.squares;
    float* ld = d + kDiagHeader + kLayerDiagStride * i;
    ld[kLayerActMean] = static_cast<float>(mean);
    ld[kLayerActStd] =
        static_cast<float>(std::sqrt(std::max(0.0, s2 / n - mean * mean)));
    const float* in = src[i] < 0 ? x : acts.Ptr(out_slot[src[i]]);
    ld[kLayerDeadFraction] =
        static_cast<float>(layers[i]->DeadFraction(p, in, v));
    ld[kLayerOutGradNorm] = static_cast<float>(
        std::sqrt(MomentsOf(acts.Ptr(dout_slot[i]), n).squares));
  }

  // Norms per layer and in total through clip_grad_norm (pieces = layers),
  // clipping with it or with clip_grad_value.
  auto clip_norm = [&](double max_norm, float* total, float* scale) {
    const float* in[2] = {grads.data(), piece_sizes.data()};
    const Shape shapes[2] = {Shape{num_params}, Shape{nl}};
    double cp[kMaxParams];
    OpParams(Op(OpId::clip_grad_norm),
             {{"max_norm", max_norm}, {"norm_type", 2}}, cp);
    float* aux[3] = {total, scale, layer_norms.data()};
    GenCall<float> c{.in = in,
                     .in_shape = shapes,
                     .p = cp,
                     .out = grads.data(),
                     .out_shape = shapes[0],
                     .aux = aux};
    ClipGradNormForward(c);
  };
  const double inf = std::numeric_limits<double>::infinity();
  float total = 0, scale = 1, after = 0, unused = 0;
  clip_norm(spec.clip == Clip::kNorm ? spec.clip_value : inf, &total, &scale);
  for (int i = 0; i < nl; ++i)
    d[kDiagHeader + kLayerDiagStride * i + kLayerGradNorm] =
        layer_norms.data()[i];
  if (!std::isfinite(total)) return diverged("the gradient is not finite");
  after = total * scale;
  if (spec.clip == Clip::kValue) {
    double v[kMaxParams];
    OpParams(Op(OpId::clip_grad_value), {{"clip_value", spec.clip_value}}, v);
    ClipGradValueForward(grads.data(), grads.data(), num_params, v);
    clip_norm(inf, &after, &unused);
  }

  // The update, staged: applied only if every parameter stays finite.
  const double rate = Lr(t);
  double op_p[kMaxParams];
  std::copy(spec.opt_p, spec.opt_p + kMaxParams, op_p);
  op_p[spec.optimizer->ParamIndex("lr")] = rate;
  OptimizerStep(*spec.optimizer, op_p, t + 1, params.data(), grads.data(),
                state.data(), staging.data(), num_params);
  bool finite = true;
  for (int i = 0; i < nl; ++i) {
    // The layer's parameters are one run of the arena (layer order).
    double delta = 0, before = 0, now = 0;
    const float* a = params.data() + param_begin[i];
    const float* b = staging.data() + param_begin[i];
    for (int64_t j = 0, n = LayerParamFloats(i); j < n; ++j) {
      const double dj = static_cast<double>(b[j]) - a[j];
      delta += dj * dj;
      before += static_cast<double>(a[j]) * a[j];
      now += static_cast<double>(b[j]) * b[j];
    }
    finite = finite && std::isfinite(now);
    float* ld = d + kDiagHeader + kLayerDiagStride * i;
    ld[kLayerWeightNorm] = static_cast<float>(std::sqrt(now));
    ld[kLayerUpdateRatio] =
        before > 0 ? static_cast<float>(std::sqrt(delta / before)) : 0.0f;
  }
  if (!finite)
    return diverged("the update would make a parameter non-finite (lr " +
                    std::to_string(rate) + ")");
  std::copy(staging.data(), staging.data() + num_params, params.data());
  for (auto& l : layers) l->Commit(p);
  ++t;
  d[kDiagLoss] = static_cast<float>(loss);
  d[kDiagDataLoss] = static_cast<float>(data_loss);
  d[kDiagLr] = static_cast<float>(rate);
  d[kDiagGradNorm] = total;
  d[kDiagClippedGradNorm] = after;
  d[kDiagStep] = static_cast<float>(t);
  d[kDiagRows] = static_cast<float>(rows);
  return {};
}

// ----- accuracy and evaluation
// -------------------------------------------------

bool Model::Impl::HasAccuracy() const {
  const std::string_view id = spec.loss->id;
  return spec.class_targets || id == "bce" || id == "bce_with_logits" ||
         id == "focal" || id == "hinge";
}

void Model::Impl::Correct(const float* out, const float* y, int64_t rows,
                          double* right, double* total) const {
  const int64_t o = spec.outputs();
  const std::string_view id = spec.loss->id;
  if (spec.class_targets) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = out + r * o;
      const int64_t best = std::max_element(row, row + o) - row;
      *right += best == static_cast<int64_t>(y[r]);
    }
    *total += static_cast<double>(rows);
    return;
  }
  // Binary targets, one per output: logits (threshold 0), probabilities
  // (0.5) or -1/+1 labels (0).
  const float cut = id == "bce" ? 0.5f : 0.0f;
  const float label_cut = id == "hinge" ? 0.0f : 0.5f;
  for (int64_t k = 0; k < rows * o; ++k)
    *right += (out[k] > cut) == (y[k] > label_cut);
  *total += static_cast<double>(rows * o);
}

Status Model::Impl::EvaluateChunks(const float* x, const float* y, int64_t n,
                                   int64_t max_rows, bool validate,
                                   double* loss, double* accuracy) {
  const int64_t t_width = spec.class_targets ? 1 : spec.outputs();
  const bool sum = spec.loss_sum;
  double total = 0, right = 0, counted = 0;
  for (int64_t start = 0; start < n; start += max_rows) {
    const int64_t rows = std::min(max_rows, n - start);
    const Pass p = MakePass(rows, false, false);
    const float* out = Forward(p, x + start * spec.input);
    const float* yy = y + start * t_width;
    if (validate)
      if (Status s = CheckTargets(out, yy, rows, false); !s.ok()) return s;
    const double l = LossForward(p, yy);
    total += sum ? l : l * static_cast<double>(rows);
    Correct(out, yy, rows, &right, &counted);
  }
  *loss = sum ? total : total / static_cast<double>(n);
  *accuracy = HasAccuracy() ? right / counted : kNaN;
  return {};
}

// ----- fit
// ---------------------------------------------------------------------

namespace {

Status CheckFitOptions(const FitOptions& o) {
  auto range = [](const char* key, double v, double lo, double hi) {
    if (v >= lo && v <= hi) return Status{};
    return Bad(ErrorCode::kBadParam, std::string("fit.") + key,
               "must be in [" + std::to_string(static_cast<int64_t>(lo)) +
                   ", " + std::to_string(static_cast<int64_t>(hi)) + "], got " +
                   std::to_string(v));
  };
  if (Status s = range("epochs", o.epochs, 1, 1e7); !s.ok()) return s;
  if (Status s = range("batchSize", o.batch_size, 1, 1 << 20); !s.ok())
    return s;
  if (!(o.validation_split >= 0 && o.validation_split < 1))
    return Bad(ErrorCode::kBadParam, "fit.validationSplit",
               "must be in [0, 1), got " + std::to_string(o.validation_split));
  if (Status s = range("earlyStopping.patience", o.patience, 0, 1e7); !s.ok())
    return s;
  if (!(o.min_delta >= 0) || !std::isfinite(o.min_delta))
    return Bad(
        ErrorCode::kBadParam, "fit.earlyStopping.minDelta",
        "must be a finite number >= 0, got " + std::to_string(o.min_delta));
  return range("logSteps", o.log_steps, 0, 1e6);
}

// Fisher-Yates from a counter-based generator: (seed, epoch) -> one order.
void Shuffle(std::vector<uint32_t>* perm, uint32_t seed, int64_t epoch) {
  const uint32_t key = Mix32Scalar(seed ^ 0x2545F491u) ^
                       Mix32Scalar(static_cast<uint32_t>(epoch));
  for (size_t i = 0; i < perm->size(); ++i)
    (*perm)[i] = static_cast<uint32_t>(i);
  for (size_t i = perm->size(); i > 1; --i) {
    const uint32_t r = Mix32Scalar(Mix32Scalar(static_cast<uint32_t>(i) + key));
    std::swap((*perm)[i - 1], (*perm)[r % i]);
  }
}

}  // namespace

Status ParseFitOptions(std::string_view text, FitOptions* out) {
  json::Value root;
  if (Status s = json::Parse(text, "fit", &root); !s.ok()) return s;
  if (root.type != json::Type::kObject)
    return Bad(ErrorCode::kBadType, "fit",
               "must be an object such as {\"epochs\": 10, \"batchSize\": "
               "32}");
  FitOptions o;
  const std::vector<std::string_view> keys = {
      "epochs",          "batchSize",     "shuffle",
      "validationSplit", "earlyStopping", "logSteps"};
  auto number = [&](const json::Value* v, const std::string& field,
                    double* to) {
    if (!v) return Status{};
    if (v->type != json::Type::kNumber)
      return Bad(
          ErrorCode::kBadType, field,
          std::string("must be a number, got ") + json::TypeName(v->type));
    *to = v->number;
    return Status{};
  };
  auto integer = [&](const json::Value* v, const std::string& field,
                     int64_t* to) {
    double d = static_cast<double>(*to);
    if (Status s = number(v, field, &d); !s.ok()) return s;
    if (std::floor(d) != d || std::fabs(d) > 9e15)
      return Bad(ErrorCode::kBadParam, field,
                 "must be an integer, got " + std::to_string(d));
    *to = static_cast<int64_t>(d);
    return Status{};
  };
  auto boolean = [&](const json::Value* v, const std::string& field, bool* to) {
    if (!v) return Status{};
    if (v->type != json::Type::kBool)
      return Bad(
          ErrorCode::kBadType, field,
          std::string("must be true or false, got ") + json::TypeName(v->type));
    *to = v->boolean;
    return Status{};
  };
  auto unknown = [](const json::Value& obj, const std::string& where,
                    const std::vector<std::string_view>& known) {
    for (const auto& [key, value] : obj.members) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      const auto near = NearestNames(key, known);
      return Bad(ErrorCode::kUnknownParam, where,
                 "unknown key '" + key + "'" +
                     (near.empty()
                          ? ""
                          : " (did you mean '" + std::string(near[0]) + "'?)"));
    }
    return Status{};
  };
  if (Status s = unknown(root, "fit", keys); !s.ok()) return s;
  if (Status s = integer(root.Find("epochs"), "fit.epochs", &o.epochs); !s.ok())
    return s;
  if (Status s =
          integer(root.Find("batchSize"), "fit.batchSize", &o.batch_size);
      !s.ok())
    return s;
  if (Status s = boolean(root.Find("shuffle"), "fit.shuffle", &o.shuffle);
      !s.ok())
    return s;
  if (Status s = number(root.Find("validationSplit"), "fit.validationSplit",
                        &o.validation_split);
      !s.ok())
    return s;
  if (Status s = integer(root.Find("logSteps"), "fit.logSteps", &o.log_steps);
      !s.ok())
    return s;
  if (const json::Value* es = root.Find("earlyStopping");
      es && es->type != json::Type::kNull) {
    if (es->type != json::Type::kObject)
      return Bad(ErrorCode::kBadType, "fit.earlyStopping",
                 "must be an object such as {\"patience\": 5}");
    o.early_stopping = true;
    if (Status s = unknown(*es, "fit.earlyStopping",
                           {"patience", "minDelta", "restoreBest"});
        !s.ok())
      return s;
    if (Status s = integer(es->Find("patience"), "fit.earlyStopping.patience",
                           &o.patience);
        !s.ok())
      return s;
    if (Status s = number(es->Find("minDelta"), "fit.earlyStopping.minDelta",
                          &o.min_delta);
        !s.ok())
      return s;
    if (Status s = boolean(es->Find("restoreBest"),
                           "fit.earlyStopping.restoreBest", &o.restore_best);
        !s.ok())
      return s;
  }
  if (Status s = CheckFitOptions(o); !s.ok()) return s;
  *out = o;
  return {};
}

void Model::Impl::EndEpoch() {
  Fit& f = fit;
  EpochStats e;
  e.epoch = f.epoch + 1;
  const bool sum = spec.loss_sum;
  e.train_loss = sum ? f.loss_sum : f.loss_sum / static_cast<double>(f.n_train);
  e.train_accuracy =
      f.counted > 0 && !std::isnan(f.correct) ? f.correct / f.counted : kNaN;
  e.val_loss = e.val_accuracy = kNaN;
  if (f.n_val > 0) {
    const int64_t t_width = spec.class_targets ? 1 : spec.outputs();
    // Chunks of the capacity the fit laid out: no allocation mid-fit.
    (void)EvaluateChunks(f.x.data() + f.n_train * spec.input,
                         f.y.data() + f.n_train * t_width, f.n_val,
                         acts.capacity(), false, &e.val_loss, &e.val_accuracy);
  }
  history.push_back(e);
  ++f.epoch;
  f.batch_index = 0;
  f.loss_sum = f.correct = f.counted = 0;
  if (f.options.early_stopping) {
    const double watched = f.n_val > 0 ? e.val_loss : e.train_loss;
    if (watched < f.best_value - f.options.min_delta) {
      f.best_value = watched;
      f.best_epoch = e.epoch;
      f.wait = 0;
      if (f.options.restore_best) {
        std::copy(params.data(), params.data() + num_params, f.best.data());
        std::copy(buffers.data(), buffers.data() + num_buffers,
                  f.best.data() + num_params);
      }
    } else if (++f.wait > f.options.patience) {
      if (f.options.restore_best && f.best_epoch > 0) {
        std::copy(f.best.data(), f.best.data() + num_params, params.data());
        std::copy(f.best.data() + num_params,
                  f.best.data() + num_params + num_buffers, buffers.data());
      }
      f.state = FitState::kEarlyStopped;
      return;
    }
  }
  if (f.epoch == f.options.epochs) {
    f.state = FitState::kFinished;
    return;
  }
  if (f.options.shuffle) Shuffle(&f.perm, spec.seed, f.epoch);
}

// ----- Model
// -------------------------------------------------------------------

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

Status Model::Create(std::string_view spec_json, std::unique_ptr<Model>* out) {
  auto impl = std::make_unique<Impl>();
  if (Status s = model::ParseSpec(spec_json, &impl->spec); !s.ok()) return s;
  if (Status s = impl->Build(); !s.ok()) return s;
  out->reset(new Model(std::move(impl)));
  return {};
}

int64_t Model::inputs() const { return impl_->spec.input; }
int64_t Model::outputs() const { return impl_->spec.outputs(); }
bool Model::ClassTargets() const { return impl_->spec.class_targets; }
int64_t Model::TargetWidth() const {
  return impl_->spec.class_targets ? 1 : impl_->spec.outputs();
}
bool Model::HasAccuracy() const { return impl_->HasAccuracy(); }
const std::vector<LayerInfo>& Model::layers() const { return impl_->infos; }

std::string Model::SpecJson() const {
  model::ModelSpec copy = impl_->spec;
  copy.opt_p[copy.optimizer->ParamIndex("lr")] = impl_->lr;
  return model::WriteSpec(copy);
}

const std::vector<ParamEntry>& Model::ParameterTable() const {
  return impl_->table;
}
const ParamEntry* Model::FindParameter(std::string_view name) const {
  for (const ParamEntry& e : impl_->table)
    if (e.name == name) return &e;
  return nullptr;
}
float* Model::parameters() { return impl_->params.data(); }
const float* Model::parameters() const { return impl_->params.data(); }
int64_t Model::num_parameters() const { return impl_->num_params; }
const float* Model::gradients() const { return impl_->grads.data(); }
float* Model::buffers() { return impl_->buffers.data(); }
const float* Model::buffers() const { return impl_->buffers.data(); }
int64_t Model::num_buffers() const { return impl_->num_buffers; }

namespace {
Status UnknownParameter(const Model& m, std::string_view name) {
  std::vector<std::string_view> names;
  for (const ParamEntry& e : m.ParameterTable()) names.push_back(e.name);
  const auto near = NearestNames(name, names);
  std::string hint = near.empty()
                         ? std::string(" (see the parameter table)")
                         : " (did you mean '" + std::string(near[0]) + "'?)";
  return Bad(ErrorCode::kUnknownParam, "parameter",
             "the model has no parameter or buffer '" + std::string(name) +
                 "'" + hint);
}
}  // namespace

Status Model::GetParameter(std::string_view name, float* out, int64_t n) const {
  const ParamEntry* e = FindParameter(name);
  if (!e) return UnknownParameter(*this, name);
  if (n != e->shape.numel() || !out)
    return Bad(ErrorCode::kBadShape, e->name,
               "has " + std::to_string(e->shape.numel()) + " values " +
                   e->shape.str() + ", got room for " + std::to_string(n));
  const float* base = e->kind == TensorKind::kParameter ? impl_->params.data()
                                                        : impl_->buffers.data();
  std::copy(base + e->offset, base + e->offset + n, out);
  return {};
}

Status Model::SetParameter(std::string_view name, const float* data,
                           int64_t n) {
  const ParamEntry* e = FindParameter(name);
  if (!e) return UnknownParameter(*this, name);
  if (n != e->shape.numel() || !data)
    return Bad(ErrorCode::kBadShape, e->name,
               "has " + std::to_string(e->shape.numel()) + " values " +
                   e->shape.str() + ", got " + std::to_string(n));
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(data[i]))
      return Bad(ErrorCode::kBadValue, e->name,
                 "value [" + std::to_string(i) + "] is not finite");
  float* base = e->kind == TensorKind::kParameter ? impl_->params.data()
                                                  : impl_->buffers.data();
  std::copy(data, data + n, base + e->offset);
  return {};
}

Status Model::SetParameterValue(std::string_view name, int64_t index,
                                float value) {
  const ParamEntry* e = FindParameter(name);
  if (!e) return UnknownParameter(*this, name);
  if (index < 0 || index >= e->shape.numel())
    return Bad(ErrorCode::kBadValue, e->name,
               "index " + std::to_string(index) + " is outside its " +
                   std::to_string(e->shape.numel()) + " values " +
                   e->shape.str());
  if (!std::isfinite(value))
    return Bad(ErrorCode::kBadValue, e->name, "the value is not finite");
  float* base = e->kind == TensorKind::kParameter ? impl_->params.data()
                                                  : impl_->buffers.data();
  base[e->offset + index] = value;
  return {};
}

double Model::lr() const { return impl_->lr; }
Status Model::SetLearningRate(double lr) {
  if (!(lr >= 0) || !std::isfinite(lr))
    return Bad(ErrorCode::kBadParam, "lr",
               "must be a finite number >= 0, got " + std::to_string(lr));
  impl_->lr = lr;
  return {};
}
int64_t Model::step() const { return impl_->t; }
void Model::ResetOptimizer() {
  OptimizerInit(*impl_->spec.optimizer, impl_->spec.opt_p, impl_->state.data(),
                impl_->num_params);
  impl_->t = 0;
}

namespace {
Status CheckRows(const float* x, const float* y, int64_t rows, bool need_y) {
  if (rows < 1)
    return Bad(ErrorCode::kBadShape, "rows",
               "must be at least 1, got " + std::to_string(rows));
  if (!x || (need_y && !y))
    return Bad(ErrorCode::kBadValue, !x ? "x" : "y", "is null");
  return {};
}
}  // namespace

Status Model::Step(const float* x, const float* y, int64_t rows) {
  if (Status s = CheckRows(x, y, rows, true); !s.ok()) return s;
  double loss;
  return impl_->TrainStep(x, y, rows, true, &loss);
}

Status Model::ComputeGradients(const float* x, const float* y, int64_t rows) {
  Impl& m = *impl_;
  if (Status s = CheckRows(x, y, rows, true); !s.ok()) return s;
  if (Status s = m.EnsureCapacity(rows); !s.ok()) return s;
  const Pass p = m.MakePass(rows, true, true);
  double data_loss, penalty;
  if (Status s = m.ForwardBackward(p, x, y, true, &data_loss, &penalty);
      !s.ok())
    return s;
  for (auto& l : m.layers) l->Commit(p);
  return {};
}

Status Model::FitBegin(const float* x, const float* y, int64_t n,
                       std::string_view options_json) {
  FitOptions o;
  if (Status s = ParseFitOptions(options_json, &o); !s.ok()) return s;
  return FitBegin(x, y, n, o);
}

Status Model::FitBegin(const float* x, const float* y, int64_t n,
                       const FitOptions& options) {
  Impl& m = *impl_;
  Impl::Fit& f = m.fit;
  f.state = FitState::kIdle;
  if (Status s = CheckFitOptions(options); !s.ok()) return s;
  if (Status s = CheckRows(x, y, n, true); !s.ok()) return s;
  const int64_t in = m.spec.input, tw = TargetWidth(), o = outputs();
  if (n > kMaxElements / std::max(in, o))
    return Bad(ErrorCode::kTooLarge, "n",
               std::to_string(n) + " examples exceed the limit of " +
                   std::to_string(kMaxElements) + " floats per array");
  // The registry checks every target once here (steps then skip it); the
  // output is a placeholder that every loss accepts.
  {
    Buffer placeholder;
    if (Status s = model::AllocateArena(n * o, "target check", &placeholder);
        !s.ok())
      return s;
    std::fill(placeholder.data(), placeholder.data() + n * o, 0.5f);
    if (Status s = m.CheckTargets(placeholder.data(), y, n, true); !s.ok())
      return s;
  }
  f.options = options;
  f.n = n;
  f.n_val = static_cast<int64_t>(std::floor(n * options.validation_split));
  f.n_train = n - f.n_val;
  f.batch = std::min(options.batch_size, f.n_train);
  f.batches = (f.n_train + f.batch - 1) / f.batch;
  if (m.has_batch_norm && (f.batch < 2 || f.n_train % f.batch == 1))
    return Bad(ErrorCode::kBadParam, "fit.batchSize",
               "batch_norm needs at least 2 rows per training batch; " +
                   std::to_string(f.n_train) +
                   " training examples in batches of " +
                   std::to_string(f.batch) + " leave a batch of 1 row");
  if (Status s = m.EnsureCapacity(f.batch); !s.ok()) return s;
  const int64_t stride = DiagnosticsStride();
  const bool best = options.early_stopping && options.restore_best;
  if (Status s = model::AllocateArena(n * in, "fit inputs", &f.x); !s.ok())
    return s;
  if (Status s = model::AllocateArena(n * tw, "fit targets", &f.y); !s.ok())
    return s;
  if (Status s = model::AllocateArena(f.batch * in, "batch inputs", &f.bx);
      !s.ok())
    return s;
  if (Status s = model::AllocateArena(f.batch * tw, "batch targets", &f.by);
      !s.ok())
    return s;
  if (Status s = model::AllocateArena(best ? m.num_params + m.num_buffers : 0,
                                      "best weights", &f.best);
      !s.ok())
    return s;
  if (Status s = model::AllocateArena(options.log_steps * stride,
                                      "diagnostics log", &f.log);
      !s.ok())
    return s;
  std::copy(x, x + n * in, f.x.data());
  std::copy(y, y + n * tw, f.y.data());
  f.perm.resize(f.n_train);
  for (int64_t i = 0; i < f.n_train; ++i) f.perm[i] = static_cast<uint32_t>(i);
  if (options.shuffle) Shuffle(&f.perm, m.spec.seed, 0);
  m.history.clear();
  m.history.reserve(std::min<int64_t>(options.epochs, 100000));
  f.epoch = f.batch_index = 0;
  f.loss_sum = f.correct = f.counted = 0;
  f.best_epoch = f.wait = 0;
  f.best_value = std::numeric_limits<double>::infinity();
  f.log_rows = 0;
  f.last_loss = kNaN;
  f.state = FitState::kRunning;
  return {};
}

Status Model::FitRun(int64_t max_steps, FitProgress* progress) {
  Impl& m = *impl_;
  Impl::Fit& f = m.fit;
  const int64_t in = m.spec.input, tw = TargetWidth();
  const int64_t stride = DiagnosticsStride();
  const int64_t cap = f.options.log_steps;
  int64_t logged = 0;
  Status status;
  int64_t steps = 0;
  while (f.state == FitState::kRunning && steps < max_steps) {
    const int64_t start = f.batch_index * f.batch;
    const int64_t rows = std::min(f.batch, f.n_train - start);
    for (int64_t r = 0; r < rows; ++r) {
      const uint32_t e = f.perm[start + r];
      std::copy(f.x.data() + e * in, f.x.data() + (e + 1) * in,
                f.bx.data() + r * in);
      std::copy(f.y.data() + e * tw, f.y.data() + (e + 1) * tw,
                f.by.data() + r * tw);
    }
    double loss;
    status = m.TrainStep(f.bx.data(), f.by.data(), rows, false, &loss);
    if (!status.ok()) {
      f.state = FitState::kDiverged;
      break;
    }
    ++steps;
    f.last_loss = loss;
    if (cap > 0) {
      std::copy(m.diag.begin(), m.diag.end(),
                f.log.data() + (logged % cap) * stride);
      ++logged;
    }
    f.loss_sum += m.spec.loss_sum
                      ? m.diag[kDiagDataLoss]
                      : m.diag[kDiagDataLoss] * static_cast<double>(rows);
    if (m.HasAccuracy())
      m.Correct(m.acts.Ptr(m.out_slot[m.last]), f.by.data(), rows, &f.correct,
                &f.counted);
    if (++f.batch_index == f.batches) m.EndEpoch();
  }
  // The log oldest first.
  if (logged > cap && cap > 0)
    std::rotate(f.log.data(), f.log.data() + (logged % cap) * stride,
                f.log.data() + cap * stride);
  f.log_rows = std::min(logged, cap);
  if (progress) {
    FitProgress& p = *progress;
    p.state = f.state;
    p.step = m.t;
    p.epoch = f.epoch;
    p.epochs = f.options.epochs;
    p.batch = f.batch_index;
    p.batches_per_epoch = f.batches;
    p.steps_run = steps;
    p.loss = f.last_loss;
    p.has_epoch = !m.history.empty();
    if (p.has_epoch) p.last_epoch = m.history.back();
    p.best_epoch = f.best_epoch;
    p.best = f.best_value;
  }
  return status;
}

Status Model::Fit(const float* x, const float* y, int64_t n,
                  const FitOptions& options, FitProgress* progress) {
  if (Status s = FitBegin(x, y, n, options); !s.ok()) return s;
  FitProgress local;
  FitProgress* p = progress ? progress : &local;
  do {
    if (Status s = FitRun(std::numeric_limits<int64_t>::max(), p); !s.ok())
      return s;
  } while (p->state == FitState::kRunning);
  return {};
}

const std::vector<EpochStats>& Model::history() const { return impl_->history; }

int Model::DiagnosticsStride() const {
  return kDiagHeader + kLayerDiagStride * static_cast<int>(impl_->infos.size());
}
const float* Model::Diagnostics() const { return impl_->diag.data(); }
const float* Model::DiagnosticsLog(int64_t* rows) const {
  *rows = impl_->fit.log_rows;
  return impl_->fit.log.data();
}

// ----- inference
// -----------------------------------------------------------------

namespace {
// Rows per chunk of an inference call of n rows: the capacity, grown for
// it while the arena stays within kInferenceFloats (a 100 x 100 grid of a
// small network runs in one chunk, so every layer's map is readable after).
constexpr int64_t kInferenceFloats = int64_t{1} << 24;
Status ChunkRows(Model::Impl& m, int64_t n, int64_t* rows) {
  int64_t fit = m.acts.capacity();
  while (fit < n && m.acts.FloatsFor(fit * 2) <= kInferenceFloats &&
         fit * 2 <= m.acts.RowsLimit())
    fit = std::max<int64_t>(fit * 2, 1);
  *rows = std::max<int64_t>(std::min(n, std::max<int64_t>(fit, 1)), 1);
  return m.EnsureCapacity(*rows);
}
}  // namespace

Status Model::Predict(const float* x, int64_t n, float* out) {
  Impl& m = *impl_;
  if (Status s = CheckRows(x, out, n, true); !s.ok()) return s;
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  const int64_t o = outputs();
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const float* y =
        m.Forward(m.MakePass(rows, false, false), x + start * m.spec.input);
    std::copy(y, y + rows * o, out + start * o);
  }
  return {};
}

Status Model::Evaluate(const float* x, const float* y, int64_t n, double* loss,
                       double* accuracy) {
  Impl& m = *impl_;
  if (Status s = CheckRows(x, y, n, true); !s.ok()) return s;
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  return m.EvaluateChunks(x, y, n, chunk, true, loss, accuracy);
}

Status Model::LayerOutput(int layer, const float** data, int64_t* rows,
                          int64_t* width) const {
  const Impl& m = *impl_;
  if (layer < 0 || layer >= static_cast<int>(m.infos.size()))
    return Bad(ErrorCode::kBadValue, "layer",
               "must be in [0, " + std::to_string(m.infos.size()) + "), got " +
                   std::to_string(layer));
  if (m.last_rows == 0)
    return Bad(ErrorCode::kBadValue, "layer",
               "no forward has run yet (Step, Predict, ...)");
  *data = m.acts.Ptr(m.out_slot[layer]);
  *rows = m.last_rows;
  *width = m.infos[layer].out_width;
  return {};
}

Status Model::InputGradient(const float* x, const float* y, int64_t n,
                            float* dx) {
  Impl& m = *impl_;
  if (Status s = CheckRows(x, y, n, true); !s.ok()) return s;
  if (!dx) return Bad(ErrorCode::kBadValue, "dx", "is null");
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  const int64_t in = m.spec.input, tw = TargetWidth();
  const bool sum = m.spec.loss_sum;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const Pass p = m.MakePass(rows, false, true);
    const float* xs = x + start * in;
    const float* ys = y + start * tw;
    const float* out = m.Forward(p, xs);
    if (Status s = m.CheckTargets(out, ys, rows, false); !s.ok()) return s;
    m.LossForward(p, ys);
    m.ZeroBackward(p);
    // 'mean' divides by the rows: seed with rows to get the summed loss.
    m.LossBackward(p, ys, sum ? 1.0f : static_cast<float>(rows));
    float* d = m.acts.Ptr(m.dx_slot);
    m.Backward(p, xs, d);
    std::copy(d, d + rows * in, dx + start * in);
  }
  return {};
}

Status Model::OutputGradient(const float* x, int64_t n, int64_t unit,
                             float* dx) {
  Impl& m = *impl_;
  if (Status s = CheckRows(x, dx, n, true); !s.ok()) return s;
  const int64_t o = outputs(), in = m.spec.input;
  if (unit < 0 || unit >= o)
    return Bad(ErrorCode::kBadValue, "unit",
               "must be in [0, " + std::to_string(o) + "), got " +
                   std::to_string(unit));
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const Pass p = m.MakePass(rows, false, true);
    const float* xs = x + start * in;
    m.Forward(p, xs);
    m.ZeroBackward(p);
    float* g = m.acts.Ptr(m.dout_slot[m.last]);
    for (int64_t r = 0; r < rows; ++r) g[r * o + unit] = 1;
    float* d = m.acts.Ptr(m.dx_slot);
    m.Backward(p, xs, d);
    std::copy(d, d + rows * in, dx + start * in);
  }
  return {};
}

uint32_t Model::LayerSeed(int layer, int64_t step) const {
  return SeedOf(impl_->spec.seed, layer, step);
}

const char* FitStateName(FitState s) {
  switch (s) {
    case FitState::kIdle:
      return "idle";
    case FitState::kRunning:
      return "running";
    case FitState::kFinished:
      return "finished";
    case FitState::kEarlyStopped:
      return "early_stopped";
    case FitState::kDiverged:
      return "diverged";
  }
  return "?";
}

}  // namespace dlmath
