// Embind bindings of the training engine (dlmath/model.h): marshalling only,
// the model's math and every validation live in core/src/model/.
//
// Data crosses per call, never per element: the facade stages each array
// (its size and shape, then one HEAPF32.set, or copyWithin from a resident
// tensor) and then calls step/predict/..., which read the staged arrays.
// Staging keeps its size between calls, so once it holds a batch a training
// step allocates nothing on the heap (the tests count it: _allocations).
// Hot calls (step, gradients) return a heap address, 0 on failure with the
// error kept for lastError; the others return {error} or their result. The
// step is a plain wasm export (dlmath_model_step, at the end), not Embind.
#include "dlmath/model.h"

#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/val.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasm/handles.h"

namespace dlmath::wasm {
namespace {

using emscripten::val;

// The diagnostics row's field names, in DiagField / LayerDiagField order:
// the facade builds its result objects from these, so the layout is written
// down once (model.h).
constexpr const char* kDiagNames[] = {
    "loss", "dataLoss", "lr", "gradNorm", "clippedGradNorm", "step", "rows"};
static_assert(std::size(kDiagNames) == kDiagHeader);
constexpr const char* kLayerDiagNames[] = {
    "gradNorm", "weightNorm",   "updateRatio", "actMean",
    "actStd",   "deadFraction", "outGradNorm"};
static_assert(std::size(kLayerDiagNames) == kLayerDiagStride);

// Which call a shape check belongs to, for its message.
enum Call : int {
  kStep,
  kGradients,
  kFit,
  kPredict,
  kEvaluate,
  kInputGrad,
  kOutputGrad,
  kCalls
};
constexpr const char* kCallNames[] = {
    "model.step",          "model.gradients", "model.fit",
    "model.predict",       "model.evaluate",  "model.inputGradient",
    "model.outputGradient"};
static_assert(std::size(kCallNames) == kCalls);

// Staging slots: inputs x (also a parameter's new values) and targets y.
enum Slot : int { kX = 0, kY = 1, kSlots };

// Staging above this many floats is released after the call that used it
// (a dataset handed to fit or predict), so it is not held twice.
constexpr int64_t kKeepFloats = int64_t{1} << 20;

val Names(const char* const* names, int n) {
  val a = val::array();
  for (int i = 0; i < n; ++i) a.call<void>("push", val(names[i]));
  return a;
}

val ShapeArray(const Shape& s) {
  val a = val::array();
  for (int i = 0; i < s.rank; ++i)
    a.call<void>("push", static_cast<double>(s.dim[i]));
  return a;
}

// What the facade staged in a slot: n floats of a JS array of rank `rank`
// whose first dimensions are d0, d1 (as many as it has, up to two).
struct Staged {
  int64_t n = 0;
  int rank = 0;
  int64_t d0 = 0, d1 = 0;
  std::string str() const {
    std::string s = "[";
    if (rank > 0) s += std::to_string(d0);
    if (rank > 1) s += ", " + std::to_string(d1);
    if (rank > 2) s += ", ...] (rank " + std::to_string(rank) + ")";
    return rank > 2 ? s : s + "]";
  }
};

// Errors of the model's calls say where they come from: op "model".
Status FromModel(Status s) {
  if (s.ok() || !s.op().empty()) return s;
  return Status(s.code(), "model", s.what(), s.message());
}

// Doubles per epoch in ModelHandle::History's rows and FitRun's lastEpoch:
// epoch, loss, accuracy, valLoss, valAccuracy.
constexpr int kEpochFields = 5;

double* EpochRow(const EpochStats& e, double* r) {
  *r++ = static_cast<double>(e.epoch);
  *r++ = e.train_loss;
  *r++ = e.train_accuracy;
  *r++ = e.val_loss;
  *r++ = e.val_accuracy;
  return r;
}

// FitRun's progress, doubles in this order (the facade finds each by its
// name in info().fitProgress): the state is its index in info().fitStates,
// failed is 1 when the run's status is an error (kept for LastError), and
// lastEpoch, valid when hasEpoch is 1, is an epoch's row (kEpochFields).
// One heap view instead of an object: each property an Embind val sets costs
// V8 several hundred x86 instructions (a fit() makes two runs).
constexpr const char* kProgressNames[] = {
    "state",           "step",     "epoch",    "epochs",    "batch",
    "batchesPerEpoch", "stepsRun", "loss",     "bestEpoch", "best",
    "failed",          "hasEpoch", "lastEpoch"};
constexpr int kProgressFields = std::size(kProgressNames);
constexpr int kProgressDoubles = kProgressFields - 1 + kEpochFields;
constexpr int kFitStates = static_cast<int>(FitState::kDiverged) + 1;

// {address, rows, width}: `rows` rows of `width` floats at `address`.
val Rows(const float* p, int64_t rows, int64_t width) {
  val o = val::object();
  o.set("address", static_cast<double>(reinterpret_cast<uintptr_t>(p)));
  o.set("rows", static_cast<double>(rows));
  o.set("width", static_cast<double>(width));
  return o;
}

// One model and its staging buffers; JS owns it and delete()s it.
class ModelHandle {
 public:
  explicit ModelHandle(std::unique_ptr<Model> m) : m_(std::move(m)) {}

