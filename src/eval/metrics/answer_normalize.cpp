#include "eval/metrics/answer_normalize.h"

#include <string>
#include <unordered_map>
#include <vector>

#include "eval/metrics/python_text.h"

namespace vista::eval {

namespace {

// EvalAIAnswerProcessor.CONTRACTIONS, verbatim (keys with capitals or "'s" can never match: the
// input is lower-cased and "'s" became " 's" before the lookup; "somebody'd" maps to "somebodyd").
const std::unordered_map<std::u32string, std::u32string>& contractions() {
  static const std::unordered_map<std::u32string, std::u32string> table = {
      {U"aint", U"ain't"}, {U"arent", U"aren't"}, {U"cant", U"can't"}, {U"couldve", U"could've"},
      {U"couldnt", U"couldn't"}, {U"couldn'tve", U"couldn't've"}, {U"couldnt've", U"couldn't've"},
      {U"didnt", U"didn't"}, {U"doesnt", U"doesn't"}, {U"dont", U"don't"}, {U"hadnt", U"hadn't"},
      {U"hadnt've", U"hadn't've"}, {U"hadn'tve", U"hadn't've"}, {U"hasnt", U"hasn't"}, {U"havent", U"haven't"},
      {U"hed", U"he'd"}, {U"hed've", U"he'd've"}, {U"he'dve", U"he'd've"}, {U"hes", U"he's"}, {U"howd", U"how'd"},
      {U"howll", U"how'll"}, {U"hows", U"how's"}, {U"Id've", U"I'd've"}, {U"I'dve", U"I'd've"}, {U"Im", U"I'm"},
      {U"Ive", U"I've"}, {U"isnt", U"isn't"}, {U"itd", U"it'd"}, {U"itd've", U"it'd've"}, {U"it'dve", U"it'd've"},
      {U"itll", U"it'll"}, {U"let's", U"let's"}, {U"maam", U"ma'am"}, {U"mightnt", U"mightn't"},
      {U"mightnt've", U"mightn't've"}, {U"mightn'tve", U"mightn't've"}, {U"mightve", U"might've"},
      {U"mustnt", U"mustn't"}, {U"mustve", U"must've"}, {U"neednt", U"needn't"}, {U"notve", U"not've"},
      {U"oclock", U"o'clock"}, {U"oughtnt", U"oughtn't"}, {U"ow's'at", U"'ow's'at"}, {U"'ows'at", U"'ow's'at"},
      {U"'ow'sat", U"'ow's'at"}, {U"shant", U"shan't"}, {U"shed've", U"she'd've"}, {U"she'dve", U"she'd've"},
      {U"she's", U"she's"}, {U"shouldve", U"should've"}, {U"shouldnt", U"shouldn't"},
      {U"shouldnt've", U"shouldn't've"}, {U"shouldn'tve", U"shouldn't've"}, {U"somebody'd", U"somebodyd"},
      {U"somebodyd've", U"somebody'd've"}, {U"somebody'dve", U"somebody'd've"}, {U"somebodyll", U"somebody'll"},
      {U"somebodys", U"somebody's"}, {U"someoned", U"someone'd"}, {U"someoned've", U"someone'd've"},
      {U"someone'dve", U"someone'd've"}, {U"someonell", U"someone'll"}, {U"someones", U"someone's"},
      {U"somethingd", U"something'd"}, {U"somethingd've", U"something'd've"},
      {U"something'dve", U"something'd've"}, {U"somethingll", U"something'll"}, {U"thats", U"that's"},
      {U"thered", U"there'd"}, {U"thered've", U"there'd've"}, {U"there'dve", U"there'd've"},
      {U"therere", U"there're"}, {U"theres", U"there's"}, {U"theyd", U"they'd"}, {U"theyd've", U"they'd've"},
      {U"they'dve", U"they'd've"}, {U"theyll", U"they'll"}, {U"theyre", U"they're"}, {U"theyve", U"they've"},
      {U"twas", U"'twas"}, {U"wasnt", U"wasn't"}, {U"wed've", U"we'd've"}, {U"we'dve", U"we'd've"},
      {U"weve", U"we've"}, {U"werent", U"weren't"}, {U"whatll", U"what'll"}, {U"whatre", U"what're"},
      {U"whats", U"what's"}, {U"whatve", U"what've"}, {U"whens", U"when's"}, {U"whered", U"where'd"},
      {U"wheres", U"where's"}, {U"whereve", U"where've"}, {U"whod", U"who'd"}, {U"whod've", U"who'd've"},
      {U"who'dve", U"who'd've"}, {U"wholl", U"who'll"}, {U"whos", U"who's"}, {U"whove", U"who've"},
      {U"whyll", U"why'll"}, {U"whyre", U"why're"}, {U"whys", U"why's"}, {U"wont", U"won't"},
      {U"wouldve", U"would've"}, {U"wouldnt", U"wouldn't"}, {U"wouldnt've", U"wouldn't've"},
      {U"wouldn'tve", U"wouldn't've"}, {U"yall", U"y'all"}, {U"yall'll", U"y'all'll"}, {U"y'allll", U"y'all'll"},
      {U"yall'd've", U"y'all'd've"}, {U"y'alld've", U"y'all'd've"}, {U"y'all'dve", U"y'all'd've"},
      {U"youd", U"you'd"}, {U"youd've", U"you'd've"}, {U"you'dve", U"you'd've"}, {U"youll", U"you'll"},
      {U"youre", U"you're"}, {U"youve", U"you've"},
  };
  return table;
}

// NUMBER_MAP (its setdefault side effect only ever adds word -> word entries, which change nothing).
const std::unordered_map<std::u32string, std::u32string>& number_map() {
  static const std::unordered_map<std::u32string, std::u32string> table = {
      {U"none", U"0"}, {U"zero", U"0"}, {U"one", U"1"}, {U"two", U"2"},   {U"three", U"3"}, {U"four", U"4"},
      {U"five", U"5"}, {U"six", U"6"},  {U"seven", U"7"}, {U"eight", U"8"}, {U"nine", U"9"},  {U"ten", U"10"},
  };
  return table;
}

constexpr char32_t kPunctuations[] = {U';', U'/', U'[', U']', U'"', U'{', U'}', U'(', U')', U'=', U'+',
                                      U'\\', U'_', U'-', U'>', U'<', U'@', U'`', U',', U'?', U'!'};

// re.search(r"(?<=\d)(\,)+(?=\d)", text): a run of commas with a decimal digit on both sides.
bool comma_strip_matches(std::u32string_view s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] != U',' || !py::is_decimal(s[i - 1])) continue;
    size_t j = i;
    while (j < s.size() && s[j] == U',') ++j;
    if (j < s.size() && py::is_decimal(s[j])) return true;
  }
  return false;
}

}  // namespace

