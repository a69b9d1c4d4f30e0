#pragma once
// `vista bench train --peer`: the same configuration on the PyTorch + transformers peer
// (bench/peer/peer_train_step.py, in the virtual environment bench/peer/setup_peer.sh makes), run
// right after vista's own bench on the same machine with the same threads, and the ratios.
#include <nlohmann/json.hpp>
#include <string>

#include "train/step_bench.h"

namespace vista::train {

// Runs the peer script in `peer_dir` (bench/peer of a checkout) and returns its JSON line.
nlohmann::json run_peer_bench(const std::string& peer_dir, const std::string& config_path, int threads);

// fp32 GEMM rate of this machine with the current threads: median of n x n x n torch::mm.
double measure_gemm_gflops(int64_t n = 1024);

// One JSON object: both step times, both peak RSS values, CPU time in the kernel, the ratios, the
// machine's GEMM rate and the share of it each side reaches (the step's GEMM FLOPs, the same model
// on both sides, over its step time). `vista` must carry a profile (bench_train_step with profile).
nlohmann::json peer_comparison(const StepBenchResult& vista, double vista_user_s, double vista_sys_s,
                               const nlohmann::json& peer);

}  // namespace vista::train
