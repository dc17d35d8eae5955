// The rights holders' answers and what they taught (docs/cli.md):
//   bonafide verdict --outbox OUTBOX CASE_KEY counterfeit|genuine|not_ours [flags]
//   bonafide report --outbox OUTBOX [--rights-holder ID] [--format text|jsonl]
//   bonafide outbox authorized-sellers --outbox OUTBOX --rights-holder ID
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "bonafide/outbox.h"
#include "tools/bonafide/commands.h"
#include "tools/bonafide/flags.h"
#include "util/strings.h"

namespace bonafide::cli {
namespace {

// Opens an existing outbox: a mistyped path must not silently create an empty one.
absl::StatusOr<std::unique_ptr<Outbox>> OpenExisting(const std::string& location,
                                                     OutboxAccess access) {
  if (!OutboxExists(location)) {
    return absl::NotFoundError(absl::StrCat("no outbox at \"", location, "\""));
  }
  return OpenOutbox(location, access);
}

int Fail(const char* command, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", command, std::string(status.message()).c_str());
  return kExitFailure;
}

// A seller id as a YAML flow-list item: plain when that reads back as the same string,
// else double-quoted (JSON escapes are valid YAML).
std::string YamlItem(std::string_view s) {
  bool plain = !s.empty() && absl::ascii_isalnum(static_cast<unsigned char>(s[0]));
  for (char c : s) {
    plain = plain && (absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                      std::string_view("_.-/@+").find(c) != std::string_view::npos);
  }
  if (plain && !absl::EqualsIgnoreCase(ToAbsl(s), "null")) return std::string(s);
  std::string quoted;
  AppendJsonString(s, quoted);
  return quoted;
}

}  // namespace

bool OutboxExists(const std::string& location) {
  // A PostgreSQL database is created by its administrator, never by bonafide: it exists as
  // far as the commands are concerned (opening it says if it cannot be reached).
  if (IsPostgresUri(location)) return true;
  std::error_code ignored;
  return std::filesystem::exists(location, ignored);
}

int VerdictCommand(int argc, char** argv) {
  std::string outbox_path = "outbox.db";
  std::string comment;
  bool authorize_seller = false;
  bool replace = false;
  FlagSet flags("bonafide verdict", "--outbox OUTBOX CASE_KEY counterfeit|genuine|not_ours [flags]",
                "Records a rights holder's verdict on a case and prints the case's new status\n"
                "(counterfeit: confirmed; genuine, not_ours: rejected). Later scans learn from\n"
                "it: a confirmed case's photos and seller count against other listings, and\n"
                "--authorize-seller stops flagging the seller for that rights holder.",
                "0  recorded\n"
                "1  no such case, the case already has a verdict (see --replace), or the\n"
                "   outbox could not be written\n"
                "2  bad usage");
  flags.String("outbox", "outbox (an SQLite file that exists, or a postgresql:// URI)",
               &outbox_path);
  flags.String("comment", "the rights holder's comment (at most 4 KiB)", &comment);
  flags.Bool("authorize-seller",
             "genuine only: never flag this case's seller for this rights holder again",
             &authorize_seller);
  flags.Bool("replace", "replace the case's earlier verdict", &replace);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (positional.size() != 2) return flags.UsageError("need CASE_KEY and a verdict");
  const std::optional<VerdictKind> verdict = ParseVerdictKind(positional[1]);
  if (!verdict) {
    return flags.UsageError("verdict must be counterfeit, genuine or not_ours, got \"" +
                            positional[1] + "\"");
  }
  if (authorize_seller && *verdict != VerdictKind::kGenuine) {
    return flags.UsageError("--authorize-seller goes with a genuine verdict only");
  }
  auto outbox = OpenExisting(outbox_path, OutboxAccess::kReadWrite);
  if (!outbox.ok()) return Fail("bonafide verdict", outbox.status());
  VerdictRequest request;
  request.case_key = positional[0];
  request.verdict = *verdict;
  request.comment = comment;
  request.authorize_seller = authorize_seller;
  request.replace = replace;
  request.actor = "cli";
  absl::StatusOr<StoredCase> c = (*outbox)->RecordVerdict(request);
  if (absl::IsNotFound(c.status())) {
    return Fail("bonafide verdict",
                absl::NotFoundError(
                    absl::StrCat("no case \"", request.case_key, "\" in \"", outbox_path, "\"")));
  }
  if (absl::IsAlreadyExists(c.status())) {
    return Fail("bonafide verdict",
                absl::AlreadyExistsError(absl::StrCat("case \"", request.case_key,
                                                      "\" already has a verdict (pass --replace "
                                                      "to change it)")));
  }
  if (absl::IsInvalidArgument(c.status())) {  // e.g. an over-long comment
    return flags.UsageError(std::string(c.status().message()));
  }
  if (!c.ok()) return Fail("bonafide verdict", c.status());
  std::printf("%s  %s\n", c->case_key.c_str(), CaseStatusName(c->status));
  if (authorize_seller) {
    std::printf("seller %s is authorized for %s from the next scan on\n", c->seller_id.c_str(),
                c->rights_holder.c_str());
  }
  return kExitOk;
}

int ReportCommand(int argc, char** argv) {
  std::string outbox_path = "outbox.db";
  std::string rights_holder;
  std::string format = "text";
  FlagSet flags("bonafide report", "--outbox OUTBOX [--rights-holder ID] [--format text|jsonl]",
                "Measured precision per signal (each cue rule, price, image, ...): cases whose\n"
                "reasons include it, how many the rights holders confirmed (counterfeit) and\n"
                "rejected (genuine, not_ours), and precision = confirmed / (confirmed +\n"
                "rejected). Shadow rules are marked: their precision is what to read before\n"
                "moving them to enforce.",
                "0  reported (also when there is nothing to report)\n"
                "1  the outbox could not be read\n"
                "2  bad usage");
  flags.String("outbox", "outbox (an SQLite file that exists, or a postgresql:// URI)",
               &outbox_path);
  flags.String("rights-holder", "only this rights holder's cases", &rights_holder);
  flags.Enum("format", "output: a table, or one JSON line per signal", &format, {"text", "jsonl"});
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  auto outbox = OpenExisting(outbox_path, OutboxAccess::kReadOnly);
  if (!outbox.ok()) return Fail("bonafide report", outbox.status());
  std::optional<std::string_view> holder;
  if (!rights_holder.empty()) holder = rights_holder;
  auto rows = (*outbox)->PrecisionReport(holder);
  if (!rows.ok()) return Fail("bonafide report", rows.status());
  std::string out;
  if (format == "jsonl") {
    for (const PrecisionRow& row : *rows) {
      JsonObject(out)
          .String("signal", row.signal)
          .Raw("shadow", row.shadow ? "true" : "false")
          .Int("cases", row.cases)
          .Int("confirmed", row.confirmed)
          .Int("rejected", row.rejected)
          .Raw("precision", row.precision ? absl::StrFormat("%.4g", *row.precision) : "null")
          .Close();
      out.push_back('\n');
    }
  } else {
    size_t width = 6;  // "signal"
    for (const PrecisionRow& row : *rows) width = std::max(width, row.signal.size() + 9);
    absl::StrAppendFormat(&out, "%-*s %7s %9s %8s %9s\n", width, "signal", "cases", "confirmed",
                          "rejected", "precision");
    for (const PrecisionRow& row : *rows) {
      absl::StrAppendFormat(
          &out, "%-*s %7d %9d %8d %9s\n", width, row.shadow ? row.signal + " (shadow)" : row.signal,
          row.cases, row.confirmed, row.rejected,
          row.precision ? absl::StrFormat("%.1f%%", *row.precision * 100) : std::string("-"));
    }
    if (rows->empty()) out = "no cases\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

int AuthorizedSellersCommand(int argc, char** argv) {
  std::string outbox_path = "outbox.db";
  std::string rights_holder;
  FlagSet flags("bonafide outbox authorized-sellers", "--outbox OUTBOX --rights-holder ID",
                "Prints the sellers that the rights holder authorized through genuine verdicts\n"
                "(--authorize-seller) as the authorized_sellers line of its rules file\n"
                "(rights_holders/ID.yaml), to merge into it.",
                "0  printed (an empty list when there is none)\n"
                "1  the outbox could not be read\n"
                "2  bad usage");
  flags.String("outbox", "outbox (an SQLite file that exists, or a postgresql:// URI)",
               &outbox_path);
  flags.String("rights-holder", "the rights holder (required)", &rights_holder);
  std::vector<std::string> positional;
  if (std::optional<int> exit = flags.Parse(argc, argv, &positional)) return *exit;
  if (!positional.empty()) return flags.UsageError("unexpected argument \"" + positional[0] + "\"");
  if (rights_holder.empty()) return flags.UsageError("need --rights-holder ID");
  auto outbox = OpenExisting(outbox_path, OutboxAccess::kReadOnly);
  if (!outbox.ok()) return Fail("bonafide outbox authorized-sellers", outbox.status());
  auto feedback = (*outbox)->LoadFeedback();
  if (!feedback.ok()) return Fail("bonafide outbox authorized-sellers", feedback.status());
  std::string out = "authorized_sellers: [";
  bool first = true;
  for (const OutboxFeedback::Seller& s : feedback->authorized_sellers) {  // sorted
    if (s.rights_holder != rights_holder) continue;
    if (!first) out.append(", ");
    out.append(YamlItem(s.seller_id));
    first = false;
  }
  out.append("]\n");
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace bonafide::cli
