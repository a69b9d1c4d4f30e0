#pragma once
// LLaVA conversation records and the prompt templates of docs/method.md §2.1 (byte-exact strings).
#include <optional>
#include <string>
#include <vector>

namespace vista::data {

inline constexpr const char* kImageToken = "<image>";

struct Turn {
  std::string from;  // "human" or "gpt"
  std::string value;
};

struct Conversation {
  std::vector<Turn> turns;
};

enum class TemplateKind { kPlain, kPretrain, kVicunaV1, kPhi };

struct Template {
  TemplateKind kind = TemplateKind::kVicunaV1;
  std::string name;
  std::string system;      // empty for plain / pretrain
  std::string terminator;  // ends every answer: "</s>" (vicuna_v1), "<|endoftext|>" (phi), "\n" (plain)
  bool is_plain() const { return kind == TemplateKind::kPlain || kind == TemplateKind::kPretrain; }
};

// plain, pretrain, vicuna_v1 (alias v1), phi. Throws for other names, listing the valid ones.
Template get_template(const std::string& name);

// LLaVA stage-2 normalisation: in the turn holding <image>, remove it, strip, prefix "<image>\n".
Conversation normalize_image_token(const Conversation& conversation);

// The full training string.
//   plain/pretrain: "<image>" + caption + "\n" (the human instruction is discarded)
//   vicuna_v1/phi:  SYS + " USER: " + q1 + " ASSISTANT: " + a1 + TERM + "USER: " + q2 + ...
std::string render_prompt(const Template& tmpl, const Conversation& conversation);

// The prompt a model continues at inference: "... USER: <image>\n{q} ASSISTANT:" (no trailing
// space). `question` is used as given (include "<image>\n" yourself or pass has_image).
std::string generation_prompt(const Template& tmpl, const std::string& question, bool has_image);

// Where each answer of render_prompt's string begins and ends (byte offsets), for label spans:
// answer_begin is right after "ASSISTANT:" (before its space), answer_end right after the terminator.
struct AnswerSpan {
  size_t answer_begin = 0;
  size_t answer_end = 0;
};
std::vector<AnswerSpan> answer_spans(const Template& tmpl, const Conversation& conversation);

}  // namespace vista::data
