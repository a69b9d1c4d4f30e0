#pragma once
// A failed API request: the HTTP status and an OpenAI-style error body
// {"error": {"message", "type", "param", "code"}}, so every OpenAI client reports it as it would
// report the service's own errors.
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace vista::serve {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, const std::string& message, std::string param = "")
      : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param)) {}
  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }

 private:
  int status_;
  std::string type_, param_;
};

// 400 invalid_request_error naming the parameter.
inline ApiError bad_request(const std::string& message, const std::string& param = "") {
  return ApiError(400, "invalid_request_error", message, param);
}

nlohmann::json error_body(int status, const std::string& type, const std::string& message,
                          const std::string& param = "");
inline nlohmann::json error_body(const ApiError& e) { return error_body(e.status(), e.type(), e.what(), e.param()); }

}  // namespace vista::serve
