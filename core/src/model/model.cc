// The model: building the layers and arenas from the spec (llm.c's
// malloc_and_point_parameters: a table of (name, shape, offset) into one
// arena per kind), the training step (forward, loss, backward, penalties,
// clipping, the optimizer's per-step update, the schedule) with its
// diagnostics and NaN guard, the resumable fit, and inference.
#include "core/src/model/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "core/src/gemm.h"
#include "core/src/kernels.h"
#include "core/src/model/json.h"
#include "core/src/model/stats.h"
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
    info.heads = l.heads;
    info.causal = l.type == LayerType::kAttention && l.causal;
    info.key_padding = l.type == LayerType::kAttention && l.key_padding;
    info.tied = l.tie;
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

// The params of `op` (registry order): its defaults, then `set`, each slot
// given by name as DLMATH_PARAM(op, name) (a misspelt name does not compile).
void OpParams(const OpInfo& op,
              std::initializer_list<std::pair<int, double>> set, double* p) {
  for (int k = 0; k < op.num_params(); ++k) p[k] = op.params[k].def;
  for (const auto& [slot, value] : set) p[slot] = value;
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

}  // namespace

// ----- building
// ----------------------------------------------------------------

Status Model::Impl::Build() {
  int top_last = -1;
  Flatten(spec.layers, -1, -1, this, &top_last);
  last = top_last;
  if (spec.has_classifier) {
    // After the chain, outside the forward order: it reads the input of the
    // last layer.
    cls = static_cast<int>(infos.size());
    hidden = src[last];
    LayerInfo info;
    info.type = LayerType::kLinear;
    info.path = info.spec = "classifier";
    info.in_width = spec.classifier.in_width;
    info.out_width = spec.classifier.out_width;
    info.head = true;
    infos.push_back(info);
    specs.push_back(&spec.classifier);
    src.push_back(hidden);
    tail.push_back(-1);
  }
  for (size_t i = 0; i < infos.size(); ++i) {
    layers.push_back(model::MakeLayer(*specs[i], static_cast<int>(i)));
    infos[i].first_param = static_cast<int>(table.size());
    const int64_t before_layer = num_params;
    layers.back()->Declare(AddTensor, this);
    if (infos[i].tied)  // the embedding (layer 0)'s weight, its first entry
      layers.back()->Tie(table[infos[0].first_param].offset);
    infos[i].end_param = static_cast<int>(table.size());
    param_begin.push_back(before_layer);
    if (num_params > kMaxModelParams)
      return Bad(ErrorCode::kTooLarge, infos[i].spec,
                 "the model reaches " + std::to_string(num_params) +
                     " trainable parameters here, above the limit of " +
                     std::to_string(kMaxModelParams));
    if (infos[i].type == LayerType::kLinear && !infos[i].tied)
      penalized.push_back({table[infos[i].first_param].offset,
                           table[infos[i].first_param].shape.numel()});
    has_batch_norm = has_batch_norm || infos[i].type == LayerType::kBatchNorm;
  }
  penalties = !penalized.empty() && (spec.l1 != 0 || spec.l2 != 0);

  // Weight decay per parameter, and the runs of equal decay in the arena.
  for (ParamEntry& e : table) {
    if (e.kind != TensorKind::kParameter) continue;
    e.decay = !spec.decay_matrices || e.shape.rank >= 2;
    if (runs.empty() || runs.back().decay != e.decay)
      runs.push_back({e.offset, 0, e.decay});
    runs.back().count = e.offset + e.shape.numel() - runs.back().begin;
  }

  // Arenas: parameters, gradients, the parameters before a step (put back if it
  // is refused), optimizer state, buffers; per-layer pieces for clip_grad_norm.
  const int nl = static_cast<int>(infos.size());
  const int64_t state_size =
      dlmath::OptimizerStateSize(*spec.optimizer, num_params);
  if (Status s = model::AllocateArena(num_params, "parameters", &params);
      !s.ok())
    return s;
  if (Status s = model::AllocateArena(num_params, "gradients", &grads); !s.ok())
    return s;
  if (Status s = model::AllocateArena(num_params, "parameters before a step",
                                      &staging);
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
  lr_param = spec.optimizer->ParamIndex("lr");
  wd_param = spec.optimizer->ParamIndex("weight_decay");
  lr = spec.opt_p[lr_param];
  const double inf = std::numeric_limits<double>::infinity();
  constexpr int max_norm = DLMATH_PARAM(clip_grad_norm, max_norm);
  constexpr int norm_type = DLMATH_PARAM(clip_grad_norm, norm_type);
  OpParams(Op(OpId::clip_grad_norm), {{max_norm, inf}, {norm_type, 2}},
           measure_p);
  OpParams(Op(OpId::clip_grad_norm),
           {{max_norm, spec.clip == Clip::kNorm ? spec.clip_value : inf},
            {norm_type, 2}},
           clip_p);
  OptimizerInit(*spec.optimizer, spec.opt_p, state.data(), num_params);

  // Who writes first into each output-gradient slot in a backward: the
  // loss (last, cls) and the classifier's scatter (hidden), then the layers
  // in reverse forward order. A layer that can overwrite (linear) writes a
  // slot it is first to, and its own gradients, instead of adding: those
  // are not zeroed. The dx slot is always zeroed when written.
  std::vector<bool> written(nl, false), overwritten(nl, false);
  written[last] = true;
  if (cls >= 0) written[cls] = written[hidden] = true;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const int i = *it;
    if (tail[i] >= 0) written[tail[i]] = true;  // a residual: df += dy
    const bool can = layers[i]->CanOverwrite();
    if (src[i] >= 0) {
      overwritten[src[i]] = can && !written[src[i]];
      written[src[i]] = true;
      if (can) layers[i]->SetOverwrite(overwritten[src[i]], true);
    } else if (can) {
      layers[i]->SetOverwrite(false, true);
    }
    dx_always = dx_always || (src[i] < 0 && !layers[i]->TakesNullDx());
  }
  if (cls >= 0 && layers[cls]->CanOverwrite())
    layers[cls]->SetOverwrite(false, true);
  for (int i = 0; i < nl; ++i) {
    if (!overwritten[i]) zero_douts.push_back(i);
    const int64_t at = param_begin[i], count = LayerParamFloats(i);
    if (layers[i]->CanOverwrite() || count == 0) continue;
    if (!zero_grads.empty() &&
        zero_grads.back().first + zero_grads.back().second == at) {
      zero_grads.back().second += count;
    } else {
      zero_grads.push_back({at, count});
    }
  }

  // Activation slots: each layer's output, their gradients (first those a
  // backward zeroes, side by side: ZeroBackward fills them at once), then
  // what the layers ask for, the input gradient, ones, the loss's scratch.
  ones_width = spec.row_width();
  for (int i = 0; i < nl; ++i) {
    out_slot.push_back(acts.Add(infos[i].out_width, 0));
    ones_width = std::max({ones_width, infos[i].in_width, infos[i].out_width});
  }
  dout_slot.assign(nl, -1);
  for (int i : zero_douts) dout_slot[i] = acts.Add(infos[i].out_width, 0);
  for (int i = 0; i < nl; ++i)
    if (dout_slot[i] < 0) dout_slot[i] = acts.Add(infos[i].out_width, 0);
  for (auto& l : layers) l->Plan(&acts);
  dx_slot = acts.Add(spec.row_width(), 0);
  if (spec.pad >= 0) pad_slot = acts.Add(1, 0);
  // Dropping trailing padding is exact when no kept position reads a
  // dropped one: every attention layer hides later keys (causal) or pad
  // keys, and no layer mixes rows (batch_norm's statistics would change).
  packable = spec.sequence() && spec.pack && spec.pad >= 0 && !has_batch_norm;
  for (const LayerInfo& info : infos)
    if (info.type == LayerType::kAttention)
      packable = packable && (info.causal || info.key_padding);
  if (packable) tok_slot = acts.Add(1, 0);
  if (spec.sequence()) {
    pos_slot = acts.Add(1, 0);
    lm_y_slot = acts.Add(1, 0);
  }
  if (spec.has_classifier) {
    // Per-sequence slots sized per position (T times what they need: a few
    // floats per position, and one layout rule for the arena).
    const int64_t c = spec.classifier.in_width;
    last_slot = acts.Add(1, 0);
    cls_y_slot = acts.Add(1, 0);
    gather_slot = acts.Add(c, 0);
    dgather_slot = acts.Add(c, 0);
    cls_ws_slot = acts.Add(spec.classifier_loss_sizes.ws_row,
                           spec.classifier_loss_sizes.ws_fixed);
  }
  ones_slot = acts.Add(ones_width, 0);
  // The dead-unit probes. A dx probe needs the layer to be the only writer
  // of its input's gradient slot (index nl: the dx slot).
  std::vector<int> writers(nl + 1, 0);
  for (int i = 0; i < nl; ++i) {
    ++writers[src[i] < 0 ? nl : src[i]];
    if (tail[i] >= 0) ++writers[tail[i]];
  }
  for (int i = 0; i < nl; ++i) {
    using Probe = Layer::DeadProbe;
    const Probe probe = layers[i]->dead_probe();
    const bool alone = writers[src[i] < 0 ? nl : src[i]] == 1;
    dead_slot.push_back(probe == Probe::kOutput ? out_slot[i]
                        : probe == Probe::kInputGradient && alone
                            ? (src[i] < 0 ? dx_slot : dout_slot[src[i]])
                            : -1);
    dead_width.push_back(probe == Probe::kOutput ? infos[i].out_width
                                                 : infos[i].in_width);
  }
  loss_ws_slot = acts.Add(spec.loss_sizes.ws_row, spec.loss_sizes.ws_fixed);
  loss_out_slot = acts.Add(0, 1);
  if (RowsLimit() < std::max<int64_t>(spec.max_batch, 1))
    return Bad(
        ErrorCode::kTooLarge, "max_batch",
        std::to_string(std::max<int64_t>(spec.max_batch, 1)) + " rows need " +
            std::to_string(acts.FloatsFor(std::max<int64_t>(spec.max_batch, 1) *
                                          spec.block)) +
            " floats of activations, above the limit of " +
            std::to_string(kMaxActivationFloats) + " (at most " +
            std::to_string(RowsLimit()) + " rows)");
  io.assign(nl, LayerIo{});
  for (int i : order) {
    LayerStep st;
    st.index = i;
    st.layer = layers[i].get();
    st.null_dx = layers[i]->TakesNullDx();
    const model::Layer::Elementwise ew = layers[i]->elementwise();
    if (infos[i].type == LayerType::kResidual) {
      st.kind = LayerStep::Kind::kResidual;
    } else if (infos[i].type == LayerType::kLinear) {
      st.kind = LayerStep::Kind::kLinear;
    } else if (ew.fwd) {
      st.kind = LayerStep::Kind::kElementwise;
      st.width = ew.width;
      st.fwd = ew.fwd;
      st.bwd = ew.bwd;
      st.p = ew.p;
    }
    steps.push_back(st);
  }
  for (int i = 0; i < nl; ++i)
    if (layers[i]->Commits()) committers.push_back(i);
  diag.assign(kDiagHeader + kLayerDiagStride * nl, 0.0f);
  diag_arrays.assign(nl, model::LayerArrays{});
  moments.assign(4 * nl, 0.0);
  update_sums.assign(4 * nl, 0.0);
  for (int i = 0; i < nl; ++i)
    if (LayerParamFloats(i) > 0) param_layers.push_back(i);
  // Per run: its state, its optimizer params (the decay resolved; lr is set
  // each step) and its pieces, one per layer with parameters in the run.
  std::vector<size_t> first_piece;
  for (DecayRun& run : runs) {
    run.state_begin = dlmath::OptimizerStateSize(*spec.optimizer, run.begin);
    std::copy(spec.opt_p, spec.opt_p + kMaxParams, run.opt_p);
    if (wd_param >= 0 && !run.decay) run.opt_p[wd_param] = 0.0;
    first_piece.push_back(piece_ends.size());
    for (int i = 0; i < nl; ++i) {
      const int64_t end =
          std::min(param_begin[i] + LayerParamFloats(i), run.begin + run.count);
      if (end <= std::max(param_begin[i], run.begin)) continue;
      piece_ends.push_back(end - run.begin);
      piece_sums.push_back(&update_sums[4 * i]);
    }
  }
  for (size_t r = 0; r < runs.size(); ++r) {
    const size_t end =
        r + 1 < runs.size() ? first_piece[r + 1] : piece_ends.size();
    runs[r].watch = {.pieces = end - first_piece[r],
                     .ends = piece_ends.data() + first_piece[r],
                     .sums = piece_sums.data() + first_piece[r],
                     .before = staging.data() + runs[r].begin};
  }
  if (spec.max_batch > 0) return EnsureCapacity(spec.max_batch);
  return {};
}

