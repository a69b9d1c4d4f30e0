#include <fmt/format.h>

#include "apps/vista/commands.h"
#include "dist/communicator.h"
#include "dist/launch_env.h"
#include "util/error.h"

namespace vista::app {

namespace {
std::string values_of(const torch::Tensor& t) {
  std::string out;
  const auto flat = t.cpu().to(torch::kFloat64).reshape({-1});
  for (int64_t i = 0; i < flat.numel(); ++i) out += (i ? " " : "") + fmt::format("{}", flat[i].item<double>());
  return "[" + out + "]";
}
}  // namespace

// `vista dist check`: rendezvous with the other ranks named by the launch environment, then one
// allreduce, one broadcast and a barrier, each verified. What a new cluster or GPU build is tried
// with before a long run.
CommandRunner add_dist_command(CLI::App& app) {
  auto* dist = app.add_subcommand("dist", "multi-process runs on c10d (Gloo on CPU, NCCL on CUDA)");
  auto* check = dist->add_subcommand("check", "rendezvous from RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT (or SLURM) and verify collectives");
  dist->require_subcommand(1);
  struct Args {
    std::string backend = "auto";
    int timeout_s = 60;
  };
  auto args = std::make_shared<Args>();
  check->add_option("--backend", args->backend, "gloo, nccl, or auto (nccl on cuda, gloo on cpu)")->capture_default_str();
  check->add_option("--timeout", args->timeout_s, "seconds any rendezvous or collective may take")->capture_default_str()
      ->check(CLI::Range(1, 86400));
  return [args](const GlobalOptions& global) {
    const auto env = dist::read_launch_env();
    const torch::Device device(global.device);
    const std::string backend = args->backend == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : args->backend;
    fmt::print("dist check: rank {} of {} (local {} of {}, {}), rendezvous {}:{}{}, backend {}\n", env.rank, env.world_size,
               env.local_rank, env.local_world_size, env.source, env.master_addr, env.master_port,
               env.agent_store ? " (torchrun agent store)" : "", backend);
    const auto comm = dist::Communicator::connect(env, backend, std::chrono::seconds(args->timeout_s));
    const torch::Device on = device.is_cuda() ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank)) : device;
    auto values = torch::full({4}, static_cast<double>(env.rank + 1), torch::TensorOptions().dtype(torch::kFloat32).device(on));
    comm->allreduce_sum(values);
    const double expected = env.world_size * (env.world_size + 1) / 2.0;
    const double got = values.min().item<double>();
    if (got != expected || values.max().item<double>() != expected)
      fail("allreduce gave {}, expected {} on every element", values_of(values), expected);
    auto root_value = torch::full({3}, env.rank == 0 ? 42.0 : -1.0, torch::TensorOptions().device(on));
    comm->broadcast(root_value, 0);
    if (root_value.min().item<double>() != 42.0 || root_value.max().item<double>() != 42.0)
      fail("broadcast from rank 0 gave {}", values_of(root_value));
    comm->barrier();
    fmt::print("dist check: rank {}: allreduce (sum {}), broadcast and barrier OK\n", env.rank, got);
    return 0;
  };
}

}  // namespace vista::app
