// The TinyLLaVA fixture checkpoint (TinyLLaVA Factory layout) loads and trains with CE+VISTA in
// both stages: the loss falls, and exactly the stage's parameters move.
#include "io/safetensors.h"
#include "models/model_loading.h"
#include "objectives/llava_objective.h"
#include "test_util.h"

using namespace vista;

namespace {

std::map<std::string, torch::Tensor> snapshot(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

void run_stage(bool train_llm) {
  auto model = models::load_multimodal(testdata("oracle_v1/tinyllava_vista/model"));
  const auto t = io::load_safetensors(testdata("oracle_v1/tinyllava_vista/tensors.safetensors"));
  const objectives::MultimodalBatch batch{t.at("input.input_ids"), t.at("input.attention_mask"), t.at("input.labels"),
                                          t.at("input.pixel_values")};
  std::vector<torch::Tensor> trainable;
  for (const auto& p : model->named_parameters()) {
    const bool is_projector = p.key().rfind("projector.", 0) == 0;
    const bool is_llm = p.key().rfind("language_model.", 0) == 0;
    const bool train = is_projector || (train_llm && is_llm);
    p.value().set_requires_grad(train);
    if (train) trainable.push_back(p.value());
  }
  const auto before = snapshot(*model);
  torch::optim::AdamW optimizer(trainable, torch::optim::AdamWOptions(1e-2).weight_decay(0.0));
  objectives::ObjectiveOptions options;  // CE + VISTA l2, t/m (the family default)
  std::vector<double> losses;
  for (int step = 0; step < 6; ++step) {
    optimizer.zero_grad();
    const auto terms = objectives::llava_objective(*model, batch, options);
    ASSERT_TRUE(std::isfinite(terms.total.item<double>()));
    EXPECT_GT(terms.vista.item<double>(), 0.0);
    terms.total.backward();
    optimizer.step();
    losses.push_back(terms.total.item<double>());
  }
  EXPECT_LT(losses.back(), losses.front());
  for (const auto& [key, value] : snapshot(*model)) {
    const bool moved = !torch::equal(value, before.at(key));
    const bool should_move = key.rfind("projector.", 0) == 0 || (train_llm && key.rfind("language_model.", 0) == 0);
    if (!should_move) EXPECT_FALSE(moved) << key;
  }
  EXPECT_FALSE(torch::equal(snapshot(*model).at("projector.0.weight"), before.at("projector.0.weight")));
}

}  // namespace

TEST(TinyLlavaTraining, Stage1TrainsProjectorOnly) { run_stage(false); }
TEST(TinyLlavaTraining, Stage2TrainsProjectorAndLlm) { run_stage(true); }
