// The training engine: a network described by a JSON spec, trained entirely
// in C++ (forward, loss, backward, clipping, optimizer update, schedule), with
// per-step diagnostics the playground draws and an export to PyTorch. No SIMD
// types here: this header is shared by the core, the wasm bindings and tests.
//
// ---------------------------------------------------------------------------
// The spec (JSON text; the JS layer passes JSON.stringify of the user's object
// unchanged, so this C++ parser is the one validator). Keys are a contract:
//
//   { "input": 2,                                  // features per example
//     "layers": [
//       {"type": "linear", "units": 8, "bias": true,
//        "init": "kaiming_uniform"},       // or {"id": ..., <its params>}
//       {"type": "activation", "id": "tanh"},   // registry params beside id
//       {"type": "activation", "formula": "x*sigmoid(a*x)", "a": 1.5},
//       {"type": "dropout", "p": 0.1},
//       {"type": "layer_norm"},
//       {"type": "residual", "layers": [ ... ]},   // x + f(x)
//       {"type": "linear", "units": 3}],
//     "loss": {"id": "cross_entropy", "label_smoothing": 0.1},
//     "optimizer": {"id": "adamw", "lr": 3e-3, "weight_decay": 0.01},
//     "schedule": {"id": "warmup_cosine", "warmup": 100, "steps": 2000},
//     "clip": {"norm": 1},                          // or {"value": 0.5}
//     "l1": 0, "l2": 0, "seed": 7, "max_batch": 32 }
//
// Layers (each keeps activations 2-D, [rows, width] with rows = batch x
// sequence length, so token layers can join later without a redesign):
//   linear      units (required, [1, 65536]); bias (true); init: "default"
//               (PyTorch's nn.Linear: kaiming_uniform with a = sqrt(5), i.e.
//               U(+-1/sqrt(in))), "zeros", or a registry initializer id
//               (xavier_uniform, xavier_normal, kaiming_uniform,
//               kaiming_normal, orthogonal) or {"id": ..., params} (its
//               registry params except seed); bias_init: "default"
//               (U(+-1/sqrt(in)), PyTorch's) or "zeros". Weight [units, in]
//               as PyTorch, bias [units].
//   activation  id: any Elementwise or Rowwise registry op (sigmoid, tanh,
//               relu, gelu_tanh, softmax, glu, ...) or "prelu"; its registry
//               params as keys ("training" and "seed" are set by the model:
//               train/eval mode and a per-step seed). Learnable params
//               (swish_beta's beta) are trained: the key's value is their
//               start. prelu: num_parameters (1 or the width; 1) and init
//               (0.25), as nn.PReLU. OR formula: a dlmath::Formula text in x
//               (formula.h) whose parameters are given as keys (fixed, not
//               trained); its exact derivative drives backward.
//   dropout     p (0.5): registry op dropout; identity in eval mode; the mask
//               is seeded from (seed, layer, step): reproducible.
//   batch_norm  momentum (0.1), eps (1e-5), affine (true); running_mean and
//               running_var are buffers (PyTorch's unbiased running_var);
//               training needs at least 2 rows per batch.
//   layer_norm  eps (1e-5), affine (true).
//   rms_norm    eps (1e-6), affine (true: weight only).
//   group_norm  num_groups (2, must divide the width), eps (1e-5), affine.
//   residual    layers: a non-empty list that keeps the width; computes
//               x + f(x).
//
// Loss: {"id": ..., <registry params>} for any loss whose inputs are (input,
// target): mse, l1, huber, smooth_l1, bce, bce_with_logits, kl_div,
// poisson_nll, nll, cross_entropy, hinge, multi_margin, focal,
// focal_multiclass. reduction is "mean" (default, also for focal) or "sum".
// A per-class vector input of the op is given as an array of `outputs`
// numbers under its registry name: cross_entropy / nll / multi_margin
// "weight", focal_multiclass "alpha", bce_with_logits "pos_weight".
//
// Targets (the `y` of every call below): CLASS INDICES, one per row stored as
// a float holding an integer (as the registry's Index inputs are), for nll,
// cross_entropy, multi_margin and focal_multiclass (ClassTargets() is true,
// TargetWidth() is 1); otherwise `outputs` floats per row, [rows, outputs]
// (hinge: -1 or +1; focal, bce: in [0, 1]). Targets are checked by the loss's
// own registry validation; a bad one is an error naming the row.
//
// Optimizer: {"id": ..., <registry params>} for sgd, sgd_momentum,
// sgd_nesterov, adam, adamw, rmsprop, adagrad, updated once per step with
// persistent state. weight_decay is the registry's: coupled (added to the
// gradient) for every optimizer but adamw, whose decay is decoupled. The
// optimizer updates every trainable parameter (biases and norm weights too,
// as torch.optim over model.parameters()).
//
// Schedule (optional): {"id": ..., <registry params>} for any registry
// schedule, evaluated at every step t = 0, 1, ... (the model's step count)
// with its base learning rate taken from the optimizer's current lr (noam has
// none: its value is the lr). Two generic keys:
//   steps   the length of the schedule: t_max (cosine_annealing_lr),
//           total_steps (warmup_cosine, one_cycle_lr), total_iters
//           (linear_lr), t_0 (cosine_annealing_warm_restarts); an error for
//           step_lr, exponential_lr and noam, which have no length.
//   warmup  warmup_steps of warmup_cosine and noam; for every other schedule
//           a linear warmup that multiplies the lr by (t + 1) / warmup while
//           t < warmup.
// one_cycle_lr holds its last value after total_steps (PyTorch raises).
//
// clip: {"norm": max_norm} (total L2 norm, torch.nn.utils.clip_grad_norm_)
// or {"value": v} (clip_grad_value_); absent: no clipping. l1, l2 (>= 0):
// lam * sum|w| and lam * sum w^2 over every linear layer's weight (not
// biases or norm parameters) added to the loss and its gradient. seed: every
// initializer, dropout mask and shuffle derives from it; same seed and data
// give bit-identical training. max_batch: the rows the activation arena is
// first sized for (0: sized by the first call).
//
// ---------------------------------------------------------------------------
// Sequence models (a tiny GPT). "input" may instead be an object:
//
//   { "input": {"tokens": 29, "block": 16, "pad": 0},
//     "layers": [
//       {"type": "embedding", "dim": 64, "init": {"id": "normal", "std":
//       0.02}},
//       {"type": "positional", "kind": "learned"},   // or "sinusoidal"
//       {"type": "residual", "layers": [
//         {"type": "layer_norm"},
//         {"type": "attention", "heads": 4, "causal": true}]},
//       {"type": "residual", "layers": [
//         {"type": "layer_norm"},
//         {"type": "linear", "units": 256},
//         {"type": "activation", "id": "gelu_tanh"},    // or a swiglu layer
//         {"type": "linear", "units": 64}]},
//       {"type": "layer_norm"},
//       {"type": "linear", "units": 29, "bias": false, "tie": true}],
//     "loss": {"id": "cross_entropy"},               // over every position
//     "classifier": {"classes": 2, "lm_weight": 0.5},  // optional
//     "optimizer": {"id": "adamw", "lr": 3e-3, "decay": "matrices"}, ... }
//
// tokens  the vocabulary size V ([2, 65536]); block: T, the positions of
// one sequence ([1, 4096]); pad (optional, a token id): the start/pad token;
// pack (optional, default true): see packing below.
// Position 0 of every sequence holds the start token; a pad token anywhere
// after it marks padding: attention hides those keys (key_padding_mask) and
// the last real position of a sequence is the last one that is not padding.
//
// A ROW of x is one sequence: x [rows, T] token ids (floats holding
// integers in [0, V)), so inputs() == T and a batch of B sequences runs at
// most B*T positions through the layers, each position a row of width C.
// Packing (pack, optional, default true): steps, evaluations, next-token
// probabilities, sampling and classification run each sequence only up to
// its last real token or counted target, the sequences one after another.
// With causal or pad-hiding attention, no kept position reads a dropped
// one, so the results are those of the whole block up to float summation
// order; the model runs the whole block when that does not hold (no pad
// token, batch_norm, attention seeing pad keys, a loss without
// ignore_index), and Predict always does. "pack": false runs every
// position always. Dropout draws its mask per element of the rows a pass
// runs, so packed and unpacked runs drop different units. y [rows,
// TargetWidth()]: T next-token targets per sequence (class indices in [0,
// V), or the loss's ignore_index for positions not scored, e.g. padding),
// then, with a classifier, the sequence's class. Predict writes [rows, T,
// V]: outputs() == T * V (vocab() == V, block() == T).
//
// Layers of sequence models (rows are positions; a layer that mixes
// positions sees them grouped by sequence):
//   embedding   dim (required): y[r] = weight[token r], weight [V, dim] as
//               nn.Embedding (a gather; backward scatter-adds into the
//               weight's gradient). Only as the first layer, only there.
//               init: as linear's, plus {"id": "normal", "std": s} (N(0, s^2));
//               "default" is nn.Embedding's N(0, 1).
//   positional  kind "learned" (a [T, C] table "weight", init as embedding)
//               or "sinusoidal" (the registry's sinusoidal table, fixed;
//               base (10000)): y[r] = x[r] + table[r mod T].
//   attention   heads (required, divides C), causal (true), bias (true),
//               key_padding (true when the input has a pad token): batched
//               multi-head self-attention over the sequence of each row
//               (the registry's multi_head_attention kernels), parameters
//               named as nn.MultiheadAttention's: in_proj_weight [3C, C],
//               in_proj_bias [3C], out_proj.weight [C, C], out_proj.bias
//               [C]. init: "default" (PyTorch's: xavier_uniform in_proj,
//               nn.Linear's out_proj, zero biases) or any linear init (both
//               weights; biases zero). No dropout inside: put a dropout
//               layer after it.
//   swiglu      units (required): SiLU(x W) * (x V), the registry's swiglu,
//               W and V [in, units]; init as linear's (default
//               U(+-1/sqrt(in))).
//   linear      also tie (false): true shares the embedding's weight (the
//               first layer's [V, dim]; units must be V and the input width
//               dim): no parameter of its own besides an optional bias.
// Every other layer works position by position, unchanged.
//
// classifier (optional): {"classes": K, "lm_weight": lambda (0), "init",
// "bias_init"} adds a linear head (parameters classifier.weight [K, C],
// classifier.bias [K]) reading the INPUT of the last layer (the hidden
// state before the LM head) at each sequence's last real position. The
// step then minimises L2 + lambda * L1: L2 the cross-entropy of the class
// (mean over the batch), L1 the loss over the tokens (GPT-1's L3; lambda 0:
// L2 alone). A classifier needs the pad token. Accuracy is then the
// class's; without a classifier it is the next-token accuracy (targets
// equal to ignore_index are not counted, nor in the loss's mean).
//
// optimizer.decay: "all" (default, as torch.optim over model.parameters())
// or "matrices": weight decay only for parameters of rank >= 2 (weights,
// embeddings, positional tables), not for biases and norm weights (GPT's
// two parameter groups); ParamEntry::decay says which.
//
// Every mistake is a Status whose message names the place and the field,
// e.g. "layers[2].units: must be an integer in [1, 65536], got 0" or
// "layers[0]: unknown key 'unit' (did you mean 'units'?)".
//
// Limits: width of the input and of every layer <= kMaxUnits, layers
// (nested ones included) <= kMaxLayers, residual nesting <= kMaxDepth,
// trainable parameters <= kMaxModelParams, the activation arena <=
// kMaxActivationFloats floats (it bounds the rows of one call), the spec
// text <= kMaxSpecBytes.
//
// ---------------------------------------------------------------------------
// Memory: a model owns 64-byte aligned arenas, laid out once from the spec:
// parameters, gradients, optimizer state, buffers (batch-norm running
// statistics) and activations (outputs, their gradients and what backward
// needs, for `capacity` rows). A step ALLOCATES NOTHING; a call with more
// rows than the capacity grows the activation arena (the only allocation
// after Create, FitBegin aside).
#ifndef DLMATH_MODEL_H_
#define DLMATH_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dlmath/registry.h"
#include "dlmath/status.h"
#include "dlmath/tensor.h"

