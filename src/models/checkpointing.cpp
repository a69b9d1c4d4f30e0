#include "models/checkpointing.h"

#include <ATen/core/ivalue.h>

#include <atomic>

#include "models/layers.h"
#include "runtime/torch_compat.h"

namespace vista::models {

namespace {

std::atomic<int64_t> g_recomputations{0};
std::atomic<int64_t> g_attention_recomputations{0};
// True on the thread that is recomputing a checkpointed block in backward.
thread_local bool t_recomputing_block = false;
struct RecomputingBlock {
  RecomputingBlock() { t_recomputing_block = true; }
  ~RecomputingBlock() { t_recomputing_block = false; }
};

// The autocast state of the forward, re-applied while the block is recomputed in backward (the
// backward runs outside the caller's autocast scope; without this a bf16 forward would be
// recomputed in float32 and the gradients would not belong to the forward).
struct AutocastState {
  bool cpu = false, cuda = false;
  at::ScalarType cpu_dtype = at::kBFloat16, cuda_dtype = at::kBFloat16;
  static AutocastState current() {
    AutocastState s;
    s.cpu = compat::autocast_enabled(c10::DeviceType::CPU);
    s.cuda = compat::autocast_enabled(c10::DeviceType::CUDA);
    s.cpu_dtype = compat::autocast_dtype(c10::DeviceType::CPU);
    s.cuda_dtype = compat::autocast_dtype(c10::DeviceType::CUDA);
    return s;
  }
  void apply() const {
    compat::set_autocast(c10::DeviceType::CPU, cpu, cpu_dtype);
    compat::set_autocast(c10::DeviceType::CUDA, cuda, cuda_dtype);
  }
};

class ScopedAutocast {
 public:
  explicit ScopedAutocast(const AutocastState& s) : previous_(AutocastState::current()) { s.apply(); }
  ~ScopedAutocast() {
    previous_.apply();
    compat::autocast_clear_cache();
  }

 private:
  AutocastState previous_;
};

struct BlockHolder : torch::CustomClassHolder {
  explicit BlockHolder(BlockFn f) : fn(std::move(f)), autocast(AutocastState::current()) {}
  BlockFn fn;
  AutocastState autocast;
};

class CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
                               c10::intrusive_ptr<BlockHolder> block) {
    ctx->save_for_backward({x});
    ctx->saved_data["block"] = c10::IValue::make_capsule(block);
    torch::NoGradGuard no_grad;
    return block->fn(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto x = ctx->get_saved_variables()[0];
    const auto block = c10::static_intrusive_pointer_cast<BlockHolder>(ctx->saved_data["block"].toCapsule());
    auto input = x.detach().requires_grad_(true);
    torch::Tensor output;
    {
      torch::AutoGradMode enable(true);
      ScopedAutocast autocast(block->autocast);
      RecomputingBlock marker;
      output = block->fn(input);
    }
    ++g_recomputations;
    // Re-entrant backward: parameter gradients accumulate into .grad like any backward.
    torch::autograd::backward({output}, {grad_outputs[0]});
    return {input.grad(), torch::Tensor()};
  }
};

struct AttentionHolder : torch::CustomClassHolder {
  explicit AttentionHolder(AttentionCoreFn f) : fn(std::move(f)), autocast(AutocastState::current()) {}
  AttentionCoreFn fn;
  AutocastState autocast;
};

class RecomputedAttention : public torch::autograd::Function<RecomputedAttention> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor q, torch::Tensor k, torch::Tensor v,
                               c10::intrusive_ptr<AttentionHolder> core) {
    ctx->save_for_backward({q, k, v});
    ctx->saved_data["core"] = c10::IValue::make_capsule(core);
    return core->fn(q, k, v);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto core = c10::static_intrusive_pointer_cast<AttentionHolder>(ctx->saved_data["core"].toCapsule());
    std::vector<torch::Tensor> inputs, wanted;
    for (size_t i = 0; i < 3; ++i) {
      inputs.push_back(saved[i].detach().requires_grad_(ctx->needs_input_grad(i)));
      if (ctx->needs_input_grad(i)) wanted.push_back(inputs.back());
    }
    torch::autograd::variable_list grads;
    {
      torch::AutoGradMode enable(true);
      ScopedAutocast autocast(core->autocast);
      const auto output = core->fn(inputs[0], inputs[1], inputs[2]);
      grads = torch::autograd::grad({output}, wanted, {grad_outputs[0]});
    }
    ++g_attention_recomputations;
    torch::autograd::variable_list result(4);
    for (size_t i = 0, next = 0; i < 3; ++i)
      if (ctx->needs_input_grad(i)) result[i] = grads[next++];
    return result;
  }
};

}  // namespace

torch::Tensor attention_recomputed_in_backward(const AttentionCoreFn& core, const torch::Tensor& q_BHTD,
                                               const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD) {
  const bool any_grad = q_BHTD.requires_grad() || k_BHSD.requires_grad() || v_BHSD.requires_grad();
  // A recording sees each layer's probabilities once, so it keeps the plain path.
  if (!torch::GradMode::is_enabled() || !any_grad || t_recomputing_block || AttentionRecording::active())
    return core(q_BHTD, k_BHSD, v_BHSD);
  return RecomputedAttention::apply(q_BHTD, k_BHSD, v_BHSD, c10::make_intrusive<AttentionHolder>(core));
}

int64_t recomputed_blocks() { return g_recomputations.load(); }

int64_t recomputed_attention_cores() { return g_attention_recomputations.load(); }

torch::Tensor checkpointed(const BlockFn& block, const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled()) return block(x);
  return CheckpointFunction::apply(x, c10::make_intrusive<BlockHolder>(block));
}

}  // namespace vista::models
