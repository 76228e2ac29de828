// Spec parsing: JSON -> ModelSpec, with every mistake reported as
// "<place>.<field>: <problem>". Registry params are checked by the
// registry's own Prepare on placeholder tensors of the inferred widths, so
// ranges, choices and shape rules (glu's even width, group_norm's groups)
// have one validator; its message follows the place.
#include "core/src/model/spec.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "core/src/model/json.h"
#include "dlmath/dlmath.h"
#include "dlmath/formula.h"

namespace dlmath::model {

bool ManagedParam(std::string_view name) {
  return name == "training" || name == "seed";
}

std::string Num(double v) {
  std::string s;
  if (std::isfinite(v)) {
    json::AppendNumber(&s, v);
  } else {
    s = std::isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf");
  }
  return s;
}

namespace {

// LayerType order; the first kPlainTypes work on any input, the rest only
// in sequence models.
constexpr const char* kLayerTypes[] = {"linear",     "activation", "dropout",
                                       "batch_norm", "layer_norm", "rms_norm",
                                       "group_norm", "residual",   "embedding",
                                       "positional", "attention",  "swiglu"};
constexpr int kPlainTypes = 8;

using json::Type;
using json::Value;

std::string Join(const std::string& where, std::string_view key) {
  return where.empty() ? std::string(key) : where + "." + std::string(key);
}

Status Err(ErrorCode code, const std::string& field, const std::string& why) {
  return Status(code, "", field, field + ": " + why);
}

// "(did you mean 'a' or 'b'?)", or the list of candidates when none is near.
std::string Suggest(std::string_view name,
                    const std::vector<std::string_view>& known,
                    const char* noun) {
  const std::vector<std::string_view> near = NearestNames(name, known);
  std::string s;
  if (!near.empty()) {
    s = "(did you mean ";
    for (size_t i = 0; i < near.size(); ++i)
      s += (i ? (i + 1 == near.size() ? " or '" : ", '") : "'") +
           std::string(near[i]) + "'";
    return s + "?)";
  }
  s = std::string("(") + noun + ": ";
  for (size_t i = 0; i < known.size(); ++i)
    s += (i ? ", " : "") + std::string(known[i]);
  return s + ")";
}

// What was given, for messages: the number, the string, or the type.
std::string Shown(const Value& v) {
  switch (v.type) {
    case Type::kNumber:
      return Num(v.number);
    case Type::kString:
      return "'" + v.string + "'";
    case Type::kBool:
      return v.boolean ? "true" : "false";
    default:
      return json::TypeName(v.type);
  }
}

// An object of the spec: reads keys, remembering which were used, so that
// Finish() can name the first unknown one.
class Obj {
 public:
  Obj(const Value& v, std::string where) : v_(v), where_(std::move(where)) {}

  const std::string& where() const { return where_; }
  std::string Field(std::string_view key) const { return Join(where_, key); }

  const Value* Take(std::string_view key) {
    used_.emplace_back(key);
    return v_.Find(key);
  }

  Status Int(std::string_view key, int64_t lo, int64_t hi, int64_t def,
             int64_t* out) {
    const Value* v = Take(key);
    *out = def;
    if (!v) return {};
    const std::string range = "an integer in [" + std::to_string(lo) + ", " +
                              std::to_string(hi) + "]";
    if (v->type != Type::kNumber || std::floor(v->number) != v->number ||
        v->number < static_cast<double>(lo) ||
        v->number > static_cast<double>(hi))
      return Err(
          v->type == Type::kNumber ? ErrorCode::kBadParam : ErrorCode::kBadType,
          Field(key), "must be " + range + ", got " + Shown(*v));
    *out = static_cast<int64_t>(v->number);
    return {};
  }

  // A finite number >= lo (> lo when open).
  Status Number(std::string_view key, double lo, bool open, double def,
                double* out) {
    const Value* v = Take(key);
    *out = def;
    if (!v) return {};
    const std::string want =
        std::string("a number ") + (open ? "> " : ">= ") + Num(lo);
    if (v->type != Type::kNumber)
      return Err(ErrorCode::kBadType, Field(key),
                 "must be " + want + ", got " + Shown(*v));
    if (!(open ? v->number > lo : v->number >= lo))
      return Err(ErrorCode::kBadParam, Field(key),
                 "must be " + want + ", got " + Shown(*v));
    *out = v->number;
    return {};
  }

  Status Bool(std::string_view key, bool def, bool* out) {
    const Value* v = Take(key);
    *out = def;
    if (!v) return {};
    if (v->type != Type::kBool)
      return Err(ErrorCode::kBadType, Field(key),
                 "must be true or false, got " + Shown(*v));
    *out = v->boolean;
    return {};
  }

  // The first key not read, with the nearest known ones.
  Status Finish() const {
    for (const auto& [key, value] : v_.members) {
      bool known = false;
      for (const std::string& u : used_) known = known || u == key;
      if (known) continue;
      std::vector<std::string_view> names;
      for (const std::string& u : used_)
        if (std::find(names.begin(), names.end(), std::string_view(u)) ==
            names.end())
          names.push_back(u);
      return Err(
          ErrorCode::kUnknownParam, where_.empty() ? "spec" : where_,
          "unknown key '" + key + "' " + Suggest(key, names, "known keys"));
    }
    return {};
  }

