#pragma once
// The model a run trains and how its images are prepared, from the config: a full checkpoint, or
// a vision tower + LLM with a new projector; the processor from the config, the tower's folder,
// the checkpoint's, or CLIP / SigLIP defaults at the tower's resolution.
#include <torch/torch.h>

#include "image/processor_config.h"
#include "models/multimodal_lm.h"
#include "train/train_config.h"

namespace vista::train {

models::MultimodalLM build_model(const TrainConfig& config, torch::Device device);
image::ImageProcessorConfig processor_config(const TrainConfig& config, const io::VisionConfig& vision);

}  // namespace vista::train
