#include <fmt/format.h>

#include <filesystem>

#include "apps/vista/commands.h"
#include "apps/vista/model_bundle.h"
#include "data/conversation.h"
#include "image/processor_config.h"
#include "inference/answer.h"
#include "models/model_loading.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "answer a prompt about an image with a trained model (greedy, KV cache)");
  struct Args {
    std::string model, image, prompt, tokenizer, templ, aspect, vision_tower;
    int64_t max_new_tokens = 128;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--model", args->model, "model folder (llava, llava-hf or tinyllava layout)")->required();
  cmd->add_option("--image", args->image, "image file (PNG or JPEG); omit for a text-only prompt");
  cmd->add_option("--prompt", args->prompt, "the question")->required();
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer folder (default: the model folder)");
  cmd->add_option("--template", args->templ, "vicuna_v1 or phi (default: the model's)");
  cmd->add_option("--aspect", args->aspect, "pad or square (default: the model's)");
  cmd->add_option("--vision-tower", args->vision_tower, "vision tower folder (llava layout)");
  cmd->add_option("--max-new-tokens", args->max_new_tokens)->capture_default_str();
  return [args](const GlobalOptions& global) {
    auto bundle =
        load_model_bundle(args->model, {args->tokenizer, args->vision_tower, args->templ, args->aspect}, global.device);
    inference::Answerer answerer(*bundle.model, bundle.tokenizer, bundle.settings.tmpl, bundle.processor,
                                 bundle.settings.aspect);
    const auto answers = answerer.answer({{"0", args->image, args->prompt}}, {args->max_new_tokens, 1});
    fmt::print("{}\n", answers.at(0));
    return 0;
  };
}

}  // namespace vista::app
