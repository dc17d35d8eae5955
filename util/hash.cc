#include "util/hash.h"

#include <bit>
#include <cstdio>
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

uint64_t LoadLittleEndian(const char* p, size_t n) {
  unsigned char bytes[8] = {};
  std::memcpy(bytes, p, n);
  uint64_t w = 0;
  for (int i = 7; i >= 0; --i) w = (w << 8) | bytes[i];
  return w;
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
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return std::string(buf, 32);
}

std::string Hasher128::Hex64() const { return Hex().substr(0, 16); }

}  // namespace bonafide
