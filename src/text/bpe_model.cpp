#include "text/bpe_model.h"

#include <fmt/format.h>

#include <algorithm>

#include "text/utf8.h"
#include "util/error.h"

namespace vista::text {

namespace {

constexpr uint32_t kNone = StringIdMap::kEmpty;

struct Symbol {
  uint32_t id;
  int32_t prev;
  int32_t next;
  uint32_t len;  // bytes of the word covered; 0 once merged away
};

struct HeapEntry {
  uint64_t key;  // rank << 32 | position: smaller first
  uint32_t new_id;
};
struct HeapGreater {
  bool operator()(const HeapEntry& a, const HeapEntry& b) const { return a.key > b.key; }
};

uint64_t heap_key(uint32_t rank, size_t pos) { return (static_cast<uint64_t>(rank) << 32) | static_cast<uint32_t>(pos); }

}  // namespace

std::unique_ptr<BpeModel> BpeModel::from_json(const JsonNode& node) {
  std::unique_ptr<BpeModel> model(new BpeModel());
  model->source_ = node.file();
  if (auto dropout = node.find("dropout")) {
    if (!dropout->raw().is_number()) dropout->fail("expected a number or null, got " + json_type_name(dropout->raw()));
    if (dropout->raw().get<double>() != 0.0)
      dropout->fail("BPE dropout is random and not supported (expected null or 0)");
  }
  model->unk_token_ = node.optional_string("unk_token");
  model->continuing_subword_prefix_ = node.optional_string("continuing_subword_prefix").value_or("");
  model->end_of_word_suffix_ = node.optional_string("end_of_word_suffix").value_or("");
  model->fuse_unk_ = node.boolean_or("fuse_unk", false);
  model->byte_fallback_ = node.boolean_or("byte_fallback", false);
  model->ignore_merges_ = node.boolean_or("ignore_merges", false);

  // Vocabulary.
  const JsonNode vocab = node.at("vocab");
  const auto& vocab_object = vocab.as_object();
  int64_t max_id = -1;
  for (auto it = vocab_object.begin(); it != vocab_object.end(); ++it) {
    if (!it->is_number_integer() && !it->is_number_unsigned())
      vocab.fail(fmt::format("entry '{}': expected an integer id, got {}", escape_for_message(it.key()), json_type_name(*it)));
    const int64_t id = it->get<int64_t>();
    if (id < 0 || id >= (int64_t{1} << 31))
      vocab.fail(fmt::format("entry '{}': id {} out of range (expected 0 <= id < 2^31)", escape_for_message(it.key()), id));
    max_id = std::max(max_id, id);
  }
  // The id table is dense; a stray huge id must not cost gigabytes (found by the fuzzer: one id of
  // 55 million made a 1.9 GB table). Real vocabularies number their entries 0..n-1.
  const auto entries = static_cast<int64_t>(vocab_object.size());
  if (max_id >= 2 * entries + 1024)
    vocab.fail(fmt::format("ids are sparse: the largest id is {} for {} entries (expected ids below {})", max_id,
                           entries, 2 * entries + 1024));
  model->vocab_r_.assign(static_cast<size_t>(max_id + 1), std::string());
  model->has_token_.assign(static_cast<size_t>(max_id + 1), false);
  model->vocab_.reserve(vocab_object.size());
  for (auto it = vocab_object.begin(); it != vocab_object.end(); ++it) {
    const auto id = static_cast<uint32_t>(it->get<int64_t>());
    if (model->has_token_[id])
      vocab.fail(fmt::format("id {} is used by both '{}' and '{}' (expected unique ids)", id,
                             escape_for_message(model->vocab_r_[id]), escape_for_message(it.key())));
    model->vocab_r_[id] = it.key();
    model->has_token_[id] = true;
    model->vocab_.insert(&model->vocab_r_, id);
  }
  model->vocab_count_ = model->vocab_.size();

  // Merges: "a b" strings (legacy) or ["a", "b"] pairs.
  const JsonNode merges = node.at("merges");
  const auto& merge_array = merges.as_array();
  model->merges_.reserve(merge_array.size());
  const size_t prefix_len = model->continuing_subword_prefix_.size();
  uint32_t rank = 0;
  for (size_t i = 0; i < merge_array.size(); ++i) {
    const auto& entry = merge_array[i];
    std::string a, b;
    if (entry.is_string()) {
      const std::string& line = entry.get_ref<const std::string&>();
      if (line.rfind("#version", 0) == 0) continue;  // skipped, as in the reference
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
        merges.at(i).fail(fmt::format("expected \"left right\" (two tokens separated by one space), got \"{}\"",
                                      escape_for_message(line)));
      a = line.substr(0, space);
      b = line.substr(space + 1);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
      a = entry[0].get<std::string>();
      b = entry[1].get<std::string>();
    } else {
      merges.at(i).fail("expected a \"left right\" string or a [\"left\", \"right\"] pair, got " + json_type_name(entry));
    }
    const uint32_t a_id = model->vocab_.find(a);
    const uint32_t b_id = model->vocab_.find(b);
    if (a_id == kNone || b_id == kNone)
      merges.at(i).fail(fmt::format("token '{}' is not in model.vocab", escape_for_message(a_id == kNone ? a : b)));
    if (b.size() < prefix_len) merges.at(i).fail("right token shorter than continuing_subword_prefix");
    const std::string merged = a + b.substr(prefix_len);
    const uint32_t new_id = model->vocab_.find(merged);
    if (new_id == kNone)
      merges.at(i).fail(fmt::format("merged token '{}' is not in model.vocab", escape_for_message(merged)));
    model->merges_.insert(a_id, b_id, {rank, new_id});
    ++rank;
  }

  if (model->unk_token_) {
    const uint32_t id = model->vocab_.find(*model->unk_token_);
    if (id != kNone) model->unk_id_ = id;
  }
  const bool plain = model->continuing_subword_prefix_.empty() && model->end_of_word_suffix_.empty();
  for (uint32_t c = 0; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    model->ascii_ids_[c] = plain ? model->vocab_.find(std::string_view(&ch, 1)) : kNone;
  }
  model->all_byte_tokens_ = true;
  for (uint32_t b = 0; b < 256; ++b) {
    model->byte_ids_[b] = model->vocab_.find(fmt::format("<0x{:02X}>", b));
    if (model->byte_ids_[b] == kNone) model->all_byte_tokens_ = false;
  }
  return model;
}

std::optional<uint32_t> BpeModel::token_to_id(std::string_view token) const {
  const uint32_t id = vocab_.find(token);
  if (id == kNone) return std::nullopt;
  return id;
}

const std::string* BpeModel::id_to_token(uint32_t id) const {
  if (id >= vocab_r_.size() || !has_token_[id]) return nullptr;
  return &vocab_r_[id];
}

uint32_t BpeModel::lookup_char(std::string_view ch, bool is_first, bool is_last, std::string& scratch) const {
  const bool add_prefix = !is_first && !continuing_subword_prefix_.empty();
  const bool add_suffix = is_last && !end_of_word_suffix_.empty();
  if (!add_prefix && !add_suffix) {
    if (ch.size() == 1 && static_cast<unsigned char>(ch[0]) < 128 && continuing_subword_prefix_.empty() &&
        end_of_word_suffix_.empty())
      return ascii_ids_[static_cast<unsigned char>(ch[0])];
    return vocab_.find(ch);
  }
  scratch.clear();
  if (add_prefix) scratch += continuing_subword_prefix_;
  scratch.append(ch);
  if (add_suffix) scratch += end_of_word_suffix_;
  return vocab_.find(scratch);
}

void BpeModel::merge_word(std::string_view word, std::vector<uint32_t>& ids) const {
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto add = [&](uint32_t id, uint32_t len) {
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back(Symbol{id, index - 1, -1, len});
    if (index > 0) symbols[static_cast<size_t>(index - 1)].next = index;
  };
  std::string scratch;
  bool pending_unk = false;
  uint32_t pending_unk_len = 0;
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t start = pos;
    pos += utf8_sequence_length(static_cast<unsigned char>(word[pos]));
    if (pos > word.size()) pos = word.size();
    const std::string_view ch = word.substr(start, pos - start);
    const auto byte_len = static_cast<uint32_t>(ch.size());
    const uint32_t id = lookup_char(ch, start == 0, pos >= word.size(), scratch);
    if (id != kNone) {
      if (pending_unk) {
        add(*unk_id_, pending_unk_len);
        pending_unk = false;
      }
      add(id, byte_len);
      continue;
    }
    if (byte_fallback_) {
      // The reference looks the bytes of the (prefixed/suffixed) string up as <0xXX> tokens.
      std::string_view bytes = ch;
      if (start != 0 && !continuing_subword_prefix_.empty()) bytes = scratch;
      if (pos >= word.size() && !end_of_word_suffix_.empty()) bytes = scratch;
      bool all = true;
      for (char b : bytes)
        if (byte_ids_[static_cast<unsigned char>(b)] == kNone) all = false;
      if (all) {
        for (char b : bytes) add(byte_ids_[static_cast<unsigned char>(b)], 1);
        continue;
      }
    }
    if (unk_token_) {
      if (!unk_id_)
        fail("{}: field 'model.unk_token': token '{}' is needed for '{}' but is not in model.vocab", source_,
             escape_for_message(*unk_token_), escape_for_message(ch));
      if (pending_unk && fuse_unk_) {
        pending_unk_len += byte_len;
      } else {
        if (pending_unk) add(*unk_id_, pending_unk_len);
        pending_unk = true;
        pending_unk_len = byte_len;
      }
    }
    // Without an unknown token the character is dropped, as in the reference.
  }
  if (pending_unk) add(*unk_id_, pending_unk_len);

