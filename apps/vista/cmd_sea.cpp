// `vista sea words|label` (SEA's labelling pass) and `vista analyze nearest-words|modality-gap|tacs`
// (SEA's diagnostics of a trained model, printed as JSON).
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/vista/commands.h"
#include "apps/vista/model_bundle.h"
#include "data/dataset.h"
#include "data/records.h"
#include "image/tensor.h"
#include "sea/diagnostics.h"
#include "sea/label_file.h"
#include "sea/labelling.h"
#include "sea/labels.h"
#include "sea/word_list.h"
#include "sea/word_tokens.h"
#include "util/error.h"

namespace vista::app {

namespace {

image::AspectMode parse_aspect(const std::string& name) {
  if (name == "pad") return image::AspectMode::kPad;
  if (name == "square") return image::AspectMode::kSquare;
  fail("--aspect '{}': expected pad or square", name);
}

struct AnalyzeArgs {
  std::string model, tokenizer, vision_tower, words, data, images, labels, aspect = "pad";
  int64_t limit = 64, k = 10, batch = 8;
};

// Visual tokens of the first `limit` images of the data, with each one's caption tokens' input
// embeddings (the model turns).
struct AnalyzedImages {
  std::vector<std::string> names;
  std::vector<torch::Tensor> visual_ND, caption_TD;
};

AnalyzedImages analyze_images(ModelBundle& bundle, const AnalyzeArgs& a, const std::string& device) {
  torch::NoGradGuard no_grad;
  const auto records = data::RecordFile::open(a.data);
  AnalyzedImages out;
  std::vector<torch::Tensor> pending;
  auto flush = [&] {
    if (pending.empty()) return;
    const auto features =
        bundle.model->encode_images(torch::stack(pending).to(torch::Device(device))).to(torch::kFloat).cpu();
    for (int64_t b = 0; b < features.size(0); ++b) out.visual_ND.push_back(features[b]);
    pending.clear();
  };
  const auto aspect = parse_aspect(a.aspect);
  for (size_t i = 0; i < records.size() && static_cast<int64_t>(out.names.size()) < a.limit; ++i) {
    const auto record = records.record(i);
    if (!record.image) continue;
    std::string caption;
    for (const auto& turn : record.conversation.turns)
      if (turn.from == "gpt") caption += (caption.empty() ? "" : " ") + turn.value;
    const auto ids = bundle.tokenizer.encode_ids(caption, false);
    if (ids.empty()) continue;
    out.names.push_back(*record.image);
    out.caption_TD.push_back(
        bundle.model->language_model->embed(torch::tensor(ids, torch::kLong).unsqueeze(0).to(torch::Device(device)))
            .squeeze(0)
            .to(torch::kFloat)
            .cpu());
    pending.push_back(image::to_tensor(data::load_image(a.images + "/" + *record.image, bundle.processor, aspect)));
    if (static_cast<int64_t>(pending.size()) >= a.batch) flush();
  }
  flush();
  if (out.names.empty()) fail("{}: no record with an image and a caption to analyse", a.data);
  return out;
}

torch::Tensor word_embeddings(ModelBundle& bundle, const std::vector<std::string>& words, const std::string& path) {
  torch::NoGradGuard no_grad;
  const auto tokens = sea::tokenize_words(bundle.tokenizer, words, path);
  return sea::label_embeddings(bundle.model->language_model->embedding_weight().to(torch::kFloat).cpu(),
                               tokens.token_ids_M, tokens.offsets_Q1);
}

int run_analyze(const std::string& what, const AnalyzeArgs& a, const GlobalOptions& global) {
  auto bundle = load_model_bundle(a.model, a.tokenizer, a.vision_tower, global.device);
  bundle.model->eval();
  const auto images = analyze_images(bundle, a, global.device);
  nlohmann::json out = {{"model", a.model}, {"data", a.data}, {"images", images.names.size()}};
  if (what == "tacs") {
    double sum = 0, sq = 0;
    for (size_t i = 0; i < images.names.size(); ++i) {
      const double v = sea::tacs(images.visual_ND[i], images.caption_TD[i], a.k);
      sum += v;
      sq += v * v;
    }
    const double n = static_cast<double>(images.names.size()), mean = sum / n;
    out["k"] = a.k;
    out["tacs"] = mean;
    out["tacs_sd"] = std::sqrt(std::max(0.0, sq / n - mean * mean));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (a.words.empty()) fail("analyze {}: --words is required", what);
  const auto words = sea::read_word_list(a.words);
  const auto words_QD = word_embeddings(bundle, words, a.words);
  const auto visual_ND = torch::cat(images.visual_ND, 0);
  out["tokens"] = visual_ND.size(0);
  out["words"] = words.size();
  if (what == "modality-gap") {
    out["modality_gap"] = sea::modality_gap(visual_ND, words_QD);
    out["mean_nearest_cosine"] = sea::nearest_words(visual_ND, words_QD).cosine_N.mean().item<double>();
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  // nearest-words
  std::map<int64_t, int64_t> histogram;
  int64_t agree = 0, labelled = 0;
  std::optional<sea::LabelFile> labels;
  if (!a.labels.empty()) labels = sea::LabelFile::open(a.labels);
  nlohmann::json examples = nlohmann::json::array();
  for (size_t i = 0; i < images.names.size(); ++i) {
    const auto nearest = sea::nearest_words(images.visual_ND[i], words_QD);
    const auto ids = nearest.word_N.contiguous();
    for (int64_t p = 0; p < ids.numel(); ++p) ++histogram[ids[p].item<int64_t>()];
    if (labels) {
      const auto patch = labels->labels(images.names[i]);
      const int64_t offset = ids.numel() - patch.ids_Nn.size(0);  // a CLS token first (cls_patch)
      for (int64_t p = 0; p < patch.ids_Nn.size(0); ++p) {
        const auto top = patch.ids_Nn[p][0].item<int64_t>();
        if (top < 0) continue;
        ++labelled;
        agree += ids[p + offset].item<int64_t>() == top;
      }
    }
    if (i < 2) {
      nlohmann::json grid = nlohmann::json::array();
      for (int64_t p = 0; p < ids.numel(); ++p) grid.push_back(words[static_cast<size_t>(ids[p].item<int64_t>())]);
      examples.push_back({{"image", images.names[i]}, {"nearest_word_per_token", grid}});
    }
  }
  std::vector<std::pair<int64_t, int64_t>> ranked(histogram.begin(), histogram.end());
  std::sort(ranked.begin(), ranked.end(),
            [](auto x, auto y) { return x.second != y.second ? x.second > y.second : x.first < y.first; });
  nlohmann::json top = nlohmann::json::array();
  for (size_t r = 0; r < std::min<size_t>(20, ranked.size()); ++r)
    top.push_back({{"word", words[static_cast<size_t>(ranked[r].first)]},
                   {"share", static_cast<double>(ranked[r].second) / static_cast<double>(visual_ND.size(0))}});
  out["distinct_nearest_words"] = histogram.size();
  out["top_nearest_words"] = top;
  if (labels) {
    out["labelled_tokens"] = labelled;
    out["agreement_with_top_label"] = labelled ? static_cast<double>(agree) / static_cast<double>(labelled) : 0.0;
  }
  out["examples"] = examples;
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace

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
    pass->aspect = parse_aspect(*aspect);
    pass->device = torch::Device(global.device);
    const auto report = sea::run_label_pass(*pass, std::cerr);
    return report.labelled_now + report.resumed_from == report.images ? 0 : 3;
  };
}

CommandRunner add_analyze_command(CLI::App& app) {
  auto* analyze = app.add_subcommand("analyze", "alignment diagnostics of a trained model, printed as JSON");
  analyze->require_subcommand(1);
  auto args = std::make_shared<AnalyzeArgs>();
  std::vector<std::pair<std::string, CLI::App*>> subs;
  for (const auto& [name, help] :
       {std::pair{"nearest-words",
                  "each visual token's nearest word in the LLM input space (and agreement with SEA labels)"},
        {"modality-gap", "D = mean over visual tokens of the distance to the nearest word embedding"},
        {"tacs", "TACS: mean of the top-K best visual-token-to-caption-token cosines per image"}}) {
    auto* s = analyze->add_subcommand(name, help);
    s->add_option("--model", args->model, "model folder (any layout, or a LoRA adapter folder)")->required();
    s->add_option("--data", args->data, "LLaVA data file (images with captions)")->required();
    s->add_option("--images", args->images, "image folder")->required();
    s->add_option("--tokenizer", args->tokenizer, "tokenizer folder (default: the model's)");
    s->add_option("--vision-tower", args->vision_tower, "vision tower folder (official layout)");
    s->add_option("--limit", args->limit, "images analysed")->capture_default_str();
    s->add_option("--aspect", args->aspect, "pad or square")->capture_default_str();
    if (std::string(name) != "tacs") s->add_option("--words", args->words, "word list")->required();
    if (std::string(name) == "nearest-words") s->add_option("--labels", args->labels, "SEA label file to compare with");
    if (std::string(name) == "tacs") s->add_option("--k", args->k, "K of the top-K mean")->capture_default_str();
    subs.emplace_back(name, s);
  }
  return [args, subs](const GlobalOptions& global) {
    for (const auto& [name, s] : subs)
      if (s->parsed()) return run_analyze(name, *args, global);
    return 2;
  };
}

}  // namespace vista::app
