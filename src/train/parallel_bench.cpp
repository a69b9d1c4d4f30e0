#include "train/parallel_bench.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "dist/local_launcher.h"
#include "util/json_file.h"
#include "util/json_node.h"
#include "objectives/llava_objective.h"
#include "train/data_parallel.h"
#include "train/optimizer_setup.h"
#include "train/step_bench.h"
#include "util/error.h"
#include "util/measure.h"
#include "runtime/threads.h"

namespace vista::train {

namespace fs = std::filesystem;

std::string ParallelStepResult::to_json() const {
  return nlohmann::json({{"rank", rank}, {"world", world}, {"zero", zero}, {"threads", threads}, {"step_s", step_s},
                         {"comm_wait_s", comm_wait_s}, {"peak_rss_mb", peak_rss_mb},
                         {"optimizer_state_mb", optimizer_state_mb}})
      .dump();
}

ParallelStepResult bench_parallel_step(const std::string& path, dist::Communicator* comm, int zero, int threads) {
  auto json = read_json_file(path);
  const int world = comm ? comm->world_size() : 1;
  const int64_t global = json.at("batch").at("samples").get<int64_t>();
  if (global % world != 0) fail("{}: batch.samples = {} does not split over {} ranks", path, global, world);
  json["batch"]["samples"] = global / world;
  const JsonNode cfg(json, path);
  configure_threads(threads);
  auto bench = build_bench(cfg);  // seed 0: every rank builds the same model
  torch::manual_seed(1000 + (comm ? comm->rank() : 0));  // ... and its own batch
  bench.batch.pixel_values_BCHW = torch::randn_like(bench.batch.pixel_values_BCHW);
  DataParallel parallel(comm, bench.trainable, bench.names, zero, 25.0);
  const auto opt = cfg.object("optimizer");
  OptimSection optim;
  optim.lr = opt.number("lr");
  optim.eps = opt.number("eps");
  optim.weight_decay = opt.number("weight_decay");
  auto optimizer = make_adamw(parallel.slices(), optim);
  objectives::ObjectiveOptions options;

  auto step = [&] {
    const auto start = std::chrono::steady_clock::now();
    const auto terms = objectives::llava_objective(*bench.model, bench.batch, options);
    const auto counts = parallel.sum({static_cast<double>(terms.num_targets.item<int64_t>()),
                                      static_cast<double>(terms.num_aligned.item<int64_t>())});
    parallel.before_backward(true);
    (parallel.distributed() ? objectives::data_parallel_loss(terms, counts[0], counts[1], options, parallel.world())
                            : terms.total)
        .backward();
    parallel.reduce_gradients();
    parallel.clip_gradients(bench.clip_norm);
    optimizer.adamw->step();
    parallel.clear_gradients();
    parallel.share_updated_parameters();
    return std::pair{std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                     parallel.last_wait_seconds()};
  };
  const auto steps = cfg.object("steps");
  for (int64_t i = 0; i < steps.integer("warmup"); ++i) step();
  std::vector<double> times, waits;
  for (int64_t i = 0; i < steps.integer("timed"); ++i) {
    const auto [t, w] = step();
    times.push_back(t);
    waits.push_back(w);
  }
  ParallelStepResult r;
  r.rank = parallel.rank();
  r.world = world;
  r.zero = zero;
  r.threads = threads;
  r.step_s = median(times);
  r.comm_wait_s = median(waits);
  r.peak_rss_mb = peak_rss_mb();
  for (const auto& [key, t] : adamw_state_tensors(*optimizer.adamw, parallel.slices()))
    r.optimizer_state_mb += static_cast<double>(t.numel() * t.element_size()) / (1024.0 * 1024.0);
  return r;
}

std::string bench_data_parallel(const std::string& config_path, int nproc, int total_threads, const std::string& scratch) {
  if (nproc < 2) fail("--nproc must be at least 2 (got {})", nproc);
  if (total_threads < nproc) total_threads = nproc;
  fs::create_directories(scratch);
  fmt::print(stderr, "one process, {} threads ...\n", total_threads);
  const auto single = bench_parallel_step(config_path, nullptr, 0, total_threads);
  nlohmann::json out = {{"bench", "train_data_parallel"}, {"config", config_path}, {"nproc", nproc},
                        {"total_threads", total_threads},
                        {"single", {{"step_s", single.step_s}, {"peak_rss_mb", single.peak_rss_mb},
                                    {"optimizer_state_mb", single.optimizer_state_mb}}}};
  for (int zero = 0; zero <= 2; ++zero) {
    fmt::print(stderr, "{} ranks x {} threads, ZeRO-{} ...\n", nproc, total_threads / nproc, zero);
    const auto result_file = (fs::path(scratch) / fmt::format("zero{}", zero)).string();
    dist::LocalLaunchOptions launch;
    launch.nproc = nproc;
    launch.argv = {"/proc/self/exe", "--threads", std::to_string(total_threads / nproc), "bench", "train", "--config",
                   config_path, "--zero", std::to_string(zero), "--result", result_file};
    if (const int rc = dist::launch_local_workers(launch); rc != 0) fail("ZeRO-{} workers failed (exit {})", zero, rc);
    std::vector<double> step_s, wait_s, rss, state;
    for (int r = 0; r < nproc; ++r) {
      const auto rank = read_json_file(fmt::format("{}.rank{}", result_file, r));
      step_s.push_back(rank.at("step_s").get<double>());
      wait_s.push_back(rank.at("comm_wait_s").get<double>());
      rss.push_back(rank.at("peak_rss_mb").get<double>());
      state.push_back(rank.at("optimizer_state_mb").get<double>());
    }
    const double step = *std::max_element(step_s.begin(), step_s.end());  // the slowest rank sets the pace
    const double wait = median(wait_s);
    out[fmt::format("zero{}", zero)] = {{"step_s", step},
                                         {"scaling_efficiency", single.step_s / step},
                                         {"comm_wait_share", wait / step},
                                         {"peak_rss_mb_per_rank", rss},
                                         {"optimizer_state_mb_per_rank", state}};
  }
  return out.dump();
}

}  // namespace vista::train
