// SEA: the loss against finite differences and the spec's test vector, sampling statistics, the
// label file (write, read, resume), word-list and tokenizer errors, and stage-1 training with SEA.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "data/dataset.h"
#include "demo/label_clip.h"
#include "image/processor_config.h"
#include "image/tensor.h"
#include "models/clip_model.h"
#include "io/content_hash.h"
#include "io/safetensors.h"
#include "losses/sea_infonce.h"
#include "sea/label_file.h"
#include "sea/labelling.h"
#include "sea/labels.h"
#include "sea/pair_sampling.h"
#include "sea/word_list.h"
#include "sea/word_tokens.h"
#include "test_util.h"
#include "text/tokenizer.h"
#include "train/shapes_training.h"
#include "train/sea_setup.h"
#include "train/trainer.h"

using namespace vista;
namespace fs = std::filesystem;

TEST(SeaLoss, MethodTestVector) {
  // docs/method.md: x = t = identity rows, tau = 1 -> each cross-entropy is ln(1 + e^-1).
  const auto x = torch::eye(2, torch::kDouble);
  const auto terms = losses::sea_infonce(x, x, torch::zeros({1}, torch::kDouble));
  EXPECT_NEAR(terms.loss.item<double>(), std::log1p(std::exp(-1.0)), 1e-12);
  EXPECT_EQ(terms.pairs, 2);
}

TEST(SeaLoss, GradientsMatchFiniteDifferencesInFloat64) {
  torch::manual_seed(5);
  const auto x = torch::randn({6, 5}, torch::kDouble).requires_grad_(true);
  const auto t = torch::randn({6, 5}, torch::kDouble);
  const auto theta = torch::full({1}, 0.3, torch::kDouble).requires_grad_(true);
  const auto loss = losses::sea_infonce(x, t, theta).loss;
  const auto grads = torch::autograd::grad({loss}, {x, theta});
  auto value = [&](const torch::Tensor& xx, const torch::Tensor& th) {
    return losses::sea_infonce(xx, t, th).loss.item<double>();
  };
  const double eps = 1e-6;
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto plus = x.detach().clone(), minus = x.detach().clone();
    plus.view(-1)[i] += eps;
    minus.view(-1)[i] -= eps;
    const double numeric = (value(plus, theta.detach()) - value(minus, theta.detach())) / (2 * eps);
    EXPECT_NEAR(grads[0].view(-1)[i].item<double>(), numeric, 1e-8) << "x element " << i;
  }
  const double numeric_theta =
      (value(x.detach(), theta.detach() + eps) - value(x.detach(), theta.detach() - eps)) / (2 * eps);
  EXPECT_NEAR(grads[1].item<double>(), numeric_theta, 1e-8);
  EXPECT_GT(std::abs(numeric_theta), 1e-3);  // the check is not vacuous
}

TEST(SeaLoss, TemperatureIsClampedAndOnePairIsZero) {
  const auto x = torch::randn({3, 4}, torch::kDouble), t = torch::randn({3, 4}, torch::kDouble);
  const auto theta = torch::full({1}, std::log(0.001), torch::kDouble).requires_grad_(true);
  const auto terms = losses::sea_infonce(x, t, theta, {0.01});
  EXPECT_NEAR(terms.tau.item<double>(), 0.01, 1e-12);
  EXPECT_EQ(torch::autograd::grad({terms.loss}, {theta})[0].item<double>(), 0.0);
  const auto one = losses::sea_infonce(x.narrow(0, 0, 1), t.narrow(0, 0, 1), torch::zeros({1}, torch::kDouble));
  EXPECT_EQ(one.loss.item<double>(), 0.0);
  expect_error_containing([&] { losses::sea_infonce(x, t.narrow(0, 0, 2), theta); }, {"[N,D]"});
}

