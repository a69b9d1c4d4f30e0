#pragma once
// Post-processors of tokenizer.json ("post_processor"): TemplateProcessing, ByteLevel (no token
// changes), BertProcessing, RobertaProcessing, Sequence. They add special tokens around a single
// sequence when add_special_tokens is true.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/json_node.h"

namespace vista::text {

struct Encoding {
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void process(Encoding& encoding, bool add_special_tokens) const = 0;
};

std::unique_ptr<PostProcessor> make_post_processor(const JsonNode& node);

}  // namespace vista::text
