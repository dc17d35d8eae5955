// Builds a ListingExplanation (bonafide/explain.h) from a listing's Verdict and the rules
// it was judged by: the words behind `bonafide explain` and Scanner::Explain.
#ifndef BONAFIDE_ENGINE_EXPLANATION_H_
#define BONAFIDE_ENGINE_EXPLANATION_H_

#include <string>
#include <vector>

#include "bonafide/explain.h"
#include "bonafide/listing.h"
#include "bonafide/scanner.h"
#include "bonafide/verdict.h"
#include "engine/feedback_index.h"
#include "models/photo_bank.h"
#include "rules/compiled_rules.h"

namespace bonafide::engine {

// `verdict` is Scanner::Scan's for `listing`, with its photos hashed when an image root is
// set. `bank` (null when no genuine photo is registered) gives each photo's nearest genuine
// photo, however far. `also_holders`: rights holder ids to explain even when the listing
// does not reference them (unknown ids are listed as such).
ListingExplanation Explain(const rules::CompiledRules& rules, const RulesInfo& info,
                           const models::PhotoBank* bank, const FeedbackIndex& feedback,
                           const Listing& listing, const Verdict& verdict,
                           const std::vector<std::string>& also_holders);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_EXPLANATION_H_
