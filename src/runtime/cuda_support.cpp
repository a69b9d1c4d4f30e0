#include "runtime/cuda_support.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "util/error.h"

namespace vista::runtime {

namespace {

void* plugin_handle = nullptr;
std::string not_loaded_reason = "not loaded yet";

#ifdef VISTA_CUDA_PLUGIN_PATH
// The NVIDIA kernel driver's entries, present on a GPU machine and in a GPU container.
bool nvidia_driver_present() {
  return access("/proc/driver/nvidia/version", R_OK) == 0 || access("/dev/nvidiactl", F_OK) == 0;
}

// Next to the program first (a copied build), then where the build put it.
std::string plugin_path() {
  std::error_code error;
  const auto program = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::filesystem::path compiled = VISTA_CUDA_PLUGIN_PATH;
  if (!error) {
    const auto beside = program.parent_path() / compiled.filename();
    if (std::filesystem::exists(beside, error)) return beside.string();
  }
  return compiled.string();
}

std::string load_setting() {
  const char* value = std::getenv("VISTA_LOAD_CUDA");
  return value ? value : "";
}
#endif

}  // namespace

bool cuda_plugin_built() {
#ifdef VISTA_CUDA_PLUGIN_PATH
  return true;
#else
  return false;
#endif
}

void load_cuda_where_present() {
  if (plugin_handle) return;
#ifdef VISTA_CUDA_PLUGIN_PATH
  const std::string setting = load_setting();
  if (setting != "" && setting != "0" && setting != "1")
    fail(
        "VISTA_LOAD_CUDA is '{}', expected 1 (load vista's CUDA plugin), 0 (never) or unset (where an NVIDIA driver "
        "is)",
        setting);
  if (setting == "0") {
    not_loaded_reason = "VISTA_LOAD_CUDA=0";
    return;
  }
  if (setting != "1" && !nvidia_driver_present()) {
    not_loaded_reason = "this machine has no NVIDIA driver (no /proc/driver/nvidia/version, no /dev/nvidiactl)";
    return;
  }
  // GLOBAL: libtorch_cuda's kernels and hooks must be visible to libtorch_cpu's dispatcher.
  const std::string path = plugin_path();
  plugin_handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!plugin_handle) fail("could not load vista's CUDA plugin {}: {}", path, dlerror());
#else
  not_loaded_reason = "this vista was built without CUDA";
#endif
}

bool cuda_loaded() { return plugin_handle != nullptr; }

std::string cuda_summary() { return cuda_loaded() ? "CUDA loaded" : "CUDA not loaded: " + not_loaded_reason; }

void require_cuda_for(const std::string& device) {
  if (device.rfind("cuda", 0) != 0 || cuda_loaded()) return;
  if (!cuda_plugin_built())
    fail("device '{}' needs CUDA, and this vista was built without it; build the GPU version (scripts/build_torch2.sh)",
         device);
  fail("device '{}' needs CUDA, which this process did not load: {}; VISTA_LOAD_CUDA=1 loads it anyway", device,
       not_loaded_reason);
}

void* cuda_plugin_symbol(const char* name) {
  if (!plugin_handle) fail("vista's CUDA plugin is not loaded ({}), so '{}' is not available", not_loaded_reason, name);
  void* address = dlsym(plugin_handle, name);
  if (!address) fail("vista's CUDA plugin has no '{}': {}", name, dlerror());
  return address;
}

}  // namespace vista::runtime
