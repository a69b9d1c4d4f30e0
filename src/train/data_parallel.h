#pragma once
// What a training step needs from the other ranks, and nothing when there are none: the start
// from rank 0's weights, sums of the step's loss statistics, the gradient reduction (bucketed,
// overlapped with backward), the global gradient norm, and for ZeRO-1/2 the element ranges of the
// flat parameter vector whose AdamW state each rank keeps, with the broadcast of updated ranges
// from their owners.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "dist/grad_buckets.h"
#include "models/multimodal_lm.h"
#include "train/optimizer_setup.h"

namespace vista::train {

class DataParallel {
 public:
  // comm == nullptr: one process, every call is local.
  DataParallel(dist::Communicator* comm, std::vector<torch::Tensor> params, std::vector<std::string> names, int zero,
               double bucket_mb);

  bool distributed() const { return comm_ != nullptr; }
  int rank() const { return comm_ ? comm_->rank() : 0; }
  int world() const { return comm_ ? comm_->world_size() : 1; }

  // Rank 0's parameters and buffers everywhere: all ranks start from one model.
  void broadcast_model(models::MultimodalLMImpl& model);
  // Element-wise sums over ranks (float64).
  std::vector<double> sum(const std::vector<double>& values);
  bool any(bool flag) { return sum({flag ? 1.0 : 0.0})[0] > 0; }

  // What this rank's optimizer updates.
  std::vector<OptimizedSlice>& slices() { return slices_; }

  // Around each micro-step's backward (the last one reduces).
  void before_backward(bool last_micro_step);
  // After the last micro-step: the summed gradient in each .grad() (ZeRO-2: this rank's range),
  // and in each slice's .grad().
  void reduce_gradients();
  // Scales gradients so that the norm over the whole model is at most max_norm; returns the norm.
  double clip_gradients(double max_norm);
  // Drops every gradient (after the optimizer step): memory is free until the next backward.
  void clear_gradients();
  // ZeRO-1/2: each owner sends its updated range to the others.
  void share_updated_parameters();

  double last_wait_seconds() const;  // blocked on other ranks in the last step

 private:
  dist::Communicator* comm_;
  std::vector<torch::Tensor> params_;
  int zero_;
  double bucket_bytes_;
  // Flat order: parameters in reverse registration order (the bucket order); rank r owns
  // [bounds_[r], bounds_[r+1]) of it.
  std::vector<int64_t> flat_offset_;
  std::vector<int64_t> bounds_;
  std::vector<OptimizedSlice> slices_;
  std::unique_ptr<dist::GradientBuckets> buckets_;
  double share_wait_s_ = 0;
};

}  // namespace vista::train
