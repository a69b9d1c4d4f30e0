#pragma once
// Answers (image, question) items with a model, its tokenizer and its conversation template:
// the generation prompt, image preprocessing, batched greedy decoding with left padding, and
// decoding up to the template's terminator. Shared by `vista generate`, `vista eval` and the demo.
#include <optional>
#include <string>
#include <vector>

#include "data/conversation.h"
#include "image/processor.h"
#include "models/multimodal_lm.h"
#include "text/tokenizer.h"

namespace vista::inference {

struct Question {
  std::string id;
  std::string image_path;  // empty: text-only
  std::string text;        // the question as the user writes it (no <image>)
};

struct AnswerOptions {
  int64_t max_new_tokens = 32;
  int64_t batch_size = 8;
};

class Answerer {
 public:
  Answerer(models::MultimodalLMImpl& model, const text::Tokenizer& tokenizer, data::Template tmpl,
           image::ImageProcessorConfig processor, image::AspectMode aspect);
  // One answer per question, in order. Results do not depend on batch_size (left padding, masked).
  std::vector<std::string> answer(const std::vector<Question>& questions, const AnswerOptions& options) const;
  int64_t eos_id() const { return eos_id_; }

 private:
  models::MultimodalLMImpl& model_;
  const text::Tokenizer& tokenizer_;
  data::Template template_;
  image::ImageProcessorConfig processor_;
  image::AspectMode aspect_;
  int64_t eos_id_ = -1;
};

}  // namespace vista::inference
