// The general multiple-choice letter extractor (vista's own rules, documented in multiple_choice.h;
// no reference fixture exists): hand-written responses whose intended letter is obvious from the text.
#include <gtest/gtest.h>

#include "eval/metrics/multiple_choice.h"
#include "test_util.h"

namespace vista::eval {
namespace {

struct Case {
  const char* response;
  char letter;  // 0 = no answer
  const char* rule;
};

TEST(MultipleChoice, LettersFromTypicalResponses) {
  const Case cases[] = {
      {"B", 'B', "whole"},
      {"b", 'B', "whole"},
      {"  C\n", 'C', "whole"},
      {"(D)", 'D', "whole"},
      {"[A]", 'A', "whole"},
      {"A.", 'A', "whole"},
      {"B)", 'B', "whole"},
      {"B. Paris is the capital.", 'B', "leading"},
      {"(C) a red apple", 'C', "leading"},
      {"D: because it floats", 'D', "leading"},
      {"The answer is B.", 'B', "answer"},
      {"Answer: (C)", 'C', "answer"},
      {"I think the correct answer is option D, since it is the tallest.", 'D', "answer"},
      {"Looking at the chart, the best choice is option A.", 'A', "option"},
      {"It must be (B) given the shadows.", 'B', "paren"},
      {"Probably C given the context.", 'C', "standalone"},
      {"A cat is sitting on C.", 'C', "standalone"},  // "A cat": the article, not an option
  };
  for (const auto& c : cases) {
    const auto r = extract_choice(c.response, 4);
    EXPECT_EQ(r.letter, c.letter) << c.response;
    EXPECT_EQ(r.rule, c.rule) << c.response;
    EXPECT_EQ(r.index, c.letter ? c.letter - 'A' : -1) << c.response;
  }
}

TEST(MultipleChoice, AmbiguousOrInvalidGivesNoAnswer) {
  for (const char* response : {"", "   ", "E", "(E)", "B and C both look right", "I am not sure.",
                               "None of the options.", "The answer is e"}) {
    const auto r = extract_choice(response, 4);
    EXPECT_EQ(r.index, -1) << response;
    EXPECT_EQ(r.rule, "none") << response;
  }
  EXPECT_EQ(extract_choice("E", 5).letter, 'E');  // valid with five options
}

TEST(MultipleChoice, OptionTextsResolveContentAnswers) {
  const std::vector<std::string> options = {"London", "Paris", "Rome", "Berlin"};
  EXPECT_EQ(extract_choice("Paris", 4, options).letter, 'B');
  EXPECT_EQ(extract_choice("paris.", 4, options).letter, 'B');
  EXPECT_EQ(extract_choice("The city shown is Rome, clearly.", 4, options).letter, 'C');
  EXPECT_EQ(extract_choice("A cat is on the mat.", 3, {"dog", "cat", "bird"}).letter, 'B');
  EXPECT_EQ(extract_choice("Either London or Paris.", 4, options).index, -1);
  EXPECT_EQ(extract_choice("Parisian food", 4, options).index, -1);  // whole words only
}

TEST(MultipleChoice, AccuracyAndArguments) {
  std::vector<ChoiceExtraction> extracted = {extract_choice("A", 4), extract_choice("B", 4), extract_choice("?", 4)};
  EXPECT_DOUBLE_EQ(multiple_choice_accuracy(extracted, {0, 2, 1}), 1.0 / 3.0);
  expect_error_containing([] { extract_choice("A", 0); }, {"num_options"});
  expect_error_containing([&] { multiple_choice_accuracy(extracted, {0}); }, {"3 extractions", "1 answers"});
}

}  // namespace
}  // namespace vista::eval
