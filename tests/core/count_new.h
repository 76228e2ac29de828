// A counting replacement of the global new and delete for a test binary:
// operator new is counted while g_count_new is set (a training step must not
// allocate, std containers included, beyond the arena growth it reports).
// Include it from exactly one source file of the binary: it defines the
// replacements.
#ifndef DLMATH_TESTS_CORE_COUNT_NEW_H_
#define DLMATH_TESTS_CORE_COUNT_NEW_H_

#include <cstdint>
#include <cstdlib>
#include <new>

namespace {
bool g_count_new = false;
int64_t g_new_calls = 0;
}  // namespace

// malloc/free pairs (GCC cannot see that new and delete here match).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (g_count_new) ++g_new_calls;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// Every form of new and delete, so that no pair mixes ours with the
// runtime's (ASan checks that each free matches its allocation).
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_count_new) ++g_new_calls;
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

#endif  // DLMATH_TESTS_CORE_COUNT_NEW_H_
