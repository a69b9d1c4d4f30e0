#pragma once
// Which parameters a stage trains: pretrain = projector; finetune = projector + LLM (or its LoRA
// adapters); the vision tower only when unfrozen explicitly. Sets requires_grad on every parameter.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/multimodal_lm.h"

namespace vista::train {

struct StageParameters {
  std::vector<std::string> names;
  std::vector<torch::Tensor> all;
  std::vector<torch::Tensor> decay, no_decay;  // no weight decay on biases and norm weights
};

// Whether AdamW's weight decay applies: not to biases and norm weights (tensors of rank < 2).
inline bool takes_weight_decay(const torch::Tensor& param) { return param.dim() >= 2; }

// With `lora`, finetuning trains the LoRA adapters instead of the LLM's weights (which stay frozen).
StageParameters freeze_for_stage(models::MultimodalLMImpl& model, const std::string& stage, bool unfreeze_vision,
                                 bool lora = false);

}  // namespace vista::train
