#include "engine/relay_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include <yaml-cpp/yaml.h>

#include "util/files.h"
#include "util/hash.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::engine {
namespace {

constexpr int kMaxAttempts = 1000;
constexpr double kMaxTimeoutS = 3600;
constexpr double kMaxBackoffS = 86400;

// Errors at places in one file.
class Where {
 public:
  explicit Where(std::string_view path) : path_(path) {}
  absl::Status Error(const YAML::Mark& mark, std::string_view message) const {
    const int line = mark.is_null() ? 1 : mark.line + 1;
    const int column = mark.is_null() ? 1 : mark.column + 1;
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ":", line, ":", column, ": ", ToAbsl(message)));
  }

 private:
  std::string path_;
};

// What a node is, for "expected X, got Y" (never its text: it may be a secret).
const char* Kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

// The entries of a mapping node, in file order, after checking that keys are plain, known
// (when `known` is not empty) and not repeated.
struct Entry {
  std::string key;
  YAML::Mark key_mark;
  YAML::Node value;
};
absl::StatusOr<std::vector<Entry>> ReadMapping(const Where& where, const YAML::Node& node,
                                               const YAML::Mark& mark, std::string_view name,
                                               const std::vector<std::string_view>& known) {
  if (!node.IsMap()) {
    return where.Error(
        mark,
        absl::StrCat(ToAbsl(name), ": expected a mapping (key: value lines), got ", Kind(node)));
  }
  std::vector<Entry> entries;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar() || key.Scalar().empty()) {
      return where.Error(key.Mark(), absl::StrCat(ToAbsl(name), ": expected a name as key"));
    }
    const std::string& text = key.Scalar();
    for (const Entry& e : entries) {
      if (e.key == text) {
        return where.Error(
            key.Mark(), absl::StrCat(ToAbsl(name), ": \"", text, "\" appears twice (first on line ",
                                     e.key_mark.line + 1, ")"));
      }
    }
    if (!known.empty() && std::find(known.begin(), known.end(), text) == known.end()) {
      std::string list;
      for (std::string_view k : known) absl::StrAppend(&list, list.empty() ? "" : ", ", ToAbsl(k));
      return where.Error(key.Mark(), absl::StrCat(ToAbsl(name), ": unknown key \"", text,
                                                  "\" (expected one of: ", list, ")"));
    }
    entries.push_back(Entry{text, key.Mark(), it->second});
  }
  return entries;
}

// The place to blame for a value: its own, or its key's when it is empty (an empty value's
// mark points at whatever follows).
YAML::Mark ValueMark(const Entry& e) {
  return e.value.IsNull() || e.value.Mark().is_null() ? e.key_mark : e.value.Mark();
}

absl::StatusOr<std::string> ReadString(const Where& where, const Entry& e, std::string_view name) {
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    return where.Error(ValueMark(e),
                       absl::StrCat(ToAbsl(name), ": expected a text value, got ",
                                    e.value.IsScalar() ? "an empty one" : Kind(e.value)));
  }
  return e.value.Scalar();
}

absl::StatusOr<double> ReadNumber(const Where& where, const Entry& e, std::string_view name,
                                  double min, double max, bool whole) {
  const std::string what = whole ? absl::StrCat("a whole number from ", min, " to ", max)
                                 : absl::StrCat("a number of seconds from ", min, " to ", max);
  const std::string& text = e.value.IsScalar() ? e.value.Scalar() : std::string();
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!e.value.IsScalar() || text.empty() || ec != std::errc() ||
      end != text.data() + text.size() || !std::isfinite(value) || value < min || value > max ||
      (whole && value != std::floor(value))) {
    return where.Error(
        ValueMark(e),
        absl::StrCat(ToAbsl(name), ": expected ", what, ", got ",
                     e.value.IsScalar() ? absl::StrCat("\"", text, "\"") : Kind(e.value)));
  }
  return value;
}

// Reads attempts / timeout_s / backoff_s when present into `policy`.
absl::Status ReadRetry(const Where& where, const Entry& e, std::string_view prefix,
                       RetryPolicy& policy) {
  const std::string name = absl::StrCat(ToAbsl(prefix), e.key);
  if (e.key == "attempts") {
    BONAFIDE_ASSIGN_OR_RETURN(double v, ReadNumber(where, e, name, 1, kMaxAttempts, true));
    policy.attempts = static_cast<int>(v);
  } else if (e.key == "timeout_s") {
    BONAFIDE_ASSIGN_OR_RETURN(double v, ReadNumber(where, e, name, 0.001, kMaxTimeoutS, false));
    policy.timeout_ms = std::max<int64_t>(1, std::llround(v * 1000));
  } else if (e.key == "backoff_s") {
    BONAFIDE_ASSIGN_OR_RETURN(double v, ReadNumber(where, e, name, 0, kMaxBackoffS, false));
    policy.backoff_ms = std::llround(v * 1000);
  }
  return absl::OkStatus();
}

