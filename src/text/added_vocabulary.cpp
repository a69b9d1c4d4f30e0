#include "text/added_vocabulary.h"

#include "text/regex.h"
#include "text/utf8.h"

namespace vista::text {

bool operator==(const AddedToken& a, const AddedToken& b) {
  return a.content == b.content && a.single_word == b.single_word && a.lstrip == b.lstrip && a.rstrip == b.rstrip &&
         a.normalized == b.normalized && a.special == b.special;
}

namespace {

// Last code point of text[0, end) (end > 0).
char32_t last_code_point(std::string_view text, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  size_t pos = start;
  return next_code_point(text, pos);
}

// \w$ on text[0, end)
bool ends_with_word(std::string_view text, size_t end) { return end > 0 && is_regex_word_char(last_code_point(text, end)); }

// ^\w on text[begin, ...)
bool starts_with_word(std::string_view text, size_t begin) {
  if (begin >= text.size()) return false;
  size_t pos = begin;
  return is_regex_word_char(next_code_point(text, pos));
}

// Start of the whitespace run that ends at `end` (the leftmost match of \s*$ in text[0, end)).
size_t whitespace_run_start(std::string_view text, size_t end) {
  size_t pos = end;
  while (pos > 0) {
    size_t start = pos - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    size_t p = start;
    if (!is_unicode_whitespace(next_code_point(text, p))) break;
    pos = start;
  }
  return pos;
}

// Byte length of the whitespace run starting at `begin` (^\s*).
size_t whitespace_run_length(std::string_view text, size_t begin) {
  size_t pos = begin;
  while (pos < text.size()) {
    size_t p = pos;
    if (!is_unicode_whitespace(next_code_point(text, p))) break;
    pos = p;
  }
  return pos - begin;
}

}  // namespace

void AddedTokenMatcher::build(std::vector<Pattern> patterns) {
  patterns_ = std::move(patterns);
  nodes_.assign(1, Node{});
  std::fill(std::begin(first_byte_), std::end(first_byte_), false);
  for (size_t p = 0; p < patterns_.size(); ++p) {
    const std::string& text = patterns_[p].text;
    if (text.empty()) continue;  // an empty pattern never matches
    first_byte_[static_cast<unsigned char>(text[0])] = true;
    uint32_t node = 0;
    for (char ch : text) {
      const auto byte = static_cast<unsigned char>(ch);
      auto it = nodes_[node].children.find(byte);
      if (it == nodes_[node].children.end()) {
        nodes_.push_back(Node{});
        const auto child = static_cast<uint32_t>(nodes_.size() - 1);
        nodes_[node].children.emplace(byte, child);
        node = child;
      } else {
        node = it->second;
      }
    }
    if (nodes_[node].pattern < 0) nodes_[node].pattern = static_cast<int32_t>(p);  // first pattern wins ties
  }
}

int32_t AddedTokenMatcher::longest_at(std::string_view text, size_t pos, size_t* length) const {
  int32_t best = -1;
  uint32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    auto it = nodes_[node].children.find(static_cast<unsigned char>(text[i]));
    if (it == nodes_[node].children.end()) break;
    node = it->second;
    if (nodes_[node].pattern >= 0) {
      best = nodes_[node].pattern;
      *length = i + 1 - pos;
    }
  }
  return best;
}

std::vector<TextSegment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<TextSegment> out;
  size_t start_offset = 0;
  if (!patterns_.empty()) {
    size_t pos = 0;
    while (pos < text.size()) {
      if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
        ++pos;
        continue;
      }
      size_t length = 0;
      const int32_t p = longest_at(text, pos, &length);
      if (p < 0) {
        ++pos;
        continue;
      }
      // Leftmost-longest matches do not overlap: the search resumes after this one even when
      // the token is discarded below.
      size_t start = pos, stop = pos + length;
      pos = stop;
      const Pattern& pattern = patterns_[static_cast<size_t>(p)];
      const AddedToken& token = *pattern.token;
      if (token.single_word) {
        const bool start_space = start == 0 || !ends_with_word(text, start);
        const bool stop_space = stop == text.size() || !starts_with_word(text, stop);
        if (!start_space || !stop_space) continue;
      }
      if (token.lstrip) start = std::max(whitespace_run_start(text, start), start_offset);
      if (token.rstrip) stop += whitespace_run_length(text, stop);
      if (start_offset < start) out.push_back(TextSegment{start_offset, start, std::nullopt});
      out.push_back(TextSegment{start, stop, pattern.id});
      start_offset = stop;
    }
  }
  if (start_offset < text.size()) out.push_back(TextSegment{start_offset, text.size(), std::nullopt});
  return out;
}

std::optional<uint32_t> AddedVocabulary::token_to_id(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

const AddedToken* AddedVocabulary::token_for_id(uint32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

}  // namespace vista::text
