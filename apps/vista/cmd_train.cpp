#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "apps/vista/commands.h"
#include "dist/launch_env.h"
#include "dist/local_launcher.h"
#include "train/run_plots.h"
#include "train/trainer.h"
#include "util/error.h"

namespace vista::app {

namespace {

// This process's own command line without --nproc-per-node: what each local worker runs.
std::vector<std::string> worker_command() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t begin = 0; begin < all.size();) {
    const size_t end = all.find('\0', begin);
    args.push_back(all.substr(begin, end - begin));
    begin = end == std::string::npos ? all.size() : end + 1;
  }
  if (args.empty()) fail("cannot read this process's command line from /proc/self/cmdline");
  std::vector<std::string> out{"/proc/self/exe"};
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--nproc-per-node") {
      ++i;
      continue;
    }
    if (args[i].rfind("--nproc-per-node=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

}  // namespace

CommandRunner add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "train a LLaVA-style model (stage pretrain or finetune) with CE (+ VISTA)");
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("CONFIG", args->config, "experiment JSON file or preset name")->required();
  cmd->add_option("overrides", args->overrides, "dotted overrides, e.g. optim.lr=1e-4 train.stage=pretrain");
  auto nproc = std::make_shared<int>(0);
  cmd->add_option("--nproc-per-node", *nproc,
                  "start N worker processes on this machine for one data-parallel run (as torchrun does)")
      ->check(CLI::Range(1, 1024));
  auto* plot = app.add_subcommand("plot", "draw a run's curves (loss.png, similarity.png, lr.png) from metrics.jsonl");
  auto run_dir = std::make_shared<std::string>();
  plot->add_option("RUN", *run_dir, "run folder")->required();
  return [args, run_dir, cmd, plot, nproc](const GlobalOptions& global) {
    if (plot->parsed()) {
      for (const auto& f : train::plot_run(*run_dir)) fmt::print("wrote {}\n", f);
      return 0;
    }
    if (*nproc > 0) {
      if (std::getenv("RANK") || std::getenv("SLURM_PROCID"))
        fail("--nproc-per-node starts its own workers; this process is already rank {} of a launched run (RANK or "
             "SLURM_PROCID is set)", std::getenv("RANK") ? std::getenv("RANK") : std::getenv("SLURM_PROCID"));
      // The config is checked once here, so a typo fails before any worker starts.
      auto checked = args->overrides;
      train::resolve_train_config(args->config, checked);
      dist::LocalLaunchOptions launch;
      launch.nproc = *nproc;
      launch.argv = worker_command();
      return dist::launch_local_workers(launch);
    }
    auto overrides = args->overrides;
    if (global.threads > 0) overrides.push_back(fmt::format("train.threads={}", global.threads));
    if (global.device != "cpu") overrides.push_back("train.device=\"" + global.device + "\"");
    const auto config = train::resolve_train_config(args->config, overrides);
    const auto env = dist::read_launch_env();
    const std::string who = env.distributed() ? fmt::format("rank {}: ", env.rank) : "";
    try {
      const auto result = train::run_training(config);
      if (env.rank != 0) return 0;  // rank 0 reports for the run
      if (result.interrupted) {
        fmt::print("stopped after step {} (resumable from {})\n", result.steps, result.last_checkpoint);
        return 0;
      }
      fmt::print("finished {} steps: final CE {:.4f}, VISTA {:.4f}, similarity {:.4f}; model in {}\n", result.steps,
                 result.final_ce, result.final_vista, result.final_similarity, result.final_dir);
      return 0;
    } catch (const train::TrainingStopped& e) {
      fmt::print(stderr, "{}training stopped: {}\nthe last good checkpoint (if any) is kept under {}/checkpoints\n", who,
                 e.what(), config.run_dir);
      return 3;
    }
  };
}

}  // namespace vista::app
