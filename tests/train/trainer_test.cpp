// The trainer end to end on tiny models over the shapes data: exact resume, corrupt checkpoints,
// non-finite stop, stage freezing, schedule, accumulation, and fixture reproduction after saving.
#include <filesystem>
#include <fstream>

#include "data/shapes.h"
#include "demo/tiny_towers.h"
#include "fixtures/check_runner.h"
#include "io/safetensors.h"
#include "models/model_loading.h"
#include "models/model_saving.h"
#include "objectives/llava_objective.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/freezing.h"
#include "train/schedule.h"
#include "train/trainer.h"

using namespace vista;
namespace fs = std::filesystem;

namespace {

// Shapes data and untrained tiny towers, made once per test process.
struct Setup {
  std::string root, vision, llm;
  data::ShapesFiles files;
  Setup() {
    root = (fs::temp_directory_path() / ("vista_trainer_" + std::to_string(::getpid()))).string();
    fs::remove_all(root);
    data::ShapesOptions shapes;
    shapes.pretrain_records = 16;
    shapes.finetune_records = 16;
    shapes.text_only_records = 4;
    shapes.eval_records = 3;
    files = data::generate_shapes(root + "/data", shapes);
    demo::TowerRecipe tower;
    tower.steps = 0;
    demo::LlmRecipe lm;
    lm.steps = 0;
    vision = root + "/vision";
    llm = root + "/llm";
    demo::prepare_vision_tower(vision, files.pretrain_json, files.images, tower);
    demo::prepare_llm(llm, files.finetune_json, files.pretrain_json, testdata("tokenizers/mistral7b"), lm);
  }
  ~Setup() { fs::remove_all(root); }
};

Setup& setup() {
  static Setup s;
  return s;
}

nlohmann::json config(const std::string& run_dir, const std::string& stage = "finetune") {
  auto& s = setup();
  nlohmann::json j;
  j["run_dir"] = run_dir;
  j["model"] = {{"vision_tower", s.vision}, {"llm", s.llm}};
  j["data"] = {{"path", stage == "pretrain" ? s.files.pretrain_json : s.files.finetune_json},
               {"images", s.files.images},
               {"tokenizer", testdata("tokenizers/mistral7b")},
               {"template", stage == "pretrain" ? "plain" : "vicuna_v1"},
               {"max_length", 256},
               {"group_by_modality_length", stage == "finetune"}};
  j["optim"] = {{"lr", 1e-3}, {"warmup_ratio", 0.25}};
  j["train"] = {{"stage", stage}, {"max_steps", 4}, {"per_device_batch", 2}, {"threads", 1}, {"save_every", 1},
                {"keep_last", 3}, {"resume", "auto"}, {"plot", false}, {"seed", 3}};
  return j;
}

std::vector<nlohmann::json> metrics(const std::string& run_dir) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run_dir + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

void expect_same_losses(const std::vector<nlohmann::json>& a, const std::vector<nlohmann::json>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    for (const char* field : {"step", "loss", "ce", "vista", "similarity", "lr", "grad_norm", "tokens", "samples"})
      EXPECT_EQ(a[i][field], b[i][field]) << "line " << i << " field " << field;  // bit-identical doubles
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

TEST(Trainer, ResumedRunGivesBitIdenticalMetrics) {
  TempDir dir;
  train::run_training(train::parse_train_config(config(dir.file("full"))));
  auto first_half = config(dir.file("resumed"));
  first_half["train"]["stop_after_steps"] = 2;
  const auto stopped = train::run_training(train::parse_train_config(first_half));
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.steps, 2);
  const auto resumed = train::run_training(train::parse_train_config(config(dir.file("resumed"))));
  EXPECT_TRUE(resumed.finished);
  expect_same_losses(metrics(dir.file("full")), metrics(dir.file("resumed")));
}

TEST(Trainer, CorruptCheckpointIsRefusedAndThePreviousOneUsed) {
  TempDir dir;
  train::run_training(train::parse_train_config(config(dir.file("full"))));
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
  // Resuming falls back to step 1 and, being exact, still reproduces the uninterrupted run.
  train::run_training(train::parse_train_config(config(dir.file("run"))));
  expect_same_losses(metrics(dir.file("full")), metrics(dir.file("run")));
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
  std::ofstream(dir.file("bad.json")) << records.dump();
  auto c = config(dir.file("run"));
  c["data"]["path"] = dir.file("bad.json");
  c["data"]["max_bad_fraction"] = 0.5;
  c["train"]["max_steps"] = 11;  // one epoch of 20 samples, so the bad record is met
  const auto r = train::run_training(train::parse_train_config(c));
  EXPECT_TRUE(r.finished);
  EXPECT_GE(r.bad_samples, 1);
  auto stop = c;
  stop["run_dir"] = dir.file("stop");
  stop["data"]["bad_sample_policy"] = "stop";
  expect_error_containing([&] { train::run_training(train::parse_train_config(stop)); }, {"does-not-exist.png"});
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

TEST(Trainer, AccumulationMatchesTheFullBatch) {
  auto model = models::load_multimodal(testdata("oracle_v1/tinyllava_vista/model"));
  const auto t = io::load_safetensors(testdata("oracle_v1/tinyllava_vista/tensors.safetensors"));
  // Samples 0,1 | 1,0: both micro-batches hold the same number of supervised tokens, the case
  // where HF's loss/accum scaling makes accumulation exact.
  const auto idx = torch::tensor(std::vector<int64_t>{0, 1, 1, 0});
  auto pick = [&](const char* name, const torch::Tensor& rows) { return t.at(name).index_select(0, rows); };
  auto batch_of = [&](const torch::Tensor& rows) {
    return objectives::MultimodalBatch{pick("input.input_ids", rows), pick("input.attention_mask", rows),
                                       pick("input.labels", rows), pick("input.pixel_values", rows)};
  };
  const auto params = train::freeze_for_stage(*model, "finetune", false);
  auto grads = [&](std::vector<torch::Tensor> micro_rows) {
    for (auto& p : params.all) p.mutable_grad() = torch::Tensor();
    for (const auto& rows : micro_rows)
      (objectives::llava_objective(*model, batch_of(rows), {}).total / static_cast<double>(micro_rows.size())).backward();
    std::vector<torch::Tensor> out;
    for (const auto& p : params.all) out.push_back(p.grad().clone());
    return out;
  };
  const auto full = grads({idx});
  const auto accumulated = grads({idx.narrow(0, 0, 2), idx.narrow(0, 2, 2)});
  for (size_t i = 0; i < full.size(); ++i)
    EXPECT_TRUE(torch::allclose(full[i], accumulated[i], 1e-4, 1e-6)) << params.names[i];
}

TEST(Trainer, SavedCheckpointReproducesTheReferenceFixture) {
  TempDir dir;
  auto model = models::load_multimodal(testdata("oracle_v1/llava_vista/model"), {testdata("oracle_v1/clip_vision/model")});
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
  train::TrainerState state;
  state.step = 7;
  const auto saved = train::save_checkpoint(dir.path(), *model, optimizer, state, io::Layout::kOfficialLlava, 1);
  ASSERT_FALSE(train::checkpoint_problem(saved).has_value());
  // Lay the saved weights out as the fixture case expects: llava_vista/model + clip_vision/model.
  const auto cases = dir.file("fixture");
  fs::create_directories(cases + "/llava_vista");
  fs::create_directories(cases + "/clip_vision");
  for (const char* f : {"manifest.json", "tensors.safetensors"})
    fs::copy_file(testdata(std::string("oracle_v1/llava_vista/") + f), cases + "/llava_vista/" + f);
  fs::copy(saved, cases + "/llava_vista/model", fs::copy_options::recursive);
  fs::copy(saved + "/vision_tower", cases + "/clip_vision/model", fs::copy_options::recursive);
  fixtures::CheckOptions options;
  options.verbose_pass = false;
  std::ostringstream out;
  const auto summary = fixtures::check_fixtures(cases, options, out);
  EXPECT_TRUE(summary.ok(true)) << out.str();
  EXPECT_EQ(summary.tensors_passed, 122) << out.str();
}

TEST(Trainer, Bf16AutocastRunsAndKeepsFloat32Weights) {
  TempDir dir;
  auto c = config(dir.file("bf16"));
  c["train"]["bf16"] = true;
  c["train"]["max_steps"] = 2;
  const auto r = train::run_training(train::parse_train_config(c));
  EXPECT_TRUE(r.finished);
  EXPECT_TRUE(std::isfinite(r.final_ce));
  const auto weights = io::SafetensorsFile::open(r.final_dir + "/model.safetensors");
  EXPECT_EQ(weights.entries().at("model.mm_projector.0.weight").dtype, "F32");
}

TEST(TrainConfig, BadConfigsNameTheField) {
  auto c = config("unused");
  c["train"]["per_devce_batch"] = 4;  // typo
  expect_error_containing([&] { train::parse_train_config(c); }, {"unknown key 'train.per_devce_batch'"});
  c = config("unused");
  c["optim"]["lr"] = "fast";
  expect_error_containing([&] { train::parse_train_config(c); }, {"'optim.lr'", "wrong type"});
  c = config("unused");
  c["loss"] = {{"vista", {{"method", "l1"}}}};
  expect_error_containing([&] { train::parse_train_config(c); }, {"vista.method", "'l1'"});
  c = config("unused");
  expect_error_containing([&] { train::apply_override(c, "no_equals_sign"); }, {"no_equals_sign", "key.sub=value"});
  train::apply_override(c, "train.max_steps=7");
  EXPECT_EQ(train::parse_train_config(c).train.max_steps, 7);
  expect_error_containing([] { train::preset("llava-2"); }, {"llava-2", "llava-1.5-7b-pretrain"});
}
