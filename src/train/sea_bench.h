#pragma once
// `vista bench sea`: SEA's share of a stage-1 training step on a standard configuration.
#include <ostream>
#include <string>

namespace vista::train {

struct SeaBenchResult {
  std::string name;
  double ce_step_s = 0, sea_step_s = 0;  // medians, interleaved in one run
  double sampling_s = 0;                 // label lookup + pair sampling + word tokens, per micro-batch
  double loss_s = 0;                     // label embeddings + InfoNCE forward and backward
  double pairs = 0;                      // mean pairs per micro-batch after de-duplication
  std::string to_json() const;
};

// Stage 1 (projector trainable, tower and LLM frozen) of the configuration's model and batch, with
// labels for every image written to and read back from a real label file (top 10 of `words`
// random words per patch) and random LLM tokens of 1 to 3 per word.
SeaBenchResult bench_sea_step(const std::string& config_path, int threads_override, std::ostream& out,
                              const std::string& device, int64_t words = 4000);

}  // namespace vista::train
