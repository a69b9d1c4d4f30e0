#include <fmt/format.h>

#include <iostream>

#include "apps/vista/commands.h"
#include "fixtures/check_runner.h"

namespace vista::app {

namespace {
std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char ch : text) {
    if (ch == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else {
      item.push_back(ch);
    }
  }
  if (!item.empty()) out.push_back(item);
  return out;
}
}  // namespace

CommandRunner add_check_fixtures_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("check-fixtures",
                                 "rebuild reference fixture cases and compare every tensor with its tolerance");
  struct Args {
    std::string path, cases, only;
    bool strict = false, quiet = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("path", args->path, "fixture folder (every manifest.json below it is a case)")->required();
  cmd->add_option("--case", args->cases, "comma-separated case names (default: all)");
  cmd->add_option("--only", args->only, "comma-separated tensor-name globs, e.g. 'vision.*,loss.ce'");
  cmd->add_flag("--strict", args->strict, "unsupported kinds count as failures");
  cmd->add_flag("--quiet", args->quiet, "print failing tensors only");
  return [args](const GlobalOptions& global) {
    fixtures::CheckOptions options;
    options.cases = split_commas(args->cases);
    options.only = split_commas(args->only);
    options.strict = args->strict;
    options.verbose_pass = !args->quiet;
    options.device = torch::Device(global.device);
    const auto summary = fixtures::check_fixtures(args->path, options, std::cout);
    return summary.ok(args->strict) ? 0 : 1;
  };
}

}  // namespace vista::app