namespace dlmath {

inline constexpr int64_t kMaxUnits = 65536;
inline constexpr int kMaxLayers = 512;
inline constexpr int kMaxDepth = 16;
inline constexpr int64_t kMaxModelParams = int64_t{1} << 23;  // 32 MiB
inline constexpr int64_t kMaxActivationFloats = int64_t{1} << 26;
inline constexpr int64_t kMaxSpecBytes = int64_t{1} << 20;

enum class LayerType {
  kLinear,
  kActivation,
  kDropout,
  kBatchNorm,
  kLayerNorm,
  kRmsNorm,
  kGroupNorm,
  kResidual,
  kEmbedding,
  kPositional,
  kAttention,
  kSwiglu,
};
// The spec's "type" string: "linear", "activation", ...
const char* LayerTypeName(LayerType t);

// One layer, in execution order (a residual block comes before its layers).
struct LayerInfo {
  LayerType type = LayerType::kLinear;
  std::string path;  // PyTorch module path: "layers.2", "layers.2.layers.0"
  std::string spec;  // its place in the spec: "layers[2].layers[0]"
  // The registry op it runs (activation id, dropout, the norm); null for
  // linear, residual and formula activations.
  const OpInfo* op = nullptr;
  std::string formula;  // formula activation: its text
  int64_t in_width = 0, out_width = 0;
  int parent = -1;                       // enclosing residual layer, -1: none
  int first_child = -1, end_child = -1;  // residual: its layers' indices
  int first_param = 0, end_param = 0;    // its rows of ParameterTable()
  double p[kMaxParams] = {};  // op params, registry order, as in the step
  int64_t heads = 0;          // attention: its heads
  bool causal = false;        // attention: keys after the query hidden
  bool key_padding = false;   // attention: keys of pad tokens hidden
  bool tied = false;          // linear: the embedding's weight
  // The classifier head: last in layers(), outside the forward chain (it
  // reads the input of the model's last layer).
  bool head = false;
};

// A row of the parameter table: a named slice of an arena.
enum class TensorKind { kParameter, kBuffer };
struct ParamEntry {
  std::string name;  // PyTorch state_dict name: "layers.0.weight"
  Shape shape;
  int64_t offset = 0;  // floats into parameters() or buffers()
  TensorKind kind = TensorKind::kParameter;
  int layer = 0;      // the classifier's: layers().size() - 1 (its LayerInfo)
  bool decay = true;  // the optimizer's weight decay applies to it
};

// Fit options: JSON text with these keys (the JS object, stringified):
//   { "epochs": 1, "batchSize": 32, "shuffle": true, "validationSplit": 0,
//     "earlyStopping": {"patience": 0, "minDelta": 0, "restoreBest": true},
//     "logSteps": 1000 }
// validationSplit in [0, 1): the LAST fraction of the examples (before any
// shuffling, as Keras) is held out and evaluated after every epoch.
// earlyStopping (absent: off) watches the validation loss (the epoch's train
// loss without a split): an epoch improves when it is below the best minus
// minDelta; after `patience` epochs in a row without improvement training
// stops, restoring the best epoch's parameters and buffers if restoreBest.
// logSteps: rows of the diagnostics log kept per FitRun (see DiagnosticsLog).
struct FitOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  bool shuffle = true;
  double validation_split = 0;
  bool early_stopping = false;
  int64_t patience = 0;
  double min_delta = 0;
  bool restore_best = true;
  int64_t log_steps = 1000;
};
Status ParseFitOptions(std::string_view json, FitOptions* out);

