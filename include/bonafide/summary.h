// Renderings of a ScanSummary: a readable report and one JSON object.
#ifndef BONAFIDE_SUMMARY_H_
#define BONAFIDE_SUMMARY_H_

#include <string>

#include "bonafide/scanner.h"

namespace bonafide {

// Returns the multi-line report `bonafide scan` prints: counts (read = scanned +
// rejected), throughput, cases per rights holder, hits per rule, rejects by reason.
std::string SummaryText(const ScanSummary& summary);

// Returns the same content as one JSON object (no trailing newline).
std::string SummaryJson(const ScanSummary& summary);

}  // namespace bonafide

#endif  // BONAFIDE_SUMMARY_H_
