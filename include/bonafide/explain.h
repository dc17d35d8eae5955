// Why a listing did or did not open a case: for each rights holder, every signal that held
// and every one that did not, with the reason in words (`bonafide explain`,
// docs/cli.md). For rule authors and for rights holders asking "why this listing?"; not on
// the scan's fast path (it formats strings).
//
//   auto scratch = scanner->NewScratch();
//   bonafide::ListingExplanation e = scanner->Explain(listing, **scratch);
//   std::fputs(bonafide::ExplanationText(e).c_str(), stdout);
#ifndef BONAFIDE_EXPLAIN_H_
#define BONAFIDE_EXPLAIN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bonafide/export.h"

namespace bonafide {

// One signal of one rights holder.
struct SignalExplanation {
  // "cue:<rule id>", "price", "image", "obfuscated_brand", "known_counterfeit_photo",
  // "seller_record".
  std::string signal;
  bool held = false;
  bool shadow = false;  // a shadow cue rule: counted, never scored
  double weight = 0;    // what it adds to the score when it holds (0 for shadow rules)
  std::string why;      // one sentence: what was found, or what was missing
};

struct HolderExplanation {
  std::string rights_holder;
  // Named in the title or description, or shown by one of its genuine photos. The signals
  // of a holder the listing does not reference are not evaluated.
  bool referenced = false;
  std::string reference;  // how: `named "Nike" (title 0-4)`, or why not
  std::vector<SignalExplanation> signals;
  double score = 0;
  double threshold = 0;
  bool authorized_seller = false;
  bool case_opened = false;
  std::string outcome;  // "case: score 1.5 >= threshold 1", "no case: ...", ...
};

struct ListingExplanation {
  std::string marketplace;
  std::string listing_id;
  uint64_t line_number = 0;  // in the input, when read from one
  // Not empty when the listing was not judged (a reject): the reason.
  std::string reject_reason;
  // One line per listing photo: what became of it (read, quality, matched).
  std::vector<std::string> photos;
  // Every referenced rights holder (by id), then those asked for that are not.
  std::vector<HolderExplanation> holders;
};

// Human-readable, several lines. Pure function.
BONAFIDE_EXPORT std::string ExplanationText(const ListingExplanation& explanation);
// One JSON object on one line (with a trailing newline). Pure function.
BONAFIDE_EXPORT std::string ExplanationJson(const ListingExplanation& explanation);

}  // namespace bonafide

#endif  // BONAFIDE_EXPLAIN_H_
