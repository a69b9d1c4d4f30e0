// The attention core in query blocks (blocked_attention.h) against the plain expression written out
// here, HF's eager core: the same output and gradients up to float32 rounding, for causal masks with
// left and right padding (rows that see no key included), strided operands and every subset of
// inputs that needs a gradient; and the blocks it picks from a mask.
#include <fmt/format.h>

#include <array>

#include "models/attention_block_kernel.h"
#include "models/blocked_attention.h"
#include "models/layers.h"
#include "test_util.h"

using namespace vista::models;

namespace {

torch::Tensor fresh_leaf(const torch::Tensor& t) { return t.detach().clone().requires_grad_(true); }

std::vector<std::array<int64_t, 3>> as_triples(const std::vector<QueryBlock>& blocks) {
  std::vector<std::array<int64_t, 3>> out;
  for (const auto& b : blocks) out.push_back({b.first_row, b.rows, b.keys});
  return out;
}

torch::Tensor plain_core(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                         const torch::Tensor& mask) {
  auto scores = torch::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(q.size(-1))) + mask;
  return torch::matmul(torch::softmax(scores, -1, torch::kFloat32), v);
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double diff = (a - b).abs().max().item<double>();
  EXPECT_LT(diff, 2e-6) << what << ": max difference " << diff;
}

}  // namespace

TEST(BlockedAttention, BlocksReachTheLastKeyARowMaySee) {
  const auto causal = causal_padding_mask(torch::ones({2, 10}), 10, 0, torch::kFloat32);
  using Blocks = std::vector<std::array<int64_t, 3>>;
  EXPECT_EQ(as_triples(query_blocks(causal, 4)), (Blocks{{0, 4, 4}, {4, 4, 8}, {8, 2, 10}}));
  // Right padding: no row looks past the last real key.
  const auto right = causal_padding_mask(torch::tensor({{1, 1, 1, 1, 1, 1, 0, 0, 0, 0}}), 10, 0, torch::kFloat32);
  EXPECT_EQ(as_triples(query_blocks(right, 4)), (Blocks{{0, 4, 4}, {4, 4, 6}, {8, 2, 6}}));
  // Left padding in the second sample: its rows 0 and 1 see no key, and HF's softmax spreads them
  // over all of them, so their block takes every key.
  const auto left = causal_padding_mask(torch::tensor({{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1, 1, 1, 1}}),
                                        10, 0, torch::kFloat32);
  EXPECT_EQ(as_triples(query_blocks(left, 4)), (Blocks{{0, 4, 10}, {4, 4, 8}, {8, 2, 10}}));
  // A mask that hides nothing: one block of everything per rows_per_block.
  EXPECT_EQ(as_triples(query_blocks(torch::zeros({1, 1, 5, 7}), 3)), (Blocks{{0, 3, 7}, {3, 2, 7}}));
  expect_error_containing([&] { query_blocks(causal.to(torch::kFloat64), 4); }, {"float32 mask", "Double"});
  expect_error_containing([&] { query_blocks(causal, 0); }, {"rows_per_block = 0"});
}

