#include "rules/hs_status.h"

#include <string>

#include "absl/strings/str_cat.h"

#include "util/strings.h"

namespace bonafide::rules {

absl::Status HsStatus(hs_error_t code, std::string_view context) {
  if (code == HS_SUCCESS) return absl::OkStatus();
  const char* what = "unknown error";
  absl::StatusCode status_code = absl::StatusCode::kInternal;
  switch (code) {
    case HS_INVALID:
      what = "invalid parameter";
      break;
    case HS_NOMEM:
      what = "out of memory";
      status_code = absl::StatusCode::kResourceExhausted;
      break;
    case HS_SCAN_TERMINATED:
      what = "scan terminated by callback";
      break;
    case HS_COMPILER_ERROR:
      what = "pattern compilation failed";
      status_code = absl::StatusCode::kInvalidArgument;
      break;
    case HS_DB_VERSION_ERROR:
      what = "database built by another Hyperscan version";
      status_code = absl::StatusCode::kDataLoss;
      break;
    case HS_DB_PLATFORM_ERROR:
      what = "database built for another platform";
      status_code = absl::StatusCode::kDataLoss;
      break;
    case HS_DB_MODE_ERROR:
      what = "database mode does not match";
      break;
    case HS_BAD_ALIGN:
      what = "bad alignment";
      break;
    case HS_BAD_ALLOC:
      what = "allocator returned misaligned memory";
      break;
    case HS_SCRATCH_IN_USE:
      what = "scratch already in use (one scratch per thread)";
      break;
    case HS_ARCH_ERROR:
      what = "this CPU lacks SSSE3, which Hyperscan requires";
      status_code = absl::StatusCode::kFailedPrecondition;
      break;
    case HS_INSUFFICIENT_SPACE:
      what = "insufficient space";
      break;
    default:
      break;
  }
  return absl::Status(status_code, absl::StrCat(ToAbsl(context), ": hyperscan: ", what));
}

}  // namespace bonafide::rules
