#include "demo/demo.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "data/conversation.h"
#include "data/shapes.h"
#include "demo/label_clip.h"
#include "demo/tiny_towers.h"
#include "image/processor_config.h"
#include "inference/answer.h"
#include "models/model_loading.h"
#include "sea/labelling.h"
#include "sea/word_list.h"
#include "train/lora_setup.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/threads.h"
#include "viz/line_plot.h"

namespace vista::demo {

namespace fs = std::filesystem;

namespace {

std::string normalize(std::string s) {
  std::string out;
  for (char ch : s) {
    if (std::isalnum(static_cast<unsigned char>(ch))) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    else if (!out.empty() && out.back() != ' ') out.push_back(' ');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

struct ArmResult {
  std::string name;
  double ce = 0, vista = 0, similarity = 0;
  double sea_first = 0, sea_last = -1;                 // stage-1 SEA term (first and last step), SEA arms only
  std::map<int64_t, std::pair<int, int>> by_preamble;  // words -> (correct, total)
  int correct = 0, total = 0;
};

std::vector<std::pair<double, double>> read_curve(const std::string& metrics, const std::string& field) {
  std::vector<std::pair<double, double>> out;
  std::ifstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    // Alignment numbers of text-only batches are not measurements: skip them.
    if (field != "ce" && j.value("aligned", int64_t{1}) == 0) continue;
    out.emplace_back(j["step"].get<double>(), j[field].get<double>());
  }
  return out;
}

}  // namespace

int run_demo(const DemoOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  configure_threads(o.threads);
  fmt::print("vista demo: {} ; work folder {}{}\n", threads_summary(), o.work_dir, o.quick ? " (quick)" : "");
  std::string tokenizer = o.tokenizer_dir;
  if (tokenizer.empty()) tokenizer = std::string(VISTA_SOURCE_DIR) + "/testdata/tokenizers/mistral7b";
  const fs::path work(o.work_dir);
  const auto data_dir = work / "data";
  data::ShapesOptions shapes;
  shapes.seed = o.seed;
  if (o.quick) {
    shapes.pretrain_records = 24;
    shapes.finetune_records = 24;
    shapes.text_only_records = 4;
    shapes.eval_records = 9;
  }
  const auto files = data::generate_shapes(data_dir.string(), shapes);
  fmt::print("[1/4] shapes data: {}\n", data_dir.string());

  TowerRecipe tower;
  LlmRecipe llm;
  tower.seed = llm.seed = o.seed;
  if (o.quick) {
    tower.steps = 3;
    llm.steps = 150;  // enough for answers that are words and depend on the question (the eval test needs that)
  }
  const auto cache = work / (o.quick ? "cache-quick" : "cache");
  // The cache is keyed by the recipe, so a changed recipe never reuses towers made by another one.
  const auto tower_dir = cache / fmt::format("vision-{}steps-seed{}", tower.steps, tower.seed);
  const auto llm_dir = cache / fmt::format("llm-{}steps-seed{}", llm.steps, llm.seed);
  if (!fs::exists(tower_dir / "config.json")) {
    const double acc = prepare_vision_tower(tower_dir.string(), files.pretrain_json, files.images, tower);
    fmt::print("[2/4] vision tower pretrained on shape attributes: train accuracy {:.3f}\n", acc);
  } else {
    fmt::print("[2/4] vision tower from cache {}\n", tower_dir.string());
  }
  if (!fs::exists(llm_dir / "config.json")) {
    const double loss = prepare_llm(llm_dir.string(), files.finetune_json, files.pretrain_json, tokenizer, llm);
    fmt::print("      LLM pretrained on the conversations' text: final LM loss {:.3f}\n", loss);
  } else {
    fmt::print("      LLM from cache {}\n", llm_dir.string());
  }

  // SEA's labels: a small CLIP trained on the shapes, the caption word list, one labelling pass.
  LabelClipRecipe label_clip;
  label_clip.seed = o.seed;
  if (o.quick) label_clip.steps = 3;
  const auto clip_dir = cache / fmt::format("label-clip-{}steps-seed{}", label_clip.steps, label_clip.seed);
  if (!fs::exists(clip_dir / "config.json")) {
    const double acc = prepare_label_clip(clip_dir.string(), files.pretrain_json, files.images, tokenizer, label_clip);
    fmt::print("      label CLIP trained on the shapes: patch-to-word attribute accuracy {:.3f}\n", acc);
  }
  const auto sea_dir = work / "sea";
  fs::remove_all(sea_dir);
  fs::create_directories(sea_dir);
  const auto words_path = (sea_dir / "words.txt").string(), labels_path = (sea_dir / "labels.sealabels").string();
  sea::write_word_list(words_path, sea::build_word_list(data::RecordFile::open(files.pretrain_json), {2, 0}));
  sea::LabelPassOptions pass;
  pass.clip_dir = clip_dir.string();
  pass.words_path = words_path;
  pass.data_path = files.pretrain_json;
  pass.images_dir = files.images;
  pass.out_path = labels_path;
  pass.aspect = image::AspectMode::kSquare;  // as stage 1 preprocesses
  pass.score_sign = 1.0;                     // this CLIP was trained patch-to-word, so its raw cosine is not inverted
  pass.device = torch::Device(o.device);
  std::ostringstream pass_log;
  const auto labelled = sea::run_label_pass(pass, pass_log);
  fmt::print("      SEA labels: {} images, {:.0f} images/s -> {}\n", labelled.images, labelled.images_per_second,
             labels_path);

  const int64_t stage1_steps = o.quick ? 2 : 80, stage2_steps = o.quick ? 2 : 240;
  struct Arm {
    const char* name;
    const char* dir;
    bool vista, sea;
  };
  const std::vector<Arm> arms = {{"CE", "ce", false, false},
                                 {"CE+VISTA", "ce_vista", true, false},
                                 {"CE+SEA", "ce_sea", false, true},
                                 {"CE+SEA+VISTA", "ce_sea_vista", true, true}};
  std::vector<ArmResult> results;
  for (const auto& spec : arms) {
    const bool vista_on = spec.vista;
    ArmResult arm;
    arm.name = spec.name;
    const auto arm_dir = work / spec.dir;
    fs::remove_all(arm_dir);
    auto base = [&](const std::string& stage) {
      nlohmann::json j;
      j["run_dir"] = (arm_dir / stage).string();
      j["loss"]["vista"] = {{"enabled", vista_on}, {"method", "l2"}, {"position_weight", "t_over_m"}};
      j["train"] = {{"seed", o.seed}, {"threads", o.threads}, {"save_every", 100000}, {"keep_last", 1}, {"resume", "none"},
                    {"log_every", 20}, {"device", o.device}};
      j["data"] = {{"tokenizer", tokenizer}, {"images", files.images}, {"max_length", 256}};
      return j;
    };
    auto s1 = base("stage1");
    s1["model"] = {{"vision_tower", tower_dir.string()}, {"llm", llm_dir.string()}, {"projector_type", "mlp2x_gelu"}};
    s1["data"]["path"] = files.pretrain_json;
    s1["data"]["template"] = "plain";
    s1["data"]["image_aspect_ratio"] = "square";
    s1["optim"] = {{"lr", 1e-3}, {"warmup_ratio", 0.03}};
    s1["train"]["stage"] = "pretrain";
    s1["train"]["per_device_batch"] = o.quick ? 4 : 16;
    s1["train"]["max_steps"] = stage1_steps;
    if (spec.sea)
      s1["loss"]["sea"] = {{"enabled", true}, {"labels", labels_path}, {"words", words_path}, {"lambda", 1.0}};
    const auto r1 = train::run_training(train::parse_train_config(s1));
    if (spec.sea) {
      const auto curve = read_curve((arm_dir / "stage1" / "metrics.jsonl").string(), "sea");
      if (!curve.empty()) {
        arm.sea_first = curve.front().second;
        arm.sea_last = r1.recent_sea;
      }
    }
    auto s2 = base("stage2");
    s2["model"] = {{"path", r1.final_dir}};
    s2["data"]["path"] = files.finetune_json;
    s2["data"]["template"] = "vicuna_v1";
    s2["data"]["image_aspect_ratio"] = "pad";
    s2["data"]["group_by_modality_length"] = true;
    s2["optim"] = {{"lr", 1e-3}, {"warmup_ratio", 0.03}};
    s2["train"]["stage"] = "finetune";
    s2["train"]["per_device_batch"] = o.quick ? 4 : 8;
    s2["train"]["max_steps"] = stage2_steps;
    if (o.lora) s2["train"]["lora"] = {{"enabled", true}, {"r", 16}, {"alpha", 32}, {"dropout", 0.05}};
    const auto r2 = train::run_training(train::parse_train_config(s2));
    arm.ce = r2.recent_ce;
    arm.vista = r2.recent_vista;
    arm.similarity = r2.recent_similarity;
    fmt::print("[3/4] {}: stage 1 {} steps, stage 2 {} steps -> {}\n", arm.name, r1.steps, r2.steps, r2.final_dir);

    models::LoadOptions load;
    load.device = torch::Device(o.device);
    auto model = o.lora ? train::load_adapter_model(r2.final_dir, load.device).model : models::load_multimodal(r2.final_dir, load);
    const auto tok = text::Tokenizer::from_dir(tokenizer);
    const auto processor = image::load_processor_config(r2.final_dir + "/preprocessor_config.json");
    inference::Answerer answerer(*model, tok, data::get_template("vicuna_v1"), processor, image::AspectMode::kPad);
    std::vector<inference::Question> questions;
    std::vector<nlohmann::json> items;
    std::ifstream in(files.eval_jsonl);
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line);
      items.push_back(j);
      questions.push_back({j["question_id"], (fs::path(files.images) / j["image"].get<std::string>()).string(),
                           j["text"].get<std::string>()});
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
      out << nlohmann::json{{"question_id", items[i]["question_id"]}, {"prompt", items[i]["text"]}, {"text", answers[i]},
                            {"answer", items[i]["answer"]}, {"correct", ok}}
                 .dump()
          << "\n";
    }
    results.push_back(arm);
  }

