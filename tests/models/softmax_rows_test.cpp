// models/softmax_rows.h against libtorch's float32 softmax and its backward: row lengths around and
// past the 8 lanes (the vector loop and the scalar tail), row strides wider than the rows, masked
// keys (HF's lowest float), a row with every key masked (spread evenly, as HF's softmax does), and
// scores far enough below a row's maximum that their probability underflows.
#include "models/softmax_rows.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

namespace vista::models {
namespace {

TEST(SoftmaxRows, MatchesLibtorchsSoftmaxAndItsBackward) {
  torch::manual_seed(3);
  const float lowest = std::numeric_limits<float>::lowest();
  const float divisor = 2.5f;
  for (const int64_t cols : {1, 5, 8, 13, 64, 100}) {
    const int64_t rows = 6, ld = cols + 5;
    const std::string what = fmt::format("{} columns", cols);
    auto scores = torch::randn({rows, ld}) * 6;
    scores[1] = scores[1] * 40;  // differences of hundreds: exp underflows for most of the row
    auto mask = torch::zeros({rows, ld + 2});
    mask.narrow(1, 0, cols).masked_fill_(torch::rand({rows, cols}) < 0.3, lowest);
    mask[2].fill_(lowest);  // a row that may see no key
    const auto s = scores.narrow(1, 0, cols), m = mask.narrow(1, 0, cols);
    const auto expected = torch::softmax(s / divisor + m, -1);

    auto probs = scores.clone();
    masked_softmax_rows(probs.data_ptr<float>(), rows, cols, ld, mask.data_ptr<float>(), mask.stride(0), divisor);
    const auto got = probs.narrow(1, 0, cols);
    EXPECT_TRUE(torch::allclose(got, expected, 1e-6, 1e-7)) << what << "\n" << (got - expected).abs().max();
    EXPECT_TRUE(got.masked_select(expected.eq(0)).eq(0).all().item<bool>()) << what;  // masked keys: exact zeros
    EXPECT_TRUE(torch::allclose(got[2], torch::full({cols}, 1.0f / cols))) << what;
    // Padding past the row is left alone.
    EXPECT_TRUE(torch::equal(probs.narrow(1, cols, ld - cols), scores.narrow(1, cols, ld - cols))) << what;

    auto grad = torch::randn({rows, ld});
    const auto expected_grad =
        at::_softmax_backward_data(grad.narrow(1, 0, cols), expected, -1, torch::kFloat32) / divisor;
    softmax_backward_rows(grad.data_ptr<float>(), probs.data_ptr<float>(), rows, cols, ld, divisor);
    const auto got_grad = grad.narrow(1, 0, cols);
    EXPECT_TRUE(torch::allclose(got_grad, expected_grad, 1e-5, 1e-6)) << what << "\n"
                                                                      << (got_grad - expected_grad).abs().max();
  }
}

}  // namespace
}  // namespace vista::models
