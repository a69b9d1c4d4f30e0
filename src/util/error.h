#pragma once
// User-facing errors: every message names the file (or object), the field and what was expected.
#include <fmt/format.h>

#include <stdexcept>
#include <cstdint>
#include <string>
#include <vector>

namespace vista {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Shape as "[2, 3, 4]" for error messages.
std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace vista
