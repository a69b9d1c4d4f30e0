#include <fmt/format.h>

#include "apps/vista/commands.h"
#include "io/safetensors.h"
#include "models/model_loading.h"
#include "models/model_saving.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_convert_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "convert a multimodal checkpoint between layouts (llava, llava-hf, tinyllava)");
  struct Args {
    std::string from, to, in, out, vision_tower;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--from", args->from, "layout of IN: llava, llava-hf or tinyllava")->required();
  cmd->add_option("--to", args->to, "layout to write: llava, llava-hf or tinyllava")->required();
  cmd->add_option("--vision-tower", args->vision_tower, "vision tower folder (llava layout; default: mm_vision_tower)");
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
    return 0;
  };
}

}  // namespace vista::app
