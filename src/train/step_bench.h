#pragma once
// `vista bench train`: the standard training-step benchmark (see step_bench.cpp).
#include <ostream>
#include <string>

namespace vista::train {

struct StepBenchResult {
  std::string name;
  double ce_step_s = 0, vista_step_s = 0, vista_term_s = 0, peak_rss_mb = 0;
  int64_t tokens = 0;  // LLM positions per step (text + image tokens)
};

// Runs CE and CE+VISTA steps interleaved; prints the breakdown to `out`.
StepBenchResult bench_train_step(const std::string& config_path, int threads_override, std::ostream& out,
                                 bool gradient_checkpointing = false);
// One JSON line: step_s_median (CE+VISTA), ce_step_s_median, tokens_per_s, peak_rss_mb, vista_over_ce.
std::string step_bench_json(const StepBenchResult& result);

}  // namespace vista::train
