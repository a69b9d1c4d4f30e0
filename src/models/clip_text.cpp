#include "models/clip_text.h"

#include <limits>

#include "util/error.h"

namespace vista::models {

ClipTextEmbeddingsImpl::ClipTextEmbeddingsImpl(const io::ClipTextConfig& c) {
  token_embedding = register_module("token_embedding", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embedding =
      register_module("position_embedding", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
}

torch::Tensor ClipTextEmbeddingsImpl::forward(const torch::Tensor& input_ids_QS) {
  const int64_t s = input_ids_QS.size(1);
  if (s > position_embedding->weight.size(0))
    fail("CLIP text: {} tokens per row but max_position_embeddings is {}", s, position_embedding->weight.size(0));
  return token_embedding->forward(input_ids_QS) + position_embedding->weight.narrow(0, 0, s).unsqueeze(0);
}

ClipTextTransformerImpl::ClipTextTransformerImpl(const io::ClipTextConfig& c) : config_(c) {
  embeddings = register_module("embeddings", ClipTextEmbeddings(c));
  encoder = register_module("encoder", ClipEncoder(c.as_encoder_layer_config()));
  final_layer_norm = register_module("final_layer_norm", layer_norm(c.hidden_size, c.layer_norm_eps));
}

torch::Tensor end_of_text_positions(const torch::Tensor& input_ids_QS, int64_t eos_token_id) {
  if (eos_token_id == 2) return input_ids_QS.to(torch::kInt).argmax(-1);
  const auto is_eos_QS = input_ids_QS == eos_token_id;
  const auto has_eos_Q = is_eos_QS.any(-1);
  if (!has_eos_Q.all().item<bool>()) {
    const int64_t row = (~has_eos_Q).to(torch::kLong).argmax().item<int64_t>();
    fail("CLIP text: row {} holds no end-of-text token (id {}); every row must end with it before padding", row,
         eos_token_id);
  }
  return is_eos_QS.to(torch::kInt).argmax(-1);  // the first maximum: the first eos
}

ClipTextOutput ClipTextTransformerImpl::forward(const torch::Tensor& input_ids_QS,
                                                const torch::Tensor& attention_mask_QS,
                                                const HiddenStateObserver& observer) {
  const int64_t q = input_ids_QS.size(0), s = input_ids_QS.size(1);
  auto h = embeddings->forward(input_ids_QS);
  const auto dtype = h.scalar_type();
  const double lowest = dtype == torch::kDouble ? std::numeric_limits<double>::lowest()
                                                : static_cast<double>(std::numeric_limits<float>::lowest());
  auto blocked_Q1SS = torch::ones({s, s}, torch::dtype(torch::kBool).device(h.device())).triu(1).view({1, 1, s, s});
  if (attention_mask_QS.defined()) blocked_Q1SS = blocked_Q1SS | (attention_mask_QS == 0).view({q, 1, 1, s});
  const auto mask_Q1SS = torch::zeros(blocked_Q1SS.sizes(), h.options()).masked_fill(blocked_Q1SS, lowest);
  if (observer) observer(0, h);
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    h = encoder->layers->ptr(i)->as<VitEncoderLayerImpl>()->forward(h, mask_Q1SS);
    if (observer) observer(i + 1, h);
  }
  ClipTextOutput out;
  out.last_hidden_state_QSD = final_layer_norm->forward(h);
  const auto positions_Q = end_of_text_positions(input_ids_QS, config_.eos_token_id).to(torch::kLong);
  out.pooled_QD = out.last_hidden_state_QSD.index(
      {torch::arange(q, torch::dtype(torch::kLong).device(h.device())), positions_Q.to(h.device())});
  return out;
}

}  // namespace vista::models