enum class FitState {
  kIdle,          // no fit begun (or after one ended)
  kRunning,       // FitRun has more to do
  kFinished,      // every epoch ran
  kEarlyStopped,  // early stopping ended it
  kDiverged,      // NaN guard: a non-finite loss, gradient or update
};
const char* FitStateName(FitState s);

// Loss and accuracy of one epoch. Train: the mean over the epoch's batches
// (training mode, weighted by rows). Validation: Evaluate on the held-out
// examples (eval mode); NaN without a split. Accuracy is NaN for losses
// without classes (regression).
struct EpochStats {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0;
  double val_loss = 0, val_accuracy = 0;
};

struct FitProgress {
  FitState state = FitState::kIdle;
  int64_t step = 0;    // the model's optimizer steps so far (Step())
  int64_t epoch = 0;   // epochs completed in this fit
  int64_t epochs = 0;  // planned
  int64_t batch = 0;   // batches done in the current epoch
  int64_t batches_per_epoch = 0;
  int64_t steps_run = 0;   // by the last FitRun call
  double loss = 0;         // of the last step
  bool has_epoch = false;  // last_epoch is set
  EpochStats last_epoch;
  int64_t best_epoch = 0;  // early stopping: the best epoch so far
  double best = 0;         // and its watched loss
};