bool IsRetryKey(std::string_view key) {
  return key == "attempts" || key == "timeout_s" || key == "backoff_s";
}

absl::StatusOr<WebhookEndpoint> ReadHolder(const Where& where, const Entry& holder,
                                           const RetryPolicy& defaults) {
  const std::string prefix = absl::StrCat("rights_holders.", holder.key, ".");
  BONAFIDE_ASSIGN_OR_RETURN(std::vector<Entry> entries,
                            ReadMapping(where, holder.value, ValueMark(holder),
                                        absl::StrCat("rights_holders.", holder.key),
                                        {"url", "secret", "attempts", "timeout_s", "backoff_s"}));
  RetryPolicy retry = defaults;
  std::optional<std::string> url;
  std::optional<WebhookUrl> parsed_url;
  std::optional<WebhookKey> key;
  for (const Entry& e : entries) {
    if (e.key == "url") {
      BONAFIDE_ASSIGN_OR_RETURN(url, ReadString(where, e, prefix + "url"));
      absl::StatusOr<WebhookUrl> parsed = ParseWebhookUrl(*url);
      if (!parsed.ok()) {
        return where.Error(ValueMark(e), absl::StrCat(prefix, "url: ", parsed.status().message()));
      }
      parsed_url = *std::move(parsed);
    } else if (e.key == "secret") {
      BONAFIDE_ASSIGN_OR_RETURN(std::string secret, ReadString(where, e, prefix + "secret"));
      absl::StatusOr<WebhookKey> parsed = WebhookKey::Parse(secret);
      if (!parsed.ok()) {
        return where.Error(ValueMark(e),
                           absl::StrCat(prefix, "secret: ", parsed.status().message()));
      }
      key = *std::move(parsed);
    } else {
      BONAFIDE_RETURN_IF_ERROR(ReadRetry(where, e, prefix, retry));
    }
  }
  if (!url) {
    return where.Error(holder.key_mark, absl::StrCat(prefix, "url: missing (where to POST)"));
  }
  if (!key) {
    return where.Error(holder.key_mark,
                       absl::StrCat(prefix, "secret: missing (whsec_ + base64 of the key)"));
  }
  Hasher128 digest;
  digest.Add(*url);
  return WebhookEndpoint{.rights_holder = holder.key,
                         .url = *url,
                         .parsed_url = *std::move(parsed_url),
                         .endpoint_digest = digest.Hex(),
                         .key = *std::move(key),
                         .retry = retry};
}

}  // namespace

absl::StatusOr<RelayConfig> ParseRelayConfig(std::string_view text, std::string_view path) {
  const Where where(path);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return where.Error(e.mark, absl::StrCat("malformed yaml: ", e.msg));
  }
  if (!root.IsDefined() || root.IsNull()) {
    return where.Error(YAML::Mark::null_mark(),
                       "empty file: expected \"rights_holders:\" with each rights holder's url "
                       "and secret");
  }
  BONAFIDE_ASSIGN_OR_RETURN(std::vector<Entry> top,
                            ReadMapping(where, root, root.Mark(), "relay config",
                                        {"rights_holders", "attempts", "timeout_s", "backoff_s"}));
  RetryPolicy defaults;
  const Entry* holders = nullptr;
  for (const Entry& e : top) {
    if (IsRetryKey(e.key)) {
      BONAFIDE_RETURN_IF_ERROR(ReadRetry(where, e, "", defaults));
    } else {
      holders = &e;
    }
  }
  if (holders == nullptr) {
    return where.Error(root.Mark(),
                       "missing \"rights_holders:\" (each rights holder's url and secret)");
  }
  BONAFIDE_ASSIGN_OR_RETURN(
      std::vector<Entry> entries,
      ReadMapping(where, holders->value, ValueMark(*holders), "rights_holders", {}));
  if (entries.empty()) {
    return where.Error(ValueMark(*holders), "rights_holders: expected at least one rights holder");
  }
  RelayConfig config;
  for (const Entry& holder : entries) {
    BONAFIDE_ASSIGN_OR_RETURN(WebhookEndpoint endpoint, ReadHolder(where, holder, defaults));
    config.endpoints.push_back(std::move(endpoint));
  }
  std::sort(config.endpoints.begin(), config.endpoints.end(),
            [](const WebhookEndpoint& a, const WebhookEndpoint& b) {
              return a.rights_holder < b.rights_holder;
            });
  return config;
}

absl::StatusOr<RelayConfig> LoadRelayConfig(const std::string& path) {
  BONAFIDE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseRelayConfig(text, path);
}

}  // namespace bonafide::engine
