#include "train/metrics_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "util/error.h"
#include "util/json_node.h"

namespace vista::train {

namespace fs = std::filesystem;

std::vector<JsonLine> read_metrics_records(const std::string& path) {
  return read_jsonl_file(path, JsonlOptions{/*blank_lines_allowed=*/true, /*torn_last_line_dropped=*/true});
}

MetricsLog::MetricsLog(const std::string& run_dir, int64_t total_steps, bool append, int64_t from_step)
    : total_steps_(total_steps), tty_(isatty(fileno(stderr)) != 0), start_(std::chrono::steady_clock::now()) {
  const auto path = (fs::path(run_dir) / "metrics.jsonl").string();
  std::vector<std::string> kept;
  if (append && fs::exists(path)) {
    // A resumed run rewrites the steps after its checkpoint, so drop lines past it.
    for (const auto& line : read_metrics_records(path)) {
      if (from_step >= 0 && JsonNode(line.value, line.where).integer("step") > from_step) continue;
      kept.push_back(line.text);
    }
  }
  out_.open(path, std::ios::trunc);
  if (!out_) fail("{}: cannot open for writing", path);
  for (const auto& line : kept) out_ << line << "\n";
  out_.flush();
}

void MetricsLog::record(const StepMetrics& m, int64_t log_every) {
  nlohmann::json j = {{"step", m.step},
                      {"epoch", m.epoch},
                      {"loss", m.loss},
                      {"ce", m.ce},
                      {"vista", m.vista},
                      {"similarity", m.similarity},
                      {"lr", m.lr},
                      {"grad_norm", m.grad_norm},
                      {"tokens", m.tokens},
                      {"samples", m.samples},
                      {"bad_samples", m.bad_samples},
                      {"aligned", m.aligned},
                      {"elapsed_s", m.elapsed_s},
                      {"comm_wait_s", m.comm_wait_s},
                      {"data_wait_s", m.data_wait_s}};
  if (m.tau >= 0) {
    j["sea"] = m.sea;
    j["tau"] = m.tau;
    j["sea_pairs"] = m.sea_pairs;
    j["sea_drawn"] = m.sea_drawn;
  }
  out_ << j.dump() << "\n";
  out_.flush();
  if (first_step_ < 0) first_step_ = m.step - 1;
  tokens_since_start_ += m.tokens;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double steps_per_s = (m.step - first_step_) / std::max(wall, 1e-9);
  const double eta = (total_steps_ - m.step) / std::max(steps_per_s, 1e-9);
  const auto sea = m.tau >= 0 ? fmt::format("  sea {:.4f} tau {:.3f} pairs {}", m.sea, m.tau, m.sea_pairs) : "";
  const auto line = fmt::format(
      "step {}/{}  loss {:.4f}  ce {:.4f}  vista {:.4f}  sim {:.4f}{}  lr {:.2e}  gnorm {:.3f}  {:.0f} tok/s  ETA "
      "{:.0f}s",
      m.step, total_steps_, m.loss, m.ce, m.vista, m.similarity, sea, m.lr, m.grad_norm,
      tokens_since_start_ / std::max(wall, 1e-9), eta);
  if (tty_) {
    fmt::print(stderr, "\r{}\x1b[K", line);
  } else if (m.step % std::max<int64_t>(1, log_every) == 0 || m.step == total_steps_) {
    fmt::print(stderr, "{}\n", line);
  }
}

void MetricsLog::finish() {
  if (tty_) fmt::print(stderr, "\n");
  out_.flush();
}

}  // namespace vista::train
