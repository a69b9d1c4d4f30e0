// Templates render docs/method.md §2.1's strings byte for byte; label spans agree with the official
// LLaVA / TinyLLaVA length arithmetic (§3.4), re-implemented here independently.
#include <algorithm>

#include "data/prompt_tokenizer.h"
#include "test_util.h"

using namespace vista::data;

namespace {

const std::string kSys =
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, "
    "and polite answers to the user's questions.";

Conversation two_rounds() {
  return {{{"human", "<image>\nWhat color is the circle?"}, {"gpt", "It is red."},
           {"human", "And its position?"}, {"gpt", "Top left corner."}}};
}

const vista::text::Tokenizer& llama_like() {
  static const auto t = vista::text::Tokenizer::from_dir(testdata("tokenizers/mistral7b"));
  return t;
}
const vista::text::Tokenizer& byte_level() {
  static const auto t = vista::text::Tokenizer::from_dir(testdata("tokenizers/qwen3"));
  return t;
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t p; (p = s.find(sep, start)) != std::string::npos; start = p + sep.size()) out.push_back(s.substr(start, p - start));
  out.push_back(s.substr(start));
  return out;
}

// The official arithmetic: LLaVA preprocess_v1 (legacy tokenizer) / TinyLLaVA phi template.
std::vector<int64_t> official_labels(const vista::text::Tokenizer& tok, const std::string& prompt, bool phi) {
  auto ids = tokenize_with_images(tok, prompt);
  std::vector<int64_t> labels = ids;
  const std::string term = phi ? "<|endoftext|>" : "</s>";
  const std::string sep = " ASSISTANT: ";
  size_t cur = phi ? 0 : 1;
  std::fill(labels.begin(), labels.begin() + cur, kIgnoreLabel);
  for (const auto& round : split(prompt, term)) {
    if (round.empty()) break;
    auto parts = split(round, sep);
    if (parts.size() != 2) break;
    parts[0] += sep;
    const size_t round_len = tokenize_with_images(tok, round).size() + (phi ? 1 : 0);
    const size_t instr_len = tokenize_with_images(tok, parts[0]).size() - (phi ? 1 : 2);
    std::fill(labels.begin() + cur, labels.begin() + std::min(labels.size(), cur + instr_len), kIgnoreLabel);
    cur += round_len;
  }
  std::fill(labels.begin() + std::min(labels.size(), cur), labels.end(), kIgnoreLabel);
  EXPECT_EQ(cur, ids.size()) << "official sanity rule would mask this sample";
  return labels;
}

std::string decode_supervised(const vista::text::Tokenizer& tok, const TokenizedSample& s) {
  std::vector<int64_t> ids;
  for (size_t i = 0; i < s.labels.size(); ++i)
    if (s.labels[i] != kIgnoreLabel) ids.push_back(s.labels[i]);
  return tok.decode(ids, false);
}

}  // namespace

TEST(Templates, RenderMethodStringsByteExactly) {
  const auto conv = normalize_image_token(two_rounds());
  EXPECT_EQ(render_prompt(get_template("vicuna_v1"), conv),
            kSys + " " + "USER: <image>\nWhat color is the circle?" + " " + "ASSISTANT: " + "It is red." + "</s>" +
                "USER: " + "And its position?" + " " + "ASSISTANT: " + "Top left corner." + "</s>");
  EXPECT_EQ(render_prompt(get_template("phi"), conv),
            kSys + " " + "USER: <image>\nWhat color is the circle?" + " " + "ASSISTANT: " + "It is red." +
                "<|endoftext|>" + "USER: " + "And its position?" + " " + "ASSISTANT: " + "Top left corner." +
                "<|endoftext|>");
  const Conversation caption{{{"human", "<image>\nDescribe."}, {"gpt", "a red circle"}}};
  EXPECT_EQ(render_prompt(get_template("plain"), caption), "<image>a red circle\n");
  EXPECT_EQ(render_prompt(get_template("pretrain"), caption), "<image>a red circle\n");
  EXPECT_EQ(generation_prompt(get_template("vicuna_v1"), "What is it?", true),
            kSys + " USER: <image>\nWhat is it? ASSISTANT:");
}

