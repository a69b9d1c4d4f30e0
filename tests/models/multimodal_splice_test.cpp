#include "models/multimodal_splice.h"

#include "test_util.h"

using namespace vista::models;

namespace {
constexpr int64_t kImg = kImageTokenIndex;

torch::Tensor i64(std::vector<std::vector<int64_t>> rows) {
  std::vector<int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat).view({static_cast<int64_t>(rows.size()), -1});
}
torch::Tensor i64_1d(std::vector<int64_t> v) { return torch::tensor(v); }

// Token embedding = id in every feature, so positions are easy to read back.
torch::Tensor embeds_for(const torch::Tensor& ids, int64_t D) {
  return ids.clamp_min(0).to(torch::kFloat32).unsqueeze(-1).expand({ids.size(0), ids.size(1), D}).clone();
}
// Image k's feature row i = -(100*(k+1) + i).
torch::Tensor features(int64_t K, int64_t N, int64_t D) {
  auto k = torch::arange(K).view({K, 1, 1}).to(torch::kFloat32);
  auto i = torch::arange(N).view({1, N, 1}).to(torch::kFloat32);
  return (-(100 * (k + 1) + i)).expand({K, N, D}).clone();
}
SpliceInputs inputs(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& feats) {
  SpliceInputs in;
  in.input_ids_BL = ids;
  in.attention_mask_BL = mask;
  in.labels_BL = torch::where(ids == kImg, torch::full({}, kIgnoreIndex), ids * 10);
  in.token_embeds_BLD = embeds_for(ids, 2);
  in.image_features_KND = feats;
  return in;
}
}  // namespace

TEST(MultimodalSplice, ExpandsPlaceholderAndPadsRight) {
  auto ids = i64({{1, kImg, 5, 6}, {1, kImg, 7, 0}});
  auto mask = i64({{1, 1, 1, 1}, {1, 1, 1, 0}});
  const auto out = splice_multimodal(inputs(ids, mask, features(2, 3, 2)));
  ASSERT_EQ(out.inputs_embeds_BTD.sizes(), (std::vector<int64_t>{2, 6, 2}));
  const auto col = out.inputs_embeds_BTD.select(2, 0);
  EXPECT_TRUE(torch::equal(col[0], torch::tensor({1.f, -100.f, -101.f, -102.f, 5.f, 6.f})));
  EXPECT_TRUE(torch::equal(col[1], torch::tensor({1.f, -200.f, -201.f, -202.f, 7.f, 0.f})));
  EXPECT_TRUE(torch::equal(out.attention_mask_BT, i64({{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0}})));
  EXPECT_TRUE(torch::equal(out.labels_BT, i64({{10, -100, -100, -100, 50, 60}, {10, -100, -100, -100, 70, -100}})));
  EXPECT_TRUE(torch::equal(out.last_image_pos_B, i64_1d({3, 3})));
  EXPECT_TRUE(torch::equal(out.text_offsets_B1, i64_1d({0, 3, 5})));
  EXPECT_TRUE(torch::equal(out.text_positions_P, i64_1d({0, 4, 5, 0, 4})));
  EXPECT_TRUE(torch::equal(out.text_embeds_PD.select(1, 0), torch::tensor({1.f, 5.f, 6.f, 1.f, 7.f})));
}

TEST(MultimodalSplice, TextOnlySampleConsumesItsDummyImage) {
  auto ids = i64({{1, 4, 5}, {1, kImg, 6}});
  auto mask = torch::ones({2, 3}, torch::kInt64);
  const auto out = splice_multimodal(inputs(ids, mask, features(2, 2, 2)));
  EXPECT_EQ(out.last_image_pos_B[0].item<int64_t>(), -1);
  EXPECT_EQ(out.last_image_pos_B[1].item<int64_t>(), 2);
  // sample 1 gets image row 1 (row 0 is sample 0's dummy)
  EXPECT_EQ(out.inputs_embeds_BTD[1][1][0].item<float>(), -200.f);
  EXPECT_FALSE(out.image_mask_BT[0].any().item<bool>());
}

TEST(MultimodalSplice, TruncationCutsSequenceButKeepsTextEmbeddings) {
  auto ids = i64({{1, kImg, 5, 6, 7}});
  auto mask = torch::ones({1, 5}, torch::kInt64);
  auto in = inputs(ids, mask, features(1, 3, 2));
  in.max_length = 5;
  const auto out = splice_multimodal(in);
  EXPECT_EQ(out.inputs_embeds_BTD.size(1), 5);
  EXPECT_TRUE(torch::equal(out.text_positions_P, i64_1d({0, 4, -1, -1})));
  EXPECT_EQ(out.text_embeds_PD.size(0), 4);
}

TEST(MultimodalSplice, TooFewImageFeaturesIsAnError) {
  auto ids = i64({{1, kImg, kImg}});
  auto mask = torch::ones({1, 3}, torch::kInt64);
  expect_error_containing([&] { splice_multimodal(inputs(ids, mask, features(1, 2, 2))); },
                          {"need 2 image feature rows, 1 given"});
}

TEST(MultimodalSplice, ExtraRightPaddingChangesNothing) {
  auto ids = i64({{1, kImg, 5, 6}, {1, kImg, 7, 0}});
  auto mask = i64({{1, 1, 1, 1}, {1, 1, 1, 0}});
  const auto a = splice_multimodal(inputs(ids, mask, features(2, 3, 2)));
  auto ids_padded = torch::cat({ids, torch::zeros({2, 3}, torch::kInt64)}, 1);
  auto mask_padded = torch::cat({mask, torch::zeros({2, 3}, torch::kInt64)}, 1);
  const auto b = splice_multimodal(inputs(ids_padded, mask_padded, features(2, 3, 2)));
  EXPECT_TRUE(torch::equal(a.inputs_embeds_BTD, b.inputs_embeds_BTD));
  EXPECT_TRUE(torch::equal(a.labels_BT, b.labels_BT));
  EXPECT_TRUE(torch::equal(a.text_embeds_PD, b.text_embeds_PD));
}
