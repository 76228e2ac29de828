// Model::Impl, shared by the files of core/src/model/ (model.cc: building,
// the step, fit, inference; export.cc: PyTorch source).
#ifndef DLMATH_SRC_MODEL_MODEL_H_
#define DLMATH_SRC_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "core/src/model/layers.h"
#include "core/src/model/spec.h"
#include "core/src/model/stats.h"
#include "core/src/steps.h"
#include "dlmath/model.h"

namespace dlmath {

class Model::Impl {
 public:
  // ----- structure (fixed after Build) -----
  model::ModelSpec spec;
  std::vector<LayerInfo> infos;
  std::vector<const model::LayerSpec*> specs;  // per layer
  std::vector<std::unique_ptr<model::Layer>> layers;
  std::vector<int> src;    // the layer whose output is layer i's input (-1: x)
  std::vector<int> tail;   // residual: its last direct child
  std::vector<int> order;  // forward order: a residual after its children
  int last = -1;           // the layer whose output is the model's
  std::vector<ParamEntry> table;
  int64_t num_params = 0, num_buffers = 0;
  std::vector<int64_t> param_begin;  // per layer: its first parameter float
  std::vector<model::TensorSlot> penalized;  // linear weights (l1, l2)
  bool penalties = false;  // some are, with l1 or l2 set: Penalties runs
  bool has_batch_norm = false;
  // Runs of the parameter arena with one weight-decay setting: the
  // optimizer steps each run with its own slice of the state.
  // Each run also has its state's offset, the optimizer's params with its
  // decay (lr: set each step) and what the step watches in it: its layers'
  // update sums and the parameters before it (StepWatch, set by Build).
  struct DecayRun {
    int64_t begin = 0, count = 0;
    bool decay = true;
    int64_t state_begin = 0;
    double opt_p[kMaxParams] = {};
    StepWatch watch;
  };
  std::vector<DecayRun> runs;
  // The runs' pieces, run after run: each one's end (from its run's begin)
  // and the update sums of its layer (update_sums).
  std::vector<int64_t> piece_ends;
  std::vector<double*> piece_sums;
  // Sequence models: the classifier head's layer (-1: none) and the layer
  // whose output it reads (the input of the last layer).
  int cls = -1, hidden = -1;

  // ----- arenas -----
  Buffer params, grads, staging, state, buffers;
  Buffer piece_sizes;  // per layer: its parameter count (clip's pieces)
  Buffer layer_norms;  // per layer: gradient norm (clip's aux output)
  model::ActivationArena acts;
  std::vector<int> out_slot, dout_slot;
  // Per layer, set at each layout of the arena (EnsureCapacity): its output
  // and output-gradient slots, its input (null: x) and the gradient slot its
  // backward writes into (null: dx).
  struct LayerIo {
    float* out = nullptr;
    float* dout = nullptr;
    const float* in = nullptr;
    float* din = nullptr;
  };
  std::vector<LayerIo> io;
  // The layers in forward order as the pass's loops run them (Forward,
  // Backward): kinds and kernels set by Build, addresses with io. A layer
  // whose forward and backward are one elementwise kernel call each
  // (Layer::elementwise) is run through its kernels directly: a virtual call
  // costs V8's wasm code a frame and a reload of the module's state.
  struct LayerStep {
    enum class Kind : uint8_t { kLayer, kResidual, kElementwise, kLinear };
    Kind kind = Kind::kLayer;
    bool null_dx = false;  // its backward takes a null dx (TakesNullDx)
    int index = 0;
    model::Layer* layer = nullptr;
    const float* in = nullptr;  // null: x
    float* out = nullptr;
    float* dout = nullptr;
    float* din = nullptr;  // null: dx
    // kElementwise: floats per row, kernels and params.
    int64_t width = 0;
    EwForward fwd = nullptr;
    EwBackward bwd = nullptr;
    const double* p = nullptr;
    // kLinear: the layer's products, placed at each layout (EnsureCapacity).
    model::Linear* linear = nullptr;
  };
  std::vector<LayerStep> steps;
  double unused_dp[kMaxParams] = {};  // dp of kernels without learnable params
  std::vector<int> committers;        // layers with a Commit (Layer::Commits)
  int dx_slot = -1, ones_slot = -1, loss_ws_slot = -1, loss_out_slot = -1;
  int64_t ones_width = 0;
  // Sequence models, per position: padding flags (key_padding), the token
  // targets copied out of y (with a classifier); per sequence: the last
  // real position, the class, the gathered hidden rows and their gradient,
  // the classifier loss's scratch.
  int pad_slot = -1, lm_y_slot = -1, last_slot = -1, cls_y_slot = -1,
      gather_slot = -1, dgather_slot = -1, cls_ws_slot = -1;
  // Sequence models: each row's position and, packing (spec input.pack),
  // the pass's token ids when it keeps fewer positions than the block;
  // whether dropping a sequence's trailing padding is exact for this model
  // (Build); the pass's sequence offsets (B + 1, reserved by
  // EnsureCapacity).
  int pos_slot = -1, tok_slot = -1;
  bool packable = false;
  std::vector<int64_t> offsets;

