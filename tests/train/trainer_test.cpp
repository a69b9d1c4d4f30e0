// The trainer end to end on tiny models over the shapes data: exact resume, corrupt checkpoints,
// non-finite stop, stage freezing, schedule, accumulation, and fixture reproduction after saving.
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "data/shapes.h"
#include "demo/tiny_towers.h"
#include "fixtures/check_runner.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "models/checkpointing.h"
#include "models/model_loading.h"
#include "models/model_saving.h"
#include "objectives/llava_objective.h"
#include "test_util.h"
#include "train/shapes_training.h"
#include "train/autocast.h"
#include "train/checkpoint.h"
#include "train/freezing.h"
#include "train/schedule.h"
#include "train/trainer.h"

using namespace vista;
namespace fs = std::filesystem;

namespace {

using Setup = ShapesTraining;
Setup& setup() { return shapes_training(); }
nlohmann::json config(const std::string& run_dir, const std::string& stage = "finetune") { return shapes_config(run_dir, stage); }
std::vector<nlohmann::json> metrics(const std::string& run_dir) { return run_metrics(run_dir); }

void expect_same_losses(const std::vector<nlohmann::json>& a, const std::vector<nlohmann::json>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    for (const char* field : {"step", "loss", "ce", "vista", "similarity", "lr", "grad_norm", "tokens", "samples"})
      EXPECT_EQ(a[i][field], b[i][field]) << "line " << i << " field " << field;  // bit-identical doubles
}

// Every tensor of two saved models, bit for bit.
void expect_same_weights(const std::string& a_dir, const std::string& b_dir) {
  const auto a = io::load_safetensors(a_dir + "/model.safetensors");
  const auto b = io::load_safetensors(b_dir + "/model.safetensors");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
}

// sqrt(sum over tensors of |a - b|^2): how far apart two saved models are.
double weight_distance(const std::string& a_dir, const std::string& b_dir) {
  const auto a = io::load_safetensors(a_dir + "/model.safetensors");
  const auto b = io::load_safetensors(b_dir + "/model.safetensors");
  double sum = 0;
  for (const auto& [name, tensor] : a) sum += (tensor.to(torch::kFloat64) - b.at(name).to(torch::kFloat64)).pow(2).sum().item<double>();
  return std::sqrt(sum);
}

// Over one epoch of `records` (20 samples) with one bad record: skipped and counted by default,
// the end of the run under bad_sample_policy=stop, with a message holding every needle.
void expect_one_bad_sample(const TempDir& dir, const nlohmann::json& records, const nlohmann::json& data,
                           std::initializer_list<std::string> needles) {
  std::ofstream(dir.file("records.json")) << records.dump();
  auto c = config(dir.file("run"));
  c["data"]["path"] = dir.file("records.json");
  c["data"]["max_bad_fraction"] = 0.5;
  if (data.is_object()) c["data"].merge_patch(data);
  c["train"]["max_steps"] = 11;  // one epoch of 20 samples, so the bad record is met
  const auto r = train::run_training(train::parse_train_config(c));
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.bad_samples, 1);
  auto stop = c;
  stop["run_dir"] = dir.file("stop");
  stop["data"]["bad_sample_policy"] = "stop";
  expect_error_containing([&] { train::run_training(train::parse_train_config(stop)); }, needles);
}

}  // namespace

TEST(Schedule, MatchesHuggingFaceFormulaAndMethodStepCounts) {
  EXPECT_EQ(train::steps_per_epoch(558128, 32, 8, 1), 2181);
  EXPECT_EQ(train::warmup_steps(0.03, 2181), 66);
  EXPECT_EQ(train::steps_per_epoch(665298, 16, 8, 1), 5198);
  EXPECT_EQ(train::warmup_steps(0.03, 5198), 156);
  EXPECT_DOUBLE_EQ(train::lr_factor("cosine", 0, 66, 2181), 0.0);
  EXPECT_DOUBLE_EQ(train::lr_factor("cosine", 33, 66, 2181), 0.5);
  EXPECT_DOUBLE_EQ(train::lr_factor("cosine", 66, 66, 2181), 1.0);
  EXPECT_DOUBLE_EQ(train::lr_factor("cosine", 1000, 66, 2181), 0.5 * (1.0 + std::cos(M_PI * (1000.0 - 66) / (2181 - 66))));
  EXPECT_NEAR(train::lr_factor("cosine", 2181, 66, 2181), 0.0, 1e-15);
}

