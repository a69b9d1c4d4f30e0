#include "util/allocator.h"

#include <dlfcn.h>

namespace vista {

std::string allocator_name() {
  // tcmalloc exports its own entry points beside malloc; finding one means it was loaded, and a
  // library loaded before libc serves every malloc of the process.
  return dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr ? "tcmalloc" : "glibc malloc";
}

std::optional<size_t> live_heap_bytes() {
  // gperftools' C interface, looked up so that builds without tcmalloc need no header or library.
  using GetProperty = int (*)(const char*, size_t*);
  static const auto get = reinterpret_cast<GetProperty>(dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"));
  size_t bytes = 0;
  if (get == nullptr || get("generic.current_allocated_bytes", &bytes) == 0) return std::nullopt;
  return bytes;
}

}  // namespace vista
