#pragma once
// Gradient reduction for data-parallel training, written on c10d's process groups because
// libtorch has no C++ DDP: parameters are grouped into flat buckets of about `bucket_bytes`, in
// reverse registration order (the order backward produces them), and each bucket's reduction is
// started from an autograd hook as soon as its last gradient is accumulated, so communication
// runs while backward goes on. Buckets are always started in index order, and finish() starts
// the rest (zeros for parameters that got no gradient), so every rank issues the same collectives
// in the same order whatever its batch held.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "dist/communicator.h"

namespace vista::dist {

struct BucketOptions {
  double bucket_bytes = 25.0 * 1024 * 1024;
  // Empty: every rank gets the summed gradients (allreduce). Otherwise ZeRO-2: element ranges
  // of the flat gradient (parameters in reverse registration order, the bucket order) owned by
  // each rank: rank r owns [owner_bounds[r], owner_bounds[r+1]). Each bucket is reduced piecewise
  // into the owners of its pieces (the reduce-scatter of a backend without one), and a rank keeps
  // only the gradients that touch its range.
  std::vector<int64_t> owner_bounds;
};

class GradientBuckets {
 public:
  // params: leaves that require grad, in registration order.
  GradientBuckets(Communicator& comm, std::vector<torch::Tensor> params, BucketOptions options);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  // Before each micro-step's backward: whether this backward's gradients are to be reduced (the
  // last micro-step of an accumulation) or only accumulated locally.
  void prepare(bool reduce_this_backward);
  // After the reducing backward, or in place of it when this rank had nothing to run: starts what
  // has not started, waits for all, and leaves the summed gradient in each parameter's .grad()
  // (ZeRO-2: valid on this rank's range only; parameters outside it have no gradient).
  void finish();

  size_t bucket_count() const;
  double last_wait_seconds() const;  // what the last finish() spent blocked on communication

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace vista::dist
