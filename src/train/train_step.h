#pragma once
// One optimizer step: grad_accum micro-batches through the objective, the gradient reduced over
// ranks and clipped, AdamW at the step's learning rate. Returns the step's metrics, the same on
// every rank (loss terms are reduced as sums and counts over the whole global batch).
#include <torch/torch.h>

#include "objectives/llava_objective.h"
#include "train/data_parallel.h"
#include "train/data_stream.h"
#include "train/metrics_log.h"
#include "train/optimizer_setup.h"
#include "train/sea_setup.h"
#include "train/train_config.h"

namespace vista::train {

struct StepInputs {
  models::MultimodalLMImpl& model;
  ScheduledAdamW& optimizer;
  DataStream& stream;
  DataParallel& parallel;
  const TrainConfig& config;
  objectives::ObjectiveOptions objective;
  torch::Device device;
  int64_t pad_id = 0, channels = 3, image_size = 0;
  const SeaTraining* sea = nullptr;  // SEA's labels when loss.sea.enabled
};

// Runs step number `step` (1-based) with every group's learning rate at base x `lr_factor`. Throws TrainingStopped, on every rank
// alike, for a non-finite loss or gradient norm or when the bad-sample policy says so.
StepMetrics train_step(StepInputs& in, int64_t step, double lr_factor);

}  // namespace vista::train
