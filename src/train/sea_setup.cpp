#include "train/sea_setup.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <unordered_set>

#include "io/content_hash.h"
#include "sea/labelling.h"
#include "sea/labels.h"
#include "sea/pair_sampling.h"
#include "sea/word_list.h"
#include "util/error.h"

namespace vista::train {

namespace fs = std::filesystem;

torch::Tensor make_sea_theta(const TrainConfig& c, torch::Device device) {
  return torch::full({1}, c.sea.theta_init, torch::dtype(torch::kFloat).device(device)).requires_grad_(true);
}

namespace {

// Every image of the data must have labels: found now, not after hours of training.
void check_every_image_labelled(const TrainConfig& c, const data::LlavaDataset& dataset, const sea::LabelFile& labels) {
  int64_t missing = 0;
  std::string first;
  std::unordered_set<std::string> checked;
  const auto& records = dataset.records();
  for (size_t i = 0; i < records.size(); ++i) {
    const auto record = records.record(i);
    if (!record.image || !checked.insert(*record.image).second || labels.find(*record.image)) continue;
    if (missing++ == 0) first = fmt::format("'{}' (record {}, id {})", *record.image, i, record.id);
  }
  if (missing > 0)
    fail(
        "loss.sea.labels: {} has no labels for {} image(s) of {}, the first {}; label this data file with `vista sea "
        "label`",
        c.sea.labels, missing, c.data.path, first);
}

}  // namespace

std::unique_ptr<SeaTraining> setup_sea(const TrainConfig& c, const data::LlavaDataset& dataset,
                                       const io::VisionConfig& vision, const std::string& select_feature,
                                       torch::Device device, bool verbose) {
  auto out = std::make_unique<SeaTraining>();
  const auto words = sea::read_word_list(c.sea.words);
  const int64_t side = vision.image_size / vision.patch_size;
  if (!c.sea.labels.empty()) {
    out->labels = sea::LabelFile::open(c.sea.labels);
    const auto& h = out->labels->header();
    if (h.num_words != static_cast<int64_t>(words.size()) || h.words_hash != io::content_hash({c.sea.words}))
      fail(
          "loss.sea.labels: {} was labelled with another word list ({} words, hash {}) than loss.sea.words {} ({} "
          "words, hash {})",
          c.sea.labels, h.num_words, h.words_hash, c.sea.words, words.size(), io::content_hash({c.sea.words}));
    if (h.grid_rows != side || h.grid_cols != side)
      fail("loss.sea.labels: {} labels a {}x{} patch grid but the vision tower has {}x{} patches ({} px / patch {})",
           c.sea.labels, h.grid_rows, h.grid_cols, side, side, vision.image_size, vision.patch_size);
    out->top_n = h.top_n;
    check_every_image_labelled(c, dataset, *out->labels);
  } else {
    out->online_clip = models::load_clip_model(c.sea.online_clip, device);
    out->online_clip->eval();
    for (auto& p : out->online_clip->parameters()) p.set_requires_grad(false);
    const auto& cv = out->online_clip->config().vision;
    if (cv.image_size != vision.image_size || cv.patch_size != vision.patch_size)
      fail(
          "loss.sea.online_clip: {} sees {} px images in {} px patches but the vision tower {} px in {} px patches; "
          "online labels read the training batch's pixels, so both must agree",
          c.sea.online_clip, cv.image_size, cv.patch_size, vision.image_size, vision.patch_size);
    const auto tokenizer_path = (fs::path(c.sea.online_clip) / "tokenizer.json").string();
    if (!fs::exists(tokenizer_path))
      fail("loss.sea.online_clip: {} has no tokenizer.json (needed to embed the words)", c.sea.online_clip);
    out->word_embeds_QP = sea::word_text_embeds(*out->online_clip, text::Tokenizer::from_file(tokenizer_path), words);
    out->top_n = std::min<int64_t>(c.sea.top_n, static_cast<int64_t>(words.size()));
    out->score_sign = c.sea.score_sign;
  }
  out->words = sea::tokenize_words(dataset.tokenizer(), words, c.sea.words);
  out->windows_WK = sea::window_patch_ids(side, side, c.sea.window);
  out->patch_offset = select_feature == "cls_patch" ? 1 : 0;
  if (verbose)
    fmt::print(stderr, "SEA: labels {}, {} words, top {}, {}x{} windows over a {}x{} grid, lambda {}\n",
               out->labels ? fmt::format("from {} ({} images)", c.sea.labels, out->labels->header().images.size())
                           : fmt::format("online from {}", c.sea.online_clip),
               words.size(), out->top_n, c.sea.window, c.sea.window, side, side, c.sea.lambda);
  return out;
}

std::vector<std::optional<sea::PatchLabels>> online_labels(const SeaTraining& sea,
                                                           const std::vector<data::Example>& examples,
                                                           const torch::Tensor& pixels_BCHW) {
  torch::NoGradGuard no_grad;
  const auto patches_BNP = sea.online_clip->patch_embeds(pixels_BCHW).to(torch::kFloat);
  const auto top = sea::top_labels(sea::patch_word_scores(patches_BNP, sea.word_embeds_QP, sea.score_sign), sea.top_n);
  const auto ids = torch::where(top.keep_BNn, top.ids_BNn, torch::full_like(top.ids_BNn, -1)).cpu();
  const auto scores = torch::where(top.keep_BNn, top.scores_BNn, torch::zeros_like(top.scores_BNn)).cpu();
  std::vector<std::optional<sea::PatchLabels>> out;
  for (size_t b = 0; b < examples.size(); ++b) {
    if (!examples[b].image) out.emplace_back(std::nullopt);
    else out.emplace_back(sea::PatchLabels{ids[static_cast<int64_t>(b)], scores[static_cast<int64_t>(b)]});
  }
  return out;
}

int64_t add_sea_pairs(const SeaTraining& sea, const std::vector<data::Example>& examples, uint64_t seed,
                      objectives::MultimodalBatch& batch) {
  std::vector<std::optional<sea::PatchLabels>> labels;
  if (sea.labels) {
    labels.reserve(examples.size());
    for (const auto& ex : examples)
      labels.push_back(ex.image ? std::optional(sea.labels->labels(*ex.image)) : std::nullopt);
  } else {
    labels = online_labels(sea, examples, batch.pixel_values_BCHW);
  }
  const auto pairs = sea::sample_pairs(labels, sea.windows_WK, seed);
  const auto tokens = sea::select_words(sea.words, pairs.word_N);
  batch.sea_sample_N = pairs.sample_N;
  batch.sea_patch_N = pairs.patch_N + sea.patch_offset;
  batch.sea_label_tokens_M = tokens.token_ids_M;
  batch.sea_label_offsets_N1 = tokens.offsets_Q1;
  return pairs.drawn;
}

}  // namespace vista::train
