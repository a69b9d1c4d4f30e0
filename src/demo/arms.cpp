#include "demo/arms.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/conversation.h"
#include "data/records.h"
#include "demo/label_clip.h"
#include "demo/tiny_towers.h"
#include "image/processor_config.h"
#include "inference/answer.h"
#include "models/model_loading.h"
#include "sea/labelling.h"
#include "sea/word_list.h"
#include "train/lora_setup.h"
#include "train/metrics_log.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/json_file.h"
#include "util/json_node.h"

namespace vista::demo {

namespace fs = std::filesystem;

namespace {

std::string normalize(std::string s) {
  std::string out;
  for (char ch : s) {
    if (std::isalnum(static_cast<unsigned char>(ch)))
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    else if (!out.empty() && out.back() != ' ') out.push_back(' ');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::vector<std::pair<double, double>> read_curve(const std::string& metrics, const std::string& field) {
  std::vector<std::pair<double, double>> out;
  for (const auto& line : train::read_metrics_records(metrics)) {
    const JsonNode record(line.value, line.where);
    // Alignment numbers of text-only batches are not measurements: skip them.
    if (field != "ce" && record.integer_or("aligned", 1) == 0) continue;
    out.emplace_back(record.number("step"), record.number(field));
  }
  return out;
}

Ingredients prepare_ingredients(const IngredientOptions& o) {
  Ingredients in;
  in.tokenizer =
      o.tokenizer_dir.empty() ? std::string(VISTA_SOURCE_DIR) + "/testdata/tokenizers/mistral7b" : o.tokenizer_dir;
  const fs::path work(o.work_dir);
  in.files = data::generate_shapes((work / "data").string(), o.shapes);
  fmt::print("[1/4] shapes data: {}\n", (work / "data").string());
  TowerRecipe tower;
  LlmRecipe llm;
  tower.seed = llm.seed = o.shapes.seed;
  if (o.quick) {
    tower.steps = 3;
    llm.steps = 150;  // enough for answers that are words and depend on the question (the eval test needs that)
  }
  const auto cache = work / (o.quick ? "cache-quick" : "cache");
  // The cache is keyed by the recipe, so a changed recipe never reuses towers made by another one.
  const auto tower_dir = cache / fmt::format("vision-{}steps-seed{}", tower.steps, tower.seed);
  const auto llm_dir = cache / fmt::format("llm-{}steps-seed{}", llm.steps, llm.seed);
  in.tower_dir = tower_dir.string();
  in.llm_dir = llm_dir.string();
  if (!fs::exists(tower_dir / "config.json")) {
    const double acc = prepare_vision_tower(in.tower_dir, in.files.pretrain_json, in.files.images, tower);
    fmt::print("[2/4] vision tower pretrained on shape attributes: train accuracy {:.3f}\n", acc);
  } else {
    fmt::print("[2/4] vision tower from cache {}\n", in.tower_dir);
  }
  if (!fs::exists(llm_dir / "config.json")) {
    const double loss = prepare_llm(in.llm_dir, in.files.finetune_json, in.files.pretrain_json, in.tokenizer, llm);
    fmt::print("      LLM pretrained on the conversations' text: final LM loss {:.3f}\n", loss);
  } else {
    fmt::print("      LLM from cache {}\n", in.llm_dir);
  }
  if (!o.sea) return in;
  // SEA's labels: a small CLIP trained on the shapes, the caption word list, one labelling pass.
  LabelClipRecipe label_clip;
  label_clip.seed = o.shapes.seed;
  if (o.quick) label_clip.steps = 3;
  const auto clip_dir = cache / fmt::format("label-clip-{}steps-seed{}", label_clip.steps, label_clip.seed);
  if (!fs::exists(clip_dir / "config.json")) {
    const double acc =
        prepare_label_clip(clip_dir.string(), in.files.pretrain_json, in.files.images, in.tokenizer, label_clip);
    fmt::print("      label CLIP trained on the shapes: patch-to-word attribute accuracy {:.3f}\n", acc);
  }
  const auto sea_dir = work / "sea";
  fs::remove_all(sea_dir);
  fs::create_directories(sea_dir);
  in.sea_words = (sea_dir / "words.txt").string();
  in.sea_labels = (sea_dir / "labels.sealabels").string();
  sea::write_word_list(in.sea_words, sea::build_word_list(data::RecordFile::open(in.files.pretrain_json), {2, 0}));
  sea::LabelPassOptions pass;
  pass.clip_dir = clip_dir.string();
  pass.words_path = in.sea_words;
  pass.data_path = in.files.pretrain_json;
  pass.images_dir = in.files.images;
  pass.out_path = in.sea_labels;
  pass.aspect = image::AspectMode::kSquare;  // as stage 1 preprocesses
  pass.score_sign = 1.0;                     // this CLIP was trained patch-to-word, so its raw cosine is not inverted
  pass.device = torch::Device(o.device);
  std::ostringstream pass_log;
  const auto labelled = sea::run_label_pass(pass, pass_log);
  fmt::print("      SEA labels: {} images, {:.0f} images/s -> {}\n", labelled.images, labelled.images_per_second,
             in.sea_labels);
  return in;
}

std::vector<ArmSpec> parse_arms(const std::string& keys) {
  static const std::map<std::string, ArmSpec> known = {{"ce", {"CE", "ce", "", false}},
                                                       {"vista-l2", {"CE+VISTA", "ce_vista", "l2", false}},
                                                       {"vista-cos", {"CE+VISTA-cos", "ce_vista_cos", "cosine", false}},
                                                       {"sea", {"CE+SEA", "ce_sea", "", true}},
                                                       {"sea-vista-l2", {"CE+SEA+VISTA", "ce_sea_vista", "l2", true}}};
  std::vector<ArmSpec> out;
  std::stringstream in(keys);
  for (std::string key; std::getline(in, key, ',');) {
    const auto it = known.find(key);
    if (it == known.end()) fail("arm '{}' is not known (known: ce, vista-l2, vista-cos, sea, sea-vista-l2)", key);
    out.push_back(it->second);
  }
  if (out.empty()) fail("no arm given (known: ce, vista-l2, vista-cos, sea, sea-vista-l2)");
  return out;
}

ArmResult run_arm(const ArmSpec& spec, const Ingredients& in, const ArmRecipe& r, const std::string& arm_root) {
  if (spec.sea && in.sea_labels.empty()) fail("arm {}: SEA's labels were not prepared", spec.name);
  ArmResult arm;
  arm.name = spec.name;
  arm.dir = arm_root;
  const fs::path arm_dir(arm_root);
  fs::remove_all(arm_dir);
  const bool vista_on = !spec.vista.empty();
  auto base = [&](const std::string& stage) {
    nlohmann::json j;
    j["run_dir"] = (arm_dir / stage).string();
    j["loss"]["vista"] = {
        {"enabled", vista_on}, {"method", vista_on ? spec.vista : "l2"}, {"position_weight", "t_over_m"}};
    j["train"] = {{"seed", r.seed},   {"threads", r.threads}, {"save_every", 100000}, {"keep_last", 1},
                  {"resume", "none"}, {"log_every", 20},      {"device", r.device}};
    j["data"] = {{"tokenizer", in.tokenizer}, {"images", in.files.images}, {"max_length", r.max_length}};
    return j;
  };
  auto s1 = base("stage1");
  s1["model"] = {{"vision_tower", in.tower_dir}, {"llm", in.llm_dir}, {"projector_type", "mlp2x_gelu"}};
  s1["data"]["path"] = in.files.pretrain_json;
  s1["data"]["template"] = "plain";
  s1["data"]["image_aspect_ratio"] = "square";
  s1["optim"] = {{"lr", 1e-3}, {"warmup_ratio", 0.03}};
  s1["train"]["stage"] = "pretrain";
  s1["train"]["per_device_batch"] = r.stage1_batch;
  s1["train"]["max_steps"] = r.stage1_steps;
  if (spec.sea)
    s1["loss"]["sea"] = {{"enabled", true}, {"labels", in.sea_labels}, {"words", in.sea_words}, {"lambda", 1.0}};
  const auto r1 = train::run_training(train::parse_train_config(s1));
  arm.stage1_final = r1.final_dir;
  if (spec.sea) {
    const auto curve = read_curve((arm_dir / "stage1" / "metrics.jsonl").string(), "sea");
    if (!curve.empty()) {
      arm.sea_first = curve.front().second;
      arm.sea_last = r1.recent_sea;
    }
  }
  auto s2 = base("stage2");
  s2["model"] = {{"path", r1.final_dir}};
  s2["data"]["path"] = in.files.finetune_json;
  s2["data"]["template"] = "vicuna_v1";
  s2["data"]["image_aspect_ratio"] = "pad";
  s2["data"]["group_by_modality_length"] = true;
  s2["optim"] = {{"lr", 1e-3}, {"warmup_ratio", 0.03}};
  s2["train"]["stage"] = "finetune";
  s2["train"]["per_device_batch"] = r.stage2_batch;
  s2["train"]["max_steps"] = r.stage2_steps;
  if (r.lora) s2["train"]["lora"] = {{"enabled", true}, {"r", 16}, {"alpha", 32}, {"dropout", 0.05}};
  const auto r2 = train::run_training(train::parse_train_config(s2));
  arm.stage2_final = r2.final_dir;
  arm.configs = {{"stage1", s1}, {"stage2", s2}};
  arm.ce = r2.recent_ce;
  arm.vista = r2.recent_vista;
  arm.similarity = r2.recent_similarity;
  fmt::print("[3/4] {}: stage 1 {} steps, stage 2 {} steps -> {}\n", arm.name, r1.steps, r2.steps, r2.final_dir);

  models::LoadOptions load;
  load.device = torch::Device(r.device);
  auto model =
      r.lora ? train::load_adapter_model(r2.final_dir, load.device).model : models::load_multimodal(r2.final_dir, load);
  const auto tok = text::Tokenizer::from_dir(in.tokenizer);
  const auto processor = image::load_processor_config(r2.final_dir + "/preprocessor_config.json");
  inference::Answerer answerer(*model, tok, data::get_template("vicuna_v1"), processor, image::AspectMode::kPad);
  std::vector<inference::Question> questions;
  std::vector<nlohmann::json> items;
  for (const auto& line : read_jsonl_file(in.files.eval_jsonl)) {
    const JsonNode question(line.value, line.where);
    items.push_back(line.value);
    questions.push_back({question.at("question_id").raw(),
                         (fs::path(in.files.images) / question.string("image")).string(), question.string("text")});
  }
  const auto answers = answerer.answer(questions, {8, 16});
  std::ofstream out(arm_dir / "answers.jsonl");
  for (size_t i = 0; i < answers.size(); ++i) {
    const bool ok = normalize(answers[i]) == normalize(items[i]["answer"]);
    const auto words = items[i]["preamble_words"].get<int64_t>();
    arm.by_preamble[words].first += ok;
    arm.by_preamble[words].second += 1;
    arm.correct += ok;
    ++arm.total;
    out << nlohmann::json{{"question_id", items[i]["question_id"]},
                          {"prompt", items[i]["text"]},
                          {"text", answers[i]},
                          {"answer", items[i]["answer"]},
                          {"correct", ok}}
               .dump()
        << "\n";
  }
  return arm;
}

}  // namespace vista::demo
