#include "text/pre_tokenizers.h"

#include <algorithm>

#include "text/byte_level.h"
#include "text/regex.h"
#include "text/string_pattern.h"
#include "text/utf8.h"
#include "util/error.h"

namespace vista::text {

namespace {

// The GPT-2 pattern of the ByteLevel pre-tokenizer (use_regex = true).
constexpr const char* kByteLevelPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Splits every piece with `cut(text) -> byte ranges`, keeping non-empty results.
template <typename Cut>
void split_each(std::vector<PreSplit>& splits, Cut&& cut) {
  std::vector<PreSplit> out;
  out.reserve(splits.size());
  for (auto& split : splits) {
    const std::vector<std::pair<size_t, size_t>> ranges = cut(split.text);
    for (const auto& [begin, end] : ranges) {
      if (end <= begin) continue;
      if (begin == 0 && end == split.text.size()) {
        out.push_back(std::move(split));
        break;
      }
      out.push_back(PreSplit{split.text.substr(begin, end - begin), split.at_start && begin == 0});
    }
  }
  splits = std::move(out);
}

// Matches of a per-character predicate: every matching character is its own match.
template <typename Predicate>
std::vector<std::pair<size_t, size_t>> char_matches(std::string_view text, Predicate&& predicate) {
  std::vector<std::pair<size_t, size_t>> matches;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const char32_t cp = next_code_point(text, pos);
    if (predicate(cp)) matches.emplace_back(start, pos);
  }
  return matches;
}

SplitBehavior parse_behavior(const JsonNode& node) {
  const std::string name = node.as_string();
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  node.fail("unsupported split behavior '" + name +
            "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void pre_tokenize(std::vector<PreSplit>& splits) const override {
    for (const auto& part : parts_) part->pre_tokenize(splits);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::unique_ptr<StringPattern> pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<PreSplit>& splits) const override {
    split_each(splits, [&](const std::string& text) {
      std::vector<PatternPiece> pieces = pieces_from_matches(text, pattern_->find_all(text));
      if (invert_)
        for (auto& piece : pieces) piece.is_match = !piece.is_match;
      return apply_split_behavior(pieces, behavior_);
    });
  }

 private:
  std::unique_ptr<StringPattern> pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), regex_(use_regex ? std::make_unique<Regex>(kByteLevelPattern, "ByteLevel") : nullptr) {}
  void pre_tokenize(std::vector<PreSplit>& splits) const override {
    if (add_prefix_space_)
      for (auto& split : splits)
        if (split.text.empty() || split.text[0] != ' ') split.text.insert(0, " ");
    if (regex_) {
      split_each(splits, [&](const std::string& text) {
        return apply_split_behavior(pieces_from_matches(text, regex_->find_all(text)), SplitBehavior::Isolated);
      });
    }
    for (auto& split : splits) {
      std::string mapped;
      mapped.reserve(split.text.size() + split.text.size() / 4);
      append_byte_level(mapped, split.text);
      split.text = std::move(mapped);
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split), pattern_(make_literal_pattern(replacement_)) {}
  void pre_tokenize(std::vector<PreSplit>& splits) const override {
    for (auto& split : splits) {
      std::string replaced;
      replaced.reserve(split.text.size() + 8);
      for (char ch : split.text) {
        if (ch == ' ')
          replaced += replacement_;
        else
          replaced.push_back(ch);
      }
      const bool starts = replaced.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && split.at_start)))
        replaced.insert(0, replacement_);
      split.text = std::move(replaced);
    }
    if (split_) {
      split_each(splits, [&](const std::string& text) {
        return apply_split_behavior(pieces_from_matches(text, pattern_->find_all(text)), SplitBehavior::MergedWithNext);
      });
    }
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
  std::unique_ptr<StringPattern> pattern_;
};

class DigitsPreTokenizer : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  void pre_tokenize(std::vector<PreSplit>& splits) const override {
    split_each(splits, [&](const std::string& text) {
      return apply_split_behavior(pieces_from_matches(text, char_matches(text, is_unicode_numeric)),
                                  individual_ ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
    });
  }

 private:
  bool individual_;
};

class WhitespacePreTokenizer : public PreTokenizer {
 public:
  WhitespacePreTokenizer() : regex_(R"(\w+|[^\w\s]+)", "Whitespace") {}
  void pre_tokenize(std::vector<PreSplit>& splits) const override {
    split_each(splits, [&](const std::string& text) {
      std::vector<PatternPiece> pieces = pieces_from_matches(text, regex_.find_all(text));
      for (auto& piece : pieces) piece.is_match = !piece.is_match;  // the reference inverts the pattern
      return apply_split_behavior(pieces, SplitBehavior::Removed);
    });
  }

 private:
  Regex regex_;
};

class WhitespaceSplitPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<PreSplit>& splits) const override {
    split_each(splits, [&](const std::string& text) {
      return apply_split_behavior(pieces_from_matches(text, char_matches(text, is_unicode_whitespace)), SplitBehavior::Removed);
    });
  }
};

