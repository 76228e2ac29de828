// The training engine's API and behaviour: the spec's validation (a table
// of bad specs with their exact messages), the canonical spec, the
// parameter table, determinism, the NaN guard, early stopping, the
// resumable fit, allocation-free steps, learning on XOR and a 3-class
// spiral, the per-step optimizer and schedule forms against the registry's
// replay forms, clipping, penalties, diagnostics and inference.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/src/model/stats.h"
#include "dlmath/dlmath.h"
#include "tests/core/count_new.h"
#include "tests/core/model_testing.h"

namespace dlmath::testing {
namespace {

struct BadSpec {
  const char* spec;
  const char* code;
  const char* message;
};

// Each spec is wrong in one way; the message names the place and field.
const BadSpec
    kBadSpecs
        [] =
            {
                {R"j({"input":2,"layers":[{"type":"linear","units":0}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].units: must be an integer in [1, 65536], got 0)j"},
                {R"j({"input":2,"layers":[{"type":"linear","unit":3}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "missing_input",
                 R"j(layers[0].units: missing (a linear layer needs its number of output units))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":3,"unit":3}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "unknown_param",
                 R"j(layers[0]: unknown key 'unit' (did you mean 'units' or 'init'?))j"},
                {R"j({"input":2,"layers":[{"type":"lstm","units":3}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "unknown_op",
                 R"j(layers[0].type: unknown layer type 'lstm' (known: linear, activation, dropout, batch_norm, layer_norm, rms_norm, group_norm, residual))j"},
                {R"j({"input":2,"layers":[{"type":"activation","id":"tanhh"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "unknown_op",
                 R"j(layers[0].id: unknown activation 'tanhh' (did you mean 'tanh'?))j"},
                {R"j({"input":2,"layers":[{"type":"activation","id":"mse"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "unknown_op",
                 R"j(layers[0].id: 'mse' (losses) is not an activation (an element-wise or row-wise op, or prelu) (did you mean 'mish'?))j"},
                {R"j({"input":2,"layers":[{"type":"activation","id":"leaky_relu","negative_slope":-1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].negative_slope: op 'leaky_relu': param 'negative_slope' must be in [0, inf), got -1)j"},
                {R"j({"input":3,"layers":[{"type":"activation","id":"glu"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_shape",
                 R"j(layers[0]: op 'glu': the last dimension of input 'x' must be even to split in halves, got 3 (shape [2, 3]))j"},
                {R"j({"input":8,"layers":[{"type":"group_norm","num_groups":3}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].num_groups: op 'group_norm': param 'num_groups' = 3 must divide the 8 channels of input [2, 8])j"},
                {R"j({"input":2,"layers":[{"type":"residual","layers":[{"type":"linear","units":4}]}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_shape",
                 R"j(layers[0]: a residual block must keep the width: its layers map 2 to 4)j"},
                {R"j({"input":2,"layers":[],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_shape",
                 R"j(layers: must be a non-empty list of layers, got an empty list)j"},
                {R"j({"input":2,"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "missing_input",
                 R"j(layers: missing (a list of layers, e.g. [{"type": "linear", "units": 1}]))j"},
                {R"j({"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "missing_input",
                 R"j(input: missing (the number of features per example, or {"tokens": V, "block": T} for sequences))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"optimizer":{"id":"sgd"}})j",
                 "missing_input", R"j(loss: missing (e.g. {"id": "mse"}))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"}})j",
                 "missing_input",
                 R"j(optimizer: missing (e.g. {"id": "adam", "lr": 0.001}))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"msee"},"optimizer":{"id":"sgd"}})j",
                 "unknown_op",
                 R"j(loss.id: unknown loss 'msee' (did you mean 'mse'?))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse","reduction":"none"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(loss.reduction: must be 'mean' or 'sum' (a step minimises one number), got 'none')j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":3}],"loss":{"id":"cross_entropy","weight":[1,2]},"optimizer":{"id":"sgd"}})j",
                 "bad_shape",
                 R"j(loss.weight: must be an array of 3 numbers (one per output), got 2)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":3}],"loss":{"id":"cross_entropy","label_smoothing":2},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(loss.label_smoothing: op 'cross_entropy': param 'label_smoothing' must be in [0, 1], got 2)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"adamm"}})j",
                 "unknown_op",
                 R"j(optimizer.id: unknown optimizer 'adamm' (did you mean 'adam' or 'adamw'?))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"adam","lr":-1}})j",
                 "bad_param",
                 R"j(optimizer.lr: op 'adam': param 'lr' must be in [0, inf), got -1)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"adam","beta1":1}})j",
                 "bad_param",
                 R"j(optimizer.beta1: op 'adam': param 'beta1' must be in [0, 1), got 1)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"schedule":{"id":"step_lr","steps":10}})j",
                 "bad_param",
                 R"j(schedule.steps: step_lr has no length (its params: step_size, gamma))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"schedule":{"id":"warmup_cosine","lr":0.1}})j",
                 "bad_param",
                 R"j(schedule.lr: the schedule's base learning rate is optimizer.lr; set it there)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"schedule":{"id":"cosine_annealing_lr","steps":10,"t_max":5}})j",
                 "bad_param",
                 R"j(schedule.steps: give either steps or t_max, not both)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"clip":{"norm":1,"value":1}})j",
                 "bad_param",
                 R"j(clip: give 'norm' (total L2 norm) or 'value' (each element), not both)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"clip":{"max_norm":1}})j",
                 "unknown_param",
                 R"j(clip: unknown key 'max_norm' (known keys: norm, value))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"clip":{"norm":0}})j",
                 "bad_param", R"j(clip.norm: must be a number > 0, got 0)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"l2":-0.1})j",
                 "bad_param", R"j(l2: must be a number >= 0, got -0.1)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"seed":-1})j",
                 "bad_param",
                 R"j(seed: must be an integer in [0, 4294967295], got -1)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"sed":1})j",
                 "unknown_param",
                 R"j(spec: unknown key 'sed' (did you mean 'seed'?))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1,"init":"xavier"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "unknown_op",
                 R"j(layers[0].init: unknown initializer 'xavier' (did you mean 'xavier_uniform' or 'xavier_normal'?))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1,"init":{"id":"kaiming_normal","mode":"fan_avg"}}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].init.mode: must be one of 'fan_in', 'fan_out', got 'fan_avg')j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1,"init":{"id":"xavier_uniform","seed":3}}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].init.seed: is set by the model (derived from the spec's seed); remove it)j"},
                {R"j({"input":2,"layers":[{"type":"dropout","p":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].p: op 'dropout': param 'p' must be in [0, 1), got 1)j"},
                {R"j({"input":2,"layers":[{"type":"activation","formula":"x*sigmoid(a*x"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_formula",
                 R"j(layers[0].formula: column 14: missing ')' to close the '(' at column 10)j"},
                {R"j({"input":2,"layers":[{"type":"activation","formula":"x*sigmoid(a*x)"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "missing_input",
                 R"j(layers[0].a: missing: the formula's parameter 'a' needs a value)j"},
                {R"j({"input":2,"layers":[{"type":"activation","formula":"x*sigmoid(a*x)","a":1,"b":2}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "unknown_param",
                 R"j(layers[0]: unknown key 'b' (did you mean 'a' or 'id'?))j"},
                {R"j({"input":4,"layers":[{"type":"activation","id":"prelu","num_parameters":3}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_shape",
                 R"j(layers[0].num_parameters: must be 1 (one shared slope) or the width 4 (one per unit), got 3)j"},
                {R"j({"input":2,"layers":[{"type":"batch_norm","momentum":2}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].momentum: op 'batch_norm': param 'momentum' must be in [0, 1], got 2)j"},
                {R"j({"input":2,"layers":[{"type":"batch_norm","training":0}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].training: is set by the model (train or eval mode); remove it)j"},
                {R"j({"input":2,"layers":[{"type":"layer_norm","eps":0}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].eps: op 'layer_norm': param 'eps' must be in (0, inf), got 0)j"},
                {R"j({"input":100000,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(input: must be an integer in [1, 65536], got 100000)j"},
                {R"j({"input":65536,"layers":[{"type":"linear","units":65536}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "too_large",
                 R"j(layers[0].units: a 65536 x 65536 weight has 4294967296 parameters, above the model's limit of 8388608)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":"8"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_type",
                 R"j(layers[0].units: must be an integer in [1, 65536], got '8')j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":8.5}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].units: must be an integer in [1, 65536], got 8.5)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1,"bias":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_type",
                 R"j(layers[0].bias: must be true or false, got 1)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},})j",
                 "bad_value",
                 R"j(spec: invalid JSON at line 1, column 96: expected a key in double quotes)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"})j",
                 "bad_value",
                 R"j(spec: invalid JSON at line 1, column 95: expected ',' or '}' in an object)j"},
                {R"j([1,2])j", "bad_type",
                 R"j(spec: must be an object such as {"input": 2, "layers": [...], ...}, got an array)j"},
                {R"j({"input":2,"input":3})j", "bad_value",
                 R"j(spec: invalid JSON at line 1, column 19: duplicate key 'input')j"},
                {R"j({"input":2,"layers":[{"type":"activation","id":"softplus","beta":"big"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_type",
                 R"j(layers[0].beta: must be a number, got 'big')j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"hinge","reduction":"avg"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(loss.reduction: must be one of 'mean', 'sum', 'none', got 'avg')j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"triplet_margin"},"optimizer":{"id":"sgd"}})j",
                 "unknown_op",
                 R"j(loss.id: 'triplet_margin' (losses) is not a loss of (input, target) (known: mse, nll, l1, huber, smooth_l1, bce, bce_with_logits, kl_div, poisson_nll, cross_entropy, hinge, multi_margin, focal, focal_multiclass))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"max_batch":100000000})j",
                 "bad_param",
                 R"j(max_batch: must be an integer in [0, 1048576], got 100000000)j"},
                {R"j({"input":2,"layers":[{"type":"residual","layers":[]}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_shape",
                 R"j(layers[0].layers: must be a non-empty list of layers, got an empty list)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":3}],"loss":{"id":"cross_entropy","weight":[1,"a",3]},"optimizer":{"id":"sgd"}})j",
                 "bad_type",
                 R"j(loss.weight[1]: must be a finite number, got 'a')j"},
                {R"j({"input":2,"layers":[{"units":3}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "missing_input",
                 R"j(layers[0].type: missing (one of linear, activation, dropout, batch_norm, layer_norm, rms_norm, group_norm, residual))j"},
                {R"j({"input":2,"layers":[7],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_type",
                 R"j(layers[0]: must be an object such as {"type": "linear", "units": 8}, got 7)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"schedule":{"id":"cosine_annealing_lr","warmup":-1}})j",
                 "bad_param",
                 R"j(schedule.warmup: must be an integer in [0, 10000000], got -1)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"schedule":{"id":"noam","warmup":10,"warmup_steps":5}})j",
                 "bad_param",
                 R"j(schedule.warmup: give either warmup or warmup_steps, not both)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"schedule":{"id":"cyclic"}})j",
                 "unknown_op",
                 R"j(schedule.id: unknown schedule 'cyclic' (known: step_lr, exponential_lr, cosine_annealing_lr, cosine_annealing_warm_restarts, linear_lr, one_cycle_lr, warmup_cosine, noam))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"schedule":"cosine"})j",
                 "bad_type", R"j(schedule: must be an object, got 'cosine')j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1,"init":{"mode":"fan_in"}}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "missing_input",
                 R"j(layers[0].init.id: missing (an initializer id, 'default', 'normal' or 'zeros'))j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1,"bias_init":"ones"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].bias_init: must be 'default' (U(-1/sqrt(in), 1/sqrt(in)), PyTorch's) or 'zeros', got 'ones')j"},
                {R"j({"input":2,"layers":[{"type":"activation","id":"tanh","formula":"tanh(x)"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0]: give either 'id' or 'formula', not both)j"},
                {R"j({"input":2,"layers":[{"type":"activation","formula":"x*q"}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "missing_input",
                 R"j(layers[0].q: missing: the formula's parameter 'q' needs a value)j"},
                {R"j({"input":2,"layers":[{"type":"activation","formula":"elu(x, a)","a":-1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})j",
                 "bad_param",
                 R"j(layers[0].formula: op 'elu': param 'alpha' must be in [0, inf), got -1)j"},
                {R"j({"input":2,"layers":[{"type":"linear","units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd","momentum":0.9}})j",
                 "unknown_param",
                 R"j(optimizer: unknown key 'momentum' (known keys: id, lr, weight_decay, decay))j"},
};

