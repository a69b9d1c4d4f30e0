#pragma once
// `vista bench train`: the standard training-step benchmark (see step_bench.cpp).
#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "util/json_file.h"
#include "util/json_node.h"
#include "models/multimodal_lm.h"
#include "objectives/llava_objective.h"

namespace vista::train {

class PairedPeer;

// A benchmark configuration made real: random weights (seed 0), a random batch of
// batch.samples, the vision tower frozen, AdamW as configured.
struct Bench {
  models::MultimodalLM model{nullptr};
  objectives::MultimodalBatch batch;
  std::vector<torch::Tensor> trainable;
  std::vector<std::string> names;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  double clip_norm = 1.0;
};
Bench build_bench(const JsonNode& config);

struct StepBenchResult {
  std::string name;
  double ce_step_s = 0, vista_step_s = 0, vista_term_s = 0, peak_rss_mb = 0;
  int64_t tokens = 0;  // LLM positions per step (text + image tokens)
  int64_t trainable_params = 0;
  int64_t lora_r = 0;  // 0: full finetuning (projector + LLM)
  // With a PairedPeer: rounds of one CE+VISTA step of vista's, then one of the peer's.
  // The machine's GEMM rate is measured at the start of each round: it moves by tens of percent
  // within a minute on a shared machine.
  std::vector<double> vista_round_s, peer_round_s, round_gemm_gflops;
  // With profile: one more CE+VISTA step under libtorch's profiler (op_profile_json), the
  // machine's GEMM rate, and the share of it the timed steps reach (GEMM FLOPs / step time).
  nlohmann::json profile;
};

// Runs CE and CE+VISTA steps interleaved; prints the breakdown to `out`.
// lora_r > 0: LoRA adapters of that rank (alpha 2r) on the LLM's projections, the base frozen.
// peer: started once the threads are set, before this side builds; after the timed steps,
// peer->rounds() rounds of one CE+VISTA step of vista's and one step of the peer's.
StepBenchResult bench_train_step(const std::string& config_path, int threads_override, std::ostream& out,
                                 bool gradient_checkpointing = false, int64_t lora_r = 0,
                                 const std::string& device = "cpu", bool profile = false, PairedPeer* peer = nullptr);
// One JSON line: step_s_median (CE+VISTA), ce_step_s_median, tokens_per_s, peak_rss_mb, vista_over_ce.
std::string step_bench_json(const StepBenchResult& result);

}  // namespace vista::train
