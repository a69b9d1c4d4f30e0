#pragma once
#include <string>

namespace vista {

// libtorch defaults to a single intra-op thread on this platform; every entry point sets the
// count explicitly. requested <= 0 means "all hardware cores".
int configure_threads(int requested);

// One line describing the compute setup ("threads: 2 intra-op, 1 inter-op; device cpu").
std::string threads_summary();

}  // namespace vista
