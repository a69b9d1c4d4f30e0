#include "data/shapes.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <map>
#include <random>

#include "image/png_write.h"
#include "util/error.h"

namespace vista::data {

namespace fs = std::filesystem;

namespace {

struct Color {
  const char* name;
  uint8_t r, g, b;
};
const Color kColors[] = {{"red", 220, 40, 40},    {"green", 40, 170, 60},   {"blue", 40, 70, 220},
                         {"yellow", 230, 210, 40}, {"purple", 140, 60, 180}, {"orange", 240, 140, 30}};
const char* kShapes[] = {"circle", "square", "triangle"};
const char* kPositions[] = {"left", "right", "top", "bottom", "center"};
const char* kSizes[] = {"small", "large"};

// Irrelevant filler for the long-preamble questions.
const char* kFiller[] = {"The weather report mentioned light rain in the afternoon and a cool breeze by the evening.",
                         "Several committee members arrived late because the train schedule had changed again.",
                         "A recipe for bread usually needs flour, water, salt and a little patience.",
                         "Historians still argue about the exact date when the old bridge was first built.",
                         "The library extended its opening hours during the examination period this year.",
                         "Most migratory birds travel thousands of kilometres between their summer and winter homes."};

// Filler that names colours, shapes and places the image does not show: it competes with the
// image for the answer (the study's setting where long text can crowd the image out).
const char* kDistractors[] = {"My neighbour painted her garden fence a bright green colour last summer.",
                              "The road sign at the corner is a red triangle with a white border.",
                              "A small blue square of paper was left on the top shelf of the cupboard.",
                              "The children drew a large yellow circle at the bottom of the poster.",
                              "Her favourite scarf is purple, with an orange stripe on the left side.",
                              "An old clock with a round face hangs on the right of the kitchen door."};

struct Scene {
  int shape, color, position, size;
};

image::ImageU8 render(const Scene& s, int64_t n) {
  image::ImageU8 img;
  img.height = img.width = n;
  img.channels = 3;
  img.pixels.assign(static_cast<size_t>(n * n * 3), 235);
  const double half = n / 2.0;
  double cx = half, cy = half;
  const double offset = n * 0.27;
  switch (s.position) {
    case 0: cx -= offset; break;
    case 1: cx += offset; break;
    case 2: cy -= offset; break;
    case 3: cy += offset; break;
    default: break;
  }
  const double r = n * (s.size == 0 ? 0.11 : 0.2);
  const auto& c = kColors[s.color];
  for (int64_t y = 0; y < n; ++y)
    for (int64_t x = 0; x < n; ++x) {
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      bool inside = false;
      if (s.shape == 0) inside = dx * dx + dy * dy <= r * r;
      else if (s.shape == 1) inside = std::abs(dx) <= r && std::abs(dy) <= r;
      else inside = dy <= r && dy >= -r && std::abs(dx) <= (dy + r) * 0.6;
      if (!inside) continue;
      auto* p = img.pixels.data() + (y * n + x) * 3;
      p[0] = c.r;
      p[1] = c.g;
      p[2] = c.b;
    }
  return img;
}

std::string caption(const Scene& s) {
  return fmt::format("a {} {} {} {}", kSizes[s.size], kColors[s.color].name, kShapes[s.shape],
                     s.position == 4 ? "in the center" : std::string("at the ") + kPositions[s.position]);
}

std::string preamble(std::mt19937_64& rng, int64_t words, bool distractors = false) {
  std::string out;
  int64_t count = 0;
  while (count < words) {
    // With distractors, every other draw picks from them (the first draw decides which side).
    const bool pick_distractor = distractors && (rng() % 2 == 0);
    std::string sentence =
        pick_distractor ? kDistractors[rng() % std::size(kDistractors)] : kFiller[rng() % std::size(kFiller)];
    for (char ch : sentence) count += ch == ' ';
    ++count;
    out += sentence + " ";
  }
  return out;
}

struct Question {
  std::string text, answer, category;
};

Question question(const Scene& s, int kind) {
  switch (kind) {
    case 0: return {"What color is the shape? Answer with one word.", kColors[s.color].name, "color"};
    case 1: return {"What shape is shown? Answer with one word.", kShapes[s.shape], "shape"};
    default: return {"Where is the shape? Answer with one word.", kPositions[s.position], "position"};
  }
}

nlohmann::json turn(const char* from, const std::string& value) { return {{"from", from}, {"value", value}}; }

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  if (!out) fail("{}: cannot open for writing", path.string());
  out << text;
  if (!out) fail("{}: write failed", path.string());
}

}  // namespace

