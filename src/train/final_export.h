#pragma once
// <run_dir>/final: what a finished run leaves for generate, eval and the reference loaders, in
// one self-contained folder (weights in the layout of the model family, projector, the run's
// config, image processor, tokenizer with a chat template of the run's conversation template).
#include <string>

#include "image/processor_config.h"
#include "models/multimodal_lm.h"
#include "train/freezing.h"
#include "train/train_config.h"

namespace vista::train {

std::string export_final_model(const TrainConfig& config, models::MultimodalLMImpl& model,
                               const image::ImageProcessorConfig& processor);
// A LoRA run's final folder: the adapter checkpoint (adapters + projector, base named by path and
// hash), the run's config and processor. `vista lora merge` turns it into a plain model;
// generate and eval load it as it is.
std::string export_final_adapter(const TrainConfig& config, const StageParameters& trainables,
                                 const std::string& base_hash, const image::ImageProcessorConfig& processor);

}  // namespace vista::train
