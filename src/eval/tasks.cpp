#include "eval/tasks.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "eval/metrics/answer_normalize.h"
#include "eval/metrics/answers_file.h"
#include "eval/metrics/gqa.h"
#include "eval/metrics/vqa_accuracy.h"
#include "eval/metrics/pope.h"
#include "eval/metrics/scienceqa.h"
#include "inference/answer.h"
#include "util/error.h"
#include "util/json_file.h"
#include "util/json_node.h"

namespace vista::eval {

namespace fs = std::filesystem;

namespace {

struct TaskItem {
  nlohmann::json question_id;
  std::string image;     // absolute path or empty
  std::string prompt;    // the question the model is asked (the template adds <image>)
  std::string recorded;  // the "prompt" field written to the answers file, as the official script writes it
  nlohmann::json extra;  // ground truth etc.
};

std::vector<TaskItem> load_items(const TaskOptions& o, std::string& images) {
  std::vector<TaskItem> items;
  const fs::path dir(o.data_dir);
  // Question JSONL tasks: file and default image folder as the LLaVA evaluation bundle lays them out.
  static const std::map<std::string, std::pair<std::string, std::string>> kJsonlTasks = {
      {"shapes", {"eval.jsonl", "images"}},
      {"pope", {"llava_pope_test.jsonl", "val2014"}},
      {"textvqa", {"llava_textvqa_val_v051_ocr.jsonl", "train_images"}},
      {"gqa", {"llava_gqa_testdev_balanced.jsonl", "images"}},
      {"vqa", {"questions.jsonl", "images"}},
  };
  if (const auto task = kJsonlTasks.find(o.task); task != kJsonlTasks.end()) {
    const auto file = dir / task->second.first;
    if (images.empty())
      images = fs::exists(dir / task->second.second) ? (dir / task->second.second).string() : (dir / "../images").string();
    for (const auto& line : read_jsonl_file(file.string())) {
      const JsonNode question = JsonNode(line.value, line.where).expect_object();
      TaskItem item;
      item.question_id = question.at("question_id").raw();
      item.prompt = item.recorded = question.string("text");
      if (question.contains("image")) item.image = (fs::path(images) / question.string("image")).string();
      item.extra = line.value;
      items.push_back(item);
    }
  } else if (o.task == "scienceqa") {
    const auto file = (dir / "llava_test_CQM-A.json").string();
    if (images.empty()) images = fs::exists(dir / "images" / "test") ? (dir / "images" / "test").string() : (dir / "../images").string();
    const JsonNode questions = JsonNode::owning(read_json_file(file), file);
    questions.as_array();
    for (size_t i = 0; i < questions.size(); ++i) {
      const JsonNode q = questions.at(i);
      const JsonNode conversations = q.at("conversations");
      if (conversations.as_array().empty()) conversations.fail("expected a non-empty list");
      // model_vqa_science.py: strip <image>, then --single-pred-prompt's instruction.
      std::string qs = conversations.at(0).string("value");
      for (size_t p; (p = qs.find("<image>")) != std::string::npos;) qs.erase(p, 7);
      qs = qs.substr(qs.find_first_not_of(" \n"));
      qs = qs.substr(0, qs.find_last_not_of(" \n") + 1);
      const std::string instruction = "Answer with the option's letter from the given choices directly.";
      if (qs.find(instruction) == std::string::npos) qs += "\n" + instruction;
      TaskItem item;
      item.question_id = q.string("id");
      item.prompt = item.recorded = qs;
      if (q.contains("image")) {
        item.image = (fs::path(images) / q.string("image")).string();
        item.recorded = "<image>\n" + qs;  // eval_science_qa.py reads it to tell IMG questions apart
      }
      items.push_back(item);
    }
  } else {
    fail("unknown task '{}' (expected shapes, pope, scienceqa, textvqa, gqa or vqa)", o.task);
  }
  if (o.limit >= 0 && static_cast<int64_t>(items.size()) > o.limit) items.resize(static_cast<size_t>(o.limit));
  return items;
}

std::string key(const nlohmann::json& id) { return id.is_string() ? id.get<std::string>() : id.dump(); }

// The answer part files ranks of a multi-process run leave in `dir`.
std::vector<std::string> part_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.rfind("answers.part-", 0) == 0 && e.path().extension() == ".jsonl") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> parts_and(const std::string& answers, const std::vector<std::string>& parts) {
  std::vector<std::string> out;
  if (fs::exists(answers)) out.push_back(answers);
  out.insert(out.end(), parts.begin(), parts.end());
  return out;
}

// Rewrites `answers` with every answer of it and of the parts, one per question, in question
// order, through a temporary file; then the parts go.
void merge_in_question_order(const std::string& answers, const std::vector<std::string>& parts,
                             const std::vector<TaskItem>& items) {
  std::map<std::string, std::string> line_of;
  for (const auto& file : parts_and(answers, parts)) {
    if (!fs::exists(file)) continue;  // a rank without questions wrote no part
    for (const auto& line : read_jsonl_file(file))
      line_of.emplace(key(JsonNode(line.value, line.where).at("question_id").raw()), line.text);
  }
  const auto tmp = answers + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& it : items)
      if (const auto found = line_of.find(key(it.question_id)); found != line_of.end()) out << found->second << "\n";
    if (!out) fail("{}: write failed", tmp);
  }
  fs::rename(tmp, answers);
  for (const auto& p : parts) fs::remove(p);
}

}  // namespace

