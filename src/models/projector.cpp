#include "models/projector.h"

#include <regex>

#include "util/error.h"

namespace vista::models {

int64_t projector_depth(const std::string& type) {
  if (type == "linear") return 1;
  static const std::regex mlp_gelu("^mlp([0-9]+)x_gelu$");
  std::smatch match;
  if (std::regex_match(type, match, mlp_gelu)) {
    const int64_t depth = std::stoll(match[1]);
    if (depth >= 1) return depth;
  }
  fail("unknown mm_projector_type '{}' (expected 'linear' or 'mlp<N>x_gelu', e.g. 'mlp2x_gelu')", type);
}

ProjectorImpl::ProjectorImpl(const std::string& type, int64_t in_dim, int64_t out_dim) : type_(type) {
  const int64_t depth = projector_depth(type);
  for (int64_t i = 0; i < depth; ++i) {
    const int64_t in = i == 0 ? in_dim : out_dim;
    linears_.push_back(register_module(std::to_string(2 * i), torch::nn::Linear(in, out_dim)));
  }
}

torch::Tensor ProjectorImpl::forward(const torch::Tensor& features_BND) {
  auto h = split_linear(features_BND, linears_[0]->weight, linears_[0]->bias);
  for (size_t i = 1; i < linears_.size(); ++i) h = split_linear(torch::gelu(h), linears_[i]->weight, linears_[i]->bias);
  return h;
}

}  // namespace vista::models
