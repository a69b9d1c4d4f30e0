#pragma once
// The training objective of a LLaVA model: one call runs vision -> projector -> splice -> LLM and
// returns the total loss with each term. This layer composes models and losses; neither of
// those knows the other.
#include <torch/torch.h>

#include "losses/sea_infonce.h"
#include "losses/vista_alignment.h"
#include "models/model_loading.h"

namespace vista::objectives {

struct MultimodalBatch {
  torch::Tensor input_ids_BL;       // right padded, models::kImageTokenIndex placeholders
  torch::Tensor attention_mask_BL;
  torch::Tensor labels_BL;
  torch::Tensor pixel_values_BCHW;  // one (possibly dummy) image per sample; undefined = no images
  // SEA pairs (undefined when SEA is off): pair i is the visual token of sample sea_sample_N[i] at
  // patch sea_patch_N[i], labelled with the word whose LLM tokens are
  // sea_label_tokens_M[sea_label_offsets_N1[i] .. sea_label_offsets_N1[i+1]).
  torch::Tensor sea_sample_N{}, sea_patch_N{}, sea_label_tokens_M{}, sea_label_offsets_N1{};
};

struct ObjectiveOptions {
  bool vista_enabled = true;
  losses::VistaOptions vista;
  bool sea_enabled = false;
  double sea_lambda = 1.0;
  losses::SeaLossOptions sea;
  torch::Tensor sea_theta;  // [1] learnable log-temperature (trained with the projector)
};

struct ObjectiveTerms {
  torch::Tensor total;        // what to back-propagate
  torch::Tensor ce;           // token-mean shifted CE
  torch::Tensor vista;        // L_VISTA (measured but not added to total when disabled)
  torch::Tensor similarity;   // unweighted alignment score, logged only
  torch::Tensor num_targets;  // supervised tokens in the batch
  torch::Tensor num_aligned;  // samples counted by VISTA
  int64_t sequence_tokens = 0;  // LLM positions in the spliced batch (B x T)
  // The same terms as sums, so that ranks of a data-parallel run can normalise by the counts of
  // the whole global batch: ce = ce_sum / num_targets, vista = vista_sum / num_aligned.
  torch::Tensor ce_sum;          // with graph
  torch::Tensor vista_sum;       // with graph when VISTA is trained
  torch::Tensor similarity_sum;  // detached
  // SEA (undefined when off): the InfoNCE over this micro-batch's pairs, with graph.
  torch::Tensor sea;
  torch::Tensor sea_tau;
  int64_t sea_pairs = 0;
};

// What rank r back-propagates so that the gradients summed over ranks equal those of one process
// holding the whole global micro-batch: its sums over the global counts (each at least 1). SEA's
// in-batch negatives are per rank (no gather across ranks), so its term is the mean of the ranks'.
torch::Tensor data_parallel_loss(const ObjectiveTerms& local, double global_targets, double global_aligned,
                                 const ObjectiveOptions& options, int world_size);

ObjectiveTerms llava_objective(models::MultimodalLMImpl& model, const MultimodalBatch& batch,
                               const ObjectiveOptions& options);

}  // namespace vista::objectives