TEST_CASE("every bad spec gives its own error", "[model]") {
  STATIC_REQUIRE(std::size(kBadSpecs) >= 30);
  for (const BadSpec& b : kBadSpecs) {
    std::unique_ptr<Model> m;
    const Status s = Model::Create(b.spec, &m);
    INFO(b.spec);
    CHECK(std::string(ErrorCodeName(s.code())) == b.code);
    CHECK(s.message() == b.message);
    CHECK(!m);
  }
  // Residual blocks nested one level too deep.
  std::string layers = R"({"type":"activation","id":"relu"})";
  std::string where = "layers[0]";
  for (int d = 0; d <= kMaxDepth; ++d) {
    layers = R"({"type":"residual","layers":[)" + layers + "]}";
    if (d) where += ".layers[0]";
  }
  std::unique_ptr<Model> m;
  const Status s =
      Model::Create(R"({"input":2,"layers":[)" + layers +
                        R"(],"loss":{"id":"mse"},"optimizer":{"id":"sgd"}})",
                    &m);
  CHECK(s.code() == ErrorCode::kTooLarge);
  CHECK(s.message() == where + ": residual blocks nest deeper than 16 levels");
}

TEST_CASE("the canonical spec fills every default and builds the same model",
          "[model]") {
  const std::string spec = R"({"input":3,"layers":[
      {"type":"linear","units":4,"init":{"id":"xavier_normal","gain":2}},
      {"type":"activation","id":"leaky_relu","negative_slope":0.2},
      {"type":"residual","layers":[{"type":"layer_norm"},
                                   {"type":"linear","units":4,"bias":false}]},
      {"type":"dropout","p":0.25},
      {"type":"linear","units":2,"init":"zeros","bias_init":"zeros"}],
    "loss":{"id":"cross_entropy","label_smoothing":0.1,"weight":[1,2]},
    "optimizer":{"id":"adamw","lr":0.003},
    "schedule":{"id":"cosine_annealing_lr","steps":50,"warmup":5},
    "clip":{"norm":1},"l2":0.0001,"seed":7})";
  auto m = MakeModel(spec);
  const std::string canonical = m->SpecJson();
  CHECK(
      canonical ==
      R"({"input":3,"layers":[{"type":"linear","units":4,"bias":true,"init":{"id":"xavier_normal","gain":2},"bias_init":"default"},{"type":"activation","id":"leaky_relu","negative_slope":0.2},{"type":"residual","layers":[{"type":"layer_norm","eps":1e-05,"affine":true},{"type":"linear","units":4,"bias":false,"init":"default","bias_init":"default"}]},{"type":"dropout","p":0.25},{"type":"linear","units":2,"bias":true,"init":"zeros","bias_init":"zeros"}],"loss":{"id":"cross_entropy","reduction":"mean","ignore_index":-100,"label_smoothing":0.1,"weight":[1,2]},"optimizer":{"id":"adamw","lr":0.003,"beta1":0.9,"beta2":0.999,"eps":1e-08,"weight_decay":0.01,"amsgrad":false},"schedule":{"id":"cosine_annealing_lr","t_max":50,"eta_min":0,"warmup":5},"clip":{"norm":1},"l1":0,"l2":0.0001,"seed":7,"max_batch":0})");
  auto again = MakeModel(canonical);
  CHECK(again->SpecJson() == canonical);
  CHECK(Params(*again) == Params(*m));  // same seed, same initial weights
  REQUIRE(again->ParameterTable().size() == m->ParameterTable().size());
  // The lr set between steps is what the spec saves.
  REQUIRE(m->SetLearningRate(0.5).ok());
  CHECK(m->SpecJson().find(R"("lr":0.5,)") != std::string::npos);
}

