#pragma once
// The GPU build keeps its CUDA half in a plugin (libvista_cuda.so: the NCCL process group, and
// through its dependencies libtorch_cuda with cuBLAS, cuDNN, NCCL ...). Linked into the program,
// those libraries held about 390 MB resident on a machine without a GPU before any work began;
// loaded only where an NVIDIA driver is, a CPU run pays nothing for them.
#include <string>

namespace vista::runtime {

// Whether this binary was built with the plugin (the PyPI torch wheel's build).
bool cuda_plugin_built();

// Loads the plugin where this machine has an NVIDIA driver, or where VISTA_LOAD_CUDA=1 (never with
// VISTA_LOAD_CUDA=0). Call it first in main: libtorch answers "is CUDA there?" once and keeps
// the answer, so the plugin must be in before anything asks. Fails with the plugin's path and
// dlerror() when it is there to load and cannot be.
void load_cuda_where_present();

// True once the plugin is loaded.
bool cuda_loaded();

// "CUDA loaded", "CUDA not loaded: no NVIDIA driver", ...: one line for the start-up banner.
std::string cuda_summary();

// Fails, naming the device and the reason, where `device` ("cuda", "cuda:1") needs CUDA that this
// process does not have; does nothing for other devices.
void require_cuda_for(const std::string& device);

// The address of `name` in the loaded plugin; fails where the plugin is not loaded or lacks it.
void* cuda_plugin_symbol(const char* name);

}  // namespace vista::runtime
