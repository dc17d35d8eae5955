// The digest of a rule pack: every field that can change a decision or a case record,
// written in one canonical form and hashed.
//
//   BONAFIDE_ASSIGN_OR_RETURN(RulePack pack, LoadRulePack(dir));
//   std::string digest = RulePackDigest(pack);   // 32 hex digits
//
// The scanner combines it with the content of the genuine photos into the rules version
// recorded with every case (docs/outbox-format.md), which is also part of a scan's resume
// identity: rules that differ in any field must give different digests, or a killed scan
// would resume under changed rules.
//
// What is left out, on purpose: where things were written (SourceLocation, the directory
// the pack was loaded from), so that moving the rules directory or editing a comment does
// not count as a change, and the loader's warnings, which change no decision. Genuine photo paths
// are digested relative to the rules directory, as reasons report them.
//
// Adding a field to a struct of rules/rule_pack.h: rule_pack_digest.cc fails to compile
// (a static_assert on each struct's size) until the field is digested there, and
// tests/rules/rule_pack_digest_test.cc changes every field one at a time.
#ifndef BONAFIDE_RULES_RULE_PACK_DIGEST_H_
#define BONAFIDE_RULES_RULE_PACK_DIGEST_H_

#include <string>

#include "rules/rule_pack.h"

namespace bonafide::rules {

// Returns the digest of `pack` (util/hash.h Hasher128, 32 lower-case hex digits). Equal
// packs give equal digests on every machine and build. Thread-safe.
std::string RulePackDigest(const RulePack& pack);

// Returns `path` (a Product::images entry) relative to `pack.directory`, or as is when it
// lies elsewhere: how reasons and reports name a genuine photo.
std::string PathInRules(const RulePack& pack, const std::string& path);

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_RULE_PACK_DIGEST_H_