int64_t Model::Impl::LayerParamFloats(int layer) const {
  const size_t next = static_cast<size_t>(layer) + 1;
  return (next < param_begin.size() ? param_begin[next] : num_params) -
         param_begin[layer];
}

Status Model::Impl::EnsureCapacity(int64_t rows) {
  if (rows <= Capacity()) return {};
  const int64_t positions = rows * spec.block;
  if (rows > RowsLimit())
    return Bad(ErrorCode::kTooLarge, "rows",
               std::to_string(rows) + " rows need " +
                   std::to_string(acts.FloatsFor(positions)) +
                   " floats of activations, above the limit of " +
                   std::to_string(kMaxActivationFloats) + " (at most " +
                   std::to_string(RowsLimit()) + " rows at once)");
  if (Status s = acts.Layout(positions); !s.ok()) return s;
  capacity_rows = acts.capacity() / spec.block;
  for (size_t i = 0; i < infos.size(); ++i) {
    const int from = src[i];
    io[i].out = acts.Ptr(out_slot[i]);
    io[i].dout = acts.Ptr(dout_slot[i]);
    model::LayerArrays& a = diag_arrays[i];
    a.out = io[i].out;
    a.dout = io[i].dout;
    a.probe = dead_slot[i] >= 0 ? acts.Ptr(dead_slot[i]) : nullptr;
    a.probe_cols = dead_width[i];
    io[i].in = static_cast<int>(i) == cls ? acts.Ptr(gather_slot)
               : from < 0                 ? nullptr
                                          : acts.Ptr(out_slot[from]);
    io[i].din = from < 0 ? nullptr : acts.Ptr(dout_slot[from]);
  }
  for (LayerStep& st : steps) {
    const LayerIo& l = io[st.index];
    st.in = l.in;
    st.out = l.out;
    st.dout = l.dout;
    st.din = l.din;
  }
  lm_call.Place(spec.loss_p, acts.Ptr(out_slot[last]),
                acts.Ptr(dout_slot[last]), acts.Ptr(loss_out_slot),
                acts.Ptr(loss_ws_slot));
  if (cls >= 0)
    cls_call.Place(spec.classifier_loss_p, acts.Ptr(out_slot[cls]),
                   acts.Ptr(dout_slot[cls]), acts.Ptr(loss_out_slot),
                   acts.Ptr(cls_ws_slot));
  if (!zero_douts.empty()) {
    const int l = zero_douts.back();
    zero_from = io[zero_douts.front()].dout;
    zero_last = io[l].dout;
    zero_width = infos[l].out_width;
    zero_seqs = l == cls;
  }
  // The pass's fields that change only here (MakePass sets the others).
  Pass& p = last_pass;
  p.params = params.data();
  p.grads = grads.data();
  p.buffers = buffers.data();
  p.acts = &acts;
  p.ones = acts.Ptr(ones_slot);
  p.seed = SeedOf;
  p.model_seed = spec.seed;
  for (LayerStep& st : steps)
    if (st.kind == LayerStep::Kind::kLinear) st.linear = st.layer->linear(p);
  offsets.reserve(Capacity() + 1);  // no allocation per pass
  for (auto& l : layers)
    if (Status s = l->Resize(positions); !s.ok()) return s;
  float* ones = acts.Ptr(ones_slot);
  std::fill(ones, ones + positions * ones_width, 1.0f);
  for (size_t i = 0; i < infos.size(); ++i) {
    if (infos[i].type != LayerType::kLinear) continue;
    const size_t o = infos[i].out_width, in = infos[i].in_width;
    const size_t r = static_cast<size_t>(infos[i].head ? rows : positions);
    if (!GemmReserve(r, o, in) || !GemmReserve(r, in, o) ||
        !GemmReserve(o, in, r))
      return Bad(ErrorCode::kOutOfMemory, "rows",
                 "out of memory for the matrix products of " +
                     std::to_string(rows) + " rows");
  }
  return {};
}

const Pass& Model::Impl::MakePass(int64_t rows, bool training, bool backward,
                                  const float* x, const float* y) {
  // Written in place: the pass is the last forward's (LayerOutput) without
  // a copy per step. The fields SequencePass sets keep their defaults in
  // every pass of a model without sequences, and those that change only
  // with the arena's layout are set by EnsureCapacity.
  Pass& p = last_pass;
  p.rows = p.seqs = rows;
  p.training = training;
  p.backward = backward;
  p.step = t;
  if (spec.sequence()) SequencePass(x, y);
  return p;
}

