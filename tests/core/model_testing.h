// Helpers shared by the training-engine tests: building a model, and the
// small data sets the tests train on.
#ifndef DLMATH_TESTS_CORE_MODEL_TESTING_H_
#define DLMATH_TESTS_CORE_MODEL_TESTING_H_

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dlmath/model.h"
#include "tests/core/testing.h"

namespace dlmath::testing {

inline std::unique_ptr<Model> MakeModel(const std::string& spec) {
  std::unique_ptr<Model> m;
  const Status s = Model::Create(spec, &m);
  INFO(spec);
  INFO(s.message());
  REQUIRE(s.ok());
  return m;
}

// A fit that must succeed; returns its final progress.
inline FitProgress FitOk(Model& m, const std::vector<float>& x,
                         const std::vector<float>& y, const FitOptions& o) {
  FitProgress p;
  const int64_t n = static_cast<int64_t>(x.size()) / m.inputs();
  const Status s = m.Fit(x.data(), y.data(), n, o, &p);
  INFO(s.message());
  REQUIRE(s.ok());
  return p;
}

inline std::vector<float> Params(const Model& m) {
  return std::vector<float>(m.parameters(),
                            m.parameters() + m.num_parameters());
}

// Two interleaved spirals per class (TensorFlow Playground's data set):
// x [classes * per_class, 2], y class indices, a little noise.
inline void Spiral(int per_class, int classes, uint32_t seed,
                   std::vector<float>* x, std::vector<float>* y) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 0.05f);
  for (int c = 0; c < classes; ++c)
    for (int i = 0; i < per_class; ++i) {
      const float r = static_cast<float>(i) / per_class;
      const float t = 4.0f * r + 2.0f * 3.14159265f * c / classes;
      x->push_back(r * std::sin(t) + noise(rng));
      x->push_back(r * std::cos(t) + noise(rng));
      y->push_back(static_cast<float>(c));
    }
}

}  // namespace dlmath::testing

#endif  // DLMATH_TESTS_CORE_MODEL_TESTING_H_
