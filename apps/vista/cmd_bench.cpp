#include <fmt/format.h>

#include <iostream>

#include "apps/vista/commands.h"
#include "train/step_bench.h"

namespace vista::app {

CommandRunner add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "benchmarks");
  bench->require_subcommand(1);
  auto* train = bench->add_subcommand("train", "time a training step (CE and CE+VISTA) of a standard configuration");
  auto config = std::make_shared<std::string>();
  auto recompute = std::make_shared<bool>(false);
  train->add_option("--config", *config, "benchmark JSON, e.g. ../shared/bench/llava-bench-small.json")->required();
  train->add_flag("--gradient-checkpointing", *recompute, "recompute decoder-layer activations in backward");
  return [config, recompute](const GlobalOptions& global) {
    const auto result = train::bench_train_step(*config, global.threads, std::cerr, *recompute);
    fmt::print("{}\n", train::step_bench_json(result));
    return 0;
  };
}

}  // namespace vista::app