// Positions after the last one a sequence needs (a real token, a counted
// target) are padding (the pad token, an ignored target); with causal or
// pad-hiding attention no kept position reads them, so the pass drops them
// exactly.
void Model::Impl::SequencePass(const float* x, const float* y) {
  Pass& p = last_pass;
  const int64_t rows = p.seqs;
  const int64_t tb = spec.block, tw = TargetWidth();
  const bool pack = x && packable && (!y || spec.has_ignore);
  const float ignored = static_cast<float>(spec.ignore_index);
  float* pos = acts.Ptr(pos_slot);
  offsets.resize(rows + 1);
  offsets[0] = 0;
  for (int64_t b = 0; b < rows; ++b) {
    int64_t n = tb;
    if (pack) {
      n = 1;  // the start position is always real
      for (int64_t j = tb - 1; j > 0 && n == 1; --j)
        if (x[b * tb + j] != spec.pad || (y && y[b * tw + j] != ignored))
          n = j + 1;
    }
    for (int64_t j = 0; j < n; ++j) pos[offsets[b] + j] = static_cast<float>(j);
    offsets[b + 1] = offsets[b] + n;
  }
  p.rows = offsets[rows];
  p.block = tb;
  p.offsets = offsets.data();
  p.positions = pos;
  if (pad_slot >= 0) p.key_padding = acts.Ptr(pad_slot);
}

// ----- forward and backward
// ---------------------------------------------------

bool Model::Impl::Packed(const Pass& p) const {
  return p.rows < p.seqs * spec.block;
}

const float* Model::Impl::Tokens(const Pass& p, const float* x) {
  return Packed(p) ? acts.Ptr(tok_slot) : x;
}

int64_t Model::Impl::LayerRows(int i, const Pass& p) const {
  return i == cls ? p.seqs : p.rows;
}

const float* Model::Impl::LayerInput(int i, const float* x) {
  return io[i].in ? io[i].in : x;
}

// The token ids the layers read (Packed: each sequence's kept positions,
// one after another) and the padding flags of a sequence model's pass.
const float* Model::Impl::SequenceInput(const Pass& p, const float* x) {
  if (Packed(p)) {
    float* tok = acts.Ptr(tok_slot);
    for (int64_t b = 0; b < p.seqs; ++b)
      std::copy(x + b * spec.block,
                x + b * spec.block + (p.offsets[b + 1] - p.offsets[b]),
                tok + p.offsets[b]);
    x = tok;
  }
  if (pad_slot >= 0) {
    // Padding: the pad token anywhere after the start position.
    float* pad = acts.Ptr(pad_slot);
    for (int64_t r = 0; r < p.rows; ++r)
      pad[r] = p.positions[r] != 0 && x[r] == spec.pad ? 1.0f : 0.0f;
  }
  return x;
}

// Residual block i: y = x + f(x), f its last child's output.
void Model::Impl::ResidualForward(int i, const Pass& p, const float* in) {
  float* y = io[i].out;
  const float* f = io[tail[i]].out;
  for (int64_t k = 0, n = p.rows * infos[i].out_width; k < n; ++k)
    y[k] = in[k] + f[k];
}

// Its backward: dy reaches both f's output and x (din, may be null).
void Model::Impl::ResidualBackward(int i, const Pass& p, float* din) {
  const float* dy = io[i].dout;
  float* df = io[tail[i]].dout;
  for (int64_t k = 0, n = p.rows * infos[i].out_width; k < n; ++k) {
    df[k] += dy[k];
    if (din) din[k] += dy[k];
  }
}

// The loops over the layers stay small (the sequence and residual work out
// of line): the compiler inlines them into ForwardBackward, and in wasm
// every call costs V8 a frame and its module state again.
const float* Model::Impl::Forward(const Pass& p, const float* x) {
  if (spec.sequence()) x = SequenceInput(p, x);
  for (const LayerStep& st : steps) {
    const float* in = st.in ? st.in : x;
    if (st.kind == LayerStep::Kind::kElementwise) {
      st.fwd(in, st.out, p.rows * st.width, st.p);
    } else if (st.kind == LayerStep::Kind::kLinear) {
      st.linear->Ready(p.rows);
      st.linear->Forward(in, st.out);
    } else if (st.kind == LayerStep::Kind::kResidual) {
      ResidualForward(st.index, p, in);
    } else {
      st.layer->Forward(p, in, st.out);
    }
  }
  if (cls >= 0) ClassifierForward(p, x);
  return acts.Ptr(out_slot[last]);
}

// The classifier reads the hidden row of each sequence's last real position
// (the last that is not padding).
void Model::Impl::ClassifierForward(const Pass& p, const float* x) {
  const int64_t c = infos[cls].in_width, seqs = p.seqs;
  float* last_pos = acts.Ptr(last_slot);
  float* g = acts.Ptr(gather_slot);
  const float* h = acts.Ptr(out_slot[hidden]);
  const float* pad = acts.Ptr(pad_slot);
  for (int64_t b = 0; b < seqs; ++b) {
    const int64_t first = p.offsets[b];
    int64_t at = first;
    for (int64_t r = first + 1; r < p.offsets[b + 1]; ++r)
      if (pad[r] == 0) at = r;
    last_pos[b] = static_cast<float>(at - first);
    std::copy(h + at * c, h + (at + 1) * c, g + b * c);
  }
  Pass head = p;
  head.rows = seqs;
  layers[cls]->Forward(head, g, acts.Ptr(out_slot[cls]));
}

// Backward of the head: its gradient reaches the hidden rows it read.
void Model::Impl::ClassifierBackward(const Pass& p) {
  const int64_t c = infos[cls].in_width, seqs = p.seqs;
  float* dg = acts.Ptr(dgather_slot);
  std::fill(dg, dg + seqs * c, 0.0f);
  Pass head = p;
  head.rows = seqs;
  layers[cls]->Backward(head, acts.Ptr(gather_slot), acts.Ptr(out_slot[cls]),
                        acts.Ptr(dout_slot[cls]), dg);
  float* dh = acts.Ptr(dout_slot[hidden]);
  const float* last_pos = acts.Ptr(last_slot);
  for (int64_t b = 0; b < seqs; ++b) {
    float* row = dh + (p.offsets[b] + static_cast<int64_t>(last_pos[b])) * c;
    for (int64_t k = 0; k < c; ++k) row[k] += dg[b * c + k];
  }
}

void Model::Impl::ZeroBackward(const Pass& p, bool input_gradient) {
  for (const auto& [at, count] : zero_grads)
    std::fill(grads.data() + at, grads.data() + at + count, 0.0f);
  // The zeroed output gradients sit side by side (Build): one fill over
  // them, slack included, while the pass uses at least half the arena's
  // rows (each fill costs a wasm memory.fill call, ~100 instructions),
  // else one fill per slot.
  if (zero_from && 2 * p.rows >= acts.capacity()) {
    std::fill(zero_from, zero_last + (zero_seqs ? p.seqs : p.rows) * zero_width,
              0.0f);
  } else {
    for (int i : zero_douts) {
      float* d = io[i].dout;
      std::fill(d, d + LayerRows(i, p) * infos[i].out_width, 0.0f);
    }
  }
  // Without an input gradient asked for, the dx slot is written only by a
  // first layer that cannot skip its dx (Backward): a first linear layer
  // leaves it alone, and nobody reads it.
  if (!input_gradient && !dx_always) return;
  float* dx = acts.Ptr(dx_slot);
  std::fill(dx, dx + p.rows * spec.row_width(), 0.0f);
}

void Model::Impl::Backward(const Pass& p, const float* x, float* dx) {
  x = Tokens(p, x);
  if (cls >= 0) ClassifierBackward(p);
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    const LayerStep& st = *it;
    float* din = st.din ? st.din : dx;
    const float* in = st.in ? st.in : x;
    if (st.kind == LayerStep::Kind::kElementwise) {
      // (an elementwise layer never takes a null dx)
      st.bwd(in, st.out, st.dout, din ? din : acts.Ptr(dx_slot), unused_dp,
             p.rows * st.width, st.p);
      continue;
    }
    if (st.kind == LayerStep::Kind::kLinear) {  // (takes a null dx)
      st.linear->Ready(p.rows);
      st.linear->Backward(in, st.dout, din);
      continue;
    }
    if (st.kind == LayerStep::Kind::kResidual) {
      ResidualBackward(st.index, p, din);
      continue;
    }
    if (!din && !st.null_dx) din = acts.Ptr(dx_slot);
    st.layer->Backward(p, in, st.out, st.dout, din);
  }
}

void Model::Impl::LossCall::Place(const double* params, const float* out,
                                  float* dout, float* value, float* ws) {
  in[0] = out;
  din[0] = dout;
  call.p = params;
  call.out = value;
  call.ws = ws;
}