bool is_punctuation_char(char32_t cp) {
  if (cp < 0x80) return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) || (cp >= 0x7B && cp <= 0x7E);
  return is_unicode_punctuation(cp);
}

class PunctuationPreTokenizer : public PreTokenizer {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior behavior) : behavior_(behavior) {}
  void pre_tokenize(std::vector<PreSplit>& splits) const override {
    split_each(splits, [&](const std::string& text) {
      return apply_split_behavior(pieces_from_matches(text, char_matches(text, is_punctuation_char)), behavior_);
    });
  }

 private:
  SplitBehavior behavior_;
};

class BertPreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<PreSplit>& splits) const override {
    whitespace_.pre_tokenize(splits);
    punctuation_.pre_tokenize(splits);
  }

 private:
  WhitespaceSplitPreTokenizer whitespace_;
  PunctuationPreTokenizer punctuation_{SplitBehavior::Isolated};
};

}  // namespace

std::vector<PatternPiece> pieces_from_matches(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches) {
  std::vector<PatternPiece> pieces;
  if (text.empty()) {
    pieces.push_back({0, 0, false});
    return pieces;
  }
  pieces.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& [begin, end] : matches) {
    if (prev != begin) pieces.push_back({prev, begin, false});
    pieces.push_back({begin, end, true});
    prev = end;
  }
  if (prev != text.size()) pieces.push_back({prev, text.size(), false});
  return pieces;
}

std::vector<std::pair<size_t, size_t>> apply_split_behavior(const std::vector<PatternPiece>& pieces, SplitBehavior behavior) {
  std::vector<std::pair<size_t, size_t>> out;
  out.reserve(pieces.size());
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (const auto& p : pieces) out.emplace_back(p.begin, p.end);
      break;
    case SplitBehavior::Removed:
      for (const auto& p : pieces)
        if (!p.is_match) out.emplace_back(p.begin, p.end);
      break;
    case SplitBehavior::Contiguous: {
      bool previous_match = false;
      for (const auto& p : pieces) {
        if (p.is_match == previous_match && !out.empty())
          out.back().second = p.end;
        else
          out.emplace_back(p.begin, p.end);
        previous_match = p.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool previous_match = false;
      for (const auto& p : pieces) {
        if (p.is_match && !previous_match && !out.empty())
          out.back().second = p.end;
        else
          out.emplace_back(p.begin, p.end);
        previous_match = p.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool previous_match = false;
      for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty())
          out.back().first = it->begin;
        else
          out.emplace_back(it->begin, it->end);
        previous_match = it->is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
  return out;
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonNode& node) {
  const std::string type = node.at("type").as_string();
  if (type == "Sequence") {
    const JsonNode list = node.at("pretokenizers");
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (size_t i = 0; i < list.size(); ++i) parts.push_back(make_pre_tokenizer(list.at(i)));
    return std::make_unique<SequencePreTokenizer>(std::move(parts));
  }
  if (type == "Split")
    return std::make_unique<SplitPreTokenizer>(make_string_pattern(node.at("pattern")),
                                               parse_behavior(node.at("behavior")), node.boolean_or("invert", false));
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPreTokenizer>(node.boolean_or("add_prefix_space", true),
                                                   node.boolean_or("use_regex", true));
  if (type == "Metaspace") {
    const std::string replacement = node.at("replacement").as_string();
    if (code_point_count(replacement) != 1) node.at("replacement").fail("expected exactly one character");
    PrependScheme scheme = PrependScheme::Always;
    if (auto s = node.find("prepend_scheme")) {
      const std::string name = s->as_string();
      if (name == "always") scheme = PrependScheme::Always;
      else if (name == "first") scheme = PrependScheme::First;
      else if (name == "never") scheme = PrependScheme::Never;
      else s->fail("unsupported prepend_scheme '" + name + "' (expected always, first or never)");
    }
    if (auto legacy = node.find("add_prefix_space"); legacy && !legacy->as_bool()) {
      if (node.has("prepend_scheme") && scheme != PrependScheme::Never)
        legacy->fail("add_prefix_space false contradicts prepend_scheme");
      scheme = PrependScheme::Never;
    }
    return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, node.boolean_or("split", true));
  }
  if (type == "Digits") return std::make_unique<DigitsPreTokenizer>(node.boolean_or("individual_digits", false));
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPreTokenizer>();
  if (type == "Punctuation")
    return std::make_unique<PunctuationPreTokenizer>(node.has("behavior") ? parse_behavior(node.at("behavior")) : SplitBehavior::Isolated);
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
  node.at("type").fail("unsupported pre_tokenizer type '" + type +
                       "' (supported: Sequence, Split, ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit, "
                       "Punctuation, BertPreTokenizer)");
}

}  // namespace vista::text
