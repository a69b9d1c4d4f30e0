#include "train/trainer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <deque>
#include <chrono>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>

#include "data/collate.h"
#include "data/dataset.h"
#include "data/sampler.h"
#include "image/processor_config.h"
#include "io/model_companions.h"
#include "models/model_loading.h"
#include "models/model_saving.h"
#include "objectives/llava_objective.h"
#include "train/autocast.h"
#include "train/checkpoint.h"
#include "train/freezing.h"
#include "train/metrics_log.h"
#include "train/run_plots.h"
#include "train/schedule.h"
#include "util/error.h"
#include "util/threads.h"

namespace vista::train {

namespace fs = std::filesystem;

namespace {

std::atomic<int> g_signal{0};
void on_signal(int sig) { g_signal = sig; }

// The model for this run: a full checkpoint, or a vision tower + LLM with a new projector.
models::MultimodalLM build_model(const TrainConfig& c, torch::Device device) {
  if (!c.model.path.empty()) {
    auto model = models::load_multimodal(c.model.path, {});
    if (!c.model.projector_init.empty()) load_projector(c.model.projector_init, *model);
    model->to(device);
    return model;
  }
  io::LlavaConfig config;
  config.text = io::parse_decoder_config(io::read_config(c.model.llm));
  const auto vision = io::parse_vision_config(io::read_config(c.model.vision_tower));
  config.layout = config.text.family == "llama" ? io::Layout::kOfficialLlava : io::Layout::kTinyLlava;
  config.vision = vision;
  config.mm.mm_hidden_size = vision.hidden_size;
  config.mm.mm_projector_type = c.model.projector_type;
  config.mm.mm_vision_select_layer = c.model.select_layer;
  config.mm.mm_vision_select_feature = c.model.select_feature;
  config.mm.mm_vision_tower = fs::absolute(c.model.vision_tower).string();
  config.mm.image_aspect_ratio = c.data.image_aspect_ratio;
  config.mm.tokenizer_model_max_length = c.data.max_length;
  auto model = models::MultimodalLM(config, vision);  // the projector keeps libtorch's seeded default init
  models::load_strict(*model->vision_tower, models::CheckpointReader::open(c.model.vision_tower), {});
  models::load_strict(*model->language_model, models::CheckpointReader::open(c.model.llm), {});
  if (!c.model.projector_init.empty()) load_projector(c.model.projector_init, *model);
  model->to(device);
  return model;
}

image::ImageProcessorConfig processor_config(const TrainConfig& c, const io::VisionConfig& vision) {
  if (!c.data.processor.empty()) return image::load_processor_config(c.data.processor);
  const std::string tower = c.model.vision_tower.empty() ? "" : c.model.vision_tower + "/preprocessor_config.json";
  if (!tower.empty() && fs::exists(tower)) return image::load_processor_config(tower);
  const std::string own = c.model.path + "/preprocessor_config.json";
  if (!c.model.path.empty() && fs::exists(own)) return image::load_processor_config(own);
  image::ImageProcessorConfig p;  // CLIP defaults at the tower's resolution
  if (vision.family == "siglip") {
    p.kind = image::ProcessorKind::kSiglip;
    p.resize_shortest_edge = false;
    p.do_center_crop = false;
    p.resize_height = p.resize_width = vision.image_size;
    p.image_mean = {0.5, 0.5, 0.5};
    p.image_std = {0.5, 0.5, 0.5};
  } else {
    p.shortest_edge = p.crop_height = p.crop_width = vision.image_size;
  }
  return p;
}

// "" for a run from step 0. resume=auto takes the newest usable checkpoint of the run and names
// the damaged ones it passes over; an explicit folder is what the user asked for, so it is never
// replaced by another checkpoint or by step 0: missing or unusable, it is an error.
std::string checkpoint_to_resume(const TrainConfig& c) {
  if (c.train.resume == "none") return "";
  if (c.train.resume == "auto") {
    const auto candidates = list_checkpoints(c.run_dir);
    for (const auto& dir : candidates) {
      if (const auto problem = checkpoint_problem(dir)) {
        fmt::print(stderr, "checkpoint {} is unusable: {}; trying the previous one\n", dir, *problem);
        continue;
      }
      return dir;
    }
    if (!candidates.empty())
      fmt::print(stderr, "resume=auto: none of the {} checkpoints under {} is usable; starting from step 0\n",
                 candidates.size(), c.run_dir);
    return "";
  }
  if (!fs::is_directory(c.train.resume))
    fail("train.resume: checkpoint folder '{}' does not exist (resume=auto takes the newest checkpoint of the run, "
         "resume=none starts from step 0)", c.train.resume);
  if (const auto problem = checkpoint_problem(c.train.resume))
    fail("train.resume: checkpoint '{}' is unusable: {}", c.train.resume, *problem);
  return c.train.resume;
}

}  // namespace

TrainResult run_training(const TrainConfig& c) {
  // The checkpoint to resume from is settled before anything is loaded or written, so a wrong
  // explicit path fails at once and touches nothing.
  TrainResult result;
  result.resumed_from = checkpoint_to_resume(c);
  configure_threads(c.train.threads);
  const torch::Device device(c.train.device);
  fs::create_directories(c.run_dir);
  {
    std::ofstream out(fs::path(c.run_dir) / "config.json");
    out << c.resolved.dump(2) << "\n";
  }
  fmt::print(stderr, "vista train: run {} ; {} ; device {}\nresolved config:\n{}\n", c.run_dir, threads_summary(),
             c.train.device, c.resolved.dump(2));
  torch::manual_seed(c.train.seed);
  auto model = build_model(c, device);
  model->set_preprocessing(c.data.image_aspect_ratio, c.data.max_length);
  const auto trainables = freeze_for_stage(*model, c.train.stage, c.train.unfreeze_vision);
  model->language_model->set_gradient_checkpointing(c.train.gradient_checkpointing);
  if (trainables.all.empty()) fail("stage '{}' leaves no parameter to train", c.train.stage);
  auto adamw = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(c.optim.lr).betas({c.optim.beta1, c.optim.beta2}).eps(c.optim.eps).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!trainables.decay.empty()) groups.emplace_back(trainables.decay, adamw(c.optim.weight_decay));
  if (!trainables.no_decay.empty()) groups.emplace_back(trainables.no_decay, adamw(0.0));
  torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(c.optim.lr));

  auto tokenizer = std::make_shared<const text::Tokenizer>(text::Tokenizer::from_dir(c.data.tokenizer));
  data::DatasetOptions dopts;
  dopts.data_path = c.data.path;
  dopts.image_root = c.data.images;
  dopts.template_name = c.data.template_name;
  dopts.processor = processor_config(c, model->vision_config());
  dopts.aspect = c.data.image_aspect_ratio == "pad" ? image::AspectMode::kPad : image::AspectMode::kSquare;
  dopts.max_length = c.data.max_length;
  const data::LlavaDataset dataset(dopts, tokenizer);
  if (dataset.size() == 0) fail("{}: no records", c.data.path);
  const auto& vcfg = model->vision_config();
  const int64_t image_size = dopts.processor.do_center_crop ? dopts.processor.crop_height : dopts.processor.resize_height;
  const int64_t pad_id = model->config().text.pad_token_id >= 0 ? model->config().text.pad_token_id : 0;

  const int64_t per_epoch = steps_per_epoch(static_cast<int64_t>(dataset.size()), c.train.per_device_batch, 1, c.train.grad_accum);
  const int64_t total_steps = c.train.max_steps > 0 ? c.train.max_steps : per_epoch * c.train.epochs;
  const int64_t warmup = warmup_steps(c.optim.warmup_ratio, total_steps);

  TrainerState state;
  state.seed = c.train.seed;
  if (!result.resumed_from.empty()) {
    restore_checkpoint(result.resumed_from, *model, optimizer);
    state = read_trainer_state(result.resumed_from);
    result.resumed_step = state.step;
    fmt::print(stderr, "resumed from {} (resume={}; step {}, epoch {}, sample {})\n", result.resumed_from,
               c.train.resume == "auto" ? "auto" : "explicit", state.step, state.epoch, state.cursor);
  }

  auto order_for = [&](int64_t epoch) {
    std::vector<int64_t> order;
    if (c.data.group_by_modality_length) {
      std::vector<int64_t> lengths;
      for (size_t i = 0; i < dataset.size(); ++i) lengths.push_back(dataset.modality_length(i));
      order = data::modality_length_grouped_order(lengths, c.train.per_device_batch * c.train.grad_accum, 1,
                                                  c.train.seed + static_cast<uint64_t>(epoch));
    } else {
      order.resize(dataset.size());
      std::iota(order.begin(), order.end(), 0);
      std::mt19937_64 rng(c.train.seed + static_cast<uint64_t>(epoch));
      std::shuffle(order.begin(), order.end(), rng);
    }
    return order;
  };
  auto order = order_for(state.epoch);

  // Next micro-batch; bad samples are skipped and counted (or stop the run) by policy.
  auto next_batch = [&]() {
    std::vector<data::Example> examples;
    while (static_cast<int64_t>(examples.size()) < c.train.per_device_batch) {
      if (state.cursor >= static_cast<int64_t>(order.size())) {
        ++state.epoch;
        state.cursor = 0;
        order = order_for(state.epoch);
      }
      const auto index = static_cast<size_t>(order[static_cast<size_t>(state.cursor++)]);
      try {
        examples.push_back(dataset.get(index));
        ++state.samples_seen;
      } catch (const Error& e) {
        ++state.bad_samples;
        fmt::print(stderr, "bad sample skipped ({} so far): {}\n", state.bad_samples, e.what());
        if (c.data.bad_sample_policy == "stop") throw TrainingStopped(std::string("bad sample: ") + e.what());
        const double seen = static_cast<double>(state.samples_seen + state.bad_samples);
        if (seen >= 20 && state.bad_samples > c.data.max_bad_fraction * seen)
          throw TrainingStopped(fmt::format("{} of {} samples were bad (more than data.max_bad_fraction = {})",
                                            state.bad_samples, static_cast<int64_t>(seen), c.data.max_bad_fraction));
      }
    }
    auto batch = data::collate(examples, pad_id, c.data.max_length, vcfg.num_channels, image_size, image_size);
    return batch;
  };

  objectives::ObjectiveOptions objective;
  objective.vista_enabled = c.vista_enabled;
  objective.vista = c.vista;

  MetricsLog log(c.run_dir, total_steps, state.step > 0, state.step);
  g_signal = 0;
  auto previous_int = std::signal(SIGINT, on_signal);
  auto previous_term = std::signal(SIGTERM, on_signal);
  const auto layout = model->config().layout;
  auto save = [&] {
    result.last_checkpoint = save_checkpoint(c.run_dir, *model, optimizer, state, layout, c.train.keep_last);
    fmt::print(stderr, "checkpoint written: {}\n", result.last_checkpoint);
  };
  const auto start = std::chrono::steady_clock::now();
  const double elapsed_before = state.elapsed_s;
  std::deque<std::array<double, 3>> recent;
  try {
    while (state.step < total_steps) {
      double ce_sum = 0, vista_sum = 0, sim_sum = 0, loss_sum = 0;
      int64_t tokens = 0, aligned = 0;
      std::vector<std::string> batch_ids;
      for (int64_t micro = 0; micro < c.train.grad_accum; ++micro) {
        const auto batch = next_batch();
        batch_ids.insert(batch_ids.end(), batch.ids.begin(), batch.ids.end());
        const objectives::MultimodalBatch mb{batch.input_ids_BL.to(device), batch.attention_mask_BL.to(device),
                                             batch.labels_BL.to(device), batch.pixel_values_BCHW.to(device)};
        objectives::ObjectiveTerms terms;
        {
          AutocastGuard autocast(c.train.bf16, device);
          terms = objectives::llava_objective(*model, mb, objective);
        }
        const double total = terms.total.item<double>();
        if (!std::isfinite(total))
          throw TrainingStopped(fmt::format(
              "non-finite loss at step {} (micro-batch {}): total {} ce {} vista {} similarity {}; samples: {}",
              state.step + 1, micro, total, terms.ce.item<double>(), terms.vista.item<double>(),
              terms.similarity.item<double>(), fmt::join(batch.ids, ", ")));
        (terms.total / static_cast<double>(c.train.grad_accum)).backward();
        loss_sum += total;
        ce_sum += terms.ce.item<double>();
        vista_sum += terms.vista.item<double>();
        sim_sum += terms.similarity.item<double>();
        tokens += terms.sequence_tokens;
        aligned += terms.num_aligned.item<int64_t>();
      }
      const double grad_norm =
          torch::nn::utils::clip_grad_norm_(trainables.all, c.optim.max_grad_norm);
      if (!std::isfinite(grad_norm))
        throw TrainingStopped(fmt::format("non-finite gradient norm at step {}; samples: {}", state.step + 1,
                                          fmt::join(batch_ids, ", ")));
      const double lr = c.optim.lr * lr_factor(c.optim.schedule, state.step, warmup, total_steps);
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      optimizer.step();
      optimizer.zero_grad();
      ++state.step;
      ++result.steps_run;
      state.elapsed_s = elapsed_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double n = static_cast<double>(c.train.grad_accum);
      // Named fields: a positional list silently shifted when a field was added (elapsed_s landed in aligned).
      StepMetrics m;
      m.step = state.step;
      m.epoch = state.epoch;
      m.loss = loss_sum / n;
      m.ce = ce_sum / n;
      m.vista = vista_sum / n;
      m.similarity = sim_sum / n;
      m.lr = lr;
      m.grad_norm = grad_norm;
      m.tokens = tokens;
      m.samples = state.samples_seen;
      m.bad_samples = state.bad_samples;
      m.aligned = aligned;
      m.elapsed_s = state.elapsed_s;
      log.record(m, c.train.log_every);
      result.final_ce = m.ce;
      result.final_vista = m.vista;
      result.final_similarity = m.similarity;
      if (aligned > 0) {
        recent.push_back({m.ce, m.vista, m.similarity});
        if (recent.size() > 20) recent.pop_front();
      }
      const bool stop_now = (c.train.stop_after_steps > 0 && state.step >= c.train.stop_after_steps) || g_signal != 0;
      if (stop_now || state.step % c.train.save_every == 0 || state.step == total_steps) save();
      if (stop_now) {
        result.interrupted = true;
        if (g_signal) fmt::print(stderr, "signal {} received: checkpoint written, exiting\n", g_signal.load());
        break;
      }
    }
  } catch (...) {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    throw;
  }
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  log.finish();
  result.steps = state.step;
  result.bad_samples = state.bad_samples;
  for (const auto& r : recent) {
    result.recent_ce += r[0] / static_cast<double>(recent.size());
    result.recent_vista += r[1] / static_cast<double>(recent.size());
    result.recent_similarity += r[2] / static_cast<double>(recent.size());
  }
  result.finished = state.step >= total_steps;
  if (result.finished) {
    result.final_dir = (fs::path(c.run_dir) / "final").string();
    models::save_multimodal(*model, result.final_dir, {layout});
    save_projector(result.final_dir + "/mm_projector.safetensors", *model);
    fs::copy_file(fs::path(c.run_dir) / "config.json", fs::path(result.final_dir) / "train_config.json",
                  fs::copy_options::overwrite_existing);
    image::save_processor_config(result.final_dir + "/preprocessor_config.json", dopts.processor);
    // A final folder is self-contained for generate / eval and for the reference loaders: tokenizer
    // (with a chat template of the run's conversation template), processor, generation defaults.
    io::write_model_companions(result.final_dir, {c.data.tokenizer, result.final_dir + "/preprocessor_config.json",
                                                  c.data.template_name});
    fmt::print(stderr, "training finished: {} steps, final model in {}\n", state.step, result.final_dir);
  }
  if (c.train.plot && state.step > 0) plot_run(c.run_dir);
  return result;
}

}  // namespace vista::train
