#include "apps/vista/commands.h"
#include "demo/study.h"

namespace vista::app {

CommandRunner add_study_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "study", "train each arm with several seeds on the shapes data and write a report (runs/study/report.html)");
  auto o = std::make_shared<demo::StudyOptions>();
  cmd->add_option("--arms", o->arms, "comma-separated: ce, vista-l2, vista-cos, sea, sea-vista-l2")
      ->capture_default_str();
  cmd->add_option("--seeds", o->seeds, "runs per arm")->capture_default_str();
  cmd->add_option("--preambles", o->preambles, "preamble lengths in words")->delimiter(',')->capture_default_str();
  cmd->add_option("--work", o->work_dir, "work folder")->capture_default_str();
  cmd->add_flag("!--no-distractors", o->distractors, "neutral preambles only (no colour or shape words)");
  cmd->add_flag("--quick", o->quick, "a few steps of everything (end-to-end check)");
  return [o](const GlobalOptions& global) {
    o->threads = global.threads;
    o->device = global.device;
    return demo::run_study(*o);
  };
}

}  // namespace vista::app
