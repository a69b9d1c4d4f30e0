#include "apps/vista/commands.h"
#include "demo/demo.h"

namespace vista::app {

CommandRunner add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "train CE and CE+VISTA on the embedded shapes data and compare them (no downloads)");
  auto options = std::make_shared<demo::DemoOptions>();
  cmd->add_option("--work", options->work_dir, "work folder (data, cached towers, runs, plots)")->capture_default_str();
  cmd->add_option("--tokenizer", options->tokenizer_dir, "tokenizer folder (default: the repository's mistral7b)");
  cmd->add_option("--seed", options->seed)->capture_default_str();
  cmd->add_flag("--quick", options->quick, "a few steps of everything (end-to-end check)");
  cmd->add_flag("--lora", options->lora, "stage 2 with LoRA adapters instead of full finetuning");
  return [options](const GlobalOptions& global) {
    options->threads = global.threads;
    options->device = global.device;
    return demo::run_demo(*options);
  };
}

}  // namespace vista::app
