#include "text/tokenizer.h"

#include <filesystem>

#include "text/added_vocabulary.h"
#include "text/bpe_model.h"
#include "text/decoders.h"
#include "text/normalizers.h"
#include "text/pre_tokenizers.h"
#include "text/utf8.h"
#include "util/error.h"
#include "util/json_file.h"
#include "util/json_node.h"

namespace vista::text {

struct Tokenizer::Impl {
  std::string source;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  AddedVocabulary added;
  TokenizerConfig config;

  // Runs everything but the post-processor; token strings are collected when `tokens` is given.
  void encode_raw(std::string_view text, std::vector<uint32_t>& ids, std::vector<std::string>* tokens) const;
  std::optional<std::string> token_of(uint32_t id) const;
};

namespace {

void require_valid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const size_t len = valid_sequence_length(text, pos);
    if (len == 0) fail("tokenizer input: text is not valid UTF-8 (invalid byte 0x{:02X} at offset {})", static_cast<unsigned char>(text[pos]), pos);
    pos += len;
  }
}

AddedToken parse_added_token(const JsonNode& node) {
  AddedToken token;
  token.content = node.at("content").as_string();
  token.single_word = node.boolean_or("single_word", false);
  token.lstrip = node.boolean_or("lstrip", false);
  token.rstrip = node.boolean_or("rstrip", false);
  token.special = node.boolean_or("special", false);
  token.normalized = node.boolean_or("normalized", !token.special);
  return token;
}

}  // namespace

std::optional<std::string> Tokenizer::Impl::token_of(uint32_t id) const {
  if (const AddedToken* token = added.token_for_id(id)) return token->content;
  if (const std::string* token = model->id_to_token(id)) return *token;
  return std::nullopt;
}

void Tokenizer::Impl::encode_raw(std::string_view text, std::vector<uint32_t>& ids, std::vector<std::string>* tokens) const {
  require_valid_utf8(text);
  std::vector<PreSplit> splits;
  auto model_words = [&](std::string piece, bool at_start) {
    splits.clear();
    splits.push_back(PreSplit{std::move(piece), at_start});
    if (pre_tokenizer) pre_tokenizer->pre_tokenize(splits);
    for (const auto& split : splits) {
      if (split.text.empty()) continue;
      const size_t first = ids.size();
      model->tokenize(split.text, ids);
      if (tokens)
        for (size_t i = first; i < ids.size(); ++i) tokens->push_back(*model->id_to_token(ids[i]));
    }
  };
  for (const TextSegment& segment : added.raw_matcher().split(text)) {
    const std::string_view piece = text.substr(segment.begin, segment.end - segment.begin);
    if (segment.token_id) {
      ids.push_back(*segment.token_id);
      if (tokens) tokens->emplace_back(piece);
      continue;
    }
    if (piece.empty()) continue;
    std::string normalized(piece);
    if (normalizer) normalizer->normalize(normalized);
    if (normalized.empty()) continue;
    const bool at_start = segment.begin == 0;
    if (added.normalized_matcher().empty()) {
      model_words(std::move(normalized), at_start);
      continue;
    }
    for (const TextSegment& inner : added.normalized_matcher().split(normalized)) {
      const std::string_view sub = std::string_view(normalized).substr(inner.begin, inner.end - inner.begin);
      if (inner.token_id) {
        ids.push_back(*inner.token_id);
        if (tokens) tokens->emplace_back(sub);
      } else if (!sub.empty()) {
        model_words(std::string(sub), at_start && inner.begin == 0);
      }
    }
  }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::string& path) {
  const nlohmann::json json = read_json_file(path);
  const JsonNode root(json, path);
  root.as_object();
  auto impl = std::make_unique<Impl>();
  impl->source = path;

  if (auto version = root.find("version"); version && version->as_string() != "1.0")
    version->fail("unsupported tokenizer.json version '" + version->as_string() + "' (expected \"1.0\")");
  if (auto truncation = root.find("truncation"))
    truncation->fail("truncation is not supported (expected null; truncate the ids instead)");
  if (auto padding = root.find("padding")) padding->fail("padding is not supported (expected null; pad the ids instead)");

  const JsonNode model = root.at("model");
  const std::string model_type = model.has("type") ? model.at("type").as_string() : (model.has("merges") ? "BPE" : "");
  if (model_type != "BPE")
    model.fail("unsupported model type '" + model_type + "' (supported: BPE)");
  impl->model = BpeModel::from_json(model);

  if (auto node = root.find("normalizer")) impl->normalizer = make_normalizer(*node);
  if (auto node = root.find("pre_tokenizer")) impl->pre_tokenizer = make_pre_tokenizer(*node);
  if (auto node = root.find("post_processor")) impl->post_processor = make_post_processor(*node);
  if (auto node = root.find("decoder")) impl->decoder = make_decoder(*node);

  if (auto list = root.find("added_tokens")) {
    const BpeModel& bpe = *impl->model;
    for (size_t i = 0; i < list->size(); ++i) {
      const JsonNode entry = list->at(i);
      const AddedToken token = parse_added_token(entry);
      impl->added.add(token, [&](const std::string& content) { return bpe.token_to_id(content); }, bpe.vocab_size());
      const int64_t declared = entry.at("id").as_int();
      const auto assigned = impl->added.token_to_id(token.content);
      // The reference only warns when the declared id differs from the one it assigns; a file
      // in that state decodes differently from what its author expects, so refuse it.
      if (!token.content.empty() && assigned && static_cast<int64_t>(*assigned) != declared)
        entry.at("id").fail("added token '" + escape_for_message(token.content) + "' declares id " + std::to_string(declared) +
                            " but the vocabulary gives it id " + std::to_string(*assigned));
    }
  }
  const Normalizer* normalizer = impl->normalizer.get();
  impl->added.finalize([normalizer](const std::string& content) {
    std::string text = content;
    if (normalizer) normalizer->normalize(text);
    return text;
  });
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_dir(const std::string& dir) {
  const std::filesystem::path folder(dir);
  const std::filesystem::path file = folder / "tokenizer.json";
  if (!std::filesystem::exists(file))
    fail("{}: missing file (expected a Hugging Face tokenizer.json in tokenizer folder '{}')", file.string(), dir);
  Tokenizer tokenizer = from_file(file.string());
  const std::filesystem::path config = folder / "tokenizer_config.json";
  if (std::filesystem::exists(config)) tokenizer.impl_->config = read_tokenizer_config(config.string());
  return tokenizer;
}

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<uint32_t> ids;
  Encoding encoding;
  impl_->encode_raw(text, ids, &encoding.tokens);
  encoding.ids.assign(ids.begin(), ids.end());
  if (impl_->post_processor) impl_->post_processor->process(encoding, add_special_tokens);
  return encoding;
}

