#pragma once
#include <stdexcept>
#include <string>

namespace vista::train {

// Thrown when training must stop without writing a new checkpoint (non-finite loss, too many bad
// samples); the message holds the step, the batch's sample ids and every loss term. In a
// data-parallel run every rank throws it at the same step.
class TrainingStopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace vista::train