  // Structure, layout of the diagnostics and the parameter table; read once
  // by the facade after creation.
  val Info() const {
    val o = val::object();
    o.set("inputs", static_cast<double>(m_->inputs()));
    o.set("outputs", static_cast<double>(m_->outputs()));
    o.set("classTargets", m_->ClassTargets());
    o.set("targetWidth", static_cast<double>(m_->TargetWidth()));
    o.set("hasAccuracy", m_->HasAccuracy());
    o.set("numParameters", static_cast<double>(m_->num_parameters()));
    o.set("numBuffers", static_cast<double>(m_->num_buffers()));
    o.set("diagStride", m_->DiagnosticsStride());
    o.set("diagHeader", Names(kDiagNames, kDiagHeader));
    o.set("diagLayer", Names(kLayerDiagNames, kLayerDiagStride));
    o.set("fitProgress", Names(kProgressNames, kProgressFields));
    val states = val::array();
    for (int i = 0; i < kFitStates; ++i)
      states.call<void>("push", val(FitStateName(static_cast<FitState>(i))));
    o.set("fitStates", states);
    val layers = val::array();
    for (const LayerInfo& l : m_->layers()) {
      val e = val::object();
      e.set("type", val(LayerTypeName(l.type)));
      e.set("path", l.path);
      e.set("spec", l.spec);
      e.set("id", l.op ? std::string(l.op->id) : std::string());
      e.set("formula", l.formula);
      e.set("inWidth", static_cast<double>(l.in_width));
      e.set("outWidth", static_cast<double>(l.out_width));
      e.set("parent", l.parent);
      e.set("heads", static_cast<double>(l.heads));
      e.set("causal", l.causal);
      e.set("keyPadding", l.key_padding);
      e.set("tied", l.tied);
      e.set("head", l.head);
      layers.call<void>("push", e);
    }
    o.set("layers", layers);
    o.set("isSequence", m_->IsSequence());
    o.set("vocab", static_cast<double>(m_->vocab()));
    o.set("block", static_cast<double>(m_->block()));
    o.set("pad", static_cast<double>(m_->pad_token()));
    o.set("classes", static_cast<double>(m_->classes()));
    val params = val::array();
    for (const ParamEntry& p : m_->ParameterTable()) {
      val e = val::object();
      e.set("name", p.name);
      e.set("shape", ShapeArray(p.shape));
      e.set("kind",
            val(p.kind == TensorKind::kParameter ? "parameter" : "buffer"));
      e.set("layer", p.layer);
      e.set("offset", static_cast<double>(p.offset));  // floats into its arena
      params.call<void>("push", e);
    }
    o.set("parameters", params);
    return o;
  }

  std::string Spec() const { return m_->SpecJson(); }

