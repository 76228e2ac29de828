// The engine's layers and the activation arena they share. Legend: R rows
// (batch x sequence), I / O the layer's input / output width. Activations
// are 2-D [R, width], row-major. Each layer's forward and backward sit side
// by side and run the registry's kernels (kernels.h, Impl pointers, Gemm);
// nothing here re-implements their math.
//
// Backward ACCUMULATES (+=) into the parameter gradients and into dx, as
// every kernel does: the model zeroes both once per step, except where it
// told a layer that can to overwrite (Layer::SetOverwrite).
#ifndef DLMATH_SRC_MODEL_LAYERS_H_
#define DLMATH_SRC_MODEL_LAYERS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "core/src/gemm.h"
#include "core/src/model/spec.h"
#include "core/src/model/stats.h"
#include "dlmath/formula.h"
#include "dlmath/model.h"
#include "dlmath/tensor.h"

namespace dlmath::model {

// The engine's one counted allocation: every arena goes through it.
Status AllocateArena(int64_t floats, const char* what, Buffer* out);

// Slots of per_row * R + fixed floats, each starting on a 64-byte line, laid
// out for a capacity of R rows; growing the capacity re-lays them out (slot
// ids stay valid, contents do not).
class ActivationArena {
 public:
  int Add(int64_t per_row, int64_t fixed);
  int64_t FloatsFor(int64_t rows) const;
  // The most rows that fit within kMaxActivationFloats.
  int64_t RowsLimit() const;
  int64_t capacity() const { return capacity_; }
  Status Layout(int64_t rows);
  float* Ptr(int slot) { return buffer_.data() + offset_[slot]; }
  const float* Ptr(int slot) const { return buffer_.data() + offset_[slot]; }
  int64_t SlotFloats(int slot, int64_t rows) const {
    return per_row_[slot] * rows + fixed_[slot];
  }

 private:
  std::vector<int64_t> per_row_, fixed_, offset_;
  int64_t capacity_ = 0;
  Buffer buffer_;
};

// What one pass over the layers sees.
struct Pass {
  int64_t rows = 0;  // sequence models: positions (offsets[seqs])
  bool training = false;
  bool backward = true;  // a backward follows (forward saves for it)
  int64_t step = 0;      // the model's step count: per-step seeds
  float* params = nullptr;
  float* grads = nullptr;
  float* buffers = nullptr;
  ActivationArena* acts = nullptr;
  const float* ones = nullptr;  // R x (widest layer) ones
  // Seed of layer `index` at this step (Model::LayerSeed).
  uint32_t (*seed)(uint32_t model_seed, int layer, int64_t step) = nullptr;
  uint32_t model_seed = 0;
  // Sequence models: the block (positions per sequence at most), the
  // sequences, sequence b's rows [offsets[b], offsets[b + 1]) (B + 1; a
  // packed pass keeps only the positions each sequence needs), each row's
  // position in its sequence, and per row 1 where the position is padding
  // (attention hides that key; null: no padding).
  int64_t block = 1;
  int64_t seqs = 0;
  const int64_t* offsets = nullptr;
  const float* positions = nullptr;
  const float* key_padding = nullptr;
};

// A named tensor a layer owns in the parameter or buffer arena.
struct TensorSlot {
  int64_t offset = 0, size = 0;
};

// A linear layer y = x Wᵀ + b (x [R, I], W [O, I], b [O]) placed in the
// arenas, its three products planned for R rows (gemm.h, GemmPlan): the
// layer runs through it, and the model's step loops call it directly (no
// virtual call, no Gemm checks). Forward y = x·Wᵀ + 1 bᵀ (the bias added
// by the product);
// backward dW (+)= dyᵀ·x, db (+)= dy's column sums, dx (+)= dy·W (dx null:
// skipped), writing (=) where the layer was told to overwrite.
struct Linear {
  const float* w = nullptr;
  float* dw = nullptr;
  const float* b = nullptr;  // null: no bias
  float* db = nullptr;
  size_t in = 0, out = 0;
  bool overwrite_dx = false, overwrite_grads = false;
  int64_t rows = -1;  // planned for (-1: not yet)
  GemmPlan fwd, dw_plan, dx_plan;

  // Plans the products for `r` rows (false: out of packing space; then the
  // products that need it write nothing).
  bool Plan(int64_t r);
  void Ready(int64_t r) {
    if (r != rows) Plan(r);
  }
  void Forward(const float* x, float* y) const { fwd.Run(x, w, y, b); }
  // Inlined into the model's backward loop (a frame per layer in wasm).
  [[gnu::always_inline]] void Backward(const float* x, const float* dy,
                                       float* dx) const {
    dw_plan.Run(dy, x, dw);
    if (b)
      AddColumnSums(dy, static_cast<size_t>(rows), out, db, !overwrite_grads);
    if (dx) dx_plan.Run(dy, w, dx);
  }
};

class Layer {
 public:
  Layer(const LayerSpec& spec, int index)
      : spec_(spec),
        index_(index),
        training_param_(spec.op ? spec.op->ParamIndex("training") : -1),
        seed_param_(spec.op ? spec.op->ParamIndex("seed") : -1) {}
  virtual ~Layer() = default;

