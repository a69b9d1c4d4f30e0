#pragma once
// Vision-to-LLM projectors of LLaVA: `linear`, and `mlp{N}x_gelu` = N Linear layers with exact
// (erf) GELU between them. Linear layers are registered as "0", "2", "4"... exactly where
// nn.Sequential puts them, so the official keys mm_projector.0.*/mm_projector.2.* map 1:1.
#include <torch/torch.h>

#include <string>

namespace vista::models {

class ProjectorImpl : public torch::nn::Module {
 public:
  // type: "linear" or "mlp{N}x_gelu"; in_dim: vision width; out_dim: LLM width.
  ProjectorImpl(const std::string& type, int64_t in_dim, int64_t out_dim);
  torch::Tensor forward(const torch::Tensor& features_BND);
  const std::string& type() const { return type_; }
  int64_t depth() const { return static_cast<int64_t>(linears_.size()); }

 private:
  std::string type_;
  std::vector<torch::nn::Linear> linears_;
};
TORCH_MODULE(Projector);

// Number of Linear layers for a projector type name; throws for unknown names.
int64_t projector_depth(const std::string& type);

}  // namespace vista::models