void Model::Impl::LossCall::Rows(int64_t rows, int64_t width,
                                 bool class_targets,
                                 const std::vector<float>* vector,
                                 int vector_input) {
  shapes[0] = Shape{rows, width};
  shapes[1] = class_targets ? Shape{rows} : Shape{rows, width};
  if (vector_input >= 0) {
    in[vector_input] = vector->data();
    shapes[vector_input] = Shape{width};
  }
}

double Model::Impl::LossForward(const Pass& p, const float* y) {
  targets = y;
  classes = nullptr;
  if (spec.sequence() || spec.has_ignore) LossTargets(p, y);
  if (!lm_call.HasRows(p.rows))
    lm_call.Rows(p.rows, spec.outputs(), spec.class_targets, &spec.loss_vector,
                 spec.loss_vector_input);
  lm_loss = lm_call.Forward(*spec.loss, targets);
  if (cls < 0) return lm_loss;
  return ClassifierLoss(p);
}

void Model::Impl::LossTargets(const Pass& p, const float* y) {
  const int64_t seqs = p.seqs;
  if (cls >= 0 || Packed(p)) {
    // y [B, tw]: the token targets of the pass's positions (then the class,
    // tw = block + 1).
    const int64_t tw = TargetWidth();
    float* lm = acts.Ptr(lm_y_slot);
    for (int64_t b = 0; b < seqs; ++b)
      std::copy(y + b * tw, y + b * tw + (p.offsets[b + 1] - p.offsets[b]),
                lm + p.offsets[b]);
    targets = lm;
  }
  if (cls >= 0) {
    float* cy = acts.Ptr(cls_y_slot);
    for (int64_t b = 0; b < seqs; ++b)
      cy[b] = y[b * (spec.block + 1) + spec.block];
    classes = cy;
  }
  if (spec.has_ignore) {
    counted = 0;
    for (int64_t r = 0; r < p.rows; ++r)
      counted += targets[r] != spec.ignore_index;
  }
}

double Model::Impl::ClassifierLoss(const Pass& p) {
  if (!cls_call.HasRows(p.seqs))
    cls_call.Rows(p.seqs, infos[cls].out_width, true);
  cls_loss = cls_call.Forward(Op(OpId::cross_entropy), classes);
  return cls_loss + spec.lm_weight * lm_loss;
}

// Backward of the last LossForward: its calls are still set.
void Model::Impl::LossBackward(const Pass&, const float*, float seed) {
  if (cls < 0) {
    lm_call.Backward(*spec.loss, seed);
    return;
  }
  if (spec.lm_weight > 0)
    lm_call.Backward(*spec.loss, static_cast<float>(seed * spec.lm_weight));
  cls_call.Backward(Op(OpId::cross_entropy), seed);
}

// The registry's own validation of the targets against this output (class
// ranges, -1/+1 labels, [0, 1] targets and probabilities). `full`: through
// Prepare, which also checks that Index inputs hold integers (FitBegin,
// once per data set); otherwise the loss's shape function alone, which
// allocates nothing on success (every Step), and only for a loss whose
// shape function reads values: the shapes are the model's own.
Status Model::Impl::CheckTargetValues(const float* out, const float* y,
                                      int64_t rows, bool full) {
  if (spec.sequence()) return CheckSequenceTargets(y, rows);
  if (loss_reads_values < 0) loss_reads_values = LossReadsValues();
  if (!full && !loss_reads_values) return {};
  const Status s = full ? LossPrepare(out, y, rows) : LossShape(out, y, rows);
  if (s.ok()) return {};
  return Bad(s.code(), s.what() == "input" ? "loss" : "y", s.message());
}

Status Model::Impl::LossPrepare(const float* out, const float* y,
                                int64_t rows) {
  const OpInfo& op = *spec.loss;
  const TargetCheck& c = SetTargetCheck(out, y, rows);
  NamedTensor in[kMaxInputs];
  int count = 0;
  for (int k = 0; k < op.num_inputs(); ++k)
    if (c.data[k]) in[count++] = {op.inputs[k].name, {c.data[k], c.in[k]}};
  NamedParam params[kMaxParams];
  for (int k = 0; k < op.num_params(); ++k)
    params[k] = {op.params[k].name, spec.loss_p[k]};
  Call call;
  return Prepare(op.id, std::span(in, count),
                 std::span(params, op.num_params()), &call);
}

Model::Impl::TargetCheck& Model::Impl::SetTargetCheck(const float* out,
                                                      const float* y,
                                                      int64_t rows) {
  const int64_t o = spec.outputs();
  const int v = spec.loss_vector_input;
  TargetCheck& c = target_check;
  c.in[0] = Shape{rows, o};
  c.in[1] = spec.class_targets ? Shape{rows} : Shape{rows, o};
  c.data[0] = out;
  c.data[1] = y;
  if (v >= 0) {
    c.in[v] = Shape{o};
    c.data[v] = spec.loss_vector.data();
  }
  return c;
}

Status Model::Impl::LossShape(const float* out, const float* y, int64_t rows) {
  TargetCheck& c = SetTargetCheck(out, y, rows);
  int64_t workspace = 0;
  return spec.loss->impl.gen_shape(ShapeCtx{.op = spec.loss->id,
                                            .in = c.in,
                                            .data = c.data,
                                            .p = spec.loss_p,
                                            .out = &c.out,
                                            .workspace = &workspace,
                                            .aux = c.aux});
}

// Asked once, on one row whose output and target hold values outside every
// domain a loss checks (NaN fails each test written as !(in domain), -inf,
// inf and -0.5 each test written as (outside)): a loss that takes them all
// checks shapes only. Class indices are always checked.
bool Model::Impl::LossReadsValues() {
  if (spec.class_targets) return true;
  const float kInf = std::numeric_limits<float>::infinity();
  std::vector<float> probe(spec.outputs());
  for (float v :
       {std::numeric_limits<float>::quiet_NaN(), -kInf, kInf, -0.5f}) {
    std::fill(probe.begin(), probe.end(), v);
    if (!LossShape(probe.data(), probe.data(), 1).ok()) return true;
  }
  return false;
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
      p[DLMATH_PARAM(one_cycle_lr, max_lr)] = lr;
      // It ends at total_steps (PyTorch raises past it): hold that value.
      at = std::min<int64_t>(
          at, static_cast<int64_t>(p[DLMATH_PARAM(one_cycle_lr, total_steps)]));
    }
    rate = ScheduleAt(op, p, at);
  }
  if (step < spec.warmup)
    rate *= static_cast<double>(step + 1) / static_cast<double>(spec.warmup);
  return rate;
}

