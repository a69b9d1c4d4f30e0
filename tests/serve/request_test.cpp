// The request side of `vista serve`: base64, the Chat Completions body, sampling and the streamed
// answer text. No model here.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "serve/answer_text.h"
#include "serve/base64.h"
#include "serve/chat_request.h"
#include "serve/sampling.h"
#include "test_util.h"
#include "text/tokenizer.h"

using namespace vista;
using namespace vista::serve;
using nlohmann::json;

namespace {

const std::string kPixel = std::string("\x89PNG\r\n\x1a\n", 8) + "not really";

json image_part(const std::string& url) { return {{"type", "image_url"}, {"image_url", {{"url", url}}}}; }

json user_with_image(const std::string& text) {
  return {
      {"role", "user"},
      {"content", {{{"type", "text"}, {"text", text}}, image_part("data:image/png;base64," + encode_base64(kPixel))}}};
}

// The status and parameter of the ApiError the body gives.
std::pair<int, std::string> rejection(const json& body, const RequestLimits& limits = {}) {
  try {
    parse_chat_request(body.dump(), limits);
  } catch (const ApiError& e) {
    return {e.status(), e.param()};
  }
  return {0, ""};
}

}  // namespace

TEST(Base64, Rfc4648VectorsAndBadInput) {
  const std::map<std::string, std::string> vectors = {{"", ""},
                                                      {"f", "Zg=="},
                                                      {"fo", "Zm8="},
                                                      {"foo", "Zm9v"},
                                                      {"foob", "Zm9vYg=="},
                                                      {"fooba", "Zm9vYmE="},
                                                      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(encode_base64(plain), encoded);
    EXPECT_EQ(decode_base64(encoded).value_or("<none>"), plain);
  }
  EXPECT_EQ(decode_base64("Zm9vYg").value_or("<none>"), "foob");  // padding is optional
  EXPECT_FALSE(decode_base64("Zm9v!"));
  EXPECT_FALSE(decode_base64("Z"));
  EXPECT_FALSE(decode_base64("Zg=a"));
  EXPECT_FALSE(decode_base64("Zm9v===="));
}

TEST(ChatRequest, ImagesGoFirstInTheirTurnAsTrainingDataHasThem) {
  const json body = {{"model", "m"},
                     {"messages",
                      {{{"role", "system"}, {"content", "Be brief."}},
                       user_with_image("  What shape is it?  "),
                       {{"role", "assistant"}, {"content", "A circle."}},
                       {{"role", "user"}, {"content", "And its colour?"}}}},
                     {"max_tokens", 7},
                     {"temperature", 0},
                     {"seed", 3},
                     {"stop", "\n"},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}}};
  const auto r = parse_chat_request(body.dump(), {});
  EXPECT_EQ(r.system.value_or(""), "Be brief.");
  ASSERT_EQ(r.conversation.turns.size(), 3u);
  EXPECT_EQ(r.conversation.turns[0].from, "human");
  EXPECT_EQ(r.conversation.turns[0].value, "<image>\nWhat shape is it?");
  EXPECT_EQ(r.conversation.turns[1].value, "A circle.");
  EXPECT_EQ(r.conversation.turns[2].value, "And its colour?");
  ASSERT_EQ(r.images.size(), 1u);
  EXPECT_EQ(r.images[0].bytes, kPixel);
  EXPECT_EQ(r.images[0].source, "messages[1].content[1]");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_EQ(r.sampling.temperature, 0);
  EXPECT_EQ(r.sampling.seed.value_or(0), 3u);
  EXPECT_EQ(r.stop, std::vector<std::string>{"\n"});
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
}

TEST(ChatRequest, EveryBadFieldIsA400NamingIt) {
  const json good = {{"messages", {user_with_image("Q")}}};
  auto with = [&](const char* key, json value) {
    auto b = good;
    b[key] = std::move(value);
    return b;
  };
  EXPECT_EQ(rejection(good).first, 0);
  EXPECT_EQ(rejection(json::array()).first, 400);
  EXPECT_EQ(rejection(json::object()), std::make_pair(400, std::string("messages")));
  EXPECT_EQ(rejection(with("temperature", 3)), std::make_pair(400, std::string("temperature")));
  EXPECT_EQ(rejection(with("temperature", "hot")), std::make_pair(400, std::string("temperature")));
  EXPECT_EQ(rejection(with("top_p", 0)), std::make_pair(400, std::string("top_p")));
  EXPECT_EQ(rejection(with("top_k", -1)), std::make_pair(400, std::string("top_k")));
  EXPECT_EQ(rejection(with("max_tokens", 0)), std::make_pair(400, std::string("max_tokens")));
  EXPECT_EQ(rejection(with("max_tokens", 1.5)), std::make_pair(400, std::string("max_tokens")));
  EXPECT_EQ(rejection(with("n", 2)), std::make_pair(400, std::string("n")));
  EXPECT_EQ(rejection(with("stop", json::array({"a", "b", "c", "d", "e"}))), std::make_pair(400, std::string("stop")));
  EXPECT_EQ(rejection(with("tools", json::array({1}))), std::make_pair(400, std::string("tools")));
  EXPECT_EQ(rejection(with("stream_options", {{"include_usage", true}})).second, "stream_options");
  EXPECT_EQ(rejection(with("messages", {{{"role", "tool"}, {"content", "x"}}})).second, "messages[0]");
  EXPECT_EQ(rejection(with("messages", {{{"role", "assistant"}, {"content", "x"}}})).second, "messages[0]");
  EXPECT_EQ(rejection(with("messages", {user_with_image("Q"), {{"role", "assistant"}, {"content", "x"}}})).second,
            "messages");
  EXPECT_EQ(rejection(with("messages", {{{"role", "user"}, {"content", "look: <image>"}}})).second, "messages[0]");
  EXPECT_EQ(rejection(with("messages", {{{"role", "user"}, {"content", {{{"type", "audio"}}}}}})).second,
            "messages[0].content[0]");
  EXPECT_EQ(rejection(with("messages",
                           {user_with_image("a"), {{"role", "assistant"}, {"content", "b"}}, user_with_image("c")}))
                .second,
            "messages[2].content[1]");  // one image per request by default
}