  // Address of room for the n floats of a JS array of the given rank and
  // first dimensions in a staging slot (grown if needed), or 0 with the
  // error kept for LastError. The next call reads the slot as that array.
  // The facade calls it through dlmath_model_stage below, not Embind.
  uintptr_t Stage(int slot, double n, int rank, double d0, double d1) {
    if (slot < 0 || slot >= kSlots || !(n >= 0)) return 0;
    const int64_t want = static_cast<int64_t>(n);
    const char* arg = slot == kX ? "x" : "y";
    if (want > kMaxElements)
      return Fail(Status(ErrorCode::kTooLarge, "model", arg,
                         std::to_string(want) + " values exceed the limit of " +
                             std::to_string(kMaxElements) + " per array"));
    Buffer& b = stage_[slot];
    if (b.size() < std::max<int64_t>(want, 1)) {
      b = Buffer(std::max<int64_t>(want, 1));
      if (!b.ok() || !b.data()) {
        b = Buffer();
        staged_[slot] = Staged{};
        return Fail(
            Status(ErrorCode::kOutOfMemory, "model", arg,
                   "out of memory for " + std::to_string(want) + " values"));
      }
    }
    staged_[slot] =
        Staged{want, rank, static_cast<int64_t>(d0), static_cast<int64_t>(d1)};
    step_rows_ = 0;
    return reinterpret_cast<uintptr_t>(b.data());
  }

  // One training step on the staged batch: the address of the diagnostics
  // row, or 0 (LastError). The facade calls it through dlmath_model_step
  // below, not Embind.
  uintptr_t Step() {
    if (step_rows_ == 0) {
      if (Status s = Batch(kStep, true, &step_rows_); !s.ok()) {
        step_rows_ = 0;
        return Fail(s);
      }
    }
    if (Status s = m_->Step(stage_[kX].data(), stage_[kY].data(), step_rows_);
        !s.ok())
      return Fail(s);
    return reinterpret_cast<uintptr_t>(m_->Diagnostics());
  }

  // This handle's address, for the plain exports below (read once by the
  // facade, which keeps the Embind handle alive while it uses it).
  double Self() const { return Address(this); }

  // Gradients of the staged batch without an update: the gradient arena's
  // address (parameters' layout), or 0 (LastError).
  double Gradients() {
    int64_t rows;
    if (Status s = Batch(kGradients, true, &rows); !s.ok()) return Fail(s);
    if (Status s =
            m_->ComputeGradients(stage_[kX].data(), stage_[kY].data(), rows);
        !s.ok())
      return Fail(s);
    return Address(m_->gradients());
  }

  double Diagnostics() const { return Address(m_->Diagnostics()); }
  double Parameters() const { return Address(m_->parameters()); }
  double Buffers() const { return Address(m_->buffers()); }

  val LastError() const { return ErrorObject(error_); }

  // Starts a fit on the staged dataset (copied into the model), its options
  // as JSON text (FitOptions).
  val FitBegin(std::string options) {
    const Status s = BeginFit(options, nullptr);
    return s.ok() ? val::object() : ErrorObject(FromModel(s));
  }

  // The same with the options that the facade found of the usual keys and
  // types, as numbers (NaN: the key was not given, its default applies):
  // parsing JSON text cost a small fit() ~150 x86 instructions a step. 1,
  // or 0 with the error kept for LastError. The facade calls it through
  // dlmath_model_fit_begin below, not Embind.
  int FitBeginWith(double epochs, double batch_size, double shuffle,
                   double validation_split, double log_steps) {
    FitOptions o;
    auto given = [](double v) { return !std::isnan(v); };
    if (given(epochs)) o.epochs = static_cast<int64_t>(epochs);
    if (given(batch_size)) o.batch_size = static_cast<int64_t>(batch_size);
    if (given(shuffle)) o.shuffle = shuffle != 0;
    if (given(validation_split)) o.validation_split = validation_split;
    if (given(log_steps)) o.log_steps = static_cast<int64_t>(log_steps);
    const Status s = BeginFit({}, &o);
    return s.ok() ? 1 : Fail(s);
  }

