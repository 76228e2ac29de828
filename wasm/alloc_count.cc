// Counts the module's heap allocations, so tests can prove that a training
// step allocates nothing (dl.allocations()). dlmalloc defines malloc & co. as
// weak aliases (Emscripten's system/lib/dlmalloc.c) and exports the
// emscripten_builtin_* entry points for wrappers like this one; these strong
// definitions count and forward. Every allocation path of C, C++ (operator
// new, aligned new via posix_memalign, std::aligned_alloc) and the JS glue's
// _malloc goes through one of them.
#include <emscripten/emscripten.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wasm/handles.h"

namespace {
// No atomics: the module is single-threaded (no -pthread).
uint64_t allocations = 0;
}  // namespace

extern "C" {

void* emscripten_builtin_malloc(size_t n);
void emscripten_builtin_free(void* p);
void* emscripten_builtin_memalign(size_t alignment, size_t n);
void* __libc_realloc(void* p, size_t n);  // dlmalloc's realloc (weak alias)

void* malloc(size_t n) {
  ++allocations;
  return emscripten_builtin_malloc(n);
}

void free(void* p) { emscripten_builtin_free(p); }

void* calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return nullptr;
  void* p = malloc(count * size);
  if (p) std::memset(p, 0, count * size);
  return p;
}

void* realloc(void* p, size_t n) {
  ++allocations;
  return __libc_realloc(p, n);
}

void* memalign(size_t alignment, size_t n) {
  ++allocations;
  return emscripten_builtin_memalign(alignment, n);
}

int posix_memalign(void** out, size_t alignment, size_t n) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0)
    return EINVAL;
  void* p = memalign(alignment, n);
  if (!p && n != 0) return ENOMEM;
  *out = p;
  return 0;
}

}  // extern "C"

namespace dlmath::wasm {
// Heap allocations since the module started (Embind: _allocations, in
// model.cc).
double Allocations() { return static_cast<double>(allocations); }
}  // namespace dlmath::wasm
