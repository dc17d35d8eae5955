// Test helpers for reading and writing an outbox in one call.
#ifndef BONAFIDE_TESTS_OUTBOX_TEST_UTIL_H_
#define BONAFIDE_TESTS_OUTBOX_TEST_UTIL_H_

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "bonafide/outbox.h"

namespace bonafide::testing {

// Every case (of one rights holder), ordered by case key.
inline absl::StatusOr<std::vector<StoredCase>> AllCases(
    Outbox& outbox, std::optional<std::string> rights_holder = std::nullopt) {
  CaseQuery query;
  query.rights_holder = std::move(rights_holder);
  absl::StatusOr<CasePage> page = outbox.ListCases(query);
  if (!page.ok()) return page.status();
  std::sort(page->cases.begin(), page->cases.end(),
            [](const StoredCase& a, const StoredCase& b) { return a.case_key < b.case_key; });
  return std::move(page->cases);
}

// Every event (of one rights holder), in id order.
inline absl::StatusOr<std::vector<StoredEvent>> AllEvents(
    Outbox& outbox, std::optional<std::string_view> rights_holder = std::nullopt) {
  return outbox.ListEvents(rights_holder);
}

// Writes `cases` as a service would (no listings, no run): the events are published in the
// same transaction.
inline absl::StatusOr<OutboxWriteStats> WriteCases(CaseSink& sink,
                                                   const std::vector<CaseRecord>& cases) {
  OutboxBatch batch;
  batch.cases = cases;
  return sink.Write(batch);
}

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_OUTBOX_TEST_UTIL_H_
