#include "train/sea_setup.h"

#include <fmt/format.h>

#include <cmath>
#include <unordered_set>

#include "io/content_hash.h"
#include "sea/labels.h"
#include "sea/pair_sampling.h"
#include "sea/word_list.h"
#include "util/error.h"

namespace vista::train {

torch::Tensor make_sea_theta(const TrainConfig& c, torch::Device device) {
  return torch::full({1}, c.sea.theta_init, torch::dtype(torch::kFloat).device(device)).requires_grad_(true);
}

std::unique_ptr<SeaTraining> setup_sea(const TrainConfig& c, const data::LlavaDataset& dataset,
                                       const io::VisionConfig& vision, const std::string& select_feature,
                                       bool verbose) {
  auto out = std::make_unique<SeaTraining>(SeaTraining{sea::LabelFile::open(c.sea.labels), {}, {}, 0});
  const auto& h = out->labels.header();
  const auto words = sea::read_word_list(c.sea.words);
  if (h.num_words != static_cast<int64_t>(words.size()) || h.words_hash != io::content_hash({c.sea.words}))
    fail(
        "loss.sea.labels: {} was labelled with another word list ({} words, hash {}) than loss.sea.words {} ({} words, "
        "hash {})",
        c.sea.labels, h.num_words, h.words_hash, c.sea.words, words.size(), io::content_hash({c.sea.words}));
  const int64_t side = vision.image_size / vision.patch_size;
  if (h.grid_rows != side || h.grid_cols != side)
    fail("loss.sea.labels: {} labels a {}x{} patch grid but the vision tower has {}x{} patches ({} px / patch {})",
         c.sea.labels, h.grid_rows, h.grid_cols, side, side, vision.image_size, vision.patch_size);
  out->words = sea::tokenize_words(dataset.tokenizer(), words, c.sea.words);
  out->windows_WK = sea::window_patch_ids(h.grid_rows, h.grid_cols, c.sea.window);
  out->patch_offset = select_feature == "cls_patch" ? 1 : 0;
  // Every image must have labels: found now, not after hours of training.
  int64_t missing = 0;
  std::string first;
  std::unordered_set<std::string> checked;
  const auto& records = dataset.records();
  for (size_t i = 0; i < records.size(); ++i) {
    const auto record = records.record(i);
    if (!record.image || !checked.insert(*record.image).second || out->labels.find(*record.image)) continue;
    if (missing++ == 0) first = fmt::format("'{}' (record {}, id {})", *record.image, i, record.id);
  }
  if (missing > 0)
    fail(
        "loss.sea.labels: {} has no labels for {} image(s) of {}, the first {}; label this data file with `vista sea "
        "label`",
        c.sea.labels, missing, c.data.path, first);
  if (verbose)
    fmt::print(stderr, "SEA: {} labelled images, {} words, top {}, {}x{} windows over a {}x{} grid, lambda {}\n",
               h.images.size(), words.size(), h.top_n, c.sea.window, c.sea.window, side, side, c.sea.lambda);
  return out;
}

int64_t add_sea_pairs(const SeaTraining& sea, const std::vector<data::Example>& examples, uint64_t seed,
                      objectives::MultimodalBatch& batch) {
  std::vector<std::optional<sea::PatchLabels>> labels;
  labels.reserve(examples.size());
  for (const auto& ex : examples)
    labels.push_back(ex.image ? std::optional(sea.labels.labels(*ex.image)) : std::nullopt);
  const auto pairs = sea::sample_pairs(labels, sea.windows_WK, seed);
  const auto tokens = sea::select_words(sea.words, pairs.word_N);
  batch.sea_sample_N = pairs.sample_N;
  batch.sea_patch_N = pairs.patch_N + sea.patch_offset;
  batch.sea_label_tokens_M = tokens.token_ids_M;
  batch.sea_label_offsets_N1 = tokens.offsets_Q1;
  return pairs.drawn;
}

}  // namespace vista::train