const std::vector<std::string>& shape_names() {
  static const std::vector<std::string> v(std::begin(kShapes), std::end(kShapes));
  return v;
}
const std::vector<std::string>& color_names() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> out;
    for (const auto& c : kColors) out.push_back(c.name);
    return out;
  }();
  return v;
}
const std::vector<std::string>& position_names() {
  static const std::vector<std::string> v(std::begin(kPositions), std::end(kPositions));
  return v;
}

ShapesFiles generate_shapes(const std::string& out_dir, const ShapesOptions& options) {
  ShapesFiles files;
  files.root = out_dir;
  files.images = (fs::path(out_dir) / "images").string();
  fs::create_directories(files.images);
  std::mt19937_64 rng(options.seed);
  auto draw = [&] {
    return Scene{static_cast<int>(rng() % 3), static_cast<int>(rng() % std::size(kColors)), static_cast<int>(rng() % 5),
                 static_cast<int>(rng() % 2)};
  };
  int64_t image_counter = 0;
  auto save = [&](const Scene& s) {
    const auto name = fmt::format("shape_{:05d}.png", image_counter++);
    image::write_png((fs::path(files.images) / name).string(), render(s, options.image_size));
    return name;
  };

  nlohmann::json pretrain = nlohmann::json::array();
  for (int64_t i = 0; i < options.pretrain_records; ++i) {
    const auto s = draw();
    pretrain.push_back({{"id", fmt::format("pretrain-{:05d}", i)},
                        {"image", save(s)},
                        {"conversations", {turn("human", "<image>\nDescribe the image briefly."), turn("gpt", caption(s))}}});
  }
  nlohmann::json finetune = nlohmann::json::array();
  for (int64_t i = 0; i < options.finetune_records; ++i) {
    const auto s = draw();
    nlohmann::json conv = nlohmann::json::array();
    const int rounds = 1 + static_cast<int>(rng() % 3);
    const int first = static_cast<int>(rng() % 3);
    for (int r = 0; r < rounds; ++r) {
      auto q = question(s, (first + r) % 3);
      std::string text = q.text;
      if (r == 0) {
        const auto words = options.preamble_words[rng() % options.preamble_words.size()];
        text = "<image>\n" + preamble(rng, words, options.distractor_preambles) + text;
      }
      conv.push_back(turn("human", text));
      conv.push_back(turn("gpt", q.answer));
    }
    finetune.push_back({{"id", fmt::format("finetune-{:05d}", i)}, {"image", save(s)}, {"conversations", conv}});
  }
  for (int64_t i = 0; i < options.text_only_records; ++i) {
    const auto& c = kColors[rng() % std::size(kColors)];
    finetune.push_back({{"id", fmt::format("text-{:05d}", i)},
                        {"conversations", {turn("human", fmt::format("Repeat the word {}.", c.name)), turn("gpt", c.name)}}});
  }
  std::string eval;
  std::vector<std::pair<Scene, std::string>> eval_scenes;
  for (int64_t i = 0; i < options.eval_records; ++i) {
    const auto s = draw();
    // Cycle preamble lengths fastest so even a small split covers all of them.
    const auto n_pre = static_cast<int64_t>(options.preamble_words.size());
    const auto words = options.preamble_words[i % n_pre];
    const auto q = question(s, static_cast<int>((i / n_pre) % 3));
    const auto image_name = save(s);
    eval_scenes.emplace_back(s, image_name);
    const nlohmann::json item = {{"question_id", fmt::format("eval-{:05d}", i)},
                                 {"image", image_name},
                                 {"text", preamble(rng, words, options.distractor_preambles) + q.text},
                                 {"answer", q.answer},
                                 {"category", q.category},
                                 {"preamble_words", words}};
    eval += item.dump() + "\n";
  }
  files.pretrain_json = (fs::path(out_dir) / "pretrain.json").string();
  files.finetune_json = (fs::path(out_dir) / "finetune.json").string();
  files.eval_jsonl = (fs::path(out_dir) / "eval.jsonl").string();
  write_text(files.pretrain_json, pretrain.dump(1) + "\n");
  write_text(files.finetune_json, finetune.dump(1) + "\n");
  write_text(files.eval_jsonl, eval);

  // POPE format: "Is there a <shape> in the image?" with yes/no labels, three categories.
  files.pope_dir = (fs::path(out_dir) / "pope").string();
  fs::create_directories(fs::path(files.pope_dir) / "coco");
  const char* categories[] = {"adversarial", "popular", "random"};
  std::string pope_questions;
  std::map<std::string, std::string> pope_labels;
  for (size_t i = 0; i < eval_scenes.size(); ++i) {
    const auto& [scene, image_name] = eval_scenes[i];
    const bool ask_present = rng() % 2 == 0;
    const int asked = ask_present ? scene.shape : (scene.shape + 1 + static_cast<int>(rng() % 2)) % 3;
    const std::string text =
        fmt::format("Is there a {} in the image?\nAnswer the question using a single word or phrase.", kShapes[asked]);
    const std::string category = categories[i % 3];
    const nlohmann::json q = {{"question_id", static_cast<int64_t>(i)}, {"image", image_name}, {"text", text},
                              {"category", category}};
    pope_questions += q.dump() + "\n";
    nlohmann::json label = q;
    label.erase("category");
    label["label"] = ask_present ? "yes" : "no";
    pope_labels[category] += label.dump() + "\n";
  }
  write_text(fs::path(files.pope_dir) / "llava_pope_test.jsonl", pope_questions);
  for (const auto& [category, lines] : pope_labels)
    write_text(fs::path(files.pope_dir) / "coco" / ("coco_pope_" + category + ".json"), lines);

  // ScienceQA format: a multiple-choice colour question per image.
  files.scienceqa_dir = (fs::path(out_dir) / "scienceqa").string();
  fs::create_directories(files.scienceqa_dir);
  nlohmann::json problems = nlohmann::json::object(), questions = nlohmann::json::array(), pids = nlohmann::json::array();
  for (size_t i = 0; i < eval_scenes.size(); ++i) {
    const auto& [scene, image_name] = eval_scenes[i];
    std::vector<std::string> choices = {kColors[scene.color].name};
    while (choices.size() < 3) {
      const std::string c = kColors[rng() % std::size(kColors)].name;
      if (std::find(choices.begin(), choices.end(), c) == choices.end()) choices.push_back(c);
    }
    std::shuffle(choices.begin(), choices.end(), rng);
    const int64_t answer = std::find(choices.begin(), choices.end(), std::string(kColors[scene.color].name)) - choices.begin();
    const std::string pid = std::to_string(1000 + i);
    problems[pid] = {{"question", "Which color is the shape?"}, {"choices", choices}, {"answer", answer},
                     {"hint", ""}, {"image", image_name}, {"split", "test"}};
    pids.push_back(pid);
    std::string options_text;
    for (size_t c = 0; c < choices.size(); ++c) options_text += fmt::format("{}({}) {}", c ? " " : "", char('A' + c), choices[c]);
    questions.push_back({{"id", pid},
                         {"image", image_name},
                         {"conversations",
                          {turn("human", "<image>\nContext: N/A\nQuestion: Which color is the shape?\nOptions: " + options_text +
                                             "\nAnswer with the option's letter from the given choices directly."),
                           turn("gpt", std::string(1, char('A' + answer)))}}});
  }
  write_text(fs::path(files.scienceqa_dir) / "problems.json", problems.dump() + "\n");
  write_text(fs::path(files.scienceqa_dir) / "pid_splits.json", nlohmann::json{{"test", pids}}.dump() + "\n");
  write_text(fs::path(files.scienceqa_dir) / "llava_test_CQM-A.json", questions.dump(1) + "\n");
  return files;
}

std::string shapes_preamble(uint64_t seed, int64_t words, bool distractors) {
  std::mt19937_64 rng(seed);
  return preamble(rng, words, distractors);
}

}  // namespace vista::data
