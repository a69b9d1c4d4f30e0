#include "train/op_profile.h"

#include <ATen/record_function.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>

#include "runtime/blas.h"

namespace vista::train {

namespace {

constexpr const char* kPhasePrefix = "vista::";

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

bool is_gemm(const std::string& name) {
  return name == "aten::mm" || name == "aten::addmm" || name == "aten::addmm_" || name == "aten::bmm" ||
         name == "aten::baddbmm" || name == "aten::baddbmm_" || name == "aten::addmv" || name == "aten::mv" ||
         name == "aten::dot" || name == "vista_kernel::mm";
}

// The profiler's FLOPs of a matrix product, or, where it has no formula (the in-place addmm_ and
// baddbmm_ of libtorch 1.13, vista's split mm), 2 x the product of the sizes from the operands' shapes.
uint64_t gemm_flops(const std::string& name, uint64_t profiler_flops, const std::vector<std::vector<int64_t>>& shapes) {
  if (profiler_flops > 0) return profiler_flops;
  if (name == "vista_kernel::mm") {
    if (shapes.size() < 2 || shapes[0].size() != 2 || shapes[1].size() != 2) return 0;
    return static_cast<uint64_t>(2 * shapes[0][0] * shapes[0][1] * shapes[1][1]);
  }
  const bool added = name == "aten::addmm_" || name == "aten::baddbmm_";
  const bool batched = name == "aten::baddbmm_";
  const size_t first = added ? 1 : 0;
  if (!added || shapes.size() < first + 2) return 0;
  const auto &a = shapes[first], &b = shapes[first + 1];
  const size_t rank = batched ? 3 : 2;
  if (a.size() != rank || b.size() != rank) return 0;
  const int64_t batch = batched ? a[0] : 1;
  return static_cast<uint64_t>(2 * batch * a[rank - 2] * a[rank - 1] * b[rank - 1]);
}

}  // namespace

std::string op_kind(const std::string& name) {
  if (is_gemm(name)) return "gemm";
  if (name.rfind("vista_kernel::attention", 0) == 0) return "attention";
  for (const char* pass : {"vista_kernel::rms_norm", "vista_kernel::swiglu"})
    if (name.rfind(pass, 0) == 0) return "elementwise";
  if (contains(name, "log_softmax") || contains(name, "nll_loss") || contains(name, "cross_entropy")) return "loss";
  if (contains(name, "softmax")) return "softmax";
  if (name.rfind("aten::", 0) != 0) return "autograd";  // e.g. MmBackward0, AccumulateGrad
  if (contains(name, "convolution")) return "convolution";
  if (name == "aten::to" || name.rfind("aten::_to_", 0) == 0) return "copy";
  for (const char* copy : {"copy", "cat", "clone", "contiguous", "index", "gather", "scatter", "embedding", "fill_",
                           "zero_", "stack", "pad", "masked", "empty"})
    if (contains(name, copy)) return "copy";
  return "elementwise";
}

ProfilePhase::ProfilePhase(const char* name)
    : scope_(std::make_unique<at::RecordFunction>(at::RecordScope::USER_SCOPE)) {
  if (scope_->isActive()) scope_->before(name);
}

ProfilePhase::~ProfilePhase() = default;

OpProfile profile_ops(const std::function<void()>& work) {
  namespace profiler = torch::autograd::profiler;
  using torch::profiler::impl::ProfilerConfig;
  using torch::profiler::impl::ProfilerState;
  profiler::enableProfilerLegacy(ProfilerConfig(ProfilerState::CPU, /*report_input_shapes=*/true,
                                                /*profile_memory=*/false, /*with_stack=*/false, /*with_flops=*/true));
  const auto start = std::chrono::steady_clock::now();
  const uint64_t kernel_flops_before = sgemm_row_major_flops();
  try {
    work();
  } catch (...) {
    profiler::disableProfilerLegacy();
    throw;
  }
  OpProfile profile;
  profile.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  profile.kernel_gemm_flops = sgemm_row_major_flops() - kernel_flops_before;
  auto threads = profiler::disableProfilerLegacy();

  std::unordered_map<std::string, OpStat> by_name;
  std::map<std::string, std::unordered_map<std::string, OpStat>> by_phase;
  for (auto& events : threads) {
    // Ranges nest within a thread: self time = own time - time of the ranges directly inside.
    struct Open {
      profiler::LegacyEvent* push;
      double children_us = 0;
      std::string phase;
      bool inside_gemm = false;  // a matrix product's own per-matrix products: FLOPs counted once, above
    };
    std::vector<Open> stack;
    for (auto& event : events) {
      if (event.kind() == profiler::EventKind::PushRange) {
        const std::string name = event.name();
        std::string phase = stack.empty() ? "" : stack.back().phase;
        if (phase.empty() && name.rfind(kPhasePrefix, 0) == 0) phase = name.substr(std::strlen(kPhasePrefix));
        const bool inside_gemm = !stack.empty() && (stack.back().inside_gemm || is_gemm(stack.back().push->name()));
        stack.push_back({&event, 0, phase, inside_gemm});
      } else if (event.kind() == profiler::EventKind::PopRange && !stack.empty()) {
        Open open = stack.back();
        stack.pop_back();
        const double total_us = open.push->cpuElapsedUs(event);
        if (!stack.empty()) stack.back().children_us += total_us;
        const std::string name = open.push->name();
        if (name.rfind(kPhasePrefix, 0) == 0) continue;  // a phase, not an operator
        const double self_ms = (total_us - open.children_us) / 1e3;
        const auto phase = open.phase.empty() ? "other" : open.phase;
        const uint64_t flops =
            is_gemm(name) && !open.inside_gemm ? gemm_flops(name, open.push->flops(), open.push->shapes()) : 0;
        for (auto* stat : {&by_name[name], &by_phase[phase][name]}) {
          stat->name = name;
          stat->calls += 1;
          stat->self_ms += self_ms;
          stat->flops += flops;
        }
        profile.phase_ms[phase] += self_ms;
      }
    }
  }
  for (auto& [name, stat] : by_name) {
    profile.kind_ms[op_kind(name)] += stat.self_ms;
    if (is_gemm(name)) {
      profile.gemm_flops += stat.flops;
      profile.gemm_ms += stat.self_ms;
    }
    profile.ops.push_back(std::move(stat));
  }
  const auto by_self_time = [](const OpStat& a, const OpStat& b) { return a.self_ms > b.self_ms; };
  std::sort(profile.ops.begin(), profile.ops.end(), by_self_time);
  for (auto& [phase, stats] : by_phase) {
    auto& ops = profile.phase_ops[phase];
    for (auto& [name, stat] : stats) ops.push_back(std::move(stat));
    std::sort(ops.begin(), ops.end(), by_self_time);
  }
  return profile;
}

nlohmann::json op_profile_json(const OpProfile& profile, size_t top) {
  const auto top_ops = [top](const std::vector<OpStat>& stats) {
    nlohmann::json ops = nlohmann::json::array();
    for (size_t i = 0; i < std::min(top, stats.size()); ++i) {
      const auto& op = stats[i];
      ops.push_back({{"op", op.name}, {"calls", op.calls}, {"self_ms", op.self_ms}, {"kind", op_kind(op.name)}});
    }
    return ops;
  };
  nlohmann::json phase_ops = nlohmann::json::object();
  for (const auto& [phase, stats] : profile.phase_ops) phase_ops[phase] = top_ops(stats);
  return {{"wall_ms", profile.wall_ms},
          {"phase_self_ms", profile.phase_ms},
          {"kind_self_ms", profile.kind_ms},
          {"gemm_gflop", static_cast<double>(profile.all_gemm_flops()) / 1e9},
          {"kernel_gemm_gflop", static_cast<double>(profile.kernel_gemm_flops) / 1e9},
          // The GEMM operators' own rate: the kernels' products share their time with the softmax.
          {"gemm_gflops_achieved", profile.gemm_ms > 0 ? profile.gemm_flops / (profile.gemm_ms * 1e6) : 0.0},
          {"top_ops", top_ops(profile.ops)},
          {"top_ops_by_phase", phase_ops}};
}

}  // namespace vista::train
