#pragma once
// RFC 4648 base64 (standard alphabet, padding optional), as data: URLs carry images.
#include <optional>
#include <string>
#include <string_view>

namespace vista::serve {

// nullopt for a character outside the alphabet, a stray '=', or a length no encoding has.
std::optional<std::string> decode_base64(std::string_view text);
std::string encode_base64(std::string_view bytes);

}  // namespace vista::serve
