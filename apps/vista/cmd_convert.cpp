#include <fmt/format.h>

#include "apps/vista/commands.h"
#include <filesystem>

#include "util/json_file.h"
#include "io/model_companions.h"
#include "io/safetensors.h"
#include "models/model_loading.h"
#include "models/model_saving.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_convert_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "convert a multimodal checkpoint between layouts (llava, llava-hf, tinyllava)");
  struct Args {
    std::string from, to, in, out, vision_tower, tokenizer, processor, template_name;
    bool weights_only = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--from", args->from, "layout of IN: llava, llava-hf or tinyllava")->required();
  cmd->add_option("--to", args->to, "layout to write: llava, llava-hf or tinyllava")->required();
  cmd->add_option("--vision-tower", args->vision_tower, "vision tower folder (llava layout; default: mm_vision_tower)");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer folder (default: IN, which training's final folders carry)");
  cmd->add_option("--processor", args->processor,
                  "preprocessor_config.json (default: IN's, else its vision tower's)");
  cmd->add_option("--template", args->template_name,
                  "conversation template for the chat template: plain, pretrain, vicuna_v1, phi "
                  "(default: IN/train_config.json's data.template, else vicuna_v1 for LLaMA, phi otherwise)");
  cmd->add_flag("--weights-only", args->weights_only, "write config.json and weights only (no tokenizer, processor, templates)");
  cmd->add_option("IN", args->in, "checkpoint folder to read")->required();
  cmd->add_option("OUT", args->out, "folder to write")->required();
  return [args](const GlobalOptions&) {
    const auto from = io::parse_layout(args->from);
    const auto to = io::parse_layout(args->to);
    const auto config = io::parse_llava_config(io::read_config(args->in));
    if (config.layout != from)
      fail("{}/config.json: describes a '{}' checkpoint, not '{}' as --from says", args->in, io::layout_name(config.layout),
           args->from);
    // Keep the checkpoint's own dtype so a round trip is bit-exact.
    const auto reader = models::CheckpointReader::open(args->in);
    torch::ScalarType dtype = torch::kFloat32;
    for (const auto& key : reader.keys()) {
      const auto t = reader.tensor(key);
      if (t.is_floating_point()) {
        dtype = t.scalar_type();
        break;
      }
    }
    models::LoadOptions load;
    load.dtype = dtype;
    load.vision_tower_dir = args->vision_tower;
    auto model = models::load_multimodal(args->in, load);
    models::save_multimodal(*model, args->out, {to});
    fmt::print("converted {} ({}) -> {} ({}), {} tensors, dtype {}\n", args->in, io::layout_name(from), args->out,
               io::layout_name(to), model->parameters().size(), c10::toString(dtype));
    if (args->weights_only) return 0;
    io::CompanionSources sources;
    sources.tokenizer_dir = args->tokenizer.empty() ? args->in : args->tokenizer;
    sources.processor_config = args->processor;
    if (sources.processor_config.empty()) {
      namespace fs = std::filesystem;
      std::vector<std::string> candidates = {args->in + "/preprocessor_config.json",
                                             args->in + "/vision_tower/preprocessor_config.json"};
      if (!args->vision_tower.empty()) candidates.push_back(args->vision_tower + "/preprocessor_config.json");
      if (config.layout == io::Layout::kOfficialLlava)
        candidates.push_back(models::resolve_vision_tower_dir(args->in, config.mm.mm_vision_tower) + "/preprocessor_config.json");
      for (const auto& c : candidates)
        if (fs::exists(c)) {
          sources.processor_config = c;
          break;
        }
      if (sources.processor_config.empty())
        fail("convert: no preprocessor_config.json in {} or its vision tower; pass --processor FILE (or --weights-only)",
             args->in);
    }
    sources.template_name = args->template_name;
    if (sources.template_name.empty()) {
      const std::string train_config = args->in + "/train_config.json";
      if (std::filesystem::exists(train_config)) {
        const auto j = read_json_file(train_config);
        if (j.contains("data") && j["data"].contains("template")) sources.template_name = j["data"]["template"].get<std::string>();
      }
      if (sources.template_name.empty()) sources.template_name = config.text.family == "llama" ? "vicuna_v1" : "phi";
    }
    io::write_model_companions(args->out, sources);
    fmt::print("with tokenizer ({}), preprocessor_config.json ({}), generation_config.json, chat template '{}'\n",
               sources.tokenizer_dir, sources.processor_config, sources.template_name);
    return 0;
  };
}

}  // namespace vista::app
