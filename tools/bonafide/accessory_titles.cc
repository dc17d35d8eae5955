#include "tools/bonafide/accessory_titles.h"

#include <string_view>

#include "absl/strings/str_format.h"

#include "rules/normalize.h"

#include "simdjson.h"

namespace bonafide::cli {
namespace {

// True when `phrase` occurs in `text` as whole words (both normalised: words are separated
// by spaces or punctuation).
bool HasWords(std::string_view text, std::string_view phrase) {
  auto is_word_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  for (size_t at = text.find(phrase); at != std::string_view::npos;
       at = text.find(phrase, at + 1)) {
    const size_t end = at + phrase.size();
    if ((at == 0 || !is_word_char(text[at - 1])) &&
        (end == text.size() || !is_word_char(text[end]))) {
      return true;
    }
  }
  return false;
}

}  // namespace

AccessoryTitles::AccessoryTitles(const rules::RulePack& pack) : pack_(pack) {
  for (const std::string& phrase : pack.context.compatibility) {
    compatibility_.push_back(rules::Normalize(phrase));
  }
}

void AccessoryTitles::Add(const CaseRecord& record) {
  simdjson::dom::parser parser;
  simdjson::dom::element reasons, evidence;
  if (parser.parse(record.reasons_json).get(reasons) != simdjson::SUCCESS) return;
  std::string product;
  for (simdjson::dom::element reason : reasons.get_array()) {
    std::string_view signal, id;
    if (reason["signal"].get_string().get(signal) == simdjson::SUCCESS && signal == "price" &&
        reason["product"].get_string().get(id) == simdjson::SUCCESS) {
      product = std::string(id);
    }
  }
  if (product.empty()) return;
  simdjson::dom::parser evidence_parser;
  if (evidence_parser.parse(record.evidence_json).get(evidence) != simdjson::SUCCESS) return;
  std::string_view title;
  int64_t first_mention = 0;
  if (evidence["listing"]["title"].get_string().get(title) != simdjson::SUCCESS ||
      evidence["first_mention"]["begin"].get_int64().get(first_mention) != simdjson::SUCCESS) {
    return;
  }
  if (first_mention == 0) return;  // the title starts with the rights holder's name
  const std::string normalized = rules::Normalize(title);
  bool compatibility = false;
  for (const std::string& phrase : compatibility_) {
    compatibility = compatibility || HasWords(normalized, phrase);
  }
  if (!compatibility) return;
  Finding& f = by_product_[{record.rights_holder, product}];
  if (f.cases++ == 0) f.example = std::string(title);
}

std::vector<std::string> AccessoryTitles::Warnings() const {
  std::vector<std::string> out;
  for (const rules::RightsHolder& holder : pack_.rights_holders) {
    for (const rules::Product& product : holder.products) {
      auto it = by_product_.find({holder.id, product.id});
      if (it == by_product_.end()) continue;
      out.push_back(absl::StrFormat(
          "%s: warning: product \"%s\": %d price case%s on titles that look like accessories "
          "(another name first, a compatibility phrase after), e.g. \"%s\": if these are "
          "accessories, list the noun in context.yaml `accessories` or add an `exclude` phrase",
          rules::FormatLocation(product.location), product.id, it->second.cases,
          it->second.cases == 1 ? "" : "s", it->second.example));
    }
  }
  return out;
}

}  // namespace bonafide::cli
