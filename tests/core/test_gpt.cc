// Sequence models (the tiny GPT): the spec (canonical form, parameter
// table, weight tying, decay groups, every mistake with its message), the
// step's checks of tokens and targets, training on patterned sequences,
// generation, next-token probabilities, attention weights, the classifier,
// checkpoints through the optimizer state, and no allocation per step.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "tests/core/count_new.h"
#include "tests/core/gpt_testing.h"
#include "tests/core/model_testing.h"

namespace dlmath::testing {
namespace {

const std::string kSeq = R"("input":{"tokens":7,"block":5,"pad":0})";
const std::string kEmb = R"({"type":"embedding","dim":8})";
const std::string kLoss =
    R"("loss":{"id":"cross_entropy"},"optimizer":{"id":"sgd"})";

struct BadSpec {
  std::string spec;
  const char* code;
  const char* message;
};

TEST_CASE("every bad sequence spec gives its own error", "[gpt]") {
  const std::vector<BadSpec> bad = {
      {R"({"input":2,"layers":[{"type":"attention","heads":2}],)" + kLoss + "}",
       "bad_param",
       R"(layers[0].type: 'attention' layers work on sequences of tokens: give the input as {"tokens": V, "block": T})"},
      {R"({"input":2,"layers":[{"type":"linear","units":7,"tie":true}],)" +
           kLoss + "}",
       "bad_param",
       "layers[0].tie: shares the weight of the token embedding, the first "
       "layer of a sequence model; this model has none"},
      {"{" + kSeq + R"(,"layers":[{"type":"linear","units":4}],)" + kLoss + "}",
       "bad_param",
       R"(layers[0].type: a sequence model starts with its token embedding ({"type": "embedding", "dim": C}), got 'linear')"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb + "," + kEmb + "]," + kLoss + "}",
       "bad_param",
       "layers[1]: the token embedding can only be the first layer"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb +
           R"(,{"type":"linear","units":6,"tie":true}],)" + kLoss + "}",
       "bad_shape",
       "layers[1].tie: the embedding's weight is [7, 8], so a tied layer maps "
       "8 inputs to 7 units; this one maps 8 to 6"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb +
           R"(,{"type":"linear","units":7,"tie":true,"init":"zeros"}],)" +
           kLoss + "}",
       "bad_param",
       "layers[1].init: a tied layer's weight is the embedding's: set its "
       "init there"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb +
           R"(,{"type":"attention","heads":3}],)" + kLoss + "}",
       "bad_param", "layers[1].heads: 3 heads must divide the width 8"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb + R"(,{"type":"attention"}],)" +
           kLoss + "}",
       "missing_input",
       "layers[1].heads: missing (how many heads share the width)"},
      {R"({"input":{"tokens":7,"block":5},"layers":[)" + kEmb +
           R"(,{"type":"attention","heads":2,"key_padding":true}],)" + kLoss +
           "}",
       "bad_param",
       "layers[1].key_padding: hides the keys of pad tokens, but the input "
       "has no pad token (input.pad)"},
      {R"({"input":{"tokens":7,"block":5},"layers":[)" + kEmb +
           R"(,{"type":"linear","units":7}],)" + kLoss +
           R"(,"classifier":{"classes":2}})",
       "bad_param",
       R"(classifier: classifies a sequence from its last real position: it needs a sequence input with a pad token ({"tokens": V, "block": T, "pad": id}))"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb +
           R"(,{"type":"linear","units":7}],)" + kLoss +
           R"(,"classifier":{"classes":1}})",
       "bad_param", "classifier.classes: must be at least 2, got 1"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb + "]," + kLoss +
           R"(,"classifier":{"classes":2}})",
       "bad_param",
       "classifier: reads the input of the last layer (the hidden state "
       "before the token head): the model needs at least two layers"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb +
           R"(,{"type":"linear","units":7}],)" + kLoss +
           R"(,"classifier":{"classes":2,"lm_weight":-1}})",
       "bad_param", "classifier.lm_weight: must be a number >= 0, got -1"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb +
           R"(,{"type":"positional","kind":"rotary"}],)" + kLoss + "}",
       "bad_param",
       "layers[1].kind: must be 'learned' (a trained [T, C] table) or "
       "'sinusoidal' (the fixed table), got 'rotary'"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb +
           R"(,{"type":"linear","units":7}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})",
       "bad_param",
       "loss.id: a sequence model predicts the next token: its loss takes "
       "class indices (cross_entropy, nll, multi_margin, focal_multiclass), "
       "got 'mse'"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb +
           R"(,{"type":"linear","units":7}],"loss":{"id":"cross_entropy"},"optimizer":{"id":"sgd","decay":"biases"}})",
       "bad_param",
       "optimizer.decay: must be 'all' (every parameter) or 'matrices' "
       "(parameters of rank >= 2 only), got 'biases'"},
      {R"({"input":{"tokens":7},"layers":[)" + kEmb + "]," + kLoss + "}",
       "missing_input",
       R"(input.block: missing (a sequence input is {"tokens": V, "block": T}: the vocabulary and the positions per sequence))"},
      {R"({"input":{"tokens":7,"block":5,"pad":7},"layers":[)" + kEmb + "]," +
           kLoss + "}",
       "bad_param", "input.pad: must be an integer in [-1, 6], got 7"},
      {R"({"input":{"tokens":1,"block":5},"layers":[)" + kEmb + "]," + kLoss +
           "}",
       "bad_param", "input.tokens: must be an integer in [2, 65536], got 1"},
      {R"({"input":{"tokens":7,"block":5,"pads":0},"layers":[)" + kEmb + "]," +
           kLoss + "}",
       "unknown_param",
       "input: unknown key 'pads' (did you mean 'pad' or 'pack'?)"},
      {"{" + kSeq + R"(,"layers":[{"type":"embedding"}],)" + kLoss + "}",
       "missing_input",
       "layers[0].dim: missing (the width of each token's vector)"},
      {"{" + kSeq +
           R"(,"layers":[{"type":"embedding","dim":8,"init":{"id":"normal","std":-1}}],)" +
           kLoss + "}",
       "bad_param", "layers[0].init.std: must be a number > 0, got -1"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb + R"(,{"type":"swiglu"}],)" +
           kLoss + "}",
       "missing_input",
       "layers[1].units: missing (the hidden width of the gate)"},
      {"{" + kSeq + R"(,"layers":[)" + kEmb +
           R"(,{"type":"attn","heads":2}],)" + kLoss + "}",
       "unknown_op",
       "layers[1].type: unknown layer type 'attn' (known: linear, activation, "
       "dropout, batch_norm, layer_norm, rms_norm, group_norm, residual, "
       "embedding, positional, attention, swiglu)"},
  };
  for (const BadSpec& b : bad) {
    std::unique_ptr<Model> m;
    const Status s = Model::Create(b.spec, &m);
    INFO(b.spec);
    CHECK(!s.ok());
    CHECK(std::string(ErrorCodeName(s.code())) == b.code);
    CHECK(s.message() == b.message);
  }
}

TEST_CASE("the spec: canonical form, parameter table, tying, decay groups",
          "[gpt]") {
  Gpt g;
  g.classes = 2;
  g.optimizer = R"({"id":"adamw","lr":0.01,"decay":"matrices"})";
  auto m = MakeModel(GptSpec(g));
  CHECK(m->IsSequence());
  CHECK(m->vocab() == 7);
  CHECK(m->block() == 5);
  CHECK(m->pad_token() == 0);
  CHECK(m->classes() == 2);
  CHECK(m->inputs() == 5);
  CHECK(m->outputs() == 5 * 7);
  CHECK(m->TargetWidth() == 6);
  // Canonical spec: the same model again, the same text.
  auto again = MakeModel(m->SpecJson());
  CHECK(again->SpecJson() == m->SpecJson());
  CHECK(again->num_parameters() == m->num_parameters());
  CHECK(std::equal(m->parameters(), m->parameters() + m->num_parameters(),
                   again->parameters()));
  // PyTorch's names and shapes; the tied head owns no weight.
  struct Want {
    const char* name;
    Shape shape;
    bool decay;
  };
  const Want wants[] = {
      {"layers.0.weight", Shape{7, 8}, true},
      {"layers.1.weight", Shape{5, 8}, true},
      {"layers.2.layers.0.weight", Shape{8}, false},
      {"layers.2.layers.0.bias", Shape{8}, false},
      {"layers.2.layers.1.in_proj_weight", Shape{24, 8}, true},
      {"layers.2.layers.1.in_proj_bias", Shape{24}, false},
      {"layers.2.layers.1.out_proj.weight", Shape{8, 8}, true},
      {"layers.2.layers.1.out_proj.bias", Shape{8}, false},
      {"layers.3.layers.1.weight", Shape{16, 8}, true},
      {"layers.3.layers.3.bias", Shape{8}, false},
      {"classifier.weight", Shape{2, 8}, true},
      {"classifier.bias", Shape{2}, false},
  };
  for (const Want& w : wants) {
    INFO(w.name);
    const ParamEntry* e = m->FindParameter(w.name);
    REQUIRE(e);
    CHECK(e->shape == w.shape);
    CHECK(e->decay == w.decay);
  }
  const int head = static_cast<int>(m->layers().size()) - 2;
  CHECK(m->layers()[head].tied);
  CHECK(!m->FindParameter(m->layers()[head].path + ".weight"));
  CHECK(m->layers().back().head);
  CHECK(m->layers().back().path == "classifier");
  // decay "all" (the default) decays everything.
  g.optimizer = R"({"id":"adamw","lr":0.01})";
  auto all = MakeModel(GptSpec(g));
  for (const ParamEntry& e : all->ParameterTable()) CHECK(e.decay);
}

TEST_CASE("decay on matrices only: biases and norms step as without decay",
          "[gpt]") {
  Gpt g;
  std::vector<float> x, y;
  GptBatch(g, 8, 3, &x, &y);
  auto run = [&](const char* optimizer) {
    g.optimizer = optimizer;
    auto m = MakeModel(GptSpec(g));
    // Biases start at 0, which decay keeps: start every parameter away
    // from 0 (the same values in each run).
    std::vector<float> start = RandomData(m->num_parameters(), 17, 0.1f, 1.0f);
    std::copy(start.begin(), start.end(), m->parameters());
    REQUIRE(m->Step(x.data(), y.data(), 8).ok());
    return m;
  };
  auto groups =
      run(R"({"id":"adamw","lr":0.01,"weight_decay":0.5,"decay":"matrices"})");
  auto all = run(R"({"id":"adamw","lr":0.01,"weight_decay":0.5})");
  auto none = run(R"({"id":"adamw","lr":0.01,"weight_decay":0})");
  // Each parameter steps as in the run with its own decay, and unlike the
  // run with the other.
  int decayed = 0, kept = 0;
  for (const ParamEntry& e : groups->ParameterTable()) {
    if (e.kind != TensorKind::kParameter) continue;
    const Model& same = e.decay ? *all : *none;
    const Model& other = e.decay ? *none : *all;
    const float* a = groups->parameters() + e.offset;
    const size_t bytes = e.shape.numel() * sizeof(float);
    INFO(e.name);
    CHECK(std::memcmp(a, same.parameters() + e.offset, bytes) == 0);
    CHECK(std::memcmp(a, other.parameters() + e.offset, bytes) != 0);
    (e.decay ? decayed : kept) += 1;
  }
  CHECK(decayed == 10);  // embedding, positions, 4 matrices per block
  CHECK(kept == 18);     // 8 biases and norm weights per block, final norm
}

TEST_CASE("bad tokens and targets are refused; the model keeps working",
          "[gpt]") {
  Gpt g;
  g.classes = 2;
  auto m = MakeModel(GptSpec(g));
  std::vector<float> x, y;
  GptBatch(g, 4, 5, &x, &y);
  auto expect = [&](const std::vector<float>& xx, const std::vector<float>& yy,
                    const char* message) {
    const Status s = m->Step(xx.data(), yy.data(), 4);
    CHECK(s.message() == message);
    CHECK(m->Step(x.data(), y.data(), 4).ok());
  };
  std::vector<float> bx = x;
  bx[7] = 7;
  expect(bx, y, "x: [1][2] = 7 is not a token id (an integer in [0, 7))");
  bx[7] = 1.5f;
  expect(bx, y, "x: [1][2] = 1.5 is not a token id (an integer in [0, 7))");
  std::vector<float> by = y;
  by[8] = 9;
  expect(x, by,
         "y: [1][2] = 9 is not a next-token target (a token id in [0, 7) or "
         "ignore_index -100)");
  by = y;
  by[11] = 2;
  expect(x, by,
         "y: [1][5] = 2 is not a class of the classifier (an integer in [0, "
         "2))");
  std::vector<float> dx(4 * 5);
  CHECK(m->InputGradient(x.data(), y.data(), 4, dx.data()).message() ==
        "x: a sequence model's inputs are token ids, which have no gradient");
  CHECK(m->FitBegin(x.data(), by.data(), 4, FitOptions{}).message() ==
        "y: [1][5] = 2 is not a class of the classifier (an integer in [0, "
        "2))");
  auto mlp = MakeModel(
      R"({"input":2,"layers":[{"type":"linear","units":2}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})");
  std::vector<float> probs(2);
  CHECK(
      mlp->NextTokenProbabilities(x.data(), 1, 1, 0, probs.data()).message() ==
      R"(x: works on sequence models (an input {"tokens": V, "block": T}); this model takes 2 features per row)");
}

// Sequences the model can learn but for their first letter: after the
// start token, letters count up from a random first letter f (wrapping)
// for min(T, f + 2) positions, then the end token.
void Counting(const Gpt& g, int64_t n, uint32_t seed, std::vector<float>* x,
              std::vector<float>* y) {
  GptBatch(g, n, seed, x, y);
  const int t = g.block, width = t + (g.classes > 0 ? 1 : 0);
  for (int64_t b = 0; b < n; ++b) {
    std::fill(y->begin() + b * width, y->begin() + b * width + t, -100.0f);
    std::fill(x->begin() + b * t + 2, x->begin() + (b + 1) * t, 0.0f);
    (*x)[b * t + 1] = static_cast<float>(1 + (seed + b * 5) % (g.vocab - 2));
    const int len = std::min(t, static_cast<int>((*x)[b * t + 1]) + 2);
    (*y)[b * width + len - 1] = static_cast<float>(g.vocab - 1);
    for (int j = 2; j < len; ++j)
      (*x)[b * t + j] = static_cast<float>(
          1 + (static_cast<int>((*x)[b * t + 1]) - 1 + j - 1) % (g.vocab - 2));
    for (int j = 0; j + 1 < len; ++j) (*y)[b * width + j] = (*x)[b * t + j + 1];
    // The class: is the first letter odd?
    if (g.classes > 0)
      (*y)[b * width + t] =
          static_cast<float>(static_cast<int>((*x)[b * t + 1]) % 2);
  }
}

TEST_CASE("training: loss falls, generation, probabilities, attention",
          "[gpt]") {
  Gpt g;
  g.vocab = 9;
  g.block = 8;
  g.dim = 16;
  g.heads = 2;
  g.hidden = 32;
  g.optimizer = R"({"id":"adamw","lr":0.01,"decay":"matrices"})";
  auto m = MakeModel(GptSpec(g));
  std::vector<float> x, y;
  Counting(g, 64, 11, &x, &y);
  Model::SequenceMetrics before, after;
  REQUIRE(m->EvaluateSequences(x.data(), y.data(), 64, &before).ok());
  for (int i = 0; i < 300; ++i) REQUIRE(m->Step(x.data(), y.data(), 64).ok());
  REQUIRE(m->EvaluateSequences(x.data(), y.data(), 64, &after).ok());
  INFO(before.lm_loss << " -> " << after.lm_loss);
  CHECK(after.lm_loss < 0.5 * before.lm_loss);
  CHECK(after.lm_accuracy > 0.75);
  CHECK(std::isnan(after.cls_loss));
  CHECK(after.perplexity == Approx(std::exp(after.lm_loss)).epsilon(1e-5));
  double loss, accuracy;
  REQUIRE(m->Evaluate(x.data(), y.data(), 64, &loss, &accuracy).ok());
  CHECK(loss == Approx(after.lm_loss).epsilon(1e-6));
  CHECK(accuracy == Approx(after.lm_accuracy).epsilon(1e-9));

  // Next-token probabilities: a distribution; top_k keeps k; the prefix
  // "start, 3, 4" continues with 5 (counting up).
  std::vector<float> prefix = {0, 3, 4, 0, 0, 0, 0, 0};
  std::vector<float> probs(9);
  REQUIRE(m->NextTokenProbabilities(prefix.data(), 1, 1, 0, probs.data()).ok());
  double sum = 0;
  for (float p : probs) sum += p;
  CHECK(sum == Approx(1).epsilon(1e-5));
  CHECK(std::max_element(probs.begin(), probs.end()) - probs.begin() == 5);
  REQUIRE(m->NextTokenProbabilities(prefix.data(), 1, 1, 2, probs.data()).ok());
  CHECK(std::count(probs.begin(), probs.end(), 0.0f) == 7);
  std::vector<float> cold(9);
  REQUIRE(
      m->NextTokenProbabilities(prefix.data(), 1, 0.05, 0, cold.data()).ok());
  CHECK(cold[5] > probs[5] - 1e-6);
  CHECK(cold[5] > 0.99f);
  CHECK(m->NextTokenProbabilities(prefix.data(), 1, 0, 0, probs.data())
            .message() == "temperature: must be a finite number > 0, got 0");
  CHECK(m->NextTokenProbabilities(prefix.data(), 1, 1, 10, probs.data())
            .message() == "top_k: must be in [0, 9] (0: every token), got 10");

  // Generation: reproducible by seed, prefixes kept, padding never drawn,
  // each sequence ends with the end token or fills the block.
  std::vector<float> a(6 * 8, 0.0f), b;
  a[1] = 2;  // one prefix "2"; the others start empty
  b = a;
  Model::GenerateOptions go;
  go.end = 8;
  go.seed = 42;
  go.top_k = 3;
  REQUIRE(m->Generate(a.data(), 6, go).ok());
  REQUIRE(m->Generate(b.data(), 6, go).ok());
  CHECK(a == b);
  CHECK(a[1] == 2);
  int counted = 0;
  for (int s = 0; s < 6; ++s) {
    int len = 1;
    while (len < 8 && a[s * 8 + len] != 0) ++len;
    CHECK(len >= 2);
    for (int j = len; j < 8; ++j) CHECK(a[s * 8 + j] == 0);
    CHECK((a[s * 8 + len - 1] == 8 || len == 8));
    // Trained to count up: the greedy-ish samples mostly do.
    for (int j = 2; j + 1 < len; ++j)
      counted += a[s * 8 + j] == a[s * 8 + j - 1] + 1 ||
                 (a[s * 8 + j - 1] == 7 && a[s * 8 + j] == 1);
  }
  CHECK(counted >= 3);
  go.seed = 43;
  REQUIRE(m->Generate(b.data(), 6, go).ok());

  // Attention weights: rows of visible keys sum to 1, hidden keys are 0.
  std::vector<float> out(8 * 9 * 2);
  std::vector<float> two = {0, 3, 4, 5, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<float> pred(2 * 8 * 9);
  REQUIRE(m->Predict(two.data(), 2, pred.data()).ok());
  const int attn = 4;  // layers.2.layers.1
  REQUIRE(m->layers()[attn].type == LayerType::kAttention);
  const float* w;
  int64_t rows;
  REQUIRE(m->AttentionWeights(attn, &w, &rows).ok());
  CHECK(rows == 2);
  for (int s = 0; s < 2; ++s)
    for (int h = 0; h < 2; ++h)
      for (int i = 0; i < 8; ++i) {
        double total = 0;
        for (int j = 0; j < 8; ++j) {
          const float v = w[((s * 2 + h) * 8 + i) * 8 + j];
          const bool hidden = j > i || (j > 0 && two[s * 8 + j] == 0);
          if (hidden) CHECK(v == 0);
          total += v;
        }
        CHECK(total == Approx(1).epsilon(1e-5));
      }
  CHECK(m->AttentionWeights(0, &w, &rows).message() ==
        "layer: 0 is not an attention layer (those are 4, 12)");
}

TEST_CASE("the classifier: L2, L3 and the parts of the loss", "[gpt]") {
  Gpt g;
  g.vocab = 9;
  g.block = 8;
  g.dim = 16;
  g.hidden = 32;
  g.classes = 2;
  g.lm_weight = 0.5;
  g.optimizer = R"({"id":"adamw","lr":0.01})";
  auto m = MakeModel(GptSpec(g));
  std::vector<float> x, y;
  Counting(g, 64, 12, &x, &y);
  REQUIRE(m->Step(x.data(), y.data(), 64).ok());
  double lm, cls;
  m->LastLosses(&lm, &cls);
  CHECK(m->Diagnostics()[kDiagDataLoss] ==
        Approx(cls + 0.5 * lm).epsilon(1e-6));
  for (int i = 0; i < 200; ++i) REQUIRE(m->Step(x.data(), y.data(), 64).ok());
  Model::SequenceMetrics s;
  REQUIRE(m->EvaluateSequences(x.data(), y.data(), 64, &s).ok());
  CHECK(s.cls_accuracy > 0.95);
  CHECK(s.lm_accuracy > 0.6);
  std::vector<float> logits(64 * 2);
  REQUIRE(m->Classify(x.data(), 64, logits.data()).ok());
  int right = 0;
  for (int b = 0; b < 64; ++b)
    right += (logits[b * 2 + 1] > logits[b * 2]) == (y[b * 9 + 8] == 1);
  CHECK(right == Approx(64 * s.cls_accuracy).margin(0.5));
  double loss, accuracy;
  REQUIRE(m->Evaluate(x.data(), y.data(), 64, &loss, &accuracy).ok());
  CHECK(accuracy == Approx(s.cls_accuracy).epsilon(1e-9));
  CHECK(loss == Approx(s.cls_loss + 0.5 * s.lm_loss).epsilon(1e-5));
}

TEST_CASE(
    "checkpoints: weights, buffers and optimizer state restore a run "
    "bit for bit",
    "[gpt]") {
  Gpt g;
  g.positional = "sinusoidal";
  g.dropout = 0.1;
  g.optimizer = R"({"id":"adamw","lr":0.01,"decay":"matrices"})";
  g.extra =
      R"(,"schedule":{"id":"warmup_cosine","warmup":3,"steps":30},"clip":{"norm":1})";
  auto a = MakeModel(GptSpec(g));
  std::vector<float> x, y;
  GptBatch(g, 16, 9, &x, &y);
  for (int i = 0; i < 7; ++i) REQUIRE(a->Step(x.data(), y.data(), 16).ok());
  auto b = MakeModel(a->SpecJson());
  std::vector<float> st(a->OptimizerStateFloats());
  REQUIRE(a->GetOptimizerState(st.data(), st.size()).ok());
  for (const ParamEntry& e : a->ParameterTable()) {
    std::vector<float> v(e.shape.numel());
    REQUIRE(a->GetParameter(e.name, v.data(), v.size()).ok());
    REQUIRE(b->SetParameter(e.name, v.data(), v.size()).ok());
  }
  REQUIRE(b->SetOptimizerState(st.data(), st.size(), a->step()).ok());
  for (int i = 0; i < 5; ++i) {
    REQUIRE(a->Step(x.data(), y.data(), 16).ok());
    REQUIRE(b->Step(x.data(), y.data(), 16).ok());
  }
  CHECK(std::memcmp(a->parameters(), b->parameters(),
                    a->num_parameters() * sizeof(float)) == 0);
  CHECK(b->SetOptimizerState(st.data(), 3, 0).message() ==
        "optimizer state: has " + std::to_string(st.size()) + " values, got 3");
}

TEST_CASE("a GPT step allocates nothing", "[gpt]") {
  Gpt g;
  g.classes = 2;
  g.lm_weight = 0.5;
  g.dropout = 0.1;
  g.optimizer = R"({"id":"adamw","lr":0.01,"decay":"matrices"})";
  auto m = MakeModel(GptSpec(g));
  std::vector<float> x, y;
  GptBatch(g, 16, 1, &x, &y);
  REQUIRE(m->Step(x.data(), y.data(), 16).ok());
  const int64_t arenas = ModelArenaAllocations();
  g_new_calls = 0;
  g_count_new = true;
  for (int i = 0; i < 5; ++i) REQUIRE(m->Step(x.data(), y.data(), 16).ok());
  g_count_new = false;
  CHECK(g_new_calls == 0);
  CHECK(ModelArenaAllocations() == arenas);
}

}  // namespace
}  // namespace dlmath::testing