namespace {
// One image whose patches each hold the given labels (same for every patch).
sea::PatchLabels patch_labels(int64_t patches, std::vector<int64_t> ids, std::vector<float> scores) {
  const auto n = static_cast<int64_t>(ids.size());
  return {torch::tensor(ids).view({1, n}).repeat({patches, 1}),
          torch::tensor(scores).view({1, n}).repeat({patches, 1})};
}
}  // namespace

TEST(SeaSampling, WindowsTileTheGridWithPartialEdges) {
  // A 3x3 grid in 2x2 windows: four windows, the right and bottom ones partial.
  const auto expected =
      torch::tensor({0, 1, 3, 4, 2, -1, 5, -1, 6, 7, -1, -1, 8, -1, -1, -1}, torch::kLong).view({4, 4});
  EXPECT_TRUE(torch::equal(sea::window_patch_ids(3, 3, 2), expected));
  EXPECT_EQ(sea::window_patch_ids(24, 24, 2).size(0), 144);  // LLaVA-1.5: 576 patches -> 144 pairs per image
}

TEST(SeaSampling, LabelFrequenciesFollowTheScores) {
  const std::vector<std::optional<sea::PatchLabels>> labels = {patch_labels(1, {7, 8, 9, -1}, {0.5f, 0.3f, 0.2f, 0.f})};
  const auto windows = sea::window_patch_ids(1, 1, 2);
  std::map<int64_t, int> counts;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    const auto pairs = sea::sample_pairs(labels, windows, sea::pair_seed(1, i, 0, 0));
    ASSERT_EQ(pairs.size(), 1);
    ++counts[pairs.word_N[0].item<int64_t>()];
  }
  EXPECT_EQ(counts.size(), 3u);  // the dropped label (-1) is never drawn
  EXPECT_NEAR(counts[7] / double(draws), 0.5, 0.015);
  EXPECT_NEAR(counts[8] / double(draws), 0.3, 0.015);
  EXPECT_NEAR(counts[9] / double(draws), 0.2, 0.015);
}

TEST(SeaSampling, OnePatchPerWindowUniformlyAndOnlyLabelledPatches) {
  // 4x4 grid, every patch its own word: no de-duplication, so one pair per 2x2 window.
  std::vector<int64_t> ids(16);
  std::iota(ids.begin(), ids.end(), 0);
  sea::PatchLabels own{torch::tensor(ids).view({16, 1}), torch::ones({16, 1})};
  const auto windows = sea::window_patch_ids(4, 4, 2);
  std::map<int64_t, int> chosen;
  for (int i = 0; i < 4000; ++i) {
    const auto pairs = sea::sample_pairs({own}, windows, sea::pair_seed(2, i, 0, 0));
    ASSERT_EQ(pairs.size(), 4);
    std::set<int64_t> window_of;
    for (int64_t p = 0; p < 4; ++p) {
      const auto patch = pairs.patch_N[p].item<int64_t>();
      EXPECT_EQ(pairs.word_N[p].item<int64_t>(), patch);
      window_of.insert((patch / 4) / 2 * 2 + (patch % 4) / 2);
      ++chosen[patch];
    }
    EXPECT_EQ(window_of.size(), 4u) << "two pairs from one window";
  }
  for (int64_t p = 0; p < 16; ++p) EXPECT_NEAR(chosen[p] / 4000.0, 0.25, 0.03) << "patch " << p;
  // A patch without a kept label is never drawn: only patch 5 of the first window has one.
  auto scores = torch::zeros({16, 1});
  scores[5][0] = 1;
  const auto pairs = sea::sample_pairs({sea::PatchLabels{own.ids_Nn, scores}}, windows, 3);
  ASSERT_EQ(pairs.size(), 1);
  EXPECT_EQ(pairs.patch_N[0].item<int64_t>(), 5);
}

