#include "train/trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "data/dataset.h"
#include "dist/communicator.h"
#include "dist/launch_env.h"
#include "train/checkpoint.h"
#include "train/data_parallel.h"
#include "train/data_stream.h"
#include "train/final_export.h"
#include "train/freezing.h"
#include "train/lora_setup.h"
#include "train/metrics_log.h"
#include "train/model_setup.h"
#include "train/optimizer_setup.h"
#include "train/run_plots.h"
#include "train/schedule.h"
#include "train/sea_setup.h"
#include "train/signal_guard.h"
#include "train/train_step.h"
#include "util/error.h"
#include "runtime/cuda_support.h"
#include "runtime/threads.h"

namespace vista::train {

namespace fs = std::filesystem;

namespace {

// "" for a run from step 0. resume=auto takes the newest usable checkpoint of the run and names
// the damaged ones it passes over; an explicit folder is what the user asked for, so it is never
// replaced by another checkpoint or by step 0: missing or unusable, it is an error.
std::string checkpoint_to_resume(const TrainConfig& c, bool verbose) {
  if (c.train.resume == "none") return "";
  if (c.train.resume == "auto") {
    const auto candidates = list_checkpoints(c.run_dir);
    for (const auto& dir : candidates) {
      if (const auto problem = checkpoint_problem(dir)) {
        if (verbose) fmt::print(stderr, "checkpoint {} is unusable: {}; trying the previous one\n", dir, *problem);
        continue;
      }
      return dir;
    }
    if (!candidates.empty() && verbose)
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

// The process group of a multi-process launch (torchrun, SLURM, --nproc-per-node); none alone.
std::unique_ptr<dist::Communicator> connect_ranks(const TrainConfig& c, const dist::LaunchEnv& env) {
  if (!env.distributed()) return nullptr;
  std::string backend = c.dist.backend;
  if (backend == "auto") backend = c.train.device.rfind("cuda", 0) == 0 ? "nccl" : "gloo";
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(c.dist.timeout_s * 1000));
  return dist::Communicator::connect(env, backend, timeout);
}

// One device per local rank: "cuda" becomes cuda:LOCAL_RANK.
torch::Device run_device(const TrainConfig& c, const dist::LaunchEnv& env) {
  runtime::require_cuda_for(c.train.device);
  if (env.distributed() && c.train.device == "cuda") return torch::Device(torch::kCUDA, static_cast<int8_t>(env.local_rank));
  return torch::Device(c.train.device);
}

// train.threads = 0 means all cores, shared among this machine's ranks.
int threads_per_rank(const TrainConfig& c, const dist::LaunchEnv& env) {
  if (c.train.threads > 0 || env.local_world_size <= 1) return c.train.threads;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / env.local_world_size);
}

}  // namespace

TrainResult run_training(const TrainConfig& c) {
  const auto env = dist::read_launch_env();
  const bool lead = env.rank == 0;  // logs, plots and writes what exists once
  // The checkpoint to resume from is settled before anything is loaded or written, so a wrong
  // explicit path fails at once and touches nothing.
  TrainResult result;
  result.resumed_from = checkpoint_to_resume(c, lead);
  configure_threads(threads_per_rank(c, env));
  const auto comm = connect_ranks(c, env);
  const auto device = run_device(c, env);
  if (lead) {
    fs::create_directories(c.run_dir);
    std::ofstream(fs::path(c.run_dir) / "config.json") << c.resolved.dump(2) << "\n";
    fmt::print(stderr, "vista train: run {} ; {} ; device {}{}\nresolved config:\n{}\n", c.run_dir, threads_summary(),
               device.str(),
               comm ? fmt::format(" ; {} ranks ({}, {}, ZeRO-{})", env.world_size, env.source, comm->backend(), c.train.zero)
                    : "",
               c.resolved.dump(2));
  }
  torch::manual_seed(c.train.seed);
  auto model = build_model(c, device);
  model->set_preprocessing(c.data.image_aspect_ratio, c.data.max_length);
  const bool lora = c.train.lora.enabled;
  std::string base_hash;  // LoRA: the identity of the frozen base, checked on resume
  if (lora) {
    base_hash = base_content_hash(c);
    const auto adapted = models::add_lora_adapters(*model, lora_options(c));
    if (lead)
      fmt::print(stderr, "LoRA: r {} alpha {} on {} layers; base {}\n", c.train.lora.r, c.train.lora.alpha, adapted.size(),
                 base_hash);
  }
  auto trainables = freeze_for_stage(*model, c.train.stage, c.train.unfreeze_vision, lora);
  // SEA's temperature trains with the projector: one more parameter for the optimizer and the
  // gradient reduction, kept in the trainer state rather than in the model.
  torch::Tensor sea_theta;
  if (c.sea.enabled) {
    sea_theta = make_sea_theta(c, device);
    trainables.all.push_back(sea_theta);
    trainables.names.push_back("sea.theta");
    trainables.no_decay.push_back(sea_theta);
  }
  if (lora) {
    const auto dtype = lora_base_dtype(c, device);
    keep_frozen_llm_in(*model, dtype);
    result.lora_base_dtype = c10::toString(dtype);
  }
  model->language_model->set_gradient_checkpointing(c.train.gradient_checkpointing);
  if (trainables.all.empty()) fail("stage '{}' leaves no parameter to train", c.train.stage);
  DataParallel parallel(comm.get(), trainables.all, trainables.names, c.train.zero, c.dist.bucket_mb);
  auto optimizer = make_adamw(parallel.slices(), c.optim, lora ? learning_rates(trainables, c) : std::vector<double>{});

  auto tokenizer = std::make_shared<const text::Tokenizer>(text::Tokenizer::from_dir(c.data.tokenizer));
  data::DatasetOptions dopts;
  dopts.data_path = c.data.path;
  dopts.image_root = c.data.images;
  dopts.template_name = c.data.template_name;
  dopts.processor = processor_config(c, model->vision_config());
  dopts.aspect = c.data.image_aspect_ratio == "pad" ? image::AspectMode::kPad : image::AspectMode::kSquare;
  dopts.max_length = c.data.max_length;
  const data::LlavaDataset dataset(dopts, tokenizer);

  const int64_t global_batch = c.train.per_device_batch * parallel.world();
  const int64_t per_epoch = steps_per_epoch(static_cast<int64_t>(dataset.size()), c.train.per_device_batch,
                                            parallel.world(), c.train.grad_accum);
  const int64_t total_steps = c.train.max_steps > 0 ? c.train.max_steps : per_epoch * c.train.epochs;
  const int64_t warmup = warmup_steps(c.optim.warmup_ratio, total_steps);

  TrainerState state;
  state.seed = c.train.seed;
  if (!result.resumed_from.empty()) {
    if (is_adapter_checkpoint(result.resumed_from) != lora)
      fail("{} is {} checkpoint but train.lora.enabled is {}", result.resumed_from,
           lora ? "a full-model" : "a LoRA adapter", lora ? "true" : "false");
    if (lora) {
      load_adapter_checkpoint(result.resumed_from, *model, base_hash);
      restore_rng(result.resumed_from);
    } else {
      restore_checkpoint(result.resumed_from, *model);
    }
    restore_optimizer(result.resumed_from, *optimizer.adamw, parallel.slices());
    state = read_trainer_state(result.resumed_from);
    result.resumed_step = state.step;
    if (c.sea.enabled != state.sea_theta.has_value())
      fail("{}: {} SEA temperature but loss.sea.enabled is {}", result.resumed_from,
           state.sea_theta ? "holds a" : "holds no", c.sea.enabled ? "true" : "false");
    if (state.sea_theta) {
      torch::NoGradGuard no_grad;
      sea_theta.fill_(*state.sea_theta);
    }
    if (lead)
      fmt::print(stderr, "resumed from {} (resume={}; step {}, epoch {}, sample {}; written by {} rank(s), ZeRO-{})\n",
                 result.resumed_from, c.train.resume == "auto" ? "auto" : "explicit", state.step, state.epoch,
                 state.cursor, state.world_size, state.zero);
  }
  if (parallel.distributed()) {
    const auto steps = parallel.sum({static_cast<double>(state.step)});
    if (steps[0] != static_cast<double>(state.step) * parallel.world())
      fail("rank {} resumes from step {} but the ranks disagree (do they all see the same run folder {}?)", parallel.rank(),
           state.step, c.run_dir);
  }
  parallel.broadcast_model(*model);
  state.world_size = parallel.world();
  state.zero = c.train.zero;

  StreamOptions sopts;
  sopts.seed = c.train.seed;
  sopts.group_by_modality_length = c.data.group_by_modality_length;
  sopts.megabatch = global_batch * c.train.grad_accum;
  sopts.bad_sample_policy = c.data.bad_sample_policy;
  sopts.max_bad_fraction = c.data.max_bad_fraction;
  const auto& vcfg = model->vision_config();
  sopts.image_tokens = vcfg.num_patches() + (model->config().mm.mm_vision_select_feature == "cls_patch" ? 1 : 0);
  sopts.max_length = c.data.max_length;
  sopts.max_positions = model->config().text.max_position_embeddings;
  sopts.loader_threads = static_cast<int>(c.data.loader_threads);
  sopts.prefetch_batches = c.data.prefetch_batches;
  DataStream stream(dataset, sopts, {state.epoch, state.cursor, state.samples_seen, state.bad_samples});

  objectives::ObjectiveOptions objective;
  objective.vista_enabled = c.vista_enabled;
  objective.vista = c.vista;
  std::unique_ptr<SeaTraining> sea;
  if (c.sea.enabled) {
    sea = setup_sea(c, dataset, vcfg, model->config().mm.mm_vision_select_feature, device, lead);
    objective.sea_enabled = true;
    objective.sea_lambda = c.sea.lambda;
    objective.sea.tau_min = c.sea.tau_min;
    objective.sea_theta = sea_theta;
  }
  StepInputs step_inputs{*model, optimizer, stream, parallel, c, objective, device};
  step_inputs.sea = sea.get();
  step_inputs.pad_id = model->config().text.pad_token_id >= 0 ? model->config().text.pad_token_id : 0;
  step_inputs.channels = vcfg.num_channels;
  step_inputs.image_size = dopts.processor.do_center_crop ? dopts.processor.crop_height : dopts.processor.resize_height;

  std::optional<MetricsLog> log;
  if (lead) log.emplace(c.run_dir, total_steps, state.step > 0, state.step);
  CheckpointRanks ranks{parallel.rank(), parallel.world(), [&] {
                          if (comm) comm->barrier();
                        }};
  // ZeRO-0 ranks hold the same optimizer state: rank 0 writes it; ZeRO-1/2 ranks write their ranges.
  const bool writes_optimizer = lead || (parallel.distributed() && c.train.zero > 0);
  auto save = [&] {
    const auto optimizer_state =
        writes_optimizer ? adamw_state_tensors(*optimizer.adamw, parallel.slices()) : std::map<std::string, torch::Tensor>{};
    result.last_checkpoint =
        lora ? save_checkpoint(
                   c.run_dir, [&](const std::string& dir) { write_adapter_checkpoint(dir, trainables, c, base_hash); },
                   optimizer_state, state, c.train.keep_last, ranks)
             : save_checkpoint(c.run_dir, *model, optimizer_state, state, model->config().layout, c.train.keep_last, ranks);
    if (lead) fmt::print(stderr, "checkpoint written: {}\n", result.last_checkpoint);
  };
  const SignalGuard signals;
  const auto start = std::chrono::steady_clock::now();
  const double elapsed_before = state.elapsed_s;
  std::deque<std::array<double, 4>> recent;
  while (state.step < total_steps) {
    auto m = train_step(step_inputs, state.step + 1, lr_factor(c.optim.schedule, state.step, warmup, total_steps));
    ++state.step;
    ++result.steps_run;
    state.epoch = stream.position().epoch;
    state.cursor = stream.position().cursor;
    state.samples_seen = stream.position().samples_seen;
    state.bad_samples = stream.position().bad_samples;
    state.elapsed_s = elapsed_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (sea_theta.defined()) state.sea_theta = static_cast<double>(sea_theta.item<float>());
    m.elapsed_s = state.elapsed_s;
    if (log) log->record(m, c.train.log_every);
    result.final_ce = m.ce;
    result.final_vista = m.vista;
    result.final_similarity = m.similarity;
    result.final_sea = m.sea;
    result.final_tau = m.tau;
    if (m.aligned > 0) {
      recent.push_back({m.ce, m.vista, m.similarity, m.sea});
      if (recent.size() > 20) recent.pop_front();
    }
    // A signal on any rank stops every rank after the same step.
    const bool signalled = parallel.any(signals.received() != 0);
    const bool stop_now = (c.train.stop_after_steps > 0 && state.step >= c.train.stop_after_steps) || signalled;
    if (stop_now || state.step % c.train.save_every == 0 || state.step == total_steps) save();
    if (stop_now) {
      result.interrupted = true;
      if (signalled && lead) fmt::print(stderr, "signal received: checkpoint written, exiting\n");
      break;
    }
  }
  if (log) log->finish();
  result.steps = state.step;
  result.bad_samples = state.bad_samples;
  for (const auto& r : recent) {
    result.recent_ce += r[0] / static_cast<double>(recent.size());
    result.recent_vista += r[1] / static_cast<double>(recent.size());
    result.recent_similarity += r[2] / static_cast<double>(recent.size());
    result.recent_sea += r[3] / static_cast<double>(recent.size());
  }
  result.finished = state.step >= total_steps;
  if (result.finished) {
    result.final_dir = (fs::path(c.run_dir) / "final").string();
    if (lead) {
      if (lora) export_final_adapter(c, trainables, base_hash, dopts.processor);
      else export_final_model(c, *model, dopts.processor);
      fmt::print(stderr, "training finished: {} steps, final model in {}\n", state.step, result.final_dir);
    }
    if (comm) comm->barrier();  // the final folder is complete before any rank reports success
  }
  if (lead && c.train.plot && state.step > 0) plot_run(c.run_dir);
  return result;
}

}  // namespace vista::train
