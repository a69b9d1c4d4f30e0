#include "eval/metrics/multiple_choice.h"

#include <cctype>
#include <set>

#include "util/error.h"

namespace vista::eval {

namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
char to_lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_ascii_space(s[b])) ++b;
  while (e > b && is_ascii_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

// Lower-cased, trimmed, trailing periods removed, inner whitespace runs collapsed to one space.
std::string normalize_text(std::string_view s) {
  std::string t = lower_ascii(trim(s));
  while (!t.empty() && t.back() == '.') t.pop_back();
  std::string out;
  bool space = false;
  for (char c : trim(t)) {
    if (is_ascii_space(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

struct Extractor {
  std::string text;   // trimmed response
  int num_options;
  std::string lower;  // text, ASCII lower-cased (keyword search)

  Extractor(std::string trimmed, int n) : text(std::move(trimmed)), num_options(n), lower(lower_ascii(text)) {}

  bool valid(char c) const { return is_upper(c) && c - 'A' < num_options; }
  bool boundary_after(size_t i) const { return i >= text.size() || !is_alnum(text[i]); }
  bool boundary_before(size_t i) const { return i == 0 || !is_alnum(text[i - 1]); }

  // Case-insensitive find of an ASCII keyword starting at `from`, at a word start.
  size_t find_word(std::string_view keyword, size_t from) const {
    for (size_t pos = lower.find(keyword, from); pos != std::string::npos; pos = lower.find(keyword, pos + 1))
      if (boundary_before(pos)) return pos;
    return std::string::npos;
  }

  void skip_spaces(size_t& i) const {
    while (i < text.size() && is_ascii_space(text[i])) ++i;
  }

  bool skip_word(size_t& i, std::string_view word) const {
    if (i + word.size() > text.size()) return false;
    if (std::string_view(lower).substr(i, word.size()) != word) return false;
    if (!boundary_after(i + word.size())) return false;
    i += word.size();
    return true;
  }

  // After a keyword ending at `i`: [spaces] [is] [spaces] [:] [spaces] [option|choice] [spaces] [(|[] LETTER boundary.
  char letter_after_keyword(size_t i, bool allow_inner_keyword) const {
    skip_spaces(i);
    skip_word(i, "is");
    skip_spaces(i);
    if (i < text.size() && text[i] == ':') ++i;
    skip_spaces(i);
    if (allow_inner_keyword) {
      if (skip_word(i, "option") || skip_word(i, "choice")) skip_spaces(i);
    }
    if (i < text.size() && (text[i] == '(' || text[i] == '[')) ++i;
    if (i < text.size() && valid(text[i]) && boundary_after(i + 1)) return text[i];
    return 0;
  }

  char whole() const {
    std::string t = text;
    while (!t.empty() && t.back() == '.') t.pop_back();
    t = trim(t);
    if (t.size() == 3 && ((t[0] == '(' && t[2] == ')') || (t[0] == '[' && t[2] == ']'))) t = t.substr(1, 1);
    if (t.size() == 2 && (t[1] == ')' || t[1] == ':' || t[1] == ',')) t = t.substr(0, 1);
    if (t.size() != 1) return 0;
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
    return valid(c) ? c : 0;
  }

  char leading() const {
    if (text.size() >= 2 && valid(text[0]) && (text[1] == '.' || text[1] == ')' || text[1] == ':' || text[1] == ','))
      return text[0];
    if (text.size() >= 3 && ((text[0] == '(' && text[2] == ')') || (text[0] == '[' && text[2] == ']')) &&
        valid(text[1]))
      return text[1];
    return 0;
  }

  char answer_phrase() const {
    for (size_t pos = find_word("answer", 0); pos != std::string::npos; pos = find_word("answer", pos + 1))
      if (const char c = letter_after_keyword(pos + 6, true)) return c;
    return 0;
  }

  // The letter when every mention names the same one, else 0.
  static char unanimous(const std::set<char>& letters) { return letters.size() == 1 ? *letters.begin() : 0; }

  char option_phrase() const {
    std::set<char> letters;
    for (std::string_view keyword : {"option", "choice"})
      for (size_t pos = find_word(keyword, 0); pos != std::string::npos; pos = find_word(keyword, pos + 1)) {
        size_t i = pos + keyword.size();
        if (!boundary_after(i)) continue;  // "options", "choices"
        skip_spaces(i);
        if (i < text.size() && (text[i] == '(' || text[i] == '[')) ++i;
        if (i < text.size() && valid(text[i]) && boundary_after(i + 1)) letters.insert(text[i]);
      }
    return unanimous(letters);
  }

  char parenthesized() const {
    std::set<char> letters;
    for (size_t i = 0; i + 2 < text.size(); ++i)
      if (text[i] == '(' && valid(text[i + 1]) && text[i + 2] == ')') letters.insert(text[i + 1]);
    return unanimous(letters);
  }

  char standalone() const {
    std::set<char> letters;
    for (size_t i = 0; i < text.size(); ++i) {
      if (!valid(text[i]) || !boundary_before(i) || !boundary_after(i + 1)) continue;
      const bool word_like = (text[i] == 'A' || text[i] == 'I') && i + 2 < text.size() && text[i + 1] == ' ' &&
                             std::islower(static_cast<unsigned char>(text[i + 2]));
      if (!word_like) letters.insert(text[i]);
    }
    return unanimous(letters);
  }
};

int option_text_match(std::string_view response, int num_options, const std::vector<std::string>& option_texts) {
  const std::string r = normalize_text(response);
  if (r.empty()) return -1;
  const int n = std::min<int>(num_options, static_cast<int>(option_texts.size()));
  std::vector<std::string> options;
  for (int i = 0; i < n; ++i) options.push_back(normalize_text(option_texts[static_cast<size_t>(i)]));
  int exact = -1, exact_count = 0;
  for (int i = 0; i < n; ++i)
    if (!options[i].empty() && options[i] == r) exact = i, ++exact_count;
  if (exact_count == 1) return exact;
  int contained = -1, contained_count = 0;
  for (int i = 0; i < n; ++i) {
    const std::string& o = options[static_cast<size_t>(i)];
    if (o.empty()) continue;
    for (size_t pos = r.find(o); pos != std::string::npos; pos = r.find(o, pos + 1)) {
      const bool left = pos == 0 || !is_alnum(r[pos - 1]);
      const bool right = pos + o.size() >= r.size() || !is_alnum(r[pos + o.size()]);
      if (left && right) {
        contained = i, ++contained_count;
        break;
      }
    }
  }
  return contained_count == 1 ? contained : -1;
}

}  // namespace

ChoiceExtraction extract_choice(std::string_view response, int num_options, const std::vector<std::string>& option_texts) {
  if (num_options < 1 || num_options > 26) fail("extract_choice: num_options must be 1..26, got {}", num_options);
  const Extractor ex(trim(response), num_options);
  ChoiceExtraction out;
  auto pick = [&](char letter, const char* rule) {
    out.letter = letter;
    out.index = letter - 'A';
    out.rule = rule;
    return out;
  };
  if (const char c = ex.whole()) return pick(c, "whole");
  if (const char c = ex.leading()) return pick(c, "leading");
  if (const char c = ex.answer_phrase()) return pick(c, "answer");
  if (const char c = ex.option_phrase()) return pick(c, "option");
  if (const char c = ex.parenthesized()) return pick(c, "paren");
  if (!option_texts.empty()) {
    const int i = option_text_match(response, num_options, option_texts);
    if (i >= 0) return pick(static_cast<char>('A' + i), "text");
  }
  if (const char c = ex.standalone()) return pick(c, "standalone");
  out.rule = "none";
  return out;
}

double multiple_choice_accuracy(const std::vector<ChoiceExtraction>& extracted, const std::vector<int>& answers) {
  if (extracted.size() != answers.size())
    fail("multiple_choice_accuracy: {} extractions but {} answers", extracted.size(), answers.size());
  if (extracted.empty()) fail("multiple_choice_accuracy: no items");
  int64_t correct = 0;
  for (size_t i = 0; i < extracted.size(); ++i) correct += extracted[i].index >= 0 && extracted[i].index == answers[i];
  return static_cast<double>(correct) / static_cast<double>(extracted.size());
}

}  // namespace vista::eval