TEST(Trainer, ResumedRunContinuesFromItsCheckpointAndEndsBitIdentical) {
  TempDir dir;
  const auto full = train::run_training(train::parse_train_config(config(dir.file("full"))));
  EXPECT_EQ(full.steps_run, 4);
  EXPECT_TRUE(full.resumed_from.empty());
  auto first_half = config(dir.file("resumed"));
  first_half["train"]["stop_after_steps"] = 2;
  const auto stopped = train::run_training(train::parse_train_config(first_half));
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.steps, 2);
  const auto resumed = train::run_training(train::parse_train_config(config(dir.file("resumed"))));
  EXPECT_TRUE(resumed.finished);
  // It continued from step 2 and ran only the second half: a silent restart would run 4 steps.
  EXPECT_EQ(resumed.resumed_step, 2);
  EXPECT_EQ(fs::path(resumed.resumed_from).filename(), "step-0000002");
  EXPECT_EQ(resumed.steps_run, 2);
  EXPECT_EQ(resumed.steps, 4);
  expect_same_losses(metrics(dir.file("full")), metrics(dir.file("resumed")));
  expect_same_weights(full.final_dir, resumed.final_dir);
  // Wall time accumulates across the interruption (and is logged at all).
  const auto lines = metrics(dir.file("resumed"));
  EXPECT_GT(lines.back()["elapsed_s"].get<double>(), lines[1]["elapsed_s"].get<double>());
  EXPECT_GT(lines[1]["elapsed_s"].get<double>(), 0.0);
}

TEST(Trainer, CorruptCheckpointIsRefusedAndThePreviousOneUsed) {
  TempDir dir;
  const auto full = train::run_training(train::parse_train_config(config(dir.file("full"))));
  auto part = config(dir.file("run"));
  part["train"]["stop_after_steps"] = 2;
  train::run_training(train::parse_train_config(part));
  const auto checkpoints = train::list_checkpoints(dir.file("run"));
  ASSERT_EQ(checkpoints.size(), 2u);  // step 2 and step 1
  const auto weights = checkpoints[0] + "/model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) / 2);
  const auto problem = train::checkpoint_problem(checkpoints[0]);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("model.safetensors"), std::string::npos) << *problem;
  // A half-written checkpoint (no trainer_state.json) is refused too.
  fs::create_directories(dir.file("run/checkpoints/step-0000009"));
  EXPECT_TRUE(train::checkpoint_problem(dir.file("run/checkpoints/step-0000009")).has_value());
  fs::remove_all(dir.file("run/checkpoints/step-0000009"));
  // resume=auto falls back to step 1 (and says so) and, being exact, still reproduces the full run.
  const auto r = train::run_training(train::parse_train_config(config(dir.file("run"))));
  EXPECT_EQ(r.resumed_from, checkpoints[1]);
  EXPECT_EQ(r.resumed_step, 1);
  EXPECT_EQ(r.steps_run, 3);
  expect_same_losses(metrics(dir.file("full")), metrics(dir.file("run")));
  expect_same_weights(full.final_dir, r.final_dir);
}

TEST(Trainer, AnExplicitResumeThatIsMissingOrBrokenIsAnErrorNamingIt) {
  TempDir dir;
  auto c = config(dir.file("run"));
  c["train"]["resume"] = dir.file("no-such-checkpoint");
  expect_error_containing([&] { train::run_training(train::parse_train_config(c)); },
                          {"train.resume", dir.file("no-such-checkpoint"), "does not exist"});
  EXPECT_TRUE(train::list_checkpoints(dir.file("run")).empty());  // nothing was trained instead
  auto part = config(dir.file("run"));
  part["train"]["stop_after_steps"] = 1;
  train::run_training(train::parse_train_config(part));
  const auto checkpoint = train::list_checkpoints(dir.file("run")).at(0);
  fs::remove(checkpoint + "/trainer_state.json");
  c["train"]["resume"] = checkpoint;
  expect_error_containing([&] { train::run_training(train::parse_train_config(c)); },
                          {"train.resume", checkpoint, "unusable", "trainer_state.json"});
}

