// Helpers shared by the sequence-model tests: a tiny GPT spec and batches
// of token sequences shaped like the names data (start token, letters, an
// end token, padding).
#ifndef DLMATH_TESTS_CORE_GPT_TESTING_H_
#define DLMATH_TESTS_CORE_GPT_TESTING_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace dlmath::testing {

// Token 0 is the start/pad token, vocab - 1 the end token.
struct Gpt {
  int vocab = 7, block = 5, dim = 8, heads = 2, layers = 2, hidden = 16;
  const char* positional = "learned";  // or "sinusoidal"
  const char* norm = "layer_norm";     // or "rms_norm"
  bool swiglu = false;                 // the MLP: gelu_tanh or swiglu
  bool tie = true, pad = true, causal = true;
  bool pack = true;  // input.pack: passes stop after a batch's real positions
  double dropout = 0;
  int classes = 0;  // > 0: a classifier head
  double lm_weight = 0;
  std::string optimizer = R"({"id":"sgd","lr":0.1})";
  std::string extra;  // more top-level keys, e.g. ,"schedule":{...}
  uint32_t seed = 1;
};

inline std::string GptSpec(const Gpt& g) {
  const std::string c = std::to_string(g.dim);
  const std::string dropout =
      g.dropout > 0
          ? R"(,{"type":"dropout","p":)" + std::to_string(g.dropout) + "}"
          : "";
  std::string s = R"({"input":{"tokens":)" + std::to_string(g.vocab) +
                  R"(,"block":)" + std::to_string(g.block) +
                  (g.pad ? R"(,"pad":0)" : "") +
                  (g.pack ? "" : R"(,"pack":false)") + R"(},"layers":[)";
  s += R"({"type":"embedding","dim":)" + c +
       R"(,"init":{"id":"normal","std":0.5}},)";
  s += R"({"type":"positional","kind":")" + std::string(g.positional) + "\"" +
       (std::string(g.positional) == "learned"
            ? R"(,"init":{"id":"normal","std":0.3})"
            : "") +
       "}" + dropout;
  for (int i = 0; i < g.layers; ++i) {
    s += R"(,{"type":"residual","layers":[{"type":")" + std::string(g.norm) +
         R"("},{"type":"attention","heads":)" + std::to_string(g.heads) +
         R"(,"causal":)" + (g.causal ? "true" : "false") + "}" + dropout + "]}";
    s += R"(,{"type":"residual","layers":[{"type":")" + std::string(g.norm) +
         "\"},";
    if (g.swiglu) {
      s += R"({"type":"swiglu","units":)" + std::to_string(g.hidden) + "},";
    } else {
      s += R"({"type":"linear","units":)" + std::to_string(g.hidden) +
           R"(},{"type":"activation","id":"gelu_tanh"},)";
    }
    s += R"({"type":"linear","units":)" + c + "}" + dropout + "]}";
  }
  s += R"(,{"type":")" + std::string(g.norm) + "\"}";
  s += R"(,{"type":"linear","units":)" + std::to_string(g.vocab) +
       (g.tie ? R"(,"bias":false,"tie":true)" : "") + "}]";
  s += R"(,"loss":{"id":"cross_entropy"})";
  if (g.classes > 0)
    s += R"(,"classifier":{"classes":)" + std::to_string(g.classes) +
         R"(,"lm_weight":)" + std::to_string(g.lm_weight) + "}";
  s += R"(,"optimizer":)" + g.optimizer + g.extra + R"(,"seed":)" +
       std::to_string(g.seed) + "}";
  return s;
}

// n sequences like names: x [n, T] = start (0), letters in [1, vocab - 2],
// padding (0); y [n, T (+1)] = the next tokens, the end token (vocab - 1)
// after the last letter, ignore_index (-100) beyond, then the class
// (classes > 0) in [0, classes).
inline void GptBatch(const Gpt& g, int64_t n, uint32_t seed,
                     std::vector<float>* x, std::vector<float>* y) {
  std::mt19937 rng(seed);
  const int t = g.block;
  x->assign(n * t, 0.0f);
  y->assign(n * (t + (g.classes > 0 ? 1 : 0)), -100.0f);
  const int width = t + (g.classes > 0 ? 1 : 0);
  for (int64_t b = 0; b < n; ++b) {
    const int len = 1 + static_cast<int>(rng() % t);  // real positions
    for (int j = 1; j < len; ++j)
      (*x)[b * t + j] = static_cast<float>(1 + rng() % (g.vocab - 2));
    for (int j = 0; j + 1 < len; ++j) (*y)[b * width + j] = (*x)[b * t + j + 1];
    (*y)[b * width + len - 1] = static_cast<float>(g.vocab - 1);
    if (!g.pad)  // no padding: every position is real and scored
      for (int j = len; j < t; ++j) {
        (*x)[b * t + j] = static_cast<float>(1 + rng() % (g.vocab - 2));
        (*y)[b * width + j - 1] = (*x)[b * t + j];
        (*y)[b * width + j] = static_cast<float>(g.vocab - 1);
      }
    if (g.classes > 0)
      (*y)[b * width + t] = static_cast<float>(rng() % g.classes);
  }
}

}  // namespace dlmath::testing

#endif  // DLMATH_TESTS_CORE_GPT_TESTING_H_
