// CE and CE+SEA stage-1 steps interleaved in one run (drift hits both alike), plus SEA's two parts
// timed alone: the CPU side (label lookup, sampling, word tokens) and the loss on the device.
#include "train/sea_bench.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <torch/torch.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "util/json_file.h"
#include "util/json_node.h"
#include "losses/sea_infonce.h"
#include "sea/label_file.h"
#include "sea/labels.h"
#include "sea/pair_sampling.h"
#include "sea/word_tokens.h"
#include "train/step_bench.h"
#include "util/error.h"
#include "util/measure.h"
#include "runtime/threads.h"

namespace vista::train {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

std::string SeaBenchResult::to_json() const {
  return fmt::format(
      "{{\"bench\":\"sea_step\",\"config\":\"{}\",\"ce_step_s_median\":{:.4f},\"sea_step_s_median\":{:.4f},"
      "\"sea_over_ce\":{:.4f},\"sampling_s\":{:.5f},\"loss_s\":{:.5f},\"pairs_per_batch\":{:.1f}}}",
      name, ce_step_s, sea_step_s, sea_step_s / ce_step_s, sampling_s, loss_s, pairs);
}

SeaBenchResult bench_sea_step(const std::string& path, int threads_override, std::ostream& out,
                              const std::string& device_name, int64_t num_words) {
  const JsonNode cfg = JsonNode::owning(read_json_file(path), path);
  configure_threads(threads_override > 0 ? threads_override : static_cast<int>(cfg.integer_or("threads", 0)));
  fmt::print(out, "config: {} ({})\n{}\n", cfg.string_or("name", path), path, threads_summary());
  auto bench = build_bench(cfg);
  const torch::Device device(device_name);
  // Stage 1: the projector (and SEA's theta) train; everything else is frozen.
  std::vector<torch::Tensor> trainable;
  for (auto& p : bench.model->named_parameters()) {
    const bool train = p.key().rfind("projector.", 0) == 0;
    p.value().set_requires_grad(train);
    if (train) trainable.push_back(p.value());
  }
  bench.model->to(device);
  auto theta = torch::zeros({1}, torch::dtype(torch::kFloat).device(device)).requires_grad_(true);
  trainable.push_back(theta);
  torch::optim::AdamW optimizer(trainable, torch::optim::AdamWOptions(1e-3));
  auto batch = bench.batch;
  batch = {batch.input_ids_BL.to(device), batch.attention_mask_BL.to(device), batch.labels_BL.to(device),
           batch.pixel_values_BCHW.to(device)};

  const auto& vision = bench.model->vision_config();
  const int64_t side = vision.image_size / vision.patch_size, patches = side * side, top_n = 10;
  const int64_t samples = batch.input_ids_BL.size(0);
  const int64_t vocab = bench.model->config().text.vocab_size;
  torch::manual_seed(1);
  // A real label file, so the timed lookup is the training path's (mapped records, fp16 scores).
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("vista_sea_bench_{}", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  sea::LabelFileHeader header;
  header.top_n = top_n;
  header.grid_rows = header.grid_cols = side;
  header.num_words = num_words;
  header.words_hash = "bench";
  for (int64_t b = 0; b < samples; ++b) header.images.push_back(fmt::format("image{}.png", b));
  {
    sea::LabelFileWriter writer((dir / "labels").string(), header);
    for (int64_t b = 0; b < samples; ++b) {
      const auto scores = std::get<0>(torch::rand({patches, top_n}).mul(0.3).sort(-1, true));
      writer.append(torch::randint(num_words, {patches, top_n}, torch::kLong), scores, scores >= 0);
    }
    writer.finish();
  }
  const auto labels = sea::LabelFile::open((dir / "labels").string());
  std::vector<int64_t> ids, offsets{0};
  for (int64_t w = 0; w < num_words; ++w) {
    for (int64_t k = 0; k <= w % 3; ++k) ids.push_back(3 + (w * 7919 + k * 104729) % (vocab - 3));
    offsets.push_back(static_cast<int64_t>(ids.size()));
  }
  const sea::WordTokens words{torch::tensor(ids), torch::tensor(offsets)};
  const auto windows = sea::window_patch_ids(side, side, 2);
  uint64_t draw = 0;
  double pairs_total = 0;
  int64_t pair_batches = 0;
  auto add_pairs = [&] {
    std::vector<std::optional<sea::PatchLabels>> batch_labels;
    for (const auto& image : header.images) batch_labels.emplace_back(labels.labels(image));
    const auto pairs = sea::sample_pairs(batch_labels, windows, sea::pair_seed(0, static_cast<int64_t>(draw++), 0, 0));
    const auto tokens = sea::select_words(words, pairs.word_N);
    batch.sea_sample_N = pairs.sample_N;
    batch.sea_patch_N = pairs.patch_N;
    batch.sea_label_tokens_M = tokens.token_ids_M;
    batch.sea_label_offsets_N1 = tokens.offsets_Q1;
    pairs_total += static_cast<double>(pairs.size());
    ++pair_batches;
  };
  auto step = [&](bool sea_on) {
    objectives::ObjectiveOptions options;
    options.vista_enabled = false;
    options.sea_enabled = sea_on;
    options.sea_theta = theta;
    const auto start = Clock::now();
    if (sea_on) add_pairs();
    optimizer.zero_grad();
    const auto terms = objectives::llava_objective(*bench.model, batch, options);
    terms.total.backward();
    torch::nn::utils::clip_grad_norm_(trainable, 1.0);
    optimizer.step();
    if (!std::isfinite(terms.total.item<double>())) fail("bench sea: non-finite loss");
    return seconds_since(start);
  };
  const auto steps = cfg.object("steps");
  for (int64_t i = 0; i < steps.integer("warmup"); ++i) {
    step(false);
    step(true);
  }
  std::vector<double> ce, with_sea;
  for (int64_t i = 0; i < steps.integer("timed"); ++i) {
    ce.push_back(step(false));
    with_sea.push_back(step(true));
  }
  SeaBenchResult r;
  r.name = cfg.string_or("name", path) + "+stage1";
  r.ce_step_s = median(ce);
  r.sea_step_s = median(with_sea);
  r.pairs = pairs_total / static_cast<double>(std::max<int64_t>(pair_batches, 1));
  std::vector<double> sampling, loss;
  const auto features = bench.model->encode_images(batch.pixel_values_BCHW).detach().requires_grad_(true);
  for (int i = 0; i < 20; ++i) {
    auto t = Clock::now();
    add_pairs();
    sampling.push_back(seconds_since(t));
    t = Clock::now();
    const auto visual = features.index({batch.sea_sample_N.to(device), batch.sea_patch_N.to(device)});
    const auto label = sea::label_embeddings(bench.model->language_model->embedding_weight().detach(),
                                             batch.sea_label_tokens_M, batch.sea_label_offsets_N1);
    losses::sea_infonce(visual, label, theta).loss.backward();
    if (device.is_cuda()) torch::cuda::synchronize();
    loss.push_back(seconds_since(t));
  }
  r.sampling_s = median(sampling);
  r.loss_s = median(loss);
  std::filesystem::remove_all(dir);
  fmt::print(out, "stage 1, {} samples of {} patches, {} words: {:.1f} pairs per micro-batch after de-duplication\n",
             samples, patches, num_words, r.pairs);
  fmt::print(out, "ce      step {:.4f} s\nce+sea  step {:.4f} s\nratio ce+sea / ce: {:.4f}  (SEA adds {:+.2f}%)\n",
             r.ce_step_s, r.sea_step_s, r.sea_step_s / r.ce_step_s, 100.0 * (r.sea_step_s / r.ce_step_s - 1.0));
  fmt::print(out, "SEA alone: labels + sampling {:.2f} ms ({:.2f}% of a CE step), loss fwd+bwd {:.2f} ms ({:.2f}%)\n",
             1e3 * r.sampling_s, 100.0 * r.sampling_s / r.ce_step_s, 1e3 * r.loss_s, 100.0 * r.loss_s / r.ce_step_s);
  return r;
}

}  // namespace vista::train
