#include "dist/grad_buckets.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "util/error.h"

namespace vista::dist {

struct GradientBuckets::State {
  struct Bucket {
    std::vector<size_t> params;  // indices into State::params
    std::vector<int64_t> offsets;
    int64_t numel = 0;
    int64_t start = 0;  // first element in the flat order of all buckets
    size_t ready = 0;
    bool launched = false;
    torch::Tensor flat;
    std::vector<std::unique_ptr<PendingCollective>> pending;
  };

  Communicator* comm = nullptr;
  std::vector<torch::Tensor> params;
  std::vector<size_t> bucket_of_param;
  std::vector<int64_t> owner_bounds;  // empty: allreduce
  std::vector<bool> param_ready;
  std::vector<Bucket> buckets;
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks;
  size_t next_to_launch = 0;
  bool armed = false;
  double wait_seconds = 0;
  std::mutex mutex;  // on CUDA the autograd engine runs hooks on its device threads

  void launch(Bucket& b) {
    for (size_t i = 0; i < b.params.size(); ++i) {
      auto slot = b.flat.narrow(0, b.offsets[i], params[b.params[i]].numel());
      // Launched only once every gradient of the bucket is final (or backward is over), so .grad()
      // holds this rank's whole accumulated gradient; none at all counts as zero.
      const auto& grad = params[b.params[i]].grad();
      if (grad.defined()) slot.copy_(grad.reshape({-1}));
      else slot.zero_();
    }
    if (owner_bounds.empty()) {
      b.pending.push_back(comm->allreduce_sum_async(b.flat));
    } else {
      for (int r = 0; r + 1 < static_cast<int>(owner_bounds.size()); ++r) {
        const int64_t lo = std::max(owner_bounds[r], b.start), hi = std::min(owner_bounds[r + 1], b.start + b.numel);
        if (lo >= hi) continue;
        auto piece = b.flat.narrow(0, lo - b.start, hi - lo);
        b.pending.push_back(comm->reduce_sum_async(piece, r));
      }
    }
    b.launched = true;
  }
  // Buckets start strictly in index order: a later bucket that fills first waits for the earlier.
  void launch_ready_prefix() {
    while (next_to_launch < buckets.size() && buckets[next_to_launch].ready == buckets[next_to_launch].params.size())
      launch(buckets[next_to_launch++]);
  }
  void mark_ready(size_t param) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;
    auto& b = buckets[bucket_of_param[param]];
    if (param_ready[param]) {
      // With reentrant recomputation a parameter can be accumulated more than once per backward;
      // that is fine until its bucket has left.
      if (b.launched)
        fail("gradient of parameter {} arrived again after its bucket was sent; a parameter used in two "
             "recomputed segments cannot be reduced from hooks", param);
      return;
    }
    param_ready[param] = true;
    ++b.ready;
    launch_ready_prefix();
  }
};

namespace {

class ReadyHook : public torch::autograd::FunctionPostHook {
 public:
  ReadyHook(std::weak_ptr<GradientBuckets::State> state, size_t param) : state_(std::move(state)), param_(param) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    if (auto state = state_.lock()) state->mark_ready(param_);
    return outputs;
  }

 private:
  std::weak_ptr<GradientBuckets::State> state_;
  size_t param_;
};

}  // namespace

GradientBuckets::GradientBuckets(Communicator& comm, std::vector<torch::Tensor> params, BucketOptions options)
    : state_(std::make_shared<State>()) {
  auto& s = *state_;
  s.comm = &comm;
  s.params = std::move(params);
  s.bucket_of_param.assign(s.params.size(), 0);
  s.param_ready.assign(s.params.size(), false);
  s.owner_bounds = options.owner_bounds;
  // Reverse registration order approximates the order in which backward produces gradients.
  int64_t flat_offset = 0;
  for (size_t k = s.params.size(); k-- > 0;) {
    const auto& p = s.params[k];
    if (!p.requires_grad() || !p.is_leaf()) fail("gradient buckets: parameter {} is not a trainable leaf", k);
    const double bytes = static_cast<double>(p.numel()) * static_cast<double>(p.element_size());
    bool fresh = s.buckets.empty();
    if (!fresh) {
      const auto& last = s.buckets.back();
      const auto& first = s.params[last.params.front()];
      fresh = first.scalar_type() != p.scalar_type() || first.device() != p.device() ||
              static_cast<double>(last.numel) * static_cast<double>(first.element_size()) + bytes > options.bucket_bytes;
    }
    if (fresh) {
      s.buckets.emplace_back();
      s.buckets.back().start = flat_offset;
    }
    auto& b = s.buckets.back();
    b.params.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
    flat_offset += p.numel();
    s.bucket_of_param[k] = s.buckets.size() - 1;
  }
  if (!s.owner_bounds.empty() && (s.owner_bounds.front() != 0 || s.owner_bounds.back() != flat_offset))
    fail("gradient buckets: owner ranges cover [{}, {}) of {} gradient elements", s.owner_bounds.front(),
         s.owner_bounds.back(), flat_offset);
  for (auto& b : s.buckets) b.flat = torch::empty({b.numel}, s.params[b.params.front()].options().requires_grad(false));
  // The accumulator nodes are kept alive here: a leaf only holds a weak reference to its own,
  // and a new one (without our hook) would be made for the next graph.
  for (size_t k = 0; k < s.params.size(); ++k) {
    auto node = torch::autograd::impl::grad_accumulator(s.params[k]);
    const auto key = node->add_post_hook(std::make_unique<ReadyHook>(state_, k));
    s.hooks.emplace_back(std::move(node), key);
  }
}

GradientBuckets::~GradientBuckets() {
  for (auto& [node, key] : state_->hooks) node->del_post_hook(key);
}

void GradientBuckets::prepare(bool reduce_this_backward) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  auto& s = *state_;
  s.armed = reduce_this_backward;
  s.next_to_launch = 0;
  std::fill(s.param_ready.begin(), s.param_ready.end(), false);
  for (auto& b : s.buckets) {
    b.ready = 0;
    b.launched = false;
    b.pending.clear();
  }
}

void GradientBuckets::finish() {
  auto& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.armed = false;
    while (s.next_to_launch < s.buckets.size()) s.launch(s.buckets[s.next_to_launch++]);
  }
  const auto start = std::chrono::steady_clock::now();
  for (auto& b : s.buckets)
    for (auto& p : b.pending) p->wait();
  s.wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  torch::NoGradGuard no_grad;
  const int rank = s.comm->rank();
  const int64_t own_lo = s.owner_bounds.empty() ? 0 : s.owner_bounds[static_cast<size_t>(rank)];
  const int64_t own_hi = s.owner_bounds.empty() ? INT64_MAX : s.owner_bounds[static_cast<size_t>(rank) + 1];
  for (auto& b : s.buckets) {
    b.pending.clear();
    for (size_t i = 0; i < b.params.size(); ++i) {
      auto& p = s.params[b.params[i]];
      const int64_t lo = b.start + b.offsets[i], hi = lo + p.numel();
      if (hi <= own_lo || lo >= own_hi) {  // ZeRO-2: another rank's gradient
        p.mutable_grad() = torch::Tensor();
        continue;
      }
      const auto summed = b.flat.narrow(0, b.offsets[i], p.numel()).view(p.sizes());
      if (p.grad().defined()) p.mutable_grad().copy_(summed);
      else p.mutable_grad() = summed.clone();
    }
  }
}

size_t GradientBuckets::bucket_count() const { return state_->buckets.size(); }
double GradientBuckets::last_wait_seconds() const { return state_->wait_seconds; }

}  // namespace vista::dist
