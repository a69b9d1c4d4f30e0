#pragma once
// What the demo and the study share: the ingredients made once (shapes data, the small pretrained
// tower and LLM, SEA's labels) and one arm = stage 1 + stage 2 with an objective, then greedy
// answers to the held-out questions, scored by preamble length.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/shapes.h"

namespace vista::demo {

struct Ingredients {
  std::string tokenizer, tower_dir, llm_dir;
  data::ShapesFiles files;
  std::string sea_words, sea_labels;  // empty when no arm uses SEA
};

struct IngredientOptions {
  std::string work_dir, tokenizer_dir;  // tokenizer: default testdata/tokenizers/mistral7b of the source tree
  data::ShapesOptions shapes;
  bool quick = false;
  bool sea = true;  // make SEA's labels
  std::string device = "cpu";
};

// Generates the data (same seed, same bytes), pretrains or reuses (cache) the tower, the LLM and
// the label CLIP, labels the pretraining images; progress lines go to stdout.
Ingredients prepare_ingredients(const IngredientOptions& options);

struct ArmSpec {
  std::string name, dir;
  std::string vista;  // "", "l2" or "cosine"
  bool sea = false;
};

// Comma-separated keys: ce, vista-l2, vista-cos, sea, sea-vista-l2. Unknown keys are an error
// listing the known ones.
std::vector<ArmSpec> parse_arms(const std::string& keys);

struct ArmRecipe {
  int64_t stage1_steps = 80, stage2_steps = 240, stage1_batch = 16, stage2_batch = 8, max_length = 256;
  uint64_t seed = 0;  // data order and the new parts' initialisation
  int threads = 0;
  std::string device = "cpu";
  bool lora = false;
};

struct ArmResult {
  std::string name, dir, stage1_final, stage2_final;
  double ce = 0, vista = 0, similarity = 0;            // means of the last 20 stage-2 steps with images
  double sea_first = 0, sea_last = -1;                 // stage-1 SEA term (first step, recent mean), SEA arms only
  std::map<int64_t, std::pair<int, int>> by_preamble;  // preamble words -> (correct, total)
  int correct = 0, total = 0;
  nlohmann::json configs;  // the two stages' resolved configs
  double accuracy() const { return total ? static_cast<double>(correct) / total : 0.0; }
};

// Trains under <arm_dir>/stage1 and stage2 (removed first), answers eval.jsonl into answers.jsonl.
ArmResult run_arm(const ArmSpec& spec, const Ingredients& in, const ArmRecipe& recipe, const std::string& arm_dir);

// (step, value) of one metrics.jsonl field; alignment fields of text-only batches are left out.
std::vector<std::pair<double, double>> read_curve(const std::string& metrics, const std::string& field);

}  // namespace vista::demo
