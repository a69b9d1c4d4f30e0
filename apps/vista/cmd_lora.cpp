#include <fmt/format.h>

#include <filesystem>

#include "apps/vista/commands.h"
#include "io/model_companions.h"
#include "models/model_saving.h"
#include "train/checkpoint.h"
#include "train/lora_setup.h"
#include "util/error.h"

namespace vista::app {

namespace {

io::Layout parse_layout(const std::string& name) {
  if (name == "llava") return io::Layout::kOfficialLlava;
  if (name == "llava-hf") return io::Layout::kLlavaHf;
  if (name == "tinyllava") return io::Layout::kTinyLlava;
  fail("--layout '{}': expected llava, llava-hf or tinyllava", name);
}

// Logits of both models on one seeded probe (text, an image, more text): the largest difference
// and the largest logit.
std::pair<double, double> probe_difference(models::MultimodalLMImpl& a, models::MultimodalLMImpl& b) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  const auto& vision = a.vision_config();
  const int64_t vocab = a.config().text.vocab_size, L = 24;
  auto ids = torch::randint(3, std::max<int64_t>(4, vocab - 2), {2, L}, torch::kInt64);
  ids.select(1, 4).fill_(models::kImageTokenIndex);
  const auto mask = torch::ones({2, L}, torch::kInt64), labels = torch::full({2, L}, models::kIgnoreIndex, torch::kInt64);
  const auto pixels = torch::randn({2, vision.num_channels, vision.image_size, vision.image_size});
  auto logits = [&](models::MultimodalLMImpl& m) {
    const auto spliced = m.prepare_inputs(ids, mask, labels, m.encode_images(pixels));
    return m.logits(m.hidden(spliced)).to(torch::kFloat64);
  };
  const auto la = logits(a), lb = logits(b);
  return {(la - lb).abs().max().item<double>(), la.abs().max().item<double>()};
}

}  // namespace

CommandRunner add_lora_command(CLI::App& app) {
  auto* lora = app.add_subcommand("lora", "LoRA adapter folders");
  lora->require_subcommand(1);
  auto* merge = lora->add_subcommand("merge", "merge a LoRA run's adapters into its base: a plain model in any layout");
  struct Args {
    std::string in, out, layout = "llava";
  };
  auto args = std::make_shared<Args>();
  merge->add_option("IN", args->in, "adapter folder (a LoRA run's final/ or one of its checkpoints)")->required();
  merge->add_option("OUT", args->out, "output model folder")->required();
  merge->add_option("--layout", args->layout, "llava, llava-hf or tinyllava")->capture_default_str();
  return [args](const GlobalOptions& global) {
    const torch::Device device(global.device);
    const auto layout = parse_layout(args->layout);
    auto unmerged = train::load_adapter_model(args->in, device);
    auto merged = train::merge_adapter_model(args->in, device);
    const auto [difference, largest] = probe_difference(*unmerged.model, *merged);
    // Merging rounds W + s B A once in float32 where the adapter path adds its product later: a
    // few float32 ulps of the largest logit, never more than 1e-4 of it.
    const double tolerance = 1e-4 * std::max(largest, 1.0);
    fmt::print(stderr, "probe logits: merged vs adapters max |difference| {:.3g} (largest logit {:.3g}, tolerance {:.3g})\n",
               difference, largest, tolerance);
    if (!(difference <= tolerance))
      fail("{}: merged and unmerged logits differ by {:.3g}, more than {:.3g}; nothing written", args->in, difference,
           tolerance);
    models::save_multimodal(*merged, args->out, {layout});
    train::save_projector(args->out + "/mm_projector.safetensors", *merged);
    const auto& c = unmerged.config;
    io::write_model_companions(args->out, {c.data.tokenizer, args->in + "/preprocessor_config.json", c.data.template_name});
    fmt::print("merged {} into {} ({} layout)\n", args->in, args->out, args->layout);
    return 0;
  };
}

}  // namespace vista::app