  // ----- the last LossForward: its targets (token targets of every row, the
  // classes of the classifier), the counted ones, and its parts -----
  const float* targets = nullptr;
  const float* classes = nullptr;
  int64_t counted = 0;
  double lm_loss = 0, cls_loss = 0;
  // A loss's GenCall over an output [rows, width] and its targets, kept by
  // the model: Place points it at the arena (at each layout), LossForward
  // at the pass's targets (the shapes are rewritten only when the rows
  // change: Rows), and LossBackward reuses it as it is.
  struct LossCall {
    const float* in[kMaxInputs] = {};
    Shape shapes[kMaxInputs];
    float* din[kMaxInputs] = {};
    double dp[kMaxParams] = {};
    float seed = 0;
    GenCall<float> call{
        .in = in, .in_shape = shapes, .dy = &seed, .din = din, .dp = dp};
    LossCall() = default;
    LossCall(const LossCall&) = delete;  // call points into this object
    LossCall& operator=(const LossCall&) = delete;
    // The op's params, the output, its gradient, the loss value and the
    // workspace.
    void Place(const double* params, const float* out, float* dout,
               float* value, float* ws);
    // Targets [rows] (class_targets) or [rows, width] and, when the loss
    // reads one (vector_input >= 0), its per-class vector.
    void Rows(int64_t rows, int64_t width, bool class_targets,
              const std::vector<float>* vector = nullptr,
              int vector_input = -1);
    bool HasRows(int64_t rows) const {
      return shapes[0][0] == rows && shapes[0].rank == 2;
    }
    double Forward(const OpInfo& op, const float* targets) {
      in[1] = targets;
      op.impl.gen_fwd(call);
      return call.out[0];
    }
    void Backward(const OpInfo& op, float upstream) {
      seed = upstream;
      op.impl.gen_bwd(call);
    }
  };
  LossCall lm_call, cls_call;  // the model's loss, the classifier head's
  // LossForward's targets when they are not y as it is (sequences, an
  // ignore_index to count), and the classifier head's loss.
  [[gnu::noinline]] void LossTargets(const model::Pass& p, const float* y);
  [[gnu::noinline]] double ClassifierLoss(const model::Pass& p);

  // ----- per-step constants, resolved by Build -----
  int lr_param = -1;  // the optimizer's "lr" param
  int wd_param = -1;  // its "weight_decay" param (-1: none)
  // clip_grad_norm's params: measuring only (max_norm inf) or clipping.
  double measure_p[kMaxParams] = {}, clip_p[kMaxParams] = {};

  // ----- training state -----
  double lr = 0;
  int64_t t = 0;  // optimizer steps taken
  // The last forward's pass, written by MakePass (LayerOutput; rows 0: no
  // forward yet).
  model::Pass last_pass;
  std::vector<float> diag;
  // The step's diagnostics sums, sized by Build (a step allocates nothing):
  // per layer its output, output gradient and dead-unit probe (addresses
  // set with io, sizes each step), and the sums of the moments (four a layer,
  // stats.h) and of the update (four a layer, with the gradient's squares:
  // StepWatch, core/src/steps.h).
  std::vector<model::LayerArrays> diag_arrays;
  std::vector<double> moments, update_sums;
  // The pass rows and sequences diag_arrays' sizes are set for (-1: none
  // yet): a step sets them again only when they change (SetDiagRows).
  int64_t diag_rows = -1, diag_seqs = -1;
  void SetDiagRows(const model::Pass& p);
  // The layers with parameters, whose update diagnostics a step writes
  // (a layer without keeps the 0s Build wrote).
  std::vector<int> param_layers;
  // Per layer: the slot whose columns, when each holds a nonzero, show that
  // no unit is dead (Layer::dead_probe; -1: DeadFraction always counts),
  // and its width.
  std::vector<int> dead_slot;
  std::vector<int64_t> dead_width;

