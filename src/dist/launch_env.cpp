#include "dist/launch_env.h"

#include <cstdlib>

#include "util/error.h"

namespace vista::dist {

namespace {

int parse_int(const Getenv& get, const std::string& name, int lo, int hi) {
  const auto value = get(name);
  if (!value) fail("{} is not set", name);
  std::size_t used = 0;
  long parsed = 0;
  try {
    parsed = std::stol(*value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value->size() || parsed < lo || parsed > hi)
    fail("environment variable {}='{}' must be an integer in [{}, {}]", name, *value, lo, hi);
  return static_cast<int>(parsed);
}

}  // namespace

LaunchEnv read_launch_env(const Getenv& getenv_in) {
  const Getenv get = getenv_in ? getenv_in : Getenv([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
  LaunchEnv env;
  constexpr int kMaxRanks = 1 << 20;
  if (get("RANK")) {
    env.source = "torchrun";
    env.world_size = parse_int(get, "WORLD_SIZE", 1, kMaxRanks);
    env.rank = parse_int(get, "RANK", 0, env.world_size - 1);
    env.local_rank = get("LOCAL_RANK") ? parse_int(get, "LOCAL_RANK", 0, kMaxRanks) : 0;
    env.local_world_size = get("LOCAL_WORLD_SIZE") ? parse_int(get, "LOCAL_WORLD_SIZE", 1, kMaxRanks) : 1;
    const auto agent = get("TORCHELASTIC_USE_AGENT_STORE");
    env.agent_store = agent && (*agent == "True" || *agent == "true" || *agent == "1");
    if (get("TORCHELASTIC_RESTART_COUNT")) env.restart_count = parse_int(get, "TORCHELASTIC_RESTART_COUNT", 0, kMaxRanks);
  } else if (get("SLURM_PROCID")) {
    env.source = "slurm";
    env.world_size = parse_int(get, "SLURM_NTASKS", 1, kMaxRanks);
    env.rank = parse_int(get, "SLURM_PROCID", 0, env.world_size - 1);
    env.local_rank = get("SLURM_LOCALID") ? parse_int(get, "SLURM_LOCALID", 0, kMaxRanks) : 0;
    // SLURM_NTASKS_PER_NODE may read "4" or "4(x2)"; the leading number is the count on this node.
    if (const auto per_node = get("SLURM_NTASKS_PER_NODE")) {
      const auto digits = per_node->substr(0, per_node->find_first_not_of("0123456789"));
      if (digits.empty()) fail("environment variable SLURM_NTASKS_PER_NODE='{}' does not start with a number", *per_node);
      env.local_world_size = std::stoi(digits);
    }
  } else {
    env.source = "single process";
    return env;
  }
  if (env.local_rank >= env.local_world_size)
    fail("local rank {} is not below the local world size {} ({} environment)", env.local_rank, env.local_world_size,
         env.source);
  const auto addr = get("MASTER_ADDR");
  if (!addr || addr->empty()) fail("MASTER_ADDR is not set (the {} environment needs the rendezvous host)", env.source);
  env.master_addr = *addr;
  env.master_port = parse_int(get, "MASTER_PORT", 1, 65535);
  return env;
}

}  // namespace vista::dist