TEST_CASE("parameter table: PyTorch names, shapes, packed offsets", "[model]") {
  auto m = MakeModel(R"({"input":2,"layers":[
      {"type":"linear","units":3},{"type":"batch_norm"},
      {"type":"activation","id":"prelu","num_parameters":3},
      {"type":"residual","layers":[{"type":"activation","id":"swish_beta",
                                    "beta":1.5},{"type":"rms_norm"}]},
      {"type":"linear","units":1,"bias":false}],
    "loss":{"id":"mse"},"optimizer":{"id":"sgd"}})");
  struct Row {
    const char* name;
    Shape shape;
    TensorKind kind;
  };
  const Row want[] = {
      {"layers.0.weight", {3, 2}, TensorKind::kParameter},
      {"layers.0.bias", {3}, TensorKind::kParameter},
      {"layers.1.weight", {3}, TensorKind::kParameter},
      {"layers.1.bias", {3}, TensorKind::kParameter},
      {"layers.1.running_mean", {3}, TensorKind::kBuffer},
      {"layers.1.running_var", {3}, TensorKind::kBuffer},
      {"layers.2.weight", {3}, TensorKind::kParameter},
      {"layers.3.layers.0.beta", {1}, TensorKind::kParameter},
      {"layers.3.layers.1.weight", {3}, TensorKind::kParameter},
      {"layers.4.weight", {1, 3}, TensorKind::kParameter},
  };
  const auto& table = m->ParameterTable();
  REQUIRE(table.size() == std::size(want));
  int64_t params = 0, buffers = 0;
  for (size_t i = 0; i < table.size(); ++i) {
    INFO(table[i].name);
    CHECK(table[i].name == want[i].name);
    CHECK(table[i].shape == want[i].shape);
    CHECK(table[i].kind == want[i].kind);
    int64_t& next = table[i].kind == TensorKind::kParameter ? params : buffers;
    CHECK(table[i].offset == next);  // packed, in layer order
    next += table[i].shape.numel();
  }
  CHECK(params == m->num_parameters());
  CHECK(buffers == m->num_buffers());
  // PyTorch's starting values: norm weight 1, prelu 0.25, beta as given,
  // running_var 1.
  std::vector<float> v(3);
  REQUIRE(m->GetParameter("layers.1.weight", v.data(), 3).ok());
  CHECK(v == std::vector<float>{1, 1, 1});
  REQUIRE(m->GetParameter("layers.2.weight", v.data(), 3).ok());
  CHECK(v == std::vector<float>{0.25f, 0.25f, 0.25f});
  REQUIRE(m->GetParameter("layers.1.running_var", v.data(), 3).ok());
  CHECK(v == std::vector<float>{1, 1, 1});
  float beta;
  REQUIRE(m->GetParameter("layers.3.layers.0.beta", &beta, 1).ok());
  CHECK(beta == 1.5f);
  // Set a whole tensor, then one element (a clicked weight).
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};
  REQUIRE(m->SetParameter("layers.0.weight", w.data(), 6).ok());
  REQUIRE(m->SetParameterValue("layers.0.weight", 4, -7).ok());
  std::vector<float> got(6);
  REQUIRE(m->GetParameter("layers.0.weight", got.data(), 6).ok());
  CHECK(got == std::vector<float>{1, 2, 3, 4, -7, 6});
  CHECK(std::equal(got.begin(), got.end(), m->parameters()));
  // Mistakes.
  Status s = m->SetParameter("layers.0.wieght", w.data(), 6);
  CHECK(s.code() == ErrorCode::kUnknownParam);
  CHECK(s.message() ==
        "parameter: the model has no parameter or buffer 'layers.0.wieght' "
        "(did you mean 'layers.0.weight'?)");
  s = m->SetParameter("layers.0.weight", w.data(), 5);
  CHECK(s.message() == "layers.0.weight: has 6 values [3, 2], got 5");
  s = m->SetParameterValue("layers.0.bias", 3, 1);
  CHECK(s.message() == "layers.0.bias: index 3 is outside its 3 values [3]");
  const float nan = std::nanf("");
  s = m->SetParameterValue("layers.0.bias", 0, nan);
  CHECK(s.message() == "layers.0.bias: the value is not finite");
}

TEST_CASE("initialization: PyTorch's Linear default, registry initializers",
          "[model]") {
  auto m = MakeModel(R"({"input":50,"layers":[
      {"type":"linear","units":40},
      {"type":"linear","units":30,"init":"xavier_uniform"},
      {"type":"linear","units":20,"init":"zeros","bias_init":"zeros"}],
    "loss":{"id":"mse"},"optimizer":{"id":"sgd"},"seed":3})");
  auto within = [&](const char* name, double bound) {
    const ParamEntry* e = m->FindParameter(name);
    REQUIRE(e);
    const float* v = m->parameters() + e->offset;
    const int64_t n = e->shape.numel();
    double lo = 0, hi = 0, mean = 0;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min<double>(lo, v[i]);
      hi = std::max<double>(hi, v[i]);
      mean += v[i] / n;
    }
    INFO(name);
    CHECK(lo >= -bound);
    CHECK(hi <= bound);
    // Uniform draws fill most of the range.
    CHECK(hi - lo > 1.5 * bound);
    CHECK(std::fabs(mean) < 0.5 * bound);  // > 4.5 sigma for n >= 30
  };
  within("layers.0.weight", 1 / std::sqrt(50.0));  // kaiming_uniform(a=√5)
  within("layers.0.bias", 1 / std::sqrt(50.0));
  within("layers.1.weight", std::sqrt(6.0 / (40 + 30)));  // xavier_uniform
  within("layers.1.bias", 1 / std::sqrt(40.0));
  const ParamEntry* z = m->FindParameter("layers.2.weight");
  const float* zv = m->parameters() + z->offset;
  CHECK(std::all_of(zv, zv + z->shape.numel() + 20,
                    [](float v) { return v == 0; }));
  // A weight and its bias draw from different streams.
  const float* w0 =
      m->parameters() + m->FindParameter("layers.0.weight")->offset;
  const float* b0 = m->parameters() + m->FindParameter("layers.0.bias")->offset;
  CHECK(w0[0] * std::sqrt(50.0f) != b0[0] * std::sqrt(50.0f));
  // Another seed, other weights.
  auto other = MakeModel(R"({"input":50,"layers":[{"type":"linear",
      "units":40}],"loss":{"id":"mse"},"optimizer":{"id":"sgd"},"seed":4})");
  CHECK(other->parameters()[0] != w0[0]);
}

// A model with every layer kind (and dropout on) for the tests below.
const char* kEveryLayer = R"j({"input":4,"layers":[
    {"type":"linear","units":8},{"type":"batch_norm"},
    {"type":"activation","id":"relu"},{"type":"dropout","p":0.2},
    {"type":"residual","layers":[
      {"type":"layer_norm"},{"type":"linear","units":8},
      {"type":"activation","id":"prelu"},{"type":"rms_norm"},
      {"type":"group_norm","num_groups":2},
      {"type":"activation","formula":"x*sigmoid(a*x)","a":1.5},
      {"type":"activation","id":"swish_beta"}]},
    {"type":"linear","units":3}],
  "loss":{"id":"cross_entropy","label_smoothing":0.1},
  "optimizer":{"id":"adamw","lr":0.01},
  "schedule":{"id":"warmup_cosine","warmup":5,"steps":60},
  "clip":{"norm":1},"l2":0.001,"seed":11})j";

void ClassData(int64_t n, int64_t in, int classes, uint32_t seed,
               std::vector<float>* x, std::vector<float>* y) {
  *x = RandomData(n * in, seed, -1, 1);
  y->resize(n);
  for (int64_t i = 0; i < n; ++i)
    (*y)[i] =
        static_cast<float>(((*x)[i * in] > 0) + ((*x)[i * in + 1] > 0.5f));
  for (float& v : *y) v = std::min<float>(v, classes - 1);
}

TEST_CASE("same seed and data: bit-identical training", "[model]") {
  std::vector<float> x, y;
  ClassData(96, 4, 3, 5, &x, &y);
  FitOptions o;
  o.epochs = 4;
  o.batch_size = 16;
  o.validation_split = 0.25;
  auto a = MakeModel(kEveryLayer);
  auto b = MakeModel(kEveryLayer);
  FitOk(*a, x, y, o);
  FitOk(*b, x, y, o);
  CHECK(Params(*a) == Params(*b));
  CHECK(std::memcmp(a->buffers(), b->buffers(),
                    a->num_buffers() * sizeof(float)) == 0);
  REQUIRE(a->history().size() == 4);
  for (size_t e = 0; e < 4; ++e) {
    CHECK(a->history()[e].train_loss == b->history()[e].train_loss);
    CHECK(a->history()[e].val_loss == b->history()[e].val_loss);
  }
  // A different seed gives a different run (shuffle, masks, weights).
  std::string other = kEveryLayer;
  other.replace(other.find("\"seed\":11"), 9, "\"seed\":12");
  auto c = MakeModel(other);
  FitOk(*c, x, y, o);
  CHECK(Params(*c) != Params(*a));
}

