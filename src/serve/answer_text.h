#pragma once
// An answer's text as its tokens arrive: what can be shown now, and where a stop string ends it.
// Shown text is never taken back, so it is held back while it might still change: leading and
// trailing white space (the final answer is stripped as `vista generate` strips it), an
// incomplete UTF-8 character, and a tail that could be the start of a stop string.
#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace vista::serve {

class AnswerText {
 public:
  AnswerText(const text::Tokenizer& tokenizer, std::vector<std::string> stop);
  // Adds a token; returns the text that became safe to show (often empty).
  std::string push(int64_t token);
  // The answer has ended: the rest of the text, up to any stop string, without trailing space.
  std::string finish();
  bool stopped() const { return stopped_; }  // a stop string appeared: generation should end
  const std::string& shown() const { return shown_; }

 private:
  std::string safe_text(bool final);
  const text::Tokenizer& tokenizer_;
  std::vector<std::string> stop_;
  std::vector<int64_t> tokens_;
  std::string shown_;
  bool stopped_ = false;
};

}  // namespace vista::serve
