#pragma once
// The one entry of vista's CUDA plugin (runtime/cuda_support.h): an NCCL process group, made where
// libtorch_cuda is loaded. The communicator looks it up by name.
#ifndef VISTA_COMPAT_WITH_C10D
#define VISTA_COMPAT_WITH_C10D
#endif
#include <chrono>

#include "runtime/torch_compat.h"

namespace vista::dist {

inline constexpr const char* kMakeNcclBackendSymbol = "vista_make_nccl_backend";

// Selects cuda:local_rank for this process, then joins the NCCL group of `world_size` ranks.
using MakeNcclBackend = c10::intrusive_ptr<compat::CommBackend> (*)(const c10::intrusive_ptr<c10d::Store>& store,
                                                                    int rank, int world_size, int local_rank,
                                                                    std::chrono::milliseconds timeout);

}  // namespace vista::dist
