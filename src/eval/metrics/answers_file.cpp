#include "eval/metrics/answers_file.h"

#include "eval/metrics/json_io.h"
#include "util/error.h"

namespace vista::eval {

std::vector<LlavaAnswer> read_llava_answers(const std::string& path) {
  std::vector<LlavaAnswer> out;
  for (const auto& line : read_python_jsonl(path)) {
    const JsonNode record = JsonNode(line.value, line.where).expect_object();
    LlavaAnswer a;
    a.question_id = record.at("question_id").raw();
    if (!a.question_id.is_string() && !a.question_id.is_number_integer())
      fail("{} must be a string or an integer, got {}", record.at("question_id").location(), a.question_id.dump());
    a.text = record.string("text");
    a.has_prompt = record.contains("prompt");
    if (a.has_prompt) a.prompt = record.string("prompt");
    a.line = line.line;
    out.push_back(std::move(a));
  }
  return out;
}

std::string llava_answer_line(const nlohmann::json& question_id, const std::string& prompt, const std::string& text,
                              const std::string& answer_id, const std::string& model_id) {
  nlohmann::ordered_json line;
  line["question_id"] = nlohmann::ordered_json::parse(question_id.dump());
  line["prompt"] = prompt;
  line["text"] = text;
  line["answer_id"] = answer_id;
  line["model_id"] = model_id;
  line["metadata"] = nlohmann::ordered_json::object();
  return python_json_dumps(line) + "\n";
}

}  // namespace vista::eval