TEST_CASE("a fit in chunks equals one fit", "[model]") {
  std::vector<float> x, y;
  ClassData(80, 4, 3, 9, &x, &y);
  FitOptions o;
  o.epochs = 3;
  o.batch_size = 12;  // 7 batches, the last of 8 rows
  o.validation_split = 0.2;
  auto whole = MakeModel(kEveryLayer);
  const FitProgress done = FitOk(*whole, x, y, o);
  CHECK(done.state == FitState::kFinished);
  CHECK(done.step == 3 * 6);
  auto chunks = MakeModel(kEveryLayer);
  REQUIRE(chunks->FitBegin(x.data(), y.data(), 80, o).ok());
  FitProgress p;
  int calls = 0;
  do {
    REQUIRE(chunks->FitRun(5, &p).ok());
    ++calls;
    CHECK(p.steps_run <= 5);
  } while (p.state == FitState::kRunning);
  CHECK(calls == 4);  // 18 steps in chunks of 5
  CHECK(p.state == FitState::kFinished);
  CHECK(p.epoch == 3);
  CHECK(Params(*chunks) == Params(*whole));
  CHECK(chunks->history().size() == 3);
  // Options as JSON text, as JS passes them.
  auto json = MakeModel(kEveryLayer);
  REQUIRE(json->FitBegin(x.data(), y.data(), 80,
                         R"({"epochs":3,"batchSize":12,"validationSplit":0.2})")
              .ok());
  do REQUIRE(json->FitRun(100, &p).ok());
  while (p.state == FitState::kRunning);
  CHECK(Params(*json) == Params(*whole));
}

TEST_CASE("a training step allocates nothing after the first", "[model]") {
  std::vector<float> x, y;
  ClassData(64, 4, 3, 2, &x, &y);
  auto m = MakeModel(kEveryLayer);
  FitOptions o;
  o.epochs = 20;
  o.batch_size = 16;
  o.validation_split = 0.25;  // epoch ends evaluate 16 rows
  REQUIRE(m->FitBegin(x.data(), y.data(), 64, o).ok());
  FitProgress p;
  REQUIRE(m->FitRun(1, &p).ok());
  const int64_t arenas = ModelArenaAllocations();
  g_new_calls = 0;
  g_count_new = true;
  const Status s = m->FitRun(30, &p);  // 10 epochs, each with validation
  g_count_new = false;
  REQUIRE(s.ok());
  CHECK(p.steps_run == 30);
  CHECK(g_new_calls == 0);
  CHECK(ModelArenaAllocations() == arenas);
  // Step() on a caller's batch of at most the capacity: none either.
  g_count_new = true;
  for (int i = 0; i < 10; ++i) REQUIRE(m->Step(x.data(), y.data(), 12).ok());
  g_count_new = false;
  CHECK(g_new_calls == 0);
  CHECK(ModelArenaAllocations() == arenas);
  // More rows than the capacity grow the activation arena: one allocation.
  REQUIRE(m->Step(x.data(), y.data(), 40).ok());
  CHECK(ModelArenaAllocations() == arenas + 1);
}

TEST_CASE("XOR and a 3-class spiral reach 95% accuracy", "[model]") {
  // XOR, 4 points: 2-8-1 tanh, Adam 0.05, full batch, 300 steps.
  const std::vector<float> x = {0, 0, 0, 1, 1, 0, 1, 1}, y = {0, 1, 1, 0};
  auto xor_net = MakeModel(R"({"input":2,"layers":[
      {"type":"linear","units":8},{"type":"activation","id":"tanh"},
      {"type":"linear","units":1}],"loss":{"id":"bce_with_logits"},
      "optimizer":{"id":"adam","lr":0.05},"seed":1})");
  FitOptions o;
  o.epochs = 300;
  o.batch_size = 4;
  FitOk(*xor_net, x, y, o);
  double loss, acc;
  REQUIRE(xor_net->Evaluate(x.data(), y.data(), 4, &loss, &acc).ok());
  CHECK(acc == 1.0);
  CHECK(loss < 0.05);
  // Spiral, 3 x 100 points: 2-32-32-3 ReLU, Adam 0.01, batch 32, 150
  // epochs (1,500 steps).
  std::vector<float> sx, sy;
  Spiral(100, 3, 7, &sx, &sy);
  auto spiral = MakeModel(R"({"input":2,"layers":[
      {"type":"linear","units":32},{"type":"activation","id":"relu"},
      {"type":"linear","units":32},{"type":"activation","id":"relu"},
      {"type":"linear","units":3}],"loss":{"id":"cross_entropy"},
      "optimizer":{"id":"adam","lr":0.01},"seed":1})");
  o.epochs = 150;
  o.batch_size = 32;
  FitOk(*spiral, sx, sy, o);
  REQUIRE(spiral->Evaluate(sx.data(), sy.data(), 300, &loss, &acc).ok());
  INFO("spiral accuracy " << acc << ", loss " << loss);
  CHECK(acc >= 0.95);
  CHECK(spiral->history().back().train_accuracy >= 0.9);
}

TEST_CASE("NaN guard: a diverging step is not applied", "[model]") {
  std::vector<float> x, y;
  ClassData(32, 4, 3, 4, &x, &y);
  const char* spec = R"({"input":4,"layers":[{"type":"linear","units":8},
      {"type":"activation","id":"tanh"},{"type":"linear","units":3}],
      "loss":{"id":"mse"},"optimizer":{"id":"sgd","lr":1e30},"seed":2})";
  std::vector<float> y3(32 * 3);
  for (size_t i = 0; i < y3.size(); ++i) y3[i] = std::sin(0.7f * i);
  auto m = MakeModel(spec);
  FitOptions o;
  o.epochs = 5;
  o.batch_size = 8;
  o.shuffle = false;
  REQUIRE(m->FitBegin(x.data(), y3.data(), 32, o).ok());
  FitProgress p;
  const Status s = m->FitRun(100, &p);
  CHECK(s.code() == ErrorCode::kBadValue);
  INFO(s.message());
  CHECK(s.message().rfind("training stopped at step ", 0) == 0);
  CHECK(p.state == FitState::kDiverged);
  const std::vector<float> kept = Params(*m);
  CHECK(std::all_of(kept.begin(), kept.end(),
                    [](float v) { return std::isfinite(v); }));
  // The kept weights are exactly those of the accepted steps: replay them.
  auto replay = MakeModel(spec);
  for (int64_t t = 0; t < m->step(); ++t)
    REQUIRE(
        replay->Step(x.data() + 8 * 4 * (t % 4), y3.data() + 8 * 3 * (t % 4), 8)
            .ok());
  CHECK(Params(*replay) == kept);
  CHECK(m->FitRun(10, &p).ok());  // nothing left to run
  CHECK(p.steps_run == 0);
  // A NaN in the data: the loss is NaN on the first step, nothing moves.
  auto n = MakeModel(R"({"input":4,"layers":[{"type":"linear","units":3}],
      "loss":{"id":"mse"},"optimizer":{"id":"sgd"}})");
  const std::vector<float> before = Params(*n);
  std::vector<float> bad = x;
  bad[5] = std::nanf("");
  const Status sn = n->Step(bad.data(), y3.data(), 4);
  CHECK(sn.message().find("the loss is NaN") != std::string::npos);
  CHECK(Params(*n) == before);
  CHECK(n->step() == 0);
}

