#pragma once
// Checks a tokenizer against a cases.jsonl parity file (one JSON object per line with text, ids,
// ids_with_special, tokens, tokens_with_special, decoded, decoded_with_special,
// decoded_skip_special) and describes the first mismatch with a readable diff.
#include <optional>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace vista::text {

struct CaseCheckResult {
  size_t total = 0;
  size_t passed = 0;
  std::vector<std::string> failed_ids;        // ids of every failing case
  std::optional<std::string> first_mismatch;  // readable description of the first failing field
  bool ok() const { return total > 0 && passed == total; }
};

// Every case and field is compared; the file must exist and every line must be a valid case
// (otherwise vista::Error names the file, the line and the field).
CaseCheckResult check_cases(const Tokenizer& tokenizer, const std::string& cases_path);

// The fields compared, in order.
const std::vector<std::string>& case_fields();

}  // namespace vista::text
