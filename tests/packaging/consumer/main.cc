// A program that embeds bonafide the way an ingestion service does, built against an
// installed bonafide only (tests/packaging/run_package_test.sh): it sees include/bonafide/
// and nothing else of the source tree.
//
// Usage: bonafide_consumer RULES_DIR
// Scans a listing that names Nike and says "replica" (a case must open for nike) and one
// that names no brand (no case), prints what it found, exits 0 when both are as expected.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "bonafide/listing.h"
#include "bonafide/scanner.h"
#include "bonafide/verdict.h"
#include "bonafide/version.h"

namespace {

bonafide::Listing MakeListing(const char* id, const char* title, double price) {
  bonafide::Listing listing;
  listing.id = id;
  listing.title = title;
  listing.price = price;
  listing.currency = "EUR";
  listing.seller_id = "s-1";
  return listing;
}

// Returns the id of every rights holder the listing opened a case for, comma-separated.
std::string CaseHolders(const bonafide::Scanner& scanner, const bonafide::Verdict& verdict) {
  std::string ids;
  for (const bonafide::HolderVerdict& h : verdict.holders) {
    if (!h.case_opened) continue;
    if (!ids.empty()) ids += ",";
    ids += scanner.rules_info().holders[h.holder].id;
  }
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s RULES_DIR\n", argv[0]);
    return 2;
  }
  std::printf("bonafide %s\n", BONAFIDE_VERSION_STRING);
  bonafide::ScannerOptions options;
  options.rules_dir = argv[1];
  auto scanner = bonafide::Scanner::Create(options);
  if (!scanner.ok()) {
    std::fprintf(stderr, "Scanner::Create: %s\n", std::string(scanner.status().message()).c_str());
    return 1;
  }
  auto scratch = (*scanner)->NewScratch();
  if (!scratch.ok()) {
    std::fprintf(stderr, "NewScratch: %s\n", std::string(scratch.status().message()).c_str());
    return 1;
  }

  const bonafide::Listing fake =
      MakeListing("pkg-1", "Nike Air Force 1 replica 1:1 men's shoes white", 25);
  const bonafide::Listing clean = MakeListing("pkg-2", "Air fryer 5 litre digital pink", 60);
  for (const bonafide::Listing* listing : {&fake, &clean}) {
    if (absl::Status s = bonafide::ValidateListing(*listing); !s.ok()) {
      std::fprintf(stderr, "ValidateListing: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  bonafide::Verdict verdict;
  (*scanner)->Scan(fake, **scratch, verdict);
  const std::string fake_cases = CaseHolders(**scanner, verdict);
  (*scanner)->Scan(clean, **scratch, verdict);
  const std::string clean_cases = CaseHolders(**scanner, verdict);
  std::printf("cases: \"%s\" for the replica, \"%s\" for the air fryer\n", fake_cases.c_str(),
              clean_cases.c_str());
  if (fake_cases != "nike" || !clean_cases.empty()) {
    std::fprintf(stderr, "expected a case for nike only, and none for the air fryer\n");
    return 1;
  }
  return 0;
}
