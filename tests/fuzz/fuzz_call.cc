// libFuzzer target: the C++ call validation (Execute in dlmath.h) on calls
// decoded from any bytes: an op, inputs present or not with any rank and
// dims (small, zero, negative, past the limits), awkward values, params
// from the registry's ranges and well outside them, enum names, an upstream
// of any shape, result and gradient buffers that alias inputs, the upstream
// or each other, and forced allocation failures. Under ASan and UBSan a
// call either fails with a Status or runs without touching memory it does
// not own; every buffer is fenced by canaries that must survive.
//
//   build/sanitize/fuzz_call tests/fuzz/corpus/call   (see
//   scripts/sanitize.sh, which runs it for a fixed time)
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "dlmath/dlmath.h"

namespace {

using namespace dlmath;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Reads the fuzz input front to back; zeros once it runs out.
class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  uint8_t Byte() { return i_ < n_ ? d_[i_++] : 0; }
  bool Bit() { return Byte() & 1; }
  int Int(int below) { return below <= 0 ? 0 : Byte() % below; }
  uint32_t Word() {
    uint32_t w = 0;
    for (int k = 0; k < 4; ++k) w = (w << 8) | Byte();
    return w;
  }

 private:
  const uint8_t* d_;
  size_t n_, i_ = 0;
};

constexpr float kCanary = -12345.5f;
constexpr int64_t kMaxFloats = 1 << 12;  // per buffer, to keep runs fast

// Floats with a canary on each side; the fuzzer traps if one changes.
struct Fenced {
  std::vector<float> v;
  explicit Fenced(int64_t n) : v(n + 2, 0.0f) {
    v.front() = v.back() = kCanary;
  }
  float* data() { return v.data() + 1; }
  int64_t size() const { return static_cast<int64_t>(v.size()) - 2; }
  bool intact() const { return v.front() == kCanary && v.back() == kCanary; }
};

// Elements of a shape the core has not checked yet: -1 past kMaxFloats or
// for a negative dim (Shape::numel() would overflow on absurd shapes).
int64_t Elements(const Shape& s) {
  int64_t n = 1;
  for (int i = 0; i < s.rank; ++i) {
    if (s.dim[i] < 0 || s.dim[i] > kMaxFloats) return -1;
    n *= s.dim[i];
    if (n > kMaxFloats) return -1;
  }
  return n;
}

float Value(Bytes& b, bool integer) {
  const float inf = std::numeric_limits<float>::infinity();
  static const float kSpecial[] = {0.0f, -0.0f, 1.0f,   -1.0f,  0.5f,  2.0f,
                                   3.0f, -7.0f, 1e-45f, 1e-38f, 3e38f, -3e38f,
                                   inf,  -inf,  NAN,    1e9f,   2.5f,  100.0f};
  const uint8_t k = b.Byte();
  if (integer && k < 200) return static_cast<float>(k % 8);
  if (k < 128) return (static_cast<float>(k) - 64.0f) / 16.0f;
  return kSpecial[k % (sizeof kSpecial / sizeof kSpecial[0])];
}

double ParamValue(Bytes& b, const ParamSpec& s) {
  static const double kWild[] = {
      NAN, INFINITY, -INFINITY,    3.5e38, -3.5e38,      1e300, 1e-50, -1,
      0,   0.5,      2147483648.0, 1e7,    4294967296.0, 1.5,   65537};
  switch (b.Int(4)) {
    case 0:
      return s.def;
    case 1:
      return kWild[b.Int(sizeof kWild / sizeof kWild[0])];
    default: {  // somewhere in (or near) the valid range
      const double lo = std::isfinite(s.lo) ? s.lo : s.def - 8;
      const double hi =
          std::isfinite(s.hi) ? std::min(s.hi, lo + 64) : s.def + 8;
      const double v = lo + (hi - lo) * (b.Byte() / 255.0);
      return s.type == ParamType::kReal ? v : std::floor(v);
    }
  }
}

