#include <filesystem>

#include "io/safetensors.h"
#include "models/model_loading.h"
#include "models/model_saving.h"
#include "test_util.h"

using namespace vista;

namespace {

std::map<std::string, torch::Tensor> weights(const std::string& dir) { return io::load_safetensors(dir + "/model.safetensors"); }

models::MultimodalLM convert(const std::string& in, const std::string& out, io::Layout to) {
  auto model = models::load_multimodal(in);
  models::save_multimodal(*model, out, {to});
  return model;
}

// Logits of the llava_vista fixture batch (ids use -200 placeholders, accepted by every layout).
torch::Tensor fixture_logits(models::MultimodalLMImpl& model, const std::string& case_dir) {
  const auto t = io::load_safetensors(case_dir + "/tensors.safetensors");
  torch::NoGradGuard no_grad;
  const auto features = model.encode_images(t.at("input.pixel_values"));
  const auto batch = model.prepare_inputs(t.at("input.input_ids"), t.at("input.attention_mask"), t.at("input.labels"), features);
  return model.logits(model.hidden(batch));
}

}  // namespace

TEST(Convert, OfficialToLlavaHfMatchesTransformersConverter) {
  TempDir dir;
  convert(testdata("oracle_v1/llava_vista/model"), dir.file("hf"), io::Layout::kLlavaHf);
  const auto ours = weights(dir.file("hf"));
  const auto reference = weights(testdata("oracle_v1/llava_hf/model"));  // made by transformers' converter
  ASSERT_EQ(ours.size(), reference.size());
  for (const auto& [key, expected] : reference) {
    ASSERT_TRUE(ours.count(key)) << key;
    const auto& actual = ours.at(key);
    ASSERT_EQ(actual.sizes(), expected.sizes()) << key;
    if (key == "language_model.model.embed_tokens.weight" || key == "language_model.lm_head.weight") {
      // Rows past the original vocabulary (<image>, <pad>, filler) are random in transformers.
      EXPECT_TRUE(torch::equal(actual.narrow(0, 0, 256), expected.narrow(0, 0, 256))) << key;
    } else {
      EXPECT_TRUE(torch::equal(actual, expected)) << key;
    }
  }
  const auto config = io::parse_llava_config(io::read_config(dir.file("hf")));
  EXPECT_EQ(config.mm.image_token_index, 256);
  EXPECT_EQ(config.text.pad_token_id, 257);
  EXPECT_EQ(config.text.vocab_size, 264);
}

TEST(Convert, OfficialRoundTripIsBitExactAndLogitsAgree) {
  TempDir dir;
  auto original = convert(testdata("oracle_v1/llava_vista/model"), dir.file("hf"), io::Layout::kLlavaHf);
  auto hf = convert(dir.file("hf"), dir.file("back"), io::Layout::kOfficialLlava);
  const auto before = weights(testdata("oracle_v1/llava_vista/model"));
  const auto after = weights(dir.file("back"));
  size_t compared = 0;
  for (const auto& [key, tensor] : before) {
    if (key.rfind("model.vision_tower.", 0) == 0) continue;  // the tower is written beside the model
    ASSERT_TRUE(after.count(key)) << key;
    EXPECT_TRUE(torch::equal(after.at(key), tensor)) << key;
    ++compared;
  }
  EXPECT_EQ(compared, after.size());
  const auto tower_before = weights(testdata("oracle_v1/clip_vision/model"));
  const auto tower_after = weights(dir.file("back/vision_tower"));
  ASSERT_EQ(tower_before.size(), tower_after.size());
  for (const auto& [key, tensor] : tower_before) EXPECT_TRUE(torch::equal(tower_after.at(key), tensor)) << key;

  const auto case_dir = testdata("oracle_v1/llava_vista");
  const auto logits_official = fixture_logits(*original, case_dir);
  const auto logits_hf = fixture_logits(*hf, case_dir);
  ASSERT_EQ(logits_hf.size(2), 264);
  // Extra vocabulary rows change only the matmul's summation order.
  EXPECT_TRUE(torch::allclose(logits_hf.narrow(2, 0, 256), logits_official, 0, 1e-5));
  auto back = models::load_multimodal(dir.file("back"));
  EXPECT_TRUE(torch::equal(fixture_logits(*back, case_dir), logits_official));
}

TEST(Convert, TinyLlavaRoundTripThroughLlavaHfIsBitExact) {
  TempDir dir;
  auto original = convert(testdata("oracle_v1/tinyllava_vista/model"), dir.file("hf"), io::Layout::kLlavaHf);
  convert(dir.file("hf"), dir.file("back"), io::Layout::kTinyLlava);
  const auto before = weights(testdata("oracle_v1/tinyllava_vista/model"));
  const auto after = weights(dir.file("back"));
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [key, tensor] : before) {
    ASSERT_TRUE(after.count(key)) << key;
    EXPECT_TRUE(torch::equal(after.at(key), tensor)) << key;
  }
  auto back = models::load_multimodal(dir.file("back"));
  const auto case_dir = testdata("oracle_v1/tinyllava_vista");
  EXPECT_TRUE(torch::equal(fixture_logits(*back, case_dir), fixture_logits(*original, case_dir)));
}

TEST(Convert, OfficialLayoutRefusesNonLlamaDecoder) {
  TempDir dir;
  expect_error_containing([&] { convert(testdata("oracle_v1/tinyllava_vista/model"), dir.file("x"), io::Layout::kOfficialLlava); },
                          {"LLaMA-family", "phi"});
}
