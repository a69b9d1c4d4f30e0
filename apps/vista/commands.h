#pragma once
// Each subcommand registers its options on the CLI11 app and returns the function that runs it.
#include <CLI/CLI.hpp>

#include <functional>

namespace vista::app {

struct GlobalOptions {
  int threads = 0;  // 0 = all cores
  std::string device = "cpu";
  bool tf32 = false;  // TF32 matmuls/convolutions on CUDA
};

using CommandRunner = std::function<int(const GlobalOptions&)>;

CommandRunner add_check_fixtures_command(CLI::App& app);
CommandRunner add_convert_command(CLI::App& app);
CommandRunner add_tokenize_command(CLI::App& app);
CommandRunner add_data_command(CLI::App& app);
// Registers "train" and "plot".
CommandRunner add_train_command(CLI::App& app);
CommandRunner add_demo_command(CLI::App& app);
CommandRunner add_study_command(CLI::App& app);
CommandRunner add_generate_command(CLI::App& app);
CommandRunner add_bench_command(CLI::App& app);
CommandRunner add_eval_command(CLI::App& app);
CommandRunner add_lora_command(CLI::App& app);
CommandRunner add_serve_command(CLI::App& app);
// "sea words|label" (cmd_sea.cpp) and "analyze ..." (cmd_analyze.cpp).
CommandRunner add_sea_command(CLI::App& app);
CommandRunner add_analyze_command(CLI::App& app);
// Registers "dist" with its "check" subcommand.
CommandRunner add_dist_command(CLI::App& app);

}  // namespace vista::app
