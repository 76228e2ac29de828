// The registry table, expanded from ops.def, and lookups over it.
#include "dlmath/registry.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "core/ref/activations.h"
#include "core/ref/attention.h"
#include "core/ref/classification.h"
#include "core/ref/distances.h"
#include "core/ref/graph.h"
#include "core/ref/init.h"
#include "core/ref/losses.h"
#include "core/ref/metrics.h"
#include "core/ref/norms.h"
#include "core/ref/numerics.h"
#include "core/ref/optim.h"
#include "core/ref/regression.h"
#include "core/ref/regularization.h"
#include "core/ref/rowwise.h"
#include "core/ref/schedules.h"
#include "core/src/kernels.h"
#include "core/src/registry_table.h"

namespace dlmath {
namespace {

#define DLMATH_IMPL_Elementwise(Name)                                     \
  Impl {                                                                  \
    .ew_fwd = &Name##Forward, .ew_bwd = &Name##Backward,                  \
    .ew_ref_fwd = &ref::Name##Forward, .ew_ref_bwd = &ref::Name##Backward \
  }
#define DLMATH_IMPL_Rowwise(Name)                                           \
  Impl {                                                                    \
    .row_fwd = &Name##Forward, .row_bwd = &Name##Backward,                  \
    .row_ref_fwd = &ref::Name##Forward, .row_ref_bwd = &ref::Name##Backward \
  }
#define DLMATH_IMPL_General(Name)                                   \
  Impl {                                                            \
    .gen_shape = &Name##Shape, .gen_fwd = &Name##Forward,           \
    .gen_bwd = &Name##Backward, .gen_ref_fwd = &ref::Name##Forward, \
    .gen_ref_bwd = &ref::Name##Backward                             \
  }

#define DLMATH_IMPL_NoGrad(Name)                          \
  Impl {                                                  \
    .gen_shape = &Name##Shape, .gen_fwd = &Name##Forward, \
    .gen_ref_fwd = &ref::Name##Forward                    \
  }

// The rows of registry.h (detail::kRows) with their kernels.
constexpr OpInfo WithImpl(OpInfo row, Impl impl) {
  row.impl = impl;
  return row;
}
constexpr OpInfo kRows[] = {
#define DLMATH_OP(id_, Name, family_, form_, ...)      \
  WithImpl(detail::kRows[static_cast<int>(OpId::id_)], \
           DLMATH_IMPL_##form_(Name)),
#include "dlmath/ops.def"
#undef DLMATH_OP
};
static_assert(std::size(kRows) == kNumOps, "ops.def and OpId disagree");
// The table the code reads (in the shipped wasm: no text, no references;
// see registry_table.h).
constexpr auto kOps = RegistryTable(kRows);

// Edit distance, for "did you mean" suggestions.
size_t Levenshtein(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

const char* FamilyName(Family f) {
  static constexpr const char* kNames[] = {
      "activations",    "losses",    "regularization", "normalization",
      "initialization", "distances", "attention",      "optimizers",
      "schedules",      "numerics",  "metrics",        "graph",
      "regression"};
  static_assert(std::size(kNames) ==
                static_cast<size_t>(Family::regression) + 1);
  return kNames[static_cast<int>(f)];
}

const char* KindName(Kind k) {
  static constexpr const char* kNames[] = {"op", "optimizer", "schedule",
                                           "init"};
  static_assert(std::size(kNames) == static_cast<size_t>(Kind::kInit) + 1);
  return kNames[static_cast<int>(k)];
}

const char* FormName(Form f) {
  static constexpr const char* kNames[] = {"elementwise", "rowwise", "general",
                                           "nograd"};
  static_assert(std::size(kNames) == static_cast<size_t>(Form::NoGrad) + 1);
  return kNames[static_cast<int>(f)];
}

const char* RowOutName(RowOut r) {
  static constexpr const char* kNames[] = {"same", "drop", "half"};
  static_assert(std::size(kNames) == static_cast<size_t>(RowOut::kHalf) + 1);
  return kNames[static_cast<int>(r)];
}

const char* ParamTypeName(ParamType t) {
  static constexpr const char* kNames[] = {"real", "int", "bool", "enum"};
  static_assert(std::size(kNames) == static_cast<size_t>(ParamType::kEnum) + 1);
  return kNames[static_cast<int>(t)];
}

int OpInfo::InputIndex(std::string_view name) const {
  for (int i = 0; i < num_inputs(); ++i)
    if (name == inputs[i].name) return i;
  return -1;
}
int OpInfo::ParamIndex(std::string_view name) const {
  for (int i = 0; i < num_params(); ++i)
    if (name == params[i].name) return i;
  return -1;
}
bool OpInfo::differentiable() const {
  if (form == Form::NoGrad) return false;
  for (int i = 0; i < num_inputs(); ++i)
    if (inputs[i].diff) return true;
  for (int i = 0; i < num_params(); ++i)
    if (params[i].learnable) return true;
  return false;
}

std::vector<SampleInput> ParseSample(const char* text) {
  std::vector<SampleInput> out;
  const std::string s(text);
  size_t pos = 0;
  while ((pos = s.find('=', pos)) != std::string::npos) {
    size_t start = s.rfind(' ', pos);
    start = start == std::string::npos ? 0 : start + 1;
    SampleInput in{s.substr(start, pos - start), {}};
    const size_t open = s.find('[', pos), close = s.find(']', open);
    for (size_t a = open + 1; a < close;) {
      size_t b = s.find(',', a);
      if (b == std::string::npos || b > close) b = close;
      if (b > a) in.shape.dim[in.shape.rank++] = std::stoll(s.substr(a, b - a));
      a = b + 1;
    }
    pos = close + 1;
    if (s.compare(pos, 3, "in[") == 0) {
      const size_t comma = s.find(',', pos), end = s.find(']', pos);
      in.lo = std::stod(s.substr(pos + 3, comma - pos - 3));
      in.hi = std::stod(s.substr(comma + 1, end - comma - 1));
      pos = end + 1;
    }
    out.push_back(in);
  }
  return out;
}

std::span<const OpInfo> Ops() { return kOps; }
const OpInfo& Op(OpId id) { return kOps[static_cast<int>(id)]; }

const OpInfo* FindOp(std::string_view id) {
  for (const OpInfo& op : kOps)
    if (id == op.id) return &op;
  return nullptr;
}

std::vector<std::string_view> NearestNames(
    std::string_view name, std::span<const std::string_view> candidates) {
  // (distance, candidate index): sorting the pairs keeps equally near names
  // in the candidates' order, as a stable sort would (std::stable_sort's
  // temporary buffer trips ASan's alloc-dealloc check with clang 14 and
  // libstdc++ 12).
  std::vector<std::pair<size_t, size_t>> near;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string_view cand = candidates[i];
    size_t dist = Levenshtein(name, cand);
    if (!name.empty() && cand.find(name) != std::string_view::npos) dist = 1;
    if (dist <= std::max<size_t>(2, name.size() / 3)) near.push_back({dist, i});
  }
  std::sort(near.begin(), near.end());
  std::vector<std::string_view> out;
  for (size_t i = 0; i < near.size() && i < 3; ++i)
    out.push_back(candidates[near[i].second]);
  return out;
}

Status UnknownOp(std::string_view id) {
  std::vector<std::string_view> ids;
  for (const OpInfo& op : kOps) ids.push_back(op.id);
  const std::vector<std::string_view> near = NearestNames(id, ids);
  std::string msg = "unknown op '" + std::string(id) + "'";
  if (!near.empty()) {
    msg += "; did you mean ";
    for (size_t i = 0; i < near.size() && i < 3; ++i)
      msg += (i ? ", '" : "'") + std::string(near[i]) + "'";
    msg += "?";
  } else {
    msg += " (dl.ops() lists the " + std::to_string(kNumOps) + " ops)";
  }
  return Status(ErrorCode::kUnknownOp, std::string(id), "", msg);
}

}  // namespace dlmath
