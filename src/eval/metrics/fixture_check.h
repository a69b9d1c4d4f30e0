#pragma once
// Checks the scorers against a metrics reference fixture folder (shared fixtures metrics_v1 layout:
// <set>/<kind>/cases.jsonl [+ expected.json + the official input files], <set>/index.json). Every
// output field of every case line and of expected.json is recomputed and compared: strings
// byte-for-byte, counts exactly, floats bit-for-bit (the fixtures write Python's shortest repr, which
// parses back to the same double). Inputs and metadata fields (ids, categories, commands) are read,
// not compared; a field the checker does not know is reported as a failure, never skipped.
// Used by the unit tests and by `vista check-fixtures` (src/fixtures/case_metrics.cpp).
#include <string>
#include <vector>

namespace vista::eval {

struct FieldCheck {
  std::string name;        // "<case id>.<field>", "expected.<field>...", "files.<name>"
  bool pass = false;
  double abs_error = 0.0;  // |expected - actual| for numbers, 0 otherwise
  std::string detail;      // on failure: expected vs actual; on success: "(exact)"
};

// The kinds (= folder names) this module checks:
// answer_normalize, vqa_accuracy, anls, pope, scienceqa, mme, gqa.
const std::vector<std::string>& metrics_fixture_kinds();

// Runs the scorer of `kind` on the fixture folder and compares every field. Throws vista::Error when the
// folder cannot be read at all (missing cases.jsonl, unknown kind); scorer errors on a case become
// failing checks.
std::vector<FieldCheck> check_metrics_fixture(const std::string& folder, const std::string& kind);

}  // namespace vista::eval
