#include "train/optimizer_setup.h"

#include <algorithm>

#include "train/fused_adamw.h"
#include "util/error.h"
#include "runtime/torch_compat.h"

namespace vista::train {

ScheduledAdamW make_adamw(const std::vector<OptimizedSlice>& slices, const OptimSection& o,
                          const std::vector<double>& lr_of_param) {
  auto options = [&](double lr, double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(wd));
  };
  std::vector<double> rates;  // in order of first appearance
  for (const auto& s : slices) {
    const double lr = lr_of_param.empty() ? o.lr : lr_of_param.at(s.param);
    if (std::find(rates.begin(), rates.end(), lr) == rates.end()) rates.push_back(lr);
  }
  ScheduledAdamW out;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (const double lr : rates) {
    std::vector<torch::Tensor> decay, no_decay;
    for (const auto& s : slices)
      if ((lr_of_param.empty() ? o.lr : lr_of_param.at(s.param)) == lr) (s.decay ? decay : no_decay).push_back(s.tensor);
    if (!decay.empty()) {
      groups.emplace_back(decay, options(lr, o.weight_decay));
      out.base_lr.push_back(lr);
    }
    if (!no_decay.empty()) {
      groups.emplace_back(no_decay, options(lr, 0.0));
      out.base_lr.push_back(lr);
    }
  }
  out.adamw = std::make_unique<FusedAdamW>(groups, torch::optim::AdamWOptions(o.lr));
  return out;
}

void ScheduledAdamW::set_lr_factor(double factor) {
  auto& groups = adamw->param_groups();
  for (size_t g = 0; g < groups.size(); ++g)
    static_cast<torch::optim::AdamWOptions&>(groups[g].options()).lr(base_lr[g] * factor);
}

double ScheduledAdamW::lr(size_t group) const {
  return static_cast<const torch::optim::AdamWOptions&>(adamw->param_groups().at(group).options()).lr();
}

namespace {

std::string piece_key(const std::string& name, int64_t start) { return name + "@" + std::to_string(start); }

}  // namespace

void release_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) p.mutable_grad() = torch::Tensor();
}

void zero_missing_gradients(torch::optim::Optimizer& optimizer) {
  const auto& state = optimizer.state();
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (!p.grad().defined() && state.count(compat::optimizer_state_key(p)) > 0)
        p.mutable_grad() = torch::zeros_like(p);
}

std::map<std::string, torch::Tensor> adamw_state_tensors(torch::optim::AdamW& optimizer,
                                                         const std::vector<OptimizedSlice>& slices) {
  std::map<std::string, torch::Tensor> out;
  auto& state = optimizer.state();
  for (const auto& slice : slices) {
    const auto found = state.find(compat::optimizer_state_key(slice.tensor));
    if (found == state.end()) continue;
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*found->second);
    const auto key = piece_key(slice.name, slice.start);
    out[key + ".exp_avg"] = s.exp_avg().detach().reshape({-1}).cpu();
    out[key + ".exp_avg_sq"] = s.exp_avg_sq().detach().reshape({-1}).cpu();
    out[key + ".step"] = torch::full({}, s.step(), torch::kInt64);
  }
  return out;
}

void restore_adamw_state(torch::optim::AdamW& optimizer, const std::vector<OptimizedSlice>& slices,
                         const StatePieces& pieces, const std::string& source) {
  // Saved pieces by parameter name: (start, key prefix).
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> by_name;
  for (const auto& key : pieces.keys) {
    const std::string suffix = ".exp_avg";
    if (key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const auto prefix = key.substr(0, key.size() - suffix.size());
    const auto at = prefix.rfind('@');
    if (at == std::string::npos) fail("{}: optimizer state key '{}' has no '@<start>'", source, key);
    by_name[prefix.substr(0, at)].emplace_back(std::stoll(prefix.substr(at + 1)), prefix);
  }
  auto& state = optimizer.state();
  for (const auto& slice : slices) {
    const auto found = by_name.find(slice.name);
    if (found == by_name.end()) continue;
    const int64_t lo = slice.start, n = slice.tensor.numel();
    auto avg = torch::zeros({n}, torch::kFloat32), sq = torch::zeros({n}, torch::kFloat32);
    int64_t covered = 0, step = -1;
    for (const auto& [start, prefix] : found->second) {
      const auto piece_avg = pieces.read(prefix + ".exp_avg"), piece_sq = pieces.read(prefix + ".exp_avg_sq");
      if (piece_avg.numel() != piece_sq.numel())
        fail("{}: optimizer state '{}' has moments of {} and {} elements", source, prefix, piece_avg.numel(), piece_sq.numel());
      const int64_t a = std::max(lo, start), b = std::min(lo + n, start + piece_avg.numel());
      if (a >= b) continue;
      avg = avg.to(piece_avg.scalar_type());
      sq = sq.to(piece_sq.scalar_type());
      avg.narrow(0, a - lo, b - a).copy_(piece_avg.reshape({-1}).narrow(0, a - start, b - a));
      sq.narrow(0, a - lo, b - a).copy_(piece_sq.reshape({-1}).narrow(0, a - start, b - a));
      covered += b - a;
      step = pieces.read(prefix + ".step").item<int64_t>();
    }
    if (covered == 0) continue;
    if (covered != n)
      fail("{}: optimizer state of '{}' covers {} of the {} elements [{}, {}) (overlapping or missing shards)", source,
           slice.name, covered, n, lo, lo + n);
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(step);
    s->exp_avg(avg.view(slice.tensor.sizes()).to(slice.tensor.options()));
    s->exp_avg_sq(sq.view(slice.tensor.sizes()).to(slice.tensor.options()));
    state[compat::optimizer_state_key(slice.tensor)] = std::move(s);
  }
}

}  // namespace vista::train
