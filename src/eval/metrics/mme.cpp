#include "eval/metrics/mme.h"

#include <filesystem>

#include "eval/metrics/python_text.h"
#include "util/error.h"

namespace vista::eval {

namespace fs = std::filesystem;

const std::vector<std::string>& mme_perception_tasks() {
  static const std::vector<std::string> tasks = {"existence", "count",     "position", "color",   "posters",
                                                 "celebrity", "scene",     "landmark", "artwork", "OCR"};
  return tasks;
}

const std::vector<std::string>& mme_cognition_tasks() {
  static const std::vector<std::string> tasks = {"commonsense_reasoning", "numerical_calculation", "text_translation",
                                                 "code_reasoning"};
  return tasks;
}

std::string mme_parse_prediction(std::string_view pred_field) {
  const std::u32string pred = py::lower(utf8_to_u32(pred_field, "MME prediction"));
  if (pred == U"yes" || pred == U"no") return u32_to_utf8(pred);
  const std::u32string prefix = pred.substr(0, 4);
  if (py::contains(prefix, U"yes")) return "yes";
  if (py::contains(prefix, U"no")) return "no";
  return "other";
}

std::vector<MmeLine> mme_read_task_file(const std::string& path) {
  std::vector<MmeLine> out;
  const auto lines = py::read_text_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
      const size_t tab = lines[i].find('\t', start);
      fields.push_back(lines[i].substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 4)
      fail("{}:{}: expected 4 tab-separated fields (image, question, GT, prediction), got {} (a tab or newline inside "
           "an answer breaks the official calculation.py too)",
           path, i + 1, fields.size());
    out.push_back({fields[0], fields[1], fields[2], fields[3], static_cast<int64_t>(i) + 1});
  }
  return out;
}

MmeTaskResult mme_score_task(const std::string& task, const std::vector<MmeLine>& lines, const std::string& source) {
  MmeTaskResult r;
  r.task = task;
  if (lines.size() % 2 != 0)
    fail("{}: {} lines; MME needs two questions per image (an odd line count fails the official assert)", source,
         lines.size());
  if (lines.empty()) fail("{}: no lines (ZeroDivisionError in the official calculation.py)", source);
  r.questions = static_cast<int64_t>(lines.size());
  r.images = r.questions / 2;
  int64_t correct = 0, both_correct = 0;
  for (size_t i = 0; i < lines.size(); i += 2) {
    int image_correct = 0;
    for (size_t k = i; k < i + 2; ++k) {
      const std::string gt = py::lower(lines[k].gt);
      if (gt != "yes" && gt != "no")
        fail("{}:{}: ground truth '{}' is not yes/no (the official calculation.py asserts it)", source, lines[k].line,
             lines[k].gt);
      const std::string pred = mme_parse_prediction(lines[k].pred_field);
      r.gt_labels.push_back(gt);
      r.pred_labels.push_back(pred);
      if (gt == pred) ++image_correct, ++correct;
      if (pred == "other") {
        ++r.other_num;
      } else if (gt == "yes") {
        pred == "yes" ? ++r.tp : ++r.fn;
      } else {
        pred == "yes" ? ++r.fp : ++r.tn;
      }
    }
    if (image_correct == 2) ++both_correct;
  }
  // sklearn: accuracy_score = mean of the 0/1 matches; precision/recall with zero_division -> 0.0.
  r.acc = static_cast<double>(correct) / static_cast<double>(r.questions);
  r.acc_plus = static_cast<double>(both_correct) / static_cast<double>(r.images);
  r.precision = r.tp + r.fp ? static_cast<double>(r.tp) / static_cast<double>(r.tp + r.fp) : 0.0;
  r.recall = r.tp + r.fn ? static_cast<double>(r.tp) / static_cast<double>(r.tp + r.fn) : 0.0;
  double score = 0;
  score += r.acc * 100;
  score += r.acc_plus * 100;
  r.score = score;
  return r;
}

MmeResult mme_evaluate_dir(const std::string& results_dir) {
  MmeResult result;
  auto run_section = [&](const char* name, const std::vector<std::string>& tasks, std::vector<MmeTaskResult>& out,
                         double& total) {
    result.stdout_text += fmt::format("=========== {} ===========\n", name);
    double scores = 0;
    for (const auto& task : tasks) {
      const std::string path = (fs::path(results_dir) / (task + ".txt")).string();
      out.push_back(mme_score_task(task, mme_read_task_file(path), path));
      scores += out.back().score;
    }
    total = scores;
    result.stdout_text += fmt::format("total score: {} \n\n", py::float_repr(scores));
    for (const auto& t : out) result.stdout_text += fmt::format("\t {}  score: {}\n", t.task, py::float_repr(t.score));
    result.stdout_text += "\n\n";
  };
  run_section("Perception", mme_perception_tasks(), result.perception, result.perception_total);
  run_section("Cognition", mme_cognition_tasks(), result.cognition, result.cognition_total);
  return result;
}

}  // namespace vista::eval
