// A cache of loaded rule packs, so that a warm start does not parse YAML again.
//
//   BONAFIDE_ASSIGN_OR_RETURN(RulePack pack, LoadRulePackCached(dir, cache_dir));
//
// yaml-cpp spends about 2,000 instructions a byte: the 22 KB of examples/rules cost 43M
// instructions, 40% of an empty scan's start-up, and a pack of hundreds of rights holders
// would cost seconds at every start. A warm start instead reads the rule files' bytes (what
// LoadRulePack would read: policy.yaml, cues.yaml, context.yaml and the rights holder
// files, plus the names of the other files in rights_holders/, which give warnings),
// hashes them with the directory as given, and reads the pack from the cache file of that
// hash: every field of rules/rule_pack.h, warnings and source locations included, so the
// pack is equal (operator==) to what LoadRulePack returns.
//
// Only packs that loaded are cached: a pack with an error is parsed again on every start
// and reports its error the same way. A cache file that is missing, unreadable, truncated
// or of another format version is ignored (the YAML is loaded and the file rewritten); a
// cache that cannot be written costs only the next start. A genuine photo that was
// removed since the pack was cached sends the load to LoadRulePack, which names it.
#ifndef BONAFIDE_RULES_RULE_PACK_CACHE_H_
#define BONAFIDE_RULES_RULE_PACK_CACHE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "rules/rule_pack.h"

namespace bonafide::rules {

// LoadRulePack(directory) through the cache in `cache_dir` (created when missing); an
// empty `cache_dir` is LoadRulePack itself. `from_cache`, when given, tells whether the
// pack came from the cache. Errors: those of LoadRulePack.
absl::StatusOr<RulePack> LoadRulePackCached(std::string_view directory,
                                            const std::string& cache_dir,
                                            bool* from_cache = nullptr);

// The cache file's content for `pack` (a private binary form with a format version and a
// checksum), and back. ParseCachedRulePack returns DataLoss for bytes that are not a
// complete cache file of this format version. Exposed for tests.
std::string SerializeRulePack(const RulePack& pack);
absl::StatusOr<RulePack> ParseCachedRulePack(std::string_view bytes);

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_RULE_PACK_CACHE_H_