// Per-step diagnostics: one row of DiagnosticsStride() floats,
//   header  kDiag* fields below,
//   then one block of kLayerDiagStride floats per layer, in layers() order,
//        kLayer* fields below.
// Read through a heap view in JS: Diagnostics() (the last step) and
// DiagnosticsLog() (every step of the last FitRun).
// Header fields:
inline constexpr int kDiagLoss = 0;             // loss + penalties (minimised)
inline constexpr int kDiagDataLoss = 1;         // the loss alone
inline constexpr int kDiagLr = 2;               // learning rate of this step
inline constexpr int kDiagGradNorm = 3;         // total gradient L2 norm
inline constexpr int kDiagClippedGradNorm = 4;  // ... after clipping
inline constexpr int kDiagStep = 5;    // the model's step count after it
inline constexpr int kDiagRows = 6;    // rows of the batch
inline constexpr int kDiagHeader = 7;  // number of header fields
// Per layer, at kDiagHeader + layer * kLayerDiagStride:
// L2 norm of the layer's parameter gradient before clipping (0 without
// parameters).
inline constexpr int kLayerGradNorm = 0;
// L2 norm of its parameters after the update.
inline constexpr int kLayerWeightNorm = 1;
// ||w after - w before|| / ||w before|| of this step (0 when w was 0).
inline constexpr int kLayerUpdateRatio = 2;
// Mean and population std of its output over the batch.
inline constexpr int kLayerActMean = 3;
inline constexpr int kLayerActStd = 4;
// Fraction of its units dead for every row of the batch: the local
// derivative is 0 (element-wise activations: relu's x <= 0, hardtanh's
// saturation; formulas likewise) or, for every other layer, the output is 0.
inline constexpr int kLayerDeadFraction = 5;
// L2 norm of d loss / d output over the batch.
inline constexpr int kLayerOutGradNorm = 6;
inline constexpr int kLayerDiagStride = 7;  // floats per layer