TEST(Trainer, NonFiniteLossStopsWithStepIdsAndTerms) {
  TempDir dir;
  auto stage1 = config(dir.file("stage1"), "pretrain");
  stage1["train"]["max_steps"] = 1;
  const auto r = train::run_training(train::parse_train_config(stage1));
  ASSERT_TRUE(r.finished);
  auto tensors = io::load_safetensors(r.final_dir + "/model.safetensors");
  tensors.at("model.mm_projector.0.weight").fill_(std::nan(""));
  io::save_safetensors(r.final_dir + "/model.safetensors", tensors);
  auto bad = config(dir.file("bad"));
  bad["model"] = {{"path", r.final_dir}};
  try {
    train::run_training(train::parse_train_config(bad));
    FAIL() << "expected the run to stop";
  } catch (const train::TrainingStopped& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("non-finite loss at step 1"), std::string::npos) << message;
    EXPECT_NE(message.find("ce "), std::string::npos) << message;
    EXPECT_NE(message.find("finetune-"), std::string::npos) << message;  // sample ids of the batch
  }
  EXPECT_TRUE(train::list_checkpoints(dir.file("bad")).empty());  // nothing written from garbage
}

TEST(Trainer, BadSamplesAreSkippedAndCounted) {
  TempDir dir;
  auto& s = setup();
  auto records = nlohmann::json::parse(std::ifstream(s.files.finetune_json));
  records[0]["image"] = "does-not-exist.png";
  expect_one_bad_sample(dir, records, {}, {"does-not-exist.png"});
}

// A record whose sequence after image expansion does not fit the LLM's positions is found before
// any forward (in a data-parallel run, a rank that crashed on it would hang the others) and is a
// bad sample like any other.
TEST(Trainer, SequencesLongerThanTheLlmPositionsAreBadSamples) {
  TempDir dir;
  auto& s = setup();
  auto records = nlohmann::json::parse(std::ifstream(s.files.finetune_json));
  size_t with_image = 0;
  while (!records[with_image].contains("image")) ++with_image;
  std::string long_text;
  for (int i = 0; i < 1500; ++i) long_text += "word ";
  records[with_image]["conversations"][0]["value"] = records[with_image]["conversations"][0]["value"].get<std::string>() + long_text;
  expect_one_bad_sample(dir, records, {{"max_length", 8192}},  // no truncation to save it
                        {"max_position_embeddings 1024", "after image expansion"});
}

TEST(Trainer, StagesFreezeWhatTheRecipeSays) {
  auto model = models::load_multimodal(testdata("oracle_v1/llava_vista/model"), {testdata("oracle_v1/clip_vision/model")});
  const auto t = io::load_safetensors(testdata("oracle_v1/llava_vista/tensors.safetensors"));
  const objectives::MultimodalBatch batch{t.at("input.input_ids"), t.at("input.attention_mask"), t.at("input.labels"),
                                          t.at("input.pixel_values")};
  for (const std::string stage : {"pretrain", "finetune"}) {
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
    const auto params = train::freeze_for_stage(*model, stage, false);
    torch::optim::AdamW optimizer(params.all, torch::optim::AdamWOptions(1e-3));
    objectives::llava_objective(*model, batch, {}).total.backward();
    optimizer.step();
    size_t trained = 0;
    for (const auto& p : model->named_parameters()) {
      const bool projector = p.key().rfind("projector.", 0) == 0, llm = p.key().rfind("language_model.", 0) == 0;
      const bool should_train = projector || (stage == "finetune" && llm);
      EXPECT_EQ(p.value().grad().defined(), should_train) << stage << " " << p.key();
      EXPECT_EQ(p.value().requires_grad(), should_train) << stage << " " << p.key();
      trained += should_train;
    }
    EXPECT_EQ(optimizer.state().size(), trained) << stage;  // no optimizer state for frozen tensors
    EXPECT_EQ(params.all.size(), trained);
  }
}

