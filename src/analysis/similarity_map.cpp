#include "analysis/similarity_map.h"

#include "analysis/image_as_seen.h"
#include "analysis/token_similarity.h"
#include "data/dataset.h"
#include "image/tensor.h"
#include "util/error.h"

namespace vista::analysis {

SimilarityMap similarity_map(models::MultimodalLMImpl& model, const text::Tokenizer& tokenizer,
                             const image::ImageProcessorConfig& processor, image::AspectMode aspect,
                             const std::string& image_path, const std::string& prompt) {
  torch::NoGradGuard no_grad;
  const auto device = model.parameters().front().device();
  const auto processed = data::load_image(image_path, processor, aspect);
  auto tokens_ND = model.encode_images(image::to_tensor(processed).unsqueeze(0).to(device))[0];
  const auto& vc = model.vision_config();
  const int64_t side = vc.image_size / vc.patch_size;
  if (tokens_ND.size(0) == side * side + 1) tokens_ND = tokens_ND.narrow(0, 1, side * side);  // CLS first
  if (tokens_ND.size(0) != side * side)
    fail("similarity map: {} image tokens are not a {}x{} grid", tokens_ND.size(0), side, side);
  const auto ids = tokenizer.encode_ids(prompt, false);
  if (ids.empty()) fail("similarity map: the prompt '{}' gives no token", prompt);
  const auto text_TD = model.language_model->embed(torch::tensor(ids, torch::kLong).unsqueeze(0).to(device))[0];
  const auto sim =
      image_text_similarity(tokens_ND.to(torch::kFloat).cpu(), text_TD.to(torch::kFloat).cpu()).contiguous();
  SimilarityMap out;
  out.values.assign(sim.data_ptr<double>(), sim.data_ptr<double>() + sim.numel());
  out.rows = out.cols = side;
  out.seen = image_as_seen(processed, processor);
  out.prompt_tokens = static_cast<int64_t>(ids.size());
  return out;
}

}  // namespace vista::analysis