  // Heap of candidate merges: lowest rank first, then leftmost.
  std::vector<HeapEntry> heap;
  heap.reserve(symbols.size());
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const auto* m = merges_.find(symbols[i].id, symbols[i + 1].id)) heap.push_back({heap_key(m->rank, i), m->new_id});
  }
  std::make_heap(heap.begin(), heap.end(), HeapGreater());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), HeapGreater());
    const HeapEntry top = heap.back();
    heap.pop_back();
    const auto pos_top = static_cast<size_t>(top.key & 0xFFFFFFFFu);
    Symbol& current = symbols[pos_top];
    if (current.len == 0 || current.next < 0) continue;
    const auto next_pos = static_cast<size_t>(current.next);
    const Symbol right = symbols[next_pos];
    const auto* check = merges_.find(current.id, right.id);
    if (!check || check->new_id != top.new_id) continue;  // stale entry
    current.id = top.new_id;
    current.len += right.len;
    current.next = right.next;
    symbols[next_pos].len = 0;
    if (right.next >= 0 && static_cast<size_t>(right.next) < symbols.size())
      symbols[static_cast<size_t>(right.next)].prev = static_cast<int32_t>(pos_top);
    if (current.prev >= 0) {
      const Symbol& prev = symbols[static_cast<size_t>(current.prev)];
      if (const auto* m = merges_.find(prev.id, current.id)) {
        heap.push_back({heap_key(m->rank, static_cast<size_t>(current.prev)), m->new_id});
        std::push_heap(heap.begin(), heap.end(), HeapGreater());
      }
    }
    if (current.next >= 0) {
      const Symbol& next = symbols[static_cast<size_t>(current.next)];
      if (const auto* m = merges_.find(current.id, next.id)) {
        heap.push_back({heap_key(m->rank, pos_top), m->new_id});
        std::push_heap(heap.begin(), heap.end(), HeapGreater());
      }
    }
  }
  for (const Symbol& s : symbols)
    if (s.len != 0) ids.push_back(s.id);
}

