// The TinyLLaVA fixture checkpoint (TinyLLaVA Factory layout) loads and trains with CE+VISTA in
// both stages under the trainer's stage freezing: the loss falls, every tensor the stage trains
// moves (the whole LLM in stage 2) and the tower never does.
#include "io/safetensors.h"
#include "models/model_loading.h"
#include "objectives/llava_objective.h"
#include "test_util.h"
#include "train/freezing.h"

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
  // The trainer's own stage freezing decides what trains.
  const auto trainable = train::freeze_for_stage(*model, train_llm ? "finetune" : "pretrain", false);
  const auto before = snapshot(*model);
  torch::optim::AdamW optimizer(trainable.all, torch::optim::AdamWOptions(1e-2).weight_decay(0.0));
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
  size_t moved_llm = 0, llm = 0, moved_tower = 0;
  for (const auto& [key, value] : snapshot(*model)) {
    const bool moved = !torch::equal(value, before.at(key));
    const bool is_projector = key.rfind("projector.", 0) == 0, is_llm = key.rfind("language_model.", 0) == 0;
    if (is_projector) {
      EXPECT_TRUE(moved) << key;
    }
    if (is_llm) {
      ++llm;
      moved_llm += moved;
    }
    if (!is_projector && !is_llm) moved_tower += moved;
  }
  ASSERT_GT(llm, 0u);
  EXPECT_EQ(moved_tower, 0u) << "the vision tower is frozen in both stages";
  // Stage 2 moves every LLM tensor (each one receives a gradient); stage 1 none.
  EXPECT_EQ(moved_llm, train_llm ? llm : 0u);
}

}  // namespace

TEST(TinyLlavaTraining, Stage1TrainsProjectorOnly) { run_stage(false); }
TEST(TinyLlavaTraining, Stage2TrainsProjectorAndLlm) { run_stage(true); }
