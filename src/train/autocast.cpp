#include "train/autocast.h"

#include "runtime/torch_compat.h"

namespace vista::train {

AutocastGuard::AutocastGuard(bool enabled, torch::Device device) : device_type_(device.type()) {
  if (!enabled) return;
  active_ = true;
  compat::set_autocast(device_type_, true, at::kBFloat16);
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  compat::set_autocast(device_type_, false, at::kBFloat16);
  compat::autocast_clear_cache();
}

}  // namespace vista::train
