// The model spec, parsed and validated (the JSON grammar is in model.h):
// every registry op resolved, every param filled in registry order and
// checked by the registry's own Prepare, widths inferred layer by layer.
// WriteSpec gives the canonical JSON back (all defaults, aliases resolved).
#ifndef DLMATH_SRC_MODEL_SPEC_H_
#define DLMATH_SRC_MODEL_SPEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dlmath/model.h"
#include "dlmath/registry.h"
#include "dlmath/status.h"

namespace dlmath::model {

// A linear layer's weight initializer: "default" (PyTorch's nn.Linear:
// kaiming_uniform with a = sqrt(5)), "zeros", or a registry initializer with
// its params (seed excepted: it derives from the model's seed).
struct InitSpec {
  const OpInfo* op = nullptr;  // null: zeros
  bool is_default = true;      // written back as "default"
  double p[kMaxParams] = {};
  // > 0: N(0, normal_std^2), written back as {"id": "normal", "std": ...}:
  // kaiming_normal's draws (linear gain, fan_in) scaled to that deviation.
  double normal_std = 0;
};

// Scratch a registry op needs on [rows, width] inputs, affine in rows as
// every kernel's is: workspace and each secondary output.
struct OpSizes {
  int64_t ws_row = 0, ws_fixed = 0;
  int64_t aux_row[kMaxAux] = {}, aux_fixed[kMaxAux] = {};
};

struct LayerSpec {
  LayerType type = LayerType::kLinear;
  std::string where;  // "layers[2].layers[0]" (messages)
  std::string path;   // "layers.2.layers.0" (parameter names)
  int64_t in_width = 0, out_width = 0;
  // linear
  bool bias = true;
  InitSpec init;
  bool bias_zeros = false;
  // activation (registry op or prelu), dropout and the norms
  const OpInfo* op = nullptr;
  double p[kMaxParams] = {};
  OpSizes sizes;
  // activation: formula text and its parameter values (fixed)
  std::string formula;
  std::vector<std::pair<std::string, double>> formula_params;
  // prelu
  int64_t prelu_count = 1;
  double prelu_init = 0.25;
  // norms
  bool affine = true;
  // residual
  std::vector<LayerSpec> layers;
  // sequence models: T (positional tables, attention's grouping)
  int64_t block = 1;
  // embedding: the vocabulary (weight [vocab, out_width])
  int64_t vocab = 0;
  // positional: the registry's fixed sinusoidal table (p: its params)
  bool sinusoidal = false;
  // attention
  int64_t heads = 0;
  bool causal = true, key_padding = false;
  // linear: shares the embedding's weight
  bool tie = false;
};

enum class Clip { kNone, kNorm, kValue };

struct ModelSpec {
  int64_t input = 0;  // floats per row of x (sequence models: block)
  // Sequence models: the vocabulary (0: not one), positions per sequence,
  // the start/pad token (-1: none).
  int64_t tokens = 0, block = 1, pad = -1;
  // Steps and evaluations skip the positions after the longest real
  // sequence of a batch (where that is exact); false: every pass runs the
  // whole block (the padded reference the tests and the bench compare to).
  bool pack = true;
  bool sequence() const { return tokens > 0; }
  // Width of x per row of the layers (a position: its token id).
  int64_t row_width() const { return sequence() ? 1 : input; }
  // The classifier head (a linear layer spec, path "classifier") and the
  // weight of the token loss beside it.
  bool has_classifier = false;
  LayerSpec classifier;
  double lm_weight = 0;
  OpSizes classifier_loss_sizes;              // its cross_entropy's scratch
  double classifier_loss_p[kMaxParams] = {};  // and params (the defaults)
  // Weight decay only for parameters of rank >= 2.
  bool decay_matrices = false;
  std::vector<LayerSpec> layers;
  const OpInfo* loss = nullptr;
  double loss_p[kMaxParams] = {};
  int loss_vector_input = -1;  // the per-class vector input, if given
  std::vector<float> loss_vector;
  bool class_targets = false;
  bool loss_sum = false;  // reduction 'sum' (else 'mean')
  OpSizes loss_sizes;
  const OpInfo* optimizer = nullptr;
  double opt_p[kMaxParams] = {};
  const OpInfo* schedule = nullptr;  // null: constant lr
  double sched_p[kMaxParams] = {};
  int64_t warmup = 0;  // the generic linear warmup (0: none)
  Clip clip = Clip::kNone;
  double clip_value = 0;
  double l1 = 0, l2 = 0;
  uint32_t seed = 0;
  int64_t max_batch = 0;
  int64_t outputs() const { return layers.back().out_width; }
  // The loss's ignore_index, if it has one (class targets that count for
  // nothing); has_ignore says whether it does.
  bool has_ignore = false;
  double ignore_index = 0;
};

Status ParseSpec(std::string_view text, ModelSpec* out);
std::string WriteSpec(const ModelSpec& spec);

// A number for messages: the shortest decimal, or NaN / inf / -inf.
std::string Num(double v);

// Registry params an op's caller sets rather than the spec: "training"
// (train/eval mode) and "seed" (per layer and step).
bool ManagedParam(std::string_view name);

}  // namespace dlmath::model

#endif  // DLMATH_SRC_MODEL_SPEC_H_
