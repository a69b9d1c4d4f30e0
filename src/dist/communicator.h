#pragma once
// The collectives a data-parallel run needs, over PyTorch's c10d (Gloo on CPU, NCCL on CUDA) and a
// TCPStore rendezvous at MASTER_ADDR:MASTER_PORT. Every call waits at most the timeout, then
// throws: a rank that died or hangs ends the others with a message instead of a hang.
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>

#include "dist/launch_env.h"

namespace vista::dist {

// A collective in flight; wait() returns when it is done (or throws after the timeout).
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  // Rendezvous with the other ranks of `env`; "gloo" or "nccl" (NCCL needs a build whose libtorch
  // has it, and a CUDA device: LOCAL_RANK selects it).
  static std::unique_ptr<Communicator> connect(const LaunchEnv& env, const std::string& backend,
                                               std::chrono::milliseconds timeout);
  virtual ~Communicator() = default;

  virtual void allreduce_sum(torch::Tensor& tensor) = 0;
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;
  // Started now, finished by wait(): what lets gradient buckets travel while backward goes on.
  // The tensor must stay alive and untouched until then.
  virtual std::unique_ptr<PendingCollective> allreduce_sum_async(torch::Tensor& tensor) = 0;
  // Sums into `root`'s tensor only (the others' contents are unspecified afterwards).
  virtual std::unique_ptr<PendingCollective> reduce_sum_async(torch::Tensor& tensor, int root) = 0;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  const std::string& backend() const { return backend_; }

  // Whether this build can make an NCCL group at all.
  static bool nccl_compiled();

 protected:
  Communicator(LaunchEnv env, std::string backend) : env_(std::move(env)), backend_(std::move(backend)) {}
  LaunchEnv env_;
  std::string backend_;
};

}  // namespace vista::dist
