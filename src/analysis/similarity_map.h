#pragma once
// The paper's Figures 2 and 3 for one model and one image: each image token's mean cosine to the
// prompt's token embeddings, on the patch grid, with the image as the model saw it.
#include <string>
#include <vector>

#include "image/processor.h"
#include "models/multimodal_lm.h"
#include "text/tokenizer.h"

namespace vista::analysis {

struct SimilarityMap {
  std::vector<double> values;  // rows x cols, row-major
  int64_t rows = 0, cols = 0;
  image::ImageU8 seen;  // RGB after pad / crop
  int64_t prompt_tokens = 0;
};

SimilarityMap similarity_map(models::MultimodalLMImpl& model, const text::Tokenizer& tokenizer,
                             const image::ImageProcessorConfig& processor, image::AspectMode aspect,
                             const std::string& image_path, const std::string& prompt);

}  // namespace vista::analysis
