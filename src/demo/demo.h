#pragma once
// `vista demo`: the whole method on a laptop-class CPU from the repository alone. Generates the
// shapes data, prepares a small pretrained vision tower and LLM (cached) and SEA's labels (a small
// CLIP trained on the shapes, a labelling pass), runs stage 1 and stage 2 four times (CE only,
// CE + VISTA, CE + SEA in stage 1, both; same seeds), evaluates each by greedy generation on the
// held-out split and prints a table; writes plots and results.json.
#include <string>

namespace vista::demo {

struct DemoOptions {
  std::string work_dir = "runs/demo";
  std::string tokenizer_dir;  // default: testdata/tokenizers/mistral7b of the source tree
  bool quick = false;         // a few steps of everything (the end-to-end test)
  uint64_t seed = 0;
  int threads = 0;            // each training run's train.threads; the process's pool is the caller's (main: --threads)
  bool lora = false;          // stage 2 with LoRA adapters (r 16) instead of full finetuning
  std::string device = "cpu";  // where both stages train and the answers are generated
};

int run_demo(const DemoOptions& options);

}  // namespace vista::demo
