// Shapes and non-owning tensor views, plus the one owning buffer type.
// No SIMD types here: this header is shared by the kernels, the bindings and
// the tests.
#ifndef DLMATH_TENSOR_H_
#define DLMATH_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace dlmath {

inline constexpr int kMaxRank = 8;
// Size limits, checked before anything is allocated; anything larger is
// refused with a 'too_large' error, never an abort. The wasm heap ends at
// 2 GiB, and a call needs its inputs, its result, its workspace, gradients
// and the kernels' own scratch at once, so:
//   kMaxElements      one tensor (input, result, workspace, gradient):
//                     2^26 floats = 256 MiB;
//   kMaxCallElements  everything one call allocates together (result,
//                     workspace, secondary outputs, gradients, the default
//                     upstream of ones): 2^28 floats = 1 GiB, which leaves
//                     room for the inputs and the kernels' scratch.
inline constexpr int64_t kMaxElements = int64_t{1} << 26;
inline constexpr int64_t kMaxCallElements = int64_t{1} << 28;

#ifdef __clang__
#define DLMATH_SCALAR_LOOP \
  _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define DLMATH_SCALAR_LOOP
#endif

struct Shape {
  int rank = 0;
  int64_t dim[kMaxRank] = {};

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    for (int64_t d : dims) dim[rank++] = d;
  }
  int64_t operator[](int i) const { return dim[i]; }
  int64_t& operator[](int i) { return dim[i]; }
  // Last dimension (1 for a scalar), and the product of all the others.
  int64_t cols() const { return rank == 0 ? 1 : dim[rank - 1]; }
  // The loops stay scalar: clang vectorizes them into i64x2 multiplies,
  // which V8 runs as ~10 x86 instructions each (~80 per call for a 2-D
  // shape, and every GenCall op asks).
  int64_t rows() const {
    int64_t r = 1;
    DLMATH_SCALAR_LOOP
    for (int i = 0; i + 1 < rank; ++i) r *= dim[i];
    return r;
  }
  int64_t numel() const {
    int64_t n = 1;
    DLMATH_SCALAR_LOOP
    for (int i = 0; i < rank; ++i) n *= dim[i];
    return n;
  }
  bool operator==(const Shape& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dim[i] != o.dim[i]) return false;
    return true;
  }
  std::string str() const;  // "[2, 3]"
};

struct ConstTensor {
  const float* data = nullptr;
  Shape shape;
};

// The core's one allocation function: n floats, 64-byte aligned, or nullptr
// when the allocation fails (never throws, never aborts: the wasm build has
// no exceptions). Every Buffer goes through it, so allocations can be
// counted and failures forced (below). FreeFloats(nullptr) does nothing.
float* AllocateFloats(int64_t n);
void FreeFloats(float* p);

// Allocation accounting for tests and the training engine's "nothing
// allocated per step" checks: the number of successful AllocateFloats calls
// so far, and a countdown that makes the k-th next call fail (k = 0: the
// very next one; k < 0: none). Not thread-safe, like the rest of the core.
int64_t AllocationCount();
void FailAllocationAfter(int64_t k);

// An owning, 64-byte aligned float buffer of size() floats. A failed
// allocation leaves ok() false (data() is then null); Buffer(0) is an empty,
// ok buffer.
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(int64_t n);
  ~Buffer();
  Buffer(Buffer&& o) noexcept
      : data_(o.data_), size_(o.size_), failed_(o.failed_) {
    o.data_ = nullptr;
    o.size_ = 0;
    o.failed_ = false;
  }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  bool ok() const { return !failed_; }
  float* data() { return data_; }
  const float* data() const { return data_; }
  int64_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  int64_t size_ = 0;
  bool failed_ = false;  // the allocation was asked for and did not happen
};

}  // namespace dlmath

#endif  // DLMATH_TENSOR_H_