  // ----- fit -----
  struct Fit {
    FitOptions options;
    bool accuracy = false;  // HasAccuracy(): FitRun counts correct rows
    int64_t n = 0, n_train = 0, n_val = 0, batch = 0, batches = 0;
    Buffer x, y, bx, by, best, log;
    // The log's header fields again, field-major: field k of the r-th step
    // logged at header_log[k * log_steps + r], each a column to copy
    // (DiagnosticsLogColumn), not to gather from rows far apart.
    Buffer header_log;
    std::vector<uint32_t> perm;
    FitState state = FitState::kIdle;
    int64_t epoch = 0, batch_index = 0;
    double loss_sum = 0, weight = 0, correct = 0, counted = 0;
    int64_t best_epoch = 0, wait = 0;
    double best_value = 0;
    int64_t log_rows = 0;  // steps logged by the current FitRun
    double last_loss = 0;
  } fit;
  std::vector<EpochStats> history;

  Status Build();
  // rows: rows of x (sequences for a sequence model) from here on; the
  // layers see rows * spec.block positions.
  Status EnsureCapacity(int64_t rows);
  // Rows of x the arena holds: kept by EnsureCapacity (every step asks; a
  // 64-bit division each time otherwise).
  int64_t Capacity() const { return capacity_rows; }
  int64_t capacity_rows = 0;
  int64_t RowsLimit() const { return acts.RowsLimit() / spec.block; }
  // A pass over `rows` rows of x (sequences for a sequence model). With x,
  // a sequence model's pass packs: each sequence keeps its positions up to
  // its last real token or counted target of y (y null: tokens only, the
  // outputs are read at real positions only); without x, or when packing
  // is off or not exact, every sequence runs the whole block.
  // It is written into last_pass, which the caller's Forward then runs:
  // every MakePass is followed by its Forward.
  // Inline: a model without sequences sets five fields (the rest are set
  // by EnsureCapacity); SequencePass does the rest out of line.
  [[gnu::always_inline]] inline const model::Pass& MakePass(
      int64_t rows, bool training, bool backward, const float* x = nullptr,
      const float* y = nullptr);
  [[gnu::noinline]] void SequencePass(const float* x, const float* y);
  // Whether a sequence model's pass keeps fewer positions than the block.
  bool Packed(const model::Pass& p) const;
  // The token ids the layers read: x, or the pass's positions of each
  // sequence of x, gathered by Forward.
  const float* Tokens(const model::Pass& p, const float* x);
  // Layer i's rows in pass p (the classifier's: one per sequence) and its
  // input.
  int64_t LayerRows(int i, const model::Pass& p) const;
  const float* LayerInput(int i, const float* x);
  // rows >= 1, x (and y) given, and for sequence models token ids in [0,
  // V) and targets in range.
  Status CheckRows(const float* x, const float* y, int64_t rows,
                   bool need_y) const;
  Status NoInputGradient() const;
  Status CheckTokens(const float* x, int64_t rows) const;
  Status CheckSequenceTargets(const float* y, int64_t rows) const;
  // The step's path (ForwardBackward) runs Forward, LossForward,
  // ZeroBackward, LossBackward and Backward inline: a call costs V8's wasm
  // code a frame and a reload of the module's state, each step (2-8-8-1:
  // ~200 of 20.6k x86 instructions). Their rare branches stay calls. Only
  // model.cc uses them.
  [[gnu::noinline]] const float* SequenceInput(const model::Pass& p,
                                               const float* x);
  [[gnu::noinline]] void ResidualForward(int i, const model::Pass& p,
                                         const float* in);
  [[gnu::noinline]] void ResidualBackward(int i, const model::Pass& p,
                                          float* din);
  [[gnu::noinline]] void ClassifierForward(const model::Pass& p,
                                           const float* x);
  [[gnu::noinline]] void ClassifierBackward(const model::Pass& p);
  // Forward over every layer; returns the model output [rows, outputs].
  [[gnu::always_inline]] inline const float* Forward(const model::Pass& p,
                                                     const float* x);
  // The loss's GenCall on the last forward's output and targets y.
  [[gnu::always_inline]] inline double LossForward(const model::Pass& p,
                                                   const float* y);
  // Its backward into the output gradients (the pass and targets of the
  // last LossForward, whose calls it reuses).
  [[gnu::always_inline]] inline void LossBackward(const model::Pass& p,
                                                  const float* y, float seed);
  // Backward from dout (set by the caller), into grads and dx (may be null).
  [[gnu::always_inline]] inline void Backward(const model::Pass& p,
                                              const float* x, float* dx);
  // Inline: a step whose loss checks shapes only (known once asked) makes
  // no call (TargetsChecked: nothing to check then).
  Status CheckTargets(const float* out, const float* y, int64_t rows,
                      bool full) {
    if (!full && TargetsChecked()) return {};
    return CheckTargetValues(out, y, rows, full);
  }
  bool TargetsChecked() const {
    return !spec.sequence() && loss_reads_values == 0;
  }
  Status CheckTargetValues(const float* out, const float* y, int64_t rows,
                           bool full);
  // CheckTargets' arguments to the loss's shape function (inputs beyond
  // the loss's own stay empty).
  struct TargetCheck {
    Shape in[kMaxInputs], out, aux[kMaxAux];
    const float* data[kMaxInputs] = {};
  } target_check;
  // target_check set for output out [rows, outputs] and targets y.
  TargetCheck& SetTargetCheck(const float* out, const float* y, int64_t rows);
  // The loss's shape function on them, or Prepare (which also checks that
  // Index inputs hold integers).
  Status LossShape(const float* out, const float* y, int64_t rows);
  Status LossPrepare(const float* out, const float* y, int64_t rows);
  // Whether that function reads the values (else only shapes), and its
  // answer (-1: not asked yet).
  bool LossReadsValues();
  int loss_reads_values = -1;
  double Penalties(bool backward);
  // Forward, loss (+ penalties) and backward: grads = d(loss + penalties).
  // Inline in the step: its call cost a frame and a Status returned through
  // memory (and destroyed) on every step.
  [[gnu::always_inline]] inline Status ForwardBackward(
      const model::Pass& p, const float* x, const float* y, bool validate,
      double* data_loss, double* penalty);
  bool HasAccuracy() const;
  Status TrainStep(const float* x, const float* y, int64_t rows, bool validate,
                   double* loss);
  // Zeroes what a backward accumulates into: the gradients and output
  // gradient slots whose first writer adds (not those a linear layer
  // overwrites, Build) and (when input_gradient or a first layer writes it)
  // the dx slot.
  [[gnu::always_inline]] inline void ZeroBackward(const model::Pass& p,
                                                  bool input_gradient);
  std::vector<std::pair<int64_t, int64_t>> zero_grads;  // (offset, floats)
  std::vector<int> zero_douts;  // layers whose dout slot is zeroed
  // Their run in the arena (EnsureCapacity): from the first one's slot to
  // the last one's, which holds zero_width floats per row of the pass
  // (per sequence: zero_seqs, the classifier).
  float* zero_from = nullptr;
  float* zero_last = nullptr;
  int64_t zero_width = 0;
  bool zero_seqs = false;
  bool dx_always = false;  // a first layer writes dx even if null
  double Lr(int64_t step) const;
  // Accuracy counts of the last forward against the last LossForward's
  // targets: the classifier's classes if there is one, else the rows'.
  void Correct(const model::Pass& p, double* right, double* total) const;
  void ClassCorrect(const model::Pass& p, double* right, double* total) const;
  void RowCorrect(const model::Pass& p, double* right, double* total) const;
  // After a forward: next-token probabilities at position last[b] of each
  // sequence (softmax_temperature, top_k, `banned` zeroed), probs [B, V].
  void NextTokens(const model::Pass& p, const int64_t* last, double temperature,
                  int64_t top_k, int64_t banned, float* probs,
                  std::vector<float>* scratch);
  // What a chunk's mean loss is weighted by when chunks are averaged: its
  // rows, or its counted targets (ignore_index), or 1 for summed losses.
  double LossWeight(int64_t rows) const;
  int64_t TargetWidth() const;  // floats of y per row
  Status EvaluateChunks(const float* x, const float* y, int64_t n,
                        int64_t max_rows, bool validate, double* loss,
                        double* accuracy);
  void EndEpoch();
  int64_t LayerParamFloats(int layer) const;
};

}  // namespace dlmath

#endif  // DLMATH_SRC_MODEL_MODEL_H_
