// Renderings of a ScanSummary: a readable report and one JSON object.
#ifndef BONAFIDE_SUMMARY_H_
#define BONAFIDE_SUMMARY_H_

#include <string>

#include "bonafide/export.h"
#include "bonafide/scanner.h"

namespace bonafide {

// Returns the multi-line report `bonafide scan` prints: counts (read = scanned +
// rejected), throughput, cases per rights holder, hits per cue rule, hits per signal
// (price, image, obfuscated_brand, known_counterfeit_photo, seller_record), listing photos (hashed,
// matched, too plain, not read, could not be read by reason) and genuine photos too plain
// to use (this part only when the rules register photos or listings name some), rejects
// by reason, then one `warning: ...` line per input that gave no listing (with a hint
// such as "is it CSV? try --input-format csv"). (Whether the scan was interrupted is for
// the caller to say.)
BONAFIDE_EXPORT std::string SummaryText(const ScanSummary& summary);

// Returns the same content as one JSON object (no trailing newline): cue rules under
// "rules", signals under "signals", photos under "images" (always present), and
// "interrupted".
BONAFIDE_EXPORT std::string SummaryJson(const ScanSummary& summary);

}  // namespace bonafide

#endif  // BONAFIDE_SUMMARY_H_
