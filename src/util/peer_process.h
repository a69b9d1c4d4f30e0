#pragma once
// Running the Python peers of the benchmarks (bench/peer: PyTorch + transformers in a virtual
// environment that bench/peer/setup_peer.sh makes) from vista's own bench commands.
#include <nlohmann/json.hpp>
#include <string>

namespace vista {

// Runs a shell command and returns its stdout (stderr passes through); fails on a non-zero status.
std::string run_capturing(const std::string& command);
std::string shell_quoted(const std::string& s);

// Runs `peer_dir`/`script` with `arguments` (already quoted) in the peer's environment and returns
// the last JSON line it printed.
nlohmann::json run_peer_script(const std::string& peer_dir, const std::string& script, const std::string& arguments);

}  // namespace vista
