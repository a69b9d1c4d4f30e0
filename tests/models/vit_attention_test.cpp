// The vision towers' attention (vit_layer.h) against HF's eager expression written out here from the
// module's own weights: CLIP scales q before q k^T, SigLIP the scores after it. Unmasked float32
// operands run in the block kernel (blocked_attention.h), so the output and the gradients agree up
// to float32 rounding and the kernel's exponential; a masked call (the CLIP text tower's) keeps
// libtorch's ops.
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <unordered_set>

#include "io/hf_config.h"
#include "models/vit_layer.h"
#include "test_util.h"

using namespace vista;
using namespace vista::models;

namespace {

io::VisionConfig config_of(int64_t hidden, int64_t heads) {
  io::VisionConfig c;
  c.hidden_size = hidden;
  c.num_attention_heads = heads;
  c.intermediate_size = 2 * hidden;
  return c;
}

torch::Tensor hf_attention(VitAttention& a, VitAttentionStyle style, int64_t heads, const torch::Tensor& x,
                           const torch::Tensor& mask) {
  const auto b = x.size(0), n = x.size(1), d = x.size(2) / heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  auto split = [&](const torch::Tensor& t) { return t.view({b, n, heads, d}).transpose(1, 2); };
  auto q = split(a->q_proj->forward(x)), k = split(a->k_proj->forward(x)), v = split(a->v_proj->forward(x));
  auto scores = style == VitAttentionStyle::kClip ? torch::matmul(q * scale, k.transpose(2, 3))
                                                  : torch::matmul(q, k.transpose(2, 3)) * scale;
  if (mask.defined()) scores = scores + mask;
  const auto out = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({b, n, heads * d});
  return a->out_proj->forward(out);
}

// The names of the autograd nodes behind t.
std::unordered_set<std::string> graph_node_names(const torch::Tensor& t) {
  std::unordered_set<std::string> names;
  std::unordered_set<const torch::autograd::Node*> seen;
  std::function<void(const std::shared_ptr<torch::autograd::Node>&)> walk = [&](const auto& node) {
    if (!node || !seen.insert(node.get()).second) return;
    names.insert(node->name());
    for (const auto& edge : node->next_edges()) walk(edge.function);
  };
  walk(t.grad_fn());
  return names;
}

bool ran_in_block_kernel(const torch::Tensor& t) {
  for (const auto& name : graph_node_names(t))
    if (name.find("BlockedAttention") != std::string::npos) return true;
  return false;
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

TEST(VitAttention, UnmaskedCoreRunsInTheBlockKernelAndMatchesHfForBothStyles) {
  // Head widths 64 (SigLIP's divisor exact) and 72 (SigLIP so400m's: 1/sqrt(72) rounds); 67
  // positions: blocks of unequal rows.
  for (const auto style : {VitAttentionStyle::kClip, VitAttentionStyle::kSiglip})
    for (const int64_t head_dim : {64, 72}) {
      torch::manual_seed(5 + head_dim);
      const int64_t heads = 2;
      VitAttention attention(config_of(heads * head_dim, heads), style);
      const auto x = torch::randn({3, 67, heads * head_dim}).requires_grad_(true);
      const auto x_ref = x.detach().clone().requires_grad_(true);
      const auto out = attention->forward(x);
      EXPECT_TRUE(ran_in_block_kernel(out));
      const auto expected = hf_attention(attention, style, heads, x_ref, {});
      const auto what =
          std::string(style == VitAttentionStyle::kClip ? "clip" : "siglip") + " d=" + std::to_string(head_dim);
      EXPECT_LT(max_difference(out, expected), 2e-5) << what;

      const auto upstream = torch::randn_like(out);
      const auto params = attention->parameters();
      std::vector<torch::Tensor> inputs{x};
      std::vector<torch::Tensor> inputs_ref{x_ref};
      inputs.insert(inputs.end(), params.begin(), params.end());
      inputs_ref.insert(inputs_ref.end(), params.begin(), params.end());
      const auto grads = torch::autograd::grad({out}, inputs, {upstream});
      const auto grads_ref = torch::autograd::grad({expected}, inputs_ref, {upstream});
      for (size_t i = 0; i < grads.size(); ++i) {
        const double scale = grads_ref[i].abs().max().item<double>();
        EXPECT_LT(max_difference(grads[i], grads_ref[i]), 2e-5 * std::max(1.0, scale)) << what << " gradient " << i;
      }
    }
}

TEST(VitAttention, FrozenTowerRecordsNothingAndMaskedCoreKeepsLibtorchsOps) {
  torch::manual_seed(17);
  VitAttention attention(config_of(128, 2), VitAttentionStyle::kClip);
  const auto x = torch::randn({2, 9, 128});
  {
    torch::NoGradGuard no_grad;
    const auto out = attention->forward(x);
    EXPECT_FALSE(out.requires_grad());
    EXPECT_LT(max_difference(out, hf_attention(attention, VitAttentionStyle::kClip, 2, x, {})), 2e-5);
  }
  const auto causal = torch::triu(torch::full({9, 9}, std::numeric_limits<float>::lowest()), 1).view({1, 1, 9, 9});
  const auto out = attention->forward(x, causal);
  EXPECT_FALSE(ran_in_block_kernel(out));
  EXPECT_LT(max_difference(out, hf_attention(attention, VitAttentionStyle::kClip, 2, x, causal)), 1e-6);
}