TaskResult run_task(models::MultimodalLMImpl& model, const text::Tokenizer& tokenizer,
                    const image::ImageProcessorConfig& processor, const TaskOptions& o, std::ostream& log) {
  std::string images = o.images_dir;
  const auto items = load_items(o, images);
  fs::create_directories(o.out_dir);
  TaskResult result;
  result.answers_file = (fs::path(o.out_dir) / "answers.jsonl").string();
  // Resume: answers already written (by one process, or in part files by ranks) are kept.
  std::set<std::string> done;
  const auto parts = part_files(o.out_dir);
  for (const auto& file : parts_and(result.answers_file, parts))
    for (const auto& a : read_llava_answers(file)) done.insert(key(a.question_id));
  std::vector<size_t> todo;
  for (size_t i = 0; i < items.size(); ++i)
    if (!done.count(key(items[i].question_id))) todo.push_back(i);
  result.reused = static_cast<int64_t>(items.size() - todo.size());
  // Every rank has read what is done before any rank writes, so all split the same open questions.
  if (o.world > 1) o.barrier();
  std::vector<size_t> mine;
  for (size_t j = static_cast<size_t>(o.rank); j < todo.size(); j += static_cast<size_t>(o.world)) mine.push_back(todo[j]);
  inference::Answerer answerer(model, tokenizer, data::get_template(o.template_name), processor,
                               o.aspect == "square" ? image::AspectMode::kSquare : image::AspectMode::kPad);
  const auto my_file =
      o.world > 1 ? (fs::path(o.out_dir) / fmt::format("answers.part-{:05d}.jsonl", o.rank)).string() : result.answers_file;
  std::ofstream out(my_file, std::ios::app);
  const auto start = std::chrono::steady_clock::now();
  for (size_t b = 0; b < mine.size(); b += static_cast<size_t>(o.batch_size)) {
    std::vector<inference::Question> batch;
    for (size_t j = b; j < std::min(mine.size(), b + static_cast<size_t>(o.batch_size)); ++j) {
      const auto& it = items[mine[j]];
      batch.push_back({key(it.question_id), it.image, it.prompt});
    }
    const auto answers = answerer.answer(batch, {o.max_new_tokens, o.batch_size});
    for (size_t j = 0; j < answers.size(); ++j) {
      const auto& it = items[mine[b + j]];
      out << llava_answer_line(it.question_id, it.recorded, answers[j], "vista-" + key(it.question_id), o.model_id);
    }
    out.flush();
    result.answered_now += static_cast<int64_t>(answers.size());
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = result.answered_now / std::max(elapsed, 1e-9);
    if (o.rank == 0)
      fmt::print(log, "{}: {}/{} answered{} ({} reused), {:.1f} questions/s, ETA {:.0f}s\n", o.task,
                 result.reused + result.answered_now * o.world, items.size(), o.world > 1 ? " (estimated over ranks)" : "",
                 result.reused, rate * o.world, (mine.size() - result.answered_now) / std::max(rate, 1e-9));
  }
  out.close();
  if (o.world > 1 || !parts.empty()) {
    o.barrier();  // every part is complete
    if (o.rank == 0) merge_in_question_order(result.answers_file, part_files(o.out_dir), items);
    o.barrier();  // no rank reports before the merged file exists
  }
  if (o.rank != 0) return result;

  nlohmann::json scores = {{"task", o.task}, {"questions", items.size()}};
  if (o.task == "shapes") {
    std::map<std::string, std::string> text;
    for (const auto& a : read_llava_answers(result.answers_file)) text[key(a.question_id)] = a.text;
    int correct = 0;
    std::map<int64_t, std::pair<int, int>> by;
    for (const auto& it : items) {
      const bool ok = answer_normalize(text[key(it.question_id)]) == answer_normalize(it.extra.at("answer").get<std::string>());
      correct += ok;
      auto& b = by[it.extra.value("preamble_words", int64_t{0})];
      b.first += ok;
      ++b.second;
    }
    scores["accuracy"] = items.empty() ? 0.0 : double(correct) / items.size();
    for (const auto& [words, c] : by) scores["accuracy_by_preamble_words"][std::to_string(words)] = double(c.first) / c.second;
  } else if (o.task == "pope") {
    for (const auto& r : pope_evaluate_files((fs::path(o.data_dir) / "coco").string(),
                                             (fs::path(o.data_dir) / "llava_pope_test.jsonl").string(), result.answers_file))
      scores["categories"][r.category] = {{"accuracy", r.accuracy}, {"precision", r.precision}, {"recall", r.recall},
                                          {"f1", r.f1}, {"yes_ratio", r.yes_ratio}, {"tp", r.tp}, {"fp", r.fp},
                                          {"tn", r.tn}, {"fn", r.fn}};
  } else if (o.task == "textvqa") {
    const auto annotations = (fs::path(o.data_dir) / "TextVQA_0.5.1_val.json").string();
    if (fs::exists(annotations)) scores["accuracy"] = textvqa_evaluate_files(annotations, result.answers_file).accuracy;
    else scores["note"] = annotations + " not found: answers written, not scored";
  } else if (o.task == "gqa") {
    auto questions = (fs::path(o.data_dir) / "testdev_balanced_questions.json").string();
    if (!fs::exists(questions)) questions = (fs::path(o.data_dir) / "data" / "testdev_balanced_questions.json").string();
    if (fs::exists(questions)) {
      const auto g = gqa_evaluate(gqa_read_questions(questions), gqa_convert_answers(result.answers_file));
      scores["accuracy"] = g.accuracy;
      scores["binary"] = g.binary;
      scores["open"] = g.open;
    } else {
      scores["note"] = questions + " not found: answers written, not scored";
    }
  } else if (o.task == "scienceqa") {
    const auto r = scienceqa_evaluate_files(o.data_dir, result.answers_file, "test");
    scores["accuracy"] = r.acc;
    scores["img_accuracy"] = r.img_acc;
  }
  std::ofstream(fs::path(o.out_dir) / "results.json") << scores.dump(2) << "\n";
  result.scores = scores;
  return result;
}

}  // namespace vista::eval
