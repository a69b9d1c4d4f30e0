#include "eval/metrics/pope.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <unordered_map>

#include "eval/metrics/json_io.h"
#include "eval/metrics/python_text.h"
#include "util/error.h"

namespace vista::eval {

namespace fs = std::filesystem;

std::string pope_parse_answer(std::string_view text_in) {
  std::string text(text_in);
  if (const auto dot = text.find('.'); dot != std::string::npos) text.resize(dot);
  text.erase(std::remove(text.begin(), text.end(), ','), text.end());
  size_t start = 0;
  while (true) {
    const size_t space = text.find(' ', start);
    const std::string_view word = std::string_view(text).substr(start, space == std::string::npos ? std::string::npos
                                                                                               : space - start);
    if (word == "No" || word == "not" || word == "no") return "no";
    if (space == std::string::npos) return "yes";
    start = space + 1;
  }
}

PopeCategoryResult pope_score_category(const std::string& category, const std::vector<std::string>& answer_texts,
                                       const std::vector<std::optional<std::string>>& labels) {
  PopeCategoryResult r;
  r.category = category;
  r.samples = static_cast<int64_t>(answer_texts.size());
  int64_t yes = 0;
  r.paired = static_cast<int64_t>(std::min(answer_texts.size(), labels.size()));
  for (size_t i = 0; i < answer_texts.size(); ++i) {
    r.answers.push_back(answer_texts[i]);
    r.parsed.push_back(pope_parse_answer(answer_texts[i]));
    const int pred = r.parsed.back() == "no" ? 0 : 1;
    yes += pred;
    if (i < labels.size()) {
      r.label.push_back(labels[i]);
      const int label = labels[i].has_value() && *labels[i] == "no" ? 0 : 1;
      if (pred == 1 && label == 1) ++r.tp;
      else if (pred == 1 && label == 0) ++r.fp;
      else if (pred == 0 && label == 0) ++r.tn;
      else ++r.fn;
    } else {
      r.label.push_back(std::nullopt);
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto note = [&](const char* what) { r.undefined += (r.undefined.empty() ? "" : ", ") + std::string(what); };
  if (answer_texts.empty()) note("yes ratio (no answers)"), r.yes_ratio = nan;
  else r.yes_ratio = static_cast<double>(yes) / static_cast<double>(answer_texts.size());
  if (r.tp + r.fp == 0) note("precision (TP+FP == 0)"), r.precision = nan;
  else r.precision = static_cast<double>(r.tp) / static_cast<double>(r.tp + r.fp);
  if (r.tp + r.fn == 0) note("recall (TP+FN == 0)"), r.recall = nan;
  else r.recall = static_cast<double>(r.tp) / static_cast<double>(r.tp + r.fn);
  if (std::isnan(r.precision) || std::isnan(r.recall) || r.precision + r.recall == 0.0) {
    if (!std::isnan(r.precision) && !std::isnan(r.recall)) note("F1 (precision + recall == 0)");
    r.f1 = nan;
  } else {
    r.f1 = 2 * r.precision * r.recall / (r.precision + r.recall);
  }
  const int64_t total = r.tp + r.tn + r.fp + r.fn;
  if (total == 0) note("accuracy (no labelled answers)"), r.accuracy = nan;
  else r.accuracy = static_cast<double>(r.tp + r.tn) / static_cast<double>(total);
  return r;
}

std::string PopeCategoryResult::summary_line() const {
  return fmt::format("{}, {}, {}, {}, {}", py::format_fixed(f1, 3), py::format_fixed(accuracy, 3),
                     py::format_fixed(precision, 3), py::format_fixed(recall, 3), py::format_fixed(yes_ratio, 3));
}

std::string PopeCategoryResult::stdout_block() const {
  if (!undefined.empty())
    fail("POPE category '{}': {} undefined (the official eval_pope.py raises ZeroDivisionError)", category, undefined);
  std::string out = fmt::format("Category: {}, # samples: {}\n", category, samples);
  out += "TP\tFP\tTN\tFN\t\n";
  out += fmt::format("{}\t{}\t{}\t{}\n", tp, fp, tn, fn);
  out += "Accuracy: " + py::float_repr(accuracy) + "\n";
  out += "Precision: " + py::float_repr(precision) + "\n";
  out += "Recall: " + py::float_repr(recall) + "\n";
  out += "F1 score: " + py::float_repr(f1) + "\n";
  out += "Yes ratio: " + py::float_repr(yes_ratio) + "\n";
  out += summary_line() + "\n";
  return out;
}

std::vector<PopeCategoryResult> pope_evaluate_files(const std::string& annotation_dir, const std::string& question_file,
                                                    const std::string& result_file) {
  // questions = {question['question_id']: question}: a repeated id keeps the last line.
  std::unordered_map<std::string, std::string> category_of;
  for (const auto& line : read_python_jsonl(question_file)) {
    const JsonNode record = JsonNode(line.value, line.where).expect_object();
    category_of[json_key(record.at("question_id").raw())] = record.string("category");
  }
  struct Answer {
    std::string category, text;
  };
  std::vector<Answer> answers;
  for (const auto& line : read_python_jsonl(result_file)) {
    const JsonNode record = JsonNode(line.value, line.where).expect_object();
    const auto& qid = record.at("question_id").raw();
    const auto it = category_of.find(json_key(qid));
    if (it == category_of.end())
      fail("{}: question_id {} is not in {} (KeyError in the official script)", record.at("question_id").location(),
           qid.dump(), question_file);
    answers.push_back({it->second, record.string("text")});
  }

  if (!fs::is_directory(annotation_dir)) fail("{}: POPE annotation folder does not exist", annotation_dir);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(annotation_dir)) files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  std::vector<PopeCategoryResult> results;
  for (const auto& file : files) {
    const std::string prefix = "coco_pope_", suffix = ".json";
    if (file.size() < prefix.size() + suffix.size() || file.compare(0, prefix.size(), prefix) != 0 ||
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
      fail("{}/{}: every file of the POPE annotation folder must be named coco_pope_<category>.json "
           "(the official script asserts it)", annotation_dir, file);
    const std::string category = file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
    const std::string label_file = (fs::path(annotation_dir) / file).string();
    std::vector<std::optional<std::string>> labels;
    for (const auto& line : read_python_jsonl(label_file)) {
      const JsonNode record = JsonNode(line.value, line.where).expect_object();
      const auto& label = record.at("label").raw();
      labels.push_back(label.is_string() ? std::optional<std::string>(label.get<std::string>()) : std::nullopt);
    }
    std::vector<std::string> texts;
    for (const auto& a : answers)
      if (a.category == category) texts.push_back(a.text);
    results.push_back(pope_score_category(category, texts, labels));
  }
  return results;
}

}  // namespace vista::eval
