// `vista sea words|label`: SEA's word list and labelling pass.
#include <fmt/format.h>

#include <iostream>

#include "apps/vista/commands.h"
#include "data/records.h"
#include "sea/labelling.h"
#include "sea/word_list.h"
#include "inference/model_settings.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_sea_command(CLI::App& app) {
  auto* sea = app.add_subcommand("sea", "SEA's word list and labelling pass");
  sea->require_subcommand(1);
  struct WordsArgs {
    std::string data, out;
    int64_t min_count = 2, max_words = 0;
  };
  auto words = std::make_shared<WordsArgs>();
  auto* w = sea->add_subcommand("words", "build a word list from the captions (docs/method.md: the rule)");
  w->add_option("--data", words->data, "LLaVA JSON array or JSONL file")->required();
  w->add_option("--out", words->out, "word list to write (one 'word<TAB>count' per line)")->required();
  w->add_option("--min-count", words->min_count, "keep words seen at least this often")->capture_default_str();
  w->add_option("--max-words", words->max_words, "keep at most this many (0 = all)")->capture_default_str();

  auto pass = std::make_shared<sea::LabelPassOptions>();
  auto aspect = std::make_shared<std::string>("pad");
  auto* l = sea->add_subcommand("label", "label every image's patches with the words CLIP associates with them");
  l->add_option("--clip", pass->clip_dir,
                "HF CLIPModel folder (config, weights, tokenizer.json, preprocessor_config.json)")
      ->required();
  l->add_option("--words", pass->words_path, "word list")->required();
  l->add_option("--data", pass->data_path, "LLaVA data file")->required();
  l->add_option("--images", pass->images_dir, "image folder")->required();
  l->add_option("--out", pass->out_path, "label file to write")->required();
  l->add_option("--top-n", pass->top_n, "labels kept per patch")->capture_default_str();
  l->add_option("--batch", pass->batch, "images per CLIP forward")->capture_default_str();
  l->add_option("--score-sign", pass->score_sign, "-1: the paper's -cos; 1: raw cosine")->capture_default_str();
  l->add_option("--aspect", *aspect, "pad or square (as the training data is preprocessed)")->capture_default_str();
  l->add_option("--stop-after", pass->stop_after_images, "stop after this many images as an interruption would");

  return [words, pass, aspect, w, l](const GlobalOptions& global) {
    if (w->parsed()) {
      const auto records = data::RecordFile::open(words->data);
      const auto list = sea::build_word_list(records, {words->min_count, words->max_words});
      if (list.empty())
        fail("{}: no caption word is seen {} times or more; lower --min-count", words->data, words->min_count);
      sea::write_word_list(words->out, list);
      fmt::print("wrote {} words to {} (from {} records, min count {})\n", list.size(), words->out, records.size(),
                 words->min_count);
      return 0;
    }
    if (pass->score_sign != 1.0 && pass->score_sign != -1.0)
      fail("--score-sign must be -1 or 1, got {}", pass->score_sign);
    pass->aspect = inference::parse_aspect_mode(*aspect, "--aspect");
    pass->device = torch::Device(global.device);
    const auto report = sea::run_label_pass(*pass, std::cerr);
    return report.labelled_now + report.resumed_from == report.images ? 0 : 3;
  };
}

}  // namespace vista::app