  // Up to max_steps steps of the fit: the address of its progress
  // (kProgressDoubles doubles, kProgressNames), valid until the next call;
  // failed when it diverged (state 'diverged', LastError says how). The
  // facade calls it through dlmath_model_fit_run below, not Embind.
  uintptr_t FitRun(double max_steps) {
    FitProgress p;
    const Status s = m_->FitRun(static_cast<int64_t>(max_steps), &p);
    if (!s.ok()) Fail(s);
    double* r = progress_;
    *r++ = static_cast<double>(p.state);
    *r++ = static_cast<double>(p.step);
    *r++ = static_cast<double>(p.epoch);
    *r++ = static_cast<double>(p.epochs);
    *r++ = static_cast<double>(p.batch);
    *r++ = static_cast<double>(p.batches_per_epoch);
    *r++ = static_cast<double>(p.steps_run);
    *r++ = p.loss;
    *r++ = static_cast<double>(p.best_epoch);
    *r++ = p.best;
    *r++ = s.ok() ? 0 : 1;
    *r++ = p.has_epoch ? 1 : 0;
    EpochRow(p.has_epoch ? p.last_epoch : EpochStats{}, r);
    return reinterpret_cast<uintptr_t>(progress_);
  }

  // Every epoch of the current (or last) fit as doubles for the facade to
  // copy at once: their count, then a row of kEpochFields per epoch (epoch,
  // loss, accuracy, valLoss, valAccuracy); valid until the next call. An
  // object per epoch took ~4 us each through emval, 50 ms at the end of a
  // 12,000-epoch fit; the call itself is a plain export
  // (dlmath_model_history below), not Embind, as it ends every fit().
  uintptr_t History() {
    const std::vector<EpochStats>& h = m_->history();
    history_.resize(1 + h.size() * kEpochFields);
    double* r = history_.data();
    *r++ = static_cast<double>(h.size());
    for (const EpochStats& e : h) r = EpochRow(e, r);
    return reinterpret_cast<uintptr_t>(history_.data());
  }

  // Header field `field` of every step in the diagnostics log, oldest first,
  // as one column (Model::DiagnosticsLogColumn): its address, or 0 with the
  // error kept for LastError. The facade calls it through
  // dlmath_model_log_column below: the worker host streams every step's
  // loss and lr, up to 16,384 steps a chunk, and a JS loop over the log's
  // rows took ~0.08 ms a chunk more than this copy (Node).
  uintptr_t LogColumn(int field) {
    int64_t rows;
    if (const float* c = m_->DiagnosticsLogColumn(field, &rows))
      return reinterpret_cast<uintptr_t>(c);
    return Fail(Status(ErrorCode::kBadValue, "model", "field",
                       "diagnostics header field " + std::to_string(field) +
                           " is not in [0, " + std::to_string(kDiagHeader) +
                           ") or nothing was logged"));
  }

  // The diagnostics rows of the last FitRun, oldest first.
  val DiagnosticsLog() const {
    int64_t rows;
    const float* p = m_->DiagnosticsLog(&rows);
    return Rows(p, rows, m_->DiagnosticsStride());
  }

  val Predict() {
    int64_t rows;
    Status s = Batch(kPredict, false, &rows);
    if (s.ok()) s = Output(rows * m_->outputs());
    if (s.ok()) s = m_->Predict(stage_[kX].data(), rows, out_.data());
    Release();
    return s.ok() ? Rows(out_.data(), rows, m_->outputs())
                  : ErrorObject(FromModel(s));
  }

  val Evaluate() {
    int64_t rows;
    double loss = 0, accuracy = 0;
    Status s = Batch(kEvaluate, true, &rows);
    if (s.ok())
      s = m_->Evaluate(stage_[kX].data(), stage_[kY].data(), rows, &loss,
                       &accuracy);
    Release();
    if (!s.ok()) return ErrorObject(FromModel(s));
    val o = val::object();
    o.set("loss", loss);
    o.set("accuracy", accuracy);
    return o;
  }

