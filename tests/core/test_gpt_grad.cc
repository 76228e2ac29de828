// Sequence models' gradients against central finite differences of the
// float64 reference (model_reference.h): every parameter of tiny GPTs with
// each option (learned or sinusoidal positions, layer_norm or rms_norm,
// gelu_tanh or swiglu MLPs, tied or separate token heads, causal or not,
// key padding, dropout, a classifier with L2 alone and with L3 = L2 +
// lambda L1).
#include <string>
#include <vector>

#include "tests/core/gpt_testing.h"
#include "tests/core/model_reference.h"
#include "tests/core/model_testing.h"

namespace dlmath::testing {
namespace {

void CheckGpt(const Gpt& g) {
  const std::string spec = GptSpec(g);
  INFO(spec);
  auto m = MakeModel(spec);
  const int64_t seqs = 3;
  std::vector<float> x, y;
  GptBatch(g, seqs, g.seed + 7, &x, &y);
  REQUIRE(m->ComputeGradients(x.data(), y.data(), seqs).ok());
  const std::vector<float> got(m->gradients(),
                               m->gradients() + m->num_parameters());
  Reference ref(*m, "cross_entropy", {});
  const Vec xd = Doubles(x), yd = Doubles(y);
  Vec fd(m->num_parameters());
  for (size_t j = 0; j < fd.size(); ++j)
    fd[j] = CentralDiff(&ref.params(), j, 1e-6, [&] {
      return ref.SequenceLoss(xd, yd, seqs, true, g.lm_weight);
    });
  CheckClose(got, fd, "parameter gradient");
  const double want = ref.SequenceLoss(xd, yd, seqs, true, g.lm_weight);
  REQUIRE(m->Step(x.data(), y.data(), seqs).ok());
  CHECK(m->Diagnostics()[kDiagLoss] == Approx(want).epsilon(1e-5));
}

TEST_CASE("a tiny GPT: every parameter's gradient", "[gpt][grad]") {
  CheckGpt({});
}

TEST_CASE("sinusoidal positions, rms_norm, swiglu, an untied head",
          "[gpt][grad]") {
  Gpt g;
  g.positional = "sinusoidal";
  g.norm = "rms_norm";
  g.swiglu = true;
  g.tie = false;
  g.seed = 2;
  CheckGpt(g);
}

TEST_CASE("no padding, attention not causal, one head, dropout",
          "[gpt][grad]") {
  Gpt g;
  g.pad = false;
  g.causal = false;
  g.heads = 1;
  g.dropout = 0.2;
  // Dropout draws its mask per element of the pass; the float64 reference
  // runs every position of the block, so the engine does too here.
  g.pack = false;
  g.seed = 3;
  CheckGpt(g);
  g.pad = true;  // key padding without the causal mask
  g.seed = 4;
  CheckGpt(g);
}

TEST_CASE("the classifier head: L2 alone and L3 = L2 + lambda L1",
          "[gpt][grad]") {
  Gpt g;
  g.classes = 3;
  g.seed = 5;
  CheckGpt(g);
  g.lm_weight = 0.5;
  g.seed = 6;
  CheckGpt(g);
}

}  // namespace
}  // namespace dlmath::testing
