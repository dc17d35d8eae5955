// Finding the patterns of CompiledRules in normalised text: one interface, two backends.
//
//   - Hyperscan (rules/hyperscan_matcher.h): the default and the fast one.
//   - RE2::Set (rules/re2_set_matcher.h): the same hits with RE2 only, for builds without
//     Hyperscan (BONAFIDE_WITH_HYPERSCAN=OFF) and as the benchmarks' peer.
//
// A backend compiles the patterns once into a MatcherDatabase (slow, may allocate, returns
// detailed errors), which then makes one TextMatcher per thread (fast to scan, allocates
// nothing per text in steady state, Hyperscan's at least):
//
//   BONAFIDE_ASSIGN_OR_RETURN(auto rules, CompiledRules::Compile(std::move(pack)));
//   BONAFIDE_ASSIGN_OR_RETURN(auto database,
//                             CompileMatcherDatabase(DefaultMatcherBackend(), rules, {}));
//   BONAFIDE_ASSIGN_OR_RETURN(auto matcher, database->NewMatcher());  // per thread
//   BONAFIDE_RETURN_IF_ERROR(matcher->Match(normalised_text, MatchScope::kTitle, hits));
//
// What every backend reports for a text (tests/rules/text_matcher_test.cc checks the
// backends against each other):
//   - one hit per (pattern, end offset) at which some match of the pattern ends, including
//     overlapping matches ("1:1:1" gives two hits of the 1:1 regex) and several ends from
//     one start (regex `fa+` on "faaa" gives three);
//   - hits ordered by end offset; among hits that end at the same offset the order is the
//     backend's own (callers must not depend on it);
//   - `from` of a name or phrase as HitStart (rules/compiled_rules.h) recovers it, not
//     necessarily the leftmost start of the match;
//   - every hit of a cue regex carries the span of RE2's leftmost match in the text;
//   - at most TextMatcher::kMaxHits hits, the first ones in that order.
#ifndef BONAFIDE_RULES_TEXT_MATCHER_H_
#define BONAFIDE_RULES_TEXT_MATCHER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "rules/compiled_rules.h"

namespace bonafide::rules {

enum class MatcherBackend : uint8_t {
  kHyperscan,
  kRe2Set,
};

// Returns "hyperscan" or "re2-set".
const char* MatcherBackendName(MatcherBackend backend);
// Returns the fastest backend of this build: Hyperscan when it is built in, else RE2::Set.
MatcherBackend DefaultMatcherBackend();
// Returns the backends of this build, the default first.
std::vector<MatcherBackend> AvailableMatcherBackends();

struct MatcherOptions {
  // Directory for the compiled databases of backends that can serialise them (Hyperscan;
  // "" disables the cache). Created when missing; a cache that cannot be read or written
  // only costs a recompilation.
  std::string cache_dir;
};

// Finds the patterns of one CompiledRules in normalised text. One per thread: it owns the
// backend's mutable scan state (Hyperscan scratch, RE2 DFA caches, hit buffers). Not
// copyable or movable. IMPORTANT: keeps a reference to the MatcherDatabase that made it,
// which must outlive it.
class TextMatcher {
 public:
  // At most this many hits are kept per Match call; a text with more (hostile input) keeps
  // the first ones.
  static constexpr size_t kMaxHits = 1024;

  virtual ~TextMatcher() = default;
  TextMatcher(const TextMatcher&) = delete;
  TextMatcher& operator=(const TextMatcher&) = delete;

  // Replaces `hits` with every occurrence in `text` of every pattern of `scope` (see the
  // file comment). Returns Internal or ResourceExhausted only when the engine fails (misuse
  // such as one matcher on two threads, or memory); no match is not an error.
  // REQUIRES: `text` is valid UTF-8 (NormalizedText always is).
  virtual absl::Status Match(std::string_view text, MatchScope scope,
                             std::vector<TextHit>& hits) = 0;

 protected:
  TextMatcher() = default;
};

// The patterns of one CompiledRules compiled by one backend. Immutable after compilation;
// thread-safe (NewMatcher may run concurrently). Not copyable; share it as
// std::shared_ptr<const MatcherDatabase>. Keeps the CompiledRules alive.
class MatcherDatabase {
 public:
  virtual ~MatcherDatabase() = default;
  MatcherDatabase(const MatcherDatabase&) = delete;
  MatcherDatabase& operator=(const MatcherDatabase&) = delete;

  // Returns a matcher for one thread. Returns ResourceExhausted when its scan state cannot
  // be allocated.
  virtual absl::StatusOr<std::unique_ptr<TextMatcher>> NewMatcher() const = 0;

  // True when the compiled form came from MatcherOptions::cache_dir rather than a
  // compilation (always false for a backend without a cache).
  virtual bool loaded_from_cache() const = 0;

  const CompiledRules& rules() const { return *rules_; }

 protected:
  explicit MatcherDatabase(std::shared_ptr<const CompiledRules> rules) : rules_(std::move(rules)) {}

 private:
  std::shared_ptr<const CompiledRules> rules_;
};

// Compiles every pattern of `rules` with `backend`. Returns InvalidArgument naming the
// pattern's rule (`file:line:column: rule "cue.x": hyperscan ...`) when the backend rejects
// a pattern, ResourceExhausted when the patterns do not fit the backend's memory budget,
// Unimplemented when this build lacks `backend`. REQUIRES: `rules` is not null.
absl::StatusOr<std::shared_ptr<const MatcherDatabase>> CompileMatcherDatabase(
    MatcherBackend backend, std::shared_ptr<const CompiledRules> rules,
    const MatcherOptions& options);

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_TEXT_MATCHER_H_
