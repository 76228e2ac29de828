// PyTorch parity of the training engine.
//  1. Training runs recorded by tests/fixtures/train_torch.py (PyTorch 1.13:
//     the same initial weights and batches) replayed by dlmath: every
//     step's loss within 1e-4 relative, the final weights within 1e-4.
//     The fixture is read from the source tree: natively with stdio, in
//     wasm through Node's file system (NODERAWFS, wasm/flags.cmake), so
//     both builds read the one committed file.
//  2. ToPyTorch: the exported source, run by python3-torch, reproduces
//     Predict within 1e-5 for every layer kind and every registry
//     activation (natively; the wasm build checks the exported weights,
//     base64-decoded, equal the model's).
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "tests/core/model_testing.h"
#include "tests/core/torch_testing.h"

namespace dlmath::testing {
namespace {

TEST_CASE("training matches PyTorch step by step", "[model][torch]") {
  const std::vector<TorchRun> runs =
      ReadTorchFixture("train_torch.txt", "train_torch.py");
  REQUIRE(runs.size() == 3);
  for (const TorchRun& r : runs) ReplayTorchRun(r);
}

// ----- export
// -------------------------------------------------------------------

struct Exported {
  std::string name;
  std::unique_ptr<Model> model;
  std::vector<float> x, y;
  std::string source;
};

// Models covering every layer kind, every registry activation and every
// formula builtin, trained a few steps (batch norm statistics move).
std::vector<Exported> ExportCases() {
  std::vector<std::pair<std::string, std::string>> specs;
  auto mlp = [](const std::string& layer) {
    return R"({"input":3,"layers":[{"type":"linear","units":6},)" + layer +
           R"(,{"type":"linear","units":2}],"loss":{"id":"mse"},
           "optimizer":{"id":"adam","lr":0.01},"seed":5})";
  };
  for (const OpInfo& op : Ops())
    if (op.kind == Kind::kOp &&
        (op.form == Form::Elementwise || op.form == Form::Rowwise))
      specs.emplace_back(op.id, mlp(R"({"type":"activation","id":")" +
                                    std::string(op.id) + "\"}"));
  specs.emplace_back("every_layer", R"j({"input":4,"layers":[
      {"type":"linear","units":8},{"type":"batch_norm"},
      {"type":"activation","id":"relu"},{"type":"dropout","p":0.25},
      {"type":"residual","layers":[
        {"type":"layer_norm"},{"type":"linear","units":8,"bias":false},
        {"type":"activation","id":"prelu","num_parameters":8},
        {"type":"rms_norm"},{"type":"group_norm","num_groups":4},
        {"type":"activation","id":"swish_beta","beta":0.8},
        {"type":"activation","formula":"x*sigmoid(a*x)","a":1.5},
        {"type":"residual","layers":[{"type":"activation","id":"elu"},
                                     {"type":"linear","units":8}]}]},
      {"type":"batch_norm","affine":false},{"type":"layer_norm","affine":false},
      {"type":"rms_norm","affine":false},
      {"type":"group_norm","num_groups":2,"affine":false},
      {"type":"activation","id":"prelu"},{"type":"linear","units":3}],
    "loss":{"id":"cross_entropy"},"optimizer":{"id":"adam","lr":0.01},
    "seed":6})j");
  specs.emplace_back(
      "formula_builtins",
      mlp(R"j({"type":"activation","formula":"elu(x, a) + 0.25*sin(x)^2 - cbrt(x)/(1+abs(x)) + clamp(x, -1, b) + atan2(x, 2) + hypot(x, 1) + min(x, 0.5) * max(x, -0.5) + pow(abs(x)+1, 0.3) + log1p(abs(x)) + expm1(-abs(x)) + sign(x)*floor(x) + ceil(x) - round(x) + sqrt(abs(x)+1) + exp(-x^2) + log(abs(x)+2) + log2(abs(x)+1) + log10(abs(x)+1) + tan(x/4) + asin(x/10) + acos(x/10) + atan(x) + sinh(x/2) + cosh(x/3) + tanh(x) + asinh(x) + acosh(abs(x)+1) + atanh(x/10) + pi*e - 2^-x/8 + softplus(x, 2, 20)","a":0.5,"b":0.75})j"));
  std::vector<Exported> out;
  uint32_t seed = 1;
  for (auto& [name, spec] : specs) {
    Exported e;
    e.name = name;
    e.model = MakeModel(spec);
    Model& m = *e.model;
    const int64_t rows = 7;
    e.x = RandomData(rows * m.inputs(), seed++, -2, 2);
    std::vector<float> y = m.ClassTargets()
                               ? std::vector<float>{0, 1, 2, 0, 1, 2, 0}
                               : RandomData(rows * m.outputs(), seed++, -1, 1);
    for (int i = 0; i < 3; ++i)
      REQUIRE(m.Step(e.x.data(), y.data(), rows).ok());
    e.y.resize(rows * m.outputs());
    REQUIRE(m.Predict(e.x.data(), rows, e.y.data()).ok());
    const Status s = m.ToPyTorch(&e.source);
    INFO(name << ": " << s.message());
    REQUIRE(s.ok());
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<float> DecodeBase64(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::vector<unsigned char> bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) continue;  // '=' padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<unsigned char>((acc >> bits) & 0xFF));
    }
  }
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

TEST_CASE("the PyTorch export carries the exact weights", "[model][torch]") {
  for (const Exported& e : ExportCases()) {
    INFO(e.name);
    const std::string& s = e.source;
    CHECK(s.find("\nmodel = Net()\n") != std::string::npos);
    CHECK(s.find("model.eval()") != std::string::npos);
    for (const ParamEntry& p : e.model->ParameterTable()) {
      const std::string key = "    '" + p.name + "': (";
      const size_t at = s.find(key);
      INFO(p.name);
      REQUIRE(at != std::string::npos);
      const size_t open = s.find("], '", at) + 4;
      const std::vector<float> got =
          DecodeBase64(s.substr(open, s.find('\'', open) - open));
      std::vector<float> want(p.shape.numel());
      REQUIRE(e.model->GetParameter(p.name, want.data(), want.size()).ok());
      CHECK(got == want);
    }
  }
}

#if !defined(__EMSCRIPTEN__)
TEST_CASE("the exported PyTorch model reproduces Predict", "[model][torch]") {
  std::vector<ExportCheck> checks;
  for (const Exported& e : ExportCases())
    checks.push_back({.name = e.name,
                      .source = e.source,
                      .rows = 7,
                      .inputs = e.model->inputs(),
                      .x = e.x,
                      .y = e.y});
  CheckExports(checks, 1e-5);
}
#endif

}  // namespace
}  // namespace dlmath::testing
