// The launch environment of torchrun and SLURM, read from a fake environment.
#include <map>

#include "dist/launch_env.h"
#include "test_util.h"

using namespace vista;

namespace {
dist::Getenv fake(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}
}  // namespace

TEST(LaunchEnv, NoVariablesMeansOneProcess) {
  const auto env = dist::read_launch_env(fake({}));
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.source, "single process");
  EXPECT_FALSE(env.distributed());
}

TEST(LaunchEnv, TorchrunVariablesWithTheAgentStore) {
  const auto env = dist::read_launch_env(fake({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"},
                                               {"LOCAL_WORLD_SIZE", "4"}, {"MASTER_ADDR", "node0"},
                                               {"MASTER_PORT", "29400"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                               {"TORCHELASTIC_RESTART_COUNT", "2"}}));
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 4);
  EXPECT_EQ(env.master_addr, "node0");
  EXPECT_EQ(env.master_port, 29400);
  EXPECT_TRUE(env.agent_store);
  EXPECT_EQ(env.restart_count, 2);
  EXPECT_EQ(env.source, "torchrun");
}

TEST(LaunchEnv, SlurmIsTheFallback) {
  const auto env = dist::read_launch_env(fake({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"},
                                               {"SLURM_NTASKS_PER_NODE", "2(x2)"}, {"MASTER_ADDR", "n1"},
                                               {"MASTER_PORT", "1234"}}));
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_EQ(env.source, "slurm");
}

TEST(LaunchEnv, BadValuesAreNamed) {
  expect_error_containing([] { dist::read_launch_env(fake({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}})); },
                          {"RANK='2'", "[0, 1]"});
  expect_error_containing([] { dist::read_launch_env(fake({{"RANK", "0"}, {"WORLD_SIZE", "two"}})); }, {"WORLD_SIZE='two'"});
  expect_error_containing([] { dist::read_launch_env(fake({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}})); },
                          {"MASTER_ADDR is not set"});
  expect_error_containing(
      [] { dist::read_launch_env(fake({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "70000"}})); },
      {"MASTER_PORT='70000'"});
  expect_error_containing([] {
    dist::read_launch_env(fake({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"},
                                {"MASTER_ADDR", "a"}, {"MASTER_PORT", "5"}}));
  }, {"local rank 2"});
}
