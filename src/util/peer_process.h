#pragma once
// Running the Python peers of the benchmarks (bench/peer: PyTorch + transformers in a virtual
// environment that bench/peer/setup_peer.sh makes) from vista's own bench commands.
#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace vista {

// Runs a shell command and returns its stdout (stderr passes through); fails on a non-zero status.
std::string run_capturing(const std::string& command);
std::string shell_quoted(const std::string& s);

// The python of the peer's virtual environment (made by `peer_dir`/setup_peer.sh on first use) and
// the quoted command that runs `peer_dir`/`script` with `arguments` (already quoted) in it.
std::string peer_script_command(const std::string& peer_dir, const std::string& script, const std::string& arguments);

// Runs `peer_dir`/`script` with `arguments` (already quoted) in the peer's environment and returns
// the last JSON line it printed.
nlohmann::json run_peer_script(const std::string& peer_dir, const std::string& script, const std::string& arguments);

// A peer that stays up and answers one JSON line to each line it is sent, so that its steps can be
// timed in turn with vista's: drift in the machine's speed then reaches both sides alike. Lines it
// prints that are not JSON objects go on to stderr. A reply that does not come within `patience`,
// or a peer that ends early, fails with the command and the line that went unanswered; the peer
// is killed then, and by the destructor if still running.
class PeerSession {
 public:
  PeerSession(std::string command, std::chrono::seconds patience);
  ~PeerSession();
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  // The next JSON line (the first one: the peer is ready).
  nlohmann::json reply(const std::string& waiting_for);
  nlohmann::json request(const std::string& line);
  // Sends the last line, reads its reply and waits for the peer to exit with status 0.
  nlohmann::json finish(const std::string& line);

 private:
  [[noreturn]] void fail_ended(const std::string& waiting_for);
  // Up to `size` bytes the peer printed, waiting until `deadline`; 0 once it closed its output.
  // Past the deadline the peer is killed and the failure says it `timed_out`.
  size_t read_some(std::chrono::steady_clock::time_point deadline, char* buffer, size_t size,
                   const std::string& timed_out);
  void kill_and_reap();

  std::string command_;
  std::chrono::seconds patience_;
  pid_t pid_ = -1;
  int fd_ = -1;  // our end of the socket pair that is the peer's stdin and stdout
  std::string pending_;
};

}  // namespace vista
