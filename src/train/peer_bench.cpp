#include "train/peer_bench.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "util/error.h"
#include "util/measure.h"
#include "util/peer_process.h"

namespace vista::train {

namespace {

// A step takes seconds; building, the warm-up and (on first use) installing take minutes. Past
// this, the peer is stuck rather than slow.
constexpr std::chrono::seconds kPeerPatience{20 * 60};

}  // namespace

PairedPeer::PairedPeer(std::string peer_dir, std::string config_path, int rounds)
    : dir_(std::move(peer_dir)), config_path_(std::move(config_path)), rounds_(rounds) {
  if (rounds < 1) fail("--rounds {}: the peer comparison needs at least one round", rounds);
}

void PairedPeer::start(int threads) {
  session_ = std::make_unique<PeerSession>(
      peer_script_command(dir_, "peer_train_step.py",
                          fmt::format("--config {} --threads {} --paired", shell_quoted(config_path_), threads)),
      kPeerPatience);
  const auto ready = session_->reply("its model and warm-up");
  if (!ready.value("ready", false)) fail("the peer's first line should be {{\"ready\": true}}, got {}", ready.dump());
}

double PairedPeer::step() {
  if (!session_) fail("PairedPeer::step before start");
  const auto answer = session_->request("step");
  if (!answer.contains("step_s") || !answer.at("step_s").is_number())
    fail("the peer answered 'step' with {}; expected {{\"step_s\": seconds}}", answer.dump());
  return answer.at("step_s").get<double>();
}

nlohmann::json PairedPeer::finish() {
  if (!session_) fail("PairedPeer::finish before start");
  auto summary = session_->finish("end");
  session_.reset();
  for (const char* key : {"step_s_median", "peak_rss_mb", "user_s_per_step", "sys_s_per_step", "peer"})
    if (!summary.contains(key)) fail("the peer's summary line has no \"{}\": {}", key, summary.dump());
  return summary;
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
  const double step_gflop = vista.profile.at("gemm_gflop").get<double>();
  const double peer_step = peer.at("step_s_median").get<double>(), peer_rss = peer.at("peak_rss_mb").get<double>();
  const double peer_user = peer.at("user_s_per_step").get<double>(), peer_sys = peer.at("sys_s_per_step").get<double>();
  if (vista.peer_round_s.empty() || vista.peer_round_s.size() != vista.vista_round_s.size() ||
      vista.round_gemm_gflops.size() != vista.vista_round_s.size())
    fail("peer_comparison: {} peer steps and {} GEMM rates for {} rounds of vista (bench_train_step with a PairedPeer)",
         vista.peer_round_s.size(), vista.round_gemm_gflops.size(), vista.vista_round_s.size());
  const double gemm_gflops = median(vista.round_gemm_gflops);
  const double vista_step = median(vista.vista_round_s);  // the peer's median is of its paired steps too
  nlohmann::json rounds = nlohmann::json::array();
  std::vector<double> ratios;
  for (size_t i = 0; i < vista.vista_round_s.size(); ++i) {
    ratios.push_back(vista.peer_round_s[i] / vista.vista_round_s[i]);
    rounds.push_back({{"vista_s", vista.vista_round_s[i]},
                      {"peer_s", vista.peer_round_s[i]},
                      {"ratio", ratios.back()},
                      {"gemm_gflops", vista.round_gemm_gflops[i]}});
  }
  return {{"bench", "train"},
          {"config", vista.name},
          {"gemm_gflops", gemm_gflops},
          {"gemm_gflop_per_step", step_gflop},
          {"vista",
           {{"step_s_median", vista_step},
            {"peak_rss_mb", vista.peak_rss_mb},
            {"kernel_share_of_cpu_time", vista_sys_s / (vista_user_s + vista_sys_s)},
            {"share_of_gemm_rate", step_gflop / vista_step / gemm_gflops}}},
          {"peer",
           {{"what", peer.at("peer")},
            {"step_s_median", peer_step},
            {"peak_rss_mb", peer_rss},
            {"kernel_share_of_cpu_time", peer_sys / (peer_user + peer_sys)},
            {"share_of_gemm_rate", step_gflop / peer_step / gemm_gflops}}},
          {"speedup_over_peer", peer_step / vista_step},
          {"rss_over_peer", vista.peak_rss_mb / peer_rss},
          {"rounds", rounds},
          {"speedup_range",
           {*std::min_element(ratios.begin(), ratios.end()), *std::max_element(ratios.begin(), ratios.end())}}};
}

}  // namespace vista::train
