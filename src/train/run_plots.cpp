#include "train/run_plots.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "train/metrics_log.h"
#include "util/error.h"
#include "util/json_node.h"
#include "viz/line_plot.h"

namespace vista::train {

namespace fs = std::filesystem;

std::vector<std::string> plot_run(const std::string& run_dir) {
  const auto path = (fs::path(run_dir) / "metrics.jsonl").string();
  if (!fs::exists(path)) fail("{}: cannot open (is {} a training run?)", path, run_dir);
  viz::Series loss{"loss", {}, {}}, ce{"ce", {}, {}}, vista{"vista", {}, {}}, sim{"similarity", {}, {}}, lr{"lr", {}, {}};
  for (const auto& line : read_metrics_records(path)) {
    const auto& j = line.value;
    const double step = JsonNode(j, line.where).number("step");
    // Text-only batches have no alignment term: leave a gap rather than draw a drop to 0.
    const bool aligned = j.value("aligned", int64_t{1}) > 0;
    for (auto* s : {&loss, &ce, &vista, &sim, &lr}) {
      s->x.push_back(step);
      const bool alignment_curve = s == &vista || s == &sim;
      s->y.push_back(alignment_curve && !aligned ? std::nan("") : j.value(s->label, std::nan("")));
    }
  }
  if (loss.x.empty()) fail("{}: no metrics yet", path);
  std::vector<std::string> written;
  auto write = [&](const std::string& name, const std::vector<viz::Series>& series, const std::string& title) {
    const auto out = (fs::path(run_dir) / name).string();
    viz::write_line_plot(out, series, {title});
    written.push_back(out);
  };
  write("loss.png", {loss, ce, vista}, "loss: " + fs::path(run_dir).filename().string());
  write("similarity.png", {sim}, "alignment score (unweighted)");
  write("lr.png", {lr}, "learning rate");
  return written;
}

}  // namespace vista::train
