#include "demo/study.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <filesystem>

#include "demo/arms.h"
#include "demo/study_report.h"
#include "util/error.h"
#include "runtime/threads.h"

namespace vista::demo {

namespace fs = std::filesystem;

int run_study(const StudyOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (o.seeds < 1) fail("study: --seeds must be at least 1, got {}", o.seeds);
  if (o.preambles.empty()) fail("study: --preambles needs at least one length");
  const auto arms = parse_arms(o.arms);
  bool sea = false;
  for (const auto& a : arms) sea = sea || a.sea;
  fmt::print("vista study: {} ; arms {} ; {} seed(s) ; preambles {} words{} ; work folder {}{}\n", threads_summary(),
             o.arms, o.seeds, fmt::join(o.preambles, "/"), o.distractors ? " with distractors" : "", o.work_dir,
             o.quick ? " (quick)" : "");
  IngredientOptions io;
  io.work_dir = o.work_dir;
  io.shapes.preamble_words = o.preambles;
  io.shapes.distractor_preambles = o.distractors;
  io.shapes.eval_records = 30 * static_cast<int64_t>(o.preambles.size());
  if (o.quick) {
    io.shapes.pretrain_records = 24;
    io.shapes.finetune_records = 24;
    io.shapes.text_only_records = 4;
    io.shapes.eval_records = 3 * static_cast<int64_t>(o.preambles.size());
  }
  io.quick = o.quick;
  io.sea = sea;
  io.device = o.device;
  const auto in = prepare_ingredients(io);

  ArmRecipe recipe;
  recipe.stage1_steps = o.quick ? 2 : 80;
  recipe.stage2_steps = o.quick ? 2 : 240;
  recipe.stage1_batch = o.quick ? 4 : 16;
  recipe.stage2_batch = o.quick ? 4 : 8;
  recipe.max_length = 512;  // room for the longest preambles
  recipe.threads = o.threads;
  recipe.device = o.device;
  StudyRuns runs;
  runs.arms = arms;
  runs.preambles = o.preambles;
  for (int64_t k = 0; k < o.seeds; ++k) {
    recipe.seed = static_cast<uint64_t>(k);
    runs.seeds.push_back(recipe.seed);
    std::vector<ArmResult> seed_runs;
    for (const auto& spec : arms) {
      seed_runs.push_back(
          run_arm(spec, in, recipe, (fs::path(o.work_dir) / fmt::format("seed{}", k) / spec.dir).string()));
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double done =
          static_cast<double>(k * static_cast<int64_t>(arms.size()) + static_cast<int64_t>(seed_runs.size()));
      const double total = static_cast<double>(o.seeds * static_cast<int64_t>(arms.size()));
      fmt::print("study: seed {} {} accuracy {:.3f} ; {}/{} runs, {:.0f} s, ETA {:.0f} s\n", k, spec.name,
                 seed_runs.back().accuracy(), done, total, elapsed, elapsed / done * (total - done));
    }
    runs.by_seed.push_back(seed_runs);
  }
  runs.title = "vista study: " + o.arms;
  runs.setting = fmt::format(
      "Shapes data; held-out questions behind preambles of {} words{}; stage 1 {} steps (batch {}), stage 2 {} steps "
      "(batch {}); the same pretrained tower and LLM for every run; seeds {} vary data order and the new parts' "
      "initialisation.",
      fmt::join(o.preambles, ", "),
      o.distractors ? " (about half of the preamble sentences name colours, shapes and places the image does not show)"
                    : "",
      recipe.stage1_steps, recipe.stage1_batch, recipe.stage2_steps, recipe.stage2_batch, fmt::join(runs.seeds, ", "));
  write_study_report(o.work_dir, runs, in);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("report: {}/report.html ; numbers: {}/results_study.json ; {:.0f} s\n", o.work_dir, o.work_dir, seconds);
  return 0;
}

}  // namespace vista::demo
