#include "bonafide/summary.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "util/strings.h"

namespace bonafide {
namespace {

double PerSecond(double n, double seconds) { return seconds > 0 ? n / seconds : 0; }

void AppendImagesText(const ScanSummary::ImageCounts& im, std::string& out) {
  if (im.photos == 0 && im.genuine_photos == 0) return;
  absl::StrAppendFormat(&out, "photos %d: hashed %d, matched %d, too plain %d\n", im.photos,
                        im.hashed, im.matched, im.too_plain);
  if (im.from_cache > 0 || im.from_listing > 0) {
    absl::StrAppendFormat(&out,
                          "  hashed without decoding: %d from the photo cache, %d carried by "
                          "the listings\n",
                          im.from_cache, im.from_listing);
  }
  if (im.not_read > 0) {
    absl::StrAppendFormat(&out, "  photos not read: %d (%s)\n", im.not_read,
                          !im.image_root_set       ? "no --images directory given"
                          : im.genuine_photos == 0 ? "no genuine photos in the rules"
                                                   : "not scanned");
  }
  if (!im.failed_by_reason.empty()) {
    int64_t failed = 0;
    for (const auto& [reason, count] : im.failed_by_reason) failed += count;
    absl::StrAppendFormat(&out, "  photos that could not be read: %d", failed);
    for (size_t i = 0; i < im.failed_by_reason.size(); ++i) {
      absl::StrAppendFormat(&out, "%s%s %d", i == 0 ? " (" : ", ", im.failed_by_reason[i].first,
                            im.failed_by_reason[i].second);
    }
    out.append(")\n");
  }
  absl::StrAppendFormat(&out, "genuine photos %d", im.genuine_photos);
  if (!im.too_plain_genuine.empty()) {
    absl::StrAppendFormat(&out, ", too plain to use %d:", im.too_plain_genuine.size());
    for (const auto& p : im.too_plain_genuine) absl::StrAppend(&out, " ", p);
  }
  out.push_back('\n');
}

void AppendImagesJson(const ScanSummary::ImageCounts& im, std::string& out) {
  absl::StrAppendFormat(&out,
                        "\"images\":{\"photos\":%d,\"not_read\":%d,\"hashed\":%d,"
                        "\"from_cache\":%d,\"from_listing\":%d,"
                        "\"too_plain\":%d,\"matched\":%d,\"failed_by_reason\":{",
                        im.photos, im.not_read, im.hashed, im.from_cache, im.from_listing,
                        im.too_plain, im.matched);
  for (size_t i = 0; i < im.failed_by_reason.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(im.failed_by_reason[i].first, out);
    absl::StrAppend(&out, ":", im.failed_by_reason[i].second);
  }
  absl::StrAppend(&out, "},\"image_root_set\":", im.image_root_set ? "true" : "false",
                  ",\"genuine_photos\":", im.genuine_photos, ",\"too_plain_genuine\":[");
  for (size_t i = 0; i < im.too_plain_genuine.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(im.too_plain_genuine[i], out);
  }
  out.append("]},");
}

const char* FormatFlagValue(InputFormat format) {
  switch (format) {
    case InputFormat::kJsonLines:
      return "jsonl";
    case InputFormat::kCsv:
      return "csv";
    case InputFormat::kAuto:
      break;
  }
  return "auto";
}

void AppendInputWarningText(const ScanSummary::InputWarning& w, std::string& out) {
  using Kind = ScanSummary::InputWarning::Kind;
  if (w.kind == Kind::kNoRecords) {
    absl::StrAppend(&out, "warning: ", w.input, " holds no records\n");
    return;
  }
  absl::StrAppend(&out, "warning: every record of ", w.input, " was rejected (", w.records,
                  w.records == 1 ? " record" : " records");
  if (w.suggested_format == InputFormat::kCsv) {
    out.append("; is it CSV? try --input-format csv");
  } else if (w.suggested_format == InputFormat::kJsonLines) {
    out.append("; is it JSON Lines? try --input-format jsonl");
  }
  out.append(")\n");
}

void AppendInputWarningJson(const ScanSummary::InputWarning& w, std::string& out) {
  using Kind = ScanSummary::InputWarning::Kind;
  JsonObject json(out);
  json.String("input", w.input)
      .String("kind", w.kind == Kind::kNoRecords ? "no_records" : "every_record_rejected")
      .Int("records", w.records);
  if (w.suggested_format != InputFormat::kAuto) {
    json.String("suggested_format", FormatFlagValue(w.suggested_format));
  }
  json.Close();
}

}  // namespace

std::string SummaryText(const ScanSummary& s) {
  std::string out;
  const double mb = static_cast<double>(s.bytes_read) / 1e6;
  absl::StrAppendFormat(&out, "listings read %d = scanned %d + rejected %d", s.listings_read,
                        s.scanned, s.rejected);
  if (!s.shard.whole()) {
    absl::StrAppendFormat(&out, " + other shards %d (this is shard %s)", s.other_shards,
                          s.shard.ToString());
  }
  absl::StrAppendFormat(&out, "\nelapsed %.3f s: %.0f listings/s, %.1f MB/s (%.1f MB)\n",
                        s.elapsed_seconds,
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
    std::string name = absl::StrCat(r.id, " v", r.version);
    if (r.shadow) name += " (shadow)";
    width = std::max(width, name.size());
    rule_names.push_back(std::move(name));
  }
  const std::pair<const char*, int64_t> signals[] = {
      {"price", s.signals.price},
      {"image", s.signals.image},
      {"obfuscated_brand", s.signals.obfuscated_brand},
      {"known_counterfeit_photo", s.signals.known_counterfeit_photo},
      {"seller_record", s.signals.seller_record},
  };
  for (const auto& signal : signals) width = std::max(width, std::strlen(signal.first));
  if (s.duplicates > 0) {
    absl::StrAppendFormat(
        &out, "duplicates %d (a listing repeated in the input: its last record counts)\n",
        s.duplicates);
  }
  absl::StrAppendFormat(&out,
                        "cases %d: events %d opened, %d updated, %d closed, %d reopened "
                        "(%d cases changed silently)\n",
                        cases, s.outbox.opened, s.outbox.updated, s.outbox.closed,
                        s.outbox.reopened, s.outbox.silent);
  for (const auto& h : s.holders) {
    absl::StrAppendFormat(&out, "  %-*s %8d\n", static_cast<int>(width), h.id, h.cases);
  }
  out.append("rule hits (listings)\n");
  for (size_t i = 0; i < s.rules.size(); ++i) {
    absl::StrAppendFormat(&out, "  %-*s %8d\n", static_cast<int>(width), rule_names[i],
                          s.rules[i].listings);
  }
  out.append("signals (listings)\n");
  for (const auto& [name, listings] : signals) {
    absl::StrAppendFormat(&out, "  %-*s %8d\n", static_cast<int>(width), name, listings);
  }
  AppendImagesText(s.images, out);
  if (!s.rejects_by_reason.empty()) {
    out.append("rejects by reason\n");
    for (const auto& [reason, count] : s.rejects_by_reason) {
      absl::StrAppendFormat(&out, "  %8d  %s\n", count, reason);
    }
  }
  for (const auto& w : s.input_warnings) AppendInputWarningText(w, out);
  for (const auto& e : s.input_errors) absl::StrAppend(&out, "input error: ", e, "\n");
  for (const auto& r : s.resumed) {
    absl::StrAppend(&out, "resumed an interrupted scan: ", r, "\n");
  }
  return out;
}

std::string SummaryJson(const ScanSummary& s) {
  std::string out;
  absl::StrAppendFormat(&out,
                        "{\"listings_read\":%d,\"scanned\":%d,\"rejected\":%d,"
                        "\"bytes_read\":%d,\"elapsed_seconds\":%.6f,"
                        "\"listings_per_second\":%.1f,\"mb_per_second\":%.3f,",
                        s.listings_read, s.scanned, s.rejected, s.bytes_read, s.elapsed_seconds,
                        PerSecond(static_cast<double>(s.listings_read), s.elapsed_seconds),
                        PerSecond(static_cast<double>(s.bytes_read) / 1e6, s.elapsed_seconds));
  absl::StrAppendFormat(&out, "\"shard\":\"%s\",\"other_shards\":%d,", s.shard.ToString(),
                        s.other_shards);
  absl::StrAppendFormat(&out, "\"duplicates\":%d,", s.duplicates);
  absl::StrAppendFormat(&out,
                        "\"events\":{\"opened\":%d,\"updated\":%d,\"closed\":%d,"
                        "\"reopened\":%d,\"silent\":%d},",
                        s.outbox.opened, s.outbox.updated, s.outbox.closed, s.outbox.reopened,
                        s.outbox.silent);
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
    absl::StrAppend(&out, ",\"version\":", r.version, ",\"shadow\":", r.shadow ? "true" : "false",
                    ",\"listings\":", r.listings, "}");
  }
  absl::StrAppendFormat(&out,
                        "],\"signals\":{\"price\":%d,\"image\":%d,\"obfuscated_brand\":%d,"
                        "\"known_counterfeit_photo\":%d,\"seller_record\":%d},",
                        s.signals.price, s.signals.image, s.signals.obfuscated_brand,
                        s.signals.known_counterfeit_photo, s.signals.seller_record);
  AppendImagesJson(s.images, out);
  out.append("\"rejects_by_reason\":{");
  for (size_t i = 0; i < s.rejects_by_reason.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(s.rejects_by_reason[i].first, out);
    absl::StrAppend(&out, ":", s.rejects_by_reason[i].second);
  }
  out.append("},\"input_warnings\":[");
  for (size_t i = 0; i < s.input_warnings.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendInputWarningJson(s.input_warnings[i], out);
  }
  out.append("],\"input_errors\":[");
  for (size_t i = 0; i < s.input_errors.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(s.input_errors[i], out);
  }
  out.append("],\"resumed\":[");
  for (size_t i = 0; i < s.resumed.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(s.resumed[i], out);
  }
  absl::StrAppend(&out, "],\"interrupted\":", s.interrupted ? "true" : "false", "}");
  return out;
}

}  // namespace bonafide
