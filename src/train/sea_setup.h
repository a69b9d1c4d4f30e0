#pragma once
// What a training run with SEA holds besides the model: the mapped label file, the LLM tokens of
// every label word, the sampling windows, and the learnable log-temperature theta; and how one
// micro-batch gets its pairs.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "data/dataset.h"
#include "models/clip_model.h"
#include "objectives/llava_objective.h"
#include "sea/label_file.h"
#include "sea/word_tokens.h"
#include "train/train_config.h"

namespace vista::train {

struct SeaTraining {
  std::optional<sea::LabelFile> labels;            // precomputed labels, or:
  mutable models::ClipModel online_clip{nullptr};  // a CLIP labelling each batch's images as they come
  torch::Tensor word_embeds_QP;                    // online: the words' CLIP text embeddings
  int64_t top_n = 10;
  double score_sign = -1;
  sea::WordTokens words;
  torch::Tensor windows_WK;
  int64_t patch_offset = 0;  // 1 when the projector's tokens start with CLS (select_feature cls_patch)
};

// theta as a trainable [1] tensor on `device`, at loss.sea.theta_init.
torch::Tensor make_sea_theta(const TrainConfig& c, torch::Device device);

// Opens the labels and checks them against the run: the word list they index (count and
// content), the vision tower's patch grid, and that every image of the data has labels. Online:
// loads the CLIP, checks its image and patch size against the tower's and embeds the words once.
// Errors name the files and fields.
std::unique_ptr<SeaTraining> setup_sea(const TrainConfig& c, const data::LlavaDataset& dataset,
                                       const io::VisionConfig& vision, const std::string& select_feature,
                                       torch::Device device, bool verbose);

// Draws this micro-batch's pairs (seeded) and puts them, with their words' LLM tokens, into
// `batch` (whose pixels the online CLIP labels). Returns the pairs drawn before de-duplication.
int64_t add_sea_pairs(const SeaTraining& sea, const std::vector<data::Example>& examples, uint64_t seed,
                      objectives::MultimodalBatch& batch);

// Online labelling: each sample's patch labels from the CLIP (none for samples without an image).
std::vector<std::optional<sea::PatchLabels>> online_labels(const SeaTraining& sea,
                                                           const std::vector<data::Example>& examples,
                                                           const torch::Tensor& pixels_BCHW);

}  // namespace vista::train
