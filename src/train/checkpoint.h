#pragma once
// Checkpoints: model weights in a layout the reference loaders read (config.json +
// model.safetensors, plus mm_projector.safetensors for stage 1) and the training state beside
// them (optimizer moments by parameter name, step, data cursor, RNG). In a data-parallel run the
// model is written once (rank 0) and each rank writes its own optimizer shard beside it, so a
// run resumes at any world size and ZeRO stage. A checkpoint is written into a temporary
// folder and renamed into place, so a crash never leaves a half-written one under a real name;
// a damaged one is refused with the reason and the previous one is used.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/multimodal_lm.h"
#include "train/optimizer_setup.h"

namespace vista::train {

struct TrainerState {
  int64_t step = 0;          // optimizer steps completed
  int64_t epoch = 0;
  int64_t cursor = 0;        // samples of this epoch's order already consumed
  int64_t bad_samples = 0;
  int64_t samples_seen = 0;
  double elapsed_s = 0.0;
  uint64_t seed = 0;
  int world_size = 1;  // of the run that wrote the checkpoint
  int zero = 0;
  std::optional<double> sea_theta;  // SEA's log-temperature, when the run trains it
};

// Which rank is writing, and how to wait for the others (nothing to do in one process).
struct CheckpointRanks {
  int rank = 0, world = 1;
  std::function<void()> barrier = [] {};
};

// Writes <run_dir>/checkpoints/step-XXXXXXX (and removes all but the newest keep_last). Every rank
// calls it at the same step with the optimizer state it owns ("<param>.exp_avg", ...).
// `write_weights(dir)` writes the model (rank 0 only): the whole model, or a LoRA run's adapters.
using WeightsWriter = std::function<void(const std::string& dir)>;
std::string save_checkpoint(const std::string& run_dir, const WeightsWriter& write_weights,
                            const std::map<std::string, torch::Tensor>& optimizer_state, const TrainerState& state,
                            int64_t keep_last, const CheckpointRanks& ranks = {});
// The whole model in `layout` (+ mm_projector.safetensors).
std::string save_checkpoint(const std::string& run_dir, models::MultimodalLMImpl& model,
                            const std::map<std::string, torch::Tensor>& optimizer_state, const TrainerState& state,
                            io::Layout layout, int64_t keep_last, const CheckpointRanks& ranks = {});

// Complete checkpoints of a run, newest first.
std::vector<std::string> list_checkpoints(const std::string& run_dir);

// Validates a checkpoint folder (every listed file present with its recorded size, weights
// readable); returns the reason it is unusable, or nothing when it is fine.
std::optional<std::string> checkpoint_problem(const std::string& dir);

TrainerState read_trainer_state(const std::string& dir);
// Loads weights into `model` (strict) and restores the RNG.
void restore_checkpoint(const std::string& dir, models::MultimodalLMImpl& model);
void restore_rng(const std::string& dir);
// The optimizer state of `slices`, from whichever shards of the checkpoint hold it.
void restore_optimizer(const std::string& dir, torch::optim::AdamW& optimizer, const std::vector<OptimizedSlice>& slices);

// The projector alone under the official keys (model.mm_projector.*), what stage 2 starts from.
void save_projector(const std::string& path, models::MultimodalLMImpl& model);
void load_projector(const std::string& path, models::MultimodalLMImpl& model);

}  // namespace vista::train
