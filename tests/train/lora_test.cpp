// LoRA: an untrained adapter leaves the model exactly as it was, adapter gradients against finite
// differences, training on the shapes data with LoRA + VISTA, bit-exact resume, merge against the
// unmerged adapters, a base that changed under a checkpoint, and targets that cannot reach the
// vision tower or the projector.
#include <filesystem>
#include <fstream>

#include "io/safetensors.h"
#include "models/adapted_linear.h"
#include "models/lora.h"
#include "models/model_loading.h"
#include "objectives/llava_objective.h"
#include "test_util.h"
#include "train/freezing.h"
#include "train/lora_setup.h"
#include "train/model_setup.h"
#include "train/shapes_training.h"
#include "train/trainer.h"

using namespace vista;
namespace fs = std::filesystem;

namespace {

models::MultimodalLM oracle_model() {
  return models::load_multimodal(testdata("oracle_v1/llava_vista/model"), {testdata("oracle_v1/clip_vision/model")});
}

objectives::MultimodalBatch oracle_batch() {
  const auto t = io::load_safetensors(testdata("oracle_v1/llava_vista/tensors.safetensors"));
  return {t.at("input.input_ids"), t.at("input.attention_mask"), t.at("input.labels"), t.at("input.pixel_values")};
}

torch::Tensor logits(models::MultimodalLMImpl& model, const objectives::MultimodalBatch& b) {
  torch::NoGradGuard no_grad;
  const auto spliced = model.prepare_inputs(b.input_ids_BL, b.attention_mask_BL, b.labels_BL,
                                            model.encode_images(b.pixel_values_BCHW));
  return model.logits(model.hidden(spliced));
}

nlohmann::json lora_config(const std::string& run_dir, int64_t steps) {
  auto c = shapes_config(run_dir);
  c["train"]["max_steps"] = steps;
  c["train"]["lora"] = {{"enabled", true}, {"r", 4}, {"alpha", 8}, {"dropout", 0.05}, {"projector_lr", 1e-3}};
  c["optim"] = {{"lr", 1e-2}, {"warmup_ratio", 0.0}};
  c["loss"] = {{"vista", {{"enabled", true}}}};
  return c;
}

}  // namespace

TEST(Lora, UntrainedAdaptersLeaveTheModelExactlyAsItWas) {
  auto model = oracle_model();
  const auto batch = oracle_batch();
  const auto before = logits(*model, batch);
  const auto adapted = models::add_lora_adapters(*model, {});
  EXPECT_EQ(adapted.size(), 2u * 7u) << "q/k/v/o and gate/up/down of each of the oracle's 2 layers";
  for (const auto& path : adapted) EXPECT_EQ(path.rfind("language_model.", 0), 0u) << path;
  EXPECT_TRUE(torch::equal(before, logits(*model, batch)));
}

TEST(Lora, TargetsCannotReachTheTowerOrTheProjector) {
  auto model = oracle_model();
  models::LoraOptions options;
  options.targets = {R"(.*\.q_proj)"};  // would also match the CLIP tower's q_proj
  expect_error_containing([&] { models::add_lora_adapters(*model, options); }, {"vision_tower", "cannot carry"});
  options.targets = {R"(.*\.nothing_like_this)"};
  expect_error_containing([&] { models::add_lora_adapters(*model, options); }, {"matches no layer"});
}

// dL/dA and dL/dB (and dL/dx through both paths) in float64 against central differences.
TEST(Lora, AdapterGradientsMatchFiniteDifferences) {
  torch::manual_seed(7);
  models::AdaptedLinear layer(5, 3, true);
  layer->to(torch::kFloat64);
  layer->add_adapter(2, 4.0, 0.0);
  {
    torch::NoGradGuard no_grad;
    layer->lora_B.normal_();  // a trained adapter: B is no longer zero
  }
  const auto x = torch::randn({4, 5}, torch::kFloat64).requires_grad_(true);
  const auto w = torch::randn({4, 3}, torch::kFloat64);
  auto loss = [&] { return (layer->forward(x).tanh() * w).sum(); };
  loss().backward();
  const double eps = 1e-6;
  for (auto* t : {&layer->lora_A, &layer->lora_B, &layer->weight}) {
    const auto analytic = t->grad().clone();
    auto flat = t->detach().view({-1});
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double keep = flat[i].item<double>();
      flat[i] = keep + eps;
      const double up = loss().item<double>();
      flat[i] = keep - eps;
      const double down = loss().item<double>();
      flat[i] = keep;
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(analytic.view({-1})[i].item<double>(), numeric, 1e-7 * std::max(1.0, std::abs(numeric))) << i;
    }
  }
}

TEST(Lora, TrainingLowersTheLossAndCheckpointsHoldOnlyAdaptersAndProjector) {
  TempDir dir;
  const auto r = train::run_training(train::parse_train_config(lora_config(dir.file("run"), 16)));
  ASSERT_TRUE(r.finished);
  const auto m = run_metrics(dir.file("run"));
  ASSERT_EQ(m.size(), 16u);
  double first = 0, last = 0;
  for (int i = 0; i < 4; ++i) first += m[i]["loss"].get<double>() / 4, last += m[m.size() - 1 - i]["loss"].get<double>() / 4;
  EXPECT_LT(last, first) << "mean loss of the first 4 steps " << first << ", of the last 4 " << last;
  const auto file = io::SafetensorsFile::open(r.final_dir + "/adapter_model.safetensors");
  size_t adapters = 0;
  for (const auto& name : file.names()) {
    const bool lora = models::is_lora_parameter(name), projector = name.rfind("projector.", 0) == 0;
    EXPECT_TRUE(lora || projector) << name << " is neither an adapter nor the projector";
    adapters += lora;
  }
  EXPECT_GT(adapters, 0u);
  // The frozen base: nothing of the LLM but the adapters is trainable.
  auto model = oracle_model();
  models::add_lora_adapters(*model, {});
  train::freeze_for_stage(*model, "finetune", false, true);
  for (const auto& p : model->named_parameters())
    EXPECT_EQ(p.value().requires_grad(), models::is_lora_parameter(p.key()) || p.key().rfind("projector.", 0) == 0)
        << p.key();
}

