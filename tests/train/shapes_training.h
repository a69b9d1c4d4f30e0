#pragma once
// Shapes data and untrained tiny towers, made once per test process, and a small finetune or
// pretrain config over them: what the trainer tests run on.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/shapes.h"
#include "demo/tiny_towers.h"
#include "io/hf_config.h"
#include "models/model_loading.h"
#include "models/multimodal_lm.h"
#include "test_util.h"

struct ShapesTraining {
  std::string root, vision, llm;
  vista::data::ShapesFiles files;
  ShapesTraining() {
    namespace fs = std::filesystem;
    root = (fs::temp_directory_path() / ("vista_trainer_" + std::to_string(::getpid()))).string();
    fs::remove_all(root);
    vista::data::ShapesOptions shapes;
    shapes.pretrain_records = 16;
    shapes.finetune_records = 16;
    shapes.text_only_records = 4;
    shapes.eval_records = 3;
    files = vista::data::generate_shapes(root + "/data", shapes);
    vista::demo::TowerRecipe tower;
    tower.steps = 0;
    vista::demo::LlmRecipe lm;
    lm.steps = 0;
    vision = root + "/vision";
    llm = root + "/llm";
    vista::demo::prepare_vision_tower(vision, files.pretrain_json, files.images, tower);
    vista::demo::prepare_llm(llm, files.finetune_json, files.pretrain_json, testdata("tokenizers/mistral7b"), lm);
  }
  ~ShapesTraining() { std::filesystem::remove_all(root); }
};

inline ShapesTraining& shapes_training() {
  static ShapesTraining s;
  return s;
}

// The tiny towers with a fresh projector: a fixed (seeded) model in eval mode.
inline vista::models::MultimodalLM shapes_fixed_model() {
  using namespace vista;
  auto& s = shapes_training();
  io::LlavaConfig config;
  config.text = io::parse_decoder_config(io::read_config(s.llm));
  const auto vision = io::parse_vision_config(io::read_config(s.vision));
  config.mm.mm_hidden_size = vision.hidden_size;
  config.mm.mm_projector_type = "mlp2x_gelu";
  config.mm.mm_vision_select_layer = -2;
  config.mm.mm_vision_select_feature = "patch";
  torch::manual_seed(7);
  models::MultimodalLM model(config, vision);
  models::load_strict(*model->language_model, models::CheckpointReader::open(s.llm), {});
  models::load_strict(*model->vision_tower, models::CheckpointReader::open(s.vision), {});
  model->eval();
  return model;
}

inline nlohmann::json shapes_config(const std::string& run_dir, const std::string& stage = "finetune") {
  auto& s = shapes_training();
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

inline std::vector<nlohmann::json> run_metrics(const std::string& run_dir) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run_dir + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}
