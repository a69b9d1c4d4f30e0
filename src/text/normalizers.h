#pragma once
// Normalizers of tokenizer.json ("normalizer"): Sequence, Prepend, Replace, NFC, NFD, NFKC,
// NFKD, Lowercase, Strip, StripAccents, ByteLevel. Each rewrites a string in place.
#include <memory>
#include <string>

#include "util/json_node.h"

namespace vista::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

// Builds the normalizer described by `node` (an object with "type"); unsupported types fail with
// the file, the field and the list of supported types.
std::unique_ptr<Normalizer> make_normalizer(const JsonNode& node);

}  // namespace vista::text
