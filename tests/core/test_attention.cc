// Attention and positional encoding: what the generic oracles cannot see.
// Boolean masks that really mask, fully masked rows, rank-2 calls and long
// rows (vector tails), per-head weights, multi_head_attention against
// scaled_dot_product_attention, batches against their sequences one by one,
// PyTorch's values, and hand-computed values.
#include <cmath>
#include <string>

#include "tests/core/testing.h"

namespace dlmath::testing {
namespace {

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Kernels against the float64 reference (values, aux, gradients) on every
// target, and the reference backward against central differences.
void CheckCall(const Call& call) {
  const OpInfo& op = *call.op;
  const int ni = op.num_inputs();
  const size_t no = call.out.numel();
  const std::vector<float> dy = RandomData(no, 21, -2, 2);
  const std::vector<double> dyd(dy.begin(), dy.end());
  RefBuffers rb = RefInputs(call);
  GenCall<double> rc = RefForward(call, &rb);
  std::vector<std::vector<double>> rg(ni);
  double* rd[kMaxInputs] = {};
  for (int k = 0; k < ni; ++k) {
    rg[k].assign(rb.in[k].size(), 0);
    if (op.inputs[k].diff && call.in[k].data) rd[k] = rg[k].data();
  }
  std::vector<double> rdp(kMaxParams, 0);
  rc.dy = dyd.data();
  rc.din = rd;
  rc.dp = rdp.data();
  op.impl.gen_ref_bwd(rc);
  // Reference backward against central differences (a few entries each).
  for (int k = 0; k < ni; ++k) {
    if (!rd[k]) continue;
    for (size_t j = 0; j < rb.in[k].size(); j += 1 + rb.in[k].size() / 7) {
      const double fd = RefCentralDiff(call, rb, dyd, k, j);
      INFO("op " << op.id << " d" << op.inputs[k].name << "[" << j << "] ref "
                 << rg[k][j] << " fd " << fd);
      REQUIRE(std::fabs(fd - rg[k][j]) <= 1e-6 * std::max(1.0, std::fabs(fd)));
    }
  }
  ForEachTarget([&](const char* target) {
    INFO("op " << op.id << " target " << target << " query "
               << call.in[0].shape.str());
    Evaluation ev;
    REQUIRE(Run(call, &ev).ok());
    for (size_t i = 0; i < no; ++i) {
      INFO("y[" << i << "] got " << ev.y.data()[i] << " ref " << rb.y[i]);
      REQUIRE(Close(ev.y.data()[i], rb.y[i], op.tol.value));
    }
    for (int a = 0; a < op.num_aux(); ++a)
      for (size_t i = 0; i < rb.aux[a].size(); ++i)
        REQUIRE(Close(ev.aux[a].data()[i], rb.aux[a][i], op.tol.value));
    std::vector<std::vector<float>> g(ni);
    float* din[kMaxInputs] = {};
    for (int k = 0; k < ni; ++k) {
      g[k].assign(rb.in[k].size(), 0.25f);  // backward must accumulate
      if (rd[k]) din[k] = g[k].data();
    }
    std::vector<double> dp(kMaxParams, 0);
    Backward(call, ev.y.data(), ev.ws.data(), dy.data(), din, dp.data());
    for (int k = 0; k < ni; ++k)
      for (size_t i = 0; din[k] && i < g[k].size(); ++i) {
        INFO("d" << op.inputs[k].name << "[" << i << "] got " << g[k][i]
                 << " ref " << rg[k][i] + 0.25);
        REQUIRE(Close(g[k][i], rg[k][i] + 0.25, op.tol.grad));
      }
  });
}

TEST_CASE("sdpa: rank 2 and 3, long rows, masks of both kinds, causal",
          "[attention]") {
  for (int l : {1, 3, 17}) {
    for (int s : {1, 5, 33, 70}) {
      const int e = 8, ev = 5, b = 2;
      const auto q = RandomData(b * l * e, l, -1, 1);
      const auto k = RandomData(b * s * e, s + 1, -1, 1);
      const auto v = RandomData(b * s * ev, s + 2, -1, 1);
      // Boolean mask: about a third zeros, but key 0 always kept (no fully
      // masked rows here; they have their own test).
      auto m = RandomData(b * l * s, l + s, -1, 2);
      for (int i = 0; i < b * l * s; ++i) {
        m[i] = m[i] < 0 && i % s ? 0.0f : 1.0f;
      }
      for (int rank : {2, 3}) {
        const Shape qs = rank == 3 ? Shape{b, l, e} : Shape{l, e};
        const Shape ks = rank == 3 ? Shape{b, s, e} : Shape{s, e};
        const Shape vs = rank == 3 ? Shape{b, s, ev} : Shape{s, ev};
        const Shape ms = rank == 3 ? Shape{b, l, s} : Shape{l, s};
        for (int variant = 0; variant < 4; ++variant) {
          INFO("l " << l << " s " << s << " rank " << rank << " variant "
                    << variant);
          std::vector<NamedTensor> in = {{"query", {q.data(), qs}},
                                         {"key", {k.data(), ks}},
                                         {"value", {v.data(), vs}}};
          std::vector<NamedParam> p;
          if (variant == 1) p.push_back({"is_causal", 1});
          if (variant >= 2) {
            in.push_back({"attn_mask", {m.data(), ms}});
            p.push_back({"mask_kind", variant == 2 ? 1.0 : 0.0});
          }
          if (variant == 3) p.push_back({"scale", 0.7});
          Call call;
          const Status st =
              Prepare("scaled_dot_product_attention", in, p, &call);
          INFO(st.message());
          REQUIRE(st.ok());
          CheckCall(call);
        }
      }
    }
  }
}

TEST_CASE("sdpa: hand values, boolean masking, fully masked rows",
          "[attention]") {
  // q = 1, keys 0 and ln 3, scale 1: weights 1/4, 3/4; values 4, 8 -> 7.
  float q[2] = {1, 1}, k[2] = {0, std::log(3.0f)}, v[2] = {4, 8};
  float mask[4] = {1, 1, 0, 0};  // boolean: query 1 sees no key at all
  NamedTensor in[] = {{"query", {q, Shape{2, 1}}},
                      {"key", {k, Shape{2, 1}}},
                      {"value", {v, Shape{2, 1}}},
                      {"attn_mask", {mask, Shape{2, 2}}}};
  NamedParam p[] = {{"scale", 1}, {"mask_kind", 1}};
  Call call;
  REQUIRE(Prepare("scaled_dot_product_attention", in, p, &call).ok());
  REQUIRE(call.aux[0] == Shape({2, 2}));
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  REQUIRE(ev.y.data()[0] == Approx(7.0).epsilon(1e-6));
  REQUIRE(ev.aux[0].data()[0] == Approx(0.25).epsilon(1e-6));
  REQUIRE(ev.aux[0].data()[1] == Approx(0.75).epsilon(1e-6));
  // Fully masked: zero weights and output (PyTorch >= 2.5), zero gradient.
  REQUIRE(ev.y.data()[1] == 0.0f);
  REQUIRE(ev.aux[0].data()[2] == 0.0f);
  REQUIRE(ev.aux[0].data()[3] == 0.0f);
  Gradients g;
  REQUIRE(RunBackward(call, &ev, nullptr, &g).ok());
  REQUIRE(g.din[0].data()[1] == 0.0f);
  // dq_0 = scale sum_j P_j (v_j - out) k_j = 3/4 (8 - 7) ln 3.
  REQUIRE(g.din[0].data()[0] == Approx(0.75 * std::log(3.0)).epsilon(1e-5));
  REQUIRE(g.din[2].data()[0] == Approx(0.25).epsilon(1e-6));
  REQUIRE(g.din[2].data()[1] == Approx(0.75).epsilon(1e-6));
  REQUIRE(g.din[3].size() == 0);  // the mask: a constant

  // Causal, L = 2, S = 2: query 0 sees key 0 only (top-left aligned).
  NamedTensor in2[] = {{"query", {q, Shape{2, 1}}},
                       {"key", {k, Shape{2, 1}}},
                       {"value", {v, Shape{2, 1}}}};
  NamedParam causal[] = {{"is_causal", 1}, {"scale", 1}};
  REQUIRE(Prepare("scaled_dot_product_attention", in2, causal, &call).ok());
  REQUIRE(Run(call, &ev).ok());
  REQUIRE(ev.y.data()[0] == 4.0f);
  REQUIRE(ev.y.data()[1] == Approx(7.0).epsilon(1e-6));
}

TEST_CASE("sdpa: shape errors name the input", "[attention]") {
  std::vector<float> buf(64, 0.5f);
  auto run = [&](Shape q, Shape k, Shape v, Shape m = {}) {
    std::vector<NamedTensor> in = {{"query", {buf.data(), q}},
                                   {"key", {buf.data(), k}},
                                   {"value", {buf.data(), v}}};
    if (m.rank) in.push_back({"attn_mask", {buf.data(), m}});
    Call call;
    return Prepare("scaled_dot_product_attention", in, {}, &call);
  };
  Status s = run({2, 4, 6}, {2, 5, 7}, {2, 5, 3});
  REQUIRE(s.code() == ErrorCode::kBadShape);
  REQUIRE(s.what() == "key");
  REQUIRE(Contains(s.message(), "must have shape [2, S, 6]"));
  REQUIRE(Contains(s.message(), "got [2, 5, 7]"));
  s = run({4, 6}, {5, 6}, {4, 3});
  REQUIRE(s.what() == "value");
  REQUIRE(Contains(s.message(), "must have shape [5, Ev]"));
  s = run({4, 6}, {2, 5, 6}, {5, 3});
  REQUIRE(s.what() == "key");
  s = run({4, 6}, {5, 6}, {5, 3}, {5, 4});
  REQUIRE(s.what() == "attn_mask");
  REQUIRE(Contains(s.message(), "must have shape [4, 5]"));
}

// in_proj_weight = [I; I; I], out_proj_weight = I: one head is plain
// scaled_dot_product_attention.
TEST_CASE("multi_head_attention: one head with identity projections is sdpa",
          "[attention]") {
  const int l = 3, s = 4, e = 4;
  const auto q = RandomData(l * e, 1), k = RandomData(s * e, 2),
             v = RandomData(s * e, 3);
  std::vector<float> wi(3 * e * e, 0), wo(e * e, 0);
  for (int i = 0; i < e; ++i) {
    wo[i * e + i] = 1;
    for (int t = 0; t < 3; ++t) wi[(t * e + i) * e + i] = 1;
  }
  NamedTensor mha[] = {{"query", {q.data(), Shape{l, e}}},
                       {"key", {k.data(), Shape{s, e}}},
                       {"value", {v.data(), Shape{s, e}}},
                       {"in_proj_weight", {wi.data(), Shape{3 * e, e}}},
                       {"out_proj_weight", {wo.data(), Shape{e, e}}}};
  NamedTensor sdpa[] = {{"query", {q.data(), Shape{l, e}}},
                        {"key", {k.data(), Shape{s, e}}},
                        {"value", {v.data(), Shape{s, e}}}};
  Call a, b;
  REQUIRE(Prepare("multi_head_attention", mha, {}, &a).ok());
  REQUIRE(Prepare("scaled_dot_product_attention", sdpa, {}, &b).ok());
  Evaluation ea, eb;
  REQUIRE(Run(a, &ea).ok());
  REQUIRE(Run(b, &eb).ok());
  for (int i = 0; i < l * e; ++i)
    REQUIRE(ea.y.data()[i] == Approx(eb.y.data()[i]).margin(1e-6));
  for (int i = 0; i < l * s; ++i)
    REQUIRE(ea.aux[0].data()[i] == Approx(eb.aux[0].data()[i]).margin(1e-6));
  Gradients ga, gb;
  REQUIRE(RunBackward(a, &ea, nullptr, &ga).ok());
  REQUIRE(RunBackward(b, &eb, nullptr, &gb).ok());
  for (int t = 0; t < 3; ++t)
    for (int64_t i = 0; i < gb.din[t].size(); ++i)
      REQUIRE(ga.din[t].data()[i] == Approx(gb.din[t].data()[i]).margin(1e-5));
}

TEST_CASE("multi_head_attention: heads, weights per head, validation",
          "[attention]") {
  const int l = 5, s = 7, e = 12;
  const auto q = RandomData(l * e, 4, -1, 1), k = RandomData(s * e, 5, -1, 1),
             v = RandomData(s * e, 6, -1, 1);
  const auto wi = RandomData(3 * e * e, 7, -0.5, 0.5),
             bi = RandomData(3 * e, 8, -0.5, 0.5),
             wo = RandomData(e * e, 9, -0.5, 0.5), bo = RandomData(e, 10);
  std::vector<NamedTensor> in = {
      {"query", {q.data(), Shape{l, e}}},
      {"key", {k.data(), Shape{s, e}}},
      {"value", {v.data(), Shape{s, e}}},
      {"in_proj_weight", {wi.data(), Shape{3 * e, e}}},
      {"in_proj_bias", {bi.data(), Shape{3 * e}}},
      {"out_proj_weight", {wo.data(), Shape{e, e}}},
      {"out_proj_bias", {bo.data(), Shape{e}}}};
  for (int heads : {1, 2, 3, 4, 6, 12})
    for (int avg : {0, 1}) {
      INFO("heads " << heads << " average " << avg);
      NamedParam p[] = {{"num_heads", double(heads)},
                        {"average_attn_weights", double(avg)}};
      Call call;
      REQUIRE(Prepare("multi_head_attention", in, p, &call).ok());
      REQUIRE(call.aux[0] == (avg ? Shape{l, s} : Shape{heads, l, s}));
      CheckCall(call);
    }
  // Without biases.
  std::vector<NamedTensor> nobias = {in[0], in[1], in[2], in[3], in[5]};
  NamedParam three[] = {{"num_heads", 3}};
  Call call;
  REQUIRE(Prepare("multi_head_attention", nobias, three, &call).ok());
  CheckCall(call);
  // need_weights off: an empty aux output.
  NamedParam now[] = {{"need_weights", 0}};
  REQUIRE(Prepare("multi_head_attention", in, now, &call).ok());
  REQUIRE(call.aux[0].numel() == 0);
  // num_heads must divide E.
  NamedParam five[] = {{"num_heads", 5}};
  Status st = Prepare("multi_head_attention", in, five, &call);
  REQUIRE(st.code() == ErrorCode::kBadValue);
  REQUIRE(st.what() == "num_heads");
  REQUIRE(Contains(st.message(), "must divide the embedding width E = 12"));
  in[3].tensor.shape = Shape{3 * e, e - 1};
  st = Prepare("multi_head_attention", in, {}, &call);
  REQUIRE(st.code() == ErrorCode::kBadShape);
  REQUIRE(st.what() == "in_proj_weight");
  REQUIRE(Contains(st.message(), "must have shape [36, 12]"));
}

// ----- multi_head_attention's masks
// -------------------------------------------

// The inputs of tests/fixtures/torch_values.py's multi_head_attention cases
// (E = 4, 2 heads, L = 3 queries, S = 4 keys; batched: B = 2 sequences of
// those), plus the given masks.
struct TorchMha {
  std::vector<std::vector<float>> data;
  std::vector<NamedTensor> in;
  std::vector<float> grad, attn_mask, key_padding_mask;
  TorchMha(std::vector<float> mask, Shape mask_shape,
           std::vector<float> padding = {})
      : TorchMha(0, std::move(mask), mask_shape, std::move(padding)) {}
  // batch 0: unbatched.
  TorchMha(int64_t batch, std::vector<float> mask, Shape mask_shape,
           std::vector<float> padding = {})
      : data{batch ? Floats(torch::kMhaBatchQuery) : Floats(torch::kMhaQuery),
             batch ? Floats(torch::kMhaBatchKey) : Floats(torch::kMhaKey),
             batch ? Floats(torch::kMhaBatchValue) : Floats(torch::kMhaValue),
             Floats(torch::kMhaInProjWeight),
             Floats(torch::kMhaInProjBias),
             Floats(torch::kMhaOutProjWeight),
             Floats(torch::kMhaOutProjBias)},
        grad(batch ? Floats(torch::kMhaBatchGrad) : Floats(torch::kMhaGrad)),
        attn_mask(std::move(mask)),
        key_padding_mask(std::move(padding)) {
    const auto rows = [&](int64_t n) {
      return batch ? Shape{batch, n, 4} : Shape{n, 4};
    };
    in = {{"query", {data[0].data(), rows(3)}},
          {"key", {data[1].data(), rows(4)}},
          {"value", {data[2].data(), rows(4)}},
          {"in_proj_weight", {data[3].data(), Shape{12, 4}}},
          {"in_proj_bias", {data[4].data(), Shape{12}}},
          {"out_proj_weight", {data[5].data(), Shape{4, 4}}},
          {"out_proj_bias", {data[6].data(), Shape{4}}}};
    if (!attn_mask.empty())
      in.push_back({"attn_mask", {attn_mask.data(), mask_shape}});
    if (!key_padding_mask.empty())
      in.push_back(
          {"key_padding_mask",
           {key_padding_mask.data(), batch ? Shape{batch, 4} : Shape{4}}});
  }
};

// Output, weights and every gradient of sum(out * G) against PyTorch's, then
// the kernels against the reference on every target and the reference
// against central differences (CheckCall).
template <size_t NO, size_t NW>
void CheckTorchMha(TorchMha& m, std::vector<NamedParam> p,
                   const double (&out)[NO], const double (&weights)[NW],
                   const std::vector<const double*>& grads) {
  p.push_back({"num_heads", 2});
  Call call;
  const Status st = Prepare("multi_head_attention", m.in, p, &call);
  INFO(st.message());
  REQUIRE(st.ok());
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  REQUIRE(call.out.numel() == static_cast<int64_t>(NO));
  for (size_t i = 0; i < NO; ++i) REQUIRE(Close(ev.y.data()[i], out[i], 2e-6));
  RequireTorch(ev.aux[0].data(), ev.aux[0].size(), weights, 2e-6);
  Gradients grad;
  REQUIRE(RunBackward(call, &ev, m.grad.data(), &grad).ok());
  for (int k = 0; k < 7; ++k)
    for (int64_t i = 0; i < grad.din[k].size(); ++i) {
      INFO("d" << call.op->inputs[k].name << "[" << i << "] got "
               << grad.din[k].data()[i] << ", PyTorch " << grads[k][i]);
      REQUIRE(Close(grad.din[k].data()[i], grads[k][i], 1e-5));
    }
  CheckCall(call);
}

TEST_CASE("multi_head_attention: masks as nn.MultiheadAttention",
          "[attention]") {
  using namespace torch;  // NOLINT: the fixture's names
  SECTION("additive attn_mask") {
    TorchMha m(Floats(kMhaAdditiveMask), Shape{3, 4});
    CheckTorchMha(m, {}, kMhaAdditiveOut, kMhaAdditiveWeights,
                  {kMhaAdditiveDQuery, kMhaAdditiveDKey, kMhaAdditiveDValue,
                   kMhaAdditiveDInProjWeight, kMhaAdditiveDInProjBias,
                   kMhaAdditiveDOutProjWeight, kMhaAdditiveDOutProjBias});
  }
  SECTION("additive attn_mask and key_padding_mask (one key at -inf)") {
    // PyTorch 1.13 took the sum as one attn_mask; 2.x adds a float
    // key_padding_mask to every query's row the same way.
    TorchMha m(Floats(kMhaAdditiveMask), Shape{3, 4}, Floats(kMhaPaddingAdd));
    CheckTorchMha(
        m, {}, kMhaAdditivePaddingOut, kMhaAdditivePaddingWeights,
        {kMhaAdditivePaddingDQuery, kMhaAdditivePaddingDKey,
         kMhaAdditivePaddingDValue, kMhaAdditivePaddingDInProjWeight,
         kMhaAdditivePaddingDInProjBias, kMhaAdditivePaddingDOutProjWeight,
         kMhaAdditivePaddingDOutProjBias});
  }
  SECTION("boolean attn_mask and key_padding_mask: true hides") {
    TorchMha m(Floats(kMhaBooleanMask), Shape{3, 4}, Floats(kMhaPadding));
    CheckTorchMha(m, {{"mask_kind", 1}}, kMhaBooleanOut, kMhaBooleanWeights,
                  {kMhaBooleanDQuery, kMhaBooleanDKey, kMhaBooleanDValue,
                   kMhaBooleanDInProjWeight, kMhaBooleanDInProjBias,
                   kMhaBooleanDOutProjWeight, kMhaBooleanDOutProjBias});
  }
  SECTION("a boolean attn_mask per head, weights per head") {
    TorchMha m(Floats(kMhaPerHeadMask), Shape{2, 3, 4});
    CheckTorchMha(m, {{"mask_kind", 1}, {"average_attn_weights", 0}},
                  kMhaPerHeadOut, kMhaPerHeadWeights,
                  {kMhaPerHeadDQuery, kMhaPerHeadDKey, kMhaPerHeadDValue,
                   kMhaPerHeadDInProjWeight, kMhaPerHeadDInProjBias,
                   kMhaPerHeadDOutProjWeight, kMhaPerHeadDOutProjBias});
  }
  SECTION("is_causal is the causal attn_mask") {
    TorchMha m({}, Shape{});
    CheckTorchMha(m, {{"is_causal", 1}, {"average_attn_weights", 0}},
                  kMhaCausalOut, kMhaCausalWeights,
                  {kMhaCausalDQuery, kMhaCausalDKey, kMhaCausalDValue,
                   kMhaCausalDInProjWeight, kMhaCausalDInProjBias,
                   kMhaCausalDOutProjWeight, kMhaCausalDOutProjBias});
  }
}

TEST_CASE("multi_head_attention: batched as nn.MultiheadAttention(batch_first)",
          "[attention]") {
  using namespace torch;  // NOLINT: the fixture's names
  SECTION("boolean attn_mask per sequence and head, key_padding_mask [B, S]") {
    TorchMha m(2, Floats(kMhaBatchBooleanMask), Shape{4, 3, 4},
               Floats(kMhaBatchBooleanPadding));
    CheckTorchMha(
        m, {{"mask_kind", 1}, {"average_attn_weights", 0}}, kMhaBatchBooleanOut,
        kMhaBatchBooleanWeights,
        {kMhaBatchBooleanDQuery, kMhaBatchBooleanDKey, kMhaBatchBooleanDValue,
         kMhaBatchBooleanDInProjWeight, kMhaBatchBooleanDInProjBias,
         kMhaBatchBooleanDOutProjWeight, kMhaBatchBooleanDOutProjBias});
  }
  SECTION("one additive attn_mask [L, S] for every sequence, averaged") {
    TorchMha m(2, Floats(kMhaBatchAdditiveMask), Shape{3, 4});
    CheckTorchMha(
        m, {}, kMhaBatchAdditiveOut, kMhaBatchAdditiveWeights,
        {kMhaBatchAdditiveDQuery, kMhaBatchAdditiveDKey,
         kMhaBatchAdditiveDValue, kMhaBatchAdditiveDInProjWeight,
         kMhaBatchAdditiveDInProjBias, kMhaBatchAdditiveDOutProjWeight,
         kMhaBatchAdditiveDOutProjBias});
  }
}

// A batched call is its sequences called one by one: outputs, weights and
// the gradients of the inputs (the shared weights' gradients are the sums).
TEST_CASE("multi_head_attention: a batch is its sequences one by one",
          "[attention]") {
  const int64_t b = 3, l = 5, s = 7, e = 12, h = 3;
  const auto q = RandomData(b * l * e, 41, -1, 1),
             k = RandomData(b * s * e, 42, -1, 1),
             v = RandomData(b * s * e, 43, -1, 1),
             wi = RandomData(3 * e * e, 44, -0.5, 0.5),
             bi = RandomData(3 * e, 45, -0.5, 0.5),
             wo = RandomData(e * e, 46, -0.5, 0.5), bo = RandomData(e, 47);
  std::vector<float> hide(b * h * l * s, 0.0f), padding(b * s, 0.0f);
  for (size_t i = 0; i < hide.size(); i += 4) hide[i] = 1;
  for (int64_t j = 1; j < b * s; j += 5) padding[j] = 1;
  for (int64_t j = 0; j < s; ++j) hide[(4 * l + 1) * s + j] = 1;  // none
  const auto tensors = [&](int64_t n, int64_t at) {
    const bool one = n == 1;
    const auto rows = [&](int64_t r) {
      return one ? Shape{r, e} : Shape{n, r, e};
    };
    return std::vector<NamedTensor>{
        {"query", {q.data() + at * l * e, rows(l)}},
        {"key", {k.data() + at * s * e, rows(s)}},
        {"value", {v.data() + at * s * e, rows(s)}},
        {"in_proj_weight", {wi.data(), Shape{3 * e, e}}},
        {"in_proj_bias", {bi.data(), Shape{3 * e}}},
        {"out_proj_weight", {wo.data(), Shape{e, e}}},
        {"out_proj_bias", {bo.data(), Shape{e}}},
        {"attn_mask", {hide.data() + at * h * l * s, Shape{n * h, l, s}}},
        {"key_padding_mask",
         {padding.data() + at * s, one ? Shape{s} : Shape{n, s}}}};
  };
  for (int causal : {0, 1}) {
    INFO("causal " << causal);
    NamedParam p[] = {{"num_heads", double(h)},
                      {"mask_kind", 1},
                      {"is_causal", double(causal)},
                      {"average_attn_weights", 0}};
    Call all;
    const Status st = Prepare("multi_head_attention", tensors(b, 0), p, &all);
    INFO(st.message());
    REQUIRE(st.ok());
    REQUIRE(all.out == Shape({b, l, e}));
    REQUIRE(all.aux[0] == Shape({b, h, l, s}));
    Evaluation ev;
    REQUIRE(Run(all, &ev).ok());
    const auto dy = RandomData(b * l * e, 48, -1, 1);
    Gradients g;
    REQUIRE(RunBackward(all, &ev, dy.data(), &g).ok());
    std::vector<double> dwi(3 * e * e, 0.0);
    for (int64_t n = 0; n < b; ++n) {
      INFO("sequence " << n);
      Call one;
      REQUIRE(Prepare("multi_head_attention", tensors(1, n), p, &one).ok());
      Evaluation e1;
      REQUIRE(Run(one, &e1).ok());
      Gradients g1;
      REQUIRE(RunBackward(one, &e1, dy.data() + n * l * e, &g1).ok());
      for (int64_t i = 0; i < l * e; ++i)
        REQUIRE(ev.y.data()[n * l * e + i] ==
                Approx(e1.y.data()[i]).margin(1e-6));
      for (int64_t i = 0; i < h * l * s; ++i)
        REQUIRE(ev.aux[0].data()[n * h * l * s + i] ==
                Approx(e1.aux[0].data()[i]).margin(1e-6));
      const int64_t rows[] = {l, s, s};
      for (int t = 0; t < 3; ++t)
        for (int64_t i = 0; i < rows[t] * e; ++i)
          REQUIRE(g.din[t].data()[n * rows[t] * e + i] ==
                  Approx(g1.din[t].data()[i]).margin(1e-5));
      for (int64_t i = 0; i < 3 * e * e; ++i) dwi[i] += g1.din[3].data()[i];
    }
    for (int64_t i = 0; i < 3 * e * e; ++i)
      REQUIRE(g.din[3].data()[i] == Approx(dwi[i]).margin(1e-4));
    // Sequence 1's query 1, head 1 (at 4 = 1 H + 1) sees no key.
    for (int64_t j = 0; j < s; ++j)
      REQUIRE(ev.aux[0].data()[(4 * l + 1) * s + j] == 0.0f);
    CheckCall(all);
  }
}

TEST_CASE("multi_head_attention: batched shapes on long rows", "[attention]") {
  const int64_t b = 2, l = 6, s = 37, e = 8;
  const auto q = RandomData(b * l * e, 51, -1, 1),
             k = RandomData(b * s * e, 52, -1, 1),
             v = RandomData(b * s * e, 53, -1, 1),
             wi = RandomData(3 * e * e, 54, -0.5, 0.5),
             wo = RandomData(e * e, 55, -0.5, 0.5);
  const auto additive = RandomData(b * 2 * l * s, 56, -2, 2);
  for (int per_head : {0, 1})
    for (int avg : {0, 1}) {
      INFO("per head mask " << per_head << " average " << avg);
      std::vector<NamedTensor> in = {
          {"query", {q.data(), Shape{b, l, e}}},
          {"key", {k.data(), Shape{b, s, e}}},
          {"value", {v.data(), Shape{b, s, e}}},
          {"in_proj_weight", {wi.data(), Shape{3 * e, e}}},
          {"out_proj_weight", {wo.data(), Shape{e, e}}},
          {"attn_mask",
           {additive.data(), per_head ? Shape{b * 2, l, s} : Shape{l, s}}},
          {"key_padding_mask", {additive.data() + 5, Shape{b, s}}}};
      NamedParam p[] = {{"num_heads", 2},
                        {"average_attn_weights", double(avg)}};
      Call call;
      REQUIRE(Prepare("multi_head_attention", in, p, &call).ok());
      REQUIRE(call.aux[0] == (avg ? Shape{b, l, s} : Shape{b, 2, l, s}));
      CheckCall(call);
    }
}

TEST_CASE("multi_head_attention: masks on long rows, fully masked queries",
          "[attention]") {
  const int l = 6, s = 37, e = 8;
  const auto q = RandomData(l * e, 31, -1, 1), k = RandomData(s * e, 32, -1, 1),
             v = RandomData(s * e, 33, -1, 1),
             wi = RandomData(3 * e * e, 34, -0.5, 0.5),
             wo = RandomData(e * e, 35, -0.5, 0.5), bo = RandomData(e, 36);
  std::vector<float> additive = RandomData(2 * l * s, 37, -2, 2);
  std::vector<float> hide(2 * l * s, 0.0f), padding(s, 0.0f);
  for (int i = 0; i < 2 * l * s; i += 3) hide[i] = 1;
  for (int j = 0; j < s; j += 5) padding[j] = 1;
  for (int j = 0; j < s; ++j) hide[2 * s + j] = 1;  // head 0, query 2: nothing
  std::vector<NamedTensor> in = {
      {"query", {q.data(), Shape{l, e}}},
      {"key", {k.data(), Shape{s, e}}},
      {"value", {v.data(), Shape{s, e}}},
      {"in_proj_weight", {wi.data(), Shape{3 * e, e}}},
      {"out_proj_weight", {wo.data(), Shape{e, e}}},
      {"out_proj_bias", {bo.data(), Shape{e}}}};
  for (int kind : {0, 1})
    for (int causal : {0, 1})
      for (int per_head : {0, 1}) {
        INFO("mask_kind " << kind << " causal " << causal << " per head "
                          << per_head);
        std::vector<NamedTensor> masked = in;
        masked.push_back({"attn_mask",
                          {kind ? hide.data() : additive.data(),
                           per_head ? Shape{2, l, s} : Shape{l, s}}});
        masked.push_back({"key_padding_mask",
                          {kind ? padding.data() : additive.data(), Shape{s}}});
        NamedParam p[] = {{"num_heads", 2},
                          {"mask_kind", double(kind)},
                          {"is_causal", double(causal)},
                          {"average_attn_weights", 0}};
        Call call;
        REQUIRE(Prepare("multi_head_attention", masked, p, &call).ok());
        CheckCall(call);
        if (kind == 1 && per_head) {
          // Head 0's query 2 sees no key: zero weights (PyTorch: NaN).
          Evaluation ev;
          REQUIRE(Run(call, &ev).ok());
          for (int j = 0; j < s; ++j) REQUIRE(ev.aux[0].data()[2 * s + j] == 0);
        }
      }
  // A query that sees no key in any head outputs out_proj_bias.
  std::vector<float> all(s, 1.0f);
  std::vector<NamedTensor> masked = in;
  masked.push_back({"key_padding_mask", {all.data(), Shape{s}}});
  NamedParam p[] = {{"num_heads", 2}, {"mask_kind", 1}};
  Call call;
  REQUIRE(Prepare("multi_head_attention", masked, p, &call).ok());
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  for (int i = 0; i < l * e; ++i) REQUIRE(ev.y.data()[i] == bo[i % e]);
}

TEST_CASE("multi_head_attention: mask shapes are checked", "[attention]") {
  const int l = 2, s = 3, e = 4;
  std::vector<float> x(64, 0.5f);
  std::vector<NamedTensor> in = {{"query", {x.data(), Shape{l, e}}},
                                 {"key", {x.data(), Shape{s, e}}},
                                 {"value", {x.data(), Shape{s, e}}},
                                 {"in_proj_weight", {x.data(), Shape{12, e}}},
                                 {"out_proj_weight", {x.data(), Shape{e, e}}}};
  NamedParam p[] = {{"num_heads", 2}};
  Call call;
  std::vector<NamedTensor> bad = in;
  bad.push_back({"attn_mask", {x.data(), Shape{s, l}}});
  Status st = Prepare("multi_head_attention", bad, p, &call);
  REQUIRE(st.code() == ErrorCode::kBadShape);
  REQUIRE(st.what() == "attn_mask");
  REQUIRE(Contains(st.message(), "[2, 3] or [2, 2, 3]"));
  bad = in;
  bad.push_back({"key_padding_mask", {x.data(), Shape{l}}});
  st = Prepare("multi_head_attention", bad, p, &call);
  REQUIRE(st.code() == ErrorCode::kBadShape);
  REQUIRE(st.what() == "key_padding_mask");
  REQUIRE(Contains(st.message(), "must have shape [3]"));

  // Batched (B = 2): every sequence input and mask names the batch size.
  std::vector<NamedTensor> batched = in;
  batched[0].tensor.shape = Shape{2, l, e};
  batched[1].tensor.shape = Shape{2, s, e};
  batched[2].tensor.shape = Shape{2, s, e};
  REQUIRE(Prepare("multi_head_attention", batched, p, &call).ok());
  REQUIRE(call.out == Shape({2, l, e}));
  REQUIRE(call.aux[0] == Shape({2, l, s}));
  bad = batched;
  bad[1].tensor.shape = Shape{3, s, e};
  st = Prepare("multi_head_attention", bad, p, &call);
  REQUIRE(st.code() == ErrorCode::kBadShape);
  REQUIRE(st.what() == "key");
  REQUIRE(Contains(st.message(), "must have shape [2, S, 4]"));
  REQUIRE(Contains(st.message(), "got [3, 3, 4]"));
  bad[1].tensor.shape = Shape{s, e};  // rank 2 beside a batched query
  st = Prepare("multi_head_attention", bad, p, &call);
  REQUIRE(st.what() == "key");
  bad = batched;
  bad[2].tensor.shape = Shape{1, s, e};
  st = Prepare("multi_head_attention", bad, p, &call);
  REQUIRE(st.what() == "value");
  REQUIRE(Contains(st.message(), "must have shape [2, 3, 4]"));
  bad = batched;
  bad.push_back({"key_padding_mask", {x.data(), Shape{s}}});
  st = Prepare("multi_head_attention", bad, p, &call);
  REQUIRE(st.what() == "key_padding_mask");
  REQUIRE(Contains(st.message(), "must have shape [2, 3]"));
  bad = batched;
  bad.push_back({"attn_mask", {x.data(), Shape{2, l, s}}});  // [H, L, S]
  st = Prepare("multi_head_attention", bad, p, &call);
  REQUIRE(st.what() == "attn_mask");
  REQUIRE(Contains(st.message(), "[2, 3] or [4, 2, 3]"));
}

TEST_CASE("sinusoidal: the Transformer table by hand", "[attention]") {
  float shape[2] = {2001, 5};
  Call call;
  NamedTensor in[] = {{"shape", {shape, Shape{2}}}};
  REQUIRE(Prepare("sinusoidal", in, {}, &call).ok());
  REQUIRE(call.out == Shape({2001, 5}));
  Evaluation ev;
  REQUIRE(Run(call, &ev).ok());
  const float* pe = ev.y.data();
  auto at = [&](int pos, int j) { return double{pe[pos * 5 + j]}; };
  REQUIRE(at(0, 0) == 0.0);
  REQUIRE(at(0, 1) == 1.0);
  REQUIRE(at(1, 0) == Approx(std::sin(1.0)).margin(1e-7));
  REQUIRE(at(1, 1) == Approx(std::cos(1.0)).margin(1e-7));
  const double w1 = std::pow(10000.0, -2.0 / 5), w2 = std::pow(10000.0, -0.8);
  REQUIRE(at(3, 2) == Approx(std::sin(3 * w1)).margin(1e-7));
  REQUIRE(at(3, 3) == Approx(std::cos(3 * w1)).margin(1e-7));
  REQUIRE(at(3, 4) == Approx(std::sin(3 * w2)).margin(1e-7));  // odd: sine
  // Large positions stay exact: sin(2000) to float rounding.
  REQUIRE(at(2000, 0) == Approx(std::sin(2000.0)).margin(1e-7));
  REQUIRE(at(2000, 3) == Approx(std::cos(2000 * w1)).margin(1e-7));
  REQUIRE(!call.op->differentiable());

  float bad_len[3] = {2, 3, 4}, zero[2] = {0, 4};
  NamedTensor b1[] = {{"shape", {bad_len, Shape{3}}}};
  Status st = Prepare("sinusoidal", b1, {}, &call);
  REQUIRE(st.code() == ErrorCode::kBadShape);
  REQUIRE(Contains(st.message(), "must have shape [2]"));
  NamedTensor b2[] = {{"shape", {zero, Shape{2}}}};
  st = Prepare("sinusoidal", b2, {}, &call);
  REQUIRE(st.code() == ErrorCode::kBadValue);
  REQUIRE(Contains(st.message(), "max_len is 0"));
}

}  // namespace
}  // namespace dlmath::testing
