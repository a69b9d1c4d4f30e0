#include "models/weight_loading.h"

#include <filesystem>

#include "io/safetensors.h"
#include "models/checkpointing.h"
#include "models/model_loading.h"
#include "test_util.h"
#include "runtime/torch_compat.h"

using namespace vista::models;

namespace {
// Copies the fixture llama checkpoint's config, with a chosen set of tensors written out.
void write_llama_variant(const TempDir& dir, std::map<std::string, torch::Tensor> tensors) {
  std::filesystem::copy_file(testdata("oracle_v1/llama/model/config.json"), dir.file("config.json"));
  vista::io::save_safetensors(dir.file("model.safetensors"), tensors);
}
}  // namespace

TEST(WeightLoading, LoadsFixtureLlamaExactly) {
  auto model = load_causal_lm(testdata("oracle_v1/llama/model"));
  const auto reference = vista::io::load_safetensors(testdata("oracle_v1/llama/model/model.safetensors"));
  size_t checked = 0;
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(reference.count(p.key())) << p.key();
    EXPECT_TRUE(torch::equal(p.value(), reference.at(p.key()))) << p.key();
    ++checked;
  }
  EXPECT_EQ(checked, reference.size());
}

TEST(WeightLoading, ReportsEveryMissingUnexpectedAndMisshapedTensor) {
  TempDir dir;
  auto tensors = vista::io::load_safetensors(testdata("oracle_v1/llama/model/model.safetensors"));
  tensors.erase("model.norm.weight");
  tensors.erase("lm_head.weight");
  tensors["model.extra.weight"] = torch::zeros({2});
  tensors["model.layers.0.self_attn.k_proj.weight"] = torch::zeros({64, 64});
  write_llama_variant(dir, tensors);
  expect_error_containing([&] { load_causal_lm(dir.path()); },
                          {dir.path(), "2 missing", "1 unexpected", "1 mis-shaped",
                           "missing: model.norm.weight (expected shape [64])", "missing: lm_head.weight",
                           "unexpected: model.extra.weight",
                           "mis-shaped: model.layers.0.self_attn.k_proj.weight: expected [32, 64], got [64, 64]"});
}

TEST(WeightLoading, MissingCheckpointFileIsNamed) {
  TempDir dir;
  std::filesystem::copy_file(testdata("oracle_v1/llama/model/config.json"), dir.file("config.json"));
  expect_error_containing([&] { load_causal_lm(dir.path()); }, {dir.path(), "no model.safetensors"});
}

TEST(WeightLoading, ShardedCheckpointLoads) {
  TempDir dir;
  auto tensors = vista::io::load_safetensors(testdata("oracle_v1/llama/model/model.safetensors"));
  std::map<std::string, torch::Tensor> first, second;
  nlohmann::json weight_map;
  bool flip = false;
  for (const auto& [k, v] : tensors) {
    (flip ? first : second)[k] = v;
    weight_map[k] = flip ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    flip = !flip;
  }
  std::filesystem::copy_file(testdata("oracle_v1/llama/model/config.json"), dir.file("config.json"));
  vista::io::save_safetensors(dir.file("model-00001-of-00002.safetensors"), first);
  vista::io::save_safetensors(dir.file("model-00002-of-00002.safetensors"), second);
  write_file(dir.file("model.safetensors.index.json"), nlohmann::json{{"weight_map", weight_map}}.dump());
  auto model = load_causal_lm(dir.path());
  EXPECT_TRUE(torch::equal(model->named_parameters()["model.norm.weight"], tensors.at("model.norm.weight")));
}

TEST(WeightLoading, LlavaOfficialLayoutRoundTrips) {
  const std::string dir = testdata("oracle_v1/llava_vista/model");
  auto model = load_multimodal(dir, {testdata("oracle_v1/clip_vision/model")});
  const auto exported = export_state(*model, checkpoint_layout(model->config()));
  const auto reader = CheckpointReader::open(dir);
  size_t compared = 0;
  for (const auto& key : reader.keys()) {
    if (key.rfind("model.vision_tower.", 0) == 0) continue;
    ASSERT_TRUE(exported.count(key)) << key;
    EXPECT_TRUE(torch::equal(exported.at(key), reader.tensor(key))) << key;
    ++compared;
  }
  EXPECT_EQ(compared, exported.size());
}

TEST(WeightLoading, UnresolvableVisionTowerListsPlacesTried) {
  TempDir dir;
  auto config = vista::read_json_file(testdata("oracle_v1/llava_vista/model/config.json"));
  config["mm_vision_tower"] = "no/such/tower";
  write_file(dir.file("config.json"), config.dump());
  expect_error_containing([&] { load_multimodal(dir.path()); }, {"mm_vision_tower", "no/such/tower", "Tried:", "--vision-tower"});
}

