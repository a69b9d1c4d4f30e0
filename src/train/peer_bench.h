#pragma once
// `vista bench train --peer`: the same configuration on the PyTorch + transformers peer
// (bench/peer/peer_train_step.py, in the virtual environment bench/peer/setup_peer.sh makes), on
// the same machine with the same threads, its timed steps in turn with vista's, and the ratios.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "train/step_bench.h"
#include "util/peer_process.h"

namespace vista::train {

// The peer script in `peer_dir` (bench/peer of a checkout), driven step by step (its --paired
// mode): bench_train_step starts it before building its own model, so each side builds and warms
// up alone on the cores, and then alternates one step of its own with one of the peer's. Timed
// in turn, a slower or faster minute of a shared machine reaches both sides, where two runs one
// after the other (minutes apart) gave ratios of 1.8x to 2.8x for the same two programs.
class PairedPeer {
 public:
  PairedPeer(std::string peer_dir, std::string config_path, int rounds);
  int rounds() const { return rounds_; }
  // Starts the peer with `threads` and returns once it has built its model and run its warm-up.
  void start(int threads);
  // One timed peer step: its seconds, as the peer measured them.
  double step();
  // Ends the peer: its summary line (step_s_median, peak_rss_mb, CPU time per step, what it is).
  nlohmann::json finish();

 private:
  std::string dir_, config_path_;
  int rounds_ = 0;
  std::unique_ptr<PeerSession> session_;
};

// fp32 GEMM rate of this machine with the current threads: median of n x n x n torch::mm.
double measure_gemm_gflops(int64_t n = 1024);

// One JSON object: both step times, both peak RSS values, CPU time in the kernel, the ratios, the
// machine's GEMM rate and the share of it each side reaches (the step's GEMM FLOPs, the same model
// on both sides, over its step time), and each round's pair of times with its ratio. `vista` must
// carry a profile (bench_train_step with profile) and one peer step a round (with a PairedPeer).
nlohmann::json peer_comparison(const StepBenchResult& vista, double vista_user_s, double vista_sys_s,
                               const nlohmann::json& peer);

}  // namespace vista::train
