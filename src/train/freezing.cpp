#include "train/freezing.h"

#include "models/lora.h"
#include "util/error.h"

namespace vista::train {

StageParameters freeze_for_stage(models::MultimodalLMImpl& model, const std::string& stage, bool unfreeze_vision,
                                 bool lora) {
  if (stage != "pretrain" && stage != "finetune") fail("unknown stage '{}' (expected pretrain or finetune)", stage);
  StageParameters out;
  const bool finetune = stage == "finetune";
  for (auto& p : model.named_parameters()) {
    const auto& key = p.key();
    const bool llm = key.rfind("language_model.", 0) == 0;
    const bool train = key.rfind("projector.", 0) == 0 ||
                       (finetune && llm && (lora ? models::is_lora_parameter(key) : true)) ||
                       (unfreeze_vision && key.rfind("vision_tower.", 0) == 0);
    p.value().set_requires_grad(train);
    if (!train) continue;
    out.names.push_back(key);
    out.all.push_back(p.value());
    (takes_weight_decay(p.value()) ? out.decay : out.no_decay).push_back(p.value());
  }
  model.set_vision_frozen(!unfreeze_vision);
  return out;
}

}  // namespace vista::train
