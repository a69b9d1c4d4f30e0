// `--nproc-per-node`: real worker processes (/bin/sh scripts) started, watched and stopped.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "dist/local_launcher.h"
#include "test_util.h"
#include "util/error.h"

using namespace vista;

namespace {
dist::LocalLaunchOptions shell_workers(int nproc, const std::string& script, double grace_s = 10.0) {
  dist::LocalLaunchOptions options;
  options.nproc = nproc;
  options.argv = {"/bin/sh", "-c", script};
  options.grace_s = grace_s;
  return options;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Sets a variable for one test and puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() { old_ ? (void)setenv(name_.c_str(), old_->c_str(), 1) : (void)unsetenv(name_.c_str()); }

 private:
  std::string name_;
  std::optional<std::string> old_;
};
}  // namespace

TEST(LocalLauncher, EveryWorkerGetsTheTorchrunVariables) {
  TempDir dir;
  const auto options = shell_workers(
      3, "echo \"$RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $GROUP_RANK $MASTER_ADDR $MASTER_PORT\" > '" +
             dir.path() + "'/rank$RANK");
  EXPECT_EQ(dist::launch_local_workers(options), 0);
  std::string first_port;
  for (int rank = 0; rank < 3; ++rank) {
    std::istringstream line(read_all(dir.file("rank" + std::to_string(rank))));
    std::string r, local_rank, world, local_world, group, addr, port;
    ASSERT_TRUE(line >> r >> local_rank >> world >> local_world >> group >> addr >> port) << "rank " << rank;
    EXPECT_EQ(r, std::to_string(rank));
    EXPECT_EQ(local_rank, std::to_string(rank));
    EXPECT_EQ(world, "3");
    EXPECT_EQ(local_world, "3");
    EXPECT_EQ(group, "0");
    EXPECT_EQ(addr, "127.0.0.1");
    EXPECT_GT(std::stoi(port), 0);
    if (rank == 0) first_port = port;
    EXPECT_EQ(port, first_port);
  }
}

TEST(LocalLauncher, AFailingWorkerStopsTheOthers) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(dist::launch_local_workers(shell_workers(3, "if [ \"$RANK\" = 1 ]; then exit 3; fi; exec sleep 60", 2.0)), 3);
  EXPECT_LT(seconds_since(start), 20.0);
}

TEST(LocalLauncher, AWorkerIgnoringSigtermIsKilledAfterTheGrace) {
  // Rank 0 fails only once rank 1 has installed its trap, so the SIGTERM is surely ignored.
  TempDir dir;
  const std::string ready = "'" + dir.file("trap_set") + "'";
  const auto options = shell_workers(2,
                                     "if [ \"$RANK\" = 0 ]; then while [ ! -e " + ready + " ]; do sleep 0.05; done; exit 5; fi; "
                                     "trap '' TERM; touch " + ready + "; while true; do sleep 0.1; done",
                                     1.0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(dist::launch_local_workers(options), 5);
  const double elapsed = seconds_since(start);
  EXPECT_GE(elapsed, 1.0);  // rank 1 outlived the SIGTERM until the grace ran out
  EXPECT_LT(elapsed, 15.0);
}

TEST(LocalLauncher, AWorkerKilledBySignalGives128PlusTheSignal) {
  EXPECT_EQ(dist::launch_local_workers(shell_workers(2, "if [ \"$RANK\" = 0 ]; then kill -9 $$; fi; exec sleep 60", 2.0)),
            128 + 9);
}

TEST(LocalLauncher, SigtermToTheLauncherReachesTheWorkers) {
  // Rank 0 signals the launcher (its parent); the launcher forwards SIGTERM to both sleeping workers.
  const auto start = std::chrono::steady_clock::now();
  const auto options = shell_workers(2, "if [ \"$RANK\" = 0 ]; then kill -TERM $PPID; fi; exec sleep 60", 30.0);
  EXPECT_EQ(dist::launch_local_workers(options), 128 + 15);
  EXPECT_LT(seconds_since(start), 20.0);
}

TEST(LocalLauncher, AMissingExecutableExits127) {
  dist::LocalLaunchOptions options;
  options.nproc = 2;
  options.argv = {"/nonexistent/vista-worker"};
  EXPECT_EQ(dist::launch_local_workers(options), 127);
}

TEST(LocalLauncher, BadOptionsAreNamed) {
  expect_error_containing([] { dist::launch_local_workers(shell_workers(0, "true")); }, {"--nproc-per-node", "got 0"});
  expect_error_containing([] { dist::launch_local_workers(shell_workers(1025, "true")); }, {"--nproc-per-node", "1024"});
  dist::LocalLaunchOptions no_command;
  expect_error_containing([&] { dist::launch_local_workers(no_command); }, {"worker command"});
  EXPECT_THROW(dist::launch_local_workers(shell_workers(0, "true")), vista::Error);
}

TEST(LocalLauncher, TheParentsAgentStoreAndRankDoNotReachTheWorkers) {
  ScopedEnv agent("TORCHELASTIC_USE_AGENT_STORE", "True");
  ScopedEnv restart("TORCHELASTIC_RESTART_COUNT", "4");
  ScopedEnv stale_rank("RANK", "99");
  ScopedEnv kept("VISTA_LAUNCHER_TEST_KEPT", "yes");
  const auto options = shell_workers(2,
                                     "[ -z \"${TORCHELASTIC_USE_AGENT_STORE+x}\" ] || exit 7; "
                                     "[ -z \"${TORCHELASTIC_RESTART_COUNT+x}\" ] || exit 8; "
                                     "[ \"$RANK\" -lt 2 ] || exit 9; "
                                     "[ \"$VISTA_LAUNCHER_TEST_KEPT\" = yes ] || exit 10");
  EXPECT_EQ(dist::launch_local_workers(options), 0);
}
