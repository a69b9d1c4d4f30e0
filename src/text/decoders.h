#pragma once
// Decoders of tokenizer.json ("decoder"): ByteLevel, Replace, ByteFallback, Fuse, Strip,
// Metaspace, Sequence (and WordPiece-free basics). Each transforms the list of token strings;
// the final string is the concatenation.
#include <memory>
#include <string>
#include <vector>

#include "util/json_node.h"

namespace vista::text {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
  std::string decode(std::vector<std::string> tokens) const;
};

std::unique_ptr<Decoder> make_decoder(const JsonNode& node);

}  // namespace vista::text
