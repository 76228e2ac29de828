// Model::ToPyTorch: Python source that rebuilds the model as a torch
// nn.Module (nn.Sequential-like: `layers`, a residual block as a small
// Module holding its own `layers`, so the state_dict names are the
// parameter table's), loads the weights and buffers from base64 float32 and
// calls eval(). Activations are torch functions of x; a formula activation
// is its tree in float64 torch ops (dlmath evaluates formulas in double).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/src/model/json.h"
#include "core/src/model/model.h"
#include "dlmath/formula.h"

namespace dlmath {

namespace {

using model::LayerSpec;

// A Python float literal ("1.0", not "1": torch.tensor([1]) is an integer).
std::string Py(double v) {
  if (std::isnan(v)) return "math.nan";
  if (std::isinf(v)) return v > 0 ? "math.inf" : "-math.inf";
  std::string s;
  json::AppendNumber(&s, v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// torch translations of the activations, {x} the input and {name} a param
// by its registry name. Kept beside the registry's ids: an id missing here
// makes ToPyTorch fail with a clear error, and the export test runs every
// activation of the registry through PyTorch.
struct Translation {
  const char* id;
  const char* torch;
};
constexpr Translation kActivations[] = {
    {"sigmoid", "torch.sigmoid({x})"},
    {"tanh", "torch.tanh({x})"},
    {"relu", "torch.relu({x})"},
    {"leaky_relu", "F.leaky_relu({x}, {negative_slope})"},
    {"rrelu", "F.rrelu({x}, {lower}, {upper}, training=False)"},
    {"elu", "F.elu({x}, {alpha})"},
    {"selu", "F.selu({x})"},
    {"celu", "F.celu({x}, {alpha})"},
    {"gelu_erf", "F.gelu({x})"},
    {"gelu_tanh", "F.gelu({x}, approximate='tanh')"},
    {"silu", "F.silu({x})"},
    {"swish_beta", "{x} * torch.sigmoid({beta} * {x})"},
    {"mish", "F.mish({x})"},
    {"softplus", "F.softplus({x}, {beta}, {threshold})"},
    {"softsign", "F.softsign({x})"},
    {"hardtanh", "F.hardtanh({x}, {min_val}, {max_val})"},
    {"relu6", "F.relu6({x})"},
    {"hardsigmoid", "F.hardsigmoid({x})"},
    {"hardswish", "F.hardswish({x})"},
    {"logsigmoid", "F.logsigmoid({x})"},
    {"tanhshrink", "F.tanhshrink({x})"},
    {"erf", "torch.erf({x})"},
    {"softmax", "torch.softmax({x}, -1)"},
    {"log_softmax", "torch.log_softmax({x}, -1)"},
    {"softmax_temperature", "torch.softmax({x} / {temperature}, -1)"},
    {"logsumexp", "torch.logsumexp({x}, -1, keepdim=True)"},
    {"glu", "F.glu({x}, -1)"},
    {"clip_grad_value", "torch.clamp({x}, -{clip_value}, {clip_value})"},
    {"softmax_naive", "torch.exp({x}) / torch.exp({x}).sum(-1, keepdim=True)"},
    {"logsumexp_naive", "torch.log(torch.exp({x}).sum(-1, keepdim=True))"},
};

const char* TranslationOf(const OpInfo& op) {
  for (const Translation& t : kActivations)
    if (op.id == std::string_view(t.id)) return t.torch;
  return nullptr;
}

// Fills a translation's {x} and {param} holes.
std::string Fill(const OpInfo& op, const char* pattern,
                 const std::vector<std::string>& args) {
  std::string out;
  for (const char* c = pattern; *c; ++c) {
    if (*c != '{') {
      out += *c;
      continue;
    }
    const char* end = std::strchr(c, '}');
    const std::string name(c + 1, end);
    if (name == "x") {
      out += args[0];
    } else {
      const int k = op.ParamIndex(name);
      out += args[1 + k];
    }
    c = end;
  }
  return out;
}

// A registry op called inside a formula: its params are 0-d tensors there.
std::string FormulaOp(const OpInfo& op, const std::vector<std::string>& args) {
  const char* pattern = TranslationOf(op);
  if (!pattern) return "_missing('" + std::string(op.id) + "')";
  std::vector<std::string> a = {"u"};
  for (int k = 0; k < op.num_params(); ++k)
    a.push_back(k + 1 < static_cast<int>(args.size())
                    ? "float(" + args[k + 1] + ")"
                    : Py(op.params[k].def));
  return "(lambda u: " + Fill(op, pattern, a) + ")(" + args[0] + ")";
}

class Writer {
 public:
  Status Module(const LayerSpec& l, int depth, std::string* out) {
    const std::string pad(4 * depth, ' ');
    const std::string w = std::to_string(l.in_width);
    auto param = [&](const char* name) {
      return Py(l.p[l.op->ParamIndex(name)]);
    };
    auto flag = [](bool b) { return b ? std::string("True") : "False"; };
    switch (l.type) {
      case LayerType::kLinear:
        *out += pad + "nn.Linear(" + w + ", " + std::to_string(l.out_width) +
                ", bias=" + flag(l.bias) + ")";
        return {};
      case LayerType::kActivation:
        return Activation(l, pad, out);
      case LayerType::kDropout:
        *out += pad + "nn.Dropout(" + param("p") + ")";
        return {};
      case LayerType::kBatchNorm:
        *out += pad + "nn.BatchNorm1d(" + w + ", eps=" + param("eps") +
                ", momentum=" + param("momentum") +
                ", affine=" + flag(l.affine) + ")";
        return {};
      case LayerType::kLayerNorm:
        *out += pad + "nn.LayerNorm(" + w + ", eps=" + param("eps") +
                ", elementwise_affine=" + flag(l.affine) + ")";
        return {};
      case LayerType::kRmsNorm:
        *out += pad + "RMSNorm(" + w + ", " + param("eps") + ", " +
                flag(l.affine) + ")";
        return {};
      case LayerType::kGroupNorm:
        *out += pad + "nn.GroupNorm(" +
                std::to_string(
                    static_cast<int64_t>(l.p[l.op->ParamIndex("num_groups")])) +
                ", " + w + ", eps=" + param("eps") +
                ", affine=" + flag(l.affine) + ")";
        return {};
      case LayerType::kResidual:
        *out += pad + "Residual(\n";
        if (Status s = List(l.layers, depth + 1, out); !s.ok()) return s;
        *out += pad + ")";
        return {};
    }
    return {};
  }

  Status List(const std::vector<LayerSpec>& layers, int depth,
              std::string* out) {
    for (const LayerSpec& l : layers) {
      if (Status s = Module(l, depth, out); !s.ok()) return s;
      *out += ",\n";
    }
    return {};
  }

 private:
  Status Activation(const LayerSpec& l, const std::string& pad,
                    std::string* out) {
    if (!l.op) {  // a formula, in float64 as dlmath evaluates it
      Formula f;
      (void)Formula::Compile(l.formula, &f);
      std::vector<double> values;
      for (const std::string& name : f.params())
        for (const auto& [n, v] : l.formula_params)
          if (n == name) values.push_back(v);
      const std::string body = f.Torch(values, FormulaOp);
      if (body.find("_missing(") != std::string::npos) return Missing(l);
      *out += pad + "Fn(lambda x: torch.broadcast_to(" + body +
              ", x.shape).float(), double=True)";
      return {};
    }
    const std::string id = l.op->id;
    if (id == "prelu") {
      *out += pad + "nn.PReLU(" + std::to_string(l.prelu_count) + ", " +
              Py(l.prelu_init) + ")";
      return {};
    }
    if (id == "swish_beta") {
      *out += pad + "SwishBeta(" + Py(l.p[l.op->ParamIndex("beta")]) + ")";
      return {};
    }
    const char* pattern = TranslationOf(*l.op);
    if (!pattern) return Missing(l);
    std::vector<std::string> args = {"x"};
    for (int k = 0; k < l.op->num_params(); ++k) args.push_back(Py(l.p[k]));
    *out += pad + "Fn(lambda x: " + Fill(*l.op, pattern, args) + ")";
    return {};
  }

  static Status Missing(const LayerSpec& l) {
    return Status(ErrorCode::kBadValue, "", l.where,
                  l.where + ": export: '" +
                      (l.op ? std::string(l.op->id) : l.formula) +
                      "' has no PyTorch translation yet");
  }
};

void Base64(const float* v, int64_t n, std::string* out) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> bytes(static_cast<size_t>(n) * 4);
  if (n) std::memcpy(bytes.data(), v, bytes.size());  // little-endian float32
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t b0 = bytes[i];
    const uint32_t b1 = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    const uint32_t b2 = i + 2 < bytes.size() ? bytes[i + 2] : 0;
    const uint32_t w = (b0 << 16) | (b1 << 8) | b2;
    *out += kAlphabet[(w >> 18) & 63];
    *out += kAlphabet[(w >> 12) & 63];
    *out += i + 1 < bytes.size() ? kAlphabet[(w >> 6) & 63] : '=';
    *out += i + 2 < bytes.size() ? kAlphabet[w & 63] : '=';
  }
}

constexpr const char* kPrelude = R"(import base64
import math

import torch
from torch import nn
import torch.nn.functional as F


def _c(v):
    return torch.tensor(v, dtype=torch.float64)


class Fn(nn.Module):
    """An activation without parameters: a function of x."""

