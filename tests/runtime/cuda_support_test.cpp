// runtime/cuda_support.h: where CUDA is not loaded, a CUDA device and the plugin's symbols are
// refused with the reason, the CUDA libraries are not in the process, and VISTA_LOAD_CUDA takes
// only 0 or 1. (The load itself is checked on the program: tests/CMakeLists.txt,
// build.cuda_plugin_loads_on_request.)
#include "runtime/cuda_support.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "test_util.h"

namespace vista::runtime {
namespace {

TEST(CudaSupport, OtherDevicesNeedNothing) {
  EXPECT_NO_THROW(require_cuda_for("cpu"));
  EXPECT_NO_THROW(require_cuda_for("meta"));
}

TEST(CudaSupport, ACudaDeviceIsRefusedWithTheReasonWhereCudaIsNotLoaded) {
  if (cuda_loaded()) GTEST_SKIP() << "CUDA is loaded in this process (an NVIDIA driver, or VISTA_LOAD_CUDA=1)";
  const std::string why = cuda_plugin_built() ? "VISTA_LOAD_CUDA=1 loads it anyway" : "built without it";
  for (const std::string device : {"cuda", "cuda:1"})
    expect_error_containing([&] { require_cuda_for(device); }, {"device '" + device + "' needs CUDA", why});
  expect_error_containing([] { cuda_plugin_symbol("vista_make_nccl_backend"); },
                          {"CUDA plugin is not loaded", "vista_make_nccl_backend"});
}

TEST(CudaSupport, WithoutThePluginNoCudaLibraryIsInTheProcess) {
  if (cuda_loaded()) GTEST_SKIP() << "CUDA is loaded in this process";
  std::ifstream maps("/proc/self/maps");
  ASSERT_TRUE(maps) << "/proc/self/maps is not readable";
  std::string line;
  int lines = 0;
  while (std::getline(maps, line)) {
    ++lines;
    for (const char* library : {"libtorch_cuda", "libc10_cuda", "libcublas", "libcudnn", "libnccl"})
      EXPECT_EQ(line.find(library), std::string::npos) << "mapped: " << line;
  }
  EXPECT_GT(lines, 0);
}

TEST(CudaSupport, LoadSettingIsZeroOrOne) {
  if (!cuda_plugin_built()) GTEST_SKIP() << "this build has no CUDA plugin, so VISTA_LOAD_CUDA is not read";
  if (cuda_loaded()) GTEST_SKIP() << "CUDA is loaded in this process";
  ASSERT_EQ(setenv("VISTA_LOAD_CUDA", "yes", 1), 0);
  expect_error_containing([] { load_cuda_where_present(); }, {"VISTA_LOAD_CUDA is 'yes', expected 1"});
  ASSERT_EQ(setenv("VISTA_LOAD_CUDA", "0", 1), 0);
  load_cuda_where_present();
  EXPECT_FALSE(cuda_loaded());
  EXPECT_EQ(cuda_summary(), "CUDA not loaded: VISTA_LOAD_CUDA=0");
  unsetenv("VISTA_LOAD_CUDA");
}

}  // namespace
}  // namespace vista::runtime
