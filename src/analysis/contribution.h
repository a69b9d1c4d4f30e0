#pragma once
// How much the image still counts as the text before the answer grows (the empirical side of the
// VISTA paper's Theorem 3.3). For one question behind preambles of growing length:
//   (a) the attention mass the first answer position puts on the image tokens, per layer
//       (averaged over heads), and
//   (b) the drop in the answer's log-probability (teacher forced, summed over its tokens) when the
//       image is replaced by a neutral one (every pixel at the processor's mean: zeros after
//       normalisation).
#include <string>
#include <vector>

#include "data/conversation.h"
#include "image/processor.h"
#include "models/multimodal_lm.h"
#include "text/tokenizer.h"

namespace vista::analysis {

struct ContributionCase {
  std::string image_path, question, answer;
};

// Up to `limit` questions of an eval JSON-lines file (fields image, text, answer) that carry no
// preamble of their own (preamble_words absent or 0): the measurement adds its own preambles.
std::vector<ContributionCase> read_contribution_cases(const std::string& eval_jsonl, const std::string& images,
                                                      int64_t limit);

struct ContributionOptions {
  std::vector<int64_t> preamble_words = {0, 32, 96, 256};
  data::Template tmpl;
  image::ImageProcessorConfig processor;
  image::AspectMode aspect = image::AspectMode::kPad;
  uint64_t seed = 0;  // which filler sentences make the preambles
};

struct ContributionPoint {
  int64_t preamble_words = 0;
  int64_t cases = 0;  // questions that fit: the model neither truncates them nor runs out of positions
  std::vector<double> image_attention_layer;                       // mean over cases, per layer
  double image_attention = 0;                                      // mean over layers
  double logprob_real = 0, logprob_neutral = 0, logprob_drop = 0;  // means over cases
};

std::vector<ContributionPoint> measure_contribution(models::MultimodalLMImpl& model, const text::Tokenizer& tokenizer,
                                                    const std::vector<ContributionCase>& cases,
                                                    const ContributionOptions& options);

}  // namespace vista::analysis