TEST(Templates, ImageTokenIsMovedToTheFrontOfItsTurn) {
  const Conversation c{{{"human", "What is this? <image> "}, {"gpt", "x"}}};
  EXPECT_EQ(normalize_image_token(c).turns[0].value, "<image>\nWhat is this?");
}

TEST(Templates, UnknownTemplateAndBadTurnsAreErrors) {
  expect_error_containing([] { get_template("llama_2"); }, {"llama_2", "vicuna_v1"});
  const Conversation bad{{{"gpt", "hi"}, {"human", "x"}}};
  expect_error_containing([&] { render_prompt(get_template("vicuna_v1"), bad); }, {"turn 0", "'gpt'", "'human'"});
}

TEST(PromptTokenizer, LlamaChunksAroundTheImageAsMethodSays) {
  const auto& tok = llama_like();
  const auto ids = tokenize_with_images(tok, "USER: <image>\nhi");
  const auto at = std::find(ids.begin(), ids.end(), kImagePlaceholderId) - ids.begin();
  ASSERT_GT(at, 1);
  EXPECT_EQ(ids[0], 1);  // one BOS, from the first chunk only
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 1);
  EXPECT_EQ(tok.id_to_token(ids[at - 1]), "\u2581");  // lone "▁" ends the chunk before the image
  EXPECT_EQ(tok.id_to_token(ids[at + 1]), "\u2581");  // the chunk after starts with "▁" ...
  EXPECT_EQ(tok.id_to_token(ids[at + 2]), "<0x0A>");  // ... then the newline byte
}

TEST(PromptTokenizer, VicunaSpansMatchOfficialArithmetic) {
  const auto& tok = llama_like();
  const auto tmpl = get_template("vicuna_v1");
  const auto sample = tokenize_conversation(tok, tmpl, two_rounds());
  ASSERT_FALSE(sample.label_mismatch) << sample.problem;
  const auto prompt = render_prompt(tmpl, normalize_image_token(two_rounds()));
  EXPECT_EQ(sample.labels, official_labels(tok, prompt, false));
  EXPECT_EQ(decode_supervised(tok, sample), "It is red.</s> Top left corner.</s>");
}

TEST(PromptTokenizer, PhiSpansMatchOfficialArithmetic) {
  const auto& tok = byte_level();
  const auto tmpl = get_template("phi");
  const auto sample = tokenize_conversation(tok, tmpl, two_rounds());
  ASSERT_FALSE(sample.label_mismatch) << sample.problem;
  const auto prompt = render_prompt(tmpl, normalize_image_token(two_rounds()));
  EXPECT_EQ(sample.labels, official_labels(tok, prompt, true));
  EXPECT_EQ(decode_supervised(tok, sample), " It is red.<|endoftext|> Top left corner.<|endoftext|>");
}

TEST(PromptTokenizer, PlainSupervisesEverythingAfterTheImage) {
  const Conversation caption{{{"human", "<image>\nDescribe."}, {"gpt", "a red circle"}}};
  const auto llama = tokenize_conversation(llama_like(), get_template("plain"), caption);
  ASSERT_GE(llama.input_ids.size(), 3u);
  EXPECT_EQ(llama.input_ids[0], 1);
  EXPECT_EQ(llama.input_ids[1], kImagePlaceholderId);
  EXPECT_EQ(llama.labels[0], kIgnoreLabel);
  EXPECT_EQ(llama.labels[1], kIgnoreLabel);
  for (size_t i = 2; i < llama.labels.size(); ++i) EXPECT_EQ(llama.labels[i], llama.input_ids[i]);
  const auto phi = tokenize_conversation(byte_level(), get_template("pretrain"), caption);
  EXPECT_EQ(phi.input_ids[0], kImagePlaceholderId);
  EXPECT_EQ(phi.labels[0], kIgnoreLabel);
  EXPECT_EQ(decode_supervised(byte_level(), phi), "a red circle\n");
}
