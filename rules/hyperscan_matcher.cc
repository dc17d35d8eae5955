// HyperscanDatabase's matchers: a scratch per thread, hs_scan, and the starts of hits.
#include "rules/hyperscan_matcher.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include <hs.h>
#include <re2/re2.h>

#include "rules/hs_status.h"
#include "util/status_macros.h"

namespace bonafide::rules {
namespace {

int OnMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int /*flags*/,
            void* context) {
  auto* hits = static_cast<std::vector<TextHit>*>(context);
  if (hits->size() < TextMatcher::kMaxHits) {
    hits->push_back(TextHit{id, static_cast<uint32_t>(from), static_cast<uint32_t>(to)});
  }
  return 0;
}

class HyperscanMatcher final : public TextMatcher {
 public:
  explicit HyperscanMatcher(const HyperscanDatabase& database) : database_(database) {}
  ~HyperscanMatcher() override { hs_free_scratch(scratch_); }

  // Allocates the scratch; the second call grows it to fit both databases.
  absl::Status AllocateScratch() {
    for (MatchScope scope : {MatchScope::kTitle, MatchScope::kDescription}) {
      BONAFIDE_RETURN_IF_ERROR(
          HsStatus(hs_alloc_scratch(database_.database(scope), &scratch_), "allocating scratch"));
    }
    return absl::OkStatus();
  }

  absl::Status Match(std::string_view text, MatchScope scope, std::vector<TextHit>& hits) override;

 private:
  const HyperscanDatabase& database_;
  hs_scratch_t* scratch_ = nullptr;
  // Spans of the cue regexes found in the current text (pattern, from, to).
  std::vector<TextHit> regex_spans_;
};

absl::Status HyperscanMatcher::Match(std::string_view text, MatchScope scope,
                                     std::vector<TextHit>& hits) {
  hits.clear();
  regex_spans_.clear();
  if (text.empty()) return absl::OkStatus();
  BONAFIDE_RETURN_IF_ERROR(
      HsStatus(hs_scan(database_.database(scope), text.data(), static_cast<unsigned>(text.size()),
                       0, scratch_, OnMatch, &hits),
               "scanning text"));
  const std::vector<PatternInfo>& patterns = database_.rules().patterns();
  for (TextHit& hit : hits) {
    const RE2* regex = database_.regex(hit.pattern);
    if (regex == nullptr) {
      hit.from = HitStart(patterns[hit.pattern], text, hit.to);
      continue;
    }
    // A regex's span comes from RE2's leftmost match, computed once per text.
    auto known = std::find_if(regex_spans_.begin(), regex_spans_.end(),
                              [&](const TextHit& s) { return s.pattern == hit.pattern; });
    if (known == regex_spans_.end()) {
      TextHit span{hit.pattern, hit.to, hit.to};
      re2::StringPiece match;
      if (regex->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED,
                       &match, 1)) {
        span.from = static_cast<uint32_t>(match.data() - text.data());
        span.to = static_cast<uint32_t>(span.from + match.size());
      }
      regex_spans_.push_back(span);
      known = regex_spans_.end() - 1;
    }
    hit.from = known->from;
    hit.to = known->to;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TextMatcher>> HyperscanDatabase::NewMatcher() const {
  auto matcher = std::make_unique<HyperscanMatcher>(*this);
  BONAFIDE_RETURN_IF_ERROR(matcher->AllocateScratch());
  return std::unique_ptr<TextMatcher>(std::move(matcher));
}

}  // namespace bonafide::rules
