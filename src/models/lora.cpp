#include "models/lora.h"

#include <regex>

#include "models/adapted_linear.h"
#include "util/error.h"

namespace vista::models {

namespace {

std::vector<std::regex> compile(const std::vector<std::string>& patterns) {
  std::vector<std::regex> out;
  for (const auto& p : patterns) {
    try {
      out.emplace_back(p, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      fail("train.lora.targets: '{}' is not a regular expression: {}", p, e.what());
    }
  }
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::string> add_lora_adapters(torch::nn::Module& model, const LoraOptions& options) {
  const auto patterns = compile(options.targets);
  std::vector<size_t> hits(patterns.size(), 0);
  std::vector<std::string> adapted;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    const auto& path = item.key();
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (!std::regex_match(path, patterns[i])) continue;
      auto* layer = dynamic_cast<AdaptedLinearImpl*>(item.value().get());
      if (!layer) {
        // Containers (a layer, an attention block) match broad patterns harmlessly; a leaf that is
        // not an AdaptedLinear (a tower or projector Linear, a norm) is what the user must hear about.
        if (item.value()->children().empty())
          fail("train.lora.targets: '{}' matches {}, which cannot carry a LoRA adapter (only the LLM's "
               "projections can)", options.targets[i], path);
        continue;
      }
      ++hits[i];
      if (!layer->has_adapter()) {
        layer->add_adapter(options.r, options.alpha, options.dropout);
        adapted.push_back(path);
      }
    }
  }
  for (size_t i = 0; i < patterns.size(); ++i)
    if (hits[i] == 0) fail("train.lora.targets: '{}' matches no layer of the model", options.targets[i]);
  return adapted;
}

bool is_lora_parameter(const std::string& name) { return ends_with(name, ".lora_A") || ends_with(name, ".lora_B"); }

void merge_lora_adapters(torch::nn::Module& model, const std::map<std::string, torch::Tensor>& adapters,
                         const LoraOptions& options) {
  torch::NoGradGuard no_grad;
  const double scale = options.alpha / static_cast<double>(options.r);
  auto params = model.named_parameters();
  size_t merged = 0;
  for (const auto& [name, a] : adapters) {
    if (!ends_with(name, ".lora_A")) continue;
    const auto path = name.substr(0, name.size() - std::string(".lora_A").size());
    const auto b = adapters.find(path + ".lora_B");
    if (b == adapters.end()) fail("LoRA adapter {} has lora_A but no lora_B", path);
    auto* weight = params.find(path + ".weight");
    if (!weight) fail("LoRA adapter {}: the model has no {}.weight", path, path);
    const auto math = weight->scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
    const auto delta = torch::matmul(b->second.to(math), a.to(math)) * scale;
    if (delta.sizes() != weight->sizes())
      fail("LoRA adapter {}: B A is {} but the weight is {}", path, shape_string(delta.sizes().vec()),
           shape_string(weight->sizes().vec()));
    weight->copy_((weight->to(math) + delta).to(weight->scalar_type()));
    ++merged;
  }
  if (merged == 0) fail("no LoRA adapter to merge");
}

}  // namespace vista::models