    def __init__(self, fn, double=False):
        super().__init__()
        self.fn = fn
        self.double = double

    def forward(self, x):
        return self.fn(x.double() if self.double else x)


class SwishBeta(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor([beta]))

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


class RMSNorm(nn.Module):
    def __init__(self, width, eps, affine):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width)) if affine else None

    def forward(self, x):
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return y * self.weight if self.weight is not None else y


class Residual(nn.Module):
    """x + f(x)."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.layers(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
)";

}  // namespace

Status Model::ToPyTorch(std::string* out) const {
  const Impl& m = *impl_;
  std::string s = "# A dlmath model, exported. Spec:\n# " + SpecJson() + "\n";
  s += kPrelude;
  Writer w;
  if (Status st = w.List(m.spec.layers, 3, &s); !st.ok()) return st;
  s += "        )\n\n    def forward(self, x):\n        return "
       "self.layers(x)\n\n\n";
  s += "_WEIGHTS = {\n";
  for (const ParamEntry& e : m.table) {
    const float* base =
        e.kind == TensorKind::kParameter ? m.params.data() : m.buffers.data();
    s += "    '" + e.name + "': (" + "[";
    for (int k = 0; k < e.shape.rank; ++k)
      s += (k ? ", " : "") + std::to_string(e.shape.dim[k]);
    s += "], '";
    Base64(base + e.offset, e.shape.numel(), &s);
    s += "'),\n";
  }
  s += "}\n\n";
  s += R"(model = Net()
with torch.no_grad():
    _state = model.state_dict()
    for _name, (_shape, _data) in _WEIGHTS.items():
        _bytes = bytearray(base64.b64decode(_data))
        _state[_name].copy_(torch.frombuffer(_bytes, dtype=torch.float32).reshape(_shape))
model.eval()
)";
  *out = std::move(s);
  return {};
}

}  // namespace dlmath