 private:
  const Value& v_;
  std::string where_;
  std::vector<std::string> used_;
};

// The object at `v`, or an error naming `field`.
Status NeedObject(const Value* v, const std::string& field, bool required,
                  const char* example) {
  if (!v) {
    if (!required) return {};
    return Err(ErrorCode::kMissingInput, field,
               std::string("missing (e.g. ") + example + ")");
  }
  if (v->type != Type::kObject)
    return Err(ErrorCode::kBadType, field,
               "must be an object, got " + Shown(*v));
  return {};
}

// ----- registry params -------------------------------------------------------

std::vector<std::string> Choices(const ParamSpec& s) {
  std::vector<std::string> out(1);
  for (const char* c = s.choices; *c; ++c) {
    if (*c == '|') {
      out.emplace_back();
    } else {
      out.back() += *c;
    }
  }
  return out;
}

// Reads the op's params (defaults first) from keys of the same names,
// skipping managed ones and those in `skip`. Enums are given by name,
// booleans as true/false. Ranges are checked later by Prepare.
Status ReadOpParams(Obj& obj, const OpInfo& op, double* p,
                    const std::vector<std::string_view>& skip = {}) {
  for (int k = 0; k < op.num_params(); ++k) {
    const ParamSpec& s = op.params[k];
    p[k] = s.def;
    bool skipped = ManagedParam(s.name);
    for (std::string_view n : skip) skipped = skipped || n == s.name;
    if (skipped) continue;
    const Value* v = obj.Take(s.name);
    if (!v) continue;
    const std::string field = obj.Field(s.name);
    if (s.type == ParamType::kEnum) {
      const std::vector<std::string> choices = Choices(s);
      std::string list;
      for (size_t i = 0; i < choices.size(); ++i)
        list += (i ? ", '" : "'") + choices[i] + "'";
      bool found = false;
      for (size_t i = 0; i < choices.size() && v->type == Type::kString; ++i)
        if (choices[i] == v->string) {
          p[k] = static_cast<double>(i);
          found = true;
        }
      if (!found)
        return Err(v->type == Type::kString ? ErrorCode::kBadParam
                                            : ErrorCode::kBadType,
                   field, "must be one of " + list + ", got " + Shown(*v));
    } else if (s.type == ParamType::kBool) {
      if (v->type != Type::kBool)
        return Err(ErrorCode::kBadType, field,
                   "must be true or false, got " + Shown(*v));
      p[k] = v->boolean ? 1 : 0;
    } else {
      if (v->type != Type::kNumber)
        return Err(ErrorCode::kBadType, field,
                   "must be a number, got " + Shown(*v));
      p[k] = v->number;
    }
  }
  return {};
}

// Managed params given in the spec are mistakes worth a clear word.
Status RefuseManaged(Obj& obj, const OpInfo& op) {
  for (int k = 0; k < op.num_params(); ++k)
    if (ManagedParam(op.params[k].name) && obj.Take(op.params[k].name))
      return Err(ErrorCode::kBadParam, obj.Field(op.params[k].name),
                 std::string("is set by the model (") +
                     (std::string_view(op.params[k].name) == "seed"
                          ? "derived from the spec's seed"
                          : "train or eval mode") +
                     "); remove it");
  return {};
}

// Placeholder tensors for a validating Prepare: zero-filled floats that
// outlive the call.
struct Placeholders {
  std::vector<std::vector<float>> data;
  std::vector<NamedTensor> named;
  void Add(const char* name, Shape shape, float fill = 0) {
    data.emplace_back(shape.numel(), fill);
    named.push_back({name, {data.back().data(), shape}});
  }
  Placeholders() { data.reserve(kMaxInputs); }
};

// Runs the registry's validation of `op` with params p on these inputs; a
// failure is reported at `where`, on the field the registry names.
Status Validate(const OpInfo& op, const double* p, const Placeholders& in,
                const std::string& where, Call* out = nullptr) {
  NamedParam params[kMaxParams];
  for (int k = 0; k < op.num_params(); ++k)
    params[k] = {op.params[k].name, p[k]};
  Call call;
  const Status s =
      Prepare(op.id, in.named, std::span(params, op.num_params()), &call);
  if (out) *out = call;
  if (s.ok()) return s;
  const bool on_param = op.ParamIndex(s.what()) >= 0;
  const std::string field =
      on_param && !ManagedParam(s.what()) ? Join(where, s.what()) : where;
  return Err(s.code(), field, s.message());
}

// Validate on inputs built for 2 and for 3 rows (`inputs(rows, &in)`; 2:
// batch_norm trains on no fewer), and the op's scratch sizes from the two.
template <class Inputs>
Status Measure(const OpInfo& op, const double* p, Inputs inputs,
               const std::string& where, OpSizes* sizes) {
  Call call[2];
  for (int r = 0; r < 2; ++r) {
    Placeholders in;
    inputs(r + 2, &in);
    if (Status s = Validate(op, p, in, where, &call[r]); !s.ok()) return s;
  }
  sizes->ws_row = call[1].workspace - call[0].workspace;
  sizes->ws_fixed = call[0].workspace - 2 * sizes->ws_row;
  for (int k = 0; k < op.num_aux(); ++k) {
    const int64_t two = call[0].aux[k].numel(), three = call[1].aux[k].numel();
    sizes->aux_row[k] = three - two;
    sizes->aux_fixed[k] = two - 2 * sizes->aux_row[k];
  }
  return {};
}

void WriteOpParams(std::string* out, const OpInfo& op, const double* p,
                   const std::vector<std::string_view>& skip = {}) {
  for (int k = 0; k < op.num_params(); ++k) {
    const ParamSpec& s = op.params[k];
    bool skipped = ManagedParam(s.name);
    for (std::string_view n : skip) skipped = skipped || n == s.name;
    if (skipped) continue;
    *out += ",";
    json::AppendString(out, s.name);
    *out += ":";
    if (s.type == ParamType::kEnum) {
      json::AppendString(out, Choices(s)[static_cast<size_t>(p[k])]);
    } else if (s.type == ParamType::kBool) {
      *out += p[k] != 0 ? "true" : "false";
    } else {
      json::AppendNumber(out, p[k]);
    }
  }
}

// An op looked up by id among those `allowed` accepts (`noun` names that
// kind, `which` says which ops it takes); the error lists the nearest ids.
template <class Allowed>
Status FindAllowed(const Value* v, const std::string& field, const char* noun,
                   const char* which, Allowed allowed, const OpInfo** out) {
  if (!v)
    return Err(ErrorCode::kMissingInput, field,
               std::string("missing (the id of ") + which + ")");
  if (v->type != Type::kString)
    return Err(ErrorCode::kBadType, field,
               std::string("must be a string (the id of ") + which + "), got " +
                   Shown(*v));
  const OpInfo* op = FindOp(v->string);
  if (op && allowed(*op)) {
    *out = op;
    return {};
  }
  std::vector<std::string_view> ids;
  for (const OpInfo& o : Ops())
    if (allowed(o)) ids.push_back(o.id);
  if (op)
    return Err(ErrorCode::kUnknownOp, field,
               "'" + v->string + "' (" + FamilyName(op->family) + ") is not " +
                   which + " " + Suggest(v->string, ids, "known"));
  return Err(ErrorCode::kUnknownOp, field,
             "unknown " + std::string(noun) + " '" + v->string + "' " +
                 Suggest(v->string, ids, "known"));
}

// ----- layers ----------------------------------------------------------------

bool IsActivationOp(const OpInfo& o) {
  return o.kind == Kind::kOp &&
         (o.form == Form::Elementwise || o.form == Form::Rowwise ||
          std::string_view(o.id) == "prelu");
}
bool IsInitOp(const OpInfo& o) {
  return o.kind == Kind::kInit && std::string_view(o.id) != "calculate_gain";
}

// What every layer's parse may need of the model: the layer count (limit)
// and the sequence input.
struct Counter {
  int layers = 0;
  const ModelSpec* model = nullptr;
};

Status ParseLayers(const Value* list, const std::string& where,
                   const std::string& path, int64_t width, int depth,
                   Counter* count, std::vector<LayerSpec>* out);

// The registry params of kaiming_normal that draw N(0, 1 / fan_in): the
// "normal" init scales them to its std.
void NormalDraws(InitSpec* init) {
  const OpInfo& op = Op(OpId::kaiming_normal);
  init->op = &op;
  for (int k = 0; k < op.num_params(); ++k) init->p[k] = op.params[k].def;
  init->p[DLMATH_PARAM(kaiming_normal, a)] = 0;
  init->p[DLMATH_PARAM(kaiming_normal, mode)] = 0;          // fan_in
  init->p[DLMATH_PARAM(kaiming_normal, nonlinearity)] = 4;  // linear: gain 1
}

// An initializer at o[key] for a [rows, cols] weight: "default" (def is
// kept), "zeros", "normal" or {"id": "normal", "std": s}, a registry
// initializer id or {"id": ..., its params}; the registry checks it on that
// shape.
Status ParseInit(Obj& o, const char* key, int64_t rows, int64_t cols,
                 const InitSpec& def, InitSpec* out) {
  *out = def;
  const Value* init = o.Take(key);
  if (!init) return {};
  if (init->type != Type::kString && init->type != Type::kObject)
    return Err(ErrorCode::kBadType, o.Field(key),
               "must be an initializer id or {\"id\": ..., params}, got " +
                   Shown(*init));
  const bool object = init->type == Type::kObject;
  const Value* id = object ? init->Find("id") : init;
  const std::string field = o.Field(object ? std::string(key) + ".id" : key);
  if (object && !id)
    return Err(ErrorCode::kMissingInput, field,
               "missing (an initializer id, 'default', 'normal' or 'zeros')");
  const bool named = id->type == Type::kString;
  if (named && id->string == "zeros") {
    *out = InitSpec{nullptr, false, {}};
  } else if (named && id->string == "normal") {
    *out = InitSpec{nullptr, false, {}, 1.0};
    NormalDraws(out);
  } else if (!(named && id->string == "default")) {
    auto allowed = [](const OpInfo& op) { return IsInitOp(op); };
    const OpInfo* op = nullptr;
    if (Status s = FindAllowed(id, field, "initializer",
                               "an initializer, 'default', 'normal' or 'zeros'",
                               allowed, &op);
        !s.ok())
      return s;
    *out = InitSpec{op, false, {}};
    for (int k = 0; k < op->num_params(); ++k) out->p[k] = op->params[k].def;
  }
  if (object) {
    Obj io(*init, o.Field(key));
    io.Take("id");
    if (out->normal_std > 0) {
      if (Status s = io.Number("std", 0, true, 1, &out->normal_std); !s.ok())
        return s;
      if (!std::isfinite(out->normal_std))
        return Err(ErrorCode::kBadParam, io.Field("std"), "must be finite");
    } else if (out->op && !out->is_default) {
      if (Status s = RefuseManaged(io, *out->op); !s.ok()) return s;
      if (Status s = ReadOpParams(io, *out->op, out->p); !s.ok()) return s;
    }
    if (Status s = io.Finish(); !s.ok()) return s;
  }
  if (out->op && !out->is_default) {
    Placeholders in;
    in.data.push_back({static_cast<float>(rows), static_cast<float>(cols)});
    in.named.push_back({"shape", {in.data.back().data(), Shape{2}}});
    if (Status s = Validate(*out->op, out->p, in, o.Field(key)); !s.ok())
      return s;
  }
  return {};
}

// nn.Linear's weight init: kaiming_uniform with a = sqrt(5).
InitSpec LinearDefault() {
  const OpInfo& def = Op(OpId::kaiming_uniform);
  InitSpec init{&def, true, {}};
  for (int k = 0; k < def.num_params(); ++k) init.p[k] = def.params[k].def;
  init.p[DLMATH_PARAM(kaiming_uniform, a)] = std::sqrt(5.0);
  return init;
}

// nn.Embedding's: N(0, 1).
InitSpec EmbeddingDefault() {
  InitSpec init{nullptr, true, {}, 1.0};
  NormalDraws(&init);
  return init;
}

// An integer width key, required, in [1, kMaxUnits].
Status Units(Obj& o, const char* key, const char* what, int64_t* out) {
  if (!o.Take(key))
    return Err(ErrorCode::kMissingInput, o.Field(key),
               std::string("missing (") + what + ")");
  return o.Int(key, 1, kMaxUnits, 0, out);
}

// A [rows, cols] weight must fit the model's parameter limit.
Status WeightFits(Obj& o, const char* key, int64_t rows, int64_t cols) {
  if (rows * cols <= kMaxModelParams) return {};
  return Err(ErrorCode::kTooLarge, o.Field(key),
             "a " + std::to_string(rows) + " x " + std::to_string(cols) +
                 " weight has " + std::to_string(rows * cols) +
                 " parameters, above the model's limit of " +
                 std::to_string(kMaxModelParams));
}

// A linear layer's keys after its width: bias, init, bias_init.
Status ParseLinearInit(Obj& o, LayerSpec* l) {
  if (Status s = o.Bool("bias", true, &l->bias); !s.ok()) return s;
  if (Status s = ParseInit(o, "init", l->out_width, l->in_width,
                           LinearDefault(), &l->init);
      !s.ok())
    return s;
  const Value* bi = o.Take("bias_init");
  if (bi) {
    if (bi->type != Type::kString ||
        (bi->string != "default" && bi->string != "zeros"))
      return Err(ErrorCode::kBadParam, o.Field("bias_init"),
                 "must be 'default' (U(-1/sqrt(in), 1/sqrt(in)), PyTorch's) "
                 "or 'zeros', got " +
                     Shown(*bi));
    l->bias_zeros = bi->string == "zeros";
  }
  return {};
}

Status ParseLinear(Obj& o, const Counter& count, LayerSpec* l) {
  if (!o.Take("units"))
    return Err(ErrorCode::kMissingInput, o.Field("units"),
               "missing (a linear layer needs its number of output units)");
  if (Status s = o.Int("units", 1, kMaxUnits, 0, &l->out_width); !s.ok())
    return s;
  if (Status s = WeightFits(o, "units", l->out_width, l->in_width); !s.ok())
    return s;
  if (Status s = o.Bool("tie", false, &l->tie); !s.ok()) return s;
  if (l->tie) {
    const ModelSpec& m = *count.model;
    const LayerSpec* e = m.layers.empty() ? nullptr : &m.layers[0];
    if (!e || e->type != LayerType::kEmbedding)
      return Err(ErrorCode::kBadParam, o.Field("tie"),
                 "shares the weight of the token embedding, the first layer "
                 "of a sequence model; this model has none");
    if (l->out_width != e->vocab || l->in_width != e->out_width)
      return Err(ErrorCode::kBadShape, o.Field("tie"),
                 "the embedding's weight is [" + std::to_string(e->vocab) +
                     ", " + std::to_string(e->out_width) +
                     "], so a tied layer maps " + std::to_string(e->out_width) +
                     " inputs to " + std::to_string(e->vocab) +
                     " units; this one maps " + std::to_string(l->in_width) +
                     " to " + std::to_string(l->out_width));
    if (o.Take("init"))
      return Err(ErrorCode::kBadParam, o.Field("init"),
                 "a tied layer's weight is the embedding's: set its init "
                 "there");
  }
  return ParseLinearInit(o, l);
}

Status ParseActivation(Obj& o, LayerSpec* l) {
  const Value* id = o.Take("id");
  const Value* formula = o.Take("formula");
  l->out_width = l->in_width;
  if (id && formula)
    return Err(ErrorCode::kBadParam, o.where(),
               "give either 'id' or 'formula', not both");
  if (formula) {
    if (formula->type != Type::kString)
      return Err(ErrorCode::kBadType, o.Field("formula"),
                 "must be a string, got " + Shown(*formula));
    Formula f;
    if (Status s = Formula::Compile(formula->string, &f); !s.ok())
      return Err(ErrorCode::kBadFormula, o.Field("formula"), s.message());
    l->formula = formula->string;
    for (const std::string& name : f.params()) {
      const Value* v = o.Take(name);
      if (!v)
        return Err(
            ErrorCode::kMissingInput, o.Field(name),
            "missing: the formula's parameter '" + name + "' needs a value");
      if (v->type != Type::kNumber)
        return Err(ErrorCode::kBadType, o.Field(name),
                   "must be a number, got " + Shown(*v));
      l->formula_params.emplace_back(name, v->number);
    }
    // The registry ops inside are checked with these values now.
    std::vector<NamedParam> named;
    for (const auto& [n, v] : l->formula_params) named.push_back({n, v});
    std::vector<double> values;
    const float x = 0;
    float y;
    if (Status s = f.BindParams(named, &values); !s.ok())
      return Err(s.code(), o.Field("formula"), s.message());
    if (Status s = f.Eval(&x, 1, values, &y, nullptr); !s.ok())
      return Err(s.code(), o.Field("formula"), s.message());
    return {};
  }
  auto allowed = [](const OpInfo& op) { return IsActivationOp(op); };
  if (Status s = FindAllowed(id, o.Field("id"), "activation",
                             "an activation (an element-wise or row-wise op, "
                             "or prelu)",
                             allowed, &l->op);
      !s.ok())
    return s;
  const OpInfo& op = *l->op;
  if (Status s = RefuseManaged(o, op); !s.ok()) return s;
  if (Status s = ReadOpParams(o, op, l->p); !s.ok()) return s;
  const bool prelu = std::string_view(op.id) == "prelu";
  if (prelu) {
    if (Status s = o.Int("num_parameters", 1, kMaxUnits, 1, &l->prelu_count);
        !s.ok())
      return s;
    if (l->prelu_count != 1 && l->prelu_count != l->in_width)
      return Err(ErrorCode::kBadShape, o.Field("num_parameters"),
                 "must be 1 (one shared slope) or the width " +
                     std::to_string(l->in_width) + " (one per unit), got " +
                     std::to_string(l->prelu_count));
    const Value* init = o.Take("init");
    if (init && init->type != Type::kNumber)
      return Err(ErrorCode::kBadType, o.Field("init"),
                 "must be a number (the starting slope), got " + Shown(*init));
    if (init) l->prelu_init = init->number;
  }
  auto inputs = [&](int64_t rows, Placeholders* in) {
    in->Add(op.inputs[0].name, Shape{rows, l->in_width});
    if (prelu) in->Add("weight", Shape{l->prelu_count});
  };
  if (Status s = Measure(op, l->p, inputs, o.where(), &l->sizes); !s.ok())
    return s;
  if (op.form == Form::Rowwise && op.row_out == RowOut::kDrop) l->out_width = 1;
  if (op.form == Form::Rowwise && op.row_out == RowOut::kHalf)
    l->out_width = l->in_width / 2;
  return {};
}

// dropout and the norms: a registry General op on [rows, width] with
// optional affine weight and bias.
Status ParseOpLayer(Obj& o, const char* id, LayerSpec* l) {
  l->op = FindOp(id);
  l->out_width = l->in_width;
  const OpInfo& op = *l->op;
  if (Status s = RefuseManaged(o, op); !s.ok()) return s;
  if (Status s = ReadOpParams(o, op, l->p); !s.ok()) return s;
  const bool has_affine = op.InputIndex("weight") >= 0;
  if (has_affine)
    if (Status s = o.Bool("affine", true, &l->affine); !s.ok()) return s;
  auto inputs = [&](int64_t rows, Placeholders* in) {
    in->Add(op.inputs[0].name, Shape{rows, l->in_width});
    if (has_affine && l->affine) {
      in->Add("weight", Shape{l->in_width}, 1);
      if (op.InputIndex("bias") >= 0) in->Add("bias", Shape{l->in_width});
    }
    if (op.InputIndex("running_var") >= 0) {
      in->Add("running_mean", Shape{l->in_width});
      in->Add("running_var", Shape{l->in_width}, 1);
    }
  };
  return Measure(op, l->p, inputs, o.where(), &l->sizes);
}

// ----- sequence layers ------------------------------------------------------

Status ParseEmbedding(Obj& o, const ModelSpec& m, LayerSpec* l) {
  if (Status s =
          Units(o, "dim", "the width of each token's vector", &l->out_width);
      !s.ok())
    return s;
  l->vocab = m.tokens;
  if (Status s = WeightFits(o, "dim", l->vocab, l->out_width); !s.ok())
    return s;
  return ParseInit(o, "init", l->vocab, l->out_width, EmbeddingDefault(),
                   &l->init);
}

Status ParsePositional(Obj& o, LayerSpec* l) {
  l->out_width = l->in_width;
  const Value* kind = o.Take("kind");
  if (kind && !(kind->type == Type::kString &&
                (kind->string == "learned" || kind->string == "sinusoidal")))
    return Err(kind->type == Type::kString ? ErrorCode::kBadParam
                                           : ErrorCode::kBadType,
               o.Field("kind"),
               "must be 'learned' (a trained [T, C] table) or 'sinusoidal' "
               "(the fixed table), got " +
                   Shown(*kind));
  l->sinusoidal = kind && kind->string == "sinusoidal";
  if (!l->sinusoidal)
    return ParseInit(o, "init", l->block, l->in_width, EmbeddingDefault(),
                     &l->init);
  l->op = &Op(OpId::sinusoidal);
  if (Status s = ReadOpParams(o, *l->op, l->p); !s.ok()) return s;
  Placeholders in;
  in.Add("shape", Shape{2});
  in.data.back() = {static_cast<float>(l->block),
                    static_cast<float>(l->in_width)};
  in.named.back().tensor.data = in.data.back().data();
  return Validate(*l->op, l->p, in, o.where());
}

Status ParseAttention(Obj& o, const ModelSpec& m, LayerSpec* l) {
  const int64_t c = l->in_width;
  l->out_width = c;
  if (Status s = Units(o, "heads", "how many heads share the width", &l->heads);
      !s.ok())
    return s;
  if (c % l->heads != 0)
    return Err(ErrorCode::kBadParam, o.Field("heads"),
               std::to_string(l->heads) + " heads must divide the width " +
                   std::to_string(c));
  if (Status s = WeightFits(o, "heads", 4 * c, c); !s.ok()) return s;
  if (Status s = o.Bool("causal", true, &l->causal); !s.ok()) return s;
  if (Status s = o.Bool("bias", true, &l->bias); !s.ok()) return s;
  if (Status s = o.Bool("key_padding", m.pad >= 0, &l->key_padding); !s.ok())
    return s;
  if (l->key_padding && m.pad < 0)
    return Err(ErrorCode::kBadParam, o.Field("key_padding"),
               "hides the keys of pad tokens, but the input has no pad token "
               "(input.pad)");
  // The default is PyTorch's (xavier_uniform in_proj, nn.Linear's
  // out_proj); an init given applies to both weights.
  InitSpec def = LinearDefault();
  return ParseInit(o, "init", 3 * c, c, def, &l->init);
}

Status ParseSwiglu(Obj& o, LayerSpec* l) {
  if (Status s =
          Units(o, "units", "the hidden width of the gate", &l->out_width);
      !s.ok())
    return s;
  if (Status s = WeightFits(o, "units", 2 * l->in_width, l->out_width); !s.ok())
    return s;
  l->op = &Op(OpId::swiglu);
  for (int k = 0; k < l->op->num_params(); ++k) l->p[k] = l->op->params[k].def;
  auto inputs = [&](int64_t rows, Placeholders* in) {
    in->Add("x", Shape{rows, l->in_width});
    in->Add("W", Shape{l->in_width, l->out_width});
    in->Add("V", Shape{l->in_width, l->out_width});
  };
  if (Status s = Measure(*l->op, l->p, inputs, o.where(), &l->sizes); !s.ok())
    return s;
  // [in, units] weights whose draws follow fan_in = in: the initializer
  // runs on [units, in] (the same count of independent draws).
  return ParseInit(o, "init", l->out_width, l->in_width, LinearDefault(),
                   &l->init);
}

Status ParseLayer(const Value& v, const std::string& where,
                  const std::string& path, int64_t width, int depth,
                  Counter* count, LayerSpec* l) {
  if (v.type != Type::kObject)
    return Err(ErrorCode::kBadType, where,
               "must be an object such as {\"type\": \"linear\", \"units\": "
               "8}, got " +
                   Shown(v));
  if (++count->layers > kMaxLayers)
    return Err(ErrorCode::kTooLarge, where,
               "the model has more than " + std::to_string(kMaxLayers) +
                   " layers (nested ones included)");
  Obj o(v, where);
  l->where = where;
  l->path = path;
  l->in_width = width;
  const ModelSpec& m = *count->model;
  l->block = m.block;
  const Value* type = o.Take("type");
  // The types this model takes: sequence layers only with a token input.
  const bool seq = m.sequence();
  std::vector<std::string_view> types(
      std::begin(kLayerTypes),
      seq ? std::end(kLayerTypes) : std::begin(kLayerTypes) + kPlainTypes);
  if (!type) {
    std::string list;
    for (std::string_view t : types)
      list += (list.empty() ? "" : ", ") + std::string(t);
    return Err(ErrorCode::kMissingInput, o.Field("type"),
               "missing (one of " + list + ")");
  }
  if (type->type != Type::kString)
    return Err(ErrorCode::kBadType, o.Field("type"),
               "must be a string, got " + Shown(*type));
  int t = -1;
  for (size_t i = 0; i < std::size(kLayerTypes); ++i)
    if (type->string == kLayerTypes[i]) t = static_cast<int>(i);
  if (t >= kPlainTypes && !seq)
    return Err(ErrorCode::kBadParam, o.Field("type"),
               "'" + type->string +
                   "' layers work on sequences of tokens: give the input as "
                   "{\"tokens\": V, \"block\": T}");
  if (t < 0)
    return Err(ErrorCode::kUnknownOp, o.Field("type"),
               "unknown layer type '" + type->string + "' " +
                   Suggest(type->string, types, "known"));
  l->type = static_cast<LayerType>(t);
  const bool first = count->layers == 1;
  if (seq && first != (l->type == LayerType::kEmbedding))
    return Err(ErrorCode::kBadParam, first ? o.Field("type") : where,
               first ? "a sequence model starts with its token embedding "
                       "({\"type\": \"embedding\", \"dim\": C}), got '" +
                           type->string + "'"
                     : "the token embedding can only be the first layer");
  Status s;
  switch (l->type) {
    case LayerType::kLinear:
      s = ParseLinear(o, *count, l);
      break;
    case LayerType::kEmbedding:
      s = ParseEmbedding(o, m, l);
      break;
    case LayerType::kPositional:
      s = ParsePositional(o, l);
      break;
    case LayerType::kAttention:
      s = ParseAttention(o, m, l);
      break;
    case LayerType::kSwiglu:
      s = ParseSwiglu(o, l);
      break;
    case LayerType::kActivation:
      s = ParseActivation(o, l);
      break;
    case LayerType::kResidual: {
      if (depth + 1 > kMaxDepth)
        return Err(ErrorCode::kTooLarge, where,
                   "residual blocks nest deeper than " +
                       std::to_string(kMaxDepth) + " levels");
      s = ParseLayers(o.Take("layers"), o.Field("layers"), path + ".layers",
                      width, depth + 1, count, &l->layers);
      if (!s.ok()) return s;
      l->out_width = l->layers.back().out_width;
      if (l->out_width != width)
        return Err(ErrorCode::kBadShape, where,
                   "a residual block must keep the width: its layers map " +
                       std::to_string(width) + " to " +
                       std::to_string(l->out_width));
      break;
    }
    default:
      s = ParseOpLayer(o, kLayerTypes[t], l);
      break;
  }
  if (!s.ok()) return s;
  return o.Finish();
}

Status ParseLayers(const Value* list, const std::string& where,
                   const std::string& path, int64_t width, int depth,
                   Counter* count, std::vector<LayerSpec>* out) {
  if (!list)
    return Err(ErrorCode::kMissingInput, where,
               "missing (a list of layers, e.g. [{\"type\": \"linear\", "
               "\"units\": 1}])");
  if (list->type != Type::kArray || list->items.empty())
    return Err(
        list->type == Type::kArray ? ErrorCode::kBadShape : ErrorCode::kBadType,
        where,
        "must be a non-empty list of layers, got " +
            (list->type == Type::kArray ? std::string("an empty list")
                                        : Shown(*list)));
  out->resize(list->items.size());
  for (size_t i = 0; i < list->items.size(); ++i) {
    LayerSpec& l = (*out)[i];
    if (Status s =
            ParseLayer(list->items[i], where + "[" + std::to_string(i) + "]",
                       path + "." + std::to_string(i), width, depth, count, &l);
        !s.ok())
      return s;
    width = l.out_width;
  }
  return {};
}

// ----- loss, optimizer, schedule ---------------------------------------------

bool IsTrainingLoss(const OpInfo& o) {
  if (o.family != Family::losses || o.kind != Kind::kOp ||
      o.form != Form::General || o.num_inputs() < 2)
    return false;
  if (std::string_view(o.inputs[0].name) != "input" ||
      std::string_view(o.inputs[1].name) != "target" ||
      o.ParamIndex("reduction") < 0)
    return false;
  for (int k = 2; k < o.num_inputs(); ++k)
    if (!o.inputs[k].optional) return false;
  return true;
}

// The optional input given as a per-class vector: rank exactly 1.
bool IsClassVector(const InputSpec& in) {
  return in.optional && in.max_rank == 1;
}

Status ParseLoss(const Value* v, int64_t outputs, ModelSpec* m) {
  if (Status s = NeedObject(v, "loss", true, "{\"id\": \"mse\"}"); !s.ok())
    return s;
  Obj o(*v, "loss");
  if (Status s =
          FindAllowed(o.Take("id"), "loss.id", "loss",
                      "a loss of (input, target)", IsTrainingLoss, &m->loss);
      !s.ok())
    return s;
  const OpInfo& op = *m->loss;
  m->class_targets =
      op.inputs[1].integer || op.id == std::string_view("cross_entropy");
  const int red = op.ParamIndex("reduction");
  if (Status s = ReadOpParams(o, op, m->loss_p); !s.ok()) return s;
  const Value* r = v->Find("reduction");
  if (!r) m->loss_p[red] = 0;  // 'mean', also for focal (default 'none')
  if (m->loss_p[red] > 1)
    return Err(ErrorCode::kBadParam, "loss.reduction",
               "must be 'mean' or 'sum' (a step minimises one number), got " +
                   Shown(*r));
  m->loss_sum = m->loss_p[red] == 1;
  const int ignore = op.ParamIndex("ignore_index");
  m->has_ignore = m->class_targets && ignore >= 0;
  if (m->has_ignore) m->ignore_index = m->loss_p[ignore];
  for (int k = 2; k < op.num_inputs(); ++k) {
    if (!IsClassVector(op.inputs[k])) continue;
    const Value* vec = o.Take(op.inputs[k].name);
    if (!vec) continue;
    const std::string field = o.Field(op.inputs[k].name);
    const std::string want = "must be an array of " + std::to_string(outputs) +
                             " numbers (one per output)";
    if (vec->type != Type::kArray)
      return Err(ErrorCode::kBadType, field, want + ", got " + Shown(*vec));
    if (static_cast<int64_t>(vec->items.size()) != outputs)
      return Err(ErrorCode::kBadShape, field,
                 want + ", got " + std::to_string(vec->items.size()));
    for (size_t i = 0; i < vec->items.size(); ++i) {
      if (vec->items[i].type != Type::kNumber ||
          !std::isfinite(vec->items[i].number))
        return Err(ErrorCode::kBadType, field + "[" + std::to_string(i) + "]",
                   "must be a finite number, got " + Shown(vec->items[i]));
      m->loss_vector.push_back(static_cast<float>(vec->items[i].number));
    }
    m->loss_vector_input = k;
  }
  auto inputs = [&](int64_t rows, Placeholders* in) {
    in->Add("input", Shape{rows, outputs}, 0.5f);
    if (m->class_targets) {
      in->Add("target", Shape{rows});
    } else {
      in->Add("target", Shape{rows, outputs}, 1);
    }
    if (m->loss_vector_input >= 0)
      in->named.push_back({op.inputs[m->loss_vector_input].name,
                           {m->loss_vector.data(), Shape{outputs}}});
  };
  if (Status s = Measure(op, m->loss_p, inputs, "loss", &m->loss_sizes);
      !s.ok())
    return s;
  return o.Finish();
}

Status ParseOptimizer(const Value* v, ModelSpec* m) {
  if (Status s =
          NeedObject(v, "optimizer", true, "{\"id\": \"adam\", \"lr\": 0.001}");
      !s.ok())
    return s;
  Obj o(*v, "optimizer");
  auto allowed = [](const OpInfo& op) { return op.kind == Kind::kOptimizer; };
  if (Status s = FindAllowed(o.Take("id"), "optimizer.id", "optimizer",
                             "an optimizer", allowed, &m->optimizer);
      !s.ok())
    return s;
  if (Status s = ReadOpParams(o, *m->optimizer, m->opt_p); !s.ok()) return s;
  const Value* decay = o.Take("decay");
  if (decay && !(decay->type == Type::kString &&
                 (decay->string == "all" || decay->string == "matrices")))
    return Err(decay->type == Type::kString ? ErrorCode::kBadParam
                                            : ErrorCode::kBadType,
               "optimizer.decay",
               "must be 'all' (every parameter) or 'matrices' (parameters of "
               "rank >= 2 only), got " +
                   Shown(*decay));
  m->decay_matrices = decay && decay->string == "matrices";
  Placeholders in;
  in.Add("params", Shape{1});
  in.Add("grads", Shape{1, 1});
  if (Status s = Validate(*m->optimizer, m->opt_p, in, "optimizer"); !s.ok())
    return s;
  return o.Finish();
}

// The generic aliases of each schedule: which own param `steps` and
// `warmup` stand for (null: `steps` is refused, `warmup` is the generic
// linear warmup).
struct Aliases {
  const char* id;
  const char* steps;
  const char* warmup;
};
constexpr Aliases kAliases[] = {
    {"cosine_annealing_lr", "t_max", nullptr},
    {"warmup_cosine", "total_steps", "warmup_steps"},
    {"one_cycle_lr", "total_steps", nullptr},
    {"linear_lr", "total_iters", nullptr},
    {"cosine_annealing_warm_restarts", "t_0", nullptr},
    {"noam", nullptr, "warmup_steps"},
};
Aliases AliasesOf(const OpInfo& op) {
  for (const Aliases& a : kAliases)
    if (op.id == std::string_view(a.id)) return a;
  return {op.id, nullptr, nullptr};
}

// The schedule's base lr param (taken from the optimizer), if it has one.
const char* BaseLrParam(const OpInfo& op) {
  if (op.ParamIndex("lr") >= 0) return "lr";
  if (op.ParamIndex("max_lr") >= 0) return "max_lr";
  return nullptr;
}

Status ParseSchedule(const Value* v, ModelSpec* m) {
  if (!v || v->type == Type::kNull) return {};
  if (Status s = NeedObject(v, "schedule", false, ""); !s.ok()) return s;
  Obj o(*v, "schedule");
  auto allowed = [](const OpInfo& op) { return op.kind == Kind::kSchedule; };
  if (Status s = FindAllowed(o.Take("id"), "schedule.id", "schedule",
                             "a schedule", allowed, &m->schedule);
      !s.ok())
    return s;
  const OpInfo& op = *m->schedule;
  const Aliases al = AliasesOf(op);
  const char* base = BaseLrParam(op);
  if (base && o.Take(base))
    return Err(ErrorCode::kBadParam, o.Field(base),
               "the schedule's base learning rate is optimizer.lr; set it "
               "there");
  std::vector<std::string_view> skip = {"steps"};
  if (base) skip.push_back(base);
  if (Status s = ReadOpParams(o, op, m->sched_p, skip); !s.ok()) return s;
  int64_t steps = 0, warmup = 0;
  const bool has_steps = v->Find("steps") != nullptr;
  if (Status s = o.Int("steps", 1, 10000000, 0, &steps); !s.ok()) return s;
  if (Status s = o.Int("warmup", 0, 10000000, 0, &warmup); !s.ok()) return s;
  if (has_steps) {
    if (!al.steps) {
      std::string own;
      for (int k = 0; k < op.num_params(); ++k) {
        const std::string_view n = op.params[k].name;
        if (n == "steps" || (base && n == base)) continue;
        own += (own.empty() ? "" : ", ") + std::string(n);
      }
      return Err(
          ErrorCode::kBadParam, "schedule.steps",
          std::string(op.id) + " has no length (its params: " + own + ")");
    }
    if (v->Find(al.steps))
      return Err(
          ErrorCode::kBadParam, "schedule.steps",
          std::string("give either steps or ") + al.steps + ", not both");
    m->sched_p[op.ParamIndex(al.steps)] = static_cast<double>(steps);
  }
  if (al.warmup && v->Find("warmup")) {
    if (v->Find(al.warmup))
      return Err(
          ErrorCode::kBadParam, "schedule.warmup",
          std::string("give either warmup or ") + al.warmup + ", not both");
    m->sched_p[op.ParamIndex(al.warmup)] = static_cast<double>(warmup);
  } else {
    m->warmup = warmup;
  }
  // Validate with the replay's length 1 and the optimizer's lr as base.
  double p[kMaxParams];
  std::copy(m->sched_p, m->sched_p + kMaxParams, p);
  p[op.ParamIndex("steps")] = 1;
  if (base) p[op.ParamIndex(base)] = m->opt_p[m->optimizer->ParamIndex("lr")];
  if (Status s = Validate(op, p, Placeholders{}, "schedule"); !s.ok()) return s;
  return o.Finish();
}

Status ParseClip(const Value* v, ModelSpec* m) {
  if (!v || v->type == Type::kNull) return {};
  if (Status s = NeedObject(v, "clip", false, ""); !s.ok()) return s;
  Obj o(*v, "clip");
  const bool norm = v->Find("norm"), value = v->Find("value");
  if (norm && value)
    return Err(ErrorCode::kBadParam, "clip",
               "give 'norm' (total L2 norm) or 'value' (each element), not "
               "both");
  if (!norm && !value) {
    o.Take("norm");
    o.Take("value");
    if (Status s = o.Finish(); !s.ok()) return s;
    return Err(ErrorCode::kMissingInput, "clip",
               "give 'norm' (total L2 norm) or 'value' (each element)");
  }
  m->clip = norm ? Clip::kNorm : Clip::kValue;
  if (Status s = o.Number(norm ? "norm" : "value", 0, true, 0, &m->clip_value);
      !s.ok())
    return s;
  if (!std::isfinite(m->clip_value))
    return Err(ErrorCode::kBadParam, o.Field(norm ? "norm" : "value"),
               "must be finite");
  return o.Finish();
}

Status ParseSequenceInput(const Value& v, ModelSpec* m) {
  Obj o(v, "input");
  if (!v.Find("tokens") || !v.Find("block")) {
    const char* key = v.Find("tokens") ? "block" : "tokens";
    return Err(ErrorCode::kMissingInput, o.Field(key),
               std::string("missing (a sequence input is {\"tokens\": V, "
                           "\"block\": T}: the vocabulary and the positions "
                           "per sequence)"));
  }
  if (Status s = o.Int("tokens", 2, kMaxUnits, 0, &m->tokens); !s.ok())
    return s;
  if (Status s = o.Int("block", 1, 4096, 0, &m->block); !s.ok()) return s;
  if (Status s = o.Int("pad", -1, m->tokens - 1, -1, &m->pad); !s.ok())
    return s;
  if (Status s = o.Bool("pack", true, &m->pack); !s.ok()) return s;
  m->input = m->block;
  return o.Finish();
}

// The classifier head: a linear layer of `classes` units on the input of
// the last layer (the hidden width), beside lm_weight.
Status ParseClassifier(const Value* v, ModelSpec* m) {
  if (!v || v->type == Type::kNull) return {};
  if (Status s = NeedObject(v, "classifier", false, ""); !s.ok()) return s;
  Obj o(*v, "classifier");
  if (!m->sequence() || m->pad < 0)
    return Err(ErrorCode::kBadParam, "classifier",
               "classifies a sequence from its last real position: it needs "
               "a sequence input with a pad token ({\"tokens\": V, "
               "\"block\": T, \"pad\": id})");
  LayerSpec& l = m->classifier;
  l.type = LayerType::kLinear;
  l.where = "classifier";
  l.path = "classifier";
  l.in_width = m->layers.back().in_width;
  if (Status s = Units(o, "classes", "how many classes the head tells apart",
                       &l.out_width);
      !s.ok())
    return s;
  if (l.out_width < 2)
    return Err(ErrorCode::kBadParam, o.Field("classes"),
               "must be at least 2, got " + std::to_string(l.out_width));
  if (Status s = WeightFits(o, "classes", l.out_width, l.in_width); !s.ok())
    return s;
  if (Status s = o.Number("lm_weight", 0, false, 0, &m->lm_weight); !s.ok())
    return s;
  if (!std::isfinite(m->lm_weight))
    return Err(ErrorCode::kBadParam, o.Field("lm_weight"), "must be finite");
  if (Status s = ParseLinearInit(o, &l); !s.ok()) return s;
  if (m->layers.size() < 2)
    return Err(ErrorCode::kBadParam, "classifier",
               "reads the input of the last layer (the hidden state before "
               "the token head): the model needs at least two layers");
  m->has_classifier = true;
  // Its loss is the registry's cross_entropy (mean over the batch).
  const OpInfo& ce = Op(OpId::cross_entropy);
  double* p = m->classifier_loss_p;
  for (int k = 0; k < ce.num_params(); ++k) p[k] = ce.params[k].def;
  auto inputs = [&](int64_t rows, Placeholders* in) {
    in->Add("input", Shape{rows, l.out_width});
    in->Add("target", Shape{rows});
  };
  if (Status s =
          Measure(ce, p, inputs, "classifier", &m->classifier_loss_sizes);
      !s.ok())
    return s;
  return o.Finish();
}

}  // namespace

Status ParseSpec(std::string_view text, ModelSpec* out) {
  if (static_cast<int64_t>(text.size()) > kMaxSpecBytes)
    return Err(ErrorCode::kTooLarge, "spec",
               "the text is " + std::to_string(text.size()) +
                   " bytes, above the limit of " +
                   std::to_string(kMaxSpecBytes));
  Value root;
  if (Status s = json::Parse(text, "spec", &root); !s.ok()) return s;
  if (root.type != Type::kObject)
    return Err(ErrorCode::kBadType, "spec",
               "must be an object such as {\"input\": 2, \"layers\": [...], "
               "...}, got " +
                   Shown(root));
  ModelSpec m;
  Obj o(root, "");
  const Value* input = root.Find("input");
  if (!input)
    return Err(ErrorCode::kMissingInput, "input",
               "missing (the number of features per example, or {\"tokens\": "
               "V, \"block\": T} for sequences)");
  if (input->type == Type::kObject) {
    o.Take("input");
    if (Status s = ParseSequenceInput(*input, &m); !s.ok()) return s;
  } else if (Status s = o.Int("input", 1, kMaxUnits, 0, &m.input); !s.ok()) {
    return s;
  }
  Counter count;
  count.model = &m;
  if (Status s = ParseLayers(o.Take("layers"), "layers", "layers",
                             m.row_width(), 0, &count, &m.layers);
      !s.ok())
    return s;
  if (Status s = ParseLoss(o.Take("loss"), m.outputs(), &m); !s.ok()) return s;
  if (m.sequence() && !m.class_targets)
    return Err(ErrorCode::kBadParam, "loss.id",
               "a sequence model predicts the next token: its loss takes class "
               "indices (cross_entropy, nll, multi_margin, focal_multiclass), "
               "got '" +
                   std::string(m.loss->id) + "'");
  if (Status s = ParseClassifier(o.Take("classifier"), &m); !s.ok()) return s;
  if (Status s = ParseOptimizer(o.Take("optimizer"), &m); !s.ok()) return s;
  if (Status s = ParseSchedule(o.Take("schedule"), &m); !s.ok()) return s;
  if (Status s = ParseClip(o.Take("clip"), &m); !s.ok()) return s;
  if (Status s = o.Number("l1", 0, false, 0, &m.l1); !s.ok()) return s;
  if (Status s = o.Number("l2", 0, false, 0, &m.l2); !s.ok()) return s;
  int64_t seed = 0;
  if (Status s = o.Int("seed", 0, 4294967295LL, 0, &seed); !s.ok()) return s;
  m.seed = static_cast<uint32_t>(seed);
  if (Status s = o.Int("max_batch", 0, 1 << 20, 0, &m.max_batch); !s.ok())
    return s;
  if (Status s = o.Finish(); !s.ok()) return s;
  *out = std::move(m);
  return {};
}

// ----- the canonical spec ----------------------------------------------------

namespace {

void Key(std::string* out, const char* key) {
  *out += ",";
  json::AppendString(out, key);
  *out += ":";
}

void WriteLayers(std::string* out, const std::vector<LayerSpec>& layers);

void WriteInit(std::string* out, const InitSpec& init) {
  Key(out, "init");
  if (init.is_default) {
    *out += "\"default\"";
  } else if (init.normal_std > 0) {
    *out += "{\"id\":\"normal\",\"std\":";
    json::AppendNumber(out, init.normal_std);
    *out += "}";
  } else if (!init.op) {
    *out += "\"zeros\"";
  } else {
    *out += "{\"id\":";
    json::AppendString(out, init.op->id);
    WriteOpParams(out, *init.op, init.p);
    *out += "}";
  }
}

void WriteInt(std::string* out, const char* key, int64_t v) {
  Key(out, key);
  json::AppendNumber(out, static_cast<double>(v));
}

void WriteBool(std::string* out, const char* key, bool v) {
  Key(out, key);
  *out += v ? "true" : "false";
}

// A linear layer's keys after its width.
void WriteLinearInit(std::string* out, const LayerSpec& l) {
  WriteBool(out, "bias", l.bias);
  if (!l.tie) WriteInit(out, l.init);
  Key(out, "bias_init");
  *out += l.bias_zeros ? "\"zeros\"" : "\"default\"";
}

void WriteLayer(std::string* out, const LayerSpec& l) {
  *out += "{\"type\":";
  json::AppendString(out, LayerTypeName(l.type));
  switch (l.type) {
    case LayerType::kLinear:
      WriteInt(out, "units", l.out_width);
      if (l.tie) WriteBool(out, "tie", true);
      WriteLinearInit(out, l);
      break;
    case LayerType::kEmbedding:
      WriteInt(out, "dim", l.out_width);
      WriteInit(out, l.init);
      break;
    case LayerType::kPositional:
      Key(out, "kind");
      *out += l.sinusoidal ? "\"sinusoidal\"" : "\"learned\"";
      if (l.sinusoidal) {
        WriteOpParams(out, *l.op, l.p);
      } else {
        WriteInit(out, l.init);
      }
      break;
    case LayerType::kAttention:
      WriteInt(out, "heads", l.heads);
      WriteBool(out, "causal", l.causal);
      WriteBool(out, "bias", l.bias);
      WriteBool(out, "key_padding", l.key_padding);
      WriteInit(out, l.init);
      break;
    case LayerType::kSwiglu:
      WriteInt(out, "units", l.out_width);
      WriteInit(out, l.init);
      break;
    case LayerType::kActivation:
      if (!l.op) {
        Key(out, "formula");
        json::AppendString(out, l.formula);
        for (const auto& [name, value] : l.formula_params) {
          Key(out, name.c_str());
          json::AppendNumber(out, value);
        }
        break;
      }
      Key(out, "id");
      json::AppendString(out, l.op->id);
      WriteOpParams(out, *l.op, l.p);
      if (std::string_view(l.op->id) == "prelu") {
        Key(out, "num_parameters");
        json::AppendNumber(out, static_cast<double>(l.prelu_count));
        Key(out, "init");
        json::AppendNumber(out, l.prelu_init);
      }
      break;
    case LayerType::kResidual:
      Key(out, "layers");
      WriteLayers(out, l.layers);
      break;
    default:
      WriteOpParams(out, *l.op, l.p);
      if (l.op->InputIndex("weight") >= 0) {
        Key(out, "affine");
        *out += l.affine ? "true" : "false";
      }
      break;
  }
  *out += "}";
}

void WriteLayers(std::string* out, const std::vector<LayerSpec>& layers) {
  *out += "[";
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i) *out += ",";
    WriteLayer(out, layers[i]);
  }
  *out += "]";
}

}  // namespace