TEST(SeaSampling, PairsThatDrewTheSameWordAreDeduplicated) {
  const std::vector<std::optional<sea::PatchLabels>> labels = {patch_labels(16, {4}, {1.f}), std::nullopt,
                                                               patch_labels(16, {4}, {1.f})};
  const auto pairs = sea::sample_pairs(labels, sea::window_patch_ids(4, 4, 2), 11);
  EXPECT_EQ(pairs.drawn, 8);  // 4 windows x 2 images (the sample without an image draws none)
  ASSERT_EQ(pairs.size(), 1);
  EXPECT_NE(pairs.sample_N[0].item<int64_t>(), 1);
  // The same seed draws the same pairs.
  EXPECT_TRUE(torch::equal(sea::sample_pairs(labels, sea::window_patch_ids(4, 4, 2), 11).patch_N, pairs.patch_N));
}

TEST(SeaLabelFile, WrittenReadBackAndResumedAfterAnInterruption) {
  TempDir dir;
  sea::LabelFileHeader h;
  h.top_n = 2;
  h.grid_rows = 1;
  h.grid_cols = 2;
  h.num_words = 10;
  h.words_hash = "w";
  h.producer = {{"clip", "c"}};
  h.images = {"a.png", "b.png", "c.png"};
  const auto path = dir.file("labels.sealabels");
  auto record = [](int64_t k) {
    // Patch 0: words k, k+1 (kept); patch 1: word 9 kept, word 3 dropped (negative score).
    const auto ids = torch::tensor({k, k + 1, int64_t{9}, int64_t{3}}).view({2, 2});
    const auto scores = torch::tensor({0.5f, 0.25f, 0.125f, -0.5f}).view({2, 2});
    return std::tuple{ids, scores, scores >= 0};
  };
  {
    sea::LabelFileWriter w(path, h);
    const auto [ids, scores, keep] = record(0);
    w.append(ids, scores, keep);
  }  // interrupted: no finish
  expect_error_containing([&] { sea::LabelFile::open(path); }, {path, "not finished"});
  {
    auto other = h;
    other.top_n = 3;
    expect_error_containing([&] { sea::LabelFileWriter w(path, other); }, {".partial", "top_n"});
  }
  {
    sea::LabelFileWriter w(path, h);
    EXPECT_EQ(w.done(), 1);
    for (int64_t k : {1, 2}) {
      const auto [ids, scores, keep] = record(k);
      w.append(ids, scores, keep);
    }
    w.finish();
  }
  const auto file = sea::LabelFile::open(path);
  EXPECT_EQ(file.header().images, h.images);
  for (int64_t k = 0; k < 3; ++k) {
    const auto labels = file.labels(h.images[static_cast<size_t>(k)]);
    EXPECT_TRUE(torch::equal(labels.ids_Nn, torch::tensor({k, k + 1, int64_t{9}, int64_t{-1}}).view({2, 2})));
    EXPECT_TRUE(torch::equal(labels.scores_Nn, torch::tensor({0.5f, 0.25f, 0.125f, 0.f}).view({2, 2})));
  }
  expect_error_containing([&] { file.labels("d.png"); }, {path, "'d.png'"});
  expect_error_containing([&] { sea::LabelFileWriter w(path, h); }, {path, "exists"});
}

TEST(SeaWords, BuiltByTheDocumentedRuleAndBadListsAreNamed) {
  TempDir dir;
  std::ofstream(dir.file("data.json")) << R"([
    {"id": "1", "image": "a.png", "conversations": [{"from": "human", "value": "<image>\nDescribe"},
                                                   {"from": "gpt", "value": "A red Circle, the red one."}]},
    {"id": "2", "image": "b.png", "conversations": [{"from": "human", "value": "<image>\nred"},
                                                   {"from": "gpt", "value": "Red squares; a circle at top."}]},
    {"id": "3", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "red red red"}]}])";
  const auto words = sea::build_word_list(data::RecordFile::open(dir.file("data.json")), {2, 0});
  // red x3 and circle x2 in model turns of image records; "the", "a", "at" are stop words or short;
  // the human turn and the text-only record do not count.
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[0].word, "red");
  EXPECT_EQ(words[0].count, 3);
  EXPECT_EQ(words[1].word, "circle");
  sea::write_word_list(dir.file("words.txt"), words);
  EXPECT_EQ(sea::read_word_list(dir.file("words.txt")), (std::vector<std::string>{"red", "circle"}));
  for (const auto& [text, needle] : {std::pair{"red\nred\n", "listed twice"},
                                     {"red\n\nblue\n", ":2: empty word"},
                                     {"dark red\n", "white space"},
                                     {"red\tmany\n", "not a non-negative integer"}}) {
    write_file(dir.file("bad.txt"), text);
    expect_error_containing([&] { sea::read_word_list(dir.file("bad.txt")); }, {dir.file("bad.txt"), needle});
  }
}