// DLMATH_FUZZ_VERBOSE=1 (replaying one input): what the call is.
void Describe(const OpInfo& op, const Request& req) {
  std::fprintf(stderr, "op %s, backward %d\n", op.id, req.backward);
  for (const NamedTensor& t : req.inputs)
    std::fprintf(stderr, "  input %s %s at %p\n", std::string(t.name).c_str(),
                 t.tensor.shape.str().c_str(), (const void*)t.tensor.data);
  for (const NamedParam& p : req.params)
    std::fprintf(stderr, "  param %s = %g%s\n", std::string(p.name).c_str(),
                 p.value, p.choice ? " (by name)" : "");
  if (req.out)
    std::fprintf(stderr, "  out %p, %lld floats\n", (void*)req.out->data,
                 (long long)req.out->size);
  if (req.upstream)
    std::fprintf(stderr, "  upstream %s at %p\n",
                 req.upstream->shape.str().c_str(),
                 (const void*)req.upstream->data);
  for (const NamedOut& o : req.grad_out)
    std::fprintf(stderr, "  gradient of %s into %p, %lld floats\n",
                 std::string(o.name).c_str(), (void*)o.buffer.data,
                 (long long)o.buffer.size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes b(data, size);
  const auto ops = Ops();
  const OpInfo& op = ops[b.Byte() % ops.size()];
  const int ni = op.num_inputs();

  // Inputs: a sample-like shape per input, then mutations of it.
  std::vector<std::unique_ptr<Fenced>> store;
  std::vector<NamedTensor> inputs;
  std::vector<std::string> names;
  names.reserve(ni + 1);
  for (int k = 0; k < ni; ++k) {
    const InputSpec& s = op.inputs[k];
    if (b.Int(8) == 0) continue;  // left out
    Shape sh;
    sh.rank = b.Int(16) == 0 ? b.Int(kMaxRank + 1) : std::max(1, s.min_rank);
    int64_t n = 1;
    bool huge = false;
    for (int i = 0; i < sh.rank; ++i) {
      const uint8_t c = b.Byte();
      sh.dim[i] = c < 240   ? 1 + c % 6
                  : c < 248 ? 0
                  : c < 252 ? -1
                            : kMaxElements + 1 + (c & 3);
      huge = huge || sh.dim[i] > (int64_t{1} << 20);
      if (sh.dim[i] > 0 && !huge) n *= sh.dim[i];
    }
    // A huge shape comes with one value: the core must refuse it before
    // reading any (its size is checked first).
    store.push_back(std::make_unique<Fenced>(
        huge || n <= 0 ? 1 : std::min<int64_t>(n, kMaxFloats)));
    if (!huge && n > kMaxFloats) continue;  // too slow to fuzz; leave it out
    Fenced& f = *store.back();
    for (int64_t i = 0; i < f.size(); ++i) f.data()[i] = Value(b, s.integer);
    names.push_back(s.name);
    inputs.push_back({names.back(), {f.data(), sh}});
  }
  if (b.Int(32) == 0) {
    names.push_back("no_such_input");
    store.push_back(std::make_unique<Fenced>(1));
    inputs.push_back({names.back(), {store.back()->data(), Shape{1}}});
  }

  // Params: some of them, in range or wild; enums sometimes by name.
  std::vector<NamedParam> params;
  for (int k = 0; k < op.num_params(); ++k) {
    const ParamSpec& s = op.params[k];
    if (!b.Bit()) continue;
    NamedParam p{s.name, ParamValue(b, s)};
    if (s.type == ParamType::kEnum && b.Int(4) == 0)
      p.choice = b.Bit() ? std::string_view("none") : std::string_view("x");
    params.push_back(p);
  }

  Request req{.id = op.id, .inputs = inputs, .params = params};
  req.backward = b.Bit();
  // Where the result goes: new, a fenced buffer of some size, or an input.
  std::unique_ptr<Fenced> out, up;
  const int where = b.Int(4);
  if (where == 1) {
    out = std::make_unique<Fenced>(b.Int(64));
    req.out = OutBuffer{out->data(), out->size()};
  } else if (where == 2 && !inputs.empty()) {
    const NamedTensor& t = inputs[b.Int(inputs.size())];
    const int64_t n = Elements(t.tensor.shape);
    const int off = b.Int(2);  // exactly over it, or one float in
    if (n > off && n <= kMaxFloats)
      req.out = OutBuffer{const_cast<float*>(t.tensor.data) + off, n - off};
  }
  if (req.backward && b.Bit()) {
    up = std::make_unique<Fenced>(b.Int(64));
    for (int64_t i = 0; i < up->size(); ++i) up->data()[i] = Value(b, false);
    Shape sh{up->size()};
    if (b.Bit() && up->size() % 2 == 0) sh = Shape{2, up->size() / 2};
    req.upstream = ConstTensor{up->data(), sh};
  }
  // Gradient buffers: fresh, an input's, the upstream's, or one for two.
  std::vector<NamedOut> grad_out;
  std::vector<std::unique_ptr<Fenced>> gstore;
  for (int k = 0; req.backward && k < ni; ++k) {
    if (b.Int(4) != 0) continue;
    const int how = b.Int(4);
    const int64_t n = b.Int(64);
    float* p = nullptr;
    int64_t len = n;
    if (how == 0 || gstore.empty()) {
      gstore.push_back(std::make_unique<Fenced>(n));
      p = gstore.back()->data();
    } else if (how == 1) {
      p = gstore.back()->data();  // the previous gradient's buffer again
      len = gstore.back()->size();
    } else if (how == 2 && up) {
      p = up->data();
      len = up->size();
    } else if (!inputs.empty()) {  // over an input (its buffer's size)
      const NamedTensor& t = inputs[b.Int(inputs.size())];
      const int64_t numel = Elements(t.tensor.shape);
      p = const_cast<float*>(t.tensor.data);
      len = numel > 0 && numel <= kMaxFloats ? numel : 1;
    }
    grad_out.push_back({op.inputs[k].name, {p, len}});
  }
  req.grad_out = grad_out;

  const bool verbose = std::getenv("DLMATH_FUZZ_VERBOSE") != nullptr;
  if (verbose) Describe(op, req);
  if (b.Int(8) == 0) FailAllocationAfter(b.Int(6));
  Response res;
  const Status s = Execute(req, &res);
  FailAllocationAfter(-1);
  if (verbose)
    std::fprintf(stderr, "  -> %s %s\n", ErrorCodeName(s.code()),
                 s.message().c_str());
  if (s.ok()) {
    Check(res.call.op == &op);
    Check(req.out || res.ev.y.size() == res.call.out.numel());
    for (int k = 0; req.backward && k < ni; ++k)
      Check(res.grads.din[k].size() == (HasGradient(res.call, k) && !res.into[k]
                                            ? res.call.in[k].shape.numel()
                                            : 0));
  } else {
    Check(!s.message().empty());
    Check(s.code() != ErrorCode::kOk);
  }
  for (const auto& f : store) Check(f->intact());
  for (const auto& f : gstore) Check(f->intact());
  if (out) Check(out->intact());
  if (up) Check(up->intact());
  return 0;
}
