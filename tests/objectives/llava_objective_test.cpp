// The training objective against the official LLaVA-VISTA and TinyLLaVA-VISTA code (oracle_v1):
// its total loss and every gradient the fixture holds, for CE + VISTA-l2, CE - VISTA-cosine and
// CE alone. The objective runs the LLM's last layer only where its losses read the hidden
// states (objectives/read_positions.h); the fixtures were made from the whole model.
#include "fixtures/compare.h"
#include "fixtures/manifest.h"
#include "models/model_loading.h"
#include "objectives/llava_objective.h"
#include "objectives/read_positions.h"
#include "test_util.h"

using namespace vista;

namespace {

struct Arm {
  std::string loss;         // the fixture's expected loss tensor
  std::string grad_prefix;  // its elementwise gradients; `<prefix>stats.` holds [norm, sum, max|g|]
  objectives::ObjectiveOptions options;
};

void expect_matches(const fixtures::FixtureCase& c, const std::string& name, const torch::Tensor& actual) {
  for (const auto& spec : c.specs) {
    if (spec.name != name) continue;
    const auto r = fixtures::compare_tensor(spec, c.input(name), actual.detach().cpu());
    EXPECT_TRUE(r.pass) << c.name << " " << name << ": max |error| " << r.max_abs_error << " allowed " << r.allowed
                        << " " << r.problem;
    return;
  }
  ADD_FAILURE() << c.name << ": the manifest has no tensor " << name;
}

void check_case(const std::string& case_name) {
  const auto relative = "oracle_v1/" + case_name + "/manifest.json";
  if (!have_shared_fixtures(relative)) GTEST_SKIP() << shared_fixtures_missing(relative);
  const auto c = fixtures::load_fixture_case(shared_fixtures(relative));
  models::LoadOptions load;
  if (c.manifest.contains("vision_tower_dir")) load.vision_tower_dir = c.path_field("vision_tower_dir");
  auto model = models::load_multimodal(c.path_field("model_dir"), load);
  const objectives::MultimodalBatch batch{c.input("input.input_ids"), c.input("input.attention_mask"),
                                          c.input("input.labels"), c.input("input.pixel_values")};

  std::vector<std::string> keys;
  std::vector<torch::Tensor> params;
  const auto layout = models::checkpoint_layout(model->config());
  for (const auto& p : model->named_parameters()) {
    if (p.key().rfind("vision_tower.", 0) == 0) continue;  // frozen in the recipe
    keys.push_back(layout.map(p.key()));
    params.push_back(p.value());
  }
  ASSERT_FALSE(params.empty());

  std::vector<Arm> arms(3);
  arms[0] = {"loss.total_l2", "grad_l2", {}};
  arms[1] = {"loss.total_cos", "grad_cos", {}};
  arms[1].options.vista.method = losses::VistaMethod::kCosine;
  // LLaVA-VISTA weights cosine by t, TinyLLaVA-VISTA by t/m (docs/method.md §3.2).
  arms[1].options.vista.weight =
      model->config().layout == io::Layout::kOfficialLlava ? losses::VistaWeight::kT : losses::VistaWeight::kTOverM;
  arms[2] = {"loss.ce", "grad_ce", {}};
  arms[2].options.vista_enabled = false;

  for (const auto& arm : arms) {
    const auto terms = objectives::llava_objective(*model, batch, arm.options);
    expect_matches(c, arm.loss, terms.total);
    const auto grads = torch::autograd::grad({terms.total}, params, {}, false, false, /*allow_unused=*/true);
    size_t compared = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      const auto g = grads[i].defined() ? grads[i] : torch::zeros_like(params[i]);
      if (c.has_tensor(arm.grad_prefix + "." + keys[i])) {
        expect_matches(c, arm.grad_prefix + "." + keys[i], g);
        ++compared;
      }
      const auto stats = arm.grad_prefix + "stats." + keys[i];
      if (c.has_tensor(stats)) {
        expect_matches(c, stats, torch::stack({g.norm(), g.sum(), g.abs().max()}).to(torch::kFloat32));
        ++compared;
      }
    }
    EXPECT_GE(compared, keys.size()) << c.name << " " << arm.grad_prefix << ": every trainable tensor has stats";
  }
}

}  // namespace

TEST(LlavaObjective, LlamaLossAndGradientsMatchOfficialLlavaVista) { check_case("llava_vista"); }

TEST(LlavaObjective, PhiLossAndGradientsMatchOfficialTinyLlavaVista) { check_case("tinyllava_vista"); }

// A sample's read positions: supervised ones in order, the last image token once, the rest padded.
TEST(LlavaObjective, ReadPositionsListSupervisedTokensAndTheLastImageToken) {
  // Sample 0: labels at 3 and 4 (read at 2 and 3), image ends at 1. Sample 1: label at 2 (read at
  // 1), last image token 1 as well. Sample 2: nothing supervised, no image.
  const auto labels =
      torch::tensor({-100, -100, -100, 7, 8, -100, -100, 9, -100, -100, -100, -100, -100, -100, -100}, torch::kInt64)
          .view({3, 5});
  const auto read = objectives::read_positions(labels, torch::tensor({1, 1, -1}, torch::kInt64));
  EXPECT_TRUE(torch::equal(read.positions_BN, torch::tensor({1, 2, 3, 1, 1, 1, 0, 0, 0}, torch::kInt64).view({3, 3})));
  EXPECT_TRUE(torch::equal(read.ce_rows_R, torch::tensor({1, 2, 3}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(read.targets_R, torch::tensor({7, 8, 9}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(read.last_image_n_B, torch::tensor({0, 0, -1}, torch::kInt64)));
  expect_error_containing(
      [&] {
        objectives::read_positions(labels, torch::tensor({1, 9, -1}, torch::kInt64));
      },
      {"sample 1", "at 9", "T=5"});
  expect_error_containing(
      [&] {
        objectives::read_positions(labels.view({-1}), torch::tensor({1, 1, -1}));
      },
      {"labels [15]", "[B, T]"});
}
