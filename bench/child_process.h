// What the end-to-end drivers (bonafide_bench, bonafide_image_bench) share: each
// configuration runs in a forked child, so that its peak RSS is its own and one run's heap
// does not shape the next, and figures are medians.
#ifndef BONAFIDE_BENCH_CHILD_PROCESS_H_
#define BONAFIDE_BENCH_CHILD_PROCESS_H_

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <type_traits>
#include <vector>

namespace bonafide::bench {

// Runs `body` in a forked child and returns what it computed, or nullopt when the child
// failed (crashed, exited non-zero or sent less than a T). `*peak_mib` (when not null) gets
// the child's peak RSS in MiB. The child leaves with _exit: no exit handlers of the
// parent's state run twice. REQUIRES: the calling process is single-threaded (fork copies
// only the calling thread).
template <typename T>
std::optional<T> RunInChild(const std::function<T()>& body, double* peak_mib) {
  static_assert(std::is_trivially_copyable_v<T>);
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(fds[0]);
    const T result = body();
    const char* p = reinterpret_cast<const char*>(&result);
    for (size_t done = 0; done < sizeof(T);) {
      const ssize_t w = ::write(fds[1], p + done, sizeof(T) - done);
      if (w <= 0) std::_Exit(2);
      done += static_cast<size_t>(w);
    }
    std::fflush(nullptr);
    std::_Exit(0);
  }
  ::close(fds[1]);
  T result{};
  size_t got = 0;
  char* p = reinterpret_cast<char*>(&result);
  while (got < sizeof(T)) {
    const ssize_t r = ::read(fds[0], p + got, sizeof(T) - got);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fds[0]);
  int status = 0;
  struct rusage usage {};
  if (::wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      got != sizeof(T)) {
    return std::nullopt;
  }
  if (peak_mib != nullptr) *peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB
  return result;
}

// The median of `v` (the upper one of an even count). REQUIRES: !v.empty().
inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace bonafide::bench

#endif  // BONAFIDE_BENCH_CHILD_PROCESS_H_
