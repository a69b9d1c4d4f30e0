#pragma once
// bf16 autocast for the forward pass (train.bf16): matmuls and convolutions run in bfloat16,
// reductions and the losses stay float32 (the VISTA term casts to float32 itself). Scoped: the
// previous state is restored when the guard ends.
#include <torch/torch.h>

namespace vista::train {

class AutocastGuard {
 public:
  AutocastGuard(bool enabled, torch::Device device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_type_;
};

}  // namespace vista::train
