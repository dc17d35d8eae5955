#include "bonafide/summary.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/strings.h"

namespace bonafide {
namespace {

double PerSecond(double n, double seconds) { return seconds > 0 ? n / seconds : 0; }

}  // namespace

std::string SummaryText(const ScanSummary& s) {
  std::string out;
  const double mb = static_cast<double>(s.bytes_read) / 1e6;
  absl::StrAppendFormat(&out,
                        "listings read %d = scanned %d + rejected %d\n"
                        "elapsed %.3f s: %.0f listings/s, %.1f MB/s (%.1f MB)\n",
                        s.listings_read, s.scanned, s.rejected, s.elapsed_seconds,
                        PerSecond(static_cast<double>(s.listings_read), s.elapsed_seconds),
                        PerSecond(mb, s.elapsed_seconds), mb);
  int64_t cases = 0;
  size_t width = 14;
  for (const auto& h : s.holders) {
    cases += h.cases;
    width = std::max(width, h.id.size());
  }
  std::vector<std::string> rule_names;
  for (const auto& r : s.rules) {
    std::string name = r.version > 0 ? absl::StrCat(r.id, " v", r.version) : r.id;
    if (r.shadow) name += " (shadow)";
    width = std::max(width, name.size());
    rule_names.push_back(std::move(name));
  }
  absl::StrAppendFormat(&out, "cases %d: outbox %d opened, %d updated, %d unchanged\n",
                        cases, s.outbox.opened, s.outbox.updated, s.outbox.unchanged);
  for (const auto& h : s.holders) {
    absl::StrAppendFormat(&out, "  %-*s %8d\n", static_cast<int>(width), h.id, h.cases);
  }
  out.append("rule hits (listings)\n");
  for (size_t i = 0; i < s.rules.size(); ++i) {
    absl::StrAppendFormat(&out, "  %-*s %8d\n", static_cast<int>(width), rule_names[i],
                          s.rules[i].listings);
  }
  if (!s.rejects_by_reason.empty()) {
    out.append("rejects by reason\n");
    for (const auto& [reason, count] : s.rejects_by_reason) {
      absl::StrAppendFormat(&out, "  %8d  %s\n", count, reason);
    }
  }
  for (const auto& e : s.input_errors) absl::StrAppend(&out, "input error: ", e, "\n");
  return out;
}

std::string SummaryJson(const ScanSummary& s) {
  std::string out;
  absl::StrAppendFormat(&out,
                        "{\"listings_read\":%d,\"scanned\":%d,\"rejected\":%d,"
                        "\"bytes_read\":%d,\"elapsed_seconds\":%.6f,"
                        "\"listings_per_second\":%.1f,\"mb_per_second\":%.3f,",
                        s.listings_read, s.scanned, s.rejected, s.bytes_read,
                        s.elapsed_seconds,
                        PerSecond(static_cast<double>(s.listings_read), s.elapsed_seconds),
                        PerSecond(static_cast<double>(s.bytes_read) / 1e6, s.elapsed_seconds));
  absl::StrAppendFormat(&out, "\"outbox\":{\"opened\":%d,\"updated\":%d,\"unchanged\":%d},",
                        s.outbox.opened, s.outbox.updated, s.outbox.unchanged);
  out.append("\"cases\":{");
  for (size_t i = 0; i < s.holders.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(s.holders[i].id, out);
    absl::StrAppend(&out, ":", s.holders[i].cases);
  }
  out.append("},\"rules\":[");
  for (size_t i = 0; i < s.rules.size(); ++i) {
    const auto& r = s.rules[i];
    if (i > 0) out.push_back(',');
    out.append("{\"id\":");
    AppendJsonString(r.id, out);
    absl::StrAppend(&out, ",\"version\":", r.version,
                    ",\"shadow\":", r.shadow ? "true" : "false", ",\"listings\":", r.listings,
                    "}");
  }
  out.append("],\"rejects_by_reason\":{");
  for (size_t i = 0; i < s.rejects_by_reason.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(s.rejects_by_reason[i].first, out);
    absl::StrAppend(&out, ":", s.rejects_by_reason[i].second);
  }
  out.append("},\"input_errors\":[");
  for (size_t i = 0; i < s.input_errors.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(s.input_errors[i], out);
  }
  out.append("]}");
  return out;
}

}  // namespace bonafide
