// libtorch's at::parallel_for is inline in its headers: it runs in parallel only where the calling
// file is compiled with OpenMP. vista's own kernels (rotary, AdamW, attention blocks) call it, so
// the build must compile them so (cmake/TorchBuild.cmake); without it this test sees one thread.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <mutex>
#include <set>

namespace vista {
namespace {

TEST(Parallel, VistasOwnParallelForRunsOnLibtorchsThreads) {
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  std::mutex mutex;
  std::set<int> threads;
  at::parallel_for(0, 64, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(mutex);
    threads.insert(at::get_thread_num());
  });
  at::set_num_threads(before);
  EXPECT_EQ(threads, (std::set<int>{0, 1}));
}

}  // namespace
}  // namespace vista
