#include "train/data_parallel.h"

#include <chrono>
#include <cmath>

#include "train/freezing.h"
#include "util/error.h"

namespace vista::train {

DataParallel::DataParallel(dist::Communicator* comm, std::vector<torch::Tensor> params, std::vector<std::string> names,
                           int zero, double bucket_mb)
    : comm_(comm), params_(std::move(params)), zero_(comm ? zero : 0), bucket_bytes_(bucket_mb * 1024 * 1024) {
  int64_t total = 0;
  flat_offset_.assign(params_.size(), 0);
  for (size_t k = params_.size(); k-- > 0;) {
    flat_offset_[k] = total;
    total += params_[k].numel();
  }
  const int W = world();
  for (int r = 0; r <= W; ++r) bounds_.push_back(total * r / W);
  for (size_t i = 0; i < params_.size(); ++i) {
    const bool decay = takes_weight_decay(params_[i]);
    if (zero_ == 0) {
      slices_.push_back({i, names[i], 0, params_[i], decay});
      continue;
    }
    if (!params_[i].is_contiguous()) fail("ZeRO needs contiguous parameters; {} is not", names[i]);
    const int64_t lo = std::max(flat_offset_[i], bounds_[rank()]);
    const int64_t hi = std::min(flat_offset_[i] + params_[i].numel(), bounds_[rank() + 1]);
    if (lo >= hi) continue;
    const int64_t start = lo - flat_offset_[i];
    slices_.push_back({i, names[i], start, params_[i].detach().view({-1}).narrow(0, start, hi - lo), decay});
  }
  if (!comm_) return;
  dist::BucketOptions options;
  options.bucket_bytes = bucket_bytes_;
  if (zero_ >= 2) options.owner_bounds = bounds_;
  buckets_ = std::make_unique<dist::GradientBuckets>(*comm_, params_, options);
}

void DataParallel::broadcast_model(models::MultimodalLMImpl& model) {
  if (!comm_) return;
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) comm_->broadcast(p, 0);
  for (auto& b : model.buffers()) comm_->broadcast(b, 0);
}

std::vector<double> DataParallel::sum(const std::vector<double>& values) {
  if (!comm_) return values;
  auto t = torch::tensor(values, torch::kFloat64);
  comm_->allreduce_sum(t);
  const auto* data = t.data_ptr<double>();
  return std::vector<double>(data, data + values.size());
}

void DataParallel::before_backward(bool last_micro_step) {
  if (buckets_) buckets_->prepare(last_micro_step);
}

void DataParallel::reduce_gradients() {
  if (!buckets_) return;
  buckets_->finish();
  if (zero_ == 0) return;
  for (auto& s : slices_) {
    const auto& grad = params_[s.param].grad();
    s.tensor.mutable_grad() = grad.defined() ? grad.view({-1}).narrow(0, s.start, s.tensor.numel()) : torch::Tensor();
  }
}

double DataParallel::clip_gradients(double max_norm) {
  // One process keeps libtorch's own clip (float32 norms), bit for bit what it always did.
  if (!comm_) return torch::nn::utils::clip_grad_norm_(params_, max_norm);
  // Across ranks the norm is accumulated in float64 over the slices each rank updates (the whole
  // model at ZeRO-0), so ZeRO stages agree with each other to rounding.
  torch::NoGradGuard no_grad;
  // Summed on the gradients' device and read once: one host sync per step, not one per parameter.
  torch::Tensor squares;
  for (const auto& s : slices_)
    if (s.tensor.grad().defined()) {
      const auto sq = at::linalg_vector_norm(s.tensor.grad(), 2, c10::nullopt, false, torch::kFloat64).pow(2);
      squares = squares.defined() ? squares + sq : sq;
    }
  const double local = squares.defined() ? squares.item<double>() : 0.0;
  const double norm = std::sqrt(zero_ == 0 ? local : sum({local})[0]);
  const double coefficient = max_norm / (norm + 1e-6);
  if (coefficient < 1)
    for (auto& s : slices_)
      if (s.tensor.grad().defined()) s.tensor.mutable_grad().mul_(coefficient);
  return norm;
}

void DataParallel::clear_gradients() {
  for (auto& s : slices_) s.tensor.mutable_grad() = torch::Tensor();
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
}

void DataParallel::share_updated_parameters() {
  if (!comm_ || zero_ < 1) return;
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  // Each owner's range, in flat pieces of about one bucket; parameters in flat order.
  std::vector<size_t> order(params_.size());
  for (size_t k = 0; k < params_.size(); ++k) order[k] = params_.size() - 1 - k;
  const auto element = static_cast<double>(params_.empty() ? 4 : params_[0].element_size());
  const auto piece = std::max<int64_t>(1, static_cast<int64_t>(bucket_bytes_ / element));
  for (int owner = 0; owner < world(); ++owner)
    for (int64_t lo = bounds_[owner]; lo < bounds_[owner + 1]; lo += piece) {
      const int64_t hi = std::min(lo + piece, bounds_[owner + 1]);
      auto flat = torch::empty({hi - lo}, params_[0].options());
      // The parts of parameters that fall in [lo, hi).
      for (size_t k : order) {
        const int64_t a = std::max(lo, flat_offset_[k]), b = std::min(hi, flat_offset_[k] + params_[k].numel());
        if (a >= b) continue;
        if (owner == rank()) flat.narrow(0, a - lo, b - a).copy_(params_[k].view({-1}).narrow(0, a - flat_offset_[k], b - a));
      }
      comm_->broadcast(flat, owner);
      if (owner == rank()) continue;
      for (size_t k : order) {
        const int64_t a = std::max(lo, flat_offset_[k]), b = std::min(hi, flat_offset_[k] + params_[k].numel());
        if (a >= b) continue;
        params_[k].view({-1}).narrow(0, a - flat_offset_[k], b - a).copy_(flat.narrow(0, a - lo, b - a));
      }
    }
  share_wait_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double DataParallel::last_wait_seconds() const {
  return (buckets_ ? buckets_->last_wait_seconds() : 0.0) + share_wait_s_;
}

}  // namespace vista::train
