#include "eval/metrics/vqa_accuracy.h"

#include <filesystem>
#include <set>
#include <unordered_map>

#include "eval/metrics/answer_normalize.h"
#include "eval/metrics/json_io.h"
#include "eval/metrics/python_text.h"
#include "util/error.h"

namespace vista::eval {

namespace {

std::vector<std::string> normalize_all(const std::vector<std::string>& answers) {
  std::vector<std::string> out;
  out.reserve(answers.size());
  for (const auto& a : answers) out.push_back(answer_normalize(a));
  return out;
}

// _compute_answer_scores for one candidate answer.
double soft_score(const std::vector<std::string>& gts, const std::string& answer) {
  double sum = 0.0;  // sum(accs): ints (min returns the int 1) and floats, left to right
  for (size_t i = 0; i < gts.size(); ++i) {
    int64_t matching = 0;
    for (size_t j = 0; j < gts.size(); ++j)
      if (j != i && gts[j] == answer) ++matching;
    const double ratio = static_cast<double>(matching) / 3;
    sum += ratio >= 1.0 ? 1.0 : ratio;
  }
  return sum / static_cast<double>(gts.size());
}

}  // namespace

VqaItemScore vqa_item_score(std::string_view pred_answer, const std::vector<std::string>& gt_answers) {
  if (gt_answers.size() != 10)
    fail("VQA accuracy needs exactly 10 ground-truth answers, got {} (the official scorer asserts it)",
         gt_answers.size());
  VqaItemScore out;
  out.pred_processed = answer_normalize(pred_answer);
  out.gt_processed = normalize_all(gt_answers);
  const std::set<std::string> unique(out.gt_processed.begin(), out.gt_processed.end());
  for (const auto& answer : unique) {
    const double score = soft_score(out.gt_processed, answer);
    out.unique_answer_scores.emplace_back(answer, score);
    if (answer == out.pred_processed) out.accuracy = score;
  }
  out.stvqa_accuracy = unique.count(out.pred_processed) ? 1.0 : 0.0;
  return out;
}

double vqa_soft_accuracy(std::string_view pred_answer, const std::vector<std::string>& gt_answers) {
  return vqa_item_score(pred_answer, gt_answers).accuracy;
}

double stvqa_accuracy(std::string_view pred_answer, const std::vector<std::string>& gt_answers) {
  const std::string pred = answer_normalize(pred_answer);
  for (const auto& gt : gt_answers)
    if (answer_normalize(gt) == pred) return 1.0;
  return 0.0;
}

double python_mean(const std::vector<double>& values) {
  if (values.empty()) fail("mean of an empty list (ZeroDivisionError in the official scorer)");
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double textvqa_eval_pred_list(const std::vector<VqaPrediction>& items) {
  std::vector<double> scores;
  scores.reserve(items.size());
  for (const auto& item : items) scores.push_back(vqa_soft_accuracy(item.pred_answer, item.gt_answers));
  return python_mean(scores);
}

double stvqa_eval_pred_list(const std::vector<VqaPrediction>& items) {
  std::vector<double> scores;
  scores.reserve(items.size());
  for (const auto& item : items) scores.push_back(stvqa_accuracy(item.pred_answer, item.gt_answers));
  return python_mean(scores);
}

std::string textvqa_question_from_prompt(std::string_view prompt_utf8) {
  const std::u32string prompt = utf8_to_u32(prompt_utf8, "TextVQA prompt");
  std::u32string question;
  const auto lines = py::split(prompt, U"\n");
  if (prompt.rfind(U"OCR tokens: ", 0) == 0) {
    // re.search(r"Question: (.*?) Short answer:", prompt, re.DOTALL): first "Question: ", then the
    // shortest text up to the next " Short answer:".
    const std::u32string open = U"Question: ", close = U" Short answer:";
    size_t start = 0;
    bool found = false;
    while (true) {
      const size_t q = prompt.find(open, start);
      if (q == std::u32string::npos) break;
      const size_t s = prompt.find(close, q + open.size());
      if (s != std::u32string::npos) {
        question = prompt.substr(q + open.size(), s - q - open.size());
        found = true;
        break;
      }
      start = q + 1;
    }
    if (!found)
      fail("TextVQA prompt starts with 'OCR tokens: ' but has no 'Question: ... Short answer:' "
           "(AttributeError in the official eval_textvqa.py): {}", prompt_utf8);
  } else if (py::contains(prompt, U"Reference OCR token: ") && lines.size() == 3) {
    question = prompt.rfind(U"Reference OCR token:", 0) == 0 ? lines[1] : lines[0];
  } else if (lines.size() == 2) {
    question = lines[0];
  } else {
    fail("TextVQA prompt has an unknown layout (the official prompt_processor asserts False): {}", prompt_utf8);
  }
  return u32_to_utf8(py::lower(question));
}

TextVqaRun textvqa_evaluate_files(const std::string& annotation_file, const std::string& result_file) {
  TextVqaRun run;
  run.experiment_name = std::filesystem::path(result_file).filename().string();
  if (const auto dot = run.experiment_name.rfind('.'); dot != std::string::npos && dot > 0)
    run.experiment_name.resize(dot);

  const nlohmann::json annotation_json = read_json_file(annotation_file);
  if (!annotation_json.is_object() || !annotation_json.contains("data") || !annotation_json["data"].is_array())
    fail("{}: field 'data' must be a list of annotations", annotation_file);
  // {(image_id, question.lower()): annotation}: a repeated key keeps the last annotation.
  std::unordered_map<std::string, std::vector<std::string>> gts_by_key;
  const auto& data = annotation_json["data"];
  for (size_t i = 0; i < data.size(); ++i) {
    const JsonNode record = JsonNode(data[i], fmt::format("{}: data[{}]", annotation_file, i)).expect_object();
    const auto& answers = record.at("answers").raw();
    if (!answers.is_array()) fail("{} must be a list of strings", record.at("answers").location());
    std::vector<std::string> gts;
    for (const auto& a : answers) {
      if (!a.is_string()) fail("{} must be a list of strings, got {}", record.at("answers").location(), a.dump());
      gts.push_back(a.get<std::string>());
    }
    gts_by_key[json_key(record.at("image_id").raw()) + '\n' + py::lower(record.string("question"))] = std::move(gts);
  }

  std::vector<double> scores;
  for (const auto& line : read_python_jsonl(result_file)) {
    const JsonNode record = JsonNode(line.value, line.where).expect_object();
    TextVqaRunItem item;
    const auto& qid = record.at("question_id").raw();
    item.question_id = qid.is_string() ? qid.get<std::string>() : qid.dump();
    item.prompt = record.string("prompt");
    item.text = record.string("text");
    try {
      item.question = textvqa_question_from_prompt(item.prompt);
    } catch (const Error& e) {
      fail("{}: {}", record.at("prompt").location(), e.what());
    }
    const auto it = gts_by_key.find(json_key(qid) + '\n' + item.question);
    if (it == gts_by_key.end())
      fail("{}: no annotation in {} for image_id {} and question '{}' (KeyError in the official script)",
           record.location(), annotation_file, qid.dump(), item.question);
    item.accuracy = vqa_soft_accuracy(item.text, it->second);
    scores.push_back(item.accuracy);
    run.items.push_back(std::move(item));
  }
  run.accuracy = python_mean(scores);
  run.stdout_text = fmt::format("{}\nSamples: {}\nAccuracy: {}%\n\n", run.experiment_name, run.items.size(),
                                py::format_fixed(100. * run.accuracy, 2));
  return run;
}

}  // namespace vista::eval
