#pragma once
// A content hash of files (sizes and bytes, in the order given), to recognise a base model again:
// 16 hex digits of a 64-bit FNV-1a over 8-byte words. Not cryptographic; it tells "the same
// weights" from "other weights", fast enough for multi-GB checkpoints.
#include <string>
#include <vector>

namespace vista::io {

std::string content_hash(const std::vector<std::string>& files);

}  // namespace vista::io
