#include "train/signal_guard.h"

#include <atomic>

namespace vista::train {

namespace {
std::atomic<int> g_signal{0};
void on_signal(int sig) { g_signal = sig; }
}  // namespace

SignalGuard::SignalGuard() {
  g_signal = 0;
  previous_int_ = std::signal(SIGINT, on_signal);
  previous_term_ = std::signal(SIGTERM, on_signal);
}

SignalGuard::~SignalGuard() {
  std::signal(SIGINT, previous_int_);
  std::signal(SIGTERM, previous_term_);
}

int SignalGuard::received() const { return g_signal.load(); }

}  // namespace vista::train