// train.grad_accum = 2 with batch 2 against batch 4 without accumulation, on distinct samples.
// Every record has the same conversation (so every micro-batch has the same number of supervised
// tokens and image samples, where the HF loss/accum scaling is exact) and its own image. A control
// run with batch 2 and no accumulation shows how far apart runs that see other samples end up.
TEST(Trainer, GradAccumulationMatchesTheLargerBatch) {
  TempDir dir;
  auto& s = setup();
  auto records = nlohmann::json::parse(std::ifstream(s.files.finetune_json));
  nlohmann::json same_text = nlohmann::json::array();
  for (const auto& r : records)
    if (r.contains("image")) same_text.push_back(r);
  ASSERT_GE(same_text.size(), 12u);
  std::set<std::string> images;
  for (auto& r : same_text) {
    r["conversations"] = same_text[0]["conversations"];
    images.insert(r["image"].get<std::string>());
  }
  ASSERT_EQ(images.size(), same_text.size());  // distinct samples
  std::ofstream(dir.file("same_text.json")) << same_text.dump();
  auto run = [&](const std::string& name, int64_t batch, int64_t accum) {
    auto c = config(dir.file(name));
    c["data"]["path"] = dir.file("same_text.json");
    c["data"]["group_by_modality_length"] = false;
    c["train"]["per_device_batch"] = batch;
    c["train"]["grad_accum"] = accum;
    c["train"]["max_steps"] = 3;
    c["optim"]["warmup_ratio"] = 0.0;
    const auto r = train::run_training(train::parse_train_config(c));
    EXPECT_TRUE(r.finished);
    return r.final_dir;
  };
  const auto full = run("batch4", 4, 1);
  const auto accumulated = run("batch2x2", 2, 2);
  const auto control = run("batch2", 2, 1);
  const auto a = metrics(dir.file("batch4")), b = metrics(dir.file("batch2x2"));
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["samples"], b[i]["samples"]) << "step " << i;
    EXPECT_NEAR(a[i]["loss"].get<double>(), b[i]["loss"].get<double>(), 1e-5 * std::abs(a[i]["loss"].get<double>())) << i;
    // The gradient itself (before clipping): a missing 1/accum scaling would double it.
    EXPECT_NEAR(a[i]["grad_norm"].get<double>(), b[i]["grad_norm"].get<double>(), 1e-4 * a[i]["grad_norm"].get<double>()) << i;
  }
  const double apart = weight_distance(full, accumulated), other_samples = weight_distance(full, control);
  EXPECT_GT(other_samples, 0.0);
  EXPECT_LT(apart, 0.01 * other_samples) << "accumulated run is " << apart << " from the batch-4 run; a run on other samples is "
                                         << other_samples;
}

TEST(Trainer, SavedCheckpointReproducesTheReferenceFixture) {
  TempDir dir;
  auto model = models::load_multimodal(testdata("oracle_v1/llava_vista/model"), {testdata("oracle_v1/clip_vision/model")});
  train::TrainerState state;
  state.step = 7;
  const auto saved = train::save_checkpoint(dir.path(), *model, {}, state, io::Layout::kOfficialLlava, 1);
  ASSERT_FALSE(train::checkpoint_problem(saved).has_value());
  // Lay the saved weights out as the fixture case expects: llava_vista/model + clip_vision/model.
  const auto cases = dir.file("fixture");
  fs::create_directories(cases + "/llava_vista");
  fs::create_directories(cases + "/clip_vision");
  for (const char* f : {"manifest.json", "tensors.safetensors"}) {
    fs::copy_file(testdata(std::string("oracle_v1/llava_vista/") + f), cases + "/llava_vista/" + f);
    fs::copy_file(testdata(std::string("oracle_v1/clip_vision/") + f), cases + "/clip_vision/" + f);
  }
  fs::copy(saved, cases + "/llava_vista/model", fs::copy_options::recursive);
  fs::copy(saved + "/vision_tower", cases + "/clip_vision/model", fs::copy_options::recursive);
  fixtures::CheckOptions options;
  options.verbose_pass = false;
  std::ostringstream out;
  const auto summary = fixtures::check_fixtures(cases, options, out);
  EXPECT_TRUE(summary.ok(true)) << out.str();
  EXPECT_EQ(summary.cases_checked, 2) << out.str();  // the saved LLaVA model and its saved tower
  EXPECT_GE(summary.tensors_passed, 122) << out.str();
}

