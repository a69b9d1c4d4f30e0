// The operator profile that `vista bench train --profile` prints: phases, self times and GEMM FLOPs
// of a computation whose operators and FLOPs are known in advance.
#include "train/op_profile.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/attention_block_kernel.h"
#include "models/layers.h"

namespace vista::train {
namespace {

TEST(OpProfile, CountsGemmFlopsAndSortsOperatorsIntoTheirPhases) {
  torch::manual_seed(0);
  const int64_t m = 48, k = 64, n = 80;
  const auto a = torch::randn({m, k}), b = torch::randn({k, n});
  // Large enough that its own time outweighs the selects libtorch 1.13 may run it with.
  const int64_t bm = 192, bk = 192, bn = 192;
  const auto batch_a = torch::randn({3, bm, bk}), batch_b = torch::randn({3, bk, bn});
  const auto profile = profile_ops([&] {
    {
      ProfilePhase phase("vista::forward");
      torch::mm(a, b);
      torch::softmax(a, 1);
    }
    {
      ProfilePhase phase("vista::optimizer");
      torch::bmm(batch_a, batch_b);
    }
    (a + 1).sum();  // outside any phase
  });
  EXPECT_EQ(profile.gemm_flops, static_cast<uint64_t>(2 * m * k * n + 3 * 2 * bm * bk * bn));
  EXPECT_GT(profile.gemm_ms, 0);
  EXPECT_GT(profile.phase_ms.at("forward"), 0);
  EXPECT_GT(profile.phase_ms.at("optimizer"), 0);
  EXPECT_GT(profile.phase_ms.at("other"), 0);
  EXPECT_EQ(profile.phase_ms.size(), 3u);
  EXPECT_EQ(profile.phase_ms.count("vista::forward"), 0u);  // a phase is never an operator
  EXPECT_GT(profile.kind_ms.at("gemm"), 0);
  EXPECT_GT(profile.kind_ms.at("softmax"), 0);
  double self_sum = 0, phase_sum = 0;
  for (const auto& op : profile.ops) {
    self_sum += op.self_ms;
    EXPECT_GE(op.self_ms, 0) << op.name;
  }
  for (const auto& [phase, ms] : profile.phase_ms) phase_sum += ms;
  EXPECT_NEAR(self_sum, phase_sum, 1e-6);
  EXPECT_LE(self_sum, profile.wall_ms * 1.01);
  for (size_t i = 1; i < profile.ops.size(); ++i) EXPECT_GE(profile.ops[i - 1].self_ms, profile.ops[i].self_ms);
  bool saw_mm = false;
  for (const auto& op : profile.ops)
    if (op.name == "aten::mm") {
      saw_mm = true;
      EXPECT_EQ(op.calls, 1);
      EXPECT_EQ(op.flops, static_cast<uint64_t>(2 * m * k * n));
    }
  EXPECT_TRUE(saw_mm);
  ASSERT_EQ(profile.phase_ops.at("optimizer").front().name, "aten::bmm");  // the phase's only heavy operator
  double optimizer_ms = 0;
  for (const auto& op : profile.phase_ops.at("optimizer")) optimizer_ms += op.self_ms;
  EXPECT_NEAR(optimizer_ms, profile.phase_ms.at("optimizer"), 1e-6);
  const auto json = op_profile_json(profile, 2);
  EXPECT_EQ(json.at("top_ops").size(), 2u);
  EXPECT_EQ(json.at("top_ops_by_phase").size(), 3u);
  EXPECT_DOUBLE_EQ(json.at("gemm_gflop").get<double>(), static_cast<double>(profile.gemm_flops) / 1e9);
}

// An in-place product into a view (blocked attention's accumulation of its key gradients): its
// FLOPs once, though libtorch 1.13 runs it as one addmm_ per matrix, and its time as GEMM time.
TEST(OpProfile, CountsInPlaceBatchedProductsOnce) {
  torch::manual_seed(0);
  const int64_t batch = 3, m = 48, k = 64, n = 80;
  auto out = torch::zeros({batch, m + 5, n});
  const auto a = torch::randn({batch, m, k}), b = torch::randn({batch, k, n});
  const auto profile = profile_ops([&] { out.narrow(1, 0, m).baddbmm_(a, b); });
  EXPECT_EQ(profile.gemm_flops, static_cast<uint64_t>(2 * batch * m * k * n));
  EXPECT_GT(profile.kind_ms.at("gemm"), 0);
  EXPECT_EQ(op_kind("aten::baddbmm_"), "gemm");
  EXPECT_EQ(op_kind("aten::addmm_"), "gemm");
}

TEST(OpProfile, BackwardOperatorsCountUnderTheBackwardPhase) {
  const auto w = torch::randn({32, 32}, torch::requires_grad());
  const auto x = torch::randn({16, 32});
  const auto profile = profile_ops([&] {
    torch::Tensor loss;
    {
      ProfilePhase phase("vista::forward");
      loss = torch::mm(x, w).pow(2).sum();
    }
    ProfilePhase phase("vista::backward");
    loss.backward();
  });
  // forward: x w; backward: grad_w = x^T grad (x needs no gradient, so one mm).
  EXPECT_EQ(profile.gemm_flops, static_cast<uint64_t>(2 * 2 * 16 * 32 * 32));
  EXPECT_GT(profile.phase_ms.at("backward"), 0);
  EXPECT_EQ(profile.phase_ms.count("other"), 0u);
}

// The attention kernel's products go through runtime/blas.h, not through operators: the profile
// takes their FLOPs from its count, and their time is the kernel's own, of kind "attention".
TEST(OpProfile, CountsTheAttentionKernelsProductsFromTheBlasCount) {
  torch::manual_seed(2);
  const int64_t B = 2, H = 3, T = 20, D = 8, Dv = 6;
  const auto q = torch::randn({B, H, T, D}), k = torch::randn({B, H, T, D}), v = torch::randn({B, H, T, Dv});
  const auto mask = models::causal_padding_mask(torch::ones({B, T}), T, 0, torch::kFloat32);
  const auto blocks = models::query_blocks(mask, 8);  // rows x keys: 8 x 8, 8 x 16, 4 x 20
  const auto profile = profile_ops([&] {
    ProfilePhase phase("vista::forward");
    models::blocked_attention_forward_kernel(q, k, v, mask, 2.0f, blocks, false);
  });
  const int64_t per_pair = 2 * (8 * 8 + 8 * 16 + 4 * 20) * (D + Dv);  // scores (x D) and values (x Dv)
  EXPECT_EQ(profile.kernel_gemm_flops, static_cast<uint64_t>(B * H * per_pair));
  EXPECT_EQ(profile.gemm_flops, 0u);
  EXPECT_EQ(profile.all_gemm_flops(), profile.kernel_gemm_flops);
  EXPECT_GT(profile.kind_ms.at("attention"), 0);
  const auto json = op_profile_json(profile);
  EXPECT_DOUBLE_EQ(json.at("gemm_gflop").get<double>(), static_cast<double>(B * H * per_pair) / 1e9);
  EXPECT_DOUBLE_EQ(json.at("kernel_gemm_gflop").get<double>(), static_cast<double>(B * H * per_pair) / 1e9);
}

TEST(OpProfile, OperatorKindsFromNames) {
  EXPECT_EQ(op_kind("aten::addmm"), "gemm");
  EXPECT_EQ(op_kind("aten::bmm"), "gemm");
  EXPECT_EQ(op_kind("aten::_softmax"), "softmax");
  EXPECT_EQ(op_kind("aten::_log_softmax"), "loss");
  EXPECT_EQ(op_kind("aten::nll_loss_forward"), "loss");
  EXPECT_EQ(op_kind("aten::copy_"), "copy");
  EXPECT_EQ(op_kind("aten::cat"), "copy");
  EXPECT_EQ(op_kind("aten::mul"), "elementwise");
  EXPECT_EQ(op_kind("vista_kernel::rms_norm_backward"), "elementwise");
  EXPECT_EQ(op_kind("vista_kernel::swiglu"), "elementwise");
  EXPECT_EQ(op_kind("aten::linalg_vector_norm"), "elementwise");  // "vector" is not a conversion
  EXPECT_EQ(op_kind("aten::_to_copy"), "copy");
  EXPECT_EQ(op_kind("aten::mkldnn_convolution"), "convolution");
  EXPECT_EQ(op_kind("MmBackward0"), "autograd");
  EXPECT_EQ(op_kind("vista_kernel::attention_blocks_backward"), "attention");
}

}  // namespace
}  // namespace vista::train
