// Status propagation helpers. Debian's Abseil 20220623 ships neither
// absl/status/status_macros.h nor absl/log, so the project keeps its own two macros.
//
//   BONAFIDE_RETURN_IF_ERROR(DoThing());
//   BONAFIDE_ASSIGN_OR_RETURN(auto value, ComputeValue());
#ifndef BONAFIDE_UTIL_STATUS_MACROS_H_
#define BONAFIDE_UTIL_STATUS_MACROS_H_

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define BONAFIDE_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::absl::Status bonafide_status_ = (expr);            \
    if (!bonafide_status_.ok()) return bonafide_status_; \
  } while (0)

#define BONAFIDE_STATUS_CONCAT_INNER_(a, b) a##b
#define BONAFIDE_STATUS_CONCAT_(a, b) BONAFIDE_STATUS_CONCAT_INNER_(a, b)

#define BONAFIDE_ASSIGN_OR_RETURN(lhs, rexpr) \
  BONAFIDE_ASSIGN_OR_RETURN_IMPL_(BONAFIDE_STATUS_CONCAT_(bonafide_statusor_, __LINE__), lhs, rexpr)

// `lhs` may be a declaration (`auto x`), so it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BONAFIDE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();    \
  lhs = std::move(statusor).value()
// NOLINTEND(bugprone-macro-parentheses)

// Broken invariants are bugs, not Status: abort with the place.
#define BONAFIDE_CHECK(cond)                                                        \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

#endif  // BONAFIDE_UTIL_STATUS_MACROS_H_
