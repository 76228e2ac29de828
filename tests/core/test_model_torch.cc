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
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/core/model_testing.h"

#if !defined(__EMSCRIPTEN__)
#include <unistd.h>

#include <filesystem>
#endif

#ifndef DLMATH_SOURCE_DIR
#error "DLMATH_SOURCE_DIR (the repository root) is set by CMakeLists.txt"
#endif

namespace dlmath::testing {
namespace {

constexpr const char* kFixture = "tests/fixtures/train_torch.txt";
constexpr const char* kMagic = "DLMATH-TRAIN-FIXTURE";
constexpr int kVersion = 1;

struct Run {
  std::string name, spec, fit;
  std::vector<float> x, y, losses;
  std::vector<std::pair<std::string, std::vector<float>>> init, last;
};

std::vector<float> ReadFloats(std::istringstream& in) {
  size_t n = 0;
  in >> n;
  std::vector<float> v(n);
  for (float& f : v) {
    double d;
    in >> d;
    f = static_cast<float>(d);  // the exact float32 value, printed in full
  }
  return v;
}

// The fixture's runs; fails the test, saying how to regenerate it, if the
// file is missing or of another version.
std::vector<Run> ReadFixture() {
  const std::string path = std::string(DLMATH_SOURCE_DIR) + "/" + kFixture;
  std::ifstream file(path);
  const std::string regenerate = std::string(
      "; regenerate it with: python3 tests/fixtures/"
      "train_torch.py (Debian's python3-torch 1.13)");
  INFO(path);
  if (!file) FAIL("cannot open the fixture" + regenerate);
  std::string magic;
  int version = 0;
  file >> magic >> version;
  if (magic != kMagic || version != kVersion)
    FAIL("the fixture starts with '" + magic + " " + std::to_string(version) +
         "', expected '" + kMagic + " " + std::to_string(kVersion) + "'" +
         regenerate);
  std::vector<Run> runs;
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "config") {
      runs.emplace_back();
      in >> runs.back().name;
    } else if (key == "spec" || key == "fit") {
      std::string rest;
      std::getline(in, rest);
      (key == "spec" ? runs.back().spec : runs.back().fit) = rest;
    } else if (key == "x" || key == "y" || key == "loss") {
      (key == "x"   ? runs.back().x
       : key == "y" ? runs.back().y
                    : runs.back().losses) = ReadFloats(in);
    } else if (key == "init" || key == "final") {
      std::string name;
      in >> name;
      (key == "init" ? runs.back().init : runs.back().last)
          .emplace_back(name, ReadFloats(in));
    }
  }
  return runs;
}

TEST_CASE("training matches PyTorch step by step", "[model][torch]") {
  const std::vector<Run> runs = ReadFixture();
  REQUIRE(runs.size() == 3);
  for (const Run& r : runs) {
    INFO(r.name);
    auto m = MakeModel(r.spec);
    for (const auto& [name, values] : r.init)
      REQUIRE(m->SetParameter(name, values.data(), values.size()).ok());
    FitOptions o;
    REQUIRE(ParseFitOptions(r.fit, &o).ok());
    o.log_steps = static_cast<int64_t>(r.losses.size());
    const int64_t n = static_cast<int64_t>(r.x.size()) / m->inputs();
    REQUIRE(m->FitBegin(r.x.data(), r.y.data(), n, o).ok());
    FitProgress p;
    REQUIRE(m->FitRun(1 << 20, &p).ok());
    CHECK(p.state == FitState::kFinished);
    int64_t steps;
    const float* log = m->DiagnosticsLog(&steps);
    REQUIRE(steps == static_cast<int64_t>(r.losses.size()));
    for (int64_t t = 0; t < steps; ++t) {
      const double got = log[t * m->DiagnosticsStride() + kDiagDataLoss];
      const double want = r.losses[t];
      INFO("step " << t << ": dlmath " << got << ", PyTorch " << want);
      CHECK(std::fabs(got - want) <= 1e-4 * std::fabs(want));
    }
    for (const auto& [name, want] : r.last) {
      std::vector<float> got(want.size());
      REQUIRE(m->GetParameter(name, got.data(), got.size()).ok());
      for (size_t i = 0; i < want.size(); ++i) {
        INFO(name << "[" << i << "]: dlmath " << got[i] << ", PyTorch "
                  << want[i]);
        CHECK(std::fabs(got[i] - want[i]) <=
              1e-4 * std::max(1.0f, std::fabs(want[i])));
      }
    }
  }
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
// A python3 that imports torch: $DLMATH_PYTHON, else python3 on PATH, else
// Debian's interpreter (python3-torch is installed for it).
std::string TorchPython() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("DLMATH_PYTHON")) candidates.push_back(env);
  candidates.push_back("python3");
  candidates.push_back("/usr/bin/python3");
  for (const std::string& py : candidates)
    if (std::system((py + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0)
      return py;
  return "";
}

TEST_CASE("the exported PyTorch model reproduces Predict", "[model][torch]") {
  const std::string python = TorchPython();
  INFO("setup installs python3-torch: bash scripts/setup.sh");
  REQUIRE(!python.empty());
  const std::vector<Exported> cases = ExportCases();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("dlmath_export_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string json = "[";
  for (const Exported& e : cases) {
    const std::filesystem::path file = dir / (e.name + ".py");
    std::ofstream(file) << e.source;
    auto list = [](const std::vector<float>& v) {
      std::string s = "[";
      char buf[40];
      for (size_t i = 0; i < v.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", v[i]);
        s += buf;
      }
      return s + "]";
    };
    json += std::string(json.size() > 1 ? "," : "") + "{\"name\":\"" + e.name +
            "\",\"file\":\"" + file.string() +
            "\",\"rows\":7,\"inputs\":" + std::to_string(e.model->inputs()) +
            ",\"x\":" + list(e.x) + ",\"y\":" + list(e.y) + "}";
  }
  std::ofstream(dir / "cases.json") << json << "]";
  const std::string command = python + " " + DLMATH_SOURCE_DIR +
                              "/tests/fixtures/check_export.py " +
                              (dir / "cases.json").string() + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::map<std::string, std::string> result;
  char line[4096];
  while (std::fgets(line, sizeof line, pipe)) {
    std::istringstream in(line);
    std::string name, rest;
    in >> name;
    std::getline(in, rest);
    result[name] = rest;
  }
  pclose(pipe);
  std::filesystem::remove_all(dir);
  for (const Exported& e : cases) {
    INFO(e.name << ":" << result[e.name]);
    REQUIRE(result.count(e.name));
    const double err = std::strtod(result[e.name].c_str(), nullptr);
    CHECK(result[e.name].find("error") == std::string::npos);
    CHECK(err <= 1e-5);
  }
}
#endif

}  // namespace
}  // namespace dlmath::testing
