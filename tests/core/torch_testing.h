// PyTorch parity helpers shared by test_model_torch and test_gpt_torch:
// reading a training fixture written by a committed script
// (tests/fixtures/train_torch.py's format), replaying its runs step by step,
// and running exported models through python3-torch (check_export.py).
#ifndef DLMATH_TESTS_CORE_TORCH_TESTING_H_
#define DLMATH_TESTS_CORE_TORCH_TESTING_H_

#include <cmath>
#include <cstdio>
#include <cstdlib>
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

inline constexpr const char* kTorchMagic = "DLMATH-TRAIN-FIXTURE";
inline constexpr int kTorchVersion = 1;

// One recorded PyTorch run: spec, fit options, data, initial weights, the
// loss of every step, final weights.
struct TorchRun {
  std::string name, spec, fit;
  std::vector<float> x, y, losses;
  std::vector<std::pair<std::string, std::vector<float>>> init, last;
};

inline std::vector<float> ReadFloats(std::istringstream& in) {
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

// The runs of tests/fixtures/<file>, written by tests/fixtures/<script>;
// fails the test, saying how to regenerate it, if the file is missing or of
// another version. The fixture is read from the source tree: natively with
// stdio, in wasm through Node's file system (NODERAWFS, wasm/flags.cmake).
inline std::vector<TorchRun> ReadTorchFixture(const std::string& file_name,
                                              const std::string& script) {
  const std::string path =
      std::string(DLMATH_SOURCE_DIR) + "/tests/fixtures/" + file_name;
  std::ifstream file(path);
  const std::string regenerate =
      "; regenerate it with: python3 tests/fixtures/" + script +
      " (Debian's python3-torch 1.13)";
  INFO(path);
  if (!file) FAIL("cannot open the fixture" + regenerate);
  std::string magic;
  int version = 0;
  file >> magic >> version;
  if (magic != kTorchMagic || version != kTorchVersion)
    FAIL("the fixture starts with '" + magic + " " + std::to_string(version) +
         "', expected '" + kTorchMagic + " " + std::to_string(kTorchVersion) +
         "'" + regenerate);
  std::vector<TorchRun> runs;
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

// Replays a run with dlmath (its initial weights, its batches in order):
// every step's loss within 1e-4 relative and the final weights within 1e-4
// of PyTorch's. Returns the trained model.
inline std::unique_ptr<Model> ReplayTorchRun(const TorchRun& r) {
  INFO(r.name);
  auto m = MakeModel(r.spec);
  for (const auto& [name, values] : r.init) {
    INFO(name);
    REQUIRE(m->SetParameter(name, values.data(), values.size()).ok());
  }
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
    // Attention's key bias [C, 2C) of in_proj_bias adds q.b_k to every
    // score of a query, which the softmax cancels: its gradient is 0 but for
    // rounding, which Adam scales up to lr-sized steps in both frameworks.
    // The outputs do not depend on it, so it is not compared.
    const bool key_bias = name.size() > 12 && name.compare(name.size() - 12, 12,
                                                           "in_proj_bias") == 0;
    for (size_t i = 0; i < want.size(); ++i) {
      if (key_bias && i >= want.size() / 3 && i < 2 * want.size() / 3) continue;
      INFO(name << "[" << i << "]: dlmath " << got[i] << ", PyTorch "
                << want[i]);
      CHECK(std::fabs(got[i] - want[i]) <=
            1e-4 * std::max(1.0f, std::fabs(want[i])));
    }
  }
  return m;
}

#if !defined(__EMSCRIPTEN__)
// A python3 that imports torch: $DLMATH_PYTHON, else python3 on PATH, else
// Debian's interpreter (python3-torch is installed for it).
inline std::string TorchPython() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("DLMATH_PYTHON")) candidates.push_back(env);
  candidates.push_back("python3");
  candidates.push_back("/usr/bin/python3");
  for (const std::string& py : candidates)
    if (std::system((py + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0)
      return py;
  return "";
}

// An exported model and what dlmath computes on x: y = the model's
// `method` (forward: Predict; classify: the classifier's logits).
struct ExportCheck {
  std::string name, source, method = "forward";
  int64_t rows = 0, inputs = 0;
  std::vector<float> x, y;
};

// Runs every case through tests/fixtures/check_export.py in one python3
// call; each case's max relative error must be <= tol.
inline void CheckExports(const std::vector<ExportCheck>& cases, double tol) {
  const std::string python = TorchPython();
  INFO("setup installs python3-torch: bash scripts/setup.sh");
  REQUIRE(!python.empty());
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("dlmath_export_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto list = [](const std::vector<float>& v) {
    std::string s = "[";
    char buf[40];
    for (size_t i = 0; i < v.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", v[i]);
      s += buf;
    }
    return s + "]";
  };
  std::string json = "[";
  for (const ExportCheck& e : cases) {
    const std::filesystem::path file = dir / (e.name + ".py");
    std::ofstream(file) << e.source;
    json += std::string(json.size() > 1 ? "," : "") + "{\"name\":\"" + e.name +
            "\",\"file\":\"" + file.string() + "\",\"method\":\"" + e.method +
            "\",\"rows\":" + std::to_string(e.rows) +
            ",\"inputs\":" + std::to_string(e.inputs) + ",\"x\":" + list(e.x) +
            ",\"y\":" + list(e.y) + "}";
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
  for (const ExportCheck& e : cases) {
    INFO(e.name << ":" << result[e.name]);
    REQUIRE(result.count(e.name));
    const double err = std::strtod(result[e.name].c_str(), nullptr);
    CHECK(result[e.name].find("error") == std::string::npos);
    CHECK(err <= tol);
  }
}
#endif

}  // namespace dlmath::testing

#endif  // DLMATH_TESTS_CORE_TORCH_TESTING_H_