// tie_word_embeddings: the checkpoint has no lm_head.weight (phi keeps lm_head.bias) and the
// logits use the embedding matrix.
TEST(WeightLoading, TiedEmbeddingsLoadWithoutLmHeadWeight) {
  for (const std::string name : {"qwen2", "phi", "llama"}) {
    TempDir dir;
    auto config = vista::read_json_file(testdata("oracle_v1/" + name + "/model/config.json"));
    config["tie_word_embeddings"] = true;
    write_file(dir.file("config.json"), config.dump());
    auto tensors = vista::io::load_safetensors(testdata("oracle_v1/" + name + "/model/model.safetensors"));
    tensors.erase("lm_head.weight");
    vista::io::save_safetensors(dir.file("model.safetensors"), tensors);
    auto model = load_causal_lm(dir.path());
    const auto ids = torch::tensor(std::vector<int64_t>{1, 5, 9, 2}).view({1, 4});
    const auto hidden = model->hidden(model->embed(ids), torch::ones({1, 4}, torch::kInt64),
                                      default_position_ids(1, 4, torch::kCPU));
    const auto bias = tensors.count("lm_head.bias") ? tensors.at("lm_head.bias") : torch::Tensor();
    const auto expected = torch::nn::functional::linear(hidden, tensors.at("model.embed_tokens.weight"), bias);
    EXPECT_TRUE(torch::equal(model->logits(hidden), expected)) << name;
    EXPECT_EQ(model->named_parameters().find("lm_head.weight"), nullptr) << name;
  }
}

// Activation recomputation changes memory, not results: same loss, same gradients.
TEST(GradientCheckpointing, SameGradientsAsPlainBackward) {
 for (const std::string family : {"llama", "phi"}) {
  auto model = load_causal_lm(testdata("oracle_v1/" + family + "/model"));
  const auto t = vista::io::load_safetensors(testdata("oracle_v1/" + family + "/tensors.safetensors"));
  auto run = [&](bool checkpointing) {
    model->set_gradient_checkpointing(checkpointing);
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
    const auto ids = t.at("input.input_ids");
    const auto hidden = model->hidden(model->embed(ids), t.at("input.attention_mask"), t.at("input.position_ids"));
    auto logits = model->logits(hidden);
    auto loss = torch::nn::functional::cross_entropy(logits.narrow(1, 0, ids.size(1) - 1).reshape({-1, logits.size(2)}),
                                                     t.at("input.labels").narrow(1, 1, ids.size(1) - 1).reshape({-1}));
    loss.backward();
    std::vector<torch::Tensor> grads;
    for (auto& p : model->parameters()) grads.push_back(p.grad().clone());
    return std::make_pair(loss.item<double>(), grads);
  };
  const auto plain = run(false);
  const int64_t before = recomputed_blocks();
  const auto recomputed = run(true);
  // Each decoder layer was recomputed once in backward: checkpointing was really on.
  EXPECT_EQ(recomputed_blocks() - before, model->config().num_hidden_layers) << family;
  EXPECT_DOUBLE_EQ(plain.first, recomputed.first);
  ASSERT_EQ(plain.second.size(), recomputed.second.size());
  for (size_t i = 0; i < plain.second.size(); ++i)
    EXPECT_TRUE(torch::allclose(plain.second[i], recomputed.second[i], 1e-5, 1e-7)) << family << " " << i;
 }
}

// Under bf16 autocast the recomputation in backward runs under bf16 too, so the gradients are
// those of the bf16 forward (a float32 recomputation would give visibly different ones).
TEST(GradientCheckpointing, RecomputesUnderTheForwardsAutocast) {
  auto model = load_causal_lm(testdata("oracle_v1/llama/model"));
  const auto t = vista::io::load_safetensors(testdata("oracle_v1/llama/tensors.safetensors"));
  auto run = [&](bool checkpointing) {
    model->set_gradient_checkpointing(checkpointing);
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
    const auto ids = t.at("input.input_ids");
    torch::Tensor loss;
    {
      vista::compat::set_autocast(c10::DeviceType::CPU, true, at::kBFloat16);
      const auto hidden = model->hidden(model->embed(ids), t.at("input.attention_mask"), t.at("input.position_ids"));
      auto logits = model->logits(hidden).to(torch::kFloat32);
      loss = torch::nn::functional::cross_entropy(logits.narrow(1, 0, ids.size(1) - 1).reshape({-1, logits.size(2)}),
                                                  t.at("input.labels").narrow(1, 1, ids.size(1) - 1).reshape({-1}));
      vista::compat::set_autocast(c10::DeviceType::CPU, false, at::kBFloat16);
      vista::compat::autocast_clear_cache();
    }
    loss.backward();
    std::vector<torch::Tensor> grads;
    for (auto& p : model->parameters()) grads.push_back(p.grad().clone());
    return grads;
  };
  const auto plain = run(false);
  const auto recomputed = run(true);
  for (size_t i = 0; i < plain.size(); ++i)
    EXPECT_TRUE(torch::allclose(plain[i], recomputed[i], 1e-3, 1e-5))
        << i << " max diff " << (plain[i] - recomputed[i]).abs().max().item<double>();
}
