#pragma once
// Which malloc the running program uses. The vista program links tcmalloc (docs/performance.md:
// the same training step in about a quarter less peak memory than glibc's malloc); builds
// configured with -DVISTA_TCMALLOC=OFF or with sanitizers keep glibc's.
#include <cstddef>
#include <optional>
#include <string>

namespace vista {

// "tcmalloc" when gperftools' tcmalloc serves malloc in this process, else "glibc malloc".
std::string allocator_name();

// Bytes the program holds in live allocations right now (tcmalloc's count), without the memory
// the allocator keeps for reuse; none under glibc's malloc.
std::optional<size_t> live_heap_bytes();

}  // namespace vista