class Model {
 public:
  // Parses and validates `spec_json`, lays out the arenas, initializes the
  // parameters. Every mistake is a Status naming the spec's place.
  static Status Create(std::string_view spec_json, std::unique_ptr<Model>* out);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // ----- structure ---------------------------------------------------------
  int64_t inputs() const;     // features per row of x (sequences: T)
  int64_t outputs() const;    // floats per row of Predict's output: the last
                              // layer's width (sequences: T times it)
  bool ClassTargets() const;  // y holds class indices (see above)
  // Floats of y per row: 1 or outputs() (sequences: T, plus 1 with a
  // classifier).
  int64_t TargetWidth() const;
  bool HasAccuracy() const;  // the loss defines an accuracy
  const std::vector<LayerInfo>& layers() const;
  // The spec with every default filled in (and the aliases resolved), for
  // saving; Create(SpecJson()) builds the same architecture.
  std::string SpecJson() const;

  // ----- parameters --------------------------------------------------------
  const std::vector<ParamEntry>& ParameterTable() const;
  const ParamEntry* FindParameter(std::string_view name) const;  // or null
  float* parameters();  // the parameter arena (trainable)
  const float* parameters() const;
  int64_t num_parameters() const;
  const float* gradients() const;  // same layout, after the last backward
  float* buffers();                // non-trainable (running statistics)
  const float* buffers() const;
  int64_t num_buffers() const;
  // Copy a whole parameter or buffer out / in (n must equal its size).
  Status GetParameter(std::string_view name, float* out, int64_t n) const;
  Status SetParameter(std::string_view name, const float* data, int64_t n);
  // One element (row-major index), e.g. a weight the user clicked.
  Status SetParameterValue(std::string_view name, int64_t index, float value);

