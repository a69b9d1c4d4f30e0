#include "models/checkpointing.h"

#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/engine.h>

#include <atomic>
#include <utility>

#include "models/blocked_attention.h"
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
  AttentionHolder(AttentionScoresFn f, torch::ScalarType dtype)
      : fn(std::move(f)), probs_dtype(dtype), autocast(AutocastState::current()) {}
  AttentionScoresFn fn;
  torch::ScalarType probs_dtype;
  AutocastState autocast;
  bool autocast_on() const { return autocast.cpu || autocast.cuda; }
};

torch::Tensor probabilities(const torch::Tensor& scores_BHTS, torch::ScalarType dtype) {
  return torch::softmax(scores_BHTS, -1, torch::kFloat32).to(dtype);
}

class RecomputedAttention : public torch::autograd::Function<RecomputedAttention> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor q, torch::Tensor k, torch::Tensor v,
                               c10::intrusive_ptr<AttentionHolder> core) {
    ctx->save_for_backward({q, k, v});
    ctx->saved_data["core"] = c10::IValue::make_capsule(core);
    return torch::matmul(probabilities(core->fn(q, k), core->probs_dtype), v);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto core = c10::static_intrusive_pointer_cast<AttentionHolder>(ctx->saved_data["core"].toCapsule());
    std::vector<torch::Tensor> inputs;
    for (size_t i = 0; i < 3; ++i) inputs.push_back(saved[i].detach().requires_grad_(ctx->needs_input_grad(i)));
    const auto& v_BHSD = inputs[2];
    torch::autograd::variable_list grads;
    {
      torch::AutoGradMode enable(true);
      ScopedAutocast autocast(core->autocast);
      auto scores_BHTS = core->fn(inputs[0], inputs[1]);
      const bool float32 = scores_BHTS.scalar_type() == torch::kFloat32 && core->probs_dtype == torch::kFloat32 &&
                           v_BHSD.scalar_type() == torch::kFloat32;
      if (!float32 || core->autocast_on() || scores_BHTS.dim() != 4 || v_BHSD.dim() != 4 ||
          scores_BHTS.sizes().slice(0, 2) != v_BHSD.sizes().slice(0, 2)) {
        // Casts (of the probabilities, or autocast's of the product's operands) and broadcast batch
        // dimensions each add a step to the backward: there the product is recomputed and autograd
        // differentiates the whole core.
        const auto out = torch::matmul(probabilities(std::exchange(scores_BHTS, {}), core->probs_dtype), v_BHSD);
        std::vector<torch::Tensor> wanted;
        for (size_t i = 0; i < 3; ++i)
          if (ctx->needs_input_grad(i)) wanted.push_back(inputs[i]);
        grads = torch::autograd::grad({out}, wanted, {grad_outputs[0]});
      } else {
        grads = float32_backward(std::move(scores_BHTS), inputs, grad_outputs[0], ctx);
      }
    }
    ++g_attention_recomputations;
    torch::autograd::variable_list result(4);
    for (size_t i = 0, next = 0; i < 3; ++i)
      if (ctx->needs_input_grad(i)) result[i] = grads[next++];
    return result;
  }

 private:
  // The formulas autograd applies to the plain core's bmm (after at::matmul's reshapes) and
  // softmax. What the plain backward frees is freed here at the same point: the scores once the
  // probabilities exist, the probabilities and their gradient before the scores' graph is walked
  // (from its edge, so that the scores themselves are not held). Returns the gradients of q, k, v
  // that are needed.
  static torch::autograd::variable_list float32_backward(torch::Tensor scores_BHTS,
                                                         const std::vector<torch::Tensor>& inputs,
                                                         const torch::Tensor& grad_out_BHTD,
                                                         torch::autograd::AutogradContext* ctx) {
    const bool need_qk = ctx->needs_input_grad(0) || ctx->needs_input_grad(1);
    const auto scores_dtype = scores_BHTS.scalar_type();
    const auto scores_edge = torch::autograd::impl::gradient_edge(scores_BHTS);
    torch::Tensor grad_scores_BHTS, grad_v_BHSD;
    {
      const auto probs_BHTS = probabilities(std::exchange(scores_BHTS, {}).detach(), torch::kFloat32);
      const auto grad_out = as_batched_matrices(grad_out_BHTD);
      if (ctx->needs_input_grad(2))
        grad_v_BHSD = as_batched_matrices(probs_BHTS).transpose(1, 2).bmm(grad_out).view(inputs[2].sizes());
      if (need_qk) {
        const auto grad_probs = grad_out.bmm(as_batched_matrices(inputs[2].detach()).transpose(1, 2));
        grad_scores_BHTS =
            at::_softmax_backward_data(grad_probs.view(probs_BHTS.sizes()), probs_BHTS, -1, scores_dtype);
      }
    }
    torch::autograd::variable_list grads;
    if (need_qk) {
      torch::autograd::edge_list qk;
      for (size_t i = 0; i < 2; ++i)
        if (ctx->needs_input_grad(i)) qk.push_back(torch::autograd::impl::gradient_edge(inputs[i]));
      grads = torch::autograd::Engine::get_default_engine().execute(
          {scores_edge}, {std::exchange(grad_scores_BHTS, {})}, /*keep_graph=*/false, /*create_graph=*/false,
          /*accumulate_grad=*/false, qk);
    }
    if (grad_v_BHSD.defined()) grads.push_back(grad_v_BHSD);
    return grads;
  }
};

}  // namespace

torch::Tensor attention_recomputed_in_backward(const AttentionScoresFn& scores, const torch::Tensor& q_BHTD,
                                               const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD,
                                               torch::ScalarType probs_dtype, const DividedMaskedScores& form) {
  const bool any_grad = q_BHTD.requires_grad() || k_BHSD.requires_grad() || v_BHSD.requires_grad();
  // A recording sees each layer's probabilities once, so it keeps the plain path.
  const auto* recording = AttentionRecording::active();
  if (!torch::GradMode::is_enabled() || !any_grad || t_recomputing_block || recording) {
    const auto probs_BHTS = probabilities(scores(q_BHTD, k_BHSD), probs_dtype);
    if (recording) (*recording)(probs_BHTS.detach());
    return torch::matmul(probs_BHTS, v_BHSD);
  }
  if (form.divisor > 0 && probs_dtype == torch::kFloat32) {
    const auto blocks = worthwhile_query_blocks(q_BHTD, k_BHSD, v_BHSD, form.mask_B1TS);
    if (!blocks.empty()) return blocked_attention(q_BHTD, k_BHSD, v_BHSD, form.mask_B1TS, form.divisor, blocks);
  }
  return RecomputedAttention::apply(q_BHTD, k_BHSD, v_BHSD, c10::make_intrusive<AttentionHolder>(scores, probs_dtype));
}

int64_t recomputed_blocks() { return g_recomputations.load(); }

int64_t recomputed_attention_cores() { return g_attention_recomputations.load(); }

torch::Tensor checkpointed(const BlockFn& block, const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled()) return block(x);
  return CheckpointFunction::apply(x, c10::make_intrusive<BlockHolder>(block));
}

}  // namespace vista::models