TEST(SeaWords, AWordTheLlmCannotTokenizeIsNamed) {
  TempDir dir;
  // A BPE tokenizer without byte fallback: 'q' is not in its vocabulary.
  write_file(dir.file("tokenizer.json"), R"({"version": "1.0", "added_tokens": [], "normalizer": null,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
    "post_processor": null, "decoder": null,
    "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": false, "fuse_unk": false,
              "vocab": {"<unk>": 0, "\u2581": 1, "r": 2, "e": 3, "d": 4, "\u2581r": 5, "\u2581re": 6, "\u2581red": 7},
              "merges": ["\u2581 r", "\u2581r e", "\u2581re d"]}})");
  const auto tokenizer = text::Tokenizer::from_file(dir.file("tokenizer.json"));
  const auto ok = sea::tokenize_words(tokenizer, {"red", "re"}, "words.txt");
  EXPECT_TRUE(torch::equal(ok.token_ids_M, torch::tensor({int64_t{7}, int64_t{6}})));
  EXPECT_TRUE(torch::equal(ok.offsets_Q1, torch::tensor({int64_t{0}, int64_t{1}, int64_t{2}})));
  expect_error_containing(
      [&] {
        sea::tokenize_words(tokenizer, {"red", "rqd"}, "words.txt");
      },
      {"words.txt:2", "'rqd'", "unknown token"});
}

namespace {
// A label CLIP (briefly trained, as the demo's), the pretrain captions' word list and their
// labels, once per process.
struct SeaFiles {
  std::string words, labels, clip;
  SeaFiles() {
    auto& s = shapes_training();
    demo::LabelClipRecipe recipe;
    recipe.steps = 40;
    clip = s.root + "/label_clip";
    demo::prepare_label_clip(clip, s.files.pretrain_json, s.files.images, testdata("tokenizers/mistral7b"), recipe);
    words = s.root + "/words.txt";
    labels = s.root + "/labels.sealabels";
    sea::write_word_list(words, sea::build_word_list(data::RecordFile::open(s.files.pretrain_json), {1, 0}));
    sea::LabelPassOptions pass{clip, words, s.files.pretrain_json, s.files.images, labels};
    pass.aspect = image::AspectMode::kSquare;
    pass.score_sign = 1.0;  // trained patch-to-word: not inverted (see the demo)
    std::ostringstream log;
    sea::run_label_pass(pass, log);
  }
};
SeaFiles& sea_files() {
  static SeaFiles f;
  return f;
}
nlohmann::json sea_config(const std::string& run_dir) {
  auto c = shapes_config(run_dir, "pretrain");
  c["data"]["image_aspect_ratio"] = "square";
  c["loss"]["sea"] = {{"enabled", true}, {"labels", sea_files().labels}, {"words", sea_files().words}};
  c["loss"]["vista"] = {{"enabled", false}};
  return c;
}
}  // namespace

