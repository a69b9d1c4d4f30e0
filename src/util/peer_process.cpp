#include "util/peer_process.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "util/error.h"

namespace vista {

std::string run_capturing(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) fail("cannot run: {}", command);
  std::string out;
  std::array<char, 4096> buffer{};
  for (size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0;) out.append(buffer.data(), n);
  const int status = pclose(pipe.release());
  if (status != 0) fail("`{}` failed (status {})", command, status);
  return out;
}

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

nlohmann::json run_peer_script(const std::string& peer_dir, const std::string& script, const std::string& arguments) {
  const auto path = std::filesystem::path(peer_dir) / script;
  if (!std::filesystem::exists(path))
    fail("--peer: {} not found (run from a vista checkout, or pass --peer-dir DIR)", path.string());
  auto python = run_capturing("bash " + shell_quoted((std::filesystem::path(peer_dir) / "setup_peer.sh").string()));
  while (!python.empty() && (python.back() == '\n' || python.back() == ' ')) python.pop_back();
  const auto out = run_capturing(fmt::format("{} {} {}", shell_quoted(python), shell_quoted(path.string()), arguments));
  const auto line = out.substr(out.rfind('{') == std::string::npos ? 0 : out.rfind("\n{") + 1);
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    fail("the peer printed no JSON line: {} (output: {})", e.what(), out);
  }
}

}  // namespace vista
