// A fast, stable 128-bit content hash for change detection and cache keys.
//
//   Hasher128 h;
//   h.Add("field one");
//   h.Add("field two");
//   std::string key = h.Hex();   // 32 lower-case hex digits
//
// Stable across runs, builds and machines (unlike absl::Hash), so it can be stored: the
// outbox keeps it to tell a changed case from an unchanged one, the rules compiler uses it
// to key cached databases. It is not a cryptographic hash; nothing here needs one.
//
// Definition (docs/outbox-format.md repeats it for independent implementations): two
// 64-bit lanes a, b start at 0x9e3779b97f4a7c15 and 0xc2b2ae3d27d4eb4f. Each field is read
// as little-endian 64-bit words, its last partial word zero-padded, and then one more word
// holding the field's byte length. Each word w updates
//   a = rotl(a ^ w, 23) * 0xff51afd7ed558ccd;   b = rotl(b ^ w, 31) * 0xc4ceb9fe1a85ec53
// and the digest is fmix(a ^ rotl(b, 17)) followed by fmix(b ^ a), where fmix is
// MurmurHash3's 64-bit finaliser; Hex() prints both as 16 hex digits each.
#ifndef BONAFIDE_UTIL_HASH_H_
#define BONAFIDE_UTIL_HASH_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace bonafide {

// Thread-compatible value; copyable.
class Hasher128 {
 public:
  // Adds one field; Add("ab") then Add("c") differs from Add("a") then Add("bc").
  void Add(std::string_view field);
  // Returns the digest of the fields added so far (the hasher stays usable).
  std::pair<uint64_t, uint64_t> Digest() const;
  // Returns Digest() as 32 lower-case hex digits.
  std::string Hex() const;
  // Returns the first half of Digest() as 16 lower-case hex digits.
  std::string Hex64() const;

 private:
  void Mix(uint64_t word);
  uint64_t a_ = 0x9e3779b97f4a7c15ULL;
  uint64_t b_ = 0xc2b2ae3d27d4eb4fULL;
};

}  // namespace bonafide

#endif  // BONAFIDE_UTIL_HASH_H_