  // ----- training ------------------------------------------------------------
  double lr() const;  // the optimizer's base learning rate
  // Changes the base lr from the next step on; state and step count stay.
  Status SetLearningRate(double lr);
  int64_t step() const;  // optimizer steps taken so far
  // Zeroes the optimizer state (moments, accumulators) and the step count.
  void ResetOptimizer();

  // One training step on a batch: x [rows, inputs()], y (see Targets).
  // Training mode; updates the parameters, the buffers and Diagnostics().
  // Non-finite loss, gradient or update: kBadValue, nothing is applied and
  // the optimizer state is reset (the weights stay the last finite ones).
  Status Step(const float* x, const float* y, int64_t rows);
  // Forward and backward in training mode without an update: gradients()
  // holds d(loss + penalties)/d parameters, unclipped. Running statistics
  // are updated as in a training forward.
  Status ComputeGradients(const float* x, const float* y, int64_t rows);

  // Copies x [n, inputs()] and y into the model, splits off the validation
  // examples and starts a fit; then FitRun until its state is not kRunning.
  // The optimizer state and step count carry on from earlier training.
  Status FitBegin(const float* x, const float* y, int64_t n,
                  const FitOptions& options);
  Status FitBegin(const float* x, const float* y, int64_t n,
                  std::string_view options_json);
  // Runs at most max_steps training steps (plus the end-of-epoch
  // evaluations they reach) and reports. Divergence: kBadValue (the message
  // says which step and what), progress->state == kDiverged.
  Status FitRun(int64_t max_steps, FitProgress* progress);
  // FitBegin, then FitRun to the end.
  Status Fit(const float* x, const float* y, int64_t n,
             const FitOptions& options, FitProgress* progress);
  // Every completed epoch of the current (or last) fit.
  const std::vector<EpochStats>& history() const;

  // ----- diagnostics ---------------------------------------------------------
  int DiagnosticsStride() const;     // kDiagHeader + layers * kLayerDiagStride
  const float* Diagnostics() const;  // the last step's row
  // The rows of the last FitRun's steps, oldest first (the last logSteps).
  const float* DiagnosticsLog(int64_t* rows) const;
  // Header field `field` (< kDiagHeader: the steps' own numbers) of those
  // rows as one column (valid until the next FitRun or FitBegin); null when
  // the field is out of range or nothing is logged. FitRun keeps the header
  // so as it logs: a worker streams every step's loss, thousands of steps a
  // chunk, and gathering it from rows far apart cost ~28 ns a row.
  const float* DiagnosticsLogColumn(int field, int64_t* rows) const;

  // ----- inference -----------------------------------------------------------
  // Eval mode (dropout off, batch norm on running statistics). out:
  // [n, outputs()]. More rows than the capacity grow the activation arena
  // while it stays within 2^24 floats (a 100 x 100 grid of a small network
  // runs at once, so LayerOutput then holds the whole grid); beyond that,
  // chunks. No diagnostics, no saved derivatives: a grid redraw is cheap.
  Status Predict(const float* x, int64_t n, float* out);
  // Loss (the data loss, without penalties; chunks averaged by rows) and
  // accuracy (NaN when !HasAccuracy()) in eval mode.
  Status Evaluate(const float* x, const float* y, int64_t n, double* loss,
                  double* accuracy);
  // After any forward (Step, Predict, ...): layer i's output for the last
  // (chunk of the) batch, [rows, width] row-major (a sequence model's
  // packed pass: the positions it ran, sequence after sequence). Valid
  // until the next call.
  Status LayerOutput(int layer, const float** data, int64_t* rows,
                     int64_t* width) const;
  // Eval mode: dx [n, inputs()] = the gradient, with respect to each input
  // row, of the loss summed over the n rows (for an unweighted loss: each
  // point's own loss gradient), e.g. arrows on the input plane.
  Status InputGradient(const float* x, const float* y, int64_t n, float* dx);
  // Eval mode: dx = d output[:, unit] / d x, row by row.
  Status OutputGradient(const float* x, int64_t n, int64_t unit, float* dx);

