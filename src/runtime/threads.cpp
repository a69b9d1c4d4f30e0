#include "runtime/threads.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <thread>

#include "util/error.h"

namespace vista {

int configure_threads(int requested) {
  // More threads than this is a typo, not a machine: it would spawn until memory runs out.
  constexpr int kMaxThreads = 1024;
  if (requested > kMaxThreads) fail("threads = {}: expected 0 (all cores) to {}", requested, kMaxThreads);
  int n = requested;
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  at::set_num_threads(n);
  return at::get_num_threads();
}

std::string threads_summary() {
  return fmt::format("threads: {} intra-op, {} inter-op", at::get_num_threads(), at::get_num_interop_threads());
}

}  // namespace vista
