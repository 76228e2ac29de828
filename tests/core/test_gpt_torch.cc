// PyTorch parity of sequence models.
//  1. Micro GPTs trained 20 steps by tests/fixtures/train_gpt_torch.py
//     (PyTorch 1.13's own modules: nn.Embedding, nn.MultiheadAttention with
//     causal and key padding masks, LayerNorm, GELU; the same initial
//     weights and batches) replayed by dlmath: every step's loss within 1e-4
//     relative, the final weights within 1e-4. Runs: the page's GPT shape
//     with AdamW on matrices, warmup_cosine and clipping (L1, and L3 =
//     L2 + 0.5 L1 with a classifier), and the other options (sinusoidal,
//     rms_norm, swiglu, an untied head, non-causal attention, Adam).
//  2. ToPyTorch of the trained models: the exported source, run by
//     python3-torch, gives the same logits (and the classifier's) within
//     1e-5 (natively; in wasm the replay alone).
#include <string>
#include <vector>

#include "tests/core/gpt_testing.h"
#include "tests/core/model_testing.h"
#include "tests/core/torch_testing.h"

namespace dlmath::testing {
namespace {

std::vector<TorchRun> Runs() {
  std::vector<TorchRun> runs =
      ReadTorchFixture("train_gpt_torch.txt", "train_gpt_torch.py");
  REQUIRE(runs.size() == 3);
  return runs;
}

TEST_CASE("GPT training matches PyTorch step by step", "[gpt][torch]") {
  for (const TorchRun& r : Runs()) ReplayTorchRun(r);
}

#if !defined(__EMSCRIPTEN__)
TEST_CASE("the exported GPT gives PyTorch the same logits", "[gpt][torch]") {
  std::vector<ExportCheck> checks;
  for (const TorchRun& r : Runs()) {
    auto m = ReplayTorchRun(r);
    ExportCheck e{.name = r.name, .rows = 16, .inputs = m->inputs()};
    e.x.assign(r.x.begin(), r.x.begin() + e.rows * e.inputs);
    e.y.resize(e.rows * m->outputs());
    REQUIRE(m->Predict(e.x.data(), e.rows, e.y.data()).ok());
    REQUIRE(m->ToPyTorch(&e.source).ok());
    checks.push_back(e);
    if (m->classes() == 0) continue;
    e.name += "_classify";
    e.method = "classify";
    e.y.resize(e.rows * m->classes());
    REQUIRE(m->Classify(e.x.data(), e.rows, e.y.data()).ok());
    checks.push_back(e);
  }
  // The tiny GPT of the tests, untrained: tied head, dropout (eval: off).
  Gpt g;
  g.dropout = 0.1;
  g.classes = 3;
  auto m = MakeModel(GptSpec(g));
  ExportCheck e{.name = "gpt_dropout", .rows = 6, .inputs = m->inputs()};
  std::vector<float> y;
  GptBatch(g, e.rows, 3, &e.x, &y);
  e.y.resize(e.rows * m->outputs());
  REQUIRE(m->Predict(e.x.data(), e.rows, e.y.data()).ok());
  REQUIRE(m->ToPyTorch(&e.source).ok());
  checks.push_back(e);
  CheckExports(checks, 1e-5);
}
#endif

}  // namespace
}  // namespace dlmath::testing
