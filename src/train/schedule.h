#pragma once
// Learning-rate schedule and step counts with Hugging Face Trainer semantics (docs/method.md §4).
#include <cstdint>
#include <string>

namespace vista::train {

// Optimizer steps of one epoch: max(1, ceil(N / (batch * world)) // grad_accum).
int64_t steps_per_epoch(int64_t samples, int64_t per_device_batch, int64_t world_size, int64_t grad_accum);
// ceil(warmup_ratio * total_steps)
int64_t warmup_steps(double warmup_ratio, int64_t total_steps);
// The factor applied to the base LR for the optimizer step that follows `completed_steps` steps
// (the first step uses factor(0), which is 0 during warmup, as in HF).
double lr_factor(const std::string& schedule, int64_t completed_steps, int64_t warmup, int64_t total_steps);

}  // namespace vista::train
