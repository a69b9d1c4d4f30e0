#include "eval/metrics/scienceqa.h"

#include <filesystem>
#include <limits>
#include <unordered_set>

#include "eval/metrics/json_io.h"
#include "eval/metrics/python_text.h"
#include "util/error.h"

namespace vista::eval {

namespace fs = std::filesystem;

namespace {
constexpr char kOptions[] = "ABCDE";
constexpr int kNumOptions = 5;
}  // namespace

std::string scienceqa_parse_answer(std::string_view pred_text_utf8) {
  const std::u32string text = utf8_to_u32(pred_text_utf8, "ScienceQA prediction");
  auto is_option = [](char32_t c) { return c >= U'A' && c <= U'E'; };
  if (text.size() == 1 && is_option(text[0])) return std::string(1, static_cast<char>(text[0]));
  if (text.size() >= 3 && is_option(text[0]) && text[1] == U'.' && text[2] == U' ')
    return std::string(1, static_cast<char>(text[0]));
  // re.findall(r'The answer is ([A-Z]).', text): non-overlapping, left to right.
  const std::u32string prefix = U"The answer is ";
  std::vector<char32_t> matches;
  size_t pos = 0;
  while (true) {
    const size_t q = text.find(prefix, pos);
    if (q == std::u32string::npos) break;
    const size_t letter = q + prefix.size();
    if (letter + 1 < text.size() && text[letter] >= U'A' && text[letter] <= U'Z' && text[letter + 1] != U'\n') {
      matches.push_back(text[letter]);
      pos = letter + 2;
    } else {
      pos = q + 1;
    }
  }
  if (matches.size() == 1) return std::string(1, static_cast<char>(matches[0]));
  return "FAILED";
}

int scienceqa_pred_index(std::string_view parsed_answer, int64_t n_choices) {
  // `prediction in options[:len(choices)]`, then options.index(prediction).
  for (int i = 0; i < kNumOptions && i < n_choices; ++i)
    if (parsed_answer.size() == 1 && parsed_answer[0] == kOptions[i]) return i;
  return -1;
}

std::string ScienceQaResult::stdout_text() const {
  if (total == 0) fail("ScienceQA: no problems in the split (ZeroDivisionError in the official script)");
  if (multimodal_total == 0)
    fail("ScienceQA: no problem with an <image> prompt, IMG-Accuracy undefined (ZeroDivisionError in the official "
         "script)");
  return fmt::format("Total: {}, Correct: {}, Accuracy: {}%, IMG-Accuracy: {}%\n", total, correct,
                     py::format_fixed(acc, 2),
                     py::format_fixed(img_acc, 2));
}

std::string ScienceQaResult::output_file_json() const {
  nlohmann::ordered_json out;
  out["correct"] = nlohmann::ordered_json::array();
  out["incorrect"] = nlohmann::ordered_json::array();
  for (const auto& item : items) {
    nlohmann::ordered_json analysis;
    analysis["question_id"] = item.question_id;
    analysis["parsed_ans"] = item.parsed_ans;
    analysis["ground_truth"] = item.ground_truth;
    analysis["question"] = item.question;
    analysis["pred"] = item.pred;
    analysis["is_multimodal"] = item.is_multimodal;
    out[item.correct ? "correct" : "incorrect"].push_back(std::move(analysis));
  }
  return python_json_dumps(out, 2);
}

std::string ScienceQaResult::result_file_json() const {
  nlohmann::ordered_json out;
  out["acc"] = acc;
  out["correct"] = correct;
  out["count"] = total;
  out["results"] = nlohmann::ordered_json::object();
  out["outputs"] = nlohmann::ordered_json::object();
  for (const auto& item : items) {
    out["results"][item.question_id] = item.pred_idx;
    out["outputs"][item.question_id] = item.pred;
  }
  return python_json_dumps(out, 2);
}

ScienceQaResult scienceqa_evaluate(const std::vector<ScienceQaProblem>& split_problems,
                                   const std::unordered_map<std::string, ScienceQaPrediction>& predictions) {
  ScienceQaResult r;
  std::unordered_set<std::string> seen;
  for (const auto& prob : split_problems) {
    if (!seen.insert(prob.pid).second) continue;
    ScienceQaItem item;
    item.question_id = prob.pid;
    item.answer = prob.answer;
    item.n_choices = prob.n_choices;
    const auto it = predictions.find(prob.pid);
    if (it == predictions.end()) {
      item.missing = true;
      item.pred = "FAILED";
      item.question = "Unknown";
    } else {
      if (!it->second.text) fail("{}: missing field 'text' (pid {})", it->second.source, prob.pid);
      item.pred = *it->second.text;
      if (!it->second.prompt) fail("{}: missing field 'prompt' (pid {})", it->second.source, prob.pid);
      item.question = *it->second.prompt;
    }
    item.parsed_ans = scienceqa_parse_answer(item.pred);
    item.pred_idx = scienceqa_pred_index(item.parsed_ans, prob.n_choices);
    // args.options[prob['answer']]: Python indexing, negative indices count from the end.
    const int64_t gt = prob.answer < 0 ? prob.answer + kNumOptions : prob.answer;
    if (gt < 0 || gt >= kNumOptions)
      fail("ScienceQA problem {}: answer index {} is outside the options A-E (IndexError in the official script)",
           prob.pid, prob.answer);
    item.ground_truth = std::string(1, kOptions[gt]);
    item.is_multimodal = item.question.find("<image>") != std::string::npos;
    item.correct = item.pred_idx == prob.answer;
    r.correct += item.correct;
    ++r.total;
    if (item.is_multimodal) {
      ++r.multimodal_total;
      r.multimodal_correct += item.correct;
    }
    r.items.push_back(std::move(item));
  }
  r.acc = r.total ? static_cast<double>(r.correct) / static_cast<double>(r.total) * 100 : 0.0;
  r.img_acc = r.multimodal_total
                  ? static_cast<double>(r.multimodal_correct) / static_cast<double>(r.multimodal_total) * 100
                  : std::numeric_limits<double>::quiet_NaN();
  return r;
}

ScienceQaResult scienceqa_evaluate_files(const std::string& base_dir, const std::string& result_file,
                                         const std::string& split) {
  const std::string splits_path = (fs::path(base_dir) / "pid_splits.json").string();
  const std::string problems_path = (fs::path(base_dir) / "problems.json").string();
  const nlohmann::json splits = read_json_file(splits_path);
  if (!splits.is_object() || !splits.contains(split) || !splits[split].is_array())
    fail("{}: field '{}' must be a list of problem ids", splits_path, split);
  const nlohmann::json problems = read_json_file(problems_path);
  if (!problems.is_object()) fail("{}: expected a JSON object of problems", problems_path);

  std::vector<ScienceQaProblem> split_problems;
  for (const auto& pid_value : splits[split]) {
    if (!pid_value.is_string())
      fail("{}: field '{}': problem id {} is not a string (KeyError in the official script)", splits_path, split,
           pid_value.dump());
    const std::string pid = pid_value.get<std::string>();
    if (!problems.contains(pid)) fail("{}: no problem '{}' (listed in {} '{}')", problems_path, pid, splits_path, split);
    const JsonNode prob = JsonNode(problems[pid], fmt::format("{}: problem '{}'", problems_path, pid)).expect_object();
    const auto& choices = prob.at("choices").raw();
    if (!choices.is_array()) fail("{} must be a list", prob.at("choices").location());
    split_problems.push_back({pid, static_cast<int64_t>(choices.size()), prob.integer("answer")});
  }

  std::unordered_map<std::string, ScienceQaPrediction> predictions;
  for (const auto& line : read_python_jsonl(result_file)) {
    const JsonNode record = JsonNode(line.value, line.where).expect_object();
    const auto& qid = record.at("question_id").raw();
    if (!qid.is_string()) {
      // An int id is a different dict key than any str pid: never used, and its other fields are never read.
      continue;
    }
    ScienceQaPrediction pred;
    if (record.contains("text")) pred.text = record.string("text");
    if (record.contains("prompt")) pred.prompt = record.string("prompt");
    pred.source = record.location();
    predictions[qid.get<std::string>()] = std::move(pred);
  }
  return scienceqa_evaluate(split_problems, predictions);
}

}  // namespace vista::eval
