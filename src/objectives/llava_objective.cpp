#include "objectives/llava_objective.h"

#include <algorithm>
#include <optional>

#include "losses/cross_entropy.h"
#include "objectives/read_positions.h"
#include "sea/labels.h"
#include "util/error.h"

namespace vista::objectives {

ObjectiveTerms llava_objective(models::MultimodalLMImpl& model, const MultimodalBatch& batch,
                               const ObjectiveOptions& options) {
  torch::Tensor features;
  if (batch.pixel_values_BCHW.defined()) features = model.encode_images(batch.pixel_values_BCHW);
  const auto spliced = model.prepare_inputs(batch.input_ids_BL, batch.attention_mask_BL, batch.labels_BL, features);
  // The LLM's last layer and the vocabulary logits only where a loss reads them: the same CE and
  // VISTA terms as from every position.
  const auto read = read_positions(spliced.labels_BT, spliced.last_image_pos_B);
  const auto hidden_BND = model.hidden_at(spliced, read.positions_BN);
  const auto hidden_rows = hidden_BND.reshape({-1, hidden_BND.size(2)}).index_select(0, read.ce_rows_R);
  const auto ce = losses::cross_entropy_rows(model.logits(hidden_rows.unsqueeze(0)).squeeze(0), read.targets_R);

  ObjectiveTerms terms;
  terms.ce = ce.loss;
  terms.ce_sum = ce.sum;
  terms.num_targets = ce.num_targets;
  terms.sequence_tokens = spliced.inputs_embeds_BTD.size(0) * spliced.inputs_embeds_BTD.size(1);
  {
    // CE-only runs still report the alignment they reach, measured without a graph.
    std::optional<torch::NoGradGuard> measured_only;
    if (!options.vista_enabled) measured_only.emplace();
    const auto graph_or_detached = [&](const torch::Tensor& t) { return options.vista_enabled ? t : t.detach(); };
    const auto vista =
        losses::vista_alignment(graph_or_detached(hidden_BND), read.last_image_n_B,
                                graph_or_detached(spliced.text_embeds_PD), spliced.text_offsets_B1, options.vista);
    terms.vista = vista.term;
    terms.similarity = vista.similarity;
    terms.num_aligned = vista.valid_B.sum();
    terms.vista_sum = vista.per_sample_B.sum();
    terms.similarity_sum = vista.similarity * terms.num_aligned.clamp_min(1).to(vista.similarity.scalar_type());
    terms.total = options.vista_enabled ? losses::combine_with_ce(ce.loss, vista, options.vista) : ce.loss;
  }
  if (options.sea_enabled) {
    if (!options.sea_theta.defined()) fail("sea: the objective has no temperature parameter");
    if (!features.defined() || !batch.sea_sample_N.defined() || batch.sea_sample_N.numel() == 0) {
      // No pair in this micro-batch: a zero that still reaches theta, so every rank's
      // backward touches the same parameters.
      terms.sea = options.sea_theta.sum() * 0;
      terms.sea_tau = options.sea_theta.detach().exp();
    } else {
      const auto device = features.device();
      const auto visual_ND = features.index({batch.sea_sample_N.to(device), batch.sea_patch_N.to(device)});
      // Label embeddings are constants (the embedding table is frozen in stage 1; in stage 2 SEA
      // must not move the vocabulary toward the adapter either).
      const auto label_ND = sea::label_embeddings(model.language_model->embedding_weight().detach(),
                                                  batch.sea_label_tokens_M, batch.sea_label_offsets_N1);
      const auto sea = losses::sea_infonce(visual_ND, label_ND, options.sea_theta, options.sea);
      terms.sea = sea.loss;
      terms.sea_tau = sea.tau;
      terms.sea_pairs = sea.pairs;
    }
    terms.total = terms.total + options.sea_lambda * terms.sea;
  }
  return terms;
}

torch::Tensor data_parallel_loss(const ObjectiveTerms& local, double global_targets, double global_aligned,
                                 const ObjectiveOptions& options, int world_size) {
  auto total = local.ce_sum / std::max(global_targets, 1.0);
  if (options.vista_enabled) {
    const double sign = options.vista.method == losses::VistaMethod::kL2 ? 1.0 : -1.0;
    total = total + (sign * options.vista.lambda / std::max(global_aligned, 1.0)) * local.vista_sum;
  }
  if (options.sea_enabled && local.sea.defined())
    total = total + (options.sea_lambda / static_cast<double>(std::max(world_size, 1))) * local.sea;
  return total;
}

}  // namespace vista::objectives
