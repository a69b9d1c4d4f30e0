#pragma once
// LLaVA answers files (one JSON object per line, as llava/eval/model_vqa*.py write them and every
// official scorer reads them): {"question_id", "prompt", "text", "answer_id", "model_id", "metadata"}.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vista::eval {

struct LlavaAnswer {
  nlohmann::json question_id;  // as written: a string or an int (the scorers keep the distinction)
  std::string prompt;          // "" when the line has none (see has_prompt)
  bool has_prompt = false;
  std::string text;
  int64_t line = 0;            // 1-based line in the file
};

// Reads every line; errors name the file, the line and the field (missing question_id / text, a
// non-string text or prompt, a line that is not a JSON object).
std::vector<LlavaAnswer> read_llava_answers(const std::string& path);

// One line as model_vqa.py writes it: json.dumps({...}) + "\n" (Python separators, ensure_ascii,
// key order question_id, prompt, text, answer_id, model_id, metadata = {}).
std::string llava_answer_line(const nlohmann::json& question_id, const std::string& prompt, const std::string& text,
                              const std::string& answer_id, const std::string& model_id);

}  // namespace vista::eval
