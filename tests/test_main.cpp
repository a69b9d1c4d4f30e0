#include <gtest/gtest.h>

#include "runtime/threads.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  vista::configure_threads(0);
  return RUN_ALL_TESTS();
}
