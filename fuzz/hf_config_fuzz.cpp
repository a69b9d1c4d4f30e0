// config.json from anyone: the typed readers accept it or throw vista::Error naming the field.
#include <cstdint>
#include <string>

#include "io/clip_config.h"
#include "io/hf_config.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return 0;
  const vista::JsonNode fields(json, "fuzz config.json");
  for (int which = 0; which < 4; ++which) {
    try {
      if (which == 0) (void)vista::io::parse_decoder_config(fields);
      if (which == 1) (void)vista::io::parse_vision_config(fields);
      if (which == 2) (void)vista::io::parse_llava_config(fields);
      if (which == 3) (void)vista::io::parse_clip_model_config(fields);
    } catch (const vista::Error&) {
    }
  }
  return 0;
}
