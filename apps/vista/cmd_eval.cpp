#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "apps/vista/commands.h"
#include "apps/vista/model_bundle.h"
#include "dist/communicator.h"
#include "dist/launch_env.h"
#include "eval/tasks.h"
#include "image/processor_config.h"
#include "models/model_loading.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "answer a benchmark with a model, write LLaVA answer JSONL (resumable) and score it");
  struct Args {
    eval::TaskOptions task;
    std::string model, tokenizer, vision_tower, templ, aspect;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--model", args->model, "model folder")->required();
  cmd->add_option("--task", args->task.task, "shapes, pope, scienceqa, textvqa, gqa or vqa")->required();
  cmd->add_option("--data", args->task.data_dir, "benchmark folder (official / LLaVA eval-bundle layout)")->required();
  cmd->add_option("--images", args->task.images_dir, "image folder (default: per task)");
  cmd->add_option("--out", args->task.out_dir, "output folder (default: <model>/eval/<task>)");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer folder (default: the model folder)");
  cmd->add_option("--template", args->templ, "vicuna_v1 or phi (default: the model's)");
  cmd->add_option("--aspect", args->aspect, "pad or square (default: the model's)");
  cmd->add_option("--vision-tower", args->vision_tower, "vision tower folder (llava layout)");
  cmd->add_option("--limit", args->task.limit, "first N questions only");
  cmd->add_option("--batch", args->task.batch_size, "questions per generation batch")->capture_default_str();
  cmd->add_option("--max-new-tokens", args->task.max_new_tokens)->capture_default_str();
  cmd->add_option("--model-id", args->task.model_id)->capture_default_str();
  auto timeout_s = std::make_shared<double>(3600);
  cmd->add_option("--dist-timeout", *timeout_s,
                  "across ranks (torchrun, SLURM): seconds a rank waits for the others to finish their share")
      ->capture_default_str();
  return [args, timeout_s](const GlobalOptions& global) {
    auto& t = args->task;
    if (t.out_dir.empty()) t.out_dir = args->model + "/eval/" + t.task;
    // Launched as several ranks: each answers its share of the questions.
    const auto env = dist::read_launch_env();
    std::unique_ptr<dist::Communicator> comm;
    std::string device = global.device;
    if (env.distributed()) {
      if (device == "cuda") device = fmt::format("cuda:{}", env.local_rank);
      comm = dist::Communicator::connect(env, device.rfind("cuda", 0) == 0 ? "nccl" : "gloo",
                                         std::chrono::milliseconds(static_cast<int64_t>(*timeout_s * 1000)));
      t.rank = env.rank;
      t.world = env.world_size;
      t.barrier = [&comm] { comm->barrier(); };
    }
    auto bundle =
        load_model_bundle(args->model, {args->tokenizer, args->vision_tower, args->templ, args->aspect}, device);
    t.template_name = bundle.settings.tmpl.name;
    t.aspect = bundle.settings.aspect_name;
    const auto result = eval::run_task(*bundle.model, bundle.tokenizer, bundle.processor, t, std::cerr);
    if (env.rank != 0) return 0;
    fmt::print("answers: {} ({} new, {} reused)\nscores: {}\n", result.answers_file, result.answered_now, result.reused,
               result.scores.dump(2));
    return 0;
  };
}

}  // namespace vista::app