// bf16 changes the arithmetic (so the losses differ from a float32 run with the same seed, by a
// little), keeps float32 master weights, and checkpointing then recomputes under bf16 as well.
TEST(Trainer, Bf16AutocastChangesTheArithmeticAndKeepsFloat32Weights) {
  TempDir dir;
  auto run = [&](const std::string& name, bool bf16) {
    auto c = config(dir.file(name));
    c["train"]["bf16"] = bf16;
    c["train"]["max_steps"] = 2;
    const auto r = train::run_training(train::parse_train_config(c));
    EXPECT_TRUE(r.finished);
    return r;
  };
  const auto f32 = run("f32", false);
  const auto bf16 = run("bf16", true);
  const auto a = metrics(dir.file("f32")), b = metrics(dir.file("bf16"));
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  const double ce32 = a[0]["ce"].get<double>(), ce16 = b[0]["ce"].get<double>();
  EXPECT_NE(ce32, ce16) << "bf16 run computed exactly what the float32 run computed: autocast was not on";
  EXPECT_NEAR(ce16, ce32, 0.05 * ce32);
  const auto weights = io::SafetensorsFile::open(bf16.final_dir + "/model.safetensors");
  EXPECT_EQ(weights.entries().at("model.mm_projector.0.weight").dtype, "F32");
}

TEST(Autocast, GuardRunsMatmulsInBf16AndRestoresFloat32) {
  auto linear = torch::nn::Linear(8, 4);
  const auto x = torch::randn({2, 8});
  {
    train::AutocastGuard guard(true, torch::kCPU);
    EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(linear(x).scalar_type(), torch::kFloat32);
  {
    train::AutocastGuard off(false, torch::kCPU);
    EXPECT_EQ(linear(x).scalar_type(), torch::kFloat32);
  }
}

TEST(Trainer, GradientCheckpointingRecomputesEveryDecoderLayer) {
  TempDir dir;
  auto run = [&](const std::string& name, bool checkpointing) {
    auto c = config(dir.file(name));
    c["train"]["gradient_checkpointing"] = checkpointing;
    c["train"]["max_steps"] = 2;
    const int64_t before = models::recomputed_blocks();
    train::run_training(train::parse_train_config(c));
    return models::recomputed_blocks() - before;
  };
  const auto layers = io::parse_decoder_config(io::read_config(setup().llm)).num_hidden_layers;
  EXPECT_EQ(run("plain", false), 0);
  EXPECT_EQ(run("checkpointed", true), 2 * layers);  // 2 steps x 1 micro-batch x every layer
  const auto a = metrics(dir.file("plain")), b = metrics(dir.file("checkpointed"));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)  // recomputation changes memory, not results
    EXPECT_NEAR(a[i]["loss"].get<double>(), b[i]["loss"].get<double>(), 1e-6 * std::abs(a[i]["loss"].get<double>())) << i;
}

