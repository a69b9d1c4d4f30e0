#include "models/causal_lm.h"

#include "models/llama.h"
#include "models/phi.h"

namespace vista::models {

std::shared_ptr<CausalLM> make_causal_lm(const io::DecoderConfig& config) {
  if (config.family == "phi") return std::make_shared<PhiForCausalLMImpl>(config);
  return std::make_shared<LlamaForCausalLMImpl>(config);
}

torch::Tensor default_position_ids(int64_t batch, int64_t length, torch::Device device) {
  return torch::arange(length, torch::TensorOptions().dtype(torch::kInt64).device(device))
      .unsqueeze(0)
      .expand({batch, length});
}

torch::Tensor position_ids_from_mask(const torch::Tensor& attention_mask_BT) {
  const auto mask = attention_mask_BT.to(torch::kInt64);
  return (mask.cumsum(1) - 1).masked_fill(mask == 0, 1);
}

}  // namespace vista::models