  // d loss / d x for the staged batch: {address, rows, width}.
  val InputGradient() {
    int64_t rows;
    Status s = Batch(kInputGrad, true, &rows);
    if (s.ok()) s = Output(rows * m_->inputs());
    if (s.ok())
      s = m_->InputGradient(stage_[kX].data(), stage_[kY].data(), rows,
                            out_.data());
    Release();
    return s.ok() ? Rows(out_.data(), rows, m_->inputs())
                  : ErrorObject(FromModel(s));
  }

  // d output[:, unit] / d x for the staged batch.
  val OutputGradient(double unit) {
    int64_t rows;
    Status s = Batch(kOutputGrad, false, &rows);
    if (s.ok()) s = Output(rows * m_->inputs());
    if (s.ok())
      s = m_->OutputGradient(stage_[kX].data(), rows,
                             static_cast<int64_t>(unit), out_.data());
    Release();
    return s.ok() ? Rows(out_.data(), rows, m_->inputs())
                  : ErrorObject(FromModel(s));
  }

  val LayerOutput(int layer) const {
    const float* p = nullptr;
    int64_t rows = 0, width = 0;
    if (Status s = m_->LayerOutput(layer, &p, &rows, &width); !s.ok())
      return ErrorObject(FromModel(s));
    return Rows(p, rows, width);
  }

  // A parameter or buffer copied out: {address, rows: 1, width: size}.
  val GetParameter(std::string name) {
    const ParamEntry* e = m_->FindParameter(name);
    const int64_t n = e ? e->shape.numel() : 0;
    Status s = Output(n);
    if (s.ok()) s = m_->GetParameter(name, out_.data(), n);
    return s.ok() ? Rows(out_.data(), 1, n) : ErrorObject(FromModel(s));
  }

  // Sets a parameter or buffer from the values staged in slot x.
  val SetParameter(std::string name) {
    const Status s = m_->SetParameter(name, stage_[kX].data(), staged_[kX].n);
    Release();
    return s.ok() ? val::object() : ErrorObject(FromModel(s));
  }

  val SetParameterValue(std::string name, double index, double value) {
    const Status s = m_->SetParameterValue(name, static_cast<int64_t>(index),
                                           static_cast<float>(value));
    return s.ok() ? val::object() : ErrorObject(FromModel(s));
  }

  double Lr() const { return m_->lr(); }
  val SetLr(double lr) {
    const Status s = m_->SetLearningRate(lr);
    return s.ok() ? val::object() : ErrorObject(FromModel(s));
  }
  double StepCount() const { return static_cast<double>(m_->step()); }
  void ResetOptimizer() { m_->ResetOptimizer(); }

  // ----- sequence models -----

  // Token loss, next-token accuracy and perplexity (and the classifier's
  // loss and accuracy) of the staged sequences, eval mode.
  val EvaluateSequences() {
    int64_t rows;
    Model::SequenceMetrics r;
    Status s = Batch(kEvaluate, true, &rows);
    if (s.ok())
      s = m_->EvaluateSequences(stage_[kX].data(), stage_[kY].data(), rows, &r);
    Release();
    if (!s.ok()) return ErrorObject(FromModel(s));
    val o = val::object();
    o.set("lmLoss", r.lm_loss);
    o.set("lmAccuracy", r.lm_accuracy);
    o.set("lmTokens", static_cast<double>(r.lm_tokens));
    o.set("perplexity", r.perplexity);
    o.set("clsLoss", r.cls_loss);
    o.set("clsAccuracy", r.cls_accuracy);
    o.set("sequences", static_cast<double>(r.sequences));
    return o;
  }

  // Next-token probabilities after each staged sequence: [rows, vocab].
  val NextTokens(double temperature, double top_k) {
    int64_t rows;
    Status s = Batch(kPredict, false, &rows);
    if (s.ok()) s = Output(rows * m_->vocab());
    if (s.ok())
      s = m_->NextTokenProbabilities(stage_[kX].data(), rows, temperature,
                                     static_cast<int64_t>(top_k), out_.data());
    Release();
    return s.ok() ? Rows(out_.data(), rows, m_->vocab())
                  : ErrorObject(FromModel(s));
  }

