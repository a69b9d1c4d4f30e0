// Built into libvista_cuda.so only (src/dist/CMakeLists.txt), which links libtorch_cuda.
#include "dist/nccl_backend.h"

#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

namespace {

c10::intrusive_ptr<vista::compat::CommBackend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                                                 int world_size, int local_rank,
                                                                 std::chrono::milliseconds timeout) {
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(local_rank));
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, options);
}
// The communicator calls the exported function through this type: checked here at compile time.
[[maybe_unused]] constexpr vista::dist::MakeNcclBackend kChecked = &make_nccl_backend;

}  // namespace

extern "C" __attribute__((visibility("default"))) c10::intrusive_ptr<vista::compat::CommBackend>
vista_make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size, int local_rank,
                        std::chrono::milliseconds timeout) {
  return make_nccl_backend(store, rank, world_size, local_rank, timeout);
}
