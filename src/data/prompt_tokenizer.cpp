#include "data/prompt_tokenizer.h"

#include <fmt/format.h>

#include "util/error.h"

namespace vista::data {

std::vector<int64_t> tokenize_with_images(const text::Tokenizer& tokenizer, const std::string& prompt) {
  const std::string image(kImageToken);
  std::vector<int64_t> ids;
  size_t start = 0;
  bool first = true;
  // The token the post-processor puts in front of every encoding (LLaMA's BOS), if any.
  const auto empty = tokenizer.encode_ids("", /*add_special_tokens=*/true);
  const bool has_prefix_token = empty.size() == 1;
  const int64_t prefix_token = has_prefix_token ? empty[0] : -1;
  bool first_chunk_has_prefix = false;
  while (true) {
    const auto found = prompt.find(image, start);
    const auto chunk = prompt.substr(start, found == std::string::npos ? std::string::npos : found - start);
    auto chunk_ids = tokenizer.encode_ids(chunk, /*add_special_tokens=*/true);
    if (first) {
      first_chunk_has_prefix = has_prefix_token && !chunk_ids.empty() && chunk_ids.front() == prefix_token;
    } else if (first_chunk_has_prefix && !chunk_ids.empty() && chunk_ids.front() == prefix_token) {
      chunk_ids.erase(chunk_ids.begin());  // only the first chunk keeps its BOS
    }
    ids.insert(ids.end(), chunk_ids.begin(), chunk_ids.end());
    if (found == std::string::npos) break;
    ids.push_back(kImagePlaceholderId);
    start = found + image.size();
    first = false;
  }
  return ids;
}

TokenizedSample tokenize_conversation(const text::Tokenizer& tokenizer, const Template& tmpl,
                                      const Conversation& conversation) {
  const auto conv = tmpl.is_plain() ? conversation : normalize_image_token(conversation);
  const auto prompt = render_prompt(tmpl, conv);
  TokenizedSample sample;
  sample.input_ids = tokenize_with_images(tokenizer, prompt);
  sample.labels.assign(sample.input_ids.size(), kIgnoreLabel);
  const auto& ids = sample.input_ids;
  // Token count of a prefix, verified to be a prefix of the full tokenization.
  auto boundary = [&](size_t bytes, size_t& count) {
    const auto prefix = tokenize_with_images(tokenizer, prompt.substr(0, bytes));
    count = prefix.size();
    if (prefix.size() > ids.size() || !std::equal(prefix.begin(), prefix.end(), ids.begin())) {
      sample.label_mismatch = true;
      sample.problem = fmt::format("tokens of the prompt prefix ending at byte {} ({:?}) are not a prefix of the "
                                   "prompt's tokens", bytes, prompt.substr(bytes > 20 ? bytes - 20 : 0, 20));
      return false;
    }
    return true;
  };
  for (const auto& span : answer_spans(tmpl, conv)) {
    size_t begin = 0, end = 0;
    if (!boundary(span.answer_begin, begin) || !boundary(span.answer_end, end)) break;
    for (size_t i = begin; i < end; ++i) sample.labels[i] = ids[i];
  }
  if (sample.label_mismatch) std::fill(sample.labels.begin(), sample.labels.end(), kIgnoreLabel);
  return sample;
}

}  // namespace vista::data
