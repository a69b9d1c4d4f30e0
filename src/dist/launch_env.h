#pragma once
// Where this process stands in a multi-process run, read from the environment the launchers set:
// torchrun (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT) or, when RANK is unset, SLURM
// (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE; MASTER_ADDR/PORT still needed).
// No libtorch: a pure function of the environment.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace vista::dist {

struct LaunchEnv {
  int rank = 0, world_size = 1, local_rank = 0, local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;  // torchrun's agent hosts the TCPStore; every rank is a client
  int restart_count = 0;     // torchrun's attempt number (the agent store's key prefix)
  std::string source;        // "single process", "torchrun" or "slurm"
  bool distributed() const { return world_size > 1 || source != "single process"; }
};

using Getenv = std::function<std::optional<std::string>(const std::string&)>;

// Reads the variables through `getenv` (the process environment by default). Invalid or
// inconsistent values are an error naming the variable and what it holds.
LaunchEnv read_launch_env(const Getenv& getenv = {});

}  // namespace vista::dist
