// Peak resident memory of the test process, for "memory stays bounded" assertions.
//
//   if (ResetPeakRss()) {
//     ... work ...
//     EXPECT_LT(PeakRssBytes() - baseline, 64 << 20);
//   }
//
// Linux only: the peak (VmHWM in /proc/self/status) is reset by writing "5" to
// /proc/self/clear_refs (Linux 4.0+). Where that fails the caller skips the check.
#ifndef BONAFIDE_TESTS_HOSTILE_MEMORY_H_
#define BONAFIDE_TESTS_HOSTILE_MEMORY_H_

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace bonafide::testing {

// True when built with AddressSanitizer (whose shadow memory and quarantine make RSS
// numbers meaningless for tight bounds).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kUnderAsan = true;
#else
inline constexpr bool kUnderAsan = false;
#endif
#else
inline constexpr bool kUnderAsan = false;
#endif

// Returns a field of /proc/self/status in bytes ("VmHWM", "VmRSS"), or 0.
inline uint64_t ProcStatusBytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size() + 1, key + ":") == 0) {
      return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

inline uint64_t PeakRssBytes() { return ProcStatusBytes("VmHWM"); }
inline uint64_t CurrentRssBytes() { return ProcStatusBytes("VmRSS"); }

// Resets the peak to the current RSS; false when the kernel does not allow it.
inline bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return out.good() && PeakRssBytes() > 0;
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_HOSTILE_MEMORY_H_
