// Translation of Hyperscan error codes into absl::Status, in one place.
#ifndef BONAFIDE_RULES_HS_STATUS_H_
#define BONAFIDE_RULES_HS_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include <hs.h>

namespace bonafide::rules {

// Returns OK for HS_SUCCESS, otherwise a Status whose message is
// "<context>: hyperscan: <description of code>".
absl::Status HsStatus(hs_error_t code, std::string_view context);

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_HS_STATUS_H_
