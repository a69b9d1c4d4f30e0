#pragma once
// Per-step metrics: one JSON line per optimizer step in <run_dir>/metrics.jsonl (full float
// precision), a live progress line on a terminal (plain periodic lines otherwise).
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "util/json_file.h"

namespace vista::train {

struct StepMetrics {
  int64_t step = 0, epoch = 0;
  double loss = 0, ce = 0, vista = 0, similarity = 0, lr = 0, grad_norm = 0;
  int64_t tokens = 0, samples = 0, bad_samples = 0;
  int64_t aligned = 0;  // samples the VISTA term counted (0 for a text-only batch)
  double elapsed_s = 0;
  double comm_wait_s = 0;  // blocked on other ranks in this step (0 in one process)
  double data_wait_s = 0;  // this rank waiting for its samples in this step
  // SEA (tau < 0 when SEA is off): its term, the temperature after the step, and the pairs of
  // the step over all ranks (drawn, and kept after de-duplication).
  double sea = 0, tau = -1;
  int64_t sea_pairs = 0, sea_drawn = 0;
};

// The records of a run's metrics.jsonl. A crash, or the run writing right now, may have cut the
// last line: it is left out.
std::vector<JsonLine> read_metrics_records(const std::string& path);

class MetricsLog {
 public:
  // append: keep the lines of an earlier part of this run (resume), dropping any past `from_step`.
  MetricsLog(const std::string& run_dir, int64_t total_steps, bool append, int64_t from_step = -1);
  void record(const StepMetrics& m, int64_t log_every);
  void finish();

 private:
  std::ofstream out_;
  int64_t total_steps_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  int64_t first_step_ = -1;
  int64_t tokens_since_start_ = 0;
};

}  // namespace vista::train
