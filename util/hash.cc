#include "util/hash.h"

#include <bit>
#include <cstring>

namespace bonafide {
namespace {

uint64_t Fmix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// Up to 8 bytes as a little-endian word, zero-padded. One load, not a loop over bytes: the
// outbox hashes every case's ~1 KB of content, for which the loop cost 4 times more.
uint64_t LoadLittleEndian(const char* p, size_t n) {
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

void WriteHex64(uint64_t v, char* out) {
  constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 0xf];
}

}  // namespace

void Hasher128::Mix(uint64_t w) {
  a_ = std::rotl(a_ ^ w, 23) * 0xff51afd7ed558ccdULL;
  b_ = std::rotl(b_ ^ w, 31) * 0xc4ceb9fe1a85ec53ULL;
}

void Hasher128::Add(std::string_view field) {
  size_t i = 0;
  for (; i + 8 <= field.size(); i += 8) Mix(LoadLittleEndian(field.data() + i, 8));
  if (i < field.size()) Mix(LoadLittleEndian(field.data() + i, field.size() - i));
  Mix(field.size());
}

std::pair<uint64_t, uint64_t> Hasher128::Digest() const {
  return {Fmix(a_ ^ std::rotl(b_, 17)), Fmix(b_ ^ a_)};
}

std::string Hasher128::Hex() const {
  const auto [hi, lo] = Digest();
  std::string hex(32, '0');
  WriteHex64(hi, hex.data());
  WriteHex64(lo, hex.data() + 16);
  return hex;
}

std::string Hasher128::Hex64() const {
  std::string hex(16, '0');
  WriteHex64(Digest().first, hex.data());
  return hex;
}

}  // namespace bonafide
