#include "train/autocast.h"

#include <ATen/autocast_mode.h>

namespace vista::train {

AutocastGuard::AutocastGuard(bool enabled, torch::Device device) : cuda_(device.is_cuda()) {
  if (!enabled) return;
  active_ = true;
  if (cuda_) {
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  } else {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (cuda_) at::autocast::set_enabled(false);
  else at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
}

}  // namespace vista::train
