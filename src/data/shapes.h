#pragma once
// The embedded `shapes` dataset: a seeded generator of coloured-shape images with captions
// (stage 1), multi-turn questions and answers (stage 2, some preceded by long irrelevant text,
// some text-only) and a held-out evaluation split, written as LLaVA JSON + PNG files. Every
// path of the data pipeline is exercised by it and nothing needs downloading.
#include <cstdint>
#include <string>
#include <vector>

namespace vista::data {

struct ShapesOptions {
  uint64_t seed = 0;
  int64_t image_size = 64;
  int64_t pretrain_records = 600;
  int64_t finetune_records = 600;
  int64_t text_only_records = 40;
  int64_t eval_records = 120;
  std::vector<int64_t> preamble_words = {0, 32, 96};  // eval questions are spread over these lengths
  // Preambles that also name colours, shapes and places the image does not show (about half of
  // their sentences); off: neutral filler only (the demo's data, byte for byte).
  bool distractor_preambles = false;
};

struct ShapesFiles {
  std::string root, images, pretrain_json, finetune_json, eval_jsonl;
  std::string pope_dir;       // LLaVA eval-bundle POPE layout: llava_pope_test.jsonl + coco/coco_pope_<cat>.json
  std::string scienceqa_dir;  // ScienceQA layout: llava_test_CQM-A.json + problems.json + pid_splits.json
};

// Writes <out>/images/*.png, pretrain.json, finetune.json, eval.jsonl, and POPE- and
// ScienceQA-format sets over the evaluation images (pope/, scienceqa/). Same seed, same bytes.
ShapesFiles generate_shapes(const std::string& out_dir, const ShapesOptions& options);

// Irrelevant filler text of at least `words` words (whole sentences, a trailing space), the same for
// the same seed: what the shapes questions put before long-preamble questions.
std::string shapes_preamble(uint64_t seed, int64_t words, bool distractors = false);

// The vocabulary of answers (for the demo's evaluation and for tests).
const std::vector<std::string>& shape_names();
const std::vector<std::string>& color_names();
const std::vector<std::string>& position_names();

}  // namespace vista::data
