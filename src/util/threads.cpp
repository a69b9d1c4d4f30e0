#include "util/threads.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <thread>

namespace vista {

int configure_threads(int requested) {
  int n = requested;
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  at::set_num_threads(n);
  return at::get_num_threads();
}

std::string threads_summary() {
  return fmt::format("threads: {} intra-op, {} inter-op", at::get_num_threads(),
                     at::get_num_interop_threads());
}

}  // namespace vista