const U64Set& BpeModel::joinable_pairs() const {
  std::call_once(joinable_once_, [this] {
    for (size_t id = 0; id < vocab_r_.size(); ++id) {
      if (!has_token_[id]) continue;
      const std::string& token = vocab_r_[id];
      size_t pos = 0;
      char32_t previous = 0;
      bool first = true;
      while (pos < token.size()) {
        const char32_t cp = next_code_point(token, pos);
        if (!first) joinable_.insert((static_cast<uint64_t>(previous) << 21) | cp);
        previous = cp;
        first = false;
      }
    }
  });
  return joinable_;
}

void BpeModel::tokenize_long_word(std::string_view word, std::vector<uint32_t>& ids) const {
  const U64Set& joinable = joinable_pairs();
  size_t chunk_start = 0;
  size_t pos = 0;
  char32_t previous = 0;
  bool previous_known = false;
  while (pos < word.size()) {
    const size_t start = pos;
    const char32_t cp = next_code_point(word, pos);
    const std::string_view ch = word.substr(start, pos - start);
    const bool known = cp < 128 ? ascii_ids_[cp] != kNone : vocab_.find(ch) != kNone;
    // Both sides are plain single-character symbols (no byte fallback, no unknown token to fuse)
    // and no vocabulary token contains them side by side: no merge can cross this point.
    if (known && previous_known && start > chunk_start && !joinable.contains((static_cast<uint64_t>(previous) << 21) | cp)) {
      tokenize_merged(word.substr(chunk_start, start - chunk_start), ids);
      chunk_start = start;
    }
    previous = cp;
    previous_known = known;
  }
  tokenize_merged(word.substr(chunk_start), ids);
}

void BpeModel::tokenize_merged(std::string_view word, std::vector<uint32_t>& ids) const {
  const bool cacheable = word.size() < kCacheMaxWordBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(std::string(word));
    if (it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = ids.size();
  merge_word(word, ids);
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kCacheCapacity)
      cache_.emplace(std::string(word), std::vector<uint32_t>(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end()));
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<uint32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    const uint32_t id = vocab_.find(word);
    if (id != kNone) {
      ids.push_back(id);
      return;
    }
  }
  if (word.size() >= kCacheMaxWordBytes && continuing_subword_prefix_.empty() && end_of_word_suffix_.empty()) {
    tokenize_long_word(word, ids);
    return;
  }
  tokenize_merged(word, ids);
}

}  // namespace vista::text
