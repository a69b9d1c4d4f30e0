// `vista analyze`: instruments on trained models. SEA's diagnostics (nearest-words,
// modality-gap, tacs) print JSON; heatmap draws the paper's image-text similarity on the patch
// grid; contribution measures how much the image counts as the text before the answer grows.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/contribution.h"
#include "analysis/contribution_plot.h"
#include "analysis/similarity_map.h"
#include "apps/vista/commands.h"
#include "apps/vista/model_bundle.h"
#include "data/dataset.h"
#include "data/records.h"
#include "image/tensor.h"
#include "sea/diagnostics.h"
#include "sea/label_file.h"
#include "sea/labels.h"
#include "sea/word_list.h"
#include "sea/word_tokens.h"
#include "util/error.h"
#include "viz/heatmap.h"
#include "viz/line_plot.h"

namespace vista::app {

namespace {

namespace fs = std::filesystem;

struct AnalyzeArgs {
  std::string model, tokenizer, vision_tower, words, data, images, labels, aspect;
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
  const auto aspect = bundle.settings.aspect;
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
  auto bundle = load_model_bundle(a.model, {a.tokenizer, a.vision_tower, "", a.aspect}, global.device);
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

struct HeatmapArgs {
  std::string model, compare, image, prompt, out, tokenizer, vision_tower, aspect;
};

// One model's panel: similarity of each image token to the prompt's tokens, on the patch grid.
viz::HeatmapPanel heatmap_panel(const std::string& model_dir, const HeatmapArgs& a, const GlobalOptions& global,
                                nlohmann::json& report) {
  auto bundle = load_model_bundle(model_dir, {a.tokenizer, a.vision_tower, "", a.aspect}, global.device);
  bundle.model->eval();
  const auto aspect = bundle.settings.aspect;
  const auto map =
      analysis::similarity_map(*bundle.model, bundle.tokenizer, bundle.processor, aspect, a.image, a.prompt);
  viz::HeatmapPanel panel;
  panel.title = model_display_name(model_dir);
  panel.image = map.seen;
  panel.rows = map.rows;
  panel.cols = map.cols;
  panel.values = map.values;
  const auto [lo, hi] = std::minmax_element(map.values.begin(), map.values.end());
  double mean = 0;
  for (const double v : map.values) mean += v / static_cast<double>(map.values.size());
  report.push_back({{"model", model_dir},
                    {"grid", {map.rows, map.cols}},
                    {"prompt_tokens", map.prompt_tokens},
                    {"mean", mean},
                    {"min", *lo},
                    {"max", *hi},
                    {"values", map.values}});
  return panel;
}

struct ContributionArgs {
  std::vector<std::string> models;
  std::string data, images, out, tokenizer, vision_tower, templ, aspect;
  std::vector<int64_t> preambles = {0, 32, 96, 256};
  int64_t limit = 16;
};

std::vector<analysis::ContributionCase> read_cases(const ContributionArgs& a) {
  auto cases = analysis::read_contribution_cases(a.data, a.images, a.limit);
  if (cases.empty()) fail("{}: no question without a preamble", a.data);
  return cases;
}

int run_contribution(const ContributionArgs& a, const GlobalOptions& global) {
  const auto cases = read_cases(a);
  nlohmann::json report = {{"data", a.data},
                           {"questions", cases.size()},
                           {"preamble_words", a.preambles},
                           {"models", nlohmann::json::array()}};
  std::vector<analysis::ContributionCurve> curves;
  for (const auto& model_dir : a.models) {
    auto bundle = load_model_bundle(model_dir, {a.tokenizer, a.vision_tower, a.templ, a.aspect}, global.device);
    bundle.model->eval();
    analysis::ContributionOptions o;
    o.preamble_words = a.preambles;
    o.tmpl = bundle.settings.tmpl;
    o.processor = bundle.processor;
    o.aspect = bundle.settings.aspect;
    const auto points = analysis::measure_contribution(*bundle.model, bundle.tokenizer, cases, o);
    curves.push_back({model_dir, points});
    report["models"].push_back(analysis::contribution_json(curves.back()));
  }
  analysis::write_contribution_plots(a.out, curves);
  std::ofstream(a.out + ".json") << report.dump(2) << "\n";
  std::cout << report.dump(2) << "\n";
  fmt::print(stderr, "wrote {0}.json, {0}_attention.png, {0}_logprob_drop.png\n", a.out);
  return 0;
}

}  // namespace

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
    s->add_option("--aspect", args->aspect, "pad or square (default: the model's)");
    if (std::string(name) != "tacs") s->add_option("--words", args->words, "word list")->required();
    if (std::string(name) == "nearest-words") s->add_option("--labels", args->labels, "SEA label file to compare with");
    if (std::string(name) == "tacs") s->add_option("--k", args->k, "K of the top-K mean")->capture_default_str();
    subs.emplace_back(name, s);
  }
  auto heat = std::make_shared<HeatmapArgs>();
  auto* h = analyze->add_subcommand(
      "heatmap", "the paper's Figures 2/3: each image token's mean cosine to the prompt's tokens, over the image");
  h->add_option("--model", heat->model, "model folder")->required();
  h->add_option("--image", heat->image, "image file")->required();
  h->add_option("--prompt", heat->prompt, "text whose token embeddings the image tokens are compared with")->required();
  h->add_option("--out", heat->out, "PNG to write")->required();
  h->add_option("--compare", heat->compare, "a second model drawn beside the first, on one colour scale");
  h->add_option("--tokenizer", heat->tokenizer, "tokenizer folder (default: the model's)");
  h->add_option("--vision-tower", heat->vision_tower, "vision tower folder (official layout)");
  h->add_option("--aspect", heat->aspect, "pad or square (default: the model's)");
  auto contribution = std::make_shared<ContributionArgs>();
  auto* c = analyze->add_subcommand(
      "contribution", "image attention and answer log-prob drop (real vs neutral image) over preamble length");
  c->add_option("--model", contribution->models, "model folder (repeat for one curve per model)")->required();
  c->add_option("--data", contribution->data, "eval JSONL with image, text, answer (e.g. the shapes eval.jsonl)")
      ->required();
  c->add_option("--images", contribution->images, "image folder")->required();
  c->add_option("--out", contribution->out, "output prefix: PREFIX.json, PREFIX_attention.png, PREFIX_logprob_drop.png")
      ->required();
  c->add_option("--preambles", contribution->preambles, "preamble lengths in words")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--limit", contribution->limit, "questions")->capture_default_str();
  c->add_option("--template", contribution->templ, "vicuna_v1 or phi (default: the model's)");
  c->add_option("--tokenizer", contribution->tokenizer, "tokenizer folder (default: the model's)");
  c->add_option("--vision-tower", contribution->vision_tower, "vision tower folder (official layout)");
  c->add_option("--aspect", contribution->aspect, "pad or square (default: the model's)");
  return [args, subs, heat, h, contribution, c](const GlobalOptions& global) {
    for (const auto& [name, s] : subs)
      if (s->parsed()) return run_analyze(name, *args, global);
    if (h->parsed()) {
      nlohmann::json report = nlohmann::json::array();
      std::vector<viz::HeatmapPanel> panels{heatmap_panel(heat->model, *heat, global, report)};
      if (!heat->compare.empty()) panels.push_back(heatmap_panel(heat->compare, *heat, global, report));
      viz::write_heatmaps(heat->out, panels, {"image-text similarity", "cosine"});
      std::cout << nlohmann::json{{"prompt", heat->prompt},
                                  {"image", heat->image},
                                  {"out", heat->out},
                                  {"panels", report}}
                       .dump(2)
                << "\n";
      return 0;
    }
    if (c->parsed()) return run_contribution(*contribution, global);
    return 2;
  };
}

}  // namespace vista::app
