// Gemm (core/src/gemm.h) against a float64 reference on every compiled
// Highway target: all four orientations, with and without accumulate, over
// shapes around every tile and block edge, leading dimensions larger than
// the rows, operands that end at an inaccessible page (natively) or at NaN
// guards (wasm), C's padding never written, and no allocation after
// GemmReserve.
//
// Error bound: each C element is a sum of K products (and the old C when
// accumulating) rounded in float, so |got - ref| <= gamma_{K+1} (|C0| +
// sum_k |a_ik b_kj|), gamma_n = n u / (1 - n u), u = 2^-24 (Higham,
// "Accuracy and Stability of Numerical Algorithms", 3.1). A dropped, doubled
// or misplaced product is off by about |a b|, far above that bound.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/src/gemm.h"
#include "tests/core/testing.h"

#if defined(__EMSCRIPTEN__)
#define DLMATH_TEST_GUARD_PAGES 0
#else
#define DLMATH_TEST_GUARD_PAGES 1
#include <sys/mman.h>
#include <unistd.h>

#include <thread>
#endif

// Counting allocator hook: every operator new of this program (Gemm's packing
// space included) goes through here.
namespace {
std::atomic<size_t> allocations{0};
std::atomic<bool> fail_allocations{false};  // simulates an exhausted heap
void* CountedAlloc(std::size_t n) {
  ++allocations;
  return fail_allocations ? nullptr : std::malloc(n ? n : 1);
}
}  // namespace
void* operator new(std::size_t n) {
  if (void* p = CountedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return CountedAlloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return CountedAlloc(n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace dlmath::testing {
namespace {

constexpr float kPadC = 12345.0f;  // C's padding: must survive every call

// n floats that end exactly where readable memory ends: natively just before
// a PROT_NONE page (a read past the end crashes the test), in wasm before 64
// NaN guards (a read past the end that reaches a result turns it into NaN).
class GuardedFloats {
 public:
  explicit GuardedFloats(size_t n) : n_(n) {
#if DLMATH_TEST_GUARD_PAGES
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    bytes_ = hwy::RoundUpTo(n * sizeof(float), page) + page;
    map_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(map_ != MAP_FAILED);
    char* guard = static_cast<char*>(map_) + bytes_ - page;
    REQUIRE(mprotect(guard, page, PROT_NONE) == 0);
    data_ = reinterpret_cast<float*>(guard) - n;
#else
    storage_.assign(n + 64, std::numeric_limits<float>::quiet_NaN());
    data_ = storage_.data();
#endif
  }
  ~GuardedFloats() {
#if DLMATH_TEST_GUARD_PAGES
    munmap(map_, bytes_);
#endif
  }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;
  float* data() { return data_; }
  size_t size() const { return n_; }

 private:
  size_t n_;
  float* data_;
#if DLMATH_TEST_GUARD_PAGES
  void* map_;
  size_t bytes_;
#else
  std::vector<float> storage_;
#endif
};

// A rows x cols matrix stored with leading dimension ld >= cols. The last
// row ends the buffer; padding holds `pad` (NaN: a kernel that reads it
// spoils its result).
struct Matrix {
  size_t rows, cols, ld;
  GuardedFloats buf;
  Matrix(size_t r, size_t c, size_t l)
      : rows(r), cols(c), ld(l), buf(r ? (r - 1) * l + c : 0) {}
  float& at(size_t i, size_t j) { return buf.data()[i * ld + j]; }
  void Fill(const std::vector<float>& values, float pad) {
    std::fill_n(buf.data(), buf.size(), pad);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < cols; ++j) at(i, j) = values[i * cols + j];
  }
};

double Gamma(size_t n) {
  const double nu = static_cast<double>(n) * 0x1p-24;
  return nu / (1 - nu);
}

const char* Name(Trans t) { return t == Trans::kYes ? "T" : "N"; }

struct Shape3 {
  size_t m, n, k;
};

// One product checked on every target. pad: extra columns of every leading
// dimension. a_values / b_values: op(A) [M, K] and op(B) [K, N] row-major
// (default: uniform in [-1, 1]).
void CheckGemm(Trans ta, Trans tb, Shape3 s, size_t pad, bool accumulate,
               std::vector<float> a_values = {},
               std::vector<float> b_values = {}) {
  const size_t M = s.m, N = s.n, K = s.k;
  INFO("C[" << M << "x" << N << "] " << (accumulate ? "+=" : "=") << " A"
            << Name(ta) << " B" << Name(tb) << ", K " << K << ", pad " << pad);
  const uint32_t seed = static_cast<uint32_t>(M * 7919 + N * 131 + K);
  if (a_values.empty()) a_values = RandomData(M * K, seed, -1, 1);
  if (b_values.empty()) b_values = RandomData(K * N, seed + 1, -1, 1);
  const std::vector<float> c0 = RandomData(M * N, seed + 2, -1, 1);
  // Stored operands: A [M, K] or [K, M], B [K, N] or [N, K].
  const bool at = ta == Trans::kYes, bt = tb == Trans::kYes;
  std::vector<float> a_stored(M * K), b_stored(K * N);
  for (size_t i = 0; i < M; ++i)
    for (size_t k = 0; k < K; ++k)
      a_stored[at ? k * M + i : i * K + k] = a_values[i * K + k];
  for (size_t k = 0; k < K; ++k)
    for (size_t j = 0; j < N; ++j)
      b_stored[bt ? j * K + k : k * N + j] = b_values[k * N + j];
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Matrix a(at ? K : M, at ? M : K, (at ? M : K) + pad);
  Matrix b(bt ? N : K, bt ? K : N, (bt ? K : N) + pad);
  Matrix c(M, N, N + pad);
  a.Fill(a_stored, nan);
  b.Fill(b_stored, nan);

  std::vector<double> ref(M * N), bound(M * N);
  for (size_t i = 0; i < M; ++i)
    for (size_t j = 0; j < N; ++j) {
      double sum = accumulate ? c0[i * N + j] : 0.0;
      double mag = std::fabs(sum);
      for (size_t k = 0; k < K; ++k) {
        const double p =
            static_cast<double>(a_values[i * K + k]) * b_values[k * N + j];
        sum += p;
        mag += std::fabs(p);
      }
      ref[i * N + j] = sum;
      bound[i * N + j] = Gamma(K + 1) * mag;
    }

  ForEachTarget([&](const char* target) {
    INFO("target " << target);
    // Not accumulating, C starts as NaN: reading it would show.
    c.Fill(accumulate ? c0 : std::vector<float>(M * N, nan), kPadC);
    REQUIRE(Gemm(ta, tb, M, N, K, a.buf.data(), a.ld, b.buf.data(), b.ld,
                 c.buf.data(), c.ld, accumulate));
    // The first element out of bound and the first padding element written,
    // described once (an INFO per element would be slow).
    const size_t none = std::numeric_limits<size_t>::max();
    size_t bad = none, bad_pad = none;
    for (size_t e = 0; e < M * N && bad == none; ++e) {
      const float got = c.at(e / N, e % N);
      if (std::isfinite(ref[e]) ? !(std::fabs(got - ref[e]) <= bound[e])
                                : !Close(got, ref[e], 0))
        bad = e;
    }
    for (size_t e = 0; e < c.buf.size() && bad_pad == none; ++e)
      if (e % c.ld >= N && c.buf.data()[e] != kPadC) bad_pad = e;
    std::ostringstream why;
    if (bad != none)
      why << "C(" << bad / N << ", " << bad % N
          << ") = " << c.at(bad / N, bad % N) << ", ref " << ref[bad]
          << ", bound " << bound[bad];
    if (bad_pad != none)
      why << " C padding (" << bad_pad / c.ld << ", " << bad_pad % c.ld
          << ") written: " << c.buf.data()[bad_pad];
    INFO(why.str());
    REQUIRE(bad == none);
    REQUIRE(bad_pad == none);
  });
}

constexpr Trans kOrient[4][2] = {{Trans::kNo, Trans::kNo},
                                 {Trans::kNo, Trans::kYes},
                                 {Trans::kYes, Trans::kNo},
                                 {Trans::kYes, Trans::kYes}};

void CheckAllOrientations(Shape3 s, size_t pad) {
  for (const auto& o : kOrient)
    for (bool acc : {false, true}) CheckGemm(o[0], o[1], s, pad, acc);
}

TEST_CASE("gemm: small shapes around every tile edge") {
  // Tiles are 4 or 6 rows by 8, 16 or 32 columns (SCALAR: 2 x 2) by target:
  // each side, one less and one more, primes; K from 1 up.
  for (size_t m : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 17, 25})
    for (size_t n : {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33})
      for (size_t k : {1, 2, 3, 5, 8, 17})
        CheckAllOrientations({m, n, k}, (m + n + k) % 3 == 0 ? 0 : 5);
}

TEST_CASE("gemm: the small-product path and its edges") {
  // GemmSmall takes N <= 16 and K <= 32 (gemm-inl.h): every M and N from 1
  // to 17 (rows, vectors and the limit, one past it), K on both sides of
  // its limit and of a 4 x 4 transpose block (a short block of B^T loads part
  // of its rows). N = 1 with op(A) = A and op(B) = B^T, or B with ldb 1 (pad
  // 0), takes GemmDots at every K.
  for (size_t m = 1; m <= 17; ++m)
    for (size_t n = 1; n <= 17; ++n)
      for (size_t k : {1, 4, 6, 16, 31, 32, 33})
        CheckAllOrientations({m, n, k}, (m + n + k) % 4 == 0 ? 0 : 3);
}

TEST_CASE("gemm: a small row-major B read in place up to its last element") {
  // A small product reads a row-major B in place, every row as whole vectors
  // but the last (gemm-inl.h), when the next row covers what a row's vectors
  // read past its columns (ldb + N >= the panel's width, 4 or 8 on 128-bit
  // targets); else it copies B. Both sides of that rule, one and two vectors
  // wide, K = 1 (the first step is the last), 2 and 3 (no middle steps, one)
  // and 10: B ends where readable memory ends, its row padding is NaN.
  for (size_t n : {1, 2, 3, 5, 6, 7})
    for (size_t pad : {0, 1, 2, 3})
      for (size_t k : {1, 2, 3, 10})
        for (size_t m : {1, 5, 10})
          for (bool acc : {false, true}) {
            CheckGemm(Trans::kNo, Trans::kNo, {m, n, k}, pad, acc);
            CheckGemm(Trans::kYes, Trans::kNo, {m, n, k}, pad, acc);
          }
}

TEST_CASE("gemm: empty sizes") {
  // K = 0: C = 0 (C starts as NaN), or unchanged when accumulating; M or
  // N = 0: nothing is touched.
  for (Shape3 s : {Shape3{3, 5, 0}, Shape3{0, 5, 3}, Shape3{3, 0, 5},
                   Shape3{0, 0, 0}, Shape3{17, 33, 0}})
    CheckAllOrientations(s, 2);
}

TEST_CASE("gemm: block edges of K and M") {
  for (size_t k : {255, 256, 257, 600, 784})
    CheckAllOrientations({7, 19, k}, k % 2 ? 3 : 0);
  for (size_t m : {191, 192, 193, 400}) CheckAllOrientations({m, 9, 11}, 1);
  CheckAllOrientations({200, 40, 300}, 4);  // both blocked
}

TEST_CASE("gemm: primes, tall and skinny") {
  for (Shape3 s : {Shape3{37, 61, 97}, Shape3{127, 131, 7}, Shape3{1000, 3, 5},
                   Shape3{3, 1000, 7}, Shape3{2, 3, 2000}, Shape3{1, 1, 5000},
                   Shape3{513, 1, 1}, Shape3{1, 513, 1}})
    CheckAllOrientations(s, 1);
}

TEST_CASE("gemm: the MLP and MNIST layer shapes") {
  // 2-8-8-1 at batch 10; 784-128-10 at batch 128 (M x N x K).
  for (Shape3 s :
       {Shape3{10, 8, 2}, Shape3{10, 8, 8}, Shape3{10, 1, 8},
        Shape3{128, 784, 128}, Shape3{128, 128, 784}, Shape3{128, 10, 128}})
    CheckAllOrientations(s, 0);
  CheckAllOrientations({128, 784, 128}, 16);
}

TEST_CASE("gemm: a column C [M, 1] has the bits of the padded product") {
  // With ldc 1 the column runs as the row C^T = op(B)^T op(A)^T (gemm-inl.h):
  // the same products summed in the same order, so the same bits as a C
  // with padding, which takes the ordinary tile. Training the same seed twice
  // depends on it (the 2-8-8-1's output layer is such a column).
  for (size_t m : {2, 5, 10, 33})
    for (size_t k : {1, 8, 300})
      for (const auto& o : kOrient)
        for (bool acc : {false, true}) {
          INFO("M " << m << ", K " << k << ", A" << Name(o[0]) << " B"
                    << Name(o[1]) << (acc ? ", accumulating" : ""));
          const std::vector<float> a = RandomData(m * k, 31, -1, 1),
                                   b = RandomData(k, 32, -1, 1),
                                   c0 = RandomData(m, 33, -1, 1);
          // Stored A [M, K] or [K, M]; B [K, 1] or [1, K]: both dense.
          const size_t lda = o[0] == Trans::kYes ? m : k;
          const size_t ldb = o[1] == Trans::kYes ? k : 1;
          ForEachTarget([&](const char* target) {
            INFO("target " << target);
            std::vector<float> column = c0, padded(m * 3, kPadC);
            for (size_t i = 0; i < m; ++i) padded[i * 3] = c0[i];
            REQUIRE(Gemm(o[0], o[1], m, 1, k, a.data(), lda, b.data(), ldb,
                         column.data(), 1, acc));
            REQUIRE(Gemm(o[0], o[1], m, 1, k, a.data(), lda, b.data(), ldb,
                         padded.data(), 3, acc));
            // Bits, not values: -0 and +0 or two NaNs would compare wrongly.
            for (size_t i = 0; i < m; ++i)
              CHECK(std::memcmp(&column[i], &padded[i * 3], sizeof(float)) ==
                    0);
          });
        }
}

TEST_CASE("gemm: the bias has the bits of the product then its rows added") {
  // C = op(A) op(B) + 1 bias^T (gemm.h): every path adds bias[j] to the
  // finished sum, one float add, so the bits of the product without a bias
  // followed by the old pass adding the bias rows. M, N and K around the
  // paths and their edges (K = 0: the bias alone; N = 1: GemmDots; K <= 2:
  // GemmRegK; a narrow C: GemmSmall's C^T; N > kNR: its column panels; N >
  // 16 or K > 32: blocked), C padded or not, in every orientation, by Gemm
  // and by a plan. The bias holds -0 and 0 (0 + -0 is +0).
  for (size_t m : {1, 3, 4, 5, 6, 9, 10, 13})
    for (size_t n : {1, 2, 3, 4, 5, 8, 9, 16, 17, 40})
      for (size_t k : {0, 1, 2, 3, 8, 33})
        for (size_t pad : {0, 3})
          for (const auto& o : kOrient) {
            INFO("C[" << m << "x" << n << "], K " << k << ", A" << Name(o[0])
                      << " B" << Name(o[1]) << ", pad " << pad);
            const std::vector<float> a = RandomData(m * k, 51, -1, 1),
                                     b = RandomData(k * n, 52, -1, 1);
            std::vector<float> bias = RandomData(n, 53, -1, 1);
            bias[0] = -0.0f;
            if (n > 1) bias[1] = 0.0f;
            const size_t lda = o[0] == Trans::kYes ? m : k;
            const size_t ldb = o[1] == Trans::kYes ? k : n;
            const size_t ldc = n + pad;
            ForEachTarget([&](const char* target) {
              INFO("target " << target);
              std::vector<float> ref(m * ldc, kPadC), got = ref, planned = ref;
              REQUIRE(Gemm(o[0], o[1], m, n, k, a.data(), lda, b.data(), ldb,
                           ref.data(), ldc, false));
              for (size_t i = 0; i < m; ++i)
                for (size_t j = 0; j < n; ++j) ref[i * ldc + j] += bias[j];
              REQUIRE(Gemm(o[0], o[1], m, n, k, a.data(), lda, b.data(), ldb,
                           got.data(), ldc, false, bias.data()));
              GemmPlan plan;
              REQUIRE(
                  PlanGemm(o[0], o[1], m, n, k, lda, ldb, ldc, false, &plan));
              plan.Run(a.data(), b.data(), planned.data(), bias.data());
              // Bits, not values (-0 and +0); the padding untouched.
              CHECK(std::memcmp(got.data(), ref.data(),
                                ref.size() * sizeof(float)) == 0);
              CHECK(std::memcmp(planned.data(), ref.data(),
                                ref.size() * sizeof(float)) == 0);
            });
          }
}

TEST_CASE("gemm: a column C has the bits of its rows computed one by one") {
  // GemmDots sums four rows' dot vectors at once through a transpose, in
  // SumOfLanes' order (gemm-inl.h): every row has the bits it gets alone
  // (M = 1), whatever its place in a group of four or in the last four
  // (which overlap the group before when M is not a multiple of 4: rows 1,
  // 2 or 3 already done), with C contiguous (ldc 1: stored as a vector) or
  // not, accumulating or not (a row done twice would be added twice).
  for (size_t m : {4, 5, 6, 7, 8, 10, 13})
    for (size_t k : {1, 3, 4, 8, 9, 31})
      for (size_t ldc : {1, 2})
        for (bool acc : {false, true}) {
          INFO("M " << m << ", K " << k << ", ldc " << ldc
                    << (acc ? ", accumulating" : ""));
          const std::vector<float> a = RandomData(m * k, 41, -1, 1),
                                   b = RandomData(k, 42, -1, 1),
                                   c0 = RandomData(m * ldc, 43, -1, 1);
          ForEachTarget([&](const char* target) {
            INFO("target " << target);
            std::vector<float> all = c0, alone = c0;
            REQUIRE(Gemm(Trans::kNo, Trans::kYes, m, 1, k, a.data(), k,
                         b.data(), k, all.data(), ldc, acc));
            for (size_t i = 0; i < m; ++i)
              REQUIRE(Gemm(Trans::kNo, Trans::kYes, 1, 1, k, a.data() + i * k,
                           k, b.data(), k, alone.data() + i * ldc, 1, acc));
            for (size_t i = 0; i < m * ldc; ++i)
              CHECK(std::memcmp(&all[i], &alone[i], sizeof(float)) == 0);
          });
        }
}

TEST_CASE("gemm: a narrow C has the bits of its rows computed one by one") {
  // A small product with fewer columns than lanes and more rows than
  // columns runs as C^T (gemm-inl.h, GemmSmall): every element the same sum
  // as a row alone (M = 1 takes the ordinary tile), in every orientation,
  // C padded or not, accumulating or not, M on both sides of the path's
  // limit (one column panel: 8 on 128-bit targets, 16 on AVX2).
  for (size_t m : {2, 3, 5, 8, 9, 16, 17})
    for (size_t n : {1, 2, 3, 5})
      for (size_t k : {1, 3, 10})
        for (const auto& o : kOrient)
          for (size_t ldc : {n, n + 3})
            for (bool acc : {false, true}) {
              INFO("M " << m << ", N " << n << ", K " << k << ", A"
                        << Name(o[0]) << " B" << Name(o[1]) << ", ldc " << ldc
                        << (acc ? ", accumulating" : ""));
              const bool at = o[0] == Trans::kYes, bt = o[1] == Trans::kYes;
              const size_t lda = at ? m : k, ldb = bt ? k : n;
              const std::vector<float> a = RandomData(m * k, 51, -1, 1),
                                       b = RandomData(k * n, 52, -1, 1),
                                       c0 = RandomData(m * ldc, 53, -1, 1);
              ForEachTarget([&](const char* target) {
                INFO("target " << target);
                std::vector<float> all = c0, alone = c0;
                REQUIRE(Gemm(o[0], o[1], m, n, k, a.data(), lda, b.data(), ldb,
                             all.data(), ldc, acc));
                // Row i of op(A): A's row i, or A's column i (A^T).
                for (size_t i = 0; i < m; ++i)
                  REQUIRE(Gemm(o[0], o[1], 1, n, k,
                               at ? a.data() + i : a.data() + i * lda, lda,
                               b.data(), ldb, alone.data() + i * ldc, ldc,
                               acc));
                for (size_t i = 0; i < m * ldc; ++i)
                  CHECK(std::memcmp(&all[i], &alone[i], sizeof(float)) == 0);
              });
            }
}

TEST_CASE("gemm: inf and NaN reach exactly their row and column") {
  // op(A) row 2 holds an inf, op(B) column 5 a NaN: C row 2 is +-inf (or NaN
  // where the inf meets a zero of B or the NaN), C column 5 NaN, every other
  // element finite. Zero padding of the panels must not add NaN elsewhere.
  const Shape3 s{9, 19, 6};
  std::vector<float> a = RandomData(s.m * s.k, 5, 0.5f, 1);
  std::vector<float> b = RandomData(s.k * s.n, 6, 0.5f, 1);
  a[2 * s.k + 3] = std::numeric_limits<float>::infinity();
  b[4 * s.n + 5] = std::numeric_limits<float>::quiet_NaN();
  b[3 * s.n + 7] = 0;  // inf * 0 = NaN at C(2, 7)
  for (const auto& o : kOrient)
    for (bool acc : {false, true}) CheckGemm(o[0], o[1], s, 3, acc, a, b);
}

// Runs every orientation of an M x N x K product (no Catch2 assertion: it
// also runs on other threads) and returns how many operator new calls they
// made, or kFailed if a product failed or computed a wrong C[0, 0].
constexpr size_t kFailed = 1000000;
size_t AllocationsOf(Shape3 s) {
  std::vector<float> a(s.m * s.k, 0.5f), b(s.k * s.n, 0.25f), c(s.m * s.n);
  const size_t before = allocations.load();
  bool ok = true;
  for (const auto& o : kOrient) {
    const size_t lda = o[0] == Trans::kYes ? s.m : s.k;
    const size_t ldb = o[1] == Trans::kYes ? s.k : s.n;
    ok = ok &&
         Gemm(o[0], o[1], s.m, s.n, s.k, a.data(), lda, b.data(), ldb, c.data(),
              s.n, false) &&
         c[0] == 0.125f * s.k;  // exact: sums of 1/8
  }
  return ok ? allocations.load() - before : kFailed;
}

TEST_CASE("gemm: no allocation after GemmReserve") {
  // small takes GemmSmall (no packing space at all), mid the blocked path.
  const Shape3 big{300, 70, 900}, mid{20, 40, 50}, small{10, 8, 2};
  ForEachTarget([&](const char* target) {
    INFO("target " << target);
    REQUIRE(GemmReserve(big.m, big.n, big.k));
    REQUIRE(AllocationsOf(big) == 0);
    REQUIRE(AllocationsOf(small) == 0);
    REQUIRE(AllocationsOf(mid) == 0);
    REQUIRE(AllocationsOf({big.m - 1, big.n + 100, big.k / 2}) == 0);
  });
#if DLMATH_TEST_GUARD_PAGES
  // A new thread starts with no space: the hook sees the blocked path
  // allocate it once (so the zeros above are not the hook missing it) and
  // small products never; GemmReserve of the largest shape first leaves
  // nothing for the products to allocate.
  size_t unreserved = 0, small_fresh = kFailed, reserved = 0;
  std::thread([&] {
    small_fresh = AllocationsOf(small);
    unreserved = AllocationsOf(mid);
    unreserved += AllocationsOf(mid);
  }).join();
  REQUIRE(small_fresh == 0);
  REQUIRE(unreserved == 1);
  std::thread([&] {
    reserved =
        GemmReserve(big.m, big.n, big.k)
            ? AllocationsOf(small) + AllocationsOf(mid) + AllocationsOf(big)
            : kFailed;
  }).join();
  REQUIRE(reserved == 0);
#endif
}

#if DLMATH_TEST_GUARD_PAGES
TEST_CASE("gemm: no packing space means false and C untouched") {
  // A new thread has no space yet, and its allocation fails: Gemm and
  // GemmReserve report it, C keeps its values; the next product works. K 40
  // is past GemmSmall's, which needs no space (a K of 3 still works).
  constexpr size_t kK = 40;
  std::vector<float> a(2 * kK, 1.0f), b(2 * kK, 2.0f), c(4, 7.0f);
  bool gemm_ok = true, reserve_ok = true, retry_ok = false, small_ok = false;
  std::thread([&] {
    fail_allocations = true;
    gemm_ok = Gemm(Trans::kNo, Trans::kNo, 2, 2, kK, a.data(), kK, b.data(), 2,
                   c.data(), 2, false);
    reserve_ok = GemmReserve(2, 2, kK);
    fail_allocations = false;
  }).join();
  CHECK_FALSE(gemm_ok);
  CHECK_FALSE(reserve_ok);
  REQUIRE(c == std::vector<float>(4, 7.0f));
  std::thread([&] {
    fail_allocations = true;
    small_ok = Gemm(Trans::kNo, Trans::kNo, 2, 2, 3, a.data(), 3, b.data(), 2,
                    c.data(), 2, false);
    fail_allocations = false;
  }).join();
  REQUIRE(small_ok);
  REQUIRE(c == std::vector<float>(4, 6.0f));
  std::thread([&] {
    retry_ok = Gemm(Trans::kNo, Trans::kNo, 2, 2, kK, a.data(), kK, b.data(), 2,
                    c.data(), 2, false);
  }).join();
  REQUIRE(retry_ok);
  REQUIRE(c == std::vector<float>(4, 2.0f * kK));
}
#endif

}  // namespace
}  // namespace dlmath::testing
