#include "text/utf8.h"

#include <fmt/format.h>

namespace vista::text {

size_t valid_sequence_length(std::string_view bytes, size_t pos, size_t* valid_prefix) {
  const size_t n = bytes.size();
  const auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const unsigned char b0 = at(pos);
  if (valid_prefix) *valid_prefix = 1;
  if (b0 < 0x80) return 1;
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 == 0xE0) {
    need = 3, lo = 0xA0;
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    need = 3;
  } else if (b0 == 0xED) {
    need = 3, hi = 0x9F;
  } else if (b0 == 0xF0) {
    need = 4, lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    need = 4;
  } else if (b0 == 0xF4) {
    need = 4, hi = 0x8F;
  } else {
    return 0;  // continuation byte or invalid lead (C0, C1, F5..FF)
  }
  for (size_t k = 1; k < need; ++k) {
    if (pos + k >= n) return 0;
    const unsigned char b = at(pos + k);
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return 0;
    if (valid_prefix) *valid_prefix = k + 1;
  }
  return need;
}

bool is_valid_utf8(std::string_view bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (static_cast<unsigned char>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const size_t len = valid_sequence_length(bytes, pos);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (static_cast<unsigned char>(bytes[pos]) < 0x80) {
      out.push_back(bytes[pos++]);
      continue;
    }
    size_t prefix = 1;
    const size_t len = valid_sequence_length(bytes, pos, &prefix);
    if (len > 0) {
      out.append(bytes.substr(pos, len));
      pos += len;
    } else {
      out.append("\xEF\xBF\xBD");
      pos += prefix;
    }
  }
  return out;
}

size_t code_point_count(std::string_view text) {
  size_t count = 0;
  for (char ch : text)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++count;
  return count;
}

std::string escape_for_message(std::string_view text, size_t max_bytes) {
  std::string out;
  const bool cut = text.size() > max_bytes;
  std::string_view view = text.substr(0, max_bytes);
  size_t pos = 0;
  while (pos < view.size()) {
    const auto b = static_cast<unsigned char>(view[pos]);
    if (b >= 0x80) {
      const size_t len = valid_sequence_length(view, pos);
      if (len == 0) {
        out += fmt::format("\\x{:02X}", b);
        ++pos;
        continue;
      }
      const size_t start = pos;
      const char32_t cp = next_code_point(view, pos);
      // Invisible or ambiguous code points (C1 controls, spaces, format characters) are escaped;
      // everything else is shown as itself.
      const bool invisible = cp < 0xA1 || cp == 0xAD || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200F) ||
                             (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x205F && cp <= 0x206F) ||
                             cp == 0x3000 || cp == 0xFEFF || (cp >= 0xFFF0 && cp <= 0xFFFF) || cp >= 0xE0000;
      if (invisible) {
        out += cp > 0xFFFF ? fmt::format("\\U{:08X}", static_cast<uint32_t>(cp))
                           : fmt::format("\\u{:04X}", static_cast<uint32_t>(cp));
      } else {
        out.append(view.substr(start, pos - start));
      }
    } else if (b < 0x20 || b == 0x7F) {
      if (b == '\n') out += "\\n";
      else if (b == '\t') out += "\\t";
      else if (b == '\r') out += "\\r";
      else out += fmt::format("\\x{:02X}", b);
      ++pos;
    } else {
      if (b == '\\' || b == '"') out.push_back('\\');
      out.push_back(static_cast<char>(b));
      ++pos;
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace vista::text
