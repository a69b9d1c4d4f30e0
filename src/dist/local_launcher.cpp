#include "dist/local_launcher.h"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string_view>
#include <thread>

#include "util/error.h"

extern char** environ;

namespace vista::dist {

namespace {

// The handler only records the signal; the supervision loop forwards it to the workers.
volatile std::sig_atomic_t g_pending_signal = 0;
void remember_signal(int sig) { g_pending_signal = sig; }

// Owns SIGINT/SIGTERM while the workers run and gives the caller's handlers back afterwards.
class SignalForwarding {
 public:
  SignalForwarding() {
    g_pending_signal = 0;
    struct sigaction action {};
    action.sa_handler = remember_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~SignalForwarding() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

// Like torchrun: the port is free now; rank 0's TCPStore binds it moments later (a small race we accept).
int pick_free_port(const std::string& addr) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(addr.c_str(), "0", &hints, &found); rc != 0)
    fail("MASTER_ADDR '{}' does not resolve, so no free port can be picked on it: {}", addr, gai_strerror(rc));
  int port = 0;
  for (addrinfo* a = found; a != nullptr && port == 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0)
      port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    close(fd);
  }
  freeaddrinfo(found);
  if (port == 0) fail("cannot bind a TCP port on MASTER_ADDR '{}' (is it an address of this machine?)", addr);
  return port;
}

// Built before fork: between fork and exec only async-signal-safe calls are allowed (no setenv,
// which allocates), because the launcher may already run other threads.
std::vector<std::string> worker_environment(int rank, int nproc, const std::string& addr, int port) {
  static const char* const kOurs[] = {"RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR",
                                      "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"};
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string_view name = text.substr(0, text.find('='));
    if (std::none_of(std::begin(kOurs), std::end(kOurs), [&](const char* ours) { return name == ours; }))
      env.emplace_back(text);
  }
  // No agent store: these workers host their own TCPStore on rank 0, so the TORCHELASTIC_* pair stays unset.
  for (const auto& [name, value] : {std::pair<const char*, std::string>{"RANK", std::to_string(rank)},
                                    {"LOCAL_RANK", std::to_string(rank)},
                                    {"WORLD_SIZE", std::to_string(nproc)},
                                    {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
                                    {"GROUP_RANK", "0"},
                                    {"MASTER_ADDR", addr},
                                    {"MASTER_PORT", std::to_string(port)}})
    env.push_back(fmt::format("{}={}", name, value));
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

void write_stderr(const char* text) {
  const ssize_t ignored = write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

pid_t start_worker(char* const* argv, char* const* envp, const char* exec_error, pid_t launcher) {
  // Blocked across fork so a SIGTERM meant for the worker cannot hit the inherited flag-only handler.
  sigset_t forwarded, previous;
  sigemptyset(&forwarded);
  sigaddset(&forwarded, SIGINT);
  sigaddset(&forwarded, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &forwarded, &previous);
  const pid_t pid = fork();
  if (pid != 0) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return pid;
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGKILL);      // workers never outlive a killed launcher...
  if (getppid() != launcher) _exit(127);  // ...even one that died before prctl took effect
  execve(argv[0], argv, envp);
  const char* reason = strerror(errno);
  write_stderr(exec_error);
  write_stderr(reason);
  write_stderr("\n");
  _exit(127);
}

struct Worker {
  pid_t pid = -1;
  bool running = false;
};

int supervise(std::vector<Worker>& workers, double grace_s) {
  using Clock = std::chrono::steady_clock;
  const auto grace = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(grace_s));
  auto signal_running = [&](int sig) {
    for (const auto& w : workers)
      if (w.running) kill(w.pid, sig);
  };
  int result = 0;
  auto kill_at = Clock::time_point::max();  // none pending
  auto running = static_cast<int>(workers.size());
  while (running > 0) {
    if (const int sig = g_pending_signal) {
      g_pending_signal = 0;
      signal_running(sig);
    }
    for (std::size_t rank = 0; rank < workers.size(); ++rank) {
      Worker& w = workers[rank];
      int status = 0;
      const pid_t done = w.running ? waitpid(w.pid, &status, WNOHANG) : 0;
      if (done == 0 || (done < 0 && errno == EINTR)) continue;
      w.running = false;
      --running;
      // ECHILD (someone else reaped it) leaves the outcome unknown: count it as a failure.
      const int code = done < 0 ? 1 : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
      if (code == 0 || result != 0) continue;
      result = code;
      if (running == 0) continue;
      const std::string how = done < 0 ? std::string("was reaped elsewhere, its exit status unknown")
                              : WIFSIGNALED(status)
                                  ? fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)))
                                  : fmt::format("exited with code {}", code);
      fmt::print(stderr, "vista: worker rank {} {}; stopping the other {} worker{}\n", rank, how, running,
                 running == 1 ? "" : "s");
      signal_running(SIGTERM);
      kill_at = Clock::now() + grace;
    }
    if (Clock::now() >= kill_at) {
      signal_running(SIGKILL);
      kill_at = Clock::time_point::max();
    }
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return result;
}

}  // namespace

int launch_local_workers(const LocalLaunchOptions& options) {
  if (options.nproc < 1 || options.nproc > 1024) fail("--nproc-per-node must be in [1, 1024], got {}", options.nproc);
  if (options.argv.empty() || options.argv[0].empty()) fail("the worker command for --nproc-per-node is empty");
  if (options.master_addr.empty()) fail("MASTER_ADDR for --nproc-per-node is empty");
  if (options.master_port < 0 || options.master_port > 65535)
    fail("MASTER_PORT must be in [0, 65535] (0: pick a free one), got {}", options.master_port);
  if (!(options.grace_s >= 0 && options.grace_s <= 86400))
    fail("the stop grace period must be in [0, 86400] seconds, got {}", options.grace_s);

  const int port = options.master_port != 0 ? options.master_port : pick_free_port(options.master_addr);
  fmt::print(stderr, "vista: starting {} workers (MASTER_ADDR={}, MASTER_PORT={})\n", options.nproc,
             options.master_addr, port);

  std::vector<std::string> args = options.argv;
  const std::vector<char*> argv = c_strings(args);
  std::vector<std::vector<std::string>> envs;
  std::vector<std::vector<char*>> envps;
  for (int rank = 0; rank < options.nproc; ++rank)
    envs.push_back(worker_environment(rank, options.nproc, options.master_addr, port));
  for (auto& env : envs) envps.push_back(c_strings(env));
  const std::string exec_error = fmt::format("vista: cannot start worker: {}: ", options.argv[0]);

  SignalForwarding forwarding;
  const pid_t launcher = getpid();
  std::vector<Worker> workers(options.nproc);
  for (int rank = 0; rank < options.nproc; ++rank) {
    const pid_t pid = start_worker(argv.data(), envps[rank].data(), exec_error.c_str(), launcher);
    if (pid < 0) {
      const int error = errno;
      for (int started = 0; started < rank; ++started) kill(workers[started].pid, SIGKILL);
      for (int started = 0; started < rank; ++started)
        while (waitpid(workers[started].pid, nullptr, 0) < 0 && errno == EINTR) {
        }
      fail("cannot start worker rank {} of {}: fork failed: {}", rank, options.nproc, std::strerror(error));
    }
    workers[rank] = {pid, true};
  }
  return supervise(workers, options.grace_s);
}

}  // namespace vista::dist