  // The staged prefixes grown by sampling: [rows, block].
  val Generate(double temperature, double top_k, double end, double seed) {
    int64_t rows;
    Model::GenerateOptions o;
    o.temperature = temperature;
    o.top_k = static_cast<int64_t>(top_k);
    o.end = static_cast<int64_t>(end);
    o.seed = static_cast<uint32_t>(seed);
    Status s = Batch(kPredict, false, &rows);
    if (s.ok()) s = m_->Generate(stage_[kX].data(), rows, o);
    if (s.ok()) s = Output(rows * m_->block());
    if (s.ok())
      std::copy(stage_[kX].data(), stage_[kX].data() + rows * m_->block(),
                out_.data());
    Release();
    return s.ok() ? Rows(out_.data(), rows, m_->block())
                  : ErrorObject(FromModel(s));
  }

  // The classifier's logits for the staged sequences: [rows, classes].
  val Classify() {
    int64_t rows;
    Status s = Batch(kPredict, false, &rows);
    if (s.ok()) s = Output(rows * std::max<int64_t>(m_->classes(), 1));
    if (s.ok()) s = m_->Classify(stage_[kX].data(), rows, out_.data());
    Release();
    return s.ok() ? Rows(out_.data(), rows, m_->classes())
                  : ErrorObject(FromModel(s));
  }

  // An attention layer's weights after the last forward: rows of heads * T
  // * T floats (one per sequence).
  val Attention(int layer) const {
    const float* p = nullptr;
    int64_t rows = 0;
    if (Status s = m_->AttentionWeights(layer, &p, &rows); !s.ok())
      return ErrorObject(FromModel(s));
    const int64_t t = m_->block();
    return Rows(p, rows, m_->layers()[layer].heads * t * t);
  }

  val LastLosses() const {
    double lm, cls;
    m_->LastLosses(&lm, &cls);
    val o = val::object();
    o.set("lm", lm);
    o.set("cls", cls);
    return o;
  }

  // The optimizer's state, copied out: {address, rows: 1, width}.
  val OptimizerState() {
    const int64_t n = m_->OptimizerStateFloats();
    Status s = Output(n);
    if (s.ok()) s = m_->GetOptimizerState(out_.data(), n);
    return s.ok() ? Rows(out_.data(), 1, n) : ErrorObject(FromModel(s));
  }

  // Restores the optimizer's state from slot x, with its step count.
  val SetOptimizerState(double step) {
    const Status s = m_->SetOptimizerState(stage_[kX].data(), staged_[kX].n,
                                           static_cast<int64_t>(step));
    Release();
    return s.ok() ? val::object() : ErrorObject(FromModel(s));
  }

  val ToPyTorch() const {
    std::string src;
    if (Status s = m_->ToPyTorch(&src); !s.ok())
      return ErrorObject(FromModel(s));
    val o = val::object();
    o.set("source", src);
    return o;
  }

 private:
  static double Address(const void* p) {
    return static_cast<double>(reinterpret_cast<uintptr_t>(p));
  }

  int Fail(const Status& s) {
    error_ = FromModel(s);
    return 0;
  }

  // Rows of the array staged in `slot`, whose rows hold `width` floats:
  // [rows, width], or flat [rows * width] read row by row (a number: one
  // row of one). Messages are built only on failure: a step allocates
  // nothing.
  Status RowsOf(Call call, int slot, int64_t width, int64_t* rows) const {
    const Staged& a = staged_[slot];
    const char* arg = slot == kX ? "x" : "y";
    if (a.rank == 2 && a.d1 == width && a.n == a.d0 * a.d1)
      *rows = a.d0;
    else if (a.rank == 1 && a.n == a.d0 && a.d0 % width == 0)
      *rows = a.d0 / width;  // flat, row by row
    else if (a.rank == 0 && a.n == 1 && width == 1)
      *rows = 1;
    else
      return Status(ErrorCode::kBadShape, "model", arg,
                    std::string(kCallNames[call]) + ": " + arg + " has shape " +
                        a.str() + ", expected " + Expected(arg));
    if (*rows < 1)
      return Status(ErrorCode::kBadShape, "model", arg,
                    std::string(kCallNames[call]) + ": " + arg +
                        " has no rows (shape " + a.str() + ")");
    return {};
  }

