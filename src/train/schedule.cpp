#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace vista::train {

int64_t steps_per_epoch(int64_t samples, int64_t per_device_batch, int64_t world_size, int64_t grad_accum) {
  const int64_t global = per_device_batch * world_size;
  const int64_t batches = (samples + global - 1) / global;
  return std::max<int64_t>(1, batches / grad_accum);
}

int64_t warmup_steps(double warmup_ratio, int64_t total_steps) {
  return static_cast<int64_t>(std::ceil(warmup_ratio * static_cast<double>(total_steps)));
}

double lr_factor(const std::string& schedule, int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  if (schedule == "constant") return 1.0;
  if (schedule != "cosine") fail("unknown LR schedule '{}'", schedule);
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
}

}  // namespace vista::train
