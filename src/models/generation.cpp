#include "models/generation.h"

#include "util/error.h"

namespace vista::models {

torch::Tensor right_to_left_padding(const torch::Tensor& x, const torch::Tensor& attention_mask_BT) {
  const int64_t T = attention_mask_BT.size(1);
  const auto lengths = attention_mask_BT.to(torch::kInt64).sum(1, true);  // [B,1]
  // Row content [0, len) moves to [T - len, T): new[j] = old[(j + len) mod T].
  auto index_BT = (torch::arange(T, lengths.options()).unsqueeze(0) + lengths) % T;
  if (x.dim() == 2) return x.gather(1, index_BT);
  return x.gather(1, index_BT.unsqueeze(-1).expand({x.size(0), T, x.size(2)}));
}

torch::Tensor last_position_logits(CausalLM& lm, const torch::Tensor& hidden_BTD) {
  return lm.logits(hidden_BTD.narrow(1, hidden_BTD.size(1) - 1, 1)).select(1, 0);
}

GenerationResult greedy_generate(CausalLM& lm, const torch::Tensor& inputs_embeds_BTD, const torch::Tensor& attention_mask_BT,
                                 const GenerationOptions& options) {
  torch::NoGradGuard no_grad;
  const auto B = inputs_embeds_BTD.size(0);
  const auto device = inputs_embeds_BTD.device();
  auto mask = attention_mask_BT.to(torch::kInt64);
  KVCache cache;
  auto positions = position_ids_from_mask(mask);
  auto logits = last_position_logits(lm, lm.hidden(inputs_embeds_BTD, mask, positions, nullptr, &cache));
  auto unfinished = torch::ones({B}, torch::TensorOptions().dtype(torch::kBool).device(device));
  auto lengths = torch::zeros({B}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  std::vector<torch::Tensor> ids, recorded;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    if (step < options.record_logit_steps) recorded.push_back(logits.to(torch::kFloat32));
    auto next = logits.argmax(-1);
    next = torch::where(unfinished, next, torch::full({}, options.pad_token_id, next.options()));
    lengths += unfinished.to(torch::kInt64);
    ids.push_back(next);
    if (options.eos_token_id >= 0) {
      unfinished = unfinished & (next != options.eos_token_id);
      if (!unfinished.any().item<bool>()) break;
    }
    if (step + 1 == options.max_new_tokens) break;
    mask = torch::cat({mask, torch::ones({B, 1}, mask.options())}, 1);
    const auto position = mask.sum(1, true) - 1;
    const auto embeds = lm.embed(next.unsqueeze(1));
    logits = last_position_logits(lm, lm.hidden(embeds, mask, position, nullptr, &cache));
  }
  GenerationResult result;
  result.ids_BN = torch::stack(ids, 1);
  if (!recorded.empty()) result.step_logits_KBV = torch::stack(recorded, 0);
  result.lengths_B = lengths;
  return result;
}

GenerationResult generate_multimodal(MultimodalLMImpl& model, const torch::Tensor& input_ids_BL,
                                     const torch::Tensor& attention_mask_BL, const torch::Tensor& pixel_values_BCHW,
                                     const GenerationOptions& options) {
  torch::NoGradGuard no_grad;
  torch::Tensor features;
  if (pixel_values_BCHW.defined()) features = model.encode_images(pixel_values_BCHW);
  const auto batch = model.prepare_inputs(input_ids_BL, attention_mask_BL, torch::Tensor(), features);
  const auto embeds = right_to_left_padding(batch.inputs_embeds_BTD, batch.attention_mask_BT);
  const auto mask = right_to_left_padding(batch.attention_mask_BT, batch.attention_mask_BT);
  return greedy_generate(*model.language_model, embeds, mask, options);
}

}  // namespace vista::models
