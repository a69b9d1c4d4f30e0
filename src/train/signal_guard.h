#pragma once
// SIGINT / SIGTERM while training: remembered (the step finishes and a checkpoint is written)
// instead of killing the process; the previous handlers come back when the guard ends.
#include <csignal>

namespace vista::train {

class SignalGuard {
 public:
  SignalGuard();
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
  // The signal received since the guard began, 0 if none.
  int received() const;

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

}  // namespace vista::train
