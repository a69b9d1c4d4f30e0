#pragma once
// The EvalAI / m4c answer normaliser (LLaVA llava/eval/m4c_evaluator.py EvalAIAnswerProcessor),
// applied to predictions and to every ground-truth answer by the VQA scorers. Reproduces the
// official code exactly, quirks included (metrics_v1/README.md):
//   word_tokenize: Python lower() (full Unicode, Final_Sigma), delete ',' and '?', "'s" -> " 's", strip()
//   then '\n' / '\t' -> ' ', strip()
//   process_punctuation: for each of ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? ! in that order, tested on the
//     string ENTERING the step: deleted everywhere when "p " or " p" occurs, else replaced by a space;
//     then every '.' not followed by a Unicode decimal digit is deleted, at most 32 of them (leftmost first)
//   process_digit_article: lower(), split(), none/zero/one..ten -> digits, drop a/an/the, contraction table,
//     join with single spaces.
// Strings are UTF-8; lengths and positions are code points.
#include <string>
#include <string_view>

namespace vista::eval {

struct AnswerNormalizeStages {
  std::string word_tokenize;        // EvalAIAnswerProcessor.word_tokenize(input)
  std::string newline_tab_strip;    // .replace("\n", " ").replace("\t", " ").strip()
  std::string process_punctuation;  // process_punctuation(...)
  std::string output;               // process_digit_article(...) = __call__(input)
};

// Every intermediate string of EvalAIAnswerProcessor.__call__(input).
AnswerNormalizeStages answer_normalize_stages(std::string_view input);
// EvalAIAnswerProcessor()(input).
std::string answer_normalize(std::string_view input);

// The stages on their own (code points), for callers that already hold decoded text.
std::u32string evalai_word_tokenize(std::u32string_view text);
std::u32string evalai_process_punctuation(std::u32string_view text);
std::u32string evalai_process_digit_article(std::u32string_view text);

}  // namespace vista::eval
