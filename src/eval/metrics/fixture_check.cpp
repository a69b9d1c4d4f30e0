#include "eval/metrics/fixture_check.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "eval/metrics/anls.h"
#include "eval/metrics/answer_normalize.h"
#include "eval/metrics/gqa.h"
#include "eval/metrics/json_io.h"
#include "eval/metrics/mme.h"
#include "eval/metrics/pope.h"
#include "eval/metrics/python_text.h"
#include "eval/metrics/scienceqa.h"
#include "eval/metrics/vqa_accuracy.h"
#include "util/error.h"

namespace vista::eval {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string show(const std::string& s) {
  std::string q = python_json_string(s);
  if (q.size() > 200) q = q.substr(0, 197) + "...";
  return q;
}

std::string show(const json& v) {
  if (v.is_number_float()) return py::float_repr(v.get<double>());
  if (v.is_string()) return show(v.get<std::string>());
  std::string d = v.dump();
  if (d.size() > 200) d = d.substr(0, 197) + "...";
  return d;
}

bool same_bits(double a, double b) {
  uint64_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return x == y || (std::isnan(a) && std::isnan(b));
}

class Checks {
 public:
  std::vector<FieldCheck> out;

  void add(const std::string& name, bool pass, double abs_error, const std::string& detail) {
    out.push_back({name, pass, abs_error, pass ? "(exact)" : detail});
  }
  void failure(const std::string& name, const std::string& detail) { add(name, false, 0.0, detail); }
  void not_compared(const std::string& name, const json& value) {
    failure(name, "fixture field not understood by the checker (value " + show(value) + ")");
  }

  void str(const std::string& name, const json& expected, const std::string& actual) {
    if (!expected.is_string()) return failure(name, "fixture value is not a string: " + show(expected));
    const bool ok = expected.get<std::string>() == actual;
    add(name, ok, 0.0, "expected " + show(expected) + ", got " + show(actual));
  }
  void real(const std::string& name, const json& expected, double actual) {
    if (!expected.is_number()) return failure(name, "fixture value is not a number: " + show(expected));
    const double e = expected.get<double>();
    const bool ok = same_bits(e, actual);
    add(name, ok, std::isfinite(e - actual) ? std::fabs(e - actual) : 0.0,
        "expected " + show(expected) + ", got " + py::float_repr(actual));
  }
  void integer(const std::string& name, const json& expected, int64_t actual) {
    if (!expected.is_number_integer()) return failure(name, "fixture value is not an integer: " + show(expected));
    const int64_t e = expected.get<int64_t>();
    add(name, e == actual, std::fabs(static_cast<double>(e - actual)),
        fmt::format("expected {}, got {}", e, actual));
  }
  void boolean(const std::string& name, const json& expected, bool actual) {
    if (!expected.is_boolean()) return failure(name, "fixture value is not true/false: " + show(expected));
    add(name, expected.get<bool>() == actual, 0.0, fmt::format("expected {}, got {}", expected.dump(), actual));
  }
  // A list field as one check.
  void string_list(const std::string& name, const json& expected, const std::vector<std::string>& actual) {
    json a = json::array();
    for (const auto& s : actual) a.push_back(s);
    whole(name, expected, a);
  }
  void int_list(const std::string& name, const json& expected, const std::vector<int64_t>& actual) {
    json a = json::array();
    for (auto v : actual) a.push_back(v);
    whole(name, expected, a);
  }
  void real_list(const std::string& name, const json& expected, const std::vector<double>& actual) {
    json a = json::array();
    for (auto v : actual) a.push_back(v);
    whole(name, expected, a);
  }
  // One check for a whole JSON value (exact, floats bit-for-bit); detail names the first difference.
  void whole(const std::string& name, const json& expected, const json& actual) {
    std::string where;
    const bool ok = equal(expected, actual, "", where);
    add(name, ok, 0.0, "differs at " + (where.empty() ? std::string("top") : where) + ": expected " + show(expected) +
                           ", got " + show(actual));
  }
  // One check per leaf of a JSON tree ("<name>.<key>", "<name>[i]"); keys present on one side only fail.
  void tree(const std::string& name, const json& expected, const json& actual) {
    if (expected.is_object() && actual.is_object()) {
      for (const auto& [key, value] : expected.items()) {
        if (!actual.contains(key)) failure(name + "." + key, "missing from vista's output (expected " + show(value) + ")");
        else tree(name + "." + key, value, actual.at(key));
      }
      for (const auto& [key, value] : actual.items())
        if (!expected.contains(key)) failure(name + "." + key, "not in the fixture (vista wrote " + show(value) + ")");
      return;
    }
    if (expected.is_array() && actual.is_array()) {
      if (expected.size() != actual.size())
        failure(name + ".size", fmt::format("expected {} items, got {}", expected.size(), actual.size()));
      for (size_t i = 0; i < std::min(expected.size(), actual.size()); ++i)
        tree(fmt::format("{}[{}]", name, i), expected[i], actual[i]);
      return;
    }
    whole(name, expected, actual);
  }

