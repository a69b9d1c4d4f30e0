#pragma once
// `vista bench generate`: greedy decoding tokens/s, one request at a time, every request to
// exactly max_tokens new tokens, and the same model and the same prompts and pixels through
// Hugging Face transformers' generate (bench/peer/peer_generate.py) right after, with the same
// threads: both rates, their ratio, and whether both made the same tokens.
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "inference/answer.h"
#include "inference/model_settings.h"

namespace vista::inference {

// `requests` questions from an eval JSONL with string fields image and text (the shapes eval.jsonl),
// cycling through the file when it has fewer; image paths are resolved against `images`.
std::vector<Question> read_bench_questions(const std::string& path, const std::string& images, int64_t requests);

struct GenerateBenchOptions {
  std::string questions, images;
  int64_t requests = 16, max_tokens = 32;
  std::string peer_dir;  // empty: vista alone
  std::string scratch;   // folder for the peer's model and inputs (removed after)
};

struct GenerationModel {
  models::MultimodalLMImpl& model;
  const text::Tokenizer& tokenizer;
  const image::ImageProcessorConfig& processor;
  const ModelSettings& settings;
};

nlohmann::json bench_generate(const GenerationModel& m, const GenerateBenchOptions& options, std::ostream& log);

}  // namespace vista::inference
