// The engine's layers and the activation arena they share. Legend: R rows
// (batch x sequence), I / O the layer's input / output width. Activations
// are 2-D [R, width], row-major. Each layer's forward and backward sit side
// by side and run the registry's kernels (kernels.h, Impl pointers, Gemm);
// nothing here re-implements their math.
//
// Backward ACCUMULATES (+=) into the parameter gradients and into dx, as
// every kernel does: the model zeroes both once per step.
#ifndef DLMATH_SRC_MODEL_LAYERS_H_
#define DLMATH_SRC_MODEL_LAYERS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "core/src/model/spec.h"
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
  int64_t rows = 0;
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
};

// A named tensor a layer owns in the parameter or buffer arena.
struct TensorSlot {
  int64_t offset = 0, size = 0;
};

class Layer {
 public:
  Layer(const LayerSpec& spec, int index) : spec_(spec), index_(index) {}
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
  // Side effects of a training forward kept only when the step is accepted
  // (batch norm's running statistics).
  virtual void Commit(const Pass& p) {}
  // After Forward: the fraction of the O units dead for every row (see
  // kLayerDeadFraction). Default: the output is 0 for every row.
  virtual double DeadFraction(const Pass& p, const float* x, const float* y);

  const LayerSpec& spec() const { return spec_; }
  int index() const { return index_; }
  // The op params the kernels see in this pass: learnable values from the
  // parameter arena, training and seed from the pass.
  void ParamsFor(const Pass& p, double* out) const;

 protected:
  const LayerSpec& spec_;
  const int index_;
  // Learnable registry params: index k -> parameter slot (size 1).
  std::vector<std::pair<int, TensorSlot>> learnable_;
};

// The layer for spec.type (residual blocks get a Layer whose Forward and
// Backward do nothing: the model adds x + f(x) around its children).
std::unique_ptr<Layer> MakeLayer(const LayerSpec& spec, int index);

// Fraction of the `cols` columns of v [rows, cols] that are 0 in every row.
double ZeroColumns(const float* v, int64_t rows, int64_t cols);

}  // namespace dlmath::model

#endif  // DLMATH_SRC_MODEL_LAYERS_H_