std::vector<int64_t> Tokenizer::encode_ids(std::string_view text, bool add_special_tokens) const {
  std::vector<uint32_t> ids;
  impl_->encode_raw(text, ids, nullptr);
  if (!impl_->post_processor || !add_special_tokens) return std::vector<int64_t>(ids.begin(), ids.end());
  Encoding encoding;
  encoding.ids.assign(ids.begin(), ids.end());
  encoding.tokens.resize(ids.size());
  impl_->post_processor->process(encoding, add_special_tokens);
  return std::move(encoding.ids);
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    if (id < 0 || id > static_cast<int64_t>(UINT32_MAX)) continue;
    std::optional<std::string> token = impl_->token_of(static_cast<uint32_t>(id));
    if (!token) continue;
    if (skip_special_tokens && impl_->added.is_special(*token)) continue;
    tokens.push_back(std::move(*token));
  }
  if (impl_->decoder) return impl_->decoder->decode(std::move(tokens));
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out.push_back(' ');
    out += tokens[i];
  }
  return out;
}

std::optional<int64_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = impl_->added.token_to_id(token)) return *id;
  if (auto id = impl_->model->token_to_id(token)) return *id;
  return std::nullopt;
}

std::optional<std::string> Tokenizer::find_token(int64_t id) const {
  if (id < 0 || id > static_cast<int64_t>(UINT32_MAX)) return std::nullopt;
  return impl_->token_of(static_cast<uint32_t>(id));
}

std::string Tokenizer::id_to_token(int64_t id) const {
  auto token = find_token(id);
  if (!token) fail("{}: token id {} is not in the vocabulary ({} tokens)", impl_->source, id, vocab_size());
  return *token;
}

bool Tokenizer::is_special_token(std::string_view token) const { return impl_->added.is_special(token); }

size_t Tokenizer::vocab_size() const {
  size_t extra = 0;
  for (const auto& [id, token] : impl_->added.tokens_by_id())
    if (!impl_->model->token_to_id(token.content)) ++extra;
  return impl_->model->vocab_size() + extra;
}

size_t Tokenizer::model_vocab_size() const { return impl_->model->vocab_size(); }

const TokenizerConfig& Tokenizer::config() const { return impl_->config; }

const std::string& Tokenizer::source() const { return impl_->source; }

}  // namespace vista::text