TEST(ChatRequest, ImagesComeOnlyFromTheRequestOrTheAllowedFolder) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("media"));
  write_file(dir.file("media/a.png"), kPixel);
  write_file(dir.file("secret.png"), kPixel);
  auto body_with = [](const std::string& url) {
    return json{{"messages", {{{"role", "user"}, {"content", {image_part(url)}}}}}};
  };
  EXPECT_EQ(rejection(body_with("https://example.com/a.png")).second, "messages[0].content[0]");
  EXPECT_EQ(rejection(body_with("data:image/png,plain")).second, "messages[0].content[0]");
  EXPECT_EQ(rejection(body_with("data:image/png;base64,@@@@")).second, "messages[0].content[0]");
  EXPECT_EQ(rejection(body_with("file://" + dir.file("media/a.png"))).first, 400);  // no folder allowed
  RequestLimits limits;
  limits.allowed_media_dir = dir.file("media");
  EXPECT_EQ(parse_chat_request(body_with("file://" + dir.file("media/a.png")).dump(), limits).images.at(0).bytes,
            kPixel);
  EXPECT_EQ(rejection(body_with("file://" + dir.file("media/../secret.png")), limits).first, 400);
  EXPECT_EQ(rejection(body_with("file://" + dir.file("secret.png")), limits).first, 400);
}

TEST(Sampling, GreedyIsTheFirstLargestAndSeedsRepeat) {
  const std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f};
  SamplingParams greedy;
  greedy.temperature = 0;
  EXPECT_EQ(TokenSampler(greedy).next(logits.data(), 4), 1);
  SamplingParams top1;
  top1.top_k = 1;
  top1.seed = 5;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(TokenSampler(top1).next(logits.data(), 4), 1);
  SamplingParams seeded;
  seeded.seed = 42;
  TokenSampler a(seeded), b(seeded);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.next(logits.data(), 4), b.next(logits.data(), 4));
}

TEST(Sampling, DrawsFollowTheSoftmaxAndTheNucleus) {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  for (const double top_p : {1.0, 0.999}) {  // both code paths
    SamplingParams p;
    p.seed = 1;
    p.top_p = top_p;
    TokenSampler sampler(p);
    std::vector<int> counts(3);
    const int n = 20000;
    for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(sampler.next(logits.data(), 3))];
    EXPECT_NEAR(counts[0] / double(n), 0.5, 0.02);
    EXPECT_NEAR(counts[1] / double(n), 0.3, 0.02);
    EXPECT_NEAR(counts[2] / double(n), 0.2, 0.02);
  }
  SamplingParams nucleus;
  nucleus.seed = 1;
  nucleus.top_p = 0.75;  // 0.5 + 0.3 reach it: the 0.2 token is never drawn
  TokenSampler sampler(nucleus);
  for (int i = 0; i < 2000; ++i) EXPECT_NE(sampler.next(logits.data(), 3), 2);
  SamplingParams hot;
  hot.temperature = 2.0;  // p ~ sqrt(p): 0.5/0.3/0.2 -> 0.408/0.316/0.258 after normalising
  hot.seed = 9;
  TokenSampler warm(hot);
  int first = 0;
  for (int i = 0; i < 20000; ++i) first += warm.next(logits.data(), 3) == 0;
  EXPECT_NEAR(first / 20000.0, std::sqrt(0.5) / (std::sqrt(0.5) + std::sqrt(0.3) + std::sqrt(0.2)), 0.02);
}

TEST(AnswerText, ShowsWhatCannotChangeAndEndsAtAStopString) {
  const auto tokenizer = text::Tokenizer::from_dir(testdata("tokenizers/mistral7b"));
  const auto feed = [&](const std::string& text, std::vector<std::string> stop, std::vector<std::string>* pieces) {
    AnswerText answer(tokenizer, std::move(stop));
    for (const auto id : tokenizer.encode_ids(text, /*add_special_tokens=*/false)) {
      pieces->push_back(answer.push(id));
      if (answer.stopped()) break;
    }
    pieces->push_back(answer.finish());
    return std::make_pair(answer.shown(), answer.stopped());
  };
  std::vector<std::string> pieces;
  const auto [shown, stopped] = feed("  The quick brown fox. Über naïve café!  ", {}, &pieces);
  std::string joined;
  for (const auto& p : pieces) joined += p;
  EXPECT_EQ(joined, "The quick brown fox. Über naïve café!");
  EXPECT_EQ(shown, joined);
  EXPECT_GT(std::count_if(pieces.begin(), pieces.end(), [](const std::string& p) { return !p.empty(); }), 3);
  EXPECT_FALSE(stopped);

  pieces.clear();
  const auto [cut, cut_stopped] = feed("one two\nthree four", {"\nthree", "xyz"}, &pieces);
  EXPECT_TRUE(cut_stopped);
  EXPECT_EQ(cut, "one two");
  for (const auto& p : pieces) EXPECT_EQ(p.find('\n'), std::string::npos) << "a stop string's start was shown";
}
