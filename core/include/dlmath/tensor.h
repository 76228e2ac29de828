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
// Largest tensor we agree to allocate: 2^28 floats = 1 GiB. Anything larger
// is "absurd" for a browser and is refused with an error, never an abort.
inline constexpr int64_t kMaxElements = int64_t{1} << 28;

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
  int64_t rows() const {
    int64_t r = 1;
    for (int i = 0; i + 1 < rank; ++i) r *= dim[i];
    return r;
  }
  int64_t numel() const {
    int64_t n = 1;
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

// An owning, 64-byte aligned float buffer. Allocation failure leaves it empty
// (ok() == false) instead of throwing: the wasm build has no exceptions.
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(int64_t n);
  ~Buffer();
  Buffer(Buffer&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  bool ok() const { return data_ != nullptr || size_ == 0; }
  float* data() { return data_; }
  const float* data() const { return data_; }
  int64_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace dlmath

#endif  // DLMATH_TENSOR_H_
