#include "inference/answer.h"

#include <cstring>

#include "data/dataset.h"
#include "data/prompt_tokenizer.h"
#include "models/generation.h"
#include "util/error.h"

namespace vista::inference {

Answerer::Answerer(models::MultimodalLMImpl& model, const text::Tokenizer& tokenizer, data::Template tmpl,
                   image::ImageProcessorConfig processor, image::AspectMode aspect)
    : model_(model), tokenizer_(tokenizer), template_(std::move(tmpl)), processor_(std::move(processor)), aspect_(aspect) {
  // Generation ends where training answers ended: the template's terminator token.
  if (const auto id = tokenizer_.token_to_id(template_.terminator)) eos_id_ = *id;
  else if (model_.config().text.eos_token_id >= 0) eos_id_ = model_.config().text.eos_token_id;
}

std::vector<std::string> Answerer::answer(const std::vector<Question>& questions, const AnswerOptions& options) const {
  std::vector<std::string> answers;
  const auto device = model_.parameters()[0].device();
  const int64_t side = processor_.do_center_crop ? processor_.crop_height : processor_.resize_height;
  const int64_t pad = model_.config().text.pad_token_id >= 0 ? model_.config().text.pad_token_id : 0;
  for (size_t start = 0; start < questions.size(); start += static_cast<size_t>(options.batch_size)) {
    const size_t end = std::min(questions.size(), start + static_cast<size_t>(options.batch_size));
    const int64_t B = static_cast<int64_t>(end - start);
    std::vector<std::vector<int64_t>> prompts;
    int64_t L = 0;
    for (size_t i = start; i < end; ++i) {
      const bool has_image = !questions[i].image_path.empty();
      prompts.push_back(data::tokenize_with_images(tokenizer_, data::generation_prompt(template_, questions[i].text, has_image)));
      L = std::max<int64_t>(L, static_cast<int64_t>(prompts.back().size()));
    }
    auto ids = torch::full({B, L}, pad, torch::kInt64);
    auto mask = torch::zeros({B, L}, torch::kInt64);
    auto pixels = torch::zeros({B, 3, side, side});
    for (int64_t b = 0; b < B; ++b) {
      const auto& p = prompts[static_cast<size_t>(b)];
      for (size_t t = 0; t < p.size(); ++t) {
        ids[b][static_cast<int64_t>(t)] = p[t];
        mask[b][static_cast<int64_t>(t)] = 1;
      }
      const auto& q = questions[start + static_cast<size_t>(b)];
      if (!q.image_path.empty()) {
        const auto img = data::load_image(q.image_path, processor_, aspect_);
        std::memcpy(pixels[b].data_ptr<float>(), img.values.data(), img.values.size() * sizeof(float));
      }
    }
    models::GenerationOptions gen;
    gen.max_new_tokens = options.max_new_tokens;
    gen.eos_token_id = eos_id_;
    gen.pad_token_id = pad;
    const auto result =
        models::generate_multimodal(model_, ids.to(device), mask.to(device), pixels.to(device), gen);
    const auto out = result.ids_BN.cpu();
    for (int64_t b = 0; b < B; ++b) {
      std::vector<int64_t> tokens;
      for (int64_t t = 0; t < out.size(1); ++t) {
        const auto id = out[b][t].item<int64_t>();
        if (id == eos_id_) break;
        tokens.push_back(id);
      }
      auto text = tokenizer_.decode(tokens, /*skip_special_tokens=*/true);
      const auto first = text.find_first_not_of(" \n\t");
      const auto last = text.find_last_not_of(" \n\t");
      answers.push_back(first == std::string::npos ? "" : text.substr(first, last - first + 1));
    }
  }
  return answers;
}

}  // namespace vista::inference
