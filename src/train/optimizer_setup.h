#pragma once
// AdamW over what this process updates (whole parameters, or its ZeRO ranges of them), and its
// state by parameter name and element range: a checkpoint written by W ranks is read back by any
// number of ranks, whatever their ranges.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "train/train_config.h"

namespace vista::train {

// A piece of one trainable parameter that this rank's optimizer updates: the whole parameter
// (one process, ZeRO-0), or a flat range of it (ZeRO-1/2), as a view sharing its storage.
struct OptimizedSlice {
  size_t param = 0;      // index into the trainable parameters
  std::string name;      // the parameter's name
  int64_t start = 0;     // first element of the parameter in this slice
  torch::Tensor tensor;  // what the optimizer sees
  bool decay = true;     // AdamW weight decay (not for biases and norms)
};

// AdamW whose groups keep their own base learning rate, all following one schedule.
struct ScheduledAdamW {
  std::unique_ptr<torch::optim::AdamW> adamw;
  std::vector<double> base_lr;  // per parameter group
  // Every group's learning rate = its base x factor (the schedule's value for this step).
  void set_lr_factor(double factor);
  double lr(size_t group = 0) const;
};

// Groups as the HF trainer makes them (with weight decay, and without: biases, norms), per base
// learning rate: `lr_of_param[i]` for trainable parameter i (empty: optim.lr for all).
ScheduledAdamW make_adamw(const std::vector<OptimizedSlice>& slices, const OptimSection& optim,
                          const std::vector<double>& lr_of_param = {});

// Between steps the gradients are released rather than zeroed: zero_grad() on libtorch 1.13 keeps
// one gradient tensor per trainable parameter allocated through the next forward, where the
// activations peak. After backward, zero_missing_gradients gives every parameter the optimizer
// has state for (so it was updated before) and that got no gradient this step a zero one: AdamW
// then updates it from its moments, as after 1.13's zero_grad() and as DeepSpeed's flat-buffer
// Adam of the reference does, on either libtorch (2.x's zero_grad() would leave it out) and after
// a resume alike. A parameter never updated stays without a gradient.
void release_gradients(torch::optim::Optimizer& optimizer);
void zero_missing_gradients(torch::optim::Optimizer& optimizer);

// "<name>@<start>.exp_avg" / ".exp_avg_sq" (flat) and ".step" for every slice that has state.
std::map<std::string, torch::Tensor> adamw_state_tensors(torch::optim::AdamW& optimizer,
                                                         const std::vector<OptimizedSlice>& slices);

// Saved pieces of state: the keys present, and a reader for one of them.
struct StatePieces {
  std::vector<std::string> keys;
  std::function<torch::Tensor(const std::string& key)> read;
};

// Rebuilds each slice's state from the saved pieces of its parameter that overlap it (written by
// any number of ranks). A slice none of whose elements has state stays without, as one that
// never had a gradient; one covered only in part, or with moments of another size, is an error
// naming `source`.
void restore_adamw_state(torch::optim::AdamW& optimizer, const std::vector<OptimizedSlice>& slices,
                         const StatePieces& pieces, const std::string& source);

}  // namespace vista::train
