#include "text/post_processors.h"

#include <map>

#include "util/error.h"

namespace vista::text {

namespace {

struct SpecialTokenIds {
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
};

// One item of a template: a special token (by its key in special_tokens) or the sequence.
struct TemplatePiece {
  bool is_sequence = false;
  std::string special;  // key into special_tokens
};

class TemplateProcessing : public PostProcessor {
 public:
  TemplateProcessing(std::vector<TemplatePiece> single, std::map<std::string, SpecialTokenIds> specials)
      : single_(std::move(single)), specials_(std::move(specials)) {}
  void process(Encoding& encoding, bool add_special_tokens) const override {
    if (!add_special_tokens) return;
    Encoding out;
    out.ids.reserve(encoding.ids.size() + 4);
    out.tokens.reserve(encoding.tokens.size() + 4);
    for (const auto& piece : single_) {
      if (piece.is_sequence) {
        out.ids.insert(out.ids.end(), encoding.ids.begin(), encoding.ids.end());
        for (auto& token : encoding.tokens) out.tokens.push_back(std::move(token));
      } else {
        const SpecialTokenIds& special = specials_.at(piece.special);
        out.ids.insert(out.ids.end(), special.ids.begin(), special.ids.end());
        out.tokens.insert(out.tokens.end(), special.tokens.begin(), special.tokens.end());
      }
    }
    encoding = std::move(out);
  }

 private:
  std::vector<TemplatePiece> single_;
  std::map<std::string, SpecialTokenIds> specials_;
};

// [prefix] $A [suffix]
class WrapProcessing : public PostProcessor {
 public:
  WrapProcessing(SpecialTokenIds prefix, SpecialTokenIds suffix) : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  void process(Encoding& encoding, bool add_special_tokens) const override {
    if (!add_special_tokens) return;
    encoding.ids.insert(encoding.ids.begin(), prefix_.ids.begin(), prefix_.ids.end());
    encoding.tokens.insert(encoding.tokens.begin(), prefix_.tokens.begin(), prefix_.tokens.end());
    encoding.ids.insert(encoding.ids.end(), suffix_.ids.begin(), suffix_.ids.end());
    encoding.tokens.insert(encoding.tokens.end(), suffix_.tokens.begin(), suffix_.tokens.end());
  }

 private:
  SpecialTokenIds prefix_, suffix_;
};

class NoOpProcessing : public PostProcessor {
 public:
  void process(Encoding&, bool) const override {}
};

class SequenceProcessing : public PostProcessor {
 public:
  explicit SequenceProcessing(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  void process(Encoding& encoding, bool add_special_tokens) const override {
    for (const auto& part : parts_) part->process(encoding, add_special_tokens);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

std::vector<TemplatePiece> parse_template(const JsonNode& list, const std::map<std::string, SpecialTokenIds>& specials) {
  std::vector<TemplatePiece> pieces;
  for (size_t i = 0; i < list.size(); ++i) {
    const JsonNode item = list.at(i);
    if (auto special = item.find("SpecialToken")) {
      const std::string id = special->at("id").as_string();
      if (!specials.count(id)) special->at("id").fail("special token '" + id + "' is not listed in special_tokens");
      pieces.push_back(TemplatePiece{false, id});
    } else if (auto sequence = item.find("Sequence")) {
      const std::string id = sequence->at("id").as_string();
      if (id != "A" && id != "B") sequence->at("id").fail("expected sequence id A or B, got '" + id + "'");
      pieces.push_back(TemplatePiece{true, id});
    } else {
      item.fail("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
    }
  }
  return pieces;
}

// BertProcessing / RobertaProcessing store tokens as ["[CLS]", 101].
SpecialTokenIds parse_token_pair(const JsonNode& node) {
  if (!node.is_array() || node.size() != 2) node.fail("expected a [token, id] pair");
  SpecialTokenIds out;
  out.tokens.push_back(node.at(0).as_string());
  out.ids.push_back(node.at(1).as_int());
  return out;
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const JsonNode& node) {
  const std::string type = node.at("type").as_string();
  if (type == "TemplateProcessing") {
    std::map<std::string, SpecialTokenIds> specials;
    if (auto list = node.find("special_tokens")) {
      for (auto it = list->as_object().begin(); it != list->as_object().end(); ++it) {
        const JsonNode entry = list->at(it.key());
        SpecialTokenIds ids;
        const JsonNode id_list = entry.at("ids");
        const JsonNode token_list = entry.at("tokens");
        for (size_t i = 0; i < id_list.size(); ++i) ids.ids.push_back(id_list.at(i).as_int());
        for (size_t i = 0; i < token_list.size(); ++i) ids.tokens.push_back(token_list.at(i).as_string());
        if (ids.ids.size() != ids.tokens.size()) entry.fail("expected as many ids as tokens");
        specials[it.key()] = std::move(ids);
      }
    }
    auto single = parse_template(node.at("single"), specials);
    if (node.has("pair")) parse_template(node.at("pair"), specials);  // validated; pairs are not encoded here
    return std::make_unique<TemplateProcessing>(std::move(single), std::move(specials));
  }
  if (type == "ByteLevel") return std::make_unique<NoOpProcessing>();  // only trims offsets
  if (type == "BertProcessing") return std::make_unique<WrapProcessing>(parse_token_pair(node.at("cls")), parse_token_pair(node.at("sep")));
  if (type == "RobertaProcessing")
    return std::make_unique<WrapProcessing>(parse_token_pair(node.at("cls")), parse_token_pair(node.at("sep")));
  if (type == "Sequence") {
    const JsonNode list = node.at("processors");
    std::vector<std::unique_ptr<PostProcessor>> parts;
    for (size_t i = 0; i < list.size(); ++i) parts.push_back(make_post_processor(list.at(i)));
    return std::make_unique<SequenceProcessing>(std::move(parts));
  }
  node.at("type").fail("unsupported post_processor type '" + type +
                       "' (supported: TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence)");
}

}  // namespace vista::text
