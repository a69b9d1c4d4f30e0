#define VISTA_COMPAT_WITH_C10D
#include "dist/communicator.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <cstdlib>
#include <functional>

#include "dist/nccl_backend.h"
#include "runtime/cuda_support.h"
#include "runtime/torch_compat.h"
#include "util/error.h"

namespace vista::dist {

namespace {

// libtorch's messages carry a C++ backtrace; the user needs the first line.
std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

c10::intrusive_ptr<c10d::Store> make_store(const LaunchEnv& env, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  // Under torchrun's agent the agent hosts the store; otherwise rank 0 does.
  options.isServer = !env.agent_store && env.rank == 0;
  // Every rank names the world size and registers itself, as PyTorch's rendezvous does; the server
  // waits until all have.
  options.numWorkers = static_cast<std::size_t>(env.world_size);
  options.waitWorkers = true;
  options.timeout = timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    fail("rendezvous at {}:{} ({}, rank {} of {}) failed within {} s: {}", env.master_addr, env.master_port, env.source,
         env.rank, env.world_size, timeout.count() / 1000, message_of(e));
  }
  // torchrun's workers share the agent's store under the prefix of the current attempt.
  if (env.agent_store)
    store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(env.restart_count), store);
  return store;
}

class C10dPending : public PendingCollective {
 public:
  C10dPending(c10::intrusive_ptr<c10d::Work> work, std::function<void(const std::exception&)> on_error,
              std::chrono::milliseconds timeout)
      : work_(std::move(work)), on_error_(std::move(on_error)), timeout_(timeout) {}
  void wait() override {
    try {
      work_->wait(timeout_);
    } catch (const std::exception& e) {
      on_error_(e);
    }
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  std::function<void(const std::exception&)> on_error_;
  std::chrono::milliseconds timeout_;
};

class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(LaunchEnv env, std::string backend, c10::intrusive_ptr<c10d::Store> store,
                   c10::intrusive_ptr<compat::CommBackend> group, std::chrono::milliseconds timeout)
      : Communicator(std::move(env), std::move(backend)), store_(std::move(store)), group_(std::move(group)),
        timeout_(timeout) {}

  void allreduce_sum(torch::Tensor& tensor) override {
    std::vector<at::Tensor> tensors{tensor};
    wait(group_->allreduce(tensors), "allreduce");
  }
  void broadcast(torch::Tensor& tensor, int root) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    wait(group_->broadcast(tensors, options), "broadcast");
  }
  void barrier() override { wait(group_->barrier(), "barrier"); }
  std::unique_ptr<PendingCollective> allreduce_sum_async(torch::Tensor& tensor) override {
    std::vector<at::Tensor> tensors{tensor};
    return pending(group_->allreduce(tensors), "allreduce");
  }
  std::unique_ptr<PendingCollective> reduce_sum_async(torch::Tensor& tensor, int root) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::ReduceOptions options;
    options.rootRank = root;
    return pending(group_->reduce(tensors, options), "reduce");
  }

 private:
  // A peer that died shows up here as a closed connection or a timeout: name this rank and the
  // cause, and let the caller end the run (every other rank meets the same failure).
  [[noreturn]] void collective_failed(const char* what, const std::exception& e) const {
    fail("{} on rank {} of {} ({}) failed or timed out after {} s; another rank probably died or stopped: {}", what,
         env_.rank, env_.world_size, backend_, timeout_.count() / 1000, message_of(e));
  }
  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
    try {
      work->wait(timeout_);
    } catch (const std::exception& e) {
      collective_failed(what, e);
    }
  }
  std::unique_ptr<PendingCollective> pending(c10::intrusive_ptr<c10d::Work> work, const char* what) {
    return std::make_unique<C10dPending>(
        std::move(work), [this, what](const std::exception& e) { collective_failed(what, e); }, timeout_);
  }
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<compat::CommBackend> group_;
  std::chrono::milliseconds timeout_;
};

c10::intrusive_ptr<compat::CommBackend> make_group(const LaunchEnv& env, const std::string& backend,
                                                   const c10::intrusive_ptr<c10d::Store>& store,
                                                   std::chrono::milliseconds timeout) {
  if (backend == "gloo") {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // GLOO_SOCKET_IFNAME picks the network interface, as in PyTorch.
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    options->devices.push_back(ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                                 : c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 2;
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
  }
  if (backend == "nccl") {
    if (!Communicator::nccl_compiled())
      fail("this vista was built against {}, which has no NCCL; build the GPU version (scripts/build_torch2.sh)",
           compat::build_summary());
    runtime::require_cuda_for("cuda:" + std::to_string(env.local_rank));
    const auto make = reinterpret_cast<MakeNcclBackend>(runtime::cuda_plugin_symbol(kMakeNcclBackendSymbol));
    return make(store, env.rank, env.world_size, env.local_rank, timeout);
  }
  fail("unknown communication backend '{}' (expected gloo or nccl)", backend);
}

}  // namespace

bool Communicator::nccl_compiled() { return runtime::cuda_plugin_built(); }

std::unique_ptr<Communicator> Communicator::connect(const LaunchEnv& env, const std::string& backend,
                                                    std::chrono::milliseconds timeout) {
  auto store = make_store(env, timeout);
  c10::intrusive_ptr<compat::CommBackend> group;
  try {
    group = make_group(env, backend, store, timeout);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("{} process group (rank {} of {}, rendezvous {}:{}) could not connect within {} s: {}", backend, env.rank,
         env.world_size, env.master_addr, env.master_port, timeout.count() / 1000, message_of(e));
  }
  return std::make_unique<C10dCommunicator>(env, backend, store, group, timeout);
}

}  // namespace vista::dist