TEST(SeaTraining, StageOneMovesOnlyTheProjectorAndThetaAndTheSeaTermFalls) {
  TempDir dir;
  auto c = sea_config(dir.file("run"));
  c["train"]["max_steps"] = 16;
  c["train"]["per_device_batch"] = 4;
  c["train"]["save_every"] = 100;
  c["optim"] = {{"lr", 1e-2}, {"warmup_ratio", 0.0}, {"schedule", "constant"}};
  const auto r = train::run_training(train::parse_train_config(c));
  ASSERT_TRUE(r.finished);
  const auto m = run_metrics(dir.file("run"));
  ASSERT_EQ(m.size(), 16u);
  double first = 0, last = 0;
  for (size_t i = 0; i < 4; ++i) {
    first += m[i]["sea"].get<double>() / 4;
    last += m[m.size() - 1 - i]["sea"].get<double>() / 4;
    EXPECT_GT(m[i]["sea_pairs"].get<int64_t>(), 1);
  }
  EXPECT_LT(last, first * 0.9) << "SEA term " << first << " -> " << last;
  EXPECT_NE(m.back()["tau"].get<double>(), 1.0);  // theta trained
  // The LLM and the vision tower are bit-identical to where they started.
  const auto tower = io::load_safetensors(shapes_training().vision + "/model.safetensors");
  const auto exported_tower = io::load_safetensors(r.final_dir + "/vision_tower/model.safetensors");
  ASSERT_EQ(tower.size(), exported_tower.size());
  for (const auto& [name, w] : tower) EXPECT_TRUE(torch::equal(exported_tower.at(name), w)) << name;
  const auto trained = io::load_safetensors(r.final_dir + "/model.safetensors");
  const auto llm = io::load_safetensors(shapes_training().llm + "/model.safetensors");
  int64_t compared = 0;
  for (const auto& [name, w] : llm) {
    ASSERT_TRUE(trained.count(name)) << name;
    EXPECT_TRUE(torch::equal(trained.at(name), w)) << name;
    ++compared;
  }
  EXPECT_GT(compared, 5);
  bool projector_moved = false;
  for (const auto& [name, w] : trained)
    if (name.find("mm_projector") != std::string::npos) projector_moved = true;
  EXPECT_TRUE(projector_moved);
}

TEST(SeaTraining, ResumedRunDrawsThePairsTheUninterruptedOneDrew) {
  TempDir dir;
  auto whole = sea_config(dir.file("whole"));
  train::run_training(train::parse_train_config(whole));
  auto parts = sea_config(dir.file("parts"));
  parts["train"]["stop_after_steps"] = 2;
  EXPECT_TRUE(train::run_training(train::parse_train_config(parts)).interrupted);
  parts["train"]["stop_after_steps"] = -1;
  EXPECT_TRUE(train::run_training(train::parse_train_config(parts)).finished);
  const auto a = run_metrics(dir.file("whole")), b = run_metrics(dir.file("parts"));
  ASSERT_EQ(a.size(), b.size());
  EXPECT_GT(a.back()["sea_pairs"].get<int64_t>(), 1);
  for (size_t i = 0; i < a.size(); ++i)
    for (const char* field : {"loss", "sea", "tau", "sea_pairs", "grad_norm"})
      EXPECT_EQ(a[i][field], b[i][field]) << i << field;
}