  fmt::print("[4/4] held-out shapes questions (greedy, exact match after normalisation); CE / VISTA term / "
             "similarity = mean of the last 20 stage-2 steps with images (VISTA measured, not trained, in the CE arm)\n");
  std::string header = fmt::format("{:<12} {:>9}", "arm", "accuracy");
  for (const auto& [words, c] : results[0].by_preamble) header += fmt::format(" {:>12}", fmt::format("pre={}w", words));
  header += fmt::format(" {:>9} {:>9} {:>11} {:>15}", "CE", "VISTA", "similarity", "stage-1 SEA");
  fmt::print("{}\n", header);
  nlohmann::json summary = nlohmann::json::array();
  for (const auto& arm : results) {
    std::string row = fmt::format("{:<12} {:>9.3f}", arm.name, arm.total ? double(arm.correct) / arm.total : 0.0);
    nlohmann::json by = nlohmann::json::object();
    for (const auto& [words, c] : arm.by_preamble) {
      row += fmt::format(" {:>12}", fmt::format("{:.3f} ({})", c.second ? double(c.first) / c.second : 0.0, c.second));
      by[std::to_string(words)] = {{"correct", c.first}, {"total", c.second}};
    }
    row += fmt::format(" {:>9.4f} {:>9.4f} {:>11.4f} {:>15}", arm.ce, arm.vista, arm.similarity,
                       arm.sea_last >= 0 ? fmt::format("{:.3f}->{:.3f}", arm.sea_first, arm.sea_last) : "-");
    fmt::print("{}\n", row);
    summary.push_back({{"arm", arm.name}, {"correct", arm.correct}, {"total", arm.total}, {"by_preamble_words", by},
                       {"final_ce", arm.ce}, {"final_vista_term", arm.vista}, {"final_similarity", arm.similarity}});
    if (arm.sea_last >= 0) {
      summary.back()["stage1_sea_first"] = arm.sea_first;
      summary.back()["stage1_sea_recent"] = arm.sea_last;
    }
  }
  std::vector<viz::Series> ce_curves, sim_curves;
  for (const auto& [name, dir, vista_on, sea_on] : arms) {
    viz::Series ce{std::string(name) + " ce", {}, {}}, sim{std::string(name) + " similarity", {}, {}};
    for (const auto& [x, y] : read_curve((work / dir / "stage2" / "metrics.jsonl").string(), "ce")) {
      ce.x.push_back(x);
      ce.y.push_back(y);
    }
    for (const auto& [x, y] : read_curve((work / dir / "stage2" / "metrics.jsonl").string(), "similarity")) {
      sim.x.push_back(x);
      sim.y.push_back(y);
    }
    ce_curves.push_back(ce);
    sim_curves.push_back(sim);
  }
  viz::write_line_plot((work / "stage2_ce.png").string(), ce_curves, {"stage 2 CE of the four arms"});
  viz::write_line_plot((work / "stage2_similarity.png").string(), sim_curves, {"stage 2 alignment score (l2, lower = closer)"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ofstream(work / "results.json") << nlohmann::json{{"arms", summary}, {"seconds", seconds}, {"quick", o.quick}}.dump(2) << "\n";
  fmt::print("plots: {}/stage2_ce.png, stage2_similarity.png, */stage*/loss.png ; results: {}/results.json ; {:.0f} s\n",
             work.string(), work.string(), seconds);
  return 0;
}

}  // namespace vista::demo
