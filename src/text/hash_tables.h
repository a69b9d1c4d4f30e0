#pragma once
// Flat open-addressing hash tables for the hot paths of BPE: token string -> id (lookups by
// string_view without allocating) and (left id, right id) -> merge.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace vista::text {

inline uint64_t hash_bytes(std::string_view s) {
  // 64-bit FNV-1a over 8-byte words, finished with a mixer: fast for short tokens.
  uint64_t h = 0xcbf29ce484222325ull ^ (s.size() * 0x9E3779B97F4A7C15ull);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail) * 0x100000001b3ull;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

// Maps strings to ids; the strings themselves live in the caller's id -> string table.
class StringIdMap {
 public:
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;

  // strings[id] for every id with present[id]; later duplicates are ignored by insert's caller.
  void reserve(size_t count) {
    size_t cap = 16;
    while (cap < count * 2) cap <<= 1;
    slots_.assign(cap, kEmpty);
    mask_ = cap - 1;
  }
  // Inserts (or overwrites) key -> id. `strings` must outlive the map and hold the key at id.
  void insert(const std::vector<std::string>* strings, uint32_t id) {
    strings_ = strings;
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(id, true);
  }
  uint32_t find(std::string_view key) const {
    if (slots_.empty()) return kEmpty;
    size_t i = hash_bytes(key) & mask_;
    while (true) {
      const uint32_t id = slots_[i];
      if (id == kEmpty) return kEmpty;
      if ((*strings_)[id] == key) return id;
      i = (i + 1) & mask_;
    }
  }
  size_t size() const { return size_; }

 private:
  void place(uint32_t id, bool count) {
    const std::string& key = (*strings_)[id];
    size_t i = hash_bytes(key) & mask_;
    while (slots_[i] != kEmpty) {
      if ((*strings_)[slots_[i]] == key) {
        slots_[i] = id;
        return;
      }
      i = (i + 1) & mask_;
    }
    slots_[i] = id;
    if (count) ++size_;
  }
  void grow() {
    std::vector<uint32_t> old = std::move(slots_);
    const size_t cap = old.empty() ? 16 : old.size() * 2;
    slots_.assign(cap, kEmpty);
    mask_ = cap - 1;
    for (uint32_t id : old)
      if (id != kEmpty) place(id, false);
  }
  std::vector<uint32_t> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  const std::vector<std::string>* strings_ = nullptr;
};

// (left, right) -> (rank, new id).
class PairMap {
 public:
  struct Value {
    uint32_t rank;
    uint32_t new_id;
  };
  void reserve(size_t count) {
    size_t cap = 16;
    while (cap < count * 2) cap <<= 1;
    slots_.assign(cap, Slot{kEmptyKey, {0, 0}});
    mask_ = cap - 1;
  }
  // Inserts or overwrites (the later merge of a duplicated pair wins, as in the reference).
  void insert(uint32_t left, uint32_t right, Value value) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(key(left, right), value, true);
  }
  const Value* find(uint32_t left, uint32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t k = key(left, right);
    size_t i = mix64(k) & mask_;
    while (true) {
      const Slot& slot = slots_[i];
      if (slot.key == k) return &slot.value;
      if (slot.key == kEmptyKey) return nullptr;
      i = (i + 1) & mask_;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmptyKey = ~0ull;
  struct Slot {
    uint64_t key;
    Value value;
  };
  static uint64_t key(uint32_t left, uint32_t right) { return (static_cast<uint64_t>(left) << 32) | right; }
  void place(uint64_t k, Value value, bool count) {
    size_t i = mix64(k) & mask_;
    while (slots_[i].key != kEmptyKey) {
      if (slots_[i].key == k) {
        slots_[i].value = value;
        return;
      }
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{k, value};
    if (count) ++size_;
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    const size_t cap = old.empty() ? 16 : old.size() * 2;
    slots_.assign(cap, Slot{kEmptyKey, {0, 0}});
    mask_ = cap - 1;
    for (const Slot& s : old)
      if (s.key != kEmptyKey) place(s.key, s.value, false);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace vista::text

namespace vista::text {

// A set of 64-bit keys (open addressing; the all-ones key cannot be stored).
class U64Set {
 public:
  void insert(uint64_t key) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(key);
  }
  bool contains(uint64_t key) const {
    if (slots_.empty()) return false;
    size_t i = mix64(key) & mask_;
    while (true) {
      if (slots_[i] == key) return true;
      if (slots_[i] == kEmptyKey) return false;
      i = (i + 1) & mask_;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmptyKey = ~0ull;
  void place(uint64_t key) {
    size_t i = mix64(key) & mask_;
    while (slots_[i] != kEmptyKey) {
      if (slots_[i] == key) return;
      i = (i + 1) & mask_;
    }
    slots_[i] = key;
    ++size_;
  }
  void grow() {
    std::vector<uint64_t> old = std::move(slots_);
    const size_t cap = old.empty() ? 1024 : old.size() * 2;
    slots_.assign(cap, kEmptyKey);
    mask_ = cap - 1;
    size_ = 0;
    for (uint64_t k : old)
      if (k != kEmptyKey) place(k);
  }
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace vista::text