  // Declares parameters and buffers: add(name, shape, kind) returns its
  // offset in the parameter or buffer arena. Called once, in layer order.
  using AddTensor = int64_t (*)(void* ctx, const std::string& name,
                                const Shape& shape, TensorKind kind);
  virtual void Declare(AddTensor add, void* ctx) {}
  // Requests activation scratch slots (once; ids stay valid).
  virtual void Plan(ActivationArena* acts) {}
  // Fills its parameters and buffers (seeds: one per parameter from `seed`).
  virtual Status Init(float* params, float* buffers, uint32_t seed) {
    return {};
  }
  // After the arena was laid out for `rows` (e.g. a formula's plan).
  virtual Status Resize(int64_t rows) { return {}; }

  // y [R, O] = f(x [R, I]).
  virtual void Forward(const Pass& p, const float* x, float* y) = 0;
  // Accumulates d loss / d params and d loss / dx into dx, which may be
  // null only when TakesNullDx() (the first layer's dx is rarely wanted).
  virtual void Backward(const Pass& p, const float* x, const float* y,
                        const float* dy, float* dx) = 0;
  virtual bool TakesNullDx() const { return false; }
  // When Forward is exactly fwd(x, y, R * width, p) and Backward exactly
  // bwd(x, y, dy, dx, dp, R * width, p), nothing else (no learnable or
  // per-pass params): those kernels, so that the model's loops call them
  // without this layer's virtual call around them. fwd null: not so.
  struct Elementwise {
    EwForward fwd = nullptr;
    EwBackward bwd = nullptr;
    const double* p = nullptr;
    int64_t width = 0;
  };
  virtual Elementwise elementwise() const { return {}; }
  // A linear layer's products placed in the pass's arenas (Linear), which
  // its Forward and Backward run; null: not a linear layer.
  virtual Linear* linear(const Pass& p) { return nullptr; }
  // Whether Backward can write (=) instead of accumulating: into dx, and
  // into its own parameter gradients. The model sets it where the layer is
  // the first writer in the backward (dx: the slot's first; gradients: no
  // other layer writes them) and then skips zeroing those.
  virtual bool CanOverwrite() const { return false; }
  void SetOverwrite(bool dx, bool grads) {
    overwrite_dx_ = dx;
    overwrite_grads_ = grads;
  }
  // A tied layer (linear with tie) reads and accumulates its weight at this
  // offset of the parameter arena (the embedding's), declared by another.
  virtual void Tie(int64_t offset) {}
  // Side effects of a training forward kept only when the step is accepted
  // (batch norm's running statistics).
  virtual void Commit(const Pass& p) {}
  virtual bool Commits() const { return false; }  // Commit does something
  // After Forward: the fraction of the O units dead for every row (see
  // kLayerDeadFraction). Default: the output is 0 for every row.
  virtual double DeadFraction(const Pass& p, const float* x, const float* y);
  // Where a step sees at once that no unit is dead: a first row without a
  // zero in the layer's output (kOutput: a dead unit outputs 0), or in the
  // gradient its backward writes into dx (kInputGradient: a dead unit has
  // derivative 0, and dx = dy f'(x) is then 0 too; the model uses it only
  // where this layer is the slot's one writer). Otherwise DeadFraction
  // counts.
  enum class DeadProbe { kNone, kOutput, kInputGradient };
  virtual DeadProbe dead_probe() const { return DeadProbe::kOutput; }

  const LayerSpec& spec() const { return spec_; }
  int index() const { return index_; }
  // The op params the kernels see in this pass: learnable values from the
  // parameter arena, training and seed from the pass, written to `scratch`
  // [kMaxParams]; or, when the op has none of those, spec.p itself (no copy
  // per call: inline, the usual activation's check is three compares).
  const double* ParamsFor(const Pass& p, double* scratch) const {
    return FixedParams() ? spec_.p : PassParams(p, scratch);
  }
  // Whether those are spec.p in every pass.
  bool FixedParams() const {
    return learnable_.empty() && training_param_ < 0 && seed_param_ < 0;
  }

 protected:
  const LayerSpec& spec_;
  const int index_;
  // Learnable registry params: index k -> parameter slot (size 1).
  std::vector<std::pair<int, TensorSlot>> learnable_;
  // Backward writes dx / its parameter gradients instead of adding.
  bool overwrite_dx_ = false, overwrite_grads_ = false;

 private:
  // ParamsFor's copy into scratch with the pass's values.
  const double* PassParams(const Pass& p, double* scratch) const;
  // The op's "training" and "seed" params (-1: none), looked up once.
  const int training_param_, seed_param_;
};

// The layer for spec.type (residual blocks get a Layer whose Forward and
// Backward do nothing: the model adds x + f(x) around its children).
std::unique_ptr<Layer> MakeLayer(const LayerSpec& spec, int index);

// The seed of the parameter at `offset` of the arena: distinct parameters
// draw from distinct streams of the model's seed.
uint32_t ParamSeed(uint32_t seed, int64_t offset);

// Fills w [rows, cols] as `init` says (zeros, "normal", a registry
// initializer run on that shape), drawing from `seed`.
Status InitWeight(const InitSpec& init, uint32_t seed, int64_t rows,
                  int64_t cols, float* w);

// Batched causal multi-head self-attention (core/src/model/attention.cc).
std::unique_ptr<Layer> MakeAttentionLayer(const LayerSpec& spec, int index);
// Its weights [rows / T, heads, T, T] after the last forward (the layer
// must be an attention layer).
const float* AttentionLayerWeights(const Layer& layer, const Pass& p);

// Fraction of the `cols` columns of v [rows, cols] that are 0 in every row.
double ZeroColumns(const float* v, int64_t rows, int64_t cols);

}  // namespace dlmath::model

#endif  // DLMATH_SRC_MODEL_LAYERS_H_
