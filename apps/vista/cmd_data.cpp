#include <fmt/format.h>

#include <iostream>

#include "apps/vista/commands.h"
#include "data/data_check.h"
#include "data/shapes.h"
#include "image/processor_config.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "dataset tools: check a LLaVA dataset, generate the shapes dataset");
  data->require_subcommand(1);

  struct CheckArgs {
    std::string data, images, tokenizer, templ = "vicuna_v1", processor;
    int64_t max_length = 2048, image_tokens = 576, max_listed = 50;
    double max_error_fraction = 0.001;
    std::string aspect = "pad";
  };
  auto check = std::make_shared<CheckArgs>();
  auto* c = data->add_subcommand("check", "report missing/undecodable images, malformed conversations, label-span "
                                          "mismatches, truncated image tokens and a length histogram");
  c->add_option("--data", check->data, "LLaVA JSON array or JSONL file")->required();
  c->add_option("--images", check->images, "image folder (record 'image' paths are relative to it)")->required();
  c->add_option("--tokenizer", check->tokenizer, "folder with tokenizer.json")->required();
  c->add_option("--template", check->templ, "plain, pretrain, vicuna_v1 or phi")->capture_default_str();
  c->add_option("--processor", check->processor, "preprocessor_config.json (default: CLIP 336 px)");
  c->add_option("--aspect", check->aspect, "pad or square")->capture_default_str();
  c->add_option("--max-length", check->max_length, "model_max_length in tokens")->capture_default_str();
  c->add_option("--image-tokens", check->image_tokens, "LLM positions one image takes")->capture_default_str();
  c->add_option("--max-error-fraction", check->max_error_fraction,
                "exit 1 when errors exceed this fraction of the records (default 0.1%)")
      ->capture_default_str();
  c->add_option("--list", check->max_listed, "problems listed by record")->capture_default_str();

  struct ShapesArgs {
    std::string out;
    data::ShapesOptions options;
  };
  auto shapes = std::make_shared<ShapesArgs>();
  auto* s = data->add_subcommand("shapes", "write the embedded shapes dataset (PNG + LLaVA JSON)");
  s->add_option("--out", shapes->out, "output folder")->required();
  s->add_option("--seed", shapes->options.seed)->capture_default_str();
  s->add_option("--image-size", shapes->options.image_size)->capture_default_str();
  s->add_option("--pretrain", shapes->options.pretrain_records)->capture_default_str();
  s->add_option("--finetune", shapes->options.finetune_records)->capture_default_str();
  s->add_option("--eval", shapes->options.eval_records)->capture_default_str();

  return [check, shapes, c, s](const GlobalOptions&) {
    if (s->parsed()) {
      const auto files = data::generate_shapes(shapes->out, shapes->options);
      fmt::print("shapes dataset written to {}: {}, {}, {}\n", files.root, files.pretrain_json, files.finetune_json,
                 files.eval_jsonl);
      return 0;
    }
    data::DatasetOptions options;
    options.data_path = check->data;
    options.image_root = check->images;
    options.template_name = check->templ;
    options.max_length = check->max_length;
    options.image_tokens = check->image_tokens;
    options.aspect = check->aspect == "square" ? image::AspectMode::kSquare : image::AspectMode::kPad;
    if (!check->processor.empty()) options.processor = image::load_processor_config(check->processor);
    else {
      options.processor.shortest_edge = options.processor.crop_height = options.processor.crop_width = 336;
    }
    auto tokenizer = std::make_shared<const text::Tokenizer>(text::Tokenizer::from_dir(check->tokenizer));
    const data::LlavaDataset dataset(options, tokenizer);
    const auto report = data::check_dataset(dataset, &std::cerr);
    data::print_report(report, options, std::cout, static_cast<size_t>(check->max_listed));
    const double limit = check->max_error_fraction * static_cast<double>(report.records);
    const bool too_many = static_cast<double>(report.errors()) > limit;
    fmt::print("verdict: {} ({} errors, limit {:.1f} = {} of {} records)\n", too_many ? "FAIL" : "OK", report.errors(),
               limit, check->max_error_fraction, report.records);
    return too_many ? 1 : 0;
  };
}

}  // namespace vista::app
