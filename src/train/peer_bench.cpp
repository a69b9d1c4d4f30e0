#include "train/peer_bench.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>

#include "util/error.h"
#include "util/measure.h"
#include "util/peer_process.h"

namespace vista::train {

nlohmann::json run_peer_bench(const std::string& peer_dir, const std::string& config_path, int threads) {
  return run_peer_script(peer_dir, "peer_train_step.py",
                         fmt::format("--config {} --threads {}", shell_quoted(config_path), threads));
}

double measure_gemm_gflops(int64_t n) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  const auto a = torch::randn({n, n}), b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up
  std::vector<double> seconds;
  for (int i = 0; i < 7; ++i) {
    const auto start = std::chrono::steady_clock::now();
    c = torch::mm(a, b);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return 2.0 * static_cast<double>(n * n * n) / median(seconds) / 1e9;
}

nlohmann::json peer_comparison(const StepBenchResult& vista, double vista_user_s, double vista_sys_s,
                               const nlohmann::json& peer) {
  if (vista.profile.is_null()) fail("peer_comparison: vista's result has no profile (its FLOP count and GEMM rate)");
  const double gemm_gflops = vista.profile.at("machine_gemm_gflops").get<double>();
  const double step_gflop = vista.profile.at("gemm_gflop").get<double>();
  const double peer_step = peer.at("step_s_median").get<double>(), peer_rss = peer.at("peak_rss_mb").get<double>();
  const double peer_user = peer.at("user_s_per_step").get<double>(), peer_sys = peer.at("sys_s_per_step").get<double>();
  return {{"bench", "train"},
          {"config", vista.name},
          {"gemm_gflops", gemm_gflops},
          {"gemm_gflop_per_step", step_gflop},
          {"vista",
           {{"step_s_median", vista.vista_step_s},
            {"peak_rss_mb", vista.peak_rss_mb},
            {"kernel_share_of_cpu_time", vista_sys_s / (vista_user_s + vista_sys_s)},
            {"share_of_gemm_rate", step_gflop / vista.vista_step_s / gemm_gflops}}},
          {"peer",
           {{"what", peer.at("peer")},
            {"step_s_median", peer_step},
            {"peak_rss_mb", peer_rss},
            {"kernel_share_of_cpu_time", peer_sys / (peer_user + peer_sys)},
            {"share_of_gemm_rate", step_gflop / peer_step / gemm_gflops}}},
          {"speedup_over_peer", peer_step / vista.vista_step_s},
          {"rss_over_peer", vista.peak_rss_mb / peer_rss}};
}

}  // namespace vista::train