TEST(BlockedAttention, MatchesThePlainCoreForPaddedMasksStridedOperandsAndPartialGradients) {
  torch::manual_seed(11);
  const int64_t B = 2, H = 3, T = 11, D = 8;
  // Heads transposed out of [B, T, H, D], as the decoders make them.
  const auto q = torch::randn({B, T, H, D}).transpose(1, 2), k = torch::randn({B, T, H, D}).transpose(1, 2);
  const auto v = torch::randn({B, T, H, D}).transpose(1, 2);
  const auto w = torch::randn({B, H, T, D});
  const auto valid = torch::tensor({{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}});
  const auto mask = causal_padding_mask(valid, T, 0, torch::kFloat32);
  const auto blocks = query_blocks(mask, 3);
  ASSERT_EQ(blocks.size(), 4u);
  ASSERT_LT(blocks[1].keys, T);  // some block skips keys, or the test would not test the skipping
  for (const auto& needs : std::vector<std::array<bool, 3>>{
           {true, true, true}, {false, false, true}, {true, false, false}, {false, true, false}, {false, true, true}}) {
    const std::string what =
        fmt::format("inputs needing a gradient (q k v) {:d}{:d}{:d}", needs[0], needs[1], needs[2]);
    auto input = [](const torch::Tensor& t, bool grad) { return grad ? fresh_leaf(t) : t; };
    std::vector<torch::Tensor> plain_in{input(q, needs[0]), input(k, needs[1]), input(v, needs[2])};
    std::vector<torch::Tensor> blocked_in{input(q, needs[0]), input(k, needs[1]), input(v, needs[2])};
    const auto plain = plain_core(plain_in[0], plain_in[1], plain_in[2], mask);
    const auto blocked = blocked_attention(blocked_in[0], blocked_in[1], blocked_in[2], mask, std::sqrt(8.0), blocks);
    expect_close(blocked, plain, "output, " + what);
    std::vector<torch::Tensor> plain_wanted, blocked_wanted;
    for (size_t i = 0; i < 3; ++i)
      if (needs[i]) plain_wanted.push_back(plain_in[i]), blocked_wanted.push_back(blocked_in[i]);
    const auto plain_grads = torch::autograd::grad({(plain * w).sum()}, plain_wanted);
    const auto blocked_grads = torch::autograd::grad({(blocked * w).sum()}, blocked_wanted);
    for (size_t i = 0; i < plain_grads.size(); ++i)
      expect_close(blocked_grads[i], plain_grads[i], fmt::format("gradient {}, {}", i, what));
  }
  expect_error_containing(
      [&] {
        blocked_attention(q, k, v, mask, std::sqrt(8.0), {{0, 3, 3}, {4, 7, 11}});
      },
      {"does not continue rows [0, 3)"});
  expect_error_containing(
      [&] {
        blocked_attention(q, k, v, mask, std::sqrt(8.0), {{0, 3, 3}});
      },
      {"cover 3 of 11 query rows"});
}

// The kernel's other inputs: one mask for every sample, an operand BLAS cannot read in place (a
// column stride of 2: copied), rows long enough for the softmax's vector loop, and operands it
// cannot take, refused with the reason.
TEST(BlockedAttention, TakesBroadcastMasksAndStridedColumnsAndNamesOperandsItCannotTake) {
  torch::manual_seed(17);
  const int64_t B = 2, H = 2, T = 40, D = 16;
  const auto q_storage = torch::randn({B, H, T, 2 * D});
  const auto q = q_storage.slice(3, 0, 2 * D, 2);  // every other column
  const auto k = torch::randn({B, H, T, D}), v = torch::randn({B, T, H, D}).transpose(1, 2);
  const auto w = torch::randn({B, H, T, D});
  const auto mask = causal_padding_mask(torch::ones({1, T}), T, 0, torch::kFloat32);
  ASSERT_EQ(mask.size(0), 1);
  const auto blocks = query_blocks(mask, 16);
  ASSERT_EQ(as_triples(blocks), (std::vector<std::array<int64_t, 3>>{{0, 16, 16}, {16, 16, 32}, {32, 8, 40}}));
  const std::vector<torch::Tensor> plain_in{fresh_leaf(q), fresh_leaf(k), fresh_leaf(v)};
  const std::vector<torch::Tensor> blocked_leaves{fresh_leaf(q_storage), fresh_leaf(k), fresh_leaf(v)};
  const auto blocked_q = blocked_leaves[0].slice(3, 0, 2 * D, 2);
  ASSERT_EQ(blocked_q.stride(3), 2);
  const auto plain = plain_core(plain_in[0], plain_in[1], plain_in[2], mask);
  const auto blocked =
      blocked_attention(blocked_q, blocked_leaves[1], blocked_leaves[2], mask, std::sqrt(16.0), blocks);
  expect_close(blocked, plain, "output");
  const auto plain_grads = torch::autograd::grad({(plain * w).sum()}, plain_in);
  const auto blocked_grads = torch::autograd::grad({(blocked * w).sum()}, blocked_leaves);
  expect_close(blocked_grads[0].slice(3, 0, 2 * D, 2), plain_grads[0], "gradient of q");
  EXPECT_TRUE(blocked_grads[0].slice(3, 1, 2 * D, 2).eq(0).all().item<bool>());
  expect_close(blocked_grads[1], plain_grads[1], "gradient of k");
  expect_close(blocked_grads[2], plain_grads[2], "gradient of v");

  expect_error_containing([&] { blocked_attention(q.to(torch::kFloat64), k, v, mask, 4.0, blocks); },
                          {"blocked_attention", "expected float32 CPU tensors", "Double"});
  expect_error_containing([&] { blocked_attention(q, k, v.narrow(2, 0, T - 1), mask, 4.0, blocks); },
                          {"blocked_attention", "[2, 2, 39, 16]", "expected [B, H, T, D], [B, H, S, D]"});
}