// The l1 and l2 penalties over the linear weights: their value, or (with
// backward) their gradient accumulated into grads. Called only when
// `penalties` (Build).
double Model::Impl::Penalties(bool backward) {
  double total = 0;
  const double lams[2] = {spec.l1, spec.l2};
  for (int which = 0; which < 2; ++which) {
    if (lams[which] == 0) continue;
    double p[kMaxParams];
    const int lam = which == 0 ? DLMATH_PARAM(l1_penalty, lam)
                               : DLMATH_PARAM(l2_penalty, lam);
    OpParams(Op(which == 0 ? OpId::l1_penalty : OpId::l2_penalty),
             {{lam, lams[which]}}, p);
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
  // Set on every path (inline, a refused target check left them unset for
  // GCC's -Wmaybe-uninitialized in the caller).
  *data_loss = *penalty = 0;
  const float* out = Forward(p, x);
  if (validate && !TargetsChecked())
    if (Status s = CheckTargetValues(out, y, p.seqs, false); !s.ok()) return s;
  *data_loss = LossForward(p, y);
  *penalty = penalties ? Penalties(false) : 0;
  ZeroBackward(p, false);
  LossBackward(p, y, 1.0f);
  Backward(p, x, nullptr);
  if (penalties) Penalties(true);
  return {};
}

Status Model::Impl::TrainStep(const float* x, const float* y, int64_t rows,
                              bool validate, double* loss_out) {
  if (rows > Capacity())  // (the usual step skips a Status round trip)
    if (Status s = EnsureCapacity(rows); !s.ok()) return s;
  const Pass& p = MakePass(rows, true, true, x, y);
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

  // Per layer: output mean and std, dead units, output gradient norm (before
  // the update: a learnable activation's DeadFraction reads its params).
  const float* tokens = Tokens(p, x);
  const int nl = static_cast<int>(infos.size());
  float* d = diag.data();
  if (p.rows != diag_rows || p.seqs != diag_seqs) SetDiagRows(p);
  model::MomentsOf(diag_arrays.data(), nl, moments.data());
  // Pointers walk the layers (V8 recomputes an index's addresses), and the
  // loop makes no call (after one, V8 reloads every vector's data): the
  // layers whose probe does not settle their dead units count them after.
  bool count_dead = false;
  {
    const double* mo = moments.data();  // sum, squares, gradient squares,
    const model::LayerArrays* a = diag_arrays.data();  // probe columns all 0
    float* ld = d + kDiagHeader;
    for (const double* const end = mo + 4 * nl; mo < end;
         mo += 4, ++a, ld += kLayerDiagStride) {
      const double n = static_cast<double>(a->n), mean = mo[0] / n;
      ld[kLayerActMean] = static_cast<float>(mean);
      ld[kLayerActStd] =
          static_cast<float>(std::sqrt(std::max(0.0, mo[1] / n - mean * mean)));
      ld[kLayerOutGradNorm] = static_cast<float>(std::sqrt(mo[2]));
      ld[kLayerDeadFraction] = 0.0f;
      count_dead = count_dead || !a->probe || mo[3] != 0;
    }
  }
  for (int i = 0; count_dead && i < nl; ++i) {
    if (diag_arrays[i].probe && moments[4 * i + 3] == 0) continue;
    Pass lp = p;  // the pass as layer i sees it
    lp.rows = LayerRows(i, p);
    d[kDiagHeader + kLayerDiagStride * i + kLayerDeadFraction] =
        static_cast<float>(
            layers[i]->DeadFraction(lp, LayerInput(i, tokens), io[i].out));
  }

  // Norms per layer and in total through clip_grad_norm (pieces = layers),
  // clipping with it or with clip_grad_value.
  auto clip_norm = [&](const double* cp, float* total, float* scale) {
    const float* in[2] = {grads.data(), piece_sizes.data()};
    const Shape shapes[2] = {Shape{num_params}, Shape{nl}};
    float* aux[3] = {total, scale, layer_norms.data()};
    GenCall<float> c{.in = in,
                     .in_shape = shapes,
                     .p = cp,
                     .out = grads.data(),
                     .out_shape = shapes[0],
                     .aux = aux};
    ClipGradNormForward(c);
  };
  // Without clipping nothing waits for the norms: they come from the
  // update's pass below (a non-finite gradient's update is taken back, and
  // diverged() resets the optimizer state).
  float total = 0, scale = 1, after = 0, unused = 0;
  const bool clip = spec.clip != Clip::kNone;
  if (clip) {
    clip_norm(clip_p, &total, &scale);
    for (int i = 0; i < nl; ++i)
      d[kDiagHeader + kLayerDiagStride * i + kLayerGradNorm] =
          layer_norms.data()[i];
    if (!std::isfinite(total)) return diverged("the gradient is not finite");
    after = total * scale;
  }
  if (spec.clip == Clip::kValue) {
    double v[kMaxParams];
    OpParams(Op(OpId::clip_grad_value),
             {{DLMATH_PARAM(clip_grad_value, clip_value), spec.clip_value}}, v);
    ClipGradValueForward(grads.data(), grads.data(), num_params, v);
    clip_norm(measure_p, &after, &unused);
  }

  // The update, written over the parameters by the optimizer's one pass,
  // which also sums it per layer and keeps the parameters before it in
  // `staging` (StepWatch): put back, bit for bit, if the step is refused.
  // A layer without parameters (an activation) has all sums 0: the loop
  // below skips it, its update diagnostics stay Build's 0s. The sums
  // are 0 before the pass: Build zeroes them and the loop below, which
  // reads them, clears them for the next step (no fill call per step).
  const double rate = Lr(t);
  for (DecayRun& run : runs) {
    run.opt_p[lr_param] = rate;
    float* theta = params.data() + run.begin;
    OptimizerStep(*spec.optimizer, run.opt_p, t + 1, theta,
                  grads.data() + run.begin, state.data() + run.state_begin,
                  theta, run.count, &run.watch);
  }
  double squares = 0;  // of the gradient
  bool finite = true;
  double* const all_sums = update_sums.data();
  for (int i : param_layers) {
    double* sums = all_sums + 4 * i;
    const double u[4] = {sums[0], sums[1], sums[2], sums[3]};
    sums[0] = sums[1] = sums[2] = sums[3] = 0;
    // u: delta, before, after, gradient
    squares += u[3];
    // Float squares overflow above 1.8e19: only then look at the values.
    finite = finite && std::isfinite(u[2]);
    float* ld = d + kDiagHeader + kLayerDiagStride * i;
    if (!clip) ld[kLayerGradNorm] = static_cast<float>(std::sqrt(u[3]));
    ld[kLayerWeightNorm] = static_cast<float>(std::sqrt(u[2]));
    ld[kLayerUpdateRatio] =
        u[1] > 0 ? static_cast<float>(std::sqrt(u[0] / u[1])) : 0.0f;
  }
  auto take_back = [&](const std::string& what) {
    std::copy(staging.data(), staging.data() + num_params, params.data());
    return diverged(what);
  };
  if (!clip) {
    after = total = static_cast<float>(std::sqrt(squares));
    if (!std::isfinite(total)) return take_back("the gradient is not finite");
  }
  if (!finite && !std::all_of(params.data(), params.data() + num_params,
                              [](float v) { return std::isfinite(v); }))
    return take_back("the update would make a parameter non-finite (lr " +
                     std::to_string(rate) + ")");
  for (int i : committers) layers[i]->Commit(p);
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

// The sizes of the layers' arrays in pass p (LayerRows).
void Model::Impl::SetDiagRows(const Pass& p) {
  for (size_t i = 0; i < diag_arrays.size(); ++i) {
    model::LayerArrays& a = diag_arrays[i];
    a.probe_rows = LayerRows(static_cast<int>(i), p);
    a.n = a.probe_rows * infos[i].out_width;
  }
  diag_rows = p.rows;
  diag_seqs = p.seqs;
}

// ----- accuracy and evaluation
// -------------------------------------------------

bool Model::Impl::HasAccuracy() const {
  const std::string_view id = spec.loss->id;
  return spec.class_targets || id == "bce" || id == "bce_with_logits" ||
         id == "focal" || id == "hinge";
}

void Model::Impl::Correct(const Pass& p, double* right, double* total) const {
  if (cls >= 0) {
    ClassCorrect(p, right, total);
  } else {
    RowCorrect(p, right, total);
  }
}

void Model::Impl::ClassCorrect(const Pass& p, double* right,
                               double* total) const {
  const int64_t k = infos[cls].out_width, seqs = p.seqs;
  const float* out = acts.Ptr(out_slot[cls]);
  for (int64_t b = 0; b < seqs; ++b) {
    const float* row = out + b * k;
    *right += std::max_element(row, row + k) - row ==
              static_cast<int64_t>(classes[b]);
  }
  *total += static_cast<double>(seqs);
}

void Model::Impl::RowCorrect(const Pass& p, double* right,
                             double* total) const {
  const int64_t o = spec.outputs(), rows = p.rows;
  const float* out = acts.Ptr(out_slot[last]);
  const float* y = targets;
  const std::string_view id = spec.loss->id;
  if (spec.class_targets) {
    for (int64_t r = 0; r < rows; ++r) {
      if (spec.has_ignore && y[r] == spec.ignore_index) continue;
      const float* row = out + r * o;
      const int64_t best = std::max_element(row, row + o) - row;
      *right += best == static_cast<int64_t>(y[r]);
      *total += 1;
    }
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

double Model::Impl::LossWeight(int64_t rows) const {
  if (cls >= 0) return static_cast<double>(rows);  // the class loss's mean
  if (spec.loss_sum) return 1;
  if (spec.has_ignore) return static_cast<double>(counted);
  return static_cast<double>(rows * spec.block);
}

Status Model::Impl::EvaluateChunks(const float* x, const float* y, int64_t n,
                                   int64_t max_rows, bool validate,
                                   double* loss, double* accuracy) {
  const int64_t t_width = TargetWidth();
  double total = 0, weight = 0, right = 0, counted_rows = 0;
  for (int64_t start = 0; start < n; start += max_rows) {
    const int64_t rows = std::min(max_rows, n - start);
    const float* xx = x + start * spec.input;
    const float* yy = y + start * t_width;
    const Pass& p = MakePass(rows, false, false, xx, yy);
    const float* out = Forward(p, xx);
    if (validate)
      if (Status s = CheckTargets(out, yy, rows, false); !s.ok()) return s;
    const double l = LossForward(p, yy);
    const double w = LossWeight(rows);
    total += l * w;
    weight += w;
    Correct(p, &right, &counted_rows);
  }
  *loss = spec.loss_sum && cls < 0 ? total : total / weight;
  *accuracy = HasAccuracy() ? right / counted_rows : kNaN;
  return {};
}

int64_t Model::Impl::TargetWidth() const {
  if (spec.sequence()) return spec.block + (cls >= 0 ? 1 : 0);
  return spec.class_targets ? 1 : spec.outputs();
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

// Rows idx[0, rows) of `from` (rows of `width` floats) into `to`. Rows of a
// few floats (a small model's) are copied by a scalar loop: a copy call or a
// vectorized loop's set-up costs wasm more than such a row (2-8-8-1 shuffled
// fit: ~1,300 x86 instructions a step for 10 rows of x and y).
void Gather(const float* from, const uint32_t* idx, int64_t rows, int64_t width,
            float* to) {
  constexpr int64_t kShortRow = 16;
  for (int64_t r = 0; r < rows; ++r, to += width) {
    const float* row = from + idx[r] * width;
    if (width >= kShortRow) {
      std::copy(row, row + width, to);
      continue;
    }
#if defined(__clang__)
#pragma clang loop vectorize(disable) interleave(disable)
#endif
    for (int64_t j = 0; j < width; ++j) to[j] = row[j];
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
  e.train_loss = sum && cls < 0 ? f.loss_sum : f.loss_sum / f.weight;
  e.train_accuracy =
      f.counted > 0 && !std::isnan(f.correct) ? f.correct / f.counted : kNaN;
  e.val_loss = e.val_accuracy = kNaN;
  if (f.n_val > 0) {
    // Chunks of the capacity the fit laid out: no allocation mid-fit.
    (void)EvaluateChunks(f.x.data() + f.n_train * spec.input,
                         f.y.data() + f.n_train * TargetWidth(), f.n_val,
                         Capacity(), false, &e.val_loss, &e.val_accuracy);
  }
  history.push_back(e);
  ++f.epoch;
  f.batch_index = 0;
  f.loss_sum = f.weight = f.correct = f.counted = 0;
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
    } else if (++f.wait >= f.options.patience) {  // Keras: `patience` epochs
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
int64_t Model::outputs() const {
  return impl_->spec.outputs() * impl_->spec.block;
}
bool Model::ClassTargets() const { return impl_->spec.class_targets; }
int64_t Model::TargetWidth() const { return impl_->TargetWidth(); }
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

Status Model::Impl::CheckRows(const float* x, const float* y, int64_t rows,
                              bool need_y) const {
  if (rows < 1)
    return Bad(ErrorCode::kBadShape, "rows",
               "must be at least 1, got " + std::to_string(rows));
  if (!x || (need_y && !y))
    return Bad(ErrorCode::kBadValue, !x ? "x" : "y", "is null");
  if (!spec.sequence()) return {};
  return CheckTokens(x, rows);
}

// Messages are built only on failure: a step allocates nothing.
Status Model::Impl::CheckTokens(const float* x, int64_t rows) const {
  if (!spec.sequence()) return {};
  const int64_t t = spec.block;
  for (int64_t i = 0; i < rows * t; ++i) {
    const float v = x[i];
    if (v >= 0 && v < spec.tokens && std::floor(v) == v) continue;
    return Bad(ErrorCode::kBadValue, "x",
               "[" + std::to_string(i / t) + "][" + std::to_string(i % t) +
                   "] = " + model::Num(v) +
                   " is not a token id (an integer in "
                   "[0, " +
                   std::to_string(spec.tokens) + "))");
  }
  return {};
}

Status Model::Impl::CheckSequenceTargets(const float* y, int64_t rows) const {
  const int64_t t = spec.block, width = TargetWidth();
  for (int64_t b = 0; b < rows; ++b) {
    for (int64_t j = 0; j < t; ++j) {
      const float v = y[b * width + j];
      if ((spec.has_ignore && v == spec.ignore_index) ||
          (v >= 0 && v < spec.outputs() && std::floor(v) == v))
        continue;
      return Bad(ErrorCode::kBadValue, "y",
                 "[" + std::to_string(b) + "][" + std::to_string(j) +
                     "] = " + model::Num(v) +
                     " is not a next-token target (a token "
                     "id in [0, " +
                     std::to_string(spec.outputs()) + ")" +
                     (spec.has_ignore
                          ? " or ignore_index " + model::Num(spec.ignore_index)
                          : std::string()) +
                     ")");
    }
    if (cls < 0) continue;
    const float c = y[b * width + t];
    const int64_t k = infos[cls].out_width;
    if (!(c >= 0 && c < k && std::floor(c) == c))
      return Bad(ErrorCode::kBadValue, "y",
                 "[" + std::to_string(b) + "][" + std::to_string(t) +
                     "] = " + model::Num(c) +
                     " is not a class of the classifier (an "
                     "integer in [0, " +
                     std::to_string(k) + "))");
  }
  return {};
}

Status Model::Step(const float* x, const float* y, int64_t rows) {
  Impl& m = *impl_;
  // CheckRows only when it has something to find (a Status round trip costs
  // a small step ~40 x86 instructions in wasm).
  if (rows < 1 || !x || !y || m.spec.sequence())
    if (Status s = m.CheckRows(x, y, rows, true); !s.ok()) return s;
  double loss;
  return m.TrainStep(x, y, rows, true, &loss);
}

Status Model::ComputeGradients(const float* x, const float* y, int64_t rows) {
  Impl& m = *impl_;
  if (Status s = m.CheckRows(x, y, rows, true); !s.ok()) return s;
  if (Status s = m.EnsureCapacity(rows); !s.ok()) return s;
  const Pass& p = m.MakePass(rows, true, true, x, y);
  double data_loss, penalty;
  if (Status s = m.ForwardBackward(p, x, y, true, &data_loss, &penalty);
      !s.ok())
    return s;
  for (int i : m.committers) m.layers[i]->Commit(p);
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
  if (Status s = m.CheckRows(x, y, n, true); !s.ok()) return s;
  const int64_t in = m.spec.input, tw = TargetWidth(), o = outputs();
  if (n > kMaxElements / std::max(in, o))
    return Bad(ErrorCode::kTooLarge, "n",
               std::to_string(n) + " examples exceed the limit of " +
                   std::to_string(kMaxElements) + " floats per array");
  // The registry checks every target once here (steps then skip it); the
  // output is a placeholder that every loss accepts.
  if (m.spec.sequence()) {
    if (Status s = m.CheckSequenceTargets(y, n); !s.ok()) return s;
  } else {
    Buffer placeholder;
    if (Status s = model::AllocateArena(n * o, "target check", &placeholder);
        !s.ok())
      return s;
    std::fill(placeholder.data(), placeholder.data() + n * o, 0.5f);
    if (Status s = m.CheckTargets(placeholder.data(), y, n, true); !s.ok())
      return s;
  }
  f.options = options;
  f.accuracy = m.HasAccuracy();
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
  // A fit on data of the last one's sizes (fit() called again) keeps its
  // arenas.
  auto arena = [](int64_t floats, const char* what, Buffer* b) {
    return b->size() == floats ? Status{}
                               : model::AllocateArena(floats, what, b);
  };
  // Only a shuffled fit gathers its batches (FitRun).
  const int64_t gathered = options.shuffle ? f.batch : 0;
  if (Status s = arena(n * in, "fit inputs", &f.x); !s.ok()) return s;
  if (Status s = arena(n * tw, "fit targets", &f.y); !s.ok()) return s;
  if (Status s = arena(gathered * in, "batch inputs", &f.bx); !s.ok()) return s;
  if (Status s = arena(gathered * tw, "batch targets", &f.by); !s.ok())
    return s;
  if (Status s = arena(best ? m.num_params + m.num_buffers : 0, "best weights",
                       &f.best);
      !s.ok())
    return s;
  if (Status s = arena(options.log_steps * stride, "diagnostics log", &f.log);
      !s.ok())
    return s;
  if (Status s = arena(options.log_steps * kDiagHeader,
                       "diagnostics log header", &f.header_log);
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
  f.loss_sum = f.weight = f.correct = f.counted = 0;
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
    // Unshuffled, the batch is rows [start, start + rows) of the data, read
    // in place; shuffled, its rows are gathered.
    const float* bx = f.x.data() + start * in;
    const float* by = f.y.data() + start * tw;
    if (f.options.shuffle) {
      Gather(f.x.data(), f.perm.data() + start, rows, in, f.bx.data());
      Gather(f.y.data(), f.perm.data() + start, rows, tw, f.by.data());
      bx = f.bx.data();
      by = f.by.data();
    }
    double loss;
    // (Kept only on failure: assigning a Status moves three strings.)
    if (Status s = m.TrainStep(bx, by, rows, false, &loss); !s.ok()) {
      status = std::move(s);
      f.state = FitState::kDiverged;
      break;
    }
    ++steps;
    f.last_loss = loss;
    if (cap > 0) {
      const int64_t slot = logged % cap;
      std::copy(m.diag.begin(), m.diag.end(), f.log.data() + slot * stride);
      float* h = f.header_log.data() + slot;
      for (int k = 0; k < kDiagHeader; ++k) h[k * cap] = m.diag[k];
      ++logged;
    }
    const double w = m.LossWeight(rows);
    f.loss_sum += m.diag[kDiagDataLoss] * w;
    f.weight += w;
    if (f.accuracy) m.Correct(m.last_pass, &f.correct, &f.counted);
    if (++f.batch_index == f.batches) m.EndEpoch();
  }
  // The log oldest first.
  if (logged > cap && cap > 0) {
    std::rotate(f.log.data(), f.log.data() + (logged % cap) * stride,
                f.log.data() + cap * stride);
    for (int k = 0; k < kDiagHeader; ++k) {
      float* column = f.header_log.data() + k * cap;
      std::rotate(column, column + logged % cap, column + cap);
    }
  }
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
const float* Model::DiagnosticsLogColumn(int field, int64_t* rows) const {
  const Impl::Fit& f = impl_->fit;
  *rows = f.log_rows;
  if (field < 0 || field >= kDiagHeader) return nullptr;
  return f.header_log.data() + field * f.options.log_steps;
}

// ----- inference
// -----------------------------------------------------------------

namespace {
// Rows per chunk of an inference call of n rows: the capacity, grown for
// it while the arena stays within kInferenceFloats (a 100 x 100 grid of a
// small network runs in one chunk, so every layer's map is readable after).
constexpr int64_t kInferenceFloats = int64_t{1} << 24;
Status ChunkRows(Model::Impl& m, int64_t n, int64_t* rows) {
  int64_t fit = m.Capacity();
  while (fit < n &&
         m.acts.FloatsFor(fit * 2 * m.spec.block) <= kInferenceFloats &&
         fit * 2 <= m.RowsLimit())
    fit = std::max<int64_t>(fit * 2, 1);
  *rows = std::max<int64_t>(std::min(n, std::max<int64_t>(fit, 1)), 1);
  return m.EnsureCapacity(*rows);
}
}  // namespace

Status Model::Predict(const float* x, int64_t n, float* out) {
  Impl& m = *impl_;
  if (Status s = m.CheckRows(x, out, n, true); !s.ok()) return s;
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
  if (Status s = m.CheckRows(x, y, n, true); !s.ok()) return s;
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
  if (m.last_pass.rows == 0)
    return Bad(ErrorCode::kBadValue, "layer",
               "no forward has run yet (Step, Predict, ...)");
  *data = m.acts.Ptr(m.out_slot[layer]);
  *rows = layer == m.cls ? m.last_pass.seqs : m.last_pass.rows;
  *width = m.infos[layer].out_width;
  return {};
}

Status Model::InputGradient(const float* x, const float* y, int64_t n,
                            float* dx) {
  Impl& m = *impl_;
  if (Status s = m.CheckRows(x, y, n, true); !s.ok()) return s;
  if (!dx) return Bad(ErrorCode::kBadValue, "dx", "is null");
  if (m.spec.sequence()) return m.NoInputGradient();
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  const int64_t in = m.spec.input, tw = TargetWidth();
  const bool sum = m.spec.loss_sum;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const Pass& p = m.MakePass(rows, false, true);
    const float* xs = x + start * in;
    const float* ys = y + start * tw;
    const float* out = m.Forward(p, xs);
    if (Status s = m.CheckTargets(out, ys, rows, false); !s.ok()) return s;
    m.LossForward(p, ys);
    m.ZeroBackward(p, true);
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
  if (Status s = m.CheckRows(x, dx, n, true); !s.ok()) return s;
  if (m.spec.sequence()) return m.NoInputGradient();
  const int64_t o = outputs(), in = m.spec.input;
  if (unit < 0 || unit >= o)
    return Bad(ErrorCode::kBadValue, "unit",
               "must be in [0, " + std::to_string(o) + "), got " +
                   std::to_string(unit));
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const Pass& p = m.MakePass(rows, false, true);
    const float* xs = x + start * in;
    m.Forward(p, xs);
    m.ZeroBackward(p, true);
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

// ----- sequence models
// ---------------------------------------------------------

namespace dlmath {

namespace {
Status NeedSequence(const Model::Impl& m, const char* what) {
  if (m.spec.sequence()) return {};
  return Bad(ErrorCode::kBadValue, what,
             "works on sequence models (an input {\"tokens\": V, \"block\": "
             "T}); this model takes " +
                 std::to_string(m.spec.input) + " features per row");
}
}  // namespace

Status Model::Impl::NoInputGradient() const {
  return Bad(ErrorCode::kBadValue, "x",
             "a sequence model's inputs are token ids, which have no "
             "gradient");
}

bool Model::IsSequence() const { return impl_->spec.sequence(); }
int64_t Model::vocab() const { return impl_->spec.tokens; }
int64_t Model::block() const { return impl_->spec.block; }
int64_t Model::pad_token() const { return impl_->spec.pad; }
int64_t Model::classes() const {
  return impl_->cls >= 0 ? impl_->infos[impl_->cls].out_width : 0;
}

void Model::LastLosses(double* lm, double* cls) const {
  *lm = impl_->lm_loss;
  *cls = impl_->cls >= 0 ? impl_->cls_loss : kNaN;
}

Status Model::EvaluateSequences(const float* x, const float* y, int64_t n,
                                SequenceMetrics* out) {
  Impl& m = *impl_;
  if (Status s = NeedSequence(m, "evaluate"); !s.ok()) return s;
  if (Status s = m.CheckRows(x, y, n, true); !s.ok()) return s;
  if (Status s = m.CheckSequenceTargets(y, n); !s.ok()) return s;
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  const int64_t t = m.spec.block, tw = m.TargetWidth(), v = m.spec.outputs();
  double lm = 0, tokens = 0, lm_right = 0, lm_total = 0;
  double cl = 0, cls_right = 0, cls_total = 0;
  // The scored positions' logits and targets, for the registry's perplexity.
  std::vector<float> logits, targets;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const float* xs = x + start * t;
    const float* ys = y + start * tw;
    const Pass& p = m.MakePass(rows, false, false, xs, ys);
    const float* out = m.Forward(p, xs);
    m.LossForward(p, ys);
    for (int64_t r = 0; r < p.rows; ++r) {
      if (m.spec.has_ignore && m.targets[r] == m.spec.ignore_index) continue;
      logits.insert(logits.end(), out + r * v, out + (r + 1) * v);
      targets.push_back(m.targets[r]);
    }
    const double w = m.spec.has_ignore ? static_cast<double>(m.counted)
                                       : static_cast<double>(p.rows);
    lm += m.lm_loss * w;
    tokens += w;
    m.RowCorrect(p, &lm_right, &lm_total);
    if (m.cls < 0) continue;
    cl += m.cls_loss * static_cast<double>(rows);
    m.ClassCorrect(p, &cls_right, &cls_total);
  }
  const int64_t scored = static_cast<int64_t>(targets.size());
  const NamedTensor in[2] = {{"logits", {logits.data(), Shape{scored, v}}},
                             {"targets", {targets.data(), Shape{scored}}}};
  Call call;
  Evaluation ev;
  if (Status s = Prepare("perplexity", in, {}, &call); !s.ok()) return s;
  if (Status s = Run(call, &ev); !s.ok()) return s;
  out->perplexity = ev.y.data()[0];
  out->lm_loss = m.spec.loss_sum ? lm : lm / tokens;
  out->lm_tokens = static_cast<int64_t>(tokens);
  out->lm_accuracy = lm_right / lm_total;
  out->cls_loss = m.cls >= 0 ? cl / static_cast<double>(n) : kNaN;
  out->cls_accuracy = m.cls >= 0 ? cls_right / cls_total : kNaN;
  out->sequences = n;
  return {};
}

Status Model::LastPositions(const float* x, int64_t n, int64_t* last) const {
  const Impl& m = *impl_;
  if (Status s = NeedSequence(m, "x"); !s.ok()) return s;
  if (Status s = m.CheckRows(x, nullptr, n, false); !s.ok()) return s;
  if (!last) return Bad(ErrorCode::kBadValue, "last", "is null");
  const int64_t t = m.spec.block;
  for (int64_t b = 0; b < n; ++b) {
    int64_t at = m.spec.pad < 0 ? t - 1 : 0;
    for (int64_t j = 1; j < t && m.spec.pad >= 0; ++j)
      if (x[b * t + j] != m.spec.pad) at = j;
    last[b] = at;
  }
  return {};
}

namespace {
// Keeps the top_k largest of p [v] (0: all), zeroes `banned` (-1: none) and
// renormalises; ties at the k-th value are all kept.
void KeepTop(float* p, int64_t v, int64_t top_k, int64_t banned,
             std::vector<float>* scratch) {
  if (banned >= 0) p[banned] = 0;
  if (top_k > 0 && top_k < v) {
    scratch->assign(p, p + v);
    std::nth_element(scratch->begin(), scratch->begin() + (top_k - 1),
                     scratch->end(), std::greater<float>());
    const float cut = (*scratch)[top_k - 1];
    for (int64_t j = 0; j < v; ++j)
      if (p[j] < cut) p[j] = 0;
  }
  double sum = 0;
  for (int64_t j = 0; j < v; ++j) sum += p[j];
  if (sum > 0)
    for (int64_t j = 0; j < v; ++j) p[j] = static_cast<float>(p[j] / sum);
}

Status CheckSampling(double temperature, int64_t top_k, int64_t v) {
  if (!(temperature > 0) || !std::isfinite(temperature))
    return Bad(ErrorCode::kBadParam, "temperature",
               "must be a finite number > 0, got " + model::Num(temperature));
  if (top_k < 0 || top_k > v)
    return Bad(ErrorCode::kBadParam, "top_k",
               "must be in [0, " + std::to_string(v) +
                   "] (0: every token), got " + std::to_string(top_k));
  return {};
}
}  // namespace

// Next-token probabilities at last[b] of each sequence of a forward over
// rows [start, start + rows), through the registry's softmax_temperature.
void Model::Impl::NextTokens(const Pass& p, const int64_t* last,
                             double temperature, int64_t top_k, int64_t banned,
                             float* probs, std::vector<float>* scratch) {
  const int64_t v = spec.outputs(), seqs = p.seqs;
  const OpInfo& op = Op(OpId::softmax_temperature);
  double sp[kMaxParams] = {};
  for (int k = 0; k < op.num_params(); ++k) sp[k] = op.params[k].def;
  sp[op.ParamIndex("temperature")] = temperature;
  const float* out = acts.Ptr(out_slot[this->last]);
  for (int64_t b = 0; b < seqs; ++b) {
    float* row = probs + b * v;
    op.impl.row_fwd(out + (p.offsets[b] + last[b]) * v, row, 1, v, sp);
    KeepTop(row, v, top_k, banned, scratch);
  }
}

Status Model::NextTokenProbabilities(const float* x, int64_t n,
                                     double temperature, int64_t top_k,
                                     float* probs) {
  Impl& m = *impl_;
  if (Status s = NeedSequence(m, "x"); !s.ok()) return s;
  if (Status s = m.CheckRows(x, probs, n, true); !s.ok()) return s;
  if (Status s = CheckSampling(temperature, top_k, m.spec.outputs()); !s.ok())
    return s;
  std::vector<int64_t> last(n);
  (void)LastPositions(x, n, last.data());
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  std::vector<float> scratch;
  const int64_t t = m.spec.block, v = m.spec.outputs();
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const float* xs = x + start * t;
    const Pass& p = m.MakePass(rows, false, false, xs);
    m.Forward(p, xs);
    m.NextTokens(p, last.data() + start, temperature, top_k, -1,
                 probs + start * v, &scratch);
  }
  return {};
}

Status Model::Generate(float* tokens, int64_t n,
                       const GenerateOptions& options) {
  Impl& m = *impl_;
  if (Status s = NeedSequence(m, "tokens"); !s.ok()) return s;
  if (m.spec.pad < 0)
    return Bad(ErrorCode::kBadValue, "tokens",
               "generation grows each sequence into its padding: the input "
               "needs a pad token (input.pad)");
  if (Status s = m.CheckRows(tokens, tokens, n, true); !s.ok()) return s;
  const int64_t v = m.spec.outputs(), t = m.spec.block;
  if (Status s = CheckSampling(options.temperature, options.top_k, v); !s.ok())
    return s;
  if (options.end < -1 || options.end >= v)
    return Bad(ErrorCode::kBadParam, "end",
               "must be a token id in [0, " + std::to_string(v) +
                   ") or -1 (none), got " + std::to_string(options.end));
  std::vector<int64_t> last(n);
  (void)LastPositions(tokens, n, last.data());
  std::vector<char> done(n);
  for (int64_t b = 0; b < n; ++b) done[b] = last[b] + 1 >= t;
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  std::vector<float> probs(chunk * v), scratch;
  for (bool active = true; active;) {
    active = false;
    for (int64_t start = 0; start < n; start += chunk) {
      const int64_t rows = std::min(chunk, n - start);
      const float* xs = tokens + start * t;
      const Pass& p = m.MakePass(rows, false, false, xs);
      m.Forward(p, xs);
      // The pad token is never drawn: it would end the sequence unseen.
      m.NextTokens(p, last.data() + start, options.temperature, options.top_k,
                   m.spec.pad, probs.data(), &scratch);
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t b = start + i;
        if (done[b]) continue;
        const int64_t at = last[b] + 1;
        // A uniform draw keyed on (seed, sequence, position).
        const uint32_t h =
            Mix32Scalar(Mix32Scalar(options.seed ^ 0xA511E9B3u) ^
                        Mix32Scalar(static_cast<uint32_t>(b) * 0x9E3779B9u +
                                    static_cast<uint32_t>(at)));
        const double u = (h >> 8) * (1.0 / 16777216.0);
        const float* row = probs.data() + i * v;
        int64_t pick = -1;
        double acc = 0;
        for (int64_t j = 0; j < v && pick < 0; ++j) {
          acc += row[j];
          if (row[j] > 0 && u < acc) pick = j;
        }
        if (pick < 0)  // rounding left u past the sum: the last candidate
          for (int64_t j = v - 1; j >= 0 && pick < 0; --j)
            if (row[j] > 0) pick = j;
        tokens[b * t + at] = static_cast<float>(pick);
        last[b] = at;
        done[b] = pick == options.end || at + 1 >= t;
        active = active || !done[b];
      }
    }
  }
  return {};
}

Status Model::Classify(const float* x, int64_t n, float* logits) {
  Impl& m = *impl_;
  if (m.cls < 0)
    return Bad(ErrorCode::kBadValue, "classifier",
               "this model has no classifier head (spec key 'classifier')");
  if (Status s = m.CheckRows(x, logits, n, true); !s.ok()) return s;
  int64_t chunk;
  if (Status s = ChunkRows(m, n, &chunk); !s.ok()) return s;
  const int64_t k = m.infos[m.cls].out_width;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const float* xs = x + start * m.spec.block;
    m.Forward(m.MakePass(rows, false, false, xs), xs);
    const float* out = m.acts.Ptr(m.out_slot[m.cls]);
    std::copy(out, out + rows * k, logits + start * k);
  }
  return {};
}

Status Model::AttentionWeights(int layer, const float** data,
                               int64_t* rows) const {
  const Impl& m = *impl_;
  if (layer < 0 || layer >= static_cast<int>(m.infos.size()) ||
      m.infos[layer].type != LayerType::kAttention) {
    std::string which;
    for (size_t i = 0; i < m.infos.size(); ++i)
      if (m.infos[i].type == LayerType::kAttention)
        which += (which.empty() ? "" : ", ") + std::to_string(i);
    return Bad(ErrorCode::kBadValue, "layer",
               std::to_string(layer) + " is not an attention layer (" +
                   (which.empty() ? std::string("this model has none")
                                  : "those are " + which) +
                   ")");
  }
  if (m.last_pass.rows == 0)
    return Bad(ErrorCode::kBadValue, "layer",
               "no forward has run yet (Step, Predict, ...)");
  *data = model::AttentionLayerWeights(*m.layers[layer], m.last_pass);
  *rows = m.last_pass.seqs;
  return {};
}

int64_t Model::OptimizerStateFloats() const { return impl_->state.size(); }

Status Model::GetOptimizerState(float* out, int64_t n) const {
  const Buffer& st = impl_->state;
  if (n != st.size() || (n > 0 && !out))
    return Bad(ErrorCode::kBadShape, "optimizer state",
               "has " + std::to_string(st.size()) + " values, got room for " +
                   std::to_string(n));
  std::copy(st.data(), st.data() + n, out);
  return {};
}

Status Model::SetOptimizerState(const float* data, int64_t n, int64_t step) {
  Buffer& st = impl_->state;
  if (n != st.size() || (n > 0 && !data))
    return Bad(ErrorCode::kBadShape, "optimizer state",
               "has " + std::to_string(st.size()) + " values, got " +
                   std::to_string(n));
  if (step < 0)
    return Bad(ErrorCode::kBadValue, "step",
               "must be >= 0, got " + std::to_string(step));
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(data[i]))
      return Bad(ErrorCode::kBadValue, "optimizer state",
                 "value [" + std::to_string(i) + "] is not finite");
  std::copy(data, data + n, st.data());
  impl_->t = step;
  return {};
}

}  // namespace dlmath
