// Pieces of the price rule that read text: how many units a listing title announces.
#ifndef BONAFIDE_RULES_PRICE_H_
#define BONAFIDE_RULES_PRICE_H_

#include <cstdint>
#include <string_view>

namespace bonafide::rules {

// Largest lot size a title may announce; larger numbers are read as model numbers.
inline constexpr int64_t kMaxUnitsInTitle = 10000;

// Returns the number of units that a normalised title announces, or 1 when it announces
// none: "lot of 10", "pack of 3", "set of 2", "box of 12", "10 pcs", "10pcs", "5 pieces",
// "2 pairs", "3 units", "6-pack", "6 pack", "4 stuck" (Stück). Numbers above
// kMaxUnitsInTitle are ignored. The largest announced count wins.
int64_t UnitsInTitle(std::string_view normalized_title);

}  // namespace bonafide::rules

#endif  // BONAFIDE_RULES_PRICE_H_
