#include "train/train_step.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "data/collate.h"
#include "sea/pair_sampling.h"
#include "train/autocast.h"
#include "train/optimizer_setup.h"
#include "train/training_stopped.h"

namespace vista::train {

namespace {

// Per micro-batch, summed over ranks in one small collective.
enum Stat {
  kCeSum,
  kTargets,
  kVistaSum,
  kAligned,
  kSimilaritySum,
  kGood,
  kBad,
  kTokens,
  kSea,
  kSeaPairs,
  kSeaDrawn,
  kStatCount
};

}  // namespace

StepMetrics train_step(StepInputs& in, int64_t step, double lr_factor) {
  const auto& c = in.config;
  const int64_t accum = c.train.grad_accum;
  double loss_sum = 0, ce_sum = 0, vista_sum = 0, sim_sum = 0, sea_sum = 0;
  int64_t tokens = 0, aligned = 0, sea_pairs = 0, sea_drawn = 0;
  double data_wait = 0;
  std::vector<std::string> batch_ids;
  for (int64_t micro = 0; micro < accum; ++micro) {
    auto local = in.stream.next(in.parallel.rank(), in.parallel.world(), c.train.per_device_batch);
    data_wait += in.stream.last_wait_seconds();
    std::vector<double> stats(kStatCount, 0.0);
    stats[kGood] = static_cast<double>(local.examples.size());
    stats[kBad] = static_cast<double>(local.bad);
    objectives::ObjectiveTerms terms;
    std::vector<std::string> ids;
    if (!local.examples.empty()) {
      const auto batch = data::collate(local.examples, in.pad_id, c.data.max_length, in.channels, in.image_size, in.image_size);
      ids = batch.ids;
      batch_ids.insert(batch_ids.end(), ids.begin(), ids.end());
      objectives::MultimodalBatch mb{batch.input_ids_BL.to(in.device), batch.attention_mask_BL.to(in.device),
                                     batch.labels_BL.to(in.device), batch.pixel_values_BCHW.to(in.device)};
      if (in.sea)
        stats[kSeaDrawn] = static_cast<double>(
            add_sea_pairs(*in.sea, local.examples, sea::pair_seed(c.train.seed, step, micro, in.parallel.rank()), mb));
      {
        AutocastGuard autocast(c.train.bf16, in.device);
        terms = objectives::llava_objective(in.model, mb, in.objective);
      }
      stats[kCeSum] = terms.ce_sum.item<double>();
      stats[kTargets] = static_cast<double>(terms.num_targets.item<int64_t>());
      stats[kVistaSum] = terms.vista_sum.item<double>();
      stats[kAligned] = static_cast<double>(terms.num_aligned.item<int64_t>());
      stats[kSimilaritySum] = terms.similarity_sum.item<double>();
      stats[kTokens] = static_cast<double>(terms.sequence_tokens);
      if (terms.sea.defined()) {
        stats[kSea] = terms.sea.item<double>();
        stats[kSeaPairs] = static_cast<double>(terms.sea_pairs);
      }
    }
    const auto global = in.parallel.sum(stats);
    in.stream.account(static_cast<int64_t>(global[kGood]), static_cast<int64_t>(global[kBad]), step, local.first_bad);

    // One process keeps the objective's own means (bit for bit what it always logged); across
    // ranks the means come from the global sums and counts.
    double total = 0, ce = 0, vista = 0, similarity = 0, sea_term = 0;
    if (!in.parallel.distributed()) {
      if (terms.total.defined()) {
        total = terms.total.item<double>();
        ce = terms.ce.item<double>();
        vista = terms.vista.item<double>();
        similarity = terms.similarity.item<double>();
        sea_term = stats[kSea];
      }
    } else {
      sea_term = global[kSea] / static_cast<double>(in.parallel.world());
      ce = global[kCeSum] / std::max(global[kTargets], 1.0);
      vista = global[kVistaSum] / std::max(global[kAligned], 1.0);
      similarity = global[kSimilaritySum] / std::max(global[kAligned], 1.0);
      total = ce;
      if (in.objective.vista_enabled)
        total += (in.objective.vista.method == losses::VistaMethod::kL2 ? 1.0 : -1.0) * in.objective.vista.lambda * vista;
      if (in.objective.sea_enabled) total += in.objective.sea_lambda * sea_term;
    }
    if (!std::isfinite(total))
      throw TrainingStopped(fmt::format(
          "non-finite loss at step {} (micro-batch {}): total {} ce {} vista {} similarity {}; samples{}: {}", step, micro,
          total, ce, vista, similarity, in.parallel.distributed() ? fmt::format(" on rank {}", in.parallel.rank()) : "",
          fmt::join(ids, ", ")));

    in.parallel.before_backward(micro == accum - 1);
    if (terms.total.defined()) {
      const auto loss = in.parallel.distributed()
                            ? objectives::data_parallel_loss(terms, global[kTargets], global[kAligned], in.objective,
                                                             in.parallel.world())
                            : terms.total;
      (loss / static_cast<double>(accum)).backward();
    }
    loss_sum += total;
    ce_sum += ce;
    vista_sum += vista;
    sim_sum += similarity;
    sea_sum += sea_term;
    sea_pairs += static_cast<int64_t>(global[kSeaPairs]);
    sea_drawn += static_cast<int64_t>(global[kSeaDrawn]);
    tokens += static_cast<int64_t>(global[kTokens]);
    aligned += static_cast<int64_t>(global[kAligned]);
  }
  if (!in.parallel.distributed()) zero_missing_gradients(*in.optimizer.adamw);
  in.parallel.reduce_gradients();
  const double grad_norm = in.parallel.clip_gradients(c.optim.max_grad_norm);
  if (!std::isfinite(grad_norm))
    throw TrainingStopped(fmt::format("non-finite gradient norm at step {}; samples: {}", step, fmt::join(batch_ids, ", ")));
  in.optimizer.set_lr_factor(lr_factor);
  in.optimizer.adamw->step();
  if (in.parallel.distributed()) in.parallel.clear_gradients();
  else release_gradients(*in.optimizer.adamw);
  in.parallel.share_updated_parameters();

  const double n = static_cast<double>(accum);
  StepMetrics m;
  m.step = step;
  m.epoch = in.stream.position().epoch;
  m.loss = loss_sum / n;
  m.ce = ce_sum / n;
  m.vista = vista_sum / n;
  m.similarity = sim_sum / n;
  m.lr = in.optimizer.lr();
  m.grad_norm = grad_norm;
  m.tokens = tokens;
  m.samples = in.stream.position().samples_seen;
  m.bad_samples = in.stream.position().bad_samples;
  m.aligned = aligned;
  m.comm_wait_s = in.parallel.last_wait_seconds();
  m.data_wait_s = data_wait;
  if (in.objective.sea_enabled) {
    m.sea = sea_sum / n;
    m.tau = std::exp(std::max(in.objective.sea_theta.item<double>(), std::log(in.objective.sea.tau_min)));
    m.sea_pairs = sea_pairs;
    m.sea_drawn = sea_drawn;
  }
  return m;
}

}  // namespace vista::train