TEST_CASE("NaN guard: a finite loss with a non-finite gradient norm",
          "[model]") {
  // y = w x + b with w x = 1: the loss is 1, dw = 2e20, whose square
  // overflows float. Without clipping the norms come from the update's
  // pass, with clipping from clip_grad_norm before it: both refuse the step,
  // keep the weights, and the next step trains from the reset state.
  for (const char* clip : {"", R"(,"clip":{"norm":1})"}) {
    INFO("clip '" << clip << "'");
    auto m = MakeModel(std::string(R"({"input":1,"layers":[{"type":"linear",
        "units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd_momentum",
        "lr":0.1,"momentum":0.9})") +
                       clip + "}");
    const float w = 1e-20f, b = 0, x = 1e20f, y = 0, x_ok = 1, y_ok = 2;
    REQUIRE(m->SetParameter("layers.0.weight", &w, 1).ok());
    REQUIRE(m->SetParameter("layers.0.bias", &b, 1).ok());
    const std::vector<float> before = Params(*m);
    const Status s = m->Step(&x, &y, 1);
    INFO(s.message());
    CHECK(s.message().find("the gradient is not finite") != std::string::npos);
    CHECK(Params(*m) == before);
    CHECK(m->step() == 0);
    // The momentum buffer starts over: the step is plain SGD's first. db =
    // 2 (w - 2) = -4, dw the same (x = 1): clipped to norm 1, -4 / sqrt(32).
    REQUIRE(m->Step(&x_ok, &y_ok, 1).ok());
    const double db = *clip ? 4 / std::sqrt(32.0) : 4;
    CHECK(m->parameters()[1] == Approx(0.1 * db).epsilon(1e-5));
  }
}

TEST_CASE("NaN guard: weights whose squares overflow float still train",
          "[model]") {
  // w = 1e20 is finite but w^2 is not (in float, as the update's sums are):
  // the guard then looks at the values and applies the step. x = 0 keeps
  // the loss at (b - 1)^2 = 1: db = -2, dw = 0.
  auto m = MakeModel(R"({"input":1,"layers":[{"type":"linear","units":1}],
      "loss":{"id":"mse"},"optimizer":{"id":"sgd","lr":0.1}})");
  const float w = 1e20f, b = 0, x = 0, y = 1;
  REQUIRE(m->SetParameter("layers.0.weight", &w, 1).ok());
  REQUIRE(m->SetParameter("layers.0.bias", &b, 1).ok());
  const Status s = m->Step(&x, &y, 1);
  INFO(s.message());
  REQUIRE(s.ok());
  CHECK(m->step() == 1);
  CHECK(m->parameters()[0] == w);
  CHECK(m->parameters()[1] == Approx(0.2).epsilon(1e-6));
}

TEST_CASE("early stopping restores the best epoch's weights", "[model]") {
  // Training pairs say y = x, the held-out quarter says y = -x: every
  // epoch of learning makes the validation loss worse after the first.
  const int n = 64;
  std::vector<float> x = RandomData(n, 3, -1, 1), y(n);
  for (int i = 0; i < n; ++i) y[i] = i < 48 ? x[i] : -x[i];
  const char* spec = R"({"input":1,"layers":[{"type":"linear","units":1}],
      "loss":{"id":"mse"},"optimizer":{"id":"sgd","lr":0.3},"seed":5})";
  FitOptions o;
  o.epochs = 50;
  o.batch_size = 16;
  o.validation_split = 0.25;
  o.early_stopping = true;
  o.patience = 2;
  auto m = MakeModel(spec);
  const FitProgress p = FitOk(*m, x, y, o);
  CHECK(p.state == FitState::kEarlyStopped);
  const auto& h = m->history();
  REQUIRE(h.size() >= 3);
  // Stopped after `patience` (2) epochs in a row without improvement.
  CHECK(static_cast<int64_t>(h.size()) == p.best_epoch + 2);
  CHECK(h.back().val_loss > h[p.best_epoch - 1].val_loss);
  CHECK(p.best == h[p.best_epoch - 1].val_loss);
  // The kept weights are the best epoch's: a plain fit of that many epochs.
  auto plain = MakeModel(spec);
  o.early_stopping = false;
  o.epochs = p.best_epoch;
  FitOk(*plain, x, y, o);
  CHECK(Params(*m) == Params(*plain));
  // Without restoreBest the last epoch's weights stay.
  auto last = MakeModel(spec);
  o.early_stopping = true;
  o.restore_best = false;
  o.epochs = 50;
  FitOk(*last, x, y, o);
  CHECK(Params(*last) != Params(*m));
}

// The optimizer state persists across steps: a model's updates equal the
// registry's replay form fed the same gradients, bit for bit (one step
// function serves both).
TEST_CASE("per-step optimizers equal the registry's replay form", "[model]") {
  struct Opt {
    const char* id;
    std::vector<NamedParam> params;
  };
  const Opt optimizers[] = {
      {"sgd", {{"lr", 0.1}, {"weight_decay", 0.01}}},
      {"sgd_momentum", {{"lr", 0.1}, {"momentum", 0.9}, {"dampening", 0.1}}},
      {"sgd_nesterov", {{"lr", 0.1}, {"momentum", 0.8}}},
      {"adam", {{"lr", 0.01}, {"weight_decay", 0.1}, {"amsgrad", 1}}},
      {"adamw", {{"lr", 0.01}, {"weight_decay", 0.1}}},
      {"rmsprop", {{"lr", 0.01}, {"momentum", 0.5}, {"centered", 1}}},
      {"adagrad",
       {{"lr", 0.1}, {"lr_decay", 0.01}, {"initial_accumulator_value", 0.1}}},
  };
  const std::vector<float> x = RandomData(8 * 3, 1, -1, 1),
                           y = RandomData(8 * 2, 2, -1, 1);
  for (const Opt& o : optimizers) {
    INFO(o.id);
    const OpInfo& op = *FindOp(o.id);
    std::string opt = std::string(R"({"id":")") + o.id + "\"";
    for (const NamedParam& p : o.params) {
      const bool flag =
          op.params[op.ParamIndex(p.name)].type == ParamType::kBool;
      opt +=
          ",\"" + std::string(p.name) + "\":" +
          (flag ? (p.value != 0 ? "true" : "false") : std::to_string(p.value));
    }
    auto m = MakeModel(R"({"input":3,"layers":[{"type":"linear","units":2}],
        "loss":{"id":"mse"},"optimizer":)" +
                       opt + "}}");
    const int64_t n = m->num_parameters();
    std::vector<float> start = Params(*m), grads;
    constexpr int kSteps = 5;
    for (int t = 0; t < kSteps; ++t) {
      REQUIRE(m->Step(x.data(), y.data(), 8).ok());
      grads.insert(grads.end(), m->gradients(), m->gradients() + n);
    }
    const NamedTensor in[2] = {{"params", {start.data(), Shape{n}}},
                               {"grads", {grads.data(), Shape{kSteps, n}}}};
    Call call;
    REQUIRE(Prepare(o.id, in, o.params, &call).ok());
    Evaluation ev;
    REQUIRE(Run(call, &ev).ok());
    const float* last = ev.y.data() + (kSteps - 1) * n;
    CHECK(std::equal(last, last + n, m->parameters()));
    CHECK(m->step() == kSteps);
  }
}

// Each step's lr (Diagnostics) is the registry schedule's value at that
// step, with the optimizer's lr as base and the generic warmup on top.
TEST_CASE("per-step schedules equal the registry's array form", "[model]") {
  struct Sched {
    const char* spec;
    const char* id;
    std::vector<NamedParam> params;  // the same schedule for dl.schedule
    int64_t warmup;
  };
  const Sched schedules[] = {
      {R"({"id":"step_lr","step_size":3,"gamma":0.5})",
       "step_lr",
       {{"lr", 0.2}, {"step_size", 3}, {"gamma", 0.5}},
       0},
      {R"({"id":"exponential_lr","gamma":0.9,"warmup":4})",
       "exponential_lr",
       {{"lr", 0.2}, {"gamma", 0.9}},
       4},
      {R"({"id":"cosine_annealing_lr","steps":8,"eta_min":0.01})",
       "cosine_annealing_lr",
       {{"lr", 0.2}, {"t_max", 8}, {"eta_min", 0.01}},
       0},
      {R"({"id":"cosine_annealing_warm_restarts","steps":3,"t_mult":2})",
       "cosine_annealing_warm_restarts",
       {{"lr", 0.2}, {"t_0", 3}, {"t_mult", 2}},
       0},
      {R"({"id":"linear_lr","steps":6,"start_factor":0.25})",
       "linear_lr",
       {{"lr", 0.2}, {"total_iters", 6}, {"start_factor", 0.25}},
       0},
      {R"({"id":"one_cycle_lr","steps":10})",
       "one_cycle_lr",
       {{"max_lr", 0.2}, {"total_steps", 10}},
       0},
      {R"({"id":"warmup_cosine","warmup":4,"steps":10,"final_lr":0.02})",
       "warmup_cosine",
       {{"lr", 0.2},
        {"warmup_steps", 4},
        {"total_steps", 10},
        {"final_lr", 0.02}},
       0},
      {R"({"id":"noam","warmup":4,"d_model":16})",
       "noam",
       {{"warmup_steps", 4}, {"d_model", 16}},
       0},
  };
  const std::vector<float> x = RandomData(4 * 2, 1, -1, 1),
                           y = RandomData(4, 2, -1, 1);
  constexpr int kSteps = 12;  // one_cycle_lr holds its end past 10
  for (const Sched& sc : schedules) {
    INFO(sc.spec);
    auto m = MakeModel(std::string(R"({"input":2,"layers":[{"type":"linear",
        "units":1}],"loss":{"id":"mse"},"optimizer":{"id":"sgd","lr":0.2},
        "schedule":)") +
                       sc.spec + "}");
    // The array form; one_cycle_lr's ends at total_steps (the model holds
    // that last value after it).
    const bool one_cycle = std::string_view(sc.id) == "one_cycle_lr";
    const int len = one_cycle ? 11 : kSteps;
    std::vector<NamedParam> params = sc.params;
    params.push_back({"steps", static_cast<double>(len)});
    Call call;
    REQUIRE(Prepare(sc.id, {}, params, &call).ok());
    Evaluation ev;
    REQUIRE(Run(call, &ev).ok());
    for (int t = 0; t < kSteps; ++t) {
      REQUIRE(m->Step(x.data(), y.data(), 4).ok());
      float want = ev.y.data()[std::min(t, len - 1)];
      if (t < sc.warmup) want *= static_cast<float>(t + 1) / sc.warmup;
      INFO("step " << t);
      CHECK(m->Diagnostics()[kDiagLr] == Approx(want).epsilon(1e-6));
    }
  }
}

