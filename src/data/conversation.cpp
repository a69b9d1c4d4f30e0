#include "data/conversation.h"

#include "util/error.h"

namespace vista::data {

namespace {

const char* kVicunaSystem =
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
    "detailed, and polite answers to the user's questions.";

std::string strip(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\n\r\f\v");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(begin, end - begin + 1);
}

void require_alternating(const Conversation& c) {
  if (c.turns.empty()) fail("conversation has no turns");
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const char* expected = i % 2 == 0 ? "human" : "gpt";
    if (c.turns[i].from != expected)
      fail("conversation turn {} is from '{}', expected '{}' (turns must alternate human/gpt, starting with human)", i,
           c.turns[i].from, expected);
  }
}

}  // namespace

Template get_template(const std::string& name) {
  Template t;
  t.name = name;
  if (name == "plain") {
    t.kind = TemplateKind::kPlain;
    t.terminator = "\n";
  } else if (name == "pretrain") {
    t.kind = TemplateKind::kPretrain;
    t.terminator = "\n";
  } else if (name == "vicuna_v1" || name == "v1") {
    t.kind = TemplateKind::kVicunaV1;
    t.system = kVicunaSystem;
    t.terminator = "</s>";
  } else if (name == "phi") {
    t.kind = TemplateKind::kPhi;
    t.system = kVicunaSystem;
    t.terminator = "<|endoftext|>";
  } else {
    fail("unknown conversation template '{}' (expected plain, pretrain, vicuna_v1 or phi)", name);
  }
  return t;
}

Conversation normalize_image_token(const Conversation& conversation) {
  Conversation out = conversation;
  for (auto& turn : out.turns) {
    if (turn.value.find(kImageToken) == std::string::npos) continue;
    std::string v = turn.value;
    for (size_t p; (p = v.find(kImageToken)) != std::string::npos;) v.erase(p, std::string(kImageToken).size());
    turn.value = std::string(kImageToken) + "\n" + strip(v);
  }
  return out;
}

std::vector<AnswerSpan> answer_spans(const Template& tmpl, const Conversation& conversation) {
  require_alternating(conversation);
  std::vector<AnswerSpan> spans;
  if (tmpl.is_plain()) {
    if (conversation.turns.size() < 2) fail("plain template needs a caption turn (from 'gpt')");
    // "<image>" + caption + "\n": the whole caption and the newline are supervised.
    spans.push_back({std::string(kImageToken).size(), render_prompt(tmpl, conversation).size()});
    return spans;
  }
  std::string text = tmpl.system + " ";
  for (size_t i = 0; i + 1 < conversation.turns.size(); i += 2) {
    text += "USER: " + conversation.turns[i].value + " ASSISTANT:";
    AnswerSpan span;
    span.answer_begin = text.size();
    text += " " + conversation.turns[i + 1].value + tmpl.terminator;
    span.answer_end = text.size();
    spans.push_back(span);
  }
  return spans;
}

std::string render_prompt(const Template& tmpl, const Conversation& conversation) {
  require_alternating(conversation);
  if (tmpl.is_plain()) {
    if (conversation.turns.size() < 2) fail("plain template needs a caption turn (from 'gpt')");
    return std::string(kImageToken) + conversation.turns[1].value + "\n";
  }
  std::string text = tmpl.system + " ";
  for (size_t i = 0; i < conversation.turns.size(); ++i) {
    if (i % 2 == 0)
      text += "USER: " + conversation.turns[i].value + " ";
    else
      text += "ASSISTANT: " + conversation.turns[i].value + tmpl.terminator;
  }
  return text;
}

std::string generation_prompt(const Template& tmpl, const std::string& question, bool has_image) {
  const std::string q = has_image && question.find(kImageToken) == std::string::npos
                            ? std::string(kImageToken) + "\n" + question
                            : question;
  if (tmpl.is_plain()) return has_image ? std::string(kImageToken) : "";
  return tmpl.system + " USER: " + q + " ASSISTANT:";
}

}  // namespace vista::data
