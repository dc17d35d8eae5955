// bonafide outbox list: shows the cases of an outbox.
#include <climits>
#include <cstdio>
#include <optional>
#include <string_view>

#include <simdjson.h>

#include "bonafide/outbox.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"
#include "util/strings.h"

namespace bonafide::cli {
namespace {

// Returns evidence.<key> (a string), or "" when absent.
std::string EvidenceString(simdjson::ondemand::parser& parser, const std::string& evidence,
                           std::string_view key) {
  simdjson::padded_string padded(evidence);
  auto doc = parser.iterate(padded);
  std::string_view value;
  if (doc.find_field(key).get_string().get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

int List(int argc, char** argv) {
  std::string outbox_path = "outbox.db";
  std::string rights_holder;
  std::string format = "text";
  bool events = false;
  int limit = 0;
  FlagSet flags("bonafide outbox list", "--outbox FILE [--rights-holder ID] [--format text|jsonl]",
                "Lists the cases (or, with --events, the events) of an outbox, by case key.",
                "0  listed (also when there is nothing to list)\n"
                "1  the outbox could not be read\n"
                "2  bad usage");
  flags.String("outbox", "SQLite outbox file", &outbox_path);
  flags.String("rights-holder", "only this rights holder's cases", &rights_holder);
  flags.Enum("format", "output: one text block or one JSON line per case", &format,
             {"text", "jsonl"});
  flags.Bool("events", "list the events instead of the cases", &events);
  flags.Int("limit", "list at most this many (0 = all)", &limit, 0, INT_MAX);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) {
    return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  }
  auto outbox = OpenOutbox(outbox_path, OutboxAccess::kReadOnly);
  if (!outbox.ok()) {
    std::fprintf(stderr, "bonafide outbox list: %s\n",
                 std::string(outbox.status().message()).c_str());
    return kExitFailure;
  }
  std::optional<std::string_view> filter;
  if (!rights_holder.empty()) filter = rights_holder;
  std::string line;
  if (events) {
    auto list = (*outbox)->ListEvents(filter);
    if (!list.ok()) {
      std::fprintf(stderr, "bonafide outbox list: %s\n",
                   std::string(list.status().message()).c_str());
      return kExitFailure;
    }
    if (limit > 0 && list->size() > static_cast<size_t>(limit)) list->resize(limit);
    for (const StoredEvent& e : *list) {
      if (format == "jsonl") {
        line.clear();
        JsonObject(line)
            .Int("id", e.id)
            .String("rights_holder", e.rights_holder)
            .String("case_key", e.case_key)
            .String("type", e.type)
            .Raw("payload", e.payload_json)
            .String("created_at", e.created_at)
            .Close();
        line.push_back('\n');
      } else {
        line =
            std::to_string(e.id) + "  " + e.created_at + "  " + e.type + "  " + e.case_key + "\n";
      }
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
    return kExitOk;
  }
  CaseQuery query;
  if (filter) query.rights_holder = std::string(*filter);
  auto page = (*outbox)->ListCases(query);
  auto cases = page.ok() ? absl::StatusOr<std::vector<StoredCase>>(std::move(page->cases))
                         : absl::StatusOr<std::vector<StoredCase>>(page.status());
  if (!cases.ok()) {
    std::fprintf(stderr, "bonafide outbox list: %s\n",
                 std::string(cases.status().message()).c_str());
    return kExitFailure;
  }
  simdjson::ondemand::parser parser;
  const size_t total = cases->size();
  if (limit > 0 && cases->size() > static_cast<size_t>(limit)) cases->resize(limit);
  for (const StoredCase& c : *cases) {
    if (format == "jsonl") {
      line.clear();
      JsonObject(line)
          .String("case_key", c.case_key)
          .String("rights_holder", c.rights_holder)
          .String("marketplace", c.marketplace)
          .String("listing_id", c.listing_id)
          .String("seller_id", c.seller_id)
          .Raw("score", FormatDecimal(c.score))
          .String("status", CaseStatusName(c.status))
          .Raw("reasons", c.reasons_json)
          .Raw("evidence", c.evidence_json)
          .String("first_seen_at", c.first_seen_at)
          .String("last_seen_at", c.last_seen_at)
          .Close();
      line.push_back('\n');
    } else {
      line = c.case_key + "  score " + FormatDecimal(c.score) + "  " + CaseStatusName(c.status) +
             "  seller " + c.seller_id + "\n    " +
             EvidenceString(parser, c.evidence_json, "explanation") + "\n";
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  if (format == "text") {
    if (cases->size() < total) {
      std::printf("%zu of %zu cases\n", cases->size(), total);
    } else {
      std::printf("%zu cases\n", total);
    }
  }
  return kExitOk;
}

}  // namespace

int OutboxCommand(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "list") return List(argc - 1, argv + 1);
  if (argc >= 2 && std::string_view(argv[1]) == "authorized-sellers") {
    return AuthorizedSellersCommand(argc - 1, argv + 1);
  }
  const bool help =
      argc >= 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h");
  std::fprintf(help ? stdout : stderr,
               "usage: bonafide outbox list --outbox FILE [flags]\n"
               "       bonafide outbox authorized-sellers --outbox FILE --rights-holder ID\n"
               "(see: bonafide outbox list --help)\n");
  return help ? kExitOk : kExitUsage;
}

}  // namespace bonafide::cli
