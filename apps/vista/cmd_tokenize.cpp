// `vista tokenize`: encode a text with a Hugging Face tokenizer.json, or check a tokenizer against a
// cases.jsonl parity file.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "apps/vista/commands.h"
#include "text/case_check.h"
#include "text/tokenizer.h"
#include "text/utf8.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_tokenize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "encode text with a tokenizer.json, or check it against a cases.jsonl file");
  struct Args {
    std::string tokenizer, check, text;
    bool special = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--tokenizer", args->tokenizer, "folder with tokenizer.json (and tokenizer_config.json)")->required();
  cmd->add_option("--check", args->check, "cases.jsonl parity file: compare every case, print the first mismatch");
  cmd->add_flag("--special", args->special, "add the post-processor's special tokens (e.g. a leading <s>)");
  cmd->add_option("text", args->text, "text to encode");
  return [args](const GlobalOptions&) {
    const auto tokenizer = text::Tokenizer::from_dir(args->tokenizer);
    if (!args->check.empty()) {
      if (!args->text.empty()) fail("tokenize: give either TEXT or --check, not both");
      const auto result = text::check_cases(tokenizer, args->check);
      if (result.first_mismatch) fmt::print("first mismatch: {}\n", *result.first_mismatch);
      if (!result.failed_ids.empty()) {
        std::string ids;
        for (size_t i = 0; i < result.failed_ids.size() && i < 20; ++i) ids += (i ? ", " : "") + result.failed_ids[i];
        if (result.failed_ids.size() > 20) ids += ", ...";
        fmt::print("failing cases: {}\n", ids);
      }
      fmt::print("{}: {}/{} cases pass ({} fields each) with {}\n", args->check, result.passed, result.total,
                 text::case_fields().size(), tokenizer.source());
      return result.ok() ? 0 : 1;
    }
    const auto encoding = tokenizer.encode(args->text, args->special);
    std::string ids, tokens;
    for (size_t i = 0; i < encoding.ids.size(); ++i) {
      ids += (i ? ", " : "") + std::to_string(encoding.ids[i]);
      tokens += (i ? ", \"" : "\"") + text::escape_for_message(encoding.tokens[i], 200) + "\"";
    }
    fmt::print("ids ({}): [{}]\ntokens: [{}]\n", encoding.ids.size(), ids, tokens);
    fmt::print("decoded: \"{}\"\n", text::escape_for_message(tokenizer.decode(encoding.ids, false), 100000));
    return 0;
  };
}

}  // namespace vista::app
