#include "util/peer_process.h"

#include <fmt/format.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

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

std::string peer_script_command(const std::string& peer_dir, const std::string& script, const std::string& arguments) {
  const auto path = std::filesystem::path(peer_dir) / script;
  if (!std::filesystem::exists(path))
    fail("--peer: {} not found (run from a vista checkout, or pass --peer-dir DIR)", path.string());
  auto python = run_capturing("bash " + shell_quoted((std::filesystem::path(peer_dir) / "setup_peer.sh").string()));
  while (!python.empty() && (python.back() == '\n' || python.back() == ' ')) python.pop_back();
  return fmt::format("{} {} {}", shell_quoted(python), shell_quoted(path.string()), arguments);
}

nlohmann::json run_peer_script(const std::string& peer_dir, const std::string& script, const std::string& arguments) {
  const auto out = run_capturing(peer_script_command(peer_dir, script, arguments));
  const auto line = out.substr(out.rfind('{') == std::string::npos ? 0 : out.rfind("\n{") + 1);
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    fail("the peer printed no JSON line: {} (output: {})", e.what(), out);
  }
}

namespace {

std::string exit_description(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
  return fmt::format("wait status {}", status);
}

}  // namespace

PeerSession::PeerSession(std::string command, std::chrono::seconds patience)
    : command_(std::move(command)), patience_(patience) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    fail("cannot start the peer `{}`: socketpair: {}", command_, std::strerror(errno));
  pid_ = fork();
  if (pid_ < 0) {
    close(fds[0]);
    close(fds[1]);
    fail("cannot start the peer `{}`: fork: {}", command_, std::strerror(errno));
  }
  if (pid_ == 0) {  // only async-signal-safe calls until exec: the parent has other threads
    if (dup2(fds[1], 0) < 0 || dup2(fds[1], 1) < 0) _exit(127);
    execl("/bin/sh", "sh", "-c", command_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  fd_ = fds[0];
}

PeerSession::~PeerSession() {
  if (pid_ > 0) kill_and_reap();
  if (fd_ >= 0) close(fd_);
}

void PeerSession::kill_and_reap() {
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void PeerSession::fail_ended(const std::string& waiting_for) {
  // It closed its output; give it a moment to exit so the message can say how it ended.
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 50 && (done = waitpid(pid_, &status, WNOHANG)) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (done == pid_) {
    pid_ = -1;
    fail("the peer `{}` ended ({}) without answering {}", command_, exit_description(status), waiting_for);
  }
  kill_and_reap();
  fail("the peer `{}` closed its output without answering {}; killed", command_, waiting_for);
}

nlohmann::json PeerSession::reply(const std::string& waiting_for) {
  const auto deadline = std::chrono::steady_clock::now() + patience_;
  for (;;) {
    for (size_t end; (end = pending_.find('\n')) != std::string::npos;) {
      const auto line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      if (line.empty() || line.front() != '{') {
        fmt::print(stderr, "{}\n", line);
        continue;
      }
      try {
        return nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        kill_and_reap();
        fail("the peer `{}` answered {} with a line that is no JSON: {} ({})", command_, waiting_for, line, e.what());
      }
    }
    char buffer[4096];
    const size_t n = read_some(deadline, buffer, sizeof buffer,
                               fmt::format("gave no answer to {} within {} s", waiting_for, patience_.count()));
    if (n == 0) fail_ended(waiting_for);
    pending_.append(buffer, n);
  }
}

size_t PeerSession::read_some(std::chrono::steady_clock::time_point deadline, char* buffer, size_t size,
                              const std::string& timed_out) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    const int ready = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      kill_and_reap();
      fail("the peer `{}` {}; killed", command_, timed_out);
    }
    const ssize_t n = read(fd_, buffer, size);
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? 0 : static_cast<size_t>(n);
  }
}

nlohmann::json PeerSession::request(const std::string& line) {
  const std::string out = line + "\n";
  for (size_t sent = 0; sent < out.size();) {
    const ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_ended(fmt::format("'{}'", line));
    sent += static_cast<size_t>(n);
  }
  return reply(fmt::format("'{}'", line));
}

nlohmann::json PeerSession::finish(const std::string& line) {
  auto last = request(line);
  shutdown(fd_, SHUT_WR);
  // Anything it prints after its last answer is passed on; then it must end, and end well.
  const auto deadline = std::chrono::steady_clock::now() + patience_;
  char buffer[4096];
  for (size_t n; (n = read_some(deadline, buffer, sizeof buffer,
                                fmt::format("did not end within {} s of its last answer", patience_.count()))) > 0;)
    fmt::print(stderr, "{}", std::string(buffer, n));
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("the peer `{}` ended with {} after its last answer", command_, exit_description(status));
  return last;
}

}  // namespace vista