TEST_CASE("learning rate changes between steps without a reset", "[model]") {
  // SGD: theta' = theta - lr g, so the update scales with the lr set.
  auto m = MakeModel(R"({"input":2,"layers":[{"type":"linear","units":1}],
      "loss":{"id":"mse"},"optimizer":{"id":"sgd_momentum","lr":0.1}})");
  const std::vector<float> x = RandomData(8, 1, -1, 1),
                           y = RandomData(4, 2, -1, 1);
  REQUIRE(m->Step(x.data(), y.data(), 4).ok());
  REQUIRE(m->SetLearningRate(0.05).ok());
  CHECK(m->lr() == 0.05);
  const std::vector<float> before = Params(*m);
  REQUIRE(m->Step(x.data(), y.data(), 4).ok());
  CHECK(m->Diagnostics()[kDiagLr] == 0.05f);
  CHECK(m->step() == 2);  // the count (and momentum) carried on
  CHECK(Params(*m) != before);
  CHECK(m->SetLearningRate(-1).message() ==
        "lr: must be a finite number >= 0, got -1.000000");
  m->ResetOptimizer();
  CHECK(m->step() == 0);
}

TEST_CASE("clipping by norm and by value; penalties", "[model]") {
  const std::vector<float> x = RandomData(8 * 3, 1, -3, 3),
                           y = RandomData(8, 2, -1, 1);
  const std::string net =
      R"({"input":3,"layers":[{"type":"linear","units":4},
          {"type":"activation","id":"tanh"},{"type":"linear","units":1}],
          "loss":{"id":"mse"},"optimizer":{"id":"sgd","lr":0.01},"seed":3)";
  auto norm = MakeModel(net + R"(,"clip":{"norm":0.01}})");
  REQUIRE(norm->Step(x.data(), y.data(), 8).ok());
  const float* d = norm->Diagnostics();
  REQUIRE(d[kDiagGradNorm] > 0.01f);
  CHECK(d[kDiagClippedGradNorm] == Approx(0.01).epsilon(1e-5));
  double sq = 0;
  for (int64_t i = 0; i < norm->num_parameters(); ++i)
    sq += double{norm->gradients()[i]} * norm->gradients()[i];
  CHECK(std::sqrt(sq) == Approx(0.01).epsilon(1e-5));  // what sgd saw
  // Per layer gradient norms before clipping add up to the total.
  const int stride = kLayerDiagStride;
  const double l0 = d[kDiagHeader + kLayerGradNorm],
               l2 = d[kDiagHeader + 2 * stride + kLayerGradNorm];
  CHECK(d[kDiagHeader + stride + kLayerGradNorm] == 0);  // tanh: none
  CHECK(std::sqrt(l0 * l0 + l2 * l2) == Approx(d[kDiagGradNorm]).epsilon(1e-5));

  auto value = MakeModel(net + R"(,"clip":{"value":0.001}})");
  REQUIRE(value->Step(x.data(), y.data(), 8).ok());
  for (int64_t i = 0; i < value->num_parameters(); ++i)
    CHECK(std::fabs(value->gradients()[i]) <= 0.001f);
  CHECK(value->Diagnostics()[kDiagClippedGradNorm] <
        value->Diagnostics()[kDiagGradNorm]);

  // l2: loss + lam sum w^2 over linear weights only, gradient + 2 lam w.
  auto plain = MakeModel(net + "}");
  auto l2n = MakeModel(net + R"(,"l2":0.5,"l1":0.25})");
  REQUIRE(plain->ComputeGradients(x.data(), y.data(), 8).ok());
  REQUIRE(l2n->ComputeGradients(x.data(), y.data(), 8).ok());
  for (const ParamEntry& e : plain->ParameterTable()) {
    const bool weight = e.name.find("weight") != std::string::npos;
    for (int64_t i = 0; i < e.shape.numel(); ++i) {
      const float w = plain->parameters()[e.offset + i];
      const float extra =
          weight ? 2 * 0.5f * w + 0.25f * ((w > 0) - (w < 0)) : 0.0f;
      CHECK(l2n->gradients()[e.offset + i] ==
            Approx(plain->gradients()[e.offset + i] + extra).margin(1e-6));
    }
  }
  REQUIRE(l2n->Step(x.data(), y.data(), 8).ok());
  double penalty = 0;
  for (const ParamEntry& e : plain->ParameterTable())
    if (e.name.find("weight") != std::string::npos)
      for (int64_t i = 0; i < e.shape.numel(); ++i) {
        const double w = plain->parameters()[e.offset + i];
        penalty += 0.5 * w * w + 0.25 * std::fabs(w);
      }
  const float* dl = l2n->Diagnostics();
  CHECK(dl[kDiagLoss] - dl[kDiagDataLoss] == Approx(penalty).epsilon(1e-5));
}

