// CLIP's tokenizer.json pipeline (as in openai/clip-vit-large-patch14-336): NFC, white space
// collapsed, lower-cased; split on CLIP's word regex with the matches kept (invert); byte-level
// mapping without prefix space; BPE with the end-of-word suffix "</w>"; start and end of text
// added by RobertaProcessing. The vocabulary is a hand-made miniature; the expected ids follow
// from CLIP's algorithm by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "text/tokenizer.h"

namespace vista::text {
namespace {

const char* kClipLike = R"({
  "version": "1.0",
  "added_tokens": [
    {"id": 0, "content": "<|startoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": true},
    {"id": 1, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": true}],
  "normalizer": {"type": "Sequence", "normalizers": [
    {"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}, {"type": "Lowercase"}]},
  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},
     "behavior": "Removed", "invert": true},
    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
  "post_processor": {"type": "RobertaProcessing", "sep": ["<|endoftext|>", 1], "cls": ["<|startoftext|>", 0],
                     "trim_offsets": false, "add_prefix_space": false},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {"type": "BPE", "dropout": null, "unk_token": "<|endoftext|>", "continuing_subword_prefix": "",
            "end_of_word_suffix": "</w>", "fuse_unk": false, "byte_fallback": false,
            "vocab": {"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2, "d": 3, "o": 4, "g</w>": 5, "do": 6,
                      "dog</w>": 7, ".</w>": 8, "r": 9, "e": 10, "d</w>": 11, "re": 12, "red</w>": 13, "2</w>": 14,
                      "'s</w>": 15, "'": 16, "s</w>": 17},
            "merges": ["d o", "do g</w>", "r e", "re d</w>", "' s</w>"]}
})";

TEST(ClipTokenizer, LowerCasesSplitsOnClipsRegexAndMarksWordEnds) {
  const auto path = (std::filesystem::temp_directory_path() / "vista_clip_like_tokenizer.json").string();
  std::ofstream(path) << kClipLike;
  const auto tok = Tokenizer::from_file(path);
  // "A  Dog." -> "a dog." -> [a] [dog] [.] -> a</w> | d o g</w> -> do g</w> -> dog</w> | .</w>
  EXPECT_EQ(tok.encode_ids("A  Dog.", true), (std::vector<int64_t>{0, 2, 7, 8, 1}));
  // "RED dog's 2" -> [red] [dog] ['s] [2]: the contraction and the digit are words of their own.
  EXPECT_EQ(tok.encode_ids("RED dog's 2", false), (std::vector<int64_t>{13, 7, 15, 14}));
  // The suffix marks the word's last symbol: "re" is r + e</w>, and e</w> is not in the
  // vocabulary (only the word-inner "e" is), so it becomes the unknown token.
  EXPECT_EQ(tok.encode_ids("re", false), (std::vector<int64_t>{9, 1}));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vista::text
