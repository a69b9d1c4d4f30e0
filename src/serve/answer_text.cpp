#include "serve/answer_text.h"

#include <algorithm>

namespace vista::serve {

namespace {

constexpr const char* kSpace = " \n\t";
constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD: the decoder's stand-in for partial bytes

// Bytes at the end of `s` that start a UTF-8 character not yet complete.
size_t incomplete_utf8_tail(const std::string& s) {
  for (size_t back = 1; back <= std::min<size_t>(3, s.size()); ++back) {
    const auto c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

}  // namespace

AnswerText::AnswerText(const text::Tokenizer& tokenizer, std::vector<std::string> stop)
    : tokenizer_(tokenizer), stop_(std::move(stop)) {}

std::string AnswerText::safe_text(bool final) {
  std::string text = tokenizer_.decode(tokens_, /*skip_special_tokens=*/true);
  const auto begin = text.find_first_not_of(kSpace);
  text = begin == std::string::npos ? "" : text.substr(begin);
  size_t end = text.size();
  for (const auto& stop : stop_)
    if (const auto at = text.find(stop); at != std::string::npos && at < end) {
      end = at;
      stopped_ = true;
    }
  if (!final && !stopped_) {
    // A tail that may still become a stop string, a partial character, or white space.
    for (const auto& stop : stop_)
      for (size_t n = std::min(stop.size() - 1, end); n > 0; --n)
        if (text.compare(end - n, n, stop, 0, n) == 0) {
          end -= n;
          break;
        }
    end -= incomplete_utf8_tail(text.substr(0, end));
    while (end >= 3 && text.compare(end - 3, 3, kReplacement) == 0) end -= 3;
  }
  const auto last = text.find_last_not_of(kSpace, end == 0 ? std::string::npos : end - 1);
  end = (end == 0 || last == std::string::npos) ? 0 : last + 1;
  // Text already shown stays shown (a decoder that rewrites earlier text cannot take it back).
  if (end <= shown_.size() || text.compare(0, shown_.size(), shown_) != 0) return "";
  auto fresh = text.substr(shown_.size(), end - shown_.size());
  shown_ += fresh;
  return fresh;
}

std::string AnswerText::push(int64_t token) {
  tokens_.push_back(token);
  return safe_text(false);
}

std::string AnswerText::finish() { return safe_text(true); }

}  // namespace vista::serve
