// Checks a case's JSON columns before an outbox stores them. Both backends check here, in
// the writer, rather than rely on the tables' CHECK constraints alone: the error then names
// the case (a multi-row PostgreSQL statement names no row), and the parse is several times
// cheaper than SQLite's json_valid (docs/outbox-format.md, "File and connection settings").
#ifndef BONAFIDE_ENGINE_CASE_JSON_CHECK_H_
#define BONAFIDE_ENGINE_CASE_JSON_CHECK_H_

#include <memory>
#include <string_view>

#include "absl/status/status.h"

#include "engine/case_lifecycle.h"

namespace simdjson::dom {
class parser;
}  // namespace simdjson::dom

namespace bonafide::engine {

// Thread-compatible: one per writer (it keeps its parser's buffers from case to case).
class CaseJsonCheck {
 public:
  CaseJsonCheck();
  ~CaseJsonCheck();
  CaseJsonCheck(const CaseJsonCheck&) = delete;
  CaseJsonCheck& operator=(const CaseJsonCheck&) = delete;

  // OK when `p.reasons` and `p.evidence` are each one valid JSON value (UTF-8, as RFC 8259
  // asks); InvalidArgument `<location>: case "<key>": reasons is not valid JSON` otherwise.
  absl::Status Check(const PreparedCase& p, std::string_view location);

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
};

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_CASE_JSON_CHECK_H_
