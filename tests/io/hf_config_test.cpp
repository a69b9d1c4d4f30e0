#include "io/hf_config.h"

#include "test_util.h"

using namespace vista::io;
using vista::JsonNode;

namespace {
JsonNode fields(const std::string& text) { return JsonNode::owning(nlohmann::json::parse(text), "cfg/config.json"); }

const char* kLlama = R"({"model_type":"llama","vocab_size":32,"hidden_size":16,"intermediate_size":32,
  "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-5})";
}  // namespace

TEST(HfConfig, ParsesFixtureConfigs) {
  const auto llama = parse_decoder_config(read_config(testdata("oracle_v1/llama/model")));
  EXPECT_EQ(llama.hidden_size, 64);
  EXPECT_EQ(llama.num_key_value_heads, 2);
  EXPECT_EQ(llama.head_dim, 16);
  EXPECT_FALSE(llama.tie_word_embeddings);
  const auto clip = parse_vision_config(read_config(testdata("oracle_v1/clip_vision/model")));
  EXPECT_EQ(clip.num_patches(), 16);
  const auto llava = parse_llava_config(read_config(testdata("oracle_v1/llava_vista/model")));
  EXPECT_EQ(llava.mm.mm_projector_type, "mlp2x_gelu");
  EXPECT_EQ(llava.mm.mm_vision_select_layer, -2);
  EXPECT_EQ(llava.mm.tokenizer_model_max_length, 2048);
}

TEST(HfConfig, KvHeadsDefaultToHeads) {
  auto j = nlohmann::json::parse(kLlama);
  j.erase("num_key_value_heads");
  EXPECT_EQ(parse_decoder_config(JsonNode(j, "x")).num_key_value_heads, 4);
}

TEST(HfConfig, MissingFieldNamesFileAndField) {
  auto j = nlohmann::json::parse(kLlama);
  j.erase("hidden_size");
  expect_error_containing([&] { parse_decoder_config(JsonNode(j, "cfg/config.json")); },
                          {"cfg/config.json", "field 'hidden_size' is missing"});
}

TEST(HfConfig, WrongTypeNamesFieldAndValue) {
  auto j = nlohmann::json::parse(kLlama);
  j["num_hidden_layers"] = "two";
  expect_error_containing([&] { parse_decoder_config(JsonNode(j, "cfg/config.json")); },
                          {"cfg/config.json", "field 'num_hidden_layers'", "expected an integer", "\"two\""});
}

TEST(HfConfig, RejectsIndivisibleHeads) {
  auto j = nlohmann::json::parse(kLlama);
  j["num_key_value_heads"] = 3;
  expect_error_containing([&] { parse_decoder_config(JsonNode(j, "cfg/config.json")); },
                          {"cfg/config.json", "num_attention_heads 4", "num_key_value_heads 3"});
}

TEST(HfConfig, RefusesRopeScalingInsteadOfIgnoringIt) {
  auto j = nlohmann::json::parse(kLlama);
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  expect_error_containing([&] { parse_decoder_config(JsonNode(j, "cfg/config.json")); },
                          {"cfg/config.json", "rope_scaling", "not supported"});
}

TEST(HfConfig, RejectsUnknownModelType) {
  expect_error_containing([] { parse_decoder_config(fields(R"({"model_type":"gpt2"})")); },
                          {"cfg/config.json", "'model_type' is 'gpt2'"});
  expect_error_containing([] { parse_vision_config(fields(R"({"model_type":"vit"})")); },
                          {"cfg/config.json", "'model_type' is 'vit'"});
}

TEST(HfConfig, VisionRejectsImageNotMultipleOfPatch) {
  expect_error_containing(
      [] {
        parse_vision_config(fields(R"({"model_type":"clip_vision_model","hidden_size":8,"intermediate_size":16,
          "num_hidden_layers":1,"num_attention_heads":2,"image_size":30,"patch_size":8})"));
      },
      {"cfg/config.json", "image_size 30", "patch_size 8"});
}

TEST(HfConfig, NestedClipConfigIsAccepted) {
  const auto c = parse_vision_config(fields(R"({"model_type":"clip","vision_config":{"model_type":"clip_vision_model",
    "hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,"image_size":32,"patch_size":8}})"));
  EXPECT_EQ(c.hidden_size, 8);
}

TEST(HfConfig, LlavaRejectsUnsupportedMultimodalOptions) {
  auto j = nlohmann::json::parse(kLlama);
  j["mm_hidden_size"] = 8;
  j["mm_vision_tower"] = "clip";
  j["model_type"] = "llava_llama";
  j["mm_vision_select_feature"] = "cls";
  expect_error_containing([&] { parse_llava_config(JsonNode(j, "cfg/config.json")); },
                          {"cfg/config.json", "vision feature selection 'cls'"});
  j["mm_vision_select_feature"] = "patch";
  j["mm_patch_merge_type"] = "spatial_unpad";
  expect_error_containing([&] { parse_llava_config(JsonNode(j, "cfg/config.json")); },
                          {"mm_patch_merge_type", "spatial_unpad"});
}

TEST(HfConfig, BadJsonFileNamesTheFile) {
  TempDir dir;
  write_file(dir.file("config.json"), "{\"model_type\": ");
  expect_error_containing([&] { read_config(dir.path()); }, {dir.file("config.json"), "invalid JSON"});
  expect_error_containing([&] { read_config(dir.file("missing")); }, {"missing/config.json", "cannot open"});
}