TEST_CASE("diagnostics: the documented layout, recomputed", "[model]") {
  // Layer 1 (relu) has units held dead by a large negative bias.
  auto m = MakeModel(R"({"input":2,"layers":[{"type":"linear","units":4},
      {"type":"activation","id":"relu"},{"type":"linear","units":1}],
      "loss":{"id":"mse"},"optimizer":{"id":"sgd","lr":0.1},"seed":4})");
  const float bias[4] = {-100, 0.5f, -100, 0.5f};
  REQUIRE(m->SetParameter("layers.0.bias", bias, 4).ok());
  const std::vector<float> x = RandomData(16 * 2, 8, -1, 1),
                           y = RandomData(16, 9, -1, 1);
  const std::vector<float> before = Params(*m);
  REQUIRE(m->Step(x.data(), y.data(), 16).ok());
  REQUIRE(m->DiagnosticsStride() == kDiagHeader + 3 * kLayerDiagStride);
  const float* d = m->Diagnostics();
  CHECK(d[kDiagStep] == 1);
  CHECK(d[kDiagRows] == 16);
  CHECK(d[kDiagLr] == Approx(0.1));
  const float* relu = d + kDiagHeader + kLayerDiagStride;
  CHECK(relu[kLayerDeadFraction] == 0.5f);
  // Mean and std of each output, from LayerOutput.
  for (int layer = 0; layer < 3; ++layer) {
    const float* out;
    int64_t rows, width;
    REQUIRE(m->LayerOutput(layer, &out, &rows, &width).ok());
    REQUIRE(rows == 16);
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < rows * width; ++i) {
      s += out[i];
      s2 += double{out[i]} * out[i];
    }
    const double mean = s / (rows * width);
    const float* ld = d + kDiagHeader + layer * kLayerDiagStride;
    INFO("layer " << layer);
    CHECK(ld[kLayerActMean] == Approx(mean).margin(1e-6));
    CHECK(ld[kLayerActStd] ==
          Approx(std::sqrt(s2 / (rows * width) - mean * mean)).margin(1e-5));
  }
  // Update ratio and weight norm of the first linear layer.
  double delta = 0, w0 = 0, w1 = 0;
  for (int64_t i = 0; i < 12; ++i) {  // weight [4, 2] and bias [4]
    delta += std::pow(double{m->parameters()[i]} - before[i], 2);
    w0 += double{before[i]} * before[i];
    w1 += double{m->parameters()[i]} * m->parameters()[i];
  }
  CHECK(d[kDiagHeader + kLayerUpdateRatio] ==
        Approx(std::sqrt(delta / w0)).epsilon(1e-5));
  CHECK(d[kDiagHeader + kLayerWeightNorm] ==
        Approx(std::sqrt(w1)).epsilon(1e-6));
  // A FitRun logs one row per step, oldest first.
  FitOptions o;
  o.epochs = 3;
  o.batch_size = 4;
  o.log_steps = 5;
  REQUIRE(m->FitBegin(x.data(), y.data(), 16, o).ok());
  FitProgress p;
  REQUIRE(m->FitRun(7, &p).ok());
  int64_t rows;
  const float* log = m->DiagnosticsLog(&rows);
  REQUIRE(rows == 5);  // the last 5 of 7 (steps 2 to 8 of the model)
  for (int64_t r = 0; r < rows; ++r)
    CHECK(log[r * m->DiagnosticsStride() + kDiagStep] == 4 + r);
  // Each header field is also a column of the same values (the log wrapped
  // around, so its columns were rotated too); fields past the header are not.
  for (int k = 0; k < kDiagHeader; ++k) {
    int64_t n = 0;
    const float* column = m->DiagnosticsLogColumn(k, &n);
    REQUIRE(column != nullptr);
    REQUIRE(n == rows);
    for (int64_t r = 0; r < rows; ++r)
      CHECK(column[r] == log[r * m->DiagnosticsStride() + k]);
  }
  CHECK(m->DiagnosticsLogColumn(kDiagHeader, &rows) == nullptr);
  CHECK(m->DiagnosticsLogColumn(-1, &rows) == nullptr);
}

TEST_CASE("inference: eval mode, layer outputs of a whole grid", "[model]") {
  auto m = MakeModel(kEveryLayer);
  std::vector<float> x, y;
  ClassData(64, 4, 3, 6, &x, &y);
  FitOptions o;
  o.epochs = 2;
  o.batch_size = 16;
  FitOk(*m, x, y, o);
  // Eval: dropout off and batch norm on running statistics, so a row's
  // output does not depend on the other rows or on the call.
  std::vector<float> all(64 * 3), one(3);
  REQUIRE(m->Predict(x.data(), 64, all.data()).ok());
  REQUIRE(m->Predict(x.data() + 4 * 5, 1, one.data()).ok());
  for (int k = 0; k < 3; ++k)
    CHECK(one[k] == Approx(all[5 * 3 + k]).margin(1e-6));
  std::vector<float> again(64 * 3);
  REQUIRE(m->Predict(x.data(), 64, again.data()).ok());
  CHECK(again == all);
  // A 100 x 100 grid runs as one chunk: every layer's map is readable.
  std::vector<float> grid = RandomData(10000 * 4, 3, -1, 1), out(10000 * 3);
  REQUIRE(m->Predict(grid.data(), 10000, out.data()).ok());
  const float* o8;
  int64_t rows, width;
  REQUIRE(m->LayerOutput(4, &o8, &rows, &width).ok());  // the residual
  CHECK(rows == 10000);
  CHECK(width == 8);
  const float* last;
  REQUIRE(m->LayerOutput(static_cast<int>(m->layers().size()) - 1, &last, &rows,
                         &width)
              .ok());
  CHECK(std::equal(out.begin(), out.end(), last));
  // Evaluate: loss and accuracy.
  double loss, acc;
  REQUIRE(m->Evaluate(x.data(), y.data(), 64, &loss, &acc).ok());
  int right = 0;
  for (int i = 0; i < 64; ++i)
    right += std::max_element(&all[3 * i], &all[3 * i + 3]) - &all[3 * i] ==
             static_cast<int>(y[i]);
  CHECK(acc == right / 64.0);
  CHECK(std::isfinite(loss));
  CHECK(m->LayerOutput(99, &o8, &rows, &width).message() ==
        "layer: must be in [0, 13), got 99");
}

TEST_CASE("targets are checked by the loss's registry validation", "[model]") {
  auto m = MakeModel(R"({"input":2,"layers":[{"type":"linear","units":3}],
      "loss":{"id":"cross_entropy"},"optimizer":{"id":"sgd"}})");
  const std::vector<float> x = RandomData(8, 1, -1, 1);
  const std::vector<float> y = {0, 2, 3, 1};
  Status s = m->Step(x.data(), y.data(), 4);
  CHECK(s.code() == ErrorCode::kBadValue);
  CHECK(s.message() ==
        "y: op 'cross_entropy': target[2] = 3 is not a class index in [0, 3) "
        "nor ignore_index -100");
  FitOptions o;
  s = m->FitBegin(x.data(), y.data(), 4, o);
  CHECK(s.message() ==
        "y: op 'cross_entropy': target[2] = 3 is not a class index in [0, 3) "
        "nor ignore_index -100");
  const std::vector<float> half = {0, 1.5f, 1, 0};
  s = m->Step(x.data(), half.data(), 4);
  CHECK(s.code() == ErrorCode::kBadType);
  auto hinge = MakeModel(R"({"input":2,"layers":[{"type":"linear","units":1}],
      "loss":{"id":"hinge"},"optimizer":{"id":"sgd"}})");
  const std::vector<float> labels = {1, -1, 0, 1};
  s = hinge->Step(x.data(), labels.data(), 4);
  CHECK(s.message() ==
        "y: op 'hinge': input 'target' must hold labels -1 or 1, got "
        "target[2] = 0");
  // Every step checks the values a loss reads: focal's targets in [0, 1],
  // bce's outputs (probabilities); the model trains on afterwards.
  auto focal = MakeModel(R"({"input":2,"layers":[{"type":"linear","units":1}],
      "loss":{"id":"focal"},"optimizer":{"id":"sgd"}})");
  const std::vector<float> soft = {0, 0.5f, 1, 1};
  REQUIRE(focal->Step(x.data(), soft.data(), 4).ok());
  const std::vector<float> above = {0, 0.5f, 1, 1.5f};
  s = focal->Step(x.data(), above.data(), 4);
  CHECK(s.message() ==
        "y: op 'focal': input 'target' must hold values in [0, 1], got "
        "target[3] = 1.5");
  CHECK(focal->Step(x.data(), soft.data(), 4).ok());
  CHECK(focal->step() == 2);
  auto bce = MakeModel(R"({"input":2,"layers":[{"type":"linear","units":1,
      "bias":false}],"loss":{"id":"bce"},"optimizer":{"id":"sgd"}})");
  // Outputs o and -o: one of them is outside [0, 1].
  const std::vector<float> big = {3, 3, -3, -3, 3, 3, -3, -3};
  s = bce->Step(big.data(), soft.data(), 4);
  CHECK(s.code() == ErrorCode::kBadValue);
  CHECK(s.message().rfind("loss: op 'bce': input 'input' must hold "
                          "probabilities in [0, 1]",
                          0) == 0);
  // A loss that reads no values (mse) takes any targets, every step.
  auto mse = MakeModel(R"({"input":2,"layers":[{"type":"linear","units":1}],
      "loss":{"id":"mse"},"optimizer":{"id":"sgd"}})");
  const std::vector<float> any = {-1e3f, 0.5f, 7, -0.25f};
  CHECK(mse->Step(x.data(), any.data(), 4).ok());
  CHECK(mse->Step(x.data(), labels.data(), 4).ok());
  CHECK(m->Step(x.data(), y.data(), 0).message() ==
        "rows: must be at least 1, got 0");
}

