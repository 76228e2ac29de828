// Model::Impl, shared by the files of core/src/model/ (model.cc: building,
// the step, fit, inference; export.cc: PyTorch source).
#ifndef DLMATH_SRC_MODEL_MODEL_H_
#define DLMATH_SRC_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "core/src/model/layers.h"
#include "core/src/model/spec.h"
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
  bool has_batch_norm = false;

  // ----- arenas -----
  Buffer params, grads, staging, state, buffers;
  Buffer piece_sizes;  // per layer: its parameter count (clip's pieces)
  Buffer layer_norms;  // per layer: gradient norm (clip's aux output)
  model::ActivationArena acts;
  std::vector<int> out_slot, dout_slot;
  int dx_slot = -1, ones_slot = -1, loss_ws_slot = -1, loss_out_slot = -1;
  int64_t ones_width = 0;

  // ----- training state -----
  double lr = 0;
  int64_t t = 0;          // optimizer steps taken
  int64_t last_rows = 0;  // rows of the last forward (LayerOutput)
  std::vector<float> diag;

  // ----- fit -----
  struct Fit {
    FitOptions options;
    int64_t n = 0, n_train = 0, n_val = 0, batch = 0, batches = 0;
    Buffer x, y, bx, by, best, log;
    std::vector<uint32_t> perm;
    FitState state = FitState::kIdle;
    int64_t epoch = 0, batch_index = 0;
    double loss_sum = 0, correct = 0, counted = 0;
    int64_t best_epoch = 0, wait = 0;
    double best_value = 0;
    int64_t log_rows = 0;  // steps logged by the current FitRun
    double last_loss = 0;
  } fit;
  std::vector<EpochStats> history;

  Status Build();
  Status EnsureCapacity(int64_t rows);
  model::Pass MakePass(int64_t rows, bool training, bool backward);
  // Forward over every layer; returns the model output [rows, outputs].
  const float* Forward(const model::Pass& p, const float* x);
  // The loss's GenCall on the last forward's output and targets y.
  double LossForward(const model::Pass& p, const float* y);
  void LossBackward(const model::Pass& p, const float* y, float seed);
  // Backward from dout (set by the caller), into grads and dx (may be null).
  void Backward(const model::Pass& p, const float* x, float* dx);
  Status CheckTargets(const float* out, const float* y, int64_t rows,
                      bool full) const;
  double Penalties(bool backward);
  // Forward, loss (+ penalties) and backward: grads = d(loss + penalties).
  Status ForwardBackward(const model::Pass& p, const float* x, const float* y,
                         bool validate, double* data_loss, double* penalty);
  bool HasAccuracy() const;
  Status TrainStep(const float* x, const float* y, int64_t rows, bool validate,
                   double* loss);
  void ZeroBackward(const model::Pass& p);
  double Lr(int64_t step) const;
  void Correct(const float* out, const float* y, int64_t rows, double* right,
               double* total) const;
  Status EvaluateChunks(const float* x, const float* y, int64_t n,
                        int64_t max_rows, bool validate, double* loss,
                        double* accuracy);
  void EndEpoch();
  int64_t LayerParamFloats(int layer) const;
};

}  // namespace dlmath

#endif  // DLMATH_SRC_MODEL_MODEL_H_
