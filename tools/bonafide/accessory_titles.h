// `bonafide check`'s look at real titles: price cases on titles that look like accessories.
//
// A price case whose title starts with something other than the rights holder's name (a
// third-party maker's, "Orico Docking Kit ... ACME Phone 12") and holds a compatibility
// phrase ("for") is most likely an accessory the rules' context phrases do not know (a
// dock, a drive) priced against the product's reference: a false case waiting to happen.
// The check counts such cases per product so that the rule author can list the accessory
// noun in context.yaml or add an exclude phrase.
#ifndef BONAFIDE_TOOLS_BONAFIDE_ACCESSORY_TITLES_H_
#define BONAFIDE_TOOLS_BONAFIDE_ACCESSORY_TITLES_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bonafide/sink.h"
#include "rules/rule_pack.h"

namespace bonafide::cli {

// Not thread-safe (ScanOptions::on_case calls it serially).
class AccessoryTitles {
 public:
  explicit AccessoryTitles(const rules::RulePack& pack);

  // Looks at one case as the scan wrote it.
  void Add(const CaseRecord& record);

  // One `file:line:column: warning: ...` per product with such cases, in rules order.
  std::vector<std::string> Warnings() const;

 private:
  struct Finding {
    int64_t cases = 0;
    std::string example;  // the first such title
  };
  const rules::RulePack& pack_;
  std::vector<std::string> compatibility_;                             // normalised phrases
  std::map<std::pair<std::string, std::string>, Finding> by_product_;  // (holder, product)
};

}  // namespace bonafide::cli

#endif  // BONAFIDE_TOOLS_BONAFIDE_ACCESSORY_TITLES_H_
