#pragma once
// `vista train CONFIG --nproc-per-node N`: start N copies of a command on this machine as the
// workers of one data-parallel run, the way torchrun does, without Python. Each worker gets the
// torchrun variables read by launch_env.h; a failing worker stops the others. Linux only.
#include <string>
#include <vector>

namespace vista::dist {

struct LocalLaunchOptions {
  int nproc = 1;                      // workers to start, in [1, 1024]
  std::vector<std::string> argv;      // the worker command; argv[0] is an executable path (no PATH search)
  std::string master_addr = "127.0.0.1";
  int master_port = 0;                // 0: a free TCP port on master_addr
  double grace_s = 10.0;              // after SIGTERM to the other workers, SIGKILL them this much later
};

// Starts the workers, forwards SIGINT/SIGTERM to them, waits for them all and returns the launcher's
// exit status: 0 when every worker exited 0, otherwise the exit code of the first worker that failed
// (128 + signal number when a signal killed it). Invalid options are a vista::Error.
int launch_local_workers(const LocalLaunchOptions& options);

}  // namespace vista::dist
