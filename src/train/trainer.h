#pragma once
// The two-stage trainer: builds or loads the model, freezes per stage, runs AdamW with the HF
// schedule over the LLaVA data with CE (+ VISTA), logs, checkpoints and resumes. It only
// orchestrates: models, losses and data know nothing about it.
#include <string>

#include "train/train_config.h"
#include "train/training_stopped.h"

namespace vista::train {

struct TrainResult {
  int64_t steps = 0;            // optimizer steps completed, counting those before a resume
  int64_t steps_run = 0;        // optimizer steps this call ran
  std::string resumed_from;     // the checkpoint this call resumed from ("" = step 0)
  int64_t resumed_step = 0;     // its step
  bool finished = false;       // reached the planned number of steps
  bool interrupted = false;    // stop_after_steps or a signal: checkpoint written, resumable
  std::string last_checkpoint;
  std::string final_dir;       // <run_dir>/final when finished
  double final_ce = 0, final_vista = 0, final_similarity = 0;
  // Means over the last 20 steps whose batches held images (text-only batches have no VISTA term).
  double recent_ce = 0, recent_vista = 0, recent_similarity = 0, recent_sea = 0;
  double final_sea = 0, final_tau = -1;  // SEA runs (tau -1 without SEA)
  int64_t bad_samples = 0;
  std::string lora_base_dtype;  // LoRA runs: the dtype the frozen LLM weights were kept in
};

TrainResult run_training(const TrainConfig& config);

}  // namespace vista::train
