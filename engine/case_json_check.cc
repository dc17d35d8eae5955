#include "engine/case_json_check.h"

#include <utility>

#include "absl/strings/str_cat.h"

#include "util/strings.h"

#include "simdjson.h"

namespace bonafide::engine {

CaseJsonCheck::CaseJsonCheck() : parser_(std::make_unique<simdjson::dom::parser>()) {}
CaseJsonCheck::~CaseJsonCheck() = default;

absl::Status CaseJsonCheck::Check(const PreparedCase& p, std::string_view location) {
  for (const auto& [name, json] :
       {std::pair<const char*, std::string_view>{"reasons", p.reasons}, {"evidence", p.evidence}}) {
    if (parser_->parse(json.data(), json.size()).error() != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(absl::StrCat(ToAbsl(location), ": case \"", p.case_key,
                                                     "\": ", name, " is not valid JSON"));
    }
  }
  return absl::OkStatus();
}

}  // namespace bonafide::engine