TEST(Lora, ResumeIsBitExact) {
  TempDir dir;
  const auto full = train::run_training(train::parse_train_config(lora_config(dir.file("full"), 4)));
  auto part = lora_config(dir.file("resumed"), 4);
  part["train"]["stop_after_steps"] = 2;
  ASSERT_TRUE(train::run_training(train::parse_train_config(part)).interrupted);
  const auto resumed = train::run_training(train::parse_train_config(lora_config(dir.file("resumed"), 4)));
  EXPECT_EQ(resumed.resumed_step, 2);
  const auto a = run_metrics(dir.file("full")), b = run_metrics(dir.file("resumed"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    for (const char* field : {"loss", "ce", "vista", "grad_norm", "lr"}) EXPECT_EQ(a[i][field], b[i][field]) << i << field;
  const auto x = io::load_safetensors(full.final_dir + "/adapter_model.safetensors");
  const auto y = io::load_safetensors(resumed.final_dir + "/adapter_model.safetensors");
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [name, t] : x) EXPECT_TRUE(torch::equal(t, y.at(name))) << name;
}

TEST(Lora, MergedModelGivesTheAdaptersLogits) {
  TempDir dir;
  const auto r = train::run_training(train::parse_train_config(lora_config(dir.file("run"), 6)));
  auto adapters = train::load_adapter_model(r.final_dir, torch::kCPU);
  auto merged = train::merge_adapter_model(r.final_dir, torch::kCPU);
  for (const auto& p : merged->named_parameters()) EXPECT_FALSE(models::is_lora_parameter(p.key())) << p.key();
  // A seeded probe through both: the merged weights round W + s B A once in float32.
  torch::manual_seed(3);
  const int64_t vocab = merged->config().text.vocab_size;
  auto ids = torch::randint(3, vocab - 2, {2, 20}, torch::kInt64);
  ids.select(1, 3).fill_(models::kImageTokenIndex);
  const auto& v = merged->vision_config();
  const objectives::MultimodalBatch probe{ids, torch::ones({2, 20}, torch::kInt64),
                                          torch::full({2, 20}, models::kIgnoreIndex, torch::kInt64),
                                          torch::randn({2, v.num_channels, v.image_size, v.image_size})};
  const auto a = logits(*adapters.model, probe), b = logits(*merged, probe);
  const double largest = a.abs().max().item<double>();
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-5 * std::max(largest, 1.0));
  // ... and the adapters did move the model: the base alone answers differently.
  auto base = train::build_model(adapters.config, torch::kCPU);
  EXPECT_GT((logits(*base, probe) - a).abs().max().item<double>(), 1e-4 * std::max(largest, 1.0));
}

TEST(Lora, ACheckpointOnAnotherBaseIsRefusedWithBothHashes) {
  TempDir dir;
  auto& s = shapes_training();
  fs::copy(s.llm, dir.file("llm"), fs::copy_options::recursive);
  auto c = lora_config(dir.file("run"), 4);
  c["model"]["llm"] = dir.file("llm");
  c["train"]["stop_after_steps"] = 2;
  ASSERT_TRUE(train::run_training(train::parse_train_config(c)).interrupted);
  // Someone retrains or replaces the base under the run.
  auto weights = io::load_safetensors(dir.file("llm/model.safetensors"));
  weights.begin()->second.add_(1e-3);
  io::save_safetensors(dir.file("llm/model.safetensors"), weights);
  c["train"].erase("stop_after_steps");
  expect_error_containing([&] { train::run_training(train::parse_train_config(c)); }, {"content hash", "hashes to"});
}

// train.lora.base_dtype = bfloat16 keeps the frozen LLM in bf16 under bf16 autocast; the adapters
// and the projector stay float32 and train.
TEST(Lora, ABfloat16BaseTrainsUnderAutocast) {
  TempDir dir;
  auto c = lora_config(dir.file("run"), 3);
  c["train"]["bf16"] = true;
  c["train"]["lora"]["base_dtype"] = "bfloat16";
  const auto r = train::run_training(train::parse_train_config(c));
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.lora_base_dtype, "BFloat16");
  for (const auto& m : run_metrics(dir.file("run"))) EXPECT_TRUE(std::isfinite(m["loss"].get<double>()));
  for (const auto& [name, t] : io::load_safetensors(r.final_dir + "/adapter_model.safetensors"))
    EXPECT_EQ(t.scalar_type(), torch::kFloat32) << name;
  auto bad = lora_config(dir.file("bad"), 3);
  bad["train"]["lora"]["base_dtype"] = "bfloat16";  // without train.bf16
  expect_error_containing([&] { train::parse_train_config(bad); }, {"train.lora.base_dtype", "train.bf16"});
}