 private:
  static bool equal(const json& e, const json& a, const std::string& path, std::string& where) {
    auto differ = [&](const std::string& at) {
      where = at;
      return false;
    };
    if (e.is_number_float() || a.is_number_float()) {
      if (!e.is_number() || !a.is_number() || !same_bits(e.get<double>(), a.get<double>())) return differ(path);
      if (e.is_number_float() != a.is_number_float()) return differ(path + " (int vs float)");
      return true;
    }
    if (e.is_number_integer() && a.is_number_integer()) return e.get<int64_t>() == a.get<int64_t>() || differ(path);
    if (e.type() != a.type()) return differ(path + " (type)");
    if (e.is_object()) {
      if (e.size() != a.size()) return differ(path + " (keys)");
      for (const auto& [key, value] : e.items()) {
        if (!a.contains(key)) return differ(path + "." + key + " (missing)");
        if (!equal(value, a.at(key), path + "." + key, where)) return false;
      }
      return true;
    }
    if (e.is_array()) {
      if (e.size() != a.size()) return differ(path + " (size)");
      for (size_t i = 0; i < e.size(); ++i)
        if (!equal(e[i], a[i], fmt::format("{}[{}]", path, i), where)) return false;
      return true;
    }
    return e == a || differ(path);
  }
};

// "python x.py --flag value ...   (cwd = some/dir; note)" -> flags and cwd.
struct Command {
  std::map<std::string, std::string> flags;
  std::string cwd;
};

Command parse_command(const std::string& text) {
  Command c;
  std::string args = text;
  if (const auto open = text.find("(cwd = "); open != std::string::npos) {
    args = text.substr(0, open);
    const size_t start = open + 7;
    const size_t end = text.find_first_of(";)", start);
    c.cwd = py::strip(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  std::vector<std::string> tokens;
  for (const auto& t : py::split(utf8_to_u32(args))) tokens.push_back(u32_to_utf8(t));
  for (size_t i = 0; i + 1 < tokens.size(); ++i)
    if (tokens[i].rfind("--", 0) == 0 && tokens[i + 1].rfind("--", 0) != 0) c.flags[tokens[i]] = tokens[i + 1];
  return c;
}

std::string flag(const Command& c, const std::string& name, const std::string& source) {
  const auto it = c.flags.find(name);
  if (it == c.flags.end()) fail("{}: command has no {} argument", source, name);
  return it->second;
}

// The folder a fixture command ran in: "cwd" is relative to the fixture set (the kind folder's parent).
fs::path run_dir(const std::string& folder, const Command& c) {
  if (c.cwd.empty()) return fs::path(folder);
  return (fs::path(folder).parent_path() / c.cwd).lexically_normal();
}

std::vector<std::string> string_list(const json& value, const std::string& where) {
  if (!value.is_array()) fail("{} must be a list of strings", where);
  std::vector<std::string> out;
  for (const auto& v : value) {
    if (!v.is_string()) fail("{} must be a list of strings, got {}", where, v.dump());
    out.push_back(v.get<std::string>());
  }
  return out;
}

json read_expected(const std::string& folder) { return read_json((fs::path(folder) / "expected.json").string()); }

std::string cases_path(const std::string& folder) { return (fs::path(folder) / "cases.jsonl").string(); }

// Runs fn(field, value) for every field of `object` except the listed inputs / metadata.
template <typename Fn>
void for_fields(const json& object, std::initializer_list<const char*> skip, Fn&& fn) {
  for (const auto& [key, value] : object.items()) {
    bool skipped = false;
    for (const char* s : skip) skipped = skipped || key == s;
    if (!skipped) fn(key, value);
  }
}

// ---------------------------------------------------------------------------------------------------------------
void check_answer_normalize(const std::string& folder, Checks& c) {
  const std::string path = cases_path(folder);
  for (const auto& line : read_jsonl(path)) {
    const JsonRecord rec(line.value, path, line.line);
    const std::string id = rec.string("id");
    AnswerNormalizeStages s;
    try {
      s = answer_normalize_stages(rec.string("input"));
    } catch (const std::exception& e) {
      c.failure(id + ".error", e.what());
      continue;
    }
    for_fields(rec.raw(), {"id", "category", "origin", "input"}, [&](const std::string& key, const json& value) {
      if (key == "output") return c.str(id + ".output", value, s.output);
      if (key != "stages" || !value.is_object()) return c.not_compared(id + "." + key, value);
      for (const auto& [stage, expected] : value.items()) {
        const std::string name = id + ".stages." + stage;
        if (stage == "word_tokenize") c.str(name, expected, s.word_tokenize);
        else if (stage == "newline_tab_strip") c.str(name, expected, s.newline_tab_strip);
        else if (stage == "process_punctuation") c.str(name, expected, s.process_punctuation);
        else c.not_compared(name, expected);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
void check_vqa_accuracy(const std::string& folder, Checks& c) {
  const std::string path = cases_path(folder);
  std::vector<double> soft, exact;
  int64_t n = 0;
  bool all_scored = true;
  for (const auto& line : read_jsonl(path)) {
    ++n;
    const JsonRecord rec(line.value, path, line.line);
    const std::string id = rec.string("id");
    VqaItemScore s;
    try {
      s = vqa_item_score(rec.string("pred_answer"), string_list(rec.at("gt_answers"), rec.where("gt_answers")));
    } catch (const std::exception& e) {
      c.failure(id + ".error", e.what());
      all_scored = false;
      continue;
    }
    soft.push_back(s.accuracy);
    exact.push_back(s.stvqa_accuracy);
    for_fields(rec.raw(), {"id", "category", "origin", "pred_answer", "gt_answers"},
               [&](const std::string& key, const json& value) {
                 const std::string name = id + "." + key;
                 if (key == "pred_processed") c.str(name, value, s.pred_processed);
                 else if (key == "gt_processed") c.string_list(name, value, s.gt_processed);
                 else if (key == "accuracy") c.real(name, value, s.accuracy);
                 else if (key == "stvqa_accuracy") c.real(name, value, s.stvqa_accuracy);
                 else if (key == "unique_answer_scores") {
                   // A dict in the official code (built from a set): compared as answer -> score.
                   json expected_map = json::object(), actual_map = json::object();
                   if (!value.is_array()) return c.failure(name, "fixture value is not a list of [answer, score]");
                   for (const auto& pair : value) {
                     if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string())
                       return c.failure(name, "fixture value is not a list of [answer, score]");
                     expected_map[pair[0].get<std::string>()] = pair[1];
                   }
                   for (const auto& [answer, score] : s.unique_answer_scores) actual_map[answer] = score;
                   c.whole(name, expected_map, actual_map);
                 } else {
                   c.not_compared(name, value);
                 }
               });
  }
  const json expected = read_expected(folder);
  for (const auto& [key, value] : expected.items()) {
    const std::string name = "expected." + key;
    if (key == "n") {
      c.integer(name, value, n);
    } else if (key == "textvqa_accuracy_mean" || key == "stvqa_accuracy_mean" || key == "textvqa_printed") {
      if (!all_scored) {
        c.failure(name, "not computed: some items could not be scored");
        continue;
      }
      const double mean = python_mean(key == "stvqa_accuracy_mean" ? exact : soft);
      if (key == "textvqa_printed") c.str(name, value, "Accuracy: " + py::format_fixed(100. * mean, 2) + "%");
      else c.real(name, value, mean);
    } else if (key == "textvqa_run" && value.is_object()) {
      try {
        const Command cmd = parse_command(value.value("command", ""));
        const fs::path dir = run_dir(folder, cmd);
        const TextVqaRun run =
            textvqa_evaluate_files((dir / flag(cmd, "--annotation-file", name)).string(),
                                   (dir / flag(cmd, "--result-file", name)).string());
        for_fields(value, {"command"}, [&](const std::string& field, const json& v) {
          const std::string sub = name + "." + field;
          if (field == "stdout") c.str(sub, v, run.stdout_text);
          else if (field == "samples") c.integer(sub, v, static_cast<int64_t>(run.items.size()));
          else if (field == "accuracy") c.real(sub, v, run.accuracy);
          else if (field == "items" && v.is_array()) {
            if (v.size() != run.items.size())
              c.failure(sub + ".size", fmt::format("expected {} items, got {}", v.size(), run.items.size()));
            for (size_t i = 0; i < std::min(v.size(), run.items.size()); ++i) {
              const auto& item = run.items[i];
              for (const auto& [f, ev] : v[i].items()) {
                const std::string n2 = fmt::format("{}[{}].{}", sub, i, f);
                if (f == "question_id") c.str(n2, ev, item.question_id);
                else if (f == "prompt") c.str(n2, ev, item.prompt);
                else if (f == "question") c.str(n2, ev, item.question);
                else if (f == "text") c.str(n2, ev, item.text);
                else c.not_compared(n2, ev);
              }
            }
          } else {
            c.not_compared(sub, v);
          }
        });
      } catch (const std::exception& e) {
        c.failure(name + ".error", e.what());
      }
    } else {
      c.not_compared(name, value);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
void check_anls(const std::string& folder, Checks& c) {
  const std::string path = cases_path(folder);
  std::vector<double> scores;
  int64_t n = 0;
  bool all_scored = true;
  for (const auto& line : read_jsonl(path)) {
    ++n;
    const JsonRecord rec(line.value, path, line.line);
    const std::string id = rec.string("id");
    AnlsItemScore s;
    try {
      s = anls_item_score(rec.string("pred_answer"), string_list(rec.at("gt_answers"), rec.where("gt_answers")));
    } catch (const std::exception& e) {
      c.failure(id + ".error", e.what());
      all_scored = false;
      continue;
    }
    scores.push_back(s.anls);
    for_fields(rec.raw(), {"id", "category", "origin", "pred_answer", "gt_answers"},
               [&](const std::string& key, const json& value) {
                 const std::string name = id + "." + key;
                 if (key == "edit_distance") c.int_list(name, value, s.edit_distance);
                 else if (key == "anls_per_gt") c.real_list(name, value, s.anls_per_gt);
                 else if (key == "anls") c.real(name, value, s.anls);
                 else c.not_compared(name, value);
               });
  }
  const json expected = read_expected(folder);
  for (const auto& [key, value] : expected.items()) {
    const std::string name = "expected." + key;
    if (key == "n") c.integer(name, value, n);
    else if (key == "anls_mean" && all_scored) c.real(name, value, anls_mean(scores));
    else if (key == "anls_mean") c.failure(name, "not computed: some items could not be scored");
    else c.not_compared(name, value);
  }
}

// ---------------------------------------------------------------------------------------------------------------
void check_pope_category(const std::string& name, const json& expected, const PopeCategoryResult& r, Checks& c) {
  for (const auto& [key, value] : expected.items()) {
    const std::string sub = name + "." + key;
    if (key == "category") c.str(sub, value, r.category);
    else if (key == "samples") c.integer(sub, value, r.samples);
    else if (key == "TP") c.integer(sub, value, r.tp);
    else if (key == "FP") c.integer(sub, value, r.fp);
    else if (key == "TN") c.integer(sub, value, r.tn);
    else if (key == "FN") c.integer(sub, value, r.fn);
    else if (key == "accuracy") c.real(sub, value, r.accuracy);
    else if (key == "precision") c.real(sub, value, r.precision);
    else if (key == "recall") c.real(sub, value, r.recall);
    else if (key == "f1") c.real(sub, value, r.f1);
    else if (key == "yes_ratio") c.real(sub, value, r.yes_ratio);
    else if (key == "summary_line") c.str(sub, value, r.summary_line());
    else if (key == "stdout_block") {
      try {
        c.str(sub, value, r.stdout_block());
      } catch (const std::exception& e) {
        c.failure(sub, e.what());
      }
    } else if (key == "printed" && value.is_object()) {
      for (const auto& [label, printed] : value.items()) {
        const std::string n2 = sub + "." + label;
        if (label == "Accuracy") c.str(n2, printed, py::float_repr(r.accuracy));
        else if (label == "Precision") c.str(n2, printed, py::float_repr(r.precision));
        else if (label == "Recall") c.str(n2, printed, py::float_repr(r.recall));
        else if (label == "F1 score") c.str(n2, printed, py::float_repr(r.f1));
        else if (label == "Yes ratio") c.str(n2, printed, py::float_repr(r.yes_ratio));
        else c.not_compared(n2, printed);
      }
    } else {
      c.not_compared(sub, value);
    }
  }
}

void check_pope(const std::string& folder, Checks& c) {
  const json expected = read_expected(folder);
  std::map<std::string, std::map<std::string, PopeCategoryResult>> results;  // run -> category -> result
  for (const auto& [key, value] : expected.items()) {
    if (key != "runs" || !value.is_object()) {
      c.not_compared("expected." + key, value);
      continue;
    }
    for (const auto& [run, run_value] : value.items()) {
      const std::string name = "expected.runs." + run;
      try {
        const Command cmd = parse_command(run_value.value("command", ""));
        const fs::path dir = run_dir(folder, cmd);
        for (auto& r : pope_evaluate_files((dir / flag(cmd, "--annotation-dir", name)).string(),
                                           (dir / flag(cmd, "--question-file", name)).string(),
                                           (dir / flag(cmd, "--result-file", name)).string()))
          results[run][r.category] = std::move(r);
      } catch (const std::exception& e) {
        c.failure(name + ".error", e.what());
        continue;
      }
      for_fields(run_value, {"command"}, [&](const std::string& field, const json& v) {
        if (field != "categories" || !v.is_object()) return c.not_compared(name + "." + field, v);
        json expected_names = json::array(), actual_names = json::array();
        for (const auto& [category, unused] : v.items()) expected_names.push_back(category);
        for (const auto& [category, unused] : results[run]) actual_names.push_back(category);
        c.whole(name + ".categories", expected_names, actual_names);
        for (const auto& [category, cv] : v.items()) {
          const auto it = results[run].find(category);
          if (it == results[run].end()) c.failure(name + "." + category, "category not found by vista");
          else check_pope_category(name + "." + category, cv, it->second, c);
        }
      });
    }
  }
  const std::string path = cases_path(folder);
  for (const auto& line : read_jsonl(path)) {
    const JsonRecord rec(line.value, path, line.line);
    const std::string run = rec.string("run"), category = rec.string("category");
    const int64_t index = rec.integer("index_in_category");
    const std::string id = fmt::format("{}.{}.{}", run, category, index);
    const auto run_it = results.find(run);
    const PopeCategoryResult* r = nullptr;
    if (run_it != results.end()) {
      const auto cat_it = run_it->second.find(category);
      if (cat_it != run_it->second.end()) r = &cat_it->second;
    }
    if (!r || index < 0 || index >= static_cast<int64_t>(r->parsed.size())) {
      c.failure(id, "answer not found in vista's POPE results");
      continue;
    }
    const auto i = static_cast<size_t>(index);
    for_fields(rec.raw(), {"run", "category", "index_in_category", "question_id"},
               [&](const std::string& key, const json& value) {
                 const std::string name = id + "." + key;
                 if (key == "text") c.str(name, value, r->answers[i]);
                 else if (key == "parsed") c.str(name, value, r->parsed[i]);
                 else if (key == "label") {
                   const bool paired = index < r->paired;
                   if (value.is_null()) c.add(name, !paired, 0.0, "expected no label, vista paired one");
                   else if (!paired) c.failure(name, "expected label " + show(value) + ", vista paired none");
                   else c.str(name, value, r->label[i].value_or("<non-string label>"));
                 } else {
                   c.not_compared(name, value);
                 }
               });
  }
}

// ---------------------------------------------------------------------------------------------------------------
json parse_own_json(const std::string& text) { return json::parse(text); }

void check_scienceqa(const std::string& folder, Checks& c) {
  const json expected = read_expected(folder);
  const Command cmd = parse_command(expected.value("command", ""));
  const fs::path dir = run_dir(folder, cmd);
  const ScienceQaResult r = scienceqa_evaluate_files((dir / flag(cmd, "--base-dir", "scienceqa command")).string(),
                                                     (dir / flag(cmd, "--result-file", "scienceqa command")).string());
  for (const auto& [key, value] : expected.items()) {
    const std::string name = "expected." + key;
    if (key == "command") continue;
    if (key == "stdout") {
      try {
        c.str(name, value, r.stdout_text());
      } catch (const std::exception& e) {
        c.failure(name, e.what());
      }
    } else if (key == "correct") c.integer(name, value, r.correct);
    else if (key == "total") c.integer(name, value, r.total);
    else if (key == "acc") c.real(name, value, r.acc);
    else if (key == "multimodal_correct") c.integer(name, value, r.multimodal_correct);
    else if (key == "multimodal_total") c.integer(name, value, r.multimodal_total);
    else if (key == "img_acc") c.real(name, value, r.img_acc);
    else if (key == "result_json") c.tree(name, value, parse_own_json(r.result_file_json()));
    else if (key == "output_json") c.tree(name, value, parse_own_json(r.output_file_json()));
    else c.not_compared(name, value);
  }
  // The two files the official script wrote, byte for byte.
  const std::pair<const char*, std::string> files[] = {{"--output-file", r.output_file_json()},
                                                       {"--output-result", r.result_file_json()}};
  for (const auto& [option, bytes] : files) {
    const std::string base = fs::path(flag(cmd, option, "scienceqa command")).filename().string();
    const std::string official = (fs::path(folder) / "official_outputs" / base).string();
    const std::string name = "files.official_outputs/" + base;
    if (!fs::exists(official)) {
      c.failure(name, official + " does not exist");
      continue;
    }
    const std::string want = py::read_file_bytes(official);
    size_t at = 0;
    while (at < want.size() && at < bytes.size() && want[at] == bytes[at]) ++at;
    c.add(name, want == bytes, 0.0,
          fmt::format("bytes differ from offset {} ({} bytes expected, {} written)", at, want.size(), bytes.size()));
  }
  std::unordered_map<std::string, const ScienceQaItem*> by_pid;
  for (const auto& item : r.items) by_pid[item.question_id] = &item;
  const std::string path = cases_path(folder);
  for (const auto& line : read_jsonl(path)) {
    const JsonRecord rec(line.value, path, line.line);
    const std::string id = rec.string("question_id");
    const auto it = by_pid.find(id);
    if (it == by_pid.end()) {
      c.failure(id, "problem not in vista's ScienceQA results");
      continue;
    }
    const ScienceQaItem& item = *it->second;
    for_fields(rec.raw(), {"question_id", "forms"}, [&](const std::string& key, const json& value) {
      const std::string name = id + "." + key;
      if (key == "pred") c.str(name, value, item.pred);
      else if (key == "parsed_ans") c.str(name, value, item.parsed_ans);
      else if (key == "pred_idx") c.integer(name, value, item.pred_idx);
      else if (key == "answer") c.integer(name, value, item.answer);
      else if (key == "ground_truth") c.str(name, value, item.ground_truth);
      else if (key == "n_choices") c.integer(name, value, item.n_choices);
      else if (key == "is_multimodal") c.boolean(name, value, item.is_multimodal);
      else if (key == "correct") c.boolean(name, value, item.correct);
      else c.not_compared(name, value);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
void check_mme(const std::string& folder, Checks& c) {
  const json expected = read_expected(folder);
  const Command cmd = parse_command(expected.value("command", ""));
  const fs::path results_dir = run_dir(folder, cmd) / flag(cmd, "--results_dir", "mme command");
  const MmeResult r = mme_evaluate_dir(results_dir.string());
  std::map<std::string, std::pair<const MmeTaskResult*, const char*>> tasks;
  for (const auto& t : r.perception) tasks[t.task] = {&t, "Perception"};
  for (const auto& t : r.cognition) tasks[t.task] = {&t, "Cognition"};
  for (const auto& [key, value] : expected.items()) {
    const std::string name = "expected." + key;
    if (key == "command") continue;
    if (key == "stdout") c.str(name, value, r.stdout_text);
    else if (key == "perception_total") c.real(name, value, r.perception_total);
    else if (key == "perception_total_printed") c.str(name, value, py::float_repr(r.perception_total));
    else if (key == "cognition_total") c.real(name, value, r.cognition_total);
    else if (key == "cognition_total_printed") c.str(name, value, py::float_repr(r.cognition_total));
    else if (key == "tasks" && value.is_object()) {
      json expected_names = json::array(), actual_names = json::array();
      for (const auto& [task, unused] : value.items()) expected_names.push_back(task);
      for (const auto& [task, unused] : tasks) actual_names.push_back(task);
      c.whole(name + ".names", expected_names, actual_names);
      for (const auto& [task, tv] : value.items()) {
        const auto it = tasks.find(task);
        if (it == tasks.end()) {
          c.failure(name + "." + task, "task not scored by vista");
          continue;
        }
        const MmeTaskResult& t = *it->second.first;
        for (const auto& [field, v] : tv.items()) {
          const std::string sub = name + "." + task + "." + field;
          if (field == "section") c.str(sub, v, it->second.second);
          else if (field == "score") c.real(sub, v, t.score);
          else if (field == "score_printed") c.str(sub, v, py::float_repr(t.score));
          else if (field == "acc") c.real(sub, v, t.acc);
          else if (field == "acc_plus") c.real(sub, v, t.acc_plus);
          else if (field == "TP") c.integer(sub, v, t.tp);
          else if (field == "FN") c.integer(sub, v, t.fn);
          else if (field == "TN") c.integer(sub, v, t.tn);
          else if (field == "FP") c.integer(sub, v, t.fp);
          else if (field == "precision") c.real(sub, v, t.precision);
          else if (field == "recall") c.real(sub, v, t.recall);
          else if (field == "other_num") c.integer(sub, v, t.other_num);
          else if (field == "questions") c.integer(sub, v, t.questions);
          else if (field == "images") c.integer(sub, v, t.images);
          else c.not_compared(sub, v);
        }
      }
    } else {
      c.not_compared(name, value);
    }
  }
  // Per line: the reader's fields and the parsed labels.
  std::map<std::string, std::vector<MmeLine>> lines;
  const std::string path = cases_path(folder);
  for (const auto& line : read_jsonl(path)) {
    const JsonRecord rec(line.value, path, line.line);
    const std::string task = rec.string("task");
    const int64_t index = rec.integer("line");
    const std::string id = fmt::format("{}.{}", task, index);
    const auto it = tasks.find(task);
    if (it == tasks.end()) {
      c.failure(id, "task not scored by vista");
      continue;
    }
    if (!lines.count(task)) lines[task] = mme_read_task_file((results_dir / (task + ".txt")).string());
    const auto& task_lines = lines[task];
    const MmeTaskResult& t = *it->second.first;
    if (index < 0 || index >= static_cast<int64_t>(task_lines.size())) {
      c.failure(id, "line not in vista's reading of the task file");
      continue;
    }
    const auto i = static_cast<size_t>(index);
    for_fields(rec.raw(), {"task", "line"}, [&](const std::string& key, const json& value) {
      const std::string name = id + "." + key;
      if (key == "image") c.str(name, value, task_lines[i].image);
      else if (key == "gt") c.str(name, value, task_lines[i].gt);
      else if (key == "pred_field") c.str(name, value, task_lines[i].pred_field);
      else if (key == "pred_label") c.str(name, value, t.pred_labels.at(i));
      else if (key == "gt_label") c.str(name, value, t.gt_labels.at(i));
      else c.not_compared(name, value);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
json gqa_scores_json(const GqaScores& s) {
  json out;
  out["accuracy"] = s.accuracy;
  out["binary"] = s.binary;
  out["open"] = s.open;
  out["validity"] = s.validity;
  out["plausibility"] = s.plausibility;
  out["distribution"] = s.distribution;
  out["consistency"] = 0;  // avg([]) * 100: an int in eval.py (not requested)
  out["grounding"] = 0;
  const std::pair<const char*, const GqaTypeScores*> tables[] = {{"accuracyPerStructuralType", &s.per_structural},
                                                                 {"accuracyPerSemanticType", &s.per_semantic},
                                                                 {"accuracyPerSteps", &s.per_steps},
                                                                 {"accuracyPerLength", &s.per_length}};
  for (const auto& [key, table] : tables) {
    json t = json::object();
    for (const auto& [type, value] : *table) t[type] = json::array({value.first, value.second});
    out[key] = t;
  }
  return out;
}

void check_gqa(const std::string& folder, Checks& c) {
  const json expected = read_expected(folder);
  const auto commands = expected.value("commands", json::array());
  if (!commands.is_array() || commands.size() != 2 || !commands[0].is_string() || !commands[1].is_string())
    fail("{}/expected.json: 'commands' must hold the convert and the eval command", folder);
  const Command convert = parse_command(commands[0].get<std::string>());
  const Command evaluate = parse_command(commands[1].get<std::string>());
  const auto predictions =
      gqa_convert_answers((run_dir(folder, convert) / flag(convert, "--src", "gqa convert command")).string());
  const std::string predictions_bytes = gqa_predictions_json(predictions);
  const std::string tier = flag(evaluate, "--tier", "gqa eval command");
  const auto questions = gqa_read_questions((run_dir(folder, evaluate) / (tier + "_questions.json")).string());
  const GqaScores scores = gqa_evaluate(questions, predictions);

  for (const auto& [key, value] : expected.items()) {
    const std::string name = "expected." + key;
    if (key == "commands") continue;
    if (key == "predictions") c.tree(name, value, json::parse(predictions_bytes));
    else if (key == "stdout") c.str(name, value, gqa_stdout(scores));
    else if (key == "scores") c.tree(name, value, gqa_scores_json(scores));
    else c.not_compared(name, value);
  }
  const std::string base = fs::path(flag(convert, "--dst", "gqa convert command")).filename().string();
  const std::string official = (fs::path(folder) / "official_outputs" / base).string();
  if (!fs::exists(official)) {
    c.failure("files.official_outputs/" + base, official + " does not exist");
  } else {
    const std::string want = py::read_file_bytes(official);
    c.add("files.official_outputs/" + base, want == predictions_bytes, 0.0, "bytes differ from the official output");
  }

  std::unordered_map<std::string, const GqaQuestion*> question_by_id;
  for (const auto& q : questions) question_by_id[q.id] = &q;
  std::unordered_map<std::string, std::string> prediction_by_id;
  for (const auto& p : predictions) prediction_by_id[p.question_id] = p.prediction;
  const std::string path = cases_path(folder);
  for (const auto& line : read_jsonl(path)) {
    const JsonRecord rec(line.value, path, line.line);
    const std::string id = rec.string("question_id");
    const auto q = question_by_id.find(id);
    const auto p = prediction_by_id.find(id);
    if (q == question_by_id.end() || p == prediction_by_id.end()) {
      c.failure(id, "question or prediction not found by vista");
      continue;
    }
    for_fields(rec.raw(), {"question_id", "text"}, [&](const std::string& key, const json& value) {
      const std::string name = id + "." + key;
      if (key == "prediction") c.str(name, value, p->second);
      else if (key == "gold") c.str(name, value, q->second->answer);
      else if (key == "is_balanced") c.boolean(name, value, q->second->is_balanced);
      else if (key == "structural") c.str(name, value, q->second->structural);
      else if (key == "correct") c.boolean(name, value, p->second == q->second->answer);
      else c.not_compared(name, value);
    });
  }
}

}  // namespace

const std::vector<std::string>& metrics_fixture_kinds() {
  static const std::vector<std::string> kinds = {"answer_normalize", "vqa_accuracy", "anls", "pope",
                                                 "scienceqa",        "mme",          "gqa"};
  return kinds;
}

std::vector<FieldCheck> check_metrics_fixture(const std::string& folder, const std::string& kind) {
  if (!fs::exists(cases_path(folder))) fail("{}: no cases.jsonl (not a metrics fixture folder)", folder);
  Checks c;
  try {
    if (kind == "answer_normalize") check_answer_normalize(folder, c);
    else if (kind == "vqa_accuracy") check_vqa_accuracy(folder, c);
    else if (kind == "anls") check_anls(folder, c);
    else if (kind == "pope") check_pope(folder, c);
    else if (kind == "scienceqa") check_scienceqa(folder, c);
    else if (kind == "mme") check_mme(folder, c);
    else if (kind == "gqa") check_gqa(folder, c);
    else fail("{}: unknown metrics fixture kind '{}'", folder, kind);
  } catch (const Error& e) {
    if (c.out.empty() && std::string(e.what()).find("unknown metrics fixture kind") != std::string::npos) throw;
    c.failure(kind + ".error", e.what());
  } catch (const std::exception& e) {
    c.failure(kind + ".error", e.what());
  }
  return std::move(c.out);
}

}  // namespace vista::eval