// The decoders' core takes the blocks in training where they pay, and stays the plain core where
// they do not: below two blocks of rows, without a mask that hides keys, without a graph.
TEST(BlockedAttention, DecodersRunInBlocksWhereTheyPay) {
  torch::manual_seed(13);
  auto core_name = [](int64_t T, const torch::Tensor& mask, bool grad) {
    const auto q = torch::randn({1, 2, T, 4}).requires_grad_(grad);
    const auto k = torch::randn({1, 2, T, 4}), v = torch::randn({1, 2, T, 4});
    const auto out = attention_scores_after_matmul(q, k, v, mask);
    return out.grad_fn() ? out.grad_fn()->name() : std::string("none");
  };
  auto causal = [](int64_t T) { return causal_padding_mask(torch::ones({1, T}), T, 0, torch::kFloat32); };
  EXPECT_NE(core_name(128, causal(128), true).find("BlockedAttention"), std::string::npos);
  EXPECT_EQ(core_name(127, causal(127), true).find("BlockedAttention"), std::string::npos);
  EXPECT_EQ(core_name(128, torch::zeros({1, 1, 128, 128}), true).find("BlockedAttention"), std::string::npos);
  EXPECT_EQ(core_name(128, causal(128), false), "none");
  const auto q = torch::randn({1, 2, 128, 4}), k = torch::randn({1, 2, 128, 4}), v = torch::randn({1, 2, 128, 4});
  EXPECT_TRUE(
      worthwhile_query_blocks(q.to(torch::kBFloat16), k.to(torch::kBFloat16), v.to(torch::kBFloat16), causal(128))
          .empty());
  EXPECT_EQ(as_triples(worthwhile_query_blocks(q, k, v, causal(128))),
            (std::vector<std::array<int64_t, 3>>{{0, 64, 64}, {64, 64, 128}}));
}

// The backward takes the probabilities the forward kept; recomputing them gives the same bits, so
// keeping them changes the time and the memory of a step, not its gradients.
TEST(BlockedAttention, KeptProbabilitiesGiveTheRecomputedOnesGradientsBitForBit) {
  torch::manual_seed(5);
  const int64_t B = 2, H = 2, T = 40, D = 8;
  const auto q = torch::randn({B, H, T, D}), k = torch::randn({B, H, T, D}), v = torch::randn({B, H, T, D});
  const auto grad_out = torch::randn({B, H, T, D});
  const auto mask = causal_padding_mask(torch::ones({B, T}), T, 0, torch::kFloat32);
  const auto blocks = query_blocks(mask, 16);  // rows x keys: 16 x 16, 16 x 32, 8 x 40
  const auto kept = blocked_attention_forward_kernel(q, k, v, mask, 2.0f, blocks, true);
  ASSERT_EQ(kept.probabilities.numel(), B * H * (16 * 16 + 16 * 32 + 8 * 40));
  const auto plain = blocked_attention_forward_kernel(q, k, v, mask, 2.0f, blocks, false);
  EXPECT_FALSE(plain.probabilities.defined());
  EXPECT_TRUE(torch::equal(kept.out_BTHD, plain.out_BTHD));
  // Pair (1, 0)'s second block, row 3: a probability row of the causal mask, 32 keys long.
  const auto row = kept.probabilities.narrow(0, (1 * H + 0) * 1088 + 16 * 16 + 3 * 32, 32);
  EXPECT_NEAR(row.sum().item<double>(), 1.0, 1e-6);
  EXPECT_TRUE(torch::equal(row.narrow(0, 20, 12), torch::zeros({12})));  // row 19 sees keys [0, 20)
  const auto from_kept =
      blocked_attention_backward_kernel(q, k, v, mask, 2.0f, blocks, grad_out, true, true, true, kept.probabilities);
  const auto recomputed =
      blocked_attention_backward_kernel(q, k, v, mask, 2.0f, blocks, grad_out, true, true, true, torch::Tensor());
  EXPECT_TRUE(torch::equal(from_kept.q_BHTD, recomputed.q_BHTD));
  EXPECT_TRUE(torch::equal(from_kept.k_BHSD, recomputed.k_BHSD));
  EXPECT_TRUE(torch::equal(from_kept.v_BHSD, recomputed.v_BHSD));
  expect_error_containing(
      [&] {
        blocked_attention_backward_kernel(q, k, v, mask, 2.0f, blocks, grad_out, true, true, true,
                                          kept.probabilities.narrow(0, 0, 100));
      },
      {"100 kept probabilities for 4 pairs of 1088 each"});
}
