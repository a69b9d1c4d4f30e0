#pragma once
// `vista bench train --nproc N`: the standard training step across N local ranks for ZeRO 0, 1
// and 2, against one process with the same global batch and the same total threads, in one run.
#include <string>

#include "dist/communicator.h"

namespace vista::train {

struct ParallelStepResult {
  int rank = 0, world = 1, zero = 0, threads = 0;
  double step_s = 0;            // median seconds per optimizer step
  double comm_wait_s = 0;       // median seconds of it blocked on other ranks
  double peak_rss_mb = 0;
  double optimizer_state_mb = 0;  // AdamW moments this rank holds
  std::string to_json() const;
};

// One rank's share of the benchmark (comm == nullptr: one process with the whole batch).
ParallelStepResult bench_parallel_step(const std::string& config_path, dist::Communicator* comm, int zero, int threads);

// Runs the whole comparison: one process, then N workers (this executable, `worker_args`
// appended with --zero Z --result FILE) for each ZeRO stage; returns the one JSON line.
std::string bench_data_parallel(const std::string& config_path, int nproc, int total_threads,
                                const std::string& scratch_dir);

}  // namespace vista::train
