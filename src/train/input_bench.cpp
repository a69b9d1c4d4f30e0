#include "train/input_bench.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <numeric>

#include "data/collate.h"
#include "data/example_loader.h"
#include "data/shapes.h"
#include "util/json_file.h"
#include "util/json_node.h"
#include "objectives/llava_objective.h"
#include "train/data_stream.h"
#include "train/optimizer_setup.h"
#include "train/step_bench.h"
#include "util/error.h"
#include "util/measure.h"
#include "runtime/threads.h"

namespace vista::train {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

struct ScratchDir {
  fs::path path;
  ScratchDir() : path(fs::temp_directory_path() / fmt::format("vista_bench_input_{}", ::getpid())) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
};

struct StepTime {
  double total = 0, wait = 0;
};

// One optimizer step as the trainer takes it: the stream's next micro-batch, collated, CE+VISTA
// forward and backward, clipping, AdamW.
StepTime timed_step(Bench& bench, DataStream& stream, int64_t batch, int64_t image_px) {
  const auto start = Clock::now();
  const auto local = stream.next(0, 1, batch);
  StepTime t;
  t.wait = stream.last_wait_seconds();
  if (local.examples.empty()) fail("bench input: a micro-batch without a good sample");
  const auto collated = data::collate(local.examples, 0, 2048, 3, image_px, image_px);
  objectives::MultimodalBatch mb{collated.input_ids_BL, collated.attention_mask_BL, collated.labels_BL,
                                 collated.pixel_values_BCHW};
  objectives::ObjectiveOptions objective;
  objective.vista_enabled = true;
  release_gradients(*bench.optimizer);
  const auto terms = objectives::llava_objective(*bench.model, mb, objective);
  terms.total.backward();
  zero_missing_gradients(*bench.optimizer);
  torch::nn::utils::clip_grad_norm_(bench.trainable, bench.clip_norm);
  bench.optimizer->step();
  if (!std::isfinite(terms.total.item<double>())) fail("bench input: non-finite loss");
  t.total = seconds_since(start);
  return t;
}

}  // namespace

nlohmann::json InputBenchResult::to_json() const {
  nlohmann::json arms_json = nlohmann::json::array();
  for (const auto& a : arms)
    arms_json.push_back({{"loader_threads", a.loader_threads},
                         {"step_s_median", a.step_s},
                         {"data_wait_s_median", a.wait_s},
                         {"data_wait_share", a.wait_share}});
  return {{"bench", "input_pipeline"},
          {"config", name},
          {"image_px", image_px},
          {"source_px", source_px},
          {"batch", batch},
          {"sample_load_ms_median", load_ms},
          {"arms", arms_json},
          {"peak_rss_mb", peak_rss_mb}};
}

InputBenchResult bench_input_pipeline(const std::string& path, const InputBenchOptions& options, std::ostream& out) {
  auto raw = read_json_file(path);
  if (options.image_px > 0) {
    if (!raw.contains("vision") || !raw["vision"].is_object()) fail("{}: field 'vision' must be an object", path);
    raw["vision"]["image_size"] = options.image_px;
  }
  const JsonNode cfg(raw, path);
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(cfg.integer_or("threads", 0));
  configure_threads(threads);
  InputBenchResult r;
  r.name = cfg.string_or("name", path);
  r.image_px = cfg.object("vision").integer("image_size");
  r.source_px = options.source_px > 0 ? options.source_px : 2 * r.image_px;
  r.batch = cfg.object("batch").integer("samples");
  fmt::print(out, "config: {} ({}), vision input {} px, images on disk {} px\n{}\n", r.name, path, r.image_px,
             r.source_px, threads_summary());
  auto bench = build_bench(cfg);

  const ScratchDir scratch;
  data::ShapesOptions shapes;
  shapes.image_size = r.source_px;
  shapes.pretrain_records = 1;
  shapes.eval_records = 1;
  shapes.text_only_records = 0;
  shapes.finetune_records = std::max<int64_t>(32, r.batch * (options.steps + 2));
  fmt::print(out, "writing {} shapes images of {} px to {}\n", shapes.finetune_records, r.source_px,
             scratch.path.string());
  const auto files = data::generate_shapes((scratch.path / "data").string(), shapes);
  data::DatasetOptions dopts;
  dopts.data_path = files.finetune_json;
  dopts.image_root = files.images;
  dopts.template_name = "vicuna_v1";
  dopts.processor.shortest_edge = dopts.processor.crop_height = dopts.processor.crop_width = r.image_px;
  dopts.aspect = image::AspectMode::kPad;
  dopts.image_tokens = bench.model->vision_config().num_patches();
  auto tokenizer = std::make_shared<const text::Tokenizer>(
      text::Tokenizer::from_dir(std::string(VISTA_SOURCE_DIR) + "/testdata/tokenizers/mistral7b"));
  if (static_cast<int64_t>(tokenizer->vocab_size()) > bench.model->config().text.vocab_size)
    fail("{}: llm.vocab_size {} is smaller than the bench tokenizer's {} (testdata/tokenizers/mistral7b)", path,
         bench.model->config().text.vocab_size, tokenizer->vocab_size());
  const data::LlavaDataset dataset(dopts, tokenizer);

  std::vector<double> load_s;
  for (size_t i = 0; i < std::min<size_t>(16, dataset.size()); ++i) {
    const auto start = Clock::now();
    const auto loaded = data::load_example(dataset, i);
    load_s.push_back(seconds_since(start));
    if (!loaded.problem.empty()) fail("bench input: {}", loaded.problem);
  }
  r.load_ms = 1e3 * median(load_s);
  fmt::print(out, "one sample (read, decode, preprocess, tokenize): {:.2f} ms\n", r.load_ms);

  for (const int loader_threads : options.loader_threads) {
    StreamOptions sopts;
    sopts.loader_threads = loader_threads;
    DataStream stream(dataset, sopts, {});
    timed_step(bench, stream, r.batch, r.image_px);  // warm-up
    std::vector<double> step_s, wait_s;
    for (int64_t i = 0; i < options.steps; ++i) {
      const auto t = timed_step(bench, stream, r.batch, r.image_px);
      step_s.push_back(t.total);
      wait_s.push_back(t.wait);
      fmt::print(out, "  loader threads {}: step {}/{} {:.3f} s, waited {:.2f} ms for data\n", loader_threads, i + 1,
                 options.steps, t.total, 1e3 * t.wait);
    }
    InputBenchArm arm;
    arm.loader_threads = loader_threads;
    arm.step_s = median(step_s);
    arm.wait_s = median(wait_s);
    arm.wait_share =
        std::accumulate(wait_s.begin(), wait_s.end(), 0.0) / std::accumulate(step_s.begin(), step_s.end(), 0.0);
    fmt::print(out, "loader threads {}: step {:.3f} s, waiting for data {:.2f} ms = {:.2f}% of step time\n",
               loader_threads, arm.step_s, 1e3 * arm.wait_s, 100.0 * arm.wait_share);
    r.arms.push_back(arm);
  }
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

}  // namespace vista::train
