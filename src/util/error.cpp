#include "util/error.h"

#include <fmt/ranges.h>

namespace vista {

std::string shape_string(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

}  // namespace vista