TEST_CASE("fit options: JSON mistakes and impossible splits", "[model]") {
  struct Bad {
    const char* json;
    const char* message;
  };
  const Bad bad[] = {
      {R"({"epoch":3})", "fit: unknown key 'epoch' (did you mean 'epochs'?)"},
      {R"({"epochs":0})", "fit.epochs: must be in [1, 10000000], got 0.000000"},
      {R"({"batchSize":2.5})",
       "fit.batchSize: must be an integer, got 2.500000"},
      {R"({"shuffle":1})", "fit.shuffle: must be true or false, got a number"},
      {R"({"validationSplit":1})",
       "fit.validationSplit: must be in [0, 1), got 1.000000"},
      {R"({"earlyStopping":{"patients":3}})",
       "fit.earlyStopping: unknown key 'patients' (did you mean 'patience'?)"},
      {R"({"earlyStopping":{"minDelta":-1}})",
       "fit.earlyStopping.minDelta: must be a finite number >= 0, got "
       "-1.000000"},
      {R"({"epochs":3)",
       "fit: invalid JSON at line 1, column 12: expected ',' or '}' in an "
       "object"},
  };
  for (const Bad& b : bad) {
    FitOptions o;
    const Status s = ParseFitOptions(b.json, &o);
    INFO(b.json);
    CHECK(s.message() == b.message);
  }
  FitOptions o;
  REQUIRE(ParseFitOptions(R"({"epochs":7,"batchSize":5,"shuffle":false,
      "validationSplit":0.5,"earlyStopping":{"patience":3,"minDelta":0.1,
      "restoreBest":false},"logSteps":9})",
                          &o)
              .ok());
  CHECK(o.epochs == 7);
  CHECK(o.batch_size == 5);
  CHECK(!o.shuffle);
  CHECK(o.validation_split == 0.5);
  CHECK(o.early_stopping);
  CHECK(o.patience == 3);
  CHECK(o.min_delta == 0.1);
  CHECK(!o.restore_best);
  CHECK(o.log_steps == 9);
  // Batch norm cannot train on a batch of one row.
  auto bn = MakeModel(R"({"input":2,"layers":[{"type":"batch_norm"}],
      "loss":{"id":"mse"},"optimizer":{"id":"sgd"}})");
  const std::vector<float> x = RandomData(2 * 9, 1, -1, 1),
                           y = RandomData(2 * 9, 2, -1, 1);
  FitOptions b;
  b.batch_size = 4;
  CHECK(bn->FitBegin(x.data(), y.data(), 9, b).message() ==
        "fit.batchSize: batch_norm needs at least 2 rows per training batch; "
        "9 training examples in batches of 4 leave a batch of 1 row");
  b.validation_split = 0.9;  // 8 held out, 1 left to train on
  CHECK(bn->FitBegin(x.data(), y.data(), 9, b).message() ==
        "fit.batchSize: batch_norm needs at least 2 rows per training batch; "
        "1 training examples in batches of 1 leave a batch of 1 row");
}

TEST_CASE("a formula activation trains like the registry op it spells",
          "[model]") {
  // x*sigmoid(b*x) is swish_beta with beta fixed at b.
  const std::string head =
      R"({"input":3,"layers":[{"type":"linear","units":5},)";
  const std::string tail =
      R"(,{"type":"linear","units":2}],"loss":{"id":"mse"},
         "optimizer":{"id":"sgd","lr":0.1},"seed":8})";
  auto f = MakeModel(
      head + R"j({"type":"activation","formula":"x*sigmoid(b*x)","b":1.25})j" +
      tail);
  auto r125 = MakeModel(
      head + R"({"type":"activation","id":"swish_beta","beta":1.25})" + tail);
  const std::vector<float> x = RandomData(6 * 3, 4, -3, 3),
                           y = RandomData(12, 5, -1, 1);
  // Same weights (the extra beta shifts r125's later offsets, and with
  // them the initializers' streams).
  for (const ParamEntry& e : f->ParameterTable()) {
    std::vector<float> v(e.shape.numel());
    REQUIRE(r125->GetParameter(e.name, v.data(), e.shape.numel()).ok());
    REQUIRE(f->SetParameter(e.name, v.data(), e.shape.numel()).ok());
  }
  REQUIRE(f->ComputeGradients(x.data(), y.data(), 6).ok());
  REQUIRE(r125->ComputeGradients(x.data(), y.data(), 6).ok());
  // r125 has one more parameter (beta), after layer 0's: compare the rest.
  const int64_t l0 = 5 * 3 + 5;
  for (int64_t i = 0; i < f->num_parameters(); ++i) {
    const int64_t j = i < l0 ? i : i + 1;
    INFO("parameter " << i);
    CHECK(f->gradients()[i] == Approx(r125->gradients()[j]).margin(2e-6));
  }
}

TEST_CASE("engine kernels: diagnostics sums and bias rows on every target",
          "[model]") {
  // Tails around every vector width (up to 16 lanes), a block edge (1024)
  // and more than one block.
  for (size_t n :
       {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1023, 1024, 1025, 2500}) {
    const std::vector<float> a = RandomData(n, 11, -3, 3),
                             b = RandomData(n, 12, -3, 3);
    // The sums over [lo, hi): {sum a, |a|, a^2, b^2}.
    auto sums = [&](size_t lo, size_t hi) {
      std::array<double, 4> r{};
      for (size_t i = lo; i < hi; ++i) {
        r[0] += a[i];
        r[1] += std::fabs(a[i]);
        r[2] += double{a[i]} * a[i];
        r[3] += double{b[i]} * b[i];
      }
      return r;
    };
    ForEachTarget([&](const char* target) {
      INFO("target " << target << ", n " << n);
      // Two layers in one call: (a, b) and, over its first half, (b, a).
      // The first one's dead-unit probe, [3, n / 3]: column j holds a zero
      // (of either sign) in every row when j % 3 == 0, else a nonzero in
      // row j % 3 only. The second has none.
      const size_t cols = n / 3;
      std::vector<float> probe_rows(3 * cols, 0.0f);
      for (size_t r = 0; r < 3; ++r)
        for (size_t j = 0; j < cols; ++j)
          probe_rows[r * cols + j] = j % 3 == 0   ? (r % 2 ? -0.0f : 0.0f)
                                     : j % 3 == r ? 0.5f
                                                  : 0.0f;
      model::LayerArrays layers[2];
      layers[0] = {.out = a.data(),
                   .dout = b.data(),
                   .n = static_cast<int64_t>(n),
                   .probe = probe_rows.data(),
                   .probe_rows = 3,
                   .probe_cols = static_cast<int64_t>(cols)};
      layers[1] = {
          .out = b.data(), .dout = a.data(), .n = static_cast<int64_t>(n / 2)};
      double m[8];
      model::MomentsOf(layers, 2, m);
      const std::array<double, 4> all = sums(0, n);
      CHECK(std::fabs(m[0] - all[0]) <= 1e-6 * all[1]);
      CHECK(m[1] == Approx(all[2]).epsilon(1e-6));
      CHECK(m[2] == Approx(all[3]).epsilon(1e-6));
      CHECK(m[3] == static_cast<double>((cols + 2) / 3));
      double bsum = 0, bmag = 0;
      for (size_t i = 0; i < n / 2; ++i) {
        bsum += b[i];
        bmag += std::fabs(b[i]);
      }
      const std::array<double, 4> half = sums(0, n / 2);
      CHECK(std::fabs(m[4] - bsum) <= 1e-6 * bmag);
      CHECK(m[5] == Approx(half[3]).epsilon(1e-6));
      CHECK(m[6] == Approx(half[2]).epsilon(1e-6));
      CHECK(m[7] == 0);
    });
  }
  // Bias gradient: exactly the scalar loops' bits (adds in the same order).
  // (The bias rows are the products', test_gemm.)
  for (size_t cols : {1, 3, 4, 8, 9, 12, 17})
    for (size_t rows : {1, 2, 10}) {
      const std::vector<float> v = RandomData(rows * cols, 13, -2, 2),
                               bias = RandomData(cols, 14, -2, 2);
      std::vector<float> s_ref = bias, fresh_ref(cols, 0.0f);
      for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < cols; ++j) {
          s_ref[j] += v[r * cols + j];
          fresh_ref[j] += v[r * cols + j];
        }
      ForEachTarget([&](const char* target) {
        INFO("target " << target << ", " << rows << " x " << cols);
        std::vector<float> sums = bias, fresh = bias;
        model::AddColumnSums(v.data(), rows, cols, sums.data());
        // Not accumulating: what was in s is gone (the bias gradient of a
        // linear layer that writes it first).
        model::AddColumnSums(v.data(), rows, cols, fresh.data(), false);
        CHECK(sums == s_ref);
        CHECK(fresh == fresh_ref);
      });
    }
}

}  // namespace
}  // namespace dlmath::testing
