// Packing (spec input.pack, on by default): a sequence model's passes keep
// each sequence's positions up to the last one it needs (a real token or a
// counted target), one sequence after another. Each case runs the same
// model twice from the same initial weights, packed and with every
// position computed ("pack": false), on sequences of different lengths
// shorter than the block: the losses, gradients, evaluation, probabilities
// and classes agree, and the layers really ran only the needed rows. Left
// padding and a pad in the middle keep the positions they need.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tests/core/gpt_testing.h"
#include "tests/core/model_testing.h"

namespace dlmath::testing {
namespace {

constexpr int kBlock = 12;

// n name-like sequences of at most `longest` real positions, padded to
// kBlock: x [n, kBlock] (pad 0), y [n, kBlock (+1)] (ignore -100 beyond).
void ShortBatch(Gpt g, int longest, int64_t n, uint32_t seed,
                std::vector<float>* x, std::vector<float>* y) {
  g.block = longest;
  std::vector<float> sx, sy;
  GptBatch(g, n, seed, &sx, &sy);
  const int w = kBlock + (g.classes > 0 ? 1 : 0);
  const int sw = longest + (g.classes > 0 ? 1 : 0);
  x->assign(n * kBlock, 0.0f);
  y->assign(n * w, -100.0f);
  for (int64_t b = 0; b < n; ++b) {
    std::copy(&sx[b * longest], &sx[(b + 1) * longest], &(*x)[b * kBlock]);
    std::copy(&sy[b * sw], &sy[b * sw + longest], &(*y)[b * w]);
    if (g.classes > 0) (*y)[b * w + kBlock] = sy[b * sw + longest];
  }
}

// The largest difference of a and b relative to b's largest magnitude.
double RelDiff(const float* a, const float* b, int64_t n) {
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// Positions sequence b needs: up to its last real token or counted target.
int64_t Needed(const std::vector<float>& x, const std::vector<float>& y,
               int64_t b, int width) {
  int64_t n = 1;
  for (int j = 1; j < kBlock; ++j)
    if (x[b * kBlock + j] != 0 || y[b * width + j] != -100) n = j + 1;
  return n;
}

// Rows the first layer ran in the last pass.
int64_t PassRows(const Model& m) {
  const float* data;
  int64_t rows, width;
  REQUIRE(m.LayerOutput(0, &data, &rows, &width).ok());
  return rows;
}

// Trains the packed and the padded model side by side on x, y (n
// sequences): per step the same gradients and losses.
void CheckSame(Gpt g, const std::vector<float>& x, const std::vector<float>& y,
               int64_t n) {
  const int width = kBlock + (g.classes > 0 ? 1 : 0);
  int64_t needed = 0;
  for (int64_t b = 0; b < n; ++b) needed += Needed(x, y, b, width);
  REQUIRE(needed < n * kBlock);
  g.block = kBlock;
  g.pack = true;
  auto packed = MakeModel(GptSpec(g));
  g.pack = false;
  auto padded = MakeModel(GptSpec(g));
  INFO(GptSpec(g));
  const int64_t np = packed->num_parameters();
  for (int step = 0; step < 8; ++step) {
    INFO("step " << step);
    REQUIRE(packed->ComputeGradients(x.data(), y.data(), n).ok());
    REQUIRE(padded->ComputeGradients(x.data(), y.data(), n).ok());
    CHECK(PassRows(*packed) == needed);
    CHECK(PassRows(*padded) == n * kBlock);
    CHECK(RelDiff(packed->gradients(), padded->gradients(), np) < 1e-6);
    REQUIRE(packed->Step(x.data(), y.data(), n).ok());
    REQUIRE(padded->Step(x.data(), y.data(), n).ok());
    const double a = packed->Diagnostics()[kDiagLoss];
    const double b = padded->Diagnostics()[kDiagLoss];
    CHECK(std::fabs(a - b) <= 1e-6 * std::fabs(b));
  }
  // (No check of the weights themselves: the attention's key bias has a
  // gradient of 0 up to rounding, which AdamW normalises into steps of
  // either sign, in PyTorch as here; it leaves every loss unchanged.)

  // Evaluation, next-token probabilities and classes on the same data.
  Model::SequenceMetrics ea, eb;
  REQUIRE(packed->EvaluateSequences(x.data(), y.data(), n, &ea).ok());
  REQUIRE(padded->EvaluateSequences(x.data(), y.data(), n, &eb).ok());
  CHECK(ea.lm_loss == Approx(eb.lm_loss).epsilon(1e-6));
  CHECK(ea.perplexity == Approx(eb.perplexity).epsilon(1e-5));
  CHECK(ea.lm_accuracy == eb.lm_accuracy);
  CHECK(ea.lm_tokens == eb.lm_tokens);
  const int64_t v = packed->vocab();
  std::vector<float> pa(n * v), pb(n * v);
  REQUIRE(packed->NextTokenProbabilities(x.data(), n, 1.0, 0, pa.data()).ok());
  REQUIRE(padded->NextTokenProbabilities(x.data(), n, 1.0, 0, pb.data()).ok());
  CHECK(RelDiff(pa.data(), pb.data(), n * v) < 1e-5);
  if (g.classes > 0) {
    CHECK(ea.cls_loss == Approx(eb.cls_loss).epsilon(1e-6));
    std::vector<float> ca(n * g.classes), cb(n * g.classes);
    REQUIRE(packed->Classify(x.data(), n, ca.data()).ok());
    REQUIRE(padded->Classify(x.data(), n, cb.data()).ok());
    CHECK(RelDiff(ca.data(), cb.data(), n * g.classes) < 1e-5);
  }
}

TEST_CASE("packing: sequences of different lengths train as padded ones",
          "[gpt][pack]") {
  Gpt g;
  g.optimizer = R"({"id":"adamw","lr":0.01,"decay":"matrices"})";
  g.extra =
      R"(,"schedule":{"id":"warmup_cosine","warmup":3,"steps":30},"clip":{"norm":1})";
  std::vector<float> x, y;
  ShortBatch(g, 7, 24, 3, &x, &y);
  CheckSame(g, x, y, 24);

  SECTION("sinusoidal positions, attention hiding pad keys, not causal") {
    g.positional = "sinusoidal";
    g.causal = false;
    CheckSame(g, x, y, 24);
  }
  SECTION("the classifier: L3 = L2 + 0.5 L1 on the last real position") {
    g.classes = 3;
    g.lm_weight = 0.5;
    ShortBatch(g, 5, 16, 4, &x, &y);
    CheckSame(g, x, y, 16);
  }
  SECTION("a pad in the middle keeps the positions after it") {
    x[5 * kBlock + 3] = 0;  // sequence 5: its token 3 becomes a pad
    x[5 * kBlock + 9] = 2;  // and a real token at 9
    y[5 * kBlock + 9] = 4;
    REQUIRE(Needed(x, y, 5, kBlock) == 10);
    CheckSame(g, x, y, 24);
  }
  SECTION("left padding keeps the whole block of its sequence") {
    // Sequence 0 as start, pads, then letters up to the last position.
    std::fill(&x[1], &x[kBlock], 0.0f);
    std::fill(&y[0], &y[kBlock], -100.0f);
    for (int j = 8; j < kBlock; ++j) x[j] = static_cast<float>(j % 5 + 1);
    for (int j = 8; j + 1 < kBlock; ++j) y[j] = x[j + 1];
    y[kBlock - 1] = 6;
    REQUIRE(Needed(x, y, 0, kBlock) == kBlock);
    CheckSame(g, x, y, 24);
  }
}

TEST_CASE("packing: attention weights keep the block's layout", "[gpt][pack]") {
  Gpt g;
  g.block = kBlock;
  auto m = MakeModel(GptSpec(g));
  std::vector<float> x, y;
  ShortBatch(g, 4, 3, 5, &x, &y);
  REQUIRE(m->Step(x.data(), y.data(), 3).ok());
  int64_t n[3], needed = 0;
  for (int s = 0; s < 3; ++s) needed += n[s] = Needed(x, y, s, kBlock);
  REQUIRE(PassRows(*m) == needed);
  const int attn = 4;  // layers.2.layers.1
  REQUIRE(m->layers()[attn].type == LayerType::kAttention);
  const float* w;
  int64_t rows;
  REQUIRE(m->AttentionWeights(attn, &w, &rows).ok());
  CHECK(rows == 3);
  // [3, 2, 12, 12]: the n x n of each (sequence, head) are the pass's, the
  // rest zeros; a query row sums to 1 over its visible keys.
  for (int s = 0; s < 3; ++s)
    for (int h = 0; h < 2; ++h)
      for (int i = 0; i < kBlock; ++i) {
        double total = 0;
        for (int j = 0; j < kBlock; ++j) {
          const float v = w[((s * 2 + h) * kBlock + i) * kBlock + j];
          if (i >= n[s] || j > i) CHECK(v == 0);
          total += v;
        }
        CHECK(total == Approx(i < n[s] ? 1.0 : 0.0).margin(1e-5));
      }
}

TEST_CASE("packing: the spec keeps pack false, refuses a non-boolean",
          "[gpt][pack]") {
  Gpt g;
  g.pack = false;
  auto m = MakeModel(GptSpec(g));
  CHECK(m->SpecJson().find(R"("pad":0,"pack":false})") != std::string::npos);
  g.pack = true;
  CHECK(MakeModel(GptSpec(g))->SpecJson().find("pack") == std::string::npos);
  std::string spec = GptSpec(g);
  spec.replace(spec.find(R"("pad":0)"), 7, R"("pad":0,"pack":1)");
  std::unique_ptr<Model> bad;
  const Status s = Model::Create(spec, &bad);
  CHECK(s.message().find("input.pack") == 0);
}

}  // namespace
}  // namespace dlmath::testing