std::string WriteSpec(const ModelSpec& m) {
  std::string out = "{\"input\":";
  if (m.sequence()) {
    out += "{\"tokens\":";
    json::AppendNumber(&out, static_cast<double>(m.tokens));
    WriteInt(&out, "block", m.block);
    if (m.pad >= 0) WriteInt(&out, "pad", m.pad);
    if (!m.pack) out += ",\"pack\":false";
    out += "}";
  } else {
    json::AppendNumber(&out, static_cast<double>(m.input));
  }
  Key(&out, "layers");
  WriteLayers(&out, m.layers);
  Key(&out, "loss");
  out += "{\"id\":";
  json::AppendString(&out, m.loss->id);
  WriteOpParams(&out, *m.loss, m.loss_p);
  if (m.loss_vector_input >= 0) {
    Key(&out, m.loss->inputs[m.loss_vector_input].name);
    out += "[";
    for (size_t i = 0; i < m.loss_vector.size(); ++i) {
      if (i) out += ",";
      json::AppendNumber(&out, m.loss_vector[i]);
    }
    out += "]";
  }
  out += "}";
  if (m.has_classifier) {
    Key(&out, "classifier");
    out += "{\"classes\":";
    json::AppendNumber(&out, static_cast<double>(m.classifier.out_width));
    Key(&out, "lm_weight");
    json::AppendNumber(&out, m.lm_weight);
    WriteLinearInit(&out, m.classifier);
    out += "}";
  }
  Key(&out, "optimizer");
  out += "{\"id\":";
  json::AppendString(&out, m.optimizer->id);
  WriteOpParams(&out, *m.optimizer, m.opt_p);
  if (m.decay_matrices) {
    Key(&out, "decay");
    out += "\"matrices\"";
  }
  out += "}";
  Key(&out, "schedule");
  if (!m.schedule) {
    out += "null";
  } else {
    out += "{\"id\":";
    json::AppendString(&out, m.schedule->id);
    std::vector<std::string_view> skip = {"steps"};
    if (const char* base = BaseLrParam(*m.schedule)) skip.push_back(base);
    WriteOpParams(&out, *m.schedule, m.sched_p, skip);
    if (m.warmup > 0) {
      Key(&out, "warmup");
      json::AppendNumber(&out, static_cast<double>(m.warmup));
    }
    out += "}";
  }
  Key(&out, "clip");
  if (m.clip == Clip::kNone) {
    out += "null";
  } else {
    out += m.clip == Clip::kNorm ? "{\"norm\":" : "{\"value\":";
    json::AppendNumber(&out, m.clip_value);
    out += "}";
  }
  Key(&out, "l1");
  json::AppendNumber(&out, m.l1);
  Key(&out, "l2");
  json::AppendNumber(&out, m.l2);
  Key(&out, "seed");
  json::AppendNumber(&out, m.seed);
  Key(&out, "max_batch");
  json::AppendNumber(&out, static_cast<double>(m.max_batch));
  return out + "}";
}

}  // namespace dlmath::model

namespace dlmath {
const char* LayerTypeName(LayerType t) {
  return model::kLayerTypes[static_cast<int>(t)];
}
}  // namespace dlmath
