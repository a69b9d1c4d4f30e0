// Continuous batching against the decoding it must reproduce: every request's greedy tokens from
// the engine, run together and joining mid-flight, equal models::generate_multimodal's for that
// request alone (the decoder the reference fixtures check against transformers).
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "data/conversation.h"
#include "data/dataset.h"
#include "data/prompt_tokenizer.h"
#include "image/processor_config.h"
#include "image/tensor.h"
#include "models/generation.h"
#include "serve/api_error.h"
#include "serve/engine.h"
#include "text/tokenizer.h"
#include "train/shapes_training.h"

using namespace vista;
using namespace std::chrono_literals;

namespace {

struct Prompt {
  std::vector<int64_t> ids;
  torch::Tensor pixels_KCHW;  // undefined: text only
};

std::vector<Prompt> prompts() {
  auto& s = shapes_training();
  const auto tokenizer = text::Tokenizer::from_dir(testdata("tokenizers/mistral7b"));
  const auto processor = image::load_processor_config(s.vision + "/preprocessor_config.json");
  const auto tmpl = data::get_template("vicuna_v1");
  std::vector<std::string> images;
  for (const auto& entry : std::filesystem::directory_iterator(s.files.images)) images.push_back(entry.path().string());
  std::sort(images.begin(), images.end());
  const std::vector<std::string> questions = {"What shape is it?", "What color is the shape in the picture here?",
                                              "Describe it.", "Is there a circle? Answer yes or no, please, briefly."};
  std::vector<Prompt> out;
  for (size_t i = 0; i < 6; ++i) {
    const bool has_image = i != 2;  // one text-only request among them
    Prompt p;
    p.ids = data::tokenize_with_images(tokenizer,
                                       data::generation_prompt(tmpl, questions[i % questions.size()], has_image));
    if (has_image)
      p.pixels_KCHW = image::to_tensor(data::load_image(images.at(i), processor, image::AspectMode::kPad)).unsqueeze(0);
    out.push_back(p);
  }
  return out;
}

std::vector<int64_t> alone(models::MultimodalLMImpl& model, const Prompt& p, int64_t max_tokens) {
  models::GenerationOptions options;
  options.max_new_tokens = max_tokens;
  const auto ids = torch::tensor(p.ids, torch::kInt64).unsqueeze(0);
  const auto result = models::generate_multimodal(model, ids, torch::ones_like(ids), p.pixels_KCHW, options);
  const auto row = result.ids_BN[0];
  return std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
}

// The untrained tiny decoder repeats one token whatever it sees; random matrices of unit gain
// make every token depend on the positions and the context, so a wrong mask or position shows.
models::MultimodalLM varied_model() {
  auto model = shapes_fixed_model();
  torch::NoGradGuard no_grad;
  torch::manual_seed(11);
  for (auto& p : model->language_model->parameters())
    if (p.dim() == 2) p.normal_(0, 1.0 / std::sqrt(static_cast<double>(p.size(1))));
  return model;
}

std::vector<int64_t> collect(serve::Generation& g) {
  std::vector<int64_t> tokens;
  int64_t token;
  while (g.next(&token, std::chrono::steady_clock::now() + 60s) == serve::Generation::Next::kToken)
    tokens.push_back(token);
  return tokens;
}

serve::EngineRequest request(const Prompt& p, int64_t max_tokens) {
  serve::EngineRequest r;
  r.prompt_ids = p.ids;
  r.pixels_KCHW = p.pixels_KCHW;
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  return r;
}

}  // namespace

TEST(ServeEngine, RequestsTogetherGetTheTokensTheyGetAlone) {
  auto model = varied_model();
  const auto ps = prompts();
  std::vector<std::vector<int64_t>> expected;
  for (size_t i = 0; i < ps.size(); ++i) expected.push_back(alone(*model, ps[i], 6 + static_cast<int64_t>(i) * 2));

  serve::EngineOptions options;
  options.max_batch = 4;  // six requests: two wait, then join as others leave
  serve::Engine engine(*model, options);
  std::vector<std::shared_ptr<serve::Generation>> running;
  for (size_t i = 0; i < ps.size(); ++i)
    running.push_back(engine.submit(request(ps[i], 6 + static_cast<int64_t>(i) * 2)));
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_EQ(collect(*running[i]), expected[i]) << "request " << i;
    EXPECT_EQ(running[i]->finish_reason(), "length");
  }
  EXPECT_GT(engine.stats().steps, 0);
}

TEST(ServeEngine, ARequestJoiningMidFlightChangesNoOnesTokens) {
  auto model = varied_model();
  const auto ps = prompts();
  const auto long_alone = alone(*model, ps[0], 24), short_alone = alone(*model, ps[3], 5);
  serve::Engine engine(*model, {});
  auto first = engine.submit(request(ps[0], 24));
  std::vector<int64_t> first_tokens;
  int64_t token;
  for (int i = 0; i < 4; ++i) {  // the first request is well under way before the second comes
    ASSERT_EQ(first->next(&token, std::chrono::steady_clock::now() + 60s), serve::Generation::Next::kToken);
    first_tokens.push_back(token);
  }
  auto second = engine.submit(request(ps[3], 5));
  EXPECT_EQ(collect(*second), short_alone);
  for (const auto t : collect(*first)) first_tokens.push_back(t);
  EXPECT_EQ(first_tokens, long_alone);
}

TEST(ServeEngine, CancelledRowsLeaveAndAFullQueueIsA503) {
  auto model = varied_model();
  const auto ps = prompts();
  serve::EngineOptions options;
  options.max_batch = 1;
  options.max_queue = 1;
  serve::Engine engine(*model, options);
  auto running = engine.submit(request(ps[0], 200));
  int64_t token;
  ASSERT_EQ(running->next(&token, std::chrono::steady_clock::now() + 60s), serve::Generation::Next::kToken);
  auto waiting = engine.submit(request(ps[1], 3));  // the batch is full: it waits in the queue
  try {
    engine.submit(request(ps[2], 3));
    ADD_FAILURE() << "a third request fit into a queue of one";
  } catch (const serve::ApiError& e) {
    EXPECT_EQ(e.status(), 503);
  }
  running->cancel();
  collect(*running);
  EXPECT_EQ(running->finish_reason(), "cancelled");
  EXPECT_LT(running->generated(), 200);
  EXPECT_EQ(collect(*waiting).size(), 3u);
  engine.drain();
  EXPECT_THROW(engine.submit(request(ps[0], 1)), serve::ApiError);
}
