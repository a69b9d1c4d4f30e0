#include <fmt/format.h>

#include "apps/vista/commands.h"
#include "train/run_plots.h"
#include "train/trainer.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "train a LLaVA-style model (stage pretrain or finetune) with CE (+ VISTA)");
  struct Args {
    std::string config;
    std::vector<std::string> overrides;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("CONFIG", args->config, "experiment JSON file or preset name")->required();
  cmd->add_option("overrides", args->overrides, "dotted overrides, e.g. optim.lr=1e-4 train.stage=pretrain");
  auto* plot = app.add_subcommand("plot", "draw a run's curves (loss.png, similarity.png, lr.png) from metrics.jsonl");
  auto run_dir = std::make_shared<std::string>();
  plot->add_option("RUN", *run_dir, "run folder")->required();
  return [args, run_dir, cmd, plot](const GlobalOptions& global) {
    if (plot->parsed()) {
      for (const auto& f : train::plot_run(*run_dir)) fmt::print("wrote {}\n", f);
      return 0;
    }
    auto overrides = args->overrides;
    if (global.threads > 0) overrides.push_back(fmt::format("train.threads={}", global.threads));
    if (global.device != "cpu") overrides.push_back("train.device=\"" + global.device + "\"");
    const auto config = train::resolve_train_config(args->config, overrides);
    try {
      const auto result = train::run_training(config);
      if (result.interrupted) {
        fmt::print("stopped after step {} (resumable from {})\n", result.steps, result.last_checkpoint);
        return 0;
      }
      fmt::print("finished {} steps: final CE {:.4f}, VISTA {:.4f}, similarity {:.4f}; model in {}\n", result.steps,
                 result.final_ce, result.final_vista, result.final_similarity, result.final_dir);
      return 0;
    } catch (const train::TrainingStopped& e) {
      fmt::print(stderr, "training stopped: {}\nthe last good checkpoint (if any) is kept under {}/checkpoints\n", e.what(),
                 config.run_dir);
      return 3;
    }
  };
}

}  // namespace vista::app
