#pragma once
// A general multiple-choice letter extractor for MMBench / MMStar / SEED-Bench / AI2D / MMMU-style
// questions whose prompt asks for "the option's letter". This is vista's own rule set (there is no
// official scorer to reproduce and no reference fixture): it is deliberately conservative and returns
// "no answer" (index -1, counted wrong) rather than guessing when a response is ambiguous.
//
// Options are the first `num_options` letters A, B, C, ... (at most 26). A letter beyond them is never
// an answer. The rules, first match wins (`rule` names it):
//   1. "whole":     the response, stripped of whitespace, trailing '.' and one pair of () [] wrappers
//                   or a trailing ')' ':' , is a single letter (either case: "B", "b", "(C)", "[D]", "A.", "B)").
//   2. "leading":   it starts with an upper-case option letter followed by '.', ')', ':' or ',', or with
//                   "(X)" / "[X]":  "B. Paris", "(C) red", "D: because ...".
//   3. "answer":    the first "answer" (any case) followed by optional "is", ":", "option"/"choice", and an
//                   optional "(" or "[", then an upper-case option letter not followed by a letter or
//                   digit: "The answer is B.", "Answer: (C)", "the correct answer is option D".
//   4. "option":    "option X" / "choice X" (any case keyword, upper-case X, same boundaries as 3): used when
//                   every such mention names the same letter.
//   5. "paren":     "(X)" with X an option letter: used when every such mention names the same letter.
//   6. "text":      option texts given: the response lower-cased, stripped and without trailing '.' equals
//                   exactly one option's text (same normalisation); else exactly one option's text occurs in
//                   it as a whole-word substring.
//   7. "standalone": upper-case option letters standing alone (not adjacent to a letter or digit), leaving
//                   out "A" and "I" when followed by a space and a lower-case letter (article / pronoun):
//                   used when they all name the same letter.
//   otherwise index -1, rule "none".
// Only ASCII letters are option letters; the response is UTF-8 and compared byte-wise otherwise.
#include <string>
#include <string_view>
#include <vector>

namespace vista::eval {

struct ChoiceExtraction {
  int index = -1;    // 0-based option index, -1 when no answer could be extracted
  char letter = 0;   // 'A' + index, 0 when none
  std::string rule;  // which rule decided ("whole", "leading", ..., "none")
};

ChoiceExtraction extract_choice(std::string_view response, int num_options,
                                const std::vector<std::string>& option_texts = {});

// Accuracy over items: the fraction whose extracted index equals the answer index (0 items -> throws).
double multiple_choice_accuracy(const std::vector<ChoiceExtraction>& extracted, const std::vector<int>& answers);

}  // namespace vista::eval
