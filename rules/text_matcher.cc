#include "rules/text_matcher.h"

#include <utility>

#include "rules/re2_set_matcher.h"
#if BONAFIDE_WITH_HYPERSCAN
#include "rules/hyperscan_matcher.h"
#endif

namespace bonafide::rules {

const char* MatcherBackendName(MatcherBackend backend) {
  switch (backend) {
    case MatcherBackend::kHyperscan:
      return "hyperscan";
    case MatcherBackend::kRe2Set:
      return "re2-set";
  }
  return "unknown";
}

MatcherBackend DefaultMatcherBackend() {
#if BONAFIDE_WITH_HYPERSCAN
  return MatcherBackend::kHyperscan;
#else
  return MatcherBackend::kRe2Set;
#endif
}

std::vector<MatcherBackend> AvailableMatcherBackends() {
#if BONAFIDE_WITH_HYPERSCAN
  return {MatcherBackend::kHyperscan, MatcherBackend::kRe2Set};
#else
  return {MatcherBackend::kRe2Set};
#endif
}

absl::StatusOr<std::shared_ptr<const MatcherDatabase>> CompileMatcherDatabase(
    MatcherBackend backend, std::shared_ptr<const CompiledRules> rules,
    [[maybe_unused]] const MatcherOptions& options) {  // unused without Hyperscan
  switch (backend) {
    case MatcherBackend::kHyperscan:
#if BONAFIDE_WITH_HYPERSCAN
      return HyperscanDatabase::Compile(std::move(rules), options);
#else
      return absl::UnimplementedError(
          "text backend hyperscan: this build has no Hyperscan (BONAFIDE_WITH_HYPERSCAN=OFF)");
#endif
    case MatcherBackend::kRe2Set:
      return Re2SetDatabase::Compile(std::move(rules));
  }
  return absl::InvalidArgumentError("unknown text backend");
}

}  // namespace bonafide::rules
