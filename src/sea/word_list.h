#pragma once
// SEA's word list: the vocabulary patches are labelled with. Built from the captions of the
// pretraining data by a documented rule (docs/method.md, SEA): every caption turn is lower-cased
// and split into runs of ASCII letters; runs of 3+ letters that are not stop words are counted
// once per occurrence; words seen at least min_count times are kept, most frequent first (ties in
// alphabetical order). The file is one word per line, optionally followed by a tab and its count.
#include <cstdint>
#include <string>
#include <vector>

#include "data/records.h"

namespace vista::sea {

struct WordCount {
  std::string word;
  int64_t count = 0;
};

struct WordListOptions {
  int64_t min_count = 2;
  int64_t max_words = 0;  // 0 = all
};

// Counts the words of every model ("gpt") turn of the records; records without an image are skipped.
std::vector<WordCount> build_word_list(const data::RecordFile& records, const WordListOptions& options);

void write_word_list(const std::string& path, const std::vector<WordCount>& words);
// Errors name the file and line: an empty word, inner white space, a duplicate, a bad count.
std::vector<std::string> read_word_list(const std::string& path);

}  // namespace vista::sea
