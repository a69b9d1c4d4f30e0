#pragma once
// Every difference between the libtorch versions vista builds against (Debian's 1.13, the PyPI
// wheel's 2.x) lives here; no other file tests the torch version.
//
// Differences met so far:
// - autocast: 1.13 has per-backend calls (set_cpu_enabled / set_enabled, get_autocast_cpu_dtype /
//   get_autocast_gpu_dtype); 2.4+ takes the device type (set_autocast_enabled(DeviceType, bool),
//   get_autocast_dtype(DeviceType)) and deprecates the old names.
// - c10d: in 1.13 ProcessGroupGloo / ProcessGroupNCCL are ProcessGroups; in 2.x they are Backends
//   (the ProcessGroup became a dispatcher over backends). The collective calls are the same.
// - TF32 switches: the same Context calls in both (2.9 adds per-op precision settings).
// - optimizer state: 1.13 keys a parameter's state by the text of its TensorImpl address, 2.x by
//   the address itself.
// - attention: 2.x has at::scaled_dot_product_attention (flash / memory-efficient kernels on CUDA,
//   `scale` argument since 2.1); 1.13 has none.
#include <ATen/Context.h>
#include <ATen/Version.h>
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <string>

#ifdef VISTA_COMPAT_WITH_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif
#endif

#define VISTA_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace vista::compat {

inline std::string torch_version() { return TORCH_VERSION; }

// "libtorch 2.8.0 (CUDA 12.8, cuDNN 9.8.0, NCCL)" or "libtorch 1.13.0 (CPU only)": what this binary
// was built against, from libtorch's own build settings (no GPU needed to read them).
inline std::string build_summary() {
  const std::string config = at::show_config();
  auto setting = [&](const std::string& key) -> std::string {
    const auto at_key = config.find(key + "=");
    if (at_key == std::string::npos) return "";
    const auto begin = at_key + key.size() + 1;
    return config.substr(begin, config.find_first_of(", \n", begin) - begin);
  };
  std::string parts;
  if (setting("USE_CUDA") == "ON" || setting("USE_CUDA") == "1") {
    parts = "CUDA " + setting("CUDA_VERSION");
    if (const auto cudnn = setting("CUDNN_VERSION"); !cudnn.empty()) parts += ", cuDNN " + cudnn;
    if (setting("USE_NCCL") == "1" || setting("USE_NCCL") == "ON") parts += ", NCCL";
  } else {
    parts = "CPU only";
  }
  return "libtorch " + torch_version() + " (" + parts + ")";
}

// --- optimizer state ------------------------------------------------------------------------
inline auto optimizer_state_key(const at::Tensor& param) {
#if TORCH_VERSION_MAJOR >= 2
  return static_cast<void*>(param.unsafeGetTensorImpl());
#else
  return c10::guts::to_string(param.unsafeGetTensorImpl());
#endif
}

// --- autocast -------------------------------------------------------------------------------
inline bool autocast_enabled(c10::DeviceType device) {
#if VISTA_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

inline at::ScalarType autocast_dtype(c10::DeviceType device) {
#if VISTA_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                         : at::autocast::get_autocast_cpu_dtype();
#endif
}

inline void set_autocast(c10::DeviceType device, bool enabled, at::ScalarType dtype) {
#if VISTA_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(device, dtype);
  at::autocast::set_autocast_enabled(device, enabled);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

inline void autocast_clear_cache() { at::autocast::clear_cache(); }

// --- TF32 ----------------------------------------------------------------------------------
// TF32 matmuls and convolutions on Ampere+ GPUs (10-bit mantissa): faster, but not float32. Off by
// default in vista so that a float32 run on a GPU computes what the reference fixtures hold.
inline void set_tf32(bool allowed) {
  at::globalContext().setAllowTF32CuBLAS(allowed);
  at::globalContext().setAllowTF32CuDNN(allowed);
}

// --- attention ------------------------------------------------------------------------------
// True where a fused attention kernel is used for tensors on `device`: 2.x on CUDA. On CPU the
// explicit matmul-softmax-matmul stays, the computation the reference fixtures were made with.
inline bool fused_attention_available(const torch::Device& device) {
#if VISTA_TORCH_AT_LEAST(2, 1)
  return device.is_cuda();
#else
  (void)device;
  return false;
#endif
}

// softmax(q k^T / sqrt(d) + mask) v through the fused kernel; callers check
// fused_attention_available first. mask_B1TS is additive (0 / -inf-like), or undefined.
inline torch::Tensor fused_attention(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                     const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS) {
#if VISTA_TORCH_AT_LEAST(2, 1)
  // The additive mask is cast to q's dtype; an out-of-range float32 minimum would become -inf and a
  // fully masked row (left padding) NaN, so -inf maps to the dtype's lowest finite value.
  const auto mask = mask_B1TS.defined()
                        ? c10::optional<at::Tensor>(torch::nan_to_num(mask_B1TS.to(q_BHTD.scalar_type())))
                        : c10::nullopt;
  return at::scaled_dot_product_attention(q_BHTD, k_BHSD, v_BHSD, mask, 0.0, false);
#else
  (void)q_BHTD, (void)k_BHSD, (void)v_BHSD, (void)mask_B1TS;
  TORCH_CHECK(false, "fused attention needs libtorch 2.1 or newer");
#endif
}

// --- c10d (only where VISTA_COMPAT_WITH_C10D is defined before this header: its headers are heavy)
#ifdef VISTA_COMPAT_WITH_C10D
#if VISTA_TORCH_AT_LEAST(2, 0)
using CommBackend = c10d::Backend;
#else
using CommBackend = c10d::ProcessGroup;
#endif
#endif

}  // namespace vista::compat
