#include <gtest/gtest.h>

#include "runtime/cuda_support.h"
#include "runtime/threads.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // As vista's main does: libtorch must see CUDA before anything asks for it.
  vista::runtime::load_cuda_where_present();
  vista::configure_threads(0);
  return RUN_ALL_TESTS();
}
