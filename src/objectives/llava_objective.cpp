#include "objectives/llava_objective.h"

#include "losses/cross_entropy.h"

namespace vista::objectives {

ObjectiveTerms llava_objective(models::MultimodalLMImpl& model, const MultimodalBatch& batch,
                               const ObjectiveOptions& options) {
  torch::Tensor features;
  if (batch.pixel_values_BCHW.defined()) features = model.encode_images(batch.pixel_values_BCHW);
  const auto spliced = model.prepare_inputs(batch.input_ids_BL, batch.attention_mask_BL, batch.labels_BL, features);
  const auto hidden = model.hidden(spliced);
  const auto ce = losses::shifted_cross_entropy(model.logits(hidden), spliced.labels_BT);

  ObjectiveTerms terms;
  terms.ce = ce.loss;
  terms.num_targets = ce.num_targets;
  terms.sequence_tokens = spliced.inputs_embeds_BTD.size(0) * spliced.inputs_embeds_BTD.size(1);
  if (options.vista_enabled) {
    const auto vista = losses::vista_alignment(hidden, spliced.last_image_pos_B, spliced.text_embeds_PD,
                                               spliced.text_offsets_B1, options.vista);
    terms.vista = vista.term;
    terms.similarity = vista.similarity;
    terms.num_aligned = vista.valid_B.sum();
    terms.total = losses::combine_with_ce(ce.loss, vista, options.vista);
  } else {
    // CE-only runs still report the alignment they reach, measured without a graph.
    torch::NoGradGuard no_grad;
    const auto vista = losses::vista_alignment(hidden.detach(), spliced.last_image_pos_B, spliced.text_embeds_PD.detach(),
                                               spliced.text_offsets_B1, options.vista);
    terms.vista = vista.term;
    terms.similarity = vista.similarity;
    terms.num_aligned = vista.valid_B.sum();
    terms.total = ce.loss;
  }
  return terms;
}

}  // namespace vista::objectives
