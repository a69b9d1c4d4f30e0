#include "demo/demo.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "demo/arms.h"
#include "demo/study_report.h"
#include "util/error.h"
#include "runtime/threads.h"
#include "viz/line_plot.h"

namespace vista::demo {

namespace fs = std::filesystem;

int run_demo(const DemoOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  fmt::print("vista demo: {} ; work folder {}{}\n", threads_summary(), o.work_dir, o.quick ? " (quick)" : "");
  IngredientOptions ingredients;
  ingredients.work_dir = o.work_dir;
  ingredients.tokenizer_dir = o.tokenizer_dir;
  ingredients.shapes.seed = o.seed;
  if (o.quick) {
    ingredients.shapes.pretrain_records = 24;
    ingredients.shapes.finetune_records = 24;
    ingredients.shapes.text_only_records = 4;
    ingredients.shapes.eval_records = 9;
  }
  ingredients.quick = o.quick;
  ingredients.device = o.device;
  const auto in = prepare_ingredients(ingredients);
  const fs::path work(o.work_dir);

  ArmRecipe recipe;
  recipe.stage1_steps = o.quick ? 2 : 80;
  recipe.stage2_steps = o.quick ? 2 : 240;
  recipe.stage1_batch = o.quick ? 4 : 16;
  recipe.stage2_batch = o.quick ? 4 : 8;
  recipe.seed = o.seed;
  recipe.threads = o.threads;
  recipe.device = o.device;
  recipe.lora = o.lora;
  const auto arms = parse_arms("ce,vista-l2,sea,sea-vista-l2");
  std::vector<ArmResult> results;
  for (const auto& spec : arms) results.push_back(run_arm(spec, in, recipe, (work / spec.dir).string()));

  fmt::print("[4/4] held-out shapes questions (greedy, exact match after normalisation); CE / VISTA term / "
             "similarity = mean of the last 20 stage-2 steps with images (VISTA measured, not trained, in the CE arm)\n");
  std::string header = fmt::format("{:<12} {:>9}", "arm", "accuracy");
  for (const auto& [words, c] : results[0].by_preamble) header += fmt::format(" {:>12}", fmt::format("pre={}w", words));
  header += fmt::format(" {:>9} {:>9} {:>11} {:>15}", "CE", "VISTA", "similarity", "stage-1 SEA");
  fmt::print("{}\n", header);
  nlohmann::json summary = nlohmann::json::array();
  for (const auto& arm : results) {
    std::string row = fmt::format("{:<12} {:>9.3f}", arm.name, arm.accuracy());
    nlohmann::json by = nlohmann::json::object();
    for (const auto& [words, c] : arm.by_preamble) {
      row += fmt::format(" {:>12}", fmt::format("{:.3f} ({})", c.second ? double(c.first) / c.second : 0.0, c.second));
      by[std::to_string(words)] = {{"correct", c.first}, {"total", c.second}};
    }
    row += fmt::format(" {:>9.4f} {:>9.4f} {:>11.4f} {:>15}", arm.ce, arm.vista, arm.similarity,
                       arm.sea_last >= 0 ? fmt::format("{:.3f}->{:.3f}", arm.sea_first, arm.sea_last) : "-");
    fmt::print("{}\n", row);
    summary.push_back({{"arm", arm.name}, {"correct", arm.correct}, {"total", arm.total}, {"by_preamble_words", by},
                       {"final_ce", arm.ce}, {"final_vista_term", arm.vista}, {"final_similarity", arm.similarity}});
    if (arm.sea_last >= 0) {
      summary.back()["stage1_sea_first"] = arm.sea_first;
      summary.back()["stage1_sea_recent"] = arm.sea_last;
    }
  }
  std::vector<viz::Series> ce_curves, sim_curves;
  for (const auto& spec : arms) {
    const auto& dir = spec.dir;
    viz::Series ce{spec.name + " ce", {}, {}}, sim{spec.name + " similarity", {}, {}};
    for (const auto& [x, y] : read_curve((work / dir / "stage2" / "metrics.jsonl").string(), "ce")) {
      ce.x.push_back(x);
      ce.y.push_back(y);
    }
    for (const auto& [x, y] : read_curve((work / dir / "stage2" / "metrics.jsonl").string(), "similarity")) {
      sim.x.push_back(x);
      sim.y.push_back(y);
    }
    ce_curves.push_back(ce);
    sim_curves.push_back(sim);
  }
  viz::write_line_plot((work / "stage2_ce.png").string(), ce_curves, {"stage 2 CE of the four arms"});
  viz::write_line_plot((work / "stage2_similarity.png").string(), sim_curves, {"stage 2 alignment score (l2, lower = closer)"});
  StudyRuns runs;
  runs.arms = arms;
  runs.by_seed = {results};
  runs.seeds = {o.seed};
  runs.preambles = ingredients.shapes.preamble_words;
  runs.title = "vista demo";
  runs.setting = "The demo's four arms, one seed: `vista study` runs several seeds and gives a spread.";
  write_study_report(o.work_dir, runs, in);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ofstream(work / "results.json") << nlohmann::json{{"arms", summary}, {"seconds", seconds}, {"quick", o.quick}}.dump(2) << "\n";
  fmt::print(
      "plots: {}/stage2_ce.png, stage2_similarity.png, */stage*/loss.png ; results: {}/results.json ; report: "
      "{}/report.html ; {:.0f} s\n",
      work.string(), work.string(), work.string(), seconds);
  return 0;
}

}  // namespace vista::demo
