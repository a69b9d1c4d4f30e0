#pragma once
// Where a step's CPU time goes, by operator: libtorch's own profiler (the legacy, CPU one, in both
// libtorch versions) records every operator call of the work it wraps; each call's self time (its
// time minus its child calls') is summed by operator name, by phase (the outermost user scope it
// ran in, e.g. "forward") and by kind (GEMM, softmax, copies, ...). GEMM floating-point operations
// come from the profiler's own FLOP counts of mm/addmm/bmm/baddbmm, and from runtime/blas.h's
// count for the products of vista's own kernels.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace at {
struct RecordFunction;
}

namespace vista::train {

struct OpStat {
  std::string name;
  int64_t calls = 0;
  double self_ms = 0;
  uint64_t flops = 0;
};

struct OpProfile {
  double wall_ms = 0;                                    // the profiled work, end to end
  std::vector<OpStat> ops;                               // by self time, largest first
  std::map<std::string, std::vector<OpStat>> phase_ops;  // the same within each phase
  std::map<std::string, double> phase_ms;                // self time of the operators under each top-level scope
  std::map<std::string, double> kind_ms;                 // self time by operator kind
  uint64_t gemm_flops = 0;                               // matrix-multiply FLOPs (2 per multiply-add)
  double gemm_ms = 0;                                    // self time of the matrix multiplies
  // FLOPs of the products vista's own kernels run through runtime/blas.h (the attention blocks),
  // which are no operators: their time is their kernel's, kind "attention", with its softmax.
  uint64_t kernel_gemm_flops = 0;
  uint64_t all_gemm_flops() const { return gemm_flops + kernel_gemm_flops; }
};

// The kind of an operator, from its name: "gemm", "attention" (vista's attention kernel),
// "convolution", "softmax", "loss", "copy", "elementwise" or "autograd" (the graph's own
// bookkeeping nodes).
std::string op_kind(const std::string& name);

// Runs `work` under the profiler. Operators outside any ProfilePhase count under phase "other".
OpProfile profile_ops(const std::function<void()>& work);

// A user scope: the operators run while it lives count under its phase. `name` is "vista::<phase>",
// a string literal (the profiler keeps the pointer).
class ProfilePhase {
 public:
  explicit ProfilePhase(const char* name);
  ~ProfilePhase();
  ProfilePhase(const ProfilePhase&) = delete;
  ProfilePhase& operator=(const ProfilePhase&) = delete;

 private:
  std::unique_ptr<at::RecordFunction> scope_;
};

// The profile as JSON: wall, phases, kinds, GEMM FLOPs (all, and those of vista's kernels) and the
// GEMM operators' rate, the top `top` operators overall and within each phase.
nlohmann::json op_profile_json(const OpProfile& profile, size_t top = 12);

}  // namespace vista::train
