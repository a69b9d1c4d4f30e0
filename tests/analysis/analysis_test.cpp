// The alignment instruments: the heatmap's similarity against a loop-form reference on a fixed
// model, the picture it draws, the image as the model saw it, and the contribution measurement.
#include <gtest/gtest.h>

#include <filesystem>

#include "analysis/contribution.h"
#include "analysis/image_as_seen.h"
#include "analysis/token_similarity.h"
#include "data/dataset.h"
#include "image/decode.h"
#include "image/processor.h"
#include "image/processor_config.h"
#include "image/tensor.h"
#include "models/layers.h"
#include "models/model_loading.h"
#include "test_util.h"
#include "text/tokenizer.h"
#include "train/shapes_training.h"
#include "viz/heatmap.h"

using namespace vista;
namespace fs = std::filesystem;

namespace {

// The paper's map, written as the definition reads: for each image token i, the mean over text
// tokens j of x_i . t_j / (|x_i| |t_j|), one scalar at a time.
std::vector<double> similarity_by_loops(const torch::Tensor& x_ND, const torch::Tensor& t_TD) {
  const auto x = x_ND.to(torch::kDouble).contiguous(), t = t_TD.to(torch::kDouble).contiguous();
  const auto xa = x.accessor<double, 2>(), ta = t.accessor<double, 2>();
  std::vector<double> out;
  for (int64_t i = 0; i < x.size(0); ++i) {
    double sum = 0;
    for (int64_t j = 0; j < t.size(0); ++j) {
      double dot = 0, nx = 0, nt = 0;
      for (int64_t d = 0; d < x.size(1); ++d) {
        dot += xa[i][d] * ta[j][d];
        nx += xa[i][d] * xa[i][d];
        nt += ta[j][d] * ta[j][d];
      }
      sum += dot / (std::sqrt(nx) * std::sqrt(nt));
    }
    out.push_back(sum / static_cast<double>(t.size(0)));
  }
  return out;
}

}  // namespace

TEST(Heatmap, VectorisedSimilarityMatchesTheLoopFormOnAFixedModel) {
  torch::NoGradGuard no_grad;
  auto& s = shapes_training();
  auto model = shapes_fixed_model();
  const auto tokenizer = text::Tokenizer::from_dir(testdata("tokenizers/mistral7b"));
  const auto processor = image::load_processor_config(s.vision + "/preprocessor_config.json");
  const auto records = data::RecordFile::open(s.files.pretrain_json);
  const auto processed =
      data::load_image(s.files.images + "/" + *records.record(0).image, processor, image::AspectMode::kPad);
  const auto tokens_ND = model->encode_images(image::to_tensor(processed).unsqueeze(0))[0];
  const auto text_TD = model->language_model->embed(
      torch::tensor(tokenizer.encode_ids("What colour is the shape on the left?", false)).unsqueeze(0))[0];
  ASSERT_EQ(tokens_ND.size(0), 16);  // 32 px in 8 px patches
  const auto fast = analysis::image_text_similarity(tokens_ND, text_TD);
  const auto slow = similarity_by_loops(tokens_ND, text_TD);
  ASSERT_EQ(fast.numel(), static_cast<int64_t>(slow.size()));
  for (size_t i = 0; i < slow.size(); ++i)
    EXPECT_NEAR(fast[static_cast<int64_t>(i)].item<double>(), slow[i], 1e-12) << i;
  EXPECT_GT(fast.max().item<double>() - fast.min().item<double>(), 1e-6);  // the map is not flat
}

TEST(Heatmap, ImageAsSeenUndoesTheNormalisation) {
  auto& s = shapes_training();
  const auto processor = image::load_processor_config(s.vision + "/preprocessor_config.json");
  const auto records = data::RecordFile::open(s.files.pretrain_json);
  const auto path = s.files.images + "/" + *records.record(0).image;
  const auto processed = data::load_image(path, processor, image::AspectMode::kSquare);
  const auto seen = analysis::image_as_seen(processed, processor);
  // Resizing the 64 px original to 32 px changes pixels; normalising and undoing it must not.
  const auto again =
      analysis::image_as_seen(image::rescale_normalize(seen, image::normalize_options(processor)), processor);
  ASSERT_EQ(seen.pixels.size(), again.pixels.size());
  for (size_t i = 0; i < seen.pixels.size(); ++i) EXPECT_NEAR(seen.pixels[i], again.pixels[i], 1) << i;
}