TEST(TrainConfig, BadConfigsNameTheField) {
  auto c = config("unused");
  c["train"]["per_devce_batch"] = 4;  // typo
  expect_error_containing([&] { train::parse_train_config(c); }, {"unknown key 'train.per_devce_batch'"});
  c = config("unused");
  c["optim"]["lr"] = "fast";
  expect_error_containing([&] { train::parse_train_config(c); }, {"field 'optim.lr'", "expected a number", "\"fast\""});
  c = config("unused");
  c["loss"] = {{"vista", {{"method", "l1"}}}};
  expect_error_containing([&] { train::parse_train_config(c); }, {"vista.method", "'l1'"});
  c = config("unused");
  expect_error_containing([&] { train::apply_override(c, "no_equals_sign"); }, {"no_equals_sign", "key.sub=value"});
  train::apply_override(c, "train.max_steps=7");
  EXPECT_EQ(train::parse_train_config(c).train.max_steps, 7);
  // Every numeric field has a range; the error names the field and the value.
  const std::vector<std::tuple<std::string, nlohmann::json, std::string>> bad = {
      {"train.save_every", 0, ">= 1"},
      {"train.save_every", -5, ">= 1"},
      {"train.keep_last", 0, ">= 1"},
      {"train.epochs", 0, ">= 1"},
      {"train.max_steps", 0, "-1"},
      {"train.max_steps", -2, "-1"},
      {"train.per_device_batch", 0, ">= 1"},
      {"train.grad_accum", 0, ">= 1"},
      {"train.log_every", 0, ">= 1"},
      {"train.threads", -1, ">= 0"},
      {"train.stop_after_steps", 0, "-1"},
      {"train.seed", -1, ">= 0"},
      {"train.device", "gpu", "'cuda'"},
      {"optim.lr", 0, "(0"},
      {"optim.lr", -1e-3, "(0"},
      {"optim.warmup_ratio", 1.5, "[0"},
      {"optim.warmup_ratio", -0.1, "[0"},
      {"optim.eps", 0, "(0"},
      {"optim.weight_decay", -1, "[0"},
      {"optim.max_grad_norm", 0, "(0"},
      {"optim.betas", nlohmann::json::array({0.9, 1.0}), "[0"},
      {"data.max_length", 0, ">= 1"},
      {"data.max_bad_fraction", 2, "[0"},
      {"loss.vista.lambda", -1, "[0"},
      {"train.threads", 99999999, "1024"},
      {"train.seed", 1.5, "integer"},
      {"train.per_device_batch", 1e30, "integer"},
      {"train.zero", 3, "sharded"},
      {"train.zero", -1, "expected 0"},
      {"dist.backend", "mpi", "'gloo'"},
      {"dist.timeout_s", 0, "[1"},
      {"dist.bucket_mb", 0, "(0"},
      {"train.lora.r", 0, ">= 1"},
      {"train.lora.alpha", 0, "(0"},
      {"train.lora.dropout", 1, "[0"},
      {"train.lora.lr", -2, "(0"},
      {"train.lora.projector_lr", 0, "(0"},
      {"train.lora.base_dtype", "fp8", "'bfloat16'"},
  };
  for (const auto& [field, value, expectation] : bad) {
    auto broken = config("unused");
    train::apply_override(broken, field + "=" + value.dump());
    expect_error_containing([&] { train::parse_train_config(broken); }, {field == "optim.betas" ? "optim.betas[1]" : field, expectation});
  }
  // LoRA trains stage 2 only.
  auto lora_pretrain = config("unused", "pretrain");
  lora_pretrain["train"]["lora"] = {{"enabled", true}};
  expect_error_containing([&] { train::parse_train_config(lora_pretrain); }, {"train.lora.enabled", "finetune"});
  expect_error_containing([] { train::preset("llava-2"); }, {"llava-2", "llava-1.5-7b-pretrain"});
}

// Every preset is a valid config; a -lora preset is its base recipe plus LLaVA's LoRA values.
TEST(TrainConfig, PresetsParseAndLoraPresetsExtendTheirBase) {
  for (const auto& name : train::preset_names())
    EXPECT_NO_THROW(train::parse_train_config(train::preset(name))) << name;
  for (const std::string base_name : {"llava-1.5-7b-finetune", "tinyllava-3b-finetune"}) {
    const auto base = train::parse_train_config(train::preset(base_name));
    const auto lora = train::parse_train_config(train::preset(base_name + "-lora"));
    EXPECT_FALSE(base.train.lora.enabled);
    EXPECT_TRUE(lora.train.lora.enabled);
    EXPECT_EQ(lora.train.lora.r, 128);
    EXPECT_EQ(lora.train.lora.alpha, 256);
    EXPECT_EQ(lora.train.lora.projector_lr, 2e-5);
    EXPECT_EQ(lora.optim.lr, 2e-4);
    EXPECT_EQ(lora.data.path, base.data.path);
    EXPECT_EQ(lora.data.template_name, base.data.template_name);
    EXPECT_EQ(lora.train.per_device_batch, base.train.per_device_batch);
    EXPECT_EQ(lora.run_dir, "runs/" + base_name + "-lora");
  }
}
