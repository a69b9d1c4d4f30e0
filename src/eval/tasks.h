#pragma once
// `vista eval`: runs a model over a benchmark in the format its official release (or the LLaVA
// evaluation bundle) uses, writes LLaVA answer JSONL (resumable), and scores it with the
// official-exact scorers where the ground truth is local.
#include <functional>
#include <ostream>
#include <string>

#include "image/processor_config.h"
#include "models/multimodal_lm.h"
#include "text/tokenizer.h"

namespace vista::eval {

struct TaskOptions {
  std::string task;        // shapes, pope, scienceqa, textvqa, gqa, vqa (generic question JSONL, answers only)
  std::string data_dir;    // the benchmark folder
  std::string images_dir;  // default: per task (see tasks.cpp)
  std::string out_dir;
  std::string template_name = "vicuna_v1";
  std::string aspect = "pad";
  std::string model_id = "vista";
  int64_t limit = -1;      // first N questions only
  int64_t batch_size = 8;
  int64_t max_new_tokens = 16;
  // Across ranks (torchrun, SLURM): rank r answers every world-th open question into its own part
  // file; after `barrier`, rank 0 merges all answers in question order (the file one process
  // writes, byte for byte) and scores.
  int rank = 0, world = 1;
  std::function<void()> barrier = [] {};
};

struct TaskResult {
  nlohmann::json scores;  // task-specific numbers, also written to <out>/results.json (rank 0 only)
  std::string answers_file;
  int64_t answered_now = 0, reused = 0;
};

TaskResult run_task(models::MultimodalLMImpl& model, const text::Tokenizer& tokenizer,
                    const image::ImageProcessorConfig& processor, const TaskOptions& options, std::ostream& log);

}  // namespace vista::eval