TEST(Heatmap, PanelsShareOneColourScale) {
  TempDir dir;
  viz::HeatmapPanel a{"a", image::make_image(4, 4, 3, 128), {0, 1, 2, 3}, 2, 2};
  viz::HeatmapPanel b{"b", image::make_image(4, 4, 3, 128), {3, 3, 3, 3}, 2, 2};
  viz::HeatmapOptions o;
  o.alpha = 1.0;
  o.panel_size = 4;
  viz::write_heatmaps(dir.file("map.png"), {a, b}, o);
  const auto png = image::read_image_file(dir.file("map.png"));
  uint8_t top[3], bottom[3];
  viz::colour_of(1.0, top);
  viz::colour_of(0.0, bottom);
  // Panel a's first patch holds the smallest value of both panels, panel b's the largest.
  auto at = [&](int x, int y) { return png.row(y) + x * 3; };
  const int top_y = 44, ax = 24, bx = 24 + 4 + 24;
  EXPECT_TRUE(std::equal(bottom, bottom + 3, at(ax, top_y)));
  EXPECT_TRUE(std::equal(top, top + 3, at(bx, top_y)));
  EXPECT_TRUE(std::equal(top, top + 3, at(ax + 3, top_y + 3)));  // a's last patch = 3, the shared maximum
  expect_error_containing(
      [&] {
        viz::write_heatmaps(dir.file("bad.png"), {{"c", image::make_image(4, 4, 3), {1}, 2, 2}}, o);
      },
      {"1 values for a 2x2 grid"});
}

TEST(Contribution, RecordsEveryLayerAndDoesNotChangeTheForward) {
  torch::NoGradGuard no_grad;
  auto& s = shapes_training();
  auto model = shapes_fixed_model();
  const auto tokenizer = text::Tokenizer::from_dir(testdata("tokenizers/mistral7b"));
  const auto processor = image::load_processor_config(s.vision + "/preprocessor_config.json");
  const auto records = data::RecordFile::open(s.files.pretrain_json);
  // Recording attention runs the eager path: the hidden states are those of the plain forward.
  const auto ids = torch::tensor(tokenizer.encode_ids("a red circle at the top", true)).unsqueeze(0);
  const auto pixels = image::to_tensor(data::load_image(s.files.images + "/" + *records.record(0).image, processor,
                                                        image::AspectMode::kPad))
                          .unsqueeze(0);
  auto spliced_ids = torch::cat(
      {ids.narrow(1, 0, 1), torch::full({1, 1}, models::kImageTokenIndex), ids.narrow(1, 1, ids.size(1) - 1)}, 1);
  const auto spliced =
      model->prepare_inputs(spliced_ids, torch::ones_like(spliced_ids),
                            torch::full_like(spliced_ids, models::kIgnoreIndex), model->encode_images(pixels));
  const auto plain = model->hidden(spliced);
  int64_t calls = 0;
  torch::Tensor recorded;
  {
    models::AttentionRecording recording([&](const torch::Tensor& probs) {
      ++calls;
      EXPECT_TRUE(torch::allclose(probs.sum(-1), torch::ones({1}), 1e-5, 1e-5));  // rows are distributions
    });
    recorded = model->hidden(spliced);
  }
  EXPECT_EQ(calls, model->config().text.num_hidden_layers);
  EXPECT_TRUE(torch::allclose(plain, recorded, 1e-5, 1e-5));
  EXPECT_EQ(models::AttentionRecording::active(), nullptr);

  analysis::ContributionOptions o;
  o.preamble_words = {0, 24};
  o.tmpl = data::get_template("vicuna_v1");
  o.processor = processor;
  std::vector<analysis::ContributionCase> cases;
  for (size_t i = 0; i < 2; ++i)
    cases.push_back({s.files.images + "/" + *records.record(i).image, "What colour is the shape?", "red"});
  const auto points = analysis::measure_contribution(*model, tokenizer, cases, o);
  ASSERT_EQ(points.size(), 2u);
  for (const auto& p : points) {
    EXPECT_EQ(p.cases, 2);
    ASSERT_EQ(p.image_attention_layer.size(), static_cast<size_t>(model->config().text.num_hidden_layers));
    for (const double v : p.image_attention_layer) {
      EXPECT_GE(v, 0.0);
      EXPECT_LE(v, 1.0);
    }
    EXPECT_LT(p.logprob_real, 0.0);
    EXPECT_NE(p.logprob_real, p.logprob_neutral);  // the image is read
  }
  // More text before the question leaves less attention for the image's 16 tokens.
  EXPECT_LT(points[1].image_attention, points[0].image_attention);
}
