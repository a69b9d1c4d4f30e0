#include "serve/api_error.h"

namespace vista::serve {

nlohmann::json error_body(int status, const std::string& type, const std::string& message, const std::string& param) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
            {"code", status}}}};
}

}  // namespace vista::serve
