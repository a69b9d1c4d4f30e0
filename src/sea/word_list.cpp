#include "sea/word_list.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <unordered_map>

#include "util/error.h"

namespace vista::sea {

namespace {

// Function words that carry no visual content; captions are full of them.
const std::set<std::string>& stop_words() {
  static const std::set<std::string> words = {
      "the",   "and",   "are",   "was",   "were", "with",    "that",    "this",  "these", "those", "there", "their",
      "they",  "them",  "for",   "from",  "into", "onto",    "over",    "under", "has",   "have",  "had",   "its",
      "his",   "her",   "she",   "him",   "you",  "your",    "our",     "not",   "but",   "can",   "could", "would",
      "will",  "may",   "might", "also",  "some", "any",     "all",     "each",  "which", "what",  "who",   "whom",
      "where", "when",  "while", "than",  "then", "very",    "just",    "being", "been",  "about", "above", "below",
      "near",  "next",  "other", "such",  "only", "both",    "more",    "most",  "one",   "two",   "image", "picture",
      "photo", "shows", "show",  "shown", "seen", "appears", "visible", "here",  "out",   "off",   "down",  "upon"};
  return words;
}

}  // namespace

std::vector<WordCount> build_word_list(const data::RecordFile& records, const WordListOptions& options) {
  std::unordered_map<std::string, int64_t> counts;
  const auto& stops = stop_words();
  for (size_t i = 0; i < records.size(); ++i) {
    const auto record = records.record(i);
    if (!record.image) continue;
    for (const auto& turn : record.conversation.turns) {
      if (turn.from != "gpt") continue;
      std::string word;
      auto flush = [&] {
        if (word.size() >= 3 && !stops.count(word)) ++counts[word];
        word.clear();
      };
      for (const char ch : turn.value) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) word += static_cast<char>(c | 0x20);
        else flush();
      }
      flush();
    }
  }
  std::vector<WordCount> out;
  for (const auto& [word, count] : counts)
    if (count >= options.min_count) out.push_back({word, count});
  std::sort(out.begin(), out.end(), [](const WordCount& a, const WordCount& b) {
    return a.count != b.count ? a.count > b.count : a.word < b.word;
  });
  if (options.max_words > 0 && static_cast<int64_t>(out.size()) > options.max_words) out.resize(options.max_words);
  return out;
}

void write_word_list(const std::string& path, const std::vector<WordCount>& words) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) fail("{}: cannot open for writing", tmp);
    for (const auto& w : words) out << w.word << '\t' << w.count << '\n';
    if (!out) fail("{}: write failed", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("{}: cannot rename to {}", tmp, path);
}

std::vector<std::string> read_word_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open the word list", path);
  std::vector<std::string> words;
  std::set<std::string> seen;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto tab = line.find('\t');
    const std::string word = line.substr(0, tab);
    if (word.empty()) fail("{}:{}: empty word (expected one word per line, optionally '<tab>count')", path, number);
    if (word.find_first_of(" \t\v\f") != std::string::npos)
      fail("{}:{}: '{}' holds white space; a label is one word", path, number, word);
    if (tab != std::string::npos) {
      const std::string count = line.substr(tab + 1);
      if (count.empty() || count.find_first_not_of("0123456789") != std::string::npos)
        fail("{}:{}: count '{}' after the tab is not a non-negative integer", path, number, count);
    }
    if (!seen.insert(word).second) fail("{}:{}: '{}' is listed twice", path, number, word);
    words.push_back(word);
  }
  if (words.empty()) fail("{}: the word list is empty", path);
  return words;
}

}  // namespace vista::sea