TEST(SeaTraining, LabelsThatDoNotCoverTheDataOrItsWordsAreNamedErrors) {
  TempDir dir;
  auto& s = shapes_training();
  // A data file with one more image than was labelled.
  auto records = nlohmann::json::parse(std::ifstream(s.files.pretrain_json));
  auto extra = records[0];
  extra["image"] = "unlabelled.png";
  fs::copy_file(s.files.images + "/" + records[0]["image"].get<std::string>(), s.files.images + "/unlabelled.png",
                fs::copy_options::overwrite_existing);
  records.push_back(extra);
  std::ofstream(dir.file("data.json")) << records.dump();
  auto c = sea_config(dir.file("run"));
  c["data"]["path"] = dir.file("data.json");
  expect_error_containing([&] { train::run_training(train::parse_train_config(c)); },
                          {sea_files().labels, "'unlabelled.png'", "vista sea label"});
  auto w = sea_config(dir.file("run2"));
  write_file(dir.file("other_words.txt"), "red\nblue\n");
  w["loss"]["sea"]["words"] = dir.file("other_words.txt");
  expect_error_containing([&] { train::run_training(train::parse_train_config(w)); }, {"another word list"});
  // Labels of another patch grid than the tower's (4x4): named with both grids.
  {
    const auto words = sea::read_word_list(sea_files().words);
    sea::LabelFileHeader h;
    h.top_n = 1;
    h.grid_rows = h.grid_cols = 2;
    h.num_words = static_cast<int64_t>(words.size());
    h.words_hash = io::content_hash({sea_files().words});
    h.images = {"any.png"};
    sea::LabelFileWriter writer(dir.file("grid2.sealabels"), h);
    writer.append(torch::zeros({4, 1}, torch::kLong), torch::ones({4, 1}), torch::ones({4, 1}, torch::kBool));
    writer.finish();
  }
  auto g = sea_config(dir.file("run4"));
  g["loss"]["sea"]["labels"] = dir.file("grid2.sealabels");
  expect_error_containing([&] { train::run_training(train::parse_train_config(g)); },
                          {dir.file("grid2.sealabels"), "2x2 patch grid", "4x4 patches"});
  auto f = sea_config(dir.file("run3"));
  f["train"]["stage"] = "finetune";
  expect_error_containing([&] { train::parse_train_config(f); }, {"loss.sea.enabled", "allow_finetune"});
}

TEST(SeaTraining, OnlineLabelsAreWhatTheLabellingPassWroteAndTrain) {
  auto& s = shapes_training();
  auto& f = sea_files();
  train::SeaTraining online;
  online.online_clip = models::load_clip_model(f.clip);
  online.word_embeds_QP = sea::word_text_embeds(
      *online.online_clip, text::Tokenizer::from_file(f.clip + "/tokenizer.json"), sea::read_word_list(f.words));
  online.top_n = 10;
  online.score_sign = 1.0;
  // A batch as training loads it: the tower's processor, square images; one sample without an image.
  const auto records = data::RecordFile::open(s.files.pretrain_json);
  const auto processor = image::load_processor_config(s.vision + "/preprocessor_config.json");
  std::vector<data::Example> examples;
  std::vector<torch::Tensor> pixels;
  for (size_t i = 0; i < 5; ++i) {
    data::Example ex;
    if (i != 2) {
      ex.image = records.record(i).image;
      pixels.push_back(
          image::to_tensor(data::load_image(s.files.images + "/" + *ex.image, processor, image::AspectMode::kSquare)));
    } else {
      pixels.push_back(torch::zeros_like(pixels.back()));
    }
    examples.push_back(ex);
  }
  const auto labels = train::online_labels(online, examples, torch::stack(pixels));
  const auto file = sea::LabelFile::open(f.labels);
  ASSERT_EQ(labels.size(), 5u);
  EXPECT_FALSE(labels[2].has_value());
  for (size_t i = 0; i < 5; ++i) {
    if (i == 2) continue;
    const auto stored = file.labels(*examples[i].image);
    EXPECT_TRUE(torch::equal(labels[i]->ids_Nn, stored.ids_Nn)) << *examples[i].image;
    // The file keeps scores in float16.
    EXPECT_TRUE(torch::allclose(labels[i]->scores_Nn, stored.scores_Nn, 1e-3, 1e-3)) << *examples[i].image;
  }
  TempDir dir;
  auto c = sea_config(dir.file("run"));
  c["loss"]["sea"].erase("labels");
  c["loss"]["sea"]["online_clip"] = f.clip;
  c["loss"]["sea"]["score_sign"] = 1;
  const auto r = train::run_training(train::parse_train_config(c));
  EXPECT_TRUE(r.finished);
  EXPECT_GT(run_metrics(dir.file("run")).back()["sea_pairs"].get<int64_t>(), 1);
  auto both = c;
  both["loss"]["sea"]["labels"] = f.labels;
  expect_error_containing([&] { train::parse_train_config(both); }, {"exactly one of loss.sea.labels"});
}