  // ----- sequence models (see "Sequence models" above)
  // ------------------------
  bool IsSequence() const;
  int64_t vocab() const;      // V (0: not a sequence model)
  int64_t block() const;      // T (1: not a sequence model)
  int64_t pad_token() const;  // the start/pad token (-1: none)
  int64_t classes() const;    // the classifier's K (0: none)
  // The parts of the last loss computed (a step, an evaluation): L1 over
  // the tokens (also when lambda is 0) and L2 of the classifier (NaN
  // without one); the step minimises L2 + lambda * L1, or L1 alone.
  void LastLosses(double* lm, double* cls) const;
  // Eval mode over n sequences x [n, T], y [n, TargetWidth()]: the token
  // loss (the mean over the counted targets: exp of it is the perplexity)
  // and next-token accuracy, and with a classifier its loss and accuracy.
  struct SequenceMetrics {
    double lm_loss = 0, lm_accuracy = 0;
    // The registry's perplexity of the counted targets (exp(lm_loss) for
    // a mean loss).
    double perplexity = 0;
    int64_t lm_tokens = 0;  // targets counted (not ignore_index)
    double cls_loss = 0, cls_accuracy = 0;  // NaN without a classifier
    int64_t sequences = 0;
  };
  Status EvaluateSequences(const float* x, const float* y, int64_t n,
                           SequenceMetrics* out);
  // The last real position of each sequence (see pad): last[i] in [0, T).
  Status LastPositions(const float* x, int64_t n, int64_t* last) const;
  // Eval mode: probabilities of the next token after each sequence's last
  // real position, softmax(logits / temperature) restricted to the top_k
  // most likely tokens (0: all) and renormalised. probs [n, V].
  Status NextTokenProbabilities(const float* x, int64_t n, double temperature,
                                int64_t top_k, float* probs);
  // Samples continuations: tokens [n, T] holds each prefix (position 0 the
  // start token, then the prefix, then pad); every sequence grows by
  // sampling NextTokenProbabilities until `end` is drawn (kept) or the
  // block is full. Draws come from (seed, sequence, position): the same
  // seed gives the same names.
  struct GenerateOptions {
    double temperature = 1;
    int64_t top_k = 0;
    int64_t end = -1;  // token that ends a sequence (-1: none)
    uint32_t seed = 0;
  };
  Status Generate(float* tokens, int64_t n, const GenerateOptions& options);
  // The classifier's logits [n, K] (eval mode).
  Status Classify(const float* x, int64_t n, float* logits);
  // After any forward: attention layer `layer`'s weights for the last
  // (chunk of the) batch, [rows, heads, T, T] (query, then key), zeros where
  // masked and outside the positions a packed pass ran. Valid until the
  // next call.
  Status AttentionWeights(int layer, const float** data, int64_t* rows) const;

  // ----- checkpoints ---------------------------------------------------------
  // The optimizer state (moments, accumulators; the layout is the
  // optimizer's) and its step count, copied out and restored bit-exactly.
  int64_t OptimizerStateFloats() const;
  Status GetOptimizerState(float* out, int64_t n) const;
  Status SetOptimizerState(const float* data, int64_t n, int64_t step);

  // ----- export --------------------------------------------------------------
  // Python source for python3-torch (1.13+) defining a module-level `model`:
  // an nn.Module of the same architecture with these weights and buffers,
  // in eval() mode, reproducing Predict within 1e-5.
  Status ToPyTorch(std::string* out) const;

  // The seed a random layer (dropout, rrelu) draws from at step `step`.
  uint32_t LayerSeed(int layer, int64_t step) const;

  class Impl;  // core/src/model/

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Arena allocations made by every model so far (the model's one counted
// allocation function): tests assert it does not move during steps.
int64_t ModelArenaAllocations();

}  // namespace dlmath

#endif  // DLMATH_MODEL_H_