  // The shape an argument should have, in words.
  std::string Expected(std::string_view arg) const {
    if (arg == "x") {
      const std::string in = std::to_string(m_->inputs());
      return "[rows, " + in + "] (" + in + " inputs per row)";
    }
    if (m_->IsSequence()) {
      const std::string t = std::to_string(m_->block());
      return "[rows, " + std::to_string(m_->TargetWidth()) + "] (" + t +
             " next-token targets per sequence" +
             (m_->classes() > 0 ? ", then its class)" : ")");
    }
    if (m_->ClassTargets()) return "[rows]: one class index per row";
    const std::string tw = std::to_string(m_->TargetWidth());
    return "[rows, " + tw + "] (" + tw + " targets per row)";
  }

  // The staged x (and y, when the call takes targets) as one batch of
  // `rows` rows.
  Status Batch(Call call, bool targets, int64_t* rows) const {
    if (Status s = RowsOf(call, kX, m_->inputs(), rows); !s.ok()) return s;
    if (!targets) return {};
    int64_t yrows;
    if (Status s = RowsOf(call, kY, m_->TargetWidth(), &yrows); !s.ok())
      return s;
    if (yrows != *rows)
      return Status(ErrorCode::kBadShape, "model", "y",
                    std::string(kCallNames[call]) + ": x has " +
                        std::to_string(*rows) + " rows but y has " +
                        std::to_string(yrows));
    return {};
  }

  // Starts a fit on the staged dataset with the options of `json`, or
  // `given` when not null: the shapes are checked first.
  Status BeginFit(std::string_view json, const FitOptions* given) {
    int64_t rows;
    Status s = Batch(kFit, true, &rows);
    const float *x = stage_[kX].data(), *y = stage_[kY].data();
    if (s.ok())
      s = given ? m_->FitBegin(x, y, rows, *given)
                : m_->FitBegin(x, y, rows, json);
    Release();
    return s;
  }

  // out_ holds at least n floats (and not a large dataset's worth more).
  Status Output(int64_t n) {
    const int64_t size = out_.size();
    if (size >= std::max<int64_t>(n, 1) &&
        (size <= kKeepFloats || size <= 2 * n))
      return {};
    out_ = Buffer(std::max<int64_t>(n, 1));
    if (out_.ok() && out_.data()) return {};
    out_ = Buffer();
    return Status(
        ErrorCode::kOutOfMemory, "model", "",
        "out of memory for an output of " + std::to_string(n) + " values");
  }

  // Drops staging that held a whole dataset rather than a batch.
  void Release() {
    for (Buffer& b : stage_)
      if (b.size() > kKeepFloats) b = Buffer();
    step_rows_ = 0;
  }