std::u32string evalai_word_tokenize(std::u32string_view text) {
  std::u32string word = py::lower(text);
  word = py::replace(word, U",", U"");
  word = py::replace(word, U"?", U"");
  word = py::replace(word, U"'s", U" 's");
  return py::strip(word);
}

std::u32string evalai_process_punctuation(std::u32string_view in_text) {
  std::u32string out(in_text);
  const bool comma_strip = comma_strip_matches(in_text);
  for (const char32_t p : kPunctuations) {
    const std::u32string p_space{p, U' '}, space_p{U' ', p};
    const std::u32string pattern(1, p);
    if (py::contains(in_text, p_space) || py::contains(in_text, space_p) || comma_strip)
      out = py::replace(out, pattern, U"");
    else
      out = py::replace(out, pattern, U" ");
  }
  // PERIOD_STRIP.sub("", out, re.UNICODE): the mistyped look-behind "(?!<=\d)" is a look-ahead that always
  // holds, so every '.' not followed by a decimal digit goes; re.UNICODE (= 32) lands in `count`.
  std::u32string result;
  result.reserve(out.size());
  int removed = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == U'.' && removed < 32 && !(i + 1 < out.size() && py::is_decimal(out[i + 1]))) {
      ++removed;
      continue;
    }
    result.push_back(out[i]);
  }
  return result;
}

std::u32string evalai_process_digit_article(std::u32string_view in_text) {
  std::vector<std::u32string> words;
  for (auto& word : py::split(py::lower(in_text))) {
    const auto number = number_map().find(word);
    if (number != number_map().end()) word = number->second;
    if (word == U"a" || word == U"an" || word == U"the") continue;
    words.push_back(std::move(word));
  }
  std::u32string out;
  for (size_t i = 0; i < words.size(); ++i) {
    const auto contraction = contractions().find(words[i]);
    if (i > 0) out.push_back(U' ');
    out += contraction != contractions().end() ? contraction->second : words[i];
  }
  return out;
}

AnswerNormalizeStages answer_normalize_stages(std::string_view input) {
  AnswerNormalizeStages stages;
  const std::u32string tokenized = evalai_word_tokenize(utf8_to_u32(input, "answer"));
  const std::u32string stripped = py::strip(py::replace(py::replace(tokenized, U"\n", U" "), U"\t", U" "));
  const std::u32string punctuated = evalai_process_punctuation(stripped);
  stages.word_tokenize = u32_to_utf8(tokenized);
  stages.newline_tab_strip = u32_to_utf8(stripped);
  stages.process_punctuation = u32_to_utf8(punctuated);
  stages.output = u32_to_utf8(evalai_process_digit_article(punctuated));
  return stages;
}

std::string answer_normalize(std::string_view input) { return answer_normalize_stages(input).output; }

}  // namespace vista::eval