  std::unique_ptr<Model> m_;
  Buffer stage_[kSlots];
  Staged staged_[kSlots];
  // Rows of the staged x and y as one batch once Step has checked them
  // (Batch), 0 until then: the shapes cannot change before the next Stage,
  // so the steps on one staged batch shape check it once.
  int64_t step_rows_ = 0;
  Buffer out_;
  std::vector<double> history_;             // History's count and rows
  double progress_[kProgressDoubles] = {};  // FitRun's
  Status error_;
};
using ModelPtr = std::shared_ptr<ModelHandle>;

// {model} or {error} naming the spec's place and field.
val CreateModel(std::string spec) {
  std::unique_ptr<Model> m;
  if (Status s = Model::Create(spec, &m); !s.ok())
    return ErrorObject(FromModel(s));
  val r = val::object();
  r.set("model", val(std::make_shared<ModelHandle>(std::move(m))));
  return r;
}

double ArenaAllocations() {
  return static_cast<double>(ModelArenaAllocations());
}

}  // namespace

// The hot per-step call as a plain wasm export (EMSCRIPTEN_KEEPALIVE:
// Module._dlmath_model_step): JS calls it directly, without Embind's
// invoker, argument checks and handle lookup, which cost several times this
// small model's whole JS side of a step. `model` is ModelHandle::Self().
extern "C" EMSCRIPTEN_KEEPALIVE uintptr_t
dlmath_model_step(ModelHandle* model) {
  return model->Step();
}

// The same for staging (every batch of a new size, every dataset) and the
// fit's runs: an Embind call and its result object cost V8 thousands of x86
// instructions, a fit() of 128 small steps a tenth of its time.
extern "C" EMSCRIPTEN_KEEPALIVE uintptr_t dlmath_model_stage(
    ModelHandle* model, int slot, double n, int rank, double d0, double d1) {
  return model->Stage(slot, n, rank, d0, d1);
}
extern "C" EMSCRIPTEN_KEEPALIVE uintptr_t
dlmath_model_fit_run(ModelHandle* model, double max_steps) {
  return model->FitRun(max_steps);
}
extern "C" EMSCRIPTEN_KEEPALIVE int dlmath_model_fit_begin(
    ModelHandle* model, double epochs, double batch_size, double shuffle,
    double validation_split, double log_steps) {
  return model->FitBeginWith(epochs, batch_size, shuffle, validation_split,
                             log_steps);
}
extern "C" EMSCRIPTEN_KEEPALIVE uintptr_t
dlmath_model_history(ModelHandle* model) {
  return model->History();
}
extern "C" EMSCRIPTEN_KEEPALIVE uintptr_t
dlmath_model_log_column(ModelHandle* model, int field) {
  return model->LogColumn(field);
}

EMSCRIPTEN_BINDINGS(dlmath_model) {
  using namespace emscripten;
  class_<ModelHandle>("Model")
      .smart_ptr<ModelPtr>("ModelPtr")
      .function("info", &ModelHandle::Info)
      .function("spec", &ModelHandle::Spec)
      .function("self", &ModelHandle::Self)
      .function("gradients", &ModelHandle::Gradients)
      .function("diagnostics", &ModelHandle::Diagnostics)
      .function("parameters", &ModelHandle::Parameters)
      .function("buffers", &ModelHandle::Buffers)
      .function("lastError", &ModelHandle::LastError)
      .function("fitBegin", &ModelHandle::FitBegin)
      .function("diagnosticsLog", &ModelHandle::DiagnosticsLog)
      .function("predict", &ModelHandle::Predict)
      .function("evaluate", &ModelHandle::Evaluate)
      .function("inputGradient", &ModelHandle::InputGradient)
      .function("outputGradient", &ModelHandle::OutputGradient)
      .function("layerOutput", &ModelHandle::LayerOutput)
      .function("getParameter", &ModelHandle::GetParameter)
      .function("setParameter", &ModelHandle::SetParameter)
      .function("setParameterValue", &ModelHandle::SetParameterValue)
      .function("lr", &ModelHandle::Lr)
      .function("setLr", &ModelHandle::SetLr)
      .function("stepCount", &ModelHandle::StepCount)
      .function("resetOptimizer", &ModelHandle::ResetOptimizer)
      .function("toPyTorch", &ModelHandle::ToPyTorch)
      .function("evaluateSequences", &ModelHandle::EvaluateSequences)
      .function("nextTokens", &ModelHandle::NextTokens)
      .function("generate", &ModelHandle::Generate)
      .function("classify", &ModelHandle::Classify)
      .function("attention", &ModelHandle::Attention)
      .function("lastLosses", &ModelHandle::LastLosses)
      .function("optimizerState", &ModelHandle::OptimizerState)
      .function("setOptimizerState", &ModelHandle::SetOptimizerState);
  function("_modelCreate", &CreateModel);
  function("_modelArenaAllocations", &ArenaAllocations);
  function("_allocations", &Allocations);
}

}  // namespace dlmath::wasm
