#include "rules/rule_pack_cache.h"

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "util/files.h"
#include "util/hash.h"
#include "util/status_macros.h"

namespace bonafide::rules {
namespace {

namespace fs = std::filesystem;

// Bumped whenever the layout below changes, so that an older cache file is ignored. The
// file is sealed (util/files.h SealCache): the magic, the pack, the digest of both.
constexpr std::string_view kMagic = "bonafide rule pack cache 2\n";

// A field added to rules/rule_pack.h changes its struct's size: add it to Fields() below
// (and to the digest, rule_pack_digest.cc), then update the size here. The round-trip test
// compares every field with operator==, so a field missing here fails it too.
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(SourceLocation) == 40, "cache the new SourceLocation field");
static_assert(sizeof(ImagePolicy) == 8, "cache the new ImagePolicy field");
static_assert(sizeof(Weights) == 48, "cache the new Weights field");
static_assert(sizeof(Policy) == 176, "cache the new Policy field");
static_assert(sizeof(CueRule) == 192, "cache the new CueRule field");
static_assert(sizeof(Context) == 160, "cache the new Context field");
static_assert(sizeof(MentionExamples) == 48, "cache the new MentionExamples field");
static_assert(sizeof(Brand) == 168, "cache the new Brand field");
static_assert(sizeof(Money) == 40, "cache the new Money field");
static_assert(sizeof(Product) == 312, "cache the new Product field");
static_assert(sizeof(RightsHolder) == 192, "cache the new RightsHolder field");
static_assert(sizeof(RulesWarning) == 72, "cache the new RulesWarning field");
static_assert(sizeof(RulePack) == 440, "cache the new RulePack field");
#endif

// Every struct's fields, listed once for writing (T const) and reading (T mutable).
template <typename T, typename U>
concept Is = std::same_as<std::remove_const_t<T>, U>;

template <typename A, Is<SourceLocation> T>
void Fields(A& a, T& v) {
  a(v.file, v.line, v.column);
}
template <typename A, Is<ImagePolicy> T>
void Fields(A& a, T& v) {
  a(v.max_distance, v.min_quality);
}
template <typename A, Is<Weights> T>
void Fields(A& a, T& v) {
  a(v.cue, v.price, v.image, v.obfuscated_brand, v.known_counterfeit_photo, v.seller_record);
}
template <typename A, Is<Policy> T>
void Fields(A& a, T& v) {
  a(v.currency, v.fx_date, v.fx, v.threshold, v.weights, v.image);
}
template <typename A, Is<CueRule> T>
void Fields(A& a, T& v) {
  a(v.id, v.version, v.mode, v.phrases, v.regex, v.weight, v.examples_match, v.examples_no_match,
    v.location);
}
template <typename A, Is<Context> T>
void Fields(A& a, T& v) {
  a(v.compatibility, v.accessories, v.bundle, v.used, v.packaging_only, v.location);
}
template <typename A, Is<MentionExamples> T>
void Fields(A& a, T& v) {
  a(v.match, v.no_match);
}
template <typename A, Is<Brand> T>
void Fields(A& a, T& v) {
  a(v.name, v.aliases, v.exclude, v.examples, v.location);
}
template <typename A, Is<Money> T>
void Fields(A& a, T& v) {
  a(v.amount, v.currency);
}
template <typename A, Is<Product> T>
void Fields(A& a, T& v) {
  a(v.id, v.name, v.keywords, v.category, v.reference_price, v.min_price_ratio, v.images, v.exclude,
    v.examples, v.location);
}
template <typename A, Is<RightsHolder> T>
void Fields(A& a, T& v) {
  a(v.id, v.name, v.threshold, v.brands, v.authorized_sellers, v.products, v.location);
}
template <typename A, Is<RulesWarning> T>
void Fields(A& a, T& v) {
  a(v.location, v.message);
}
template <typename A, Is<RulePack> T>
void Fields(A& a, T& v) {
  a(v.directory, v.policy, v.cues, v.context, v.rights_holders, v.warnings);
}

// Numbers as 8-byte words in the machine's byte order (the cache never leaves the
// machine), strings and lists as a count then their items, an optional as a flag byte.
class Writer {
 public:
  template <typename... T>
  void operator()(const T&... values) {
    (Put(values), ...);
  }
  std::string& bytes() { return out_; }

 private:
  void PutWord(uint64_t word) {
    char buffer[8];
    std::memcpy(buffer, &word, 8);
    out_.append(buffer, 8);
  }
  void Put(const std::string& s) {
    PutWord(s.size());
    out_.append(s);
  }
  void Put(int v) { PutWord(static_cast<uint64_t>(static_cast<int64_t>(v))); }
  void Put(double v) { PutWord(std::bit_cast<uint64_t>(v)); }
  void Put(RuleMode mode) { Put(static_cast<int>(mode)); }
  void Put(const std::map<std::string, double>& map) {
    PutWord(map.size());
    for (const auto& [key, value] : map) {
      Put(key);
      Put(value);
    }
  }
  template <typename T>
  void Put(const std::vector<T>& items) {
    PutWord(items.size());
    for (const T& item : items) Put(item);
  }
  template <typename T>
  void Put(const std::optional<T>& value) {
    out_.push_back(value.has_value() ? '\1' : '\0');
    if (value.has_value()) Put(*value);
  }
  template <typename T>
  requires std::is_class_v<T>
  void Put(const T& value) { Fields(*this, value); }

  std::string out_;
};

// Reads what Writer wrote; the first short read or impossible value makes ok() false and
// every later read a no-op. Lists grow item by item, so a corrupt count cannot allocate
// more than the bytes that are there.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  template <typename... T>
  void operator()(T&... values) {
    (Get(values), ...);
  }
  bool ok() const { return ok_; }
  bool at_end() const { return rest_.empty(); }

 private:
  bool GetWord(uint64_t& word) {
    if (!ok_ || rest_.size() < 8) {
      ok_ = false;
      return false;
    }
    std::memcpy(&word, rest_.data(), 8);
    rest_.remove_prefix(8);
    return true;
  }
  void Get(std::string& s) {
    uint64_t size = 0;
    if (!GetWord(size)) return;
    if (size > rest_.size()) {
      ok_ = false;
      return;
    }
    s.assign(rest_.data(), size);
    rest_.remove_prefix(size);
  }
  void Get(int& v) {
    uint64_t word = 0;
    if (GetWord(word)) v = static_cast<int>(static_cast<int64_t>(word));
  }
  void Get(double& v) {
    uint64_t word = 0;
    if (GetWord(word)) v = std::bit_cast<double>(word);
  }
  void Get(RuleMode& mode) {
    int v = -1;
    Get(v);
    if (v < static_cast<int>(RuleMode::kEnforce) || v > static_cast<int>(RuleMode::kOff)) {
      ok_ = false;
      return;
    }
    mode = static_cast<RuleMode>(v);
  }
  void Get(std::map<std::string, double>& map) {
    uint64_t count = 0;
    if (!GetWord(count)) return;
    for (uint64_t i = 0; i < count && ok_; ++i) {
      std::string key;
      double value = 0;
      Get(key);
      Get(value);
      map[key] = value;
    }
  }
  template <typename T>
  void Get(std::vector<T>& items) {
    uint64_t count = 0;
    if (!GetWord(count)) return;
    items.clear();
    for (uint64_t i = 0; i < count && ok_; ++i) Get(items.emplace_back());
  }
  template <typename T>
  void Get(std::optional<T>& value) {
    if (!ok_ || rest_.empty() || (rest_[0] != '\0' && rest_[0] != '\1')) {
      ok_ = false;
      return;
    }
    const bool present = rest_[0] == '\1';
    rest_.remove_prefix(1);
    value.reset();
    if (present) Get(value.emplace());
  }
  template <typename T>
  requires std::is_class_v<T>
  void Get(T& value) { Fields(*this, value); }

  std::string_view rest_;
  bool ok_ = true;
};

// Adds a file that LoadRulePack reads when it is there: its name, whether it is a regular
// file, and its bytes.
absl::Status AddOptionalFile(const fs::path& path, Hasher128& key) {
  key.Add(path.filename().string());
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    key.Add("-");
    return absl::OkStatus();
  }
  BONAFIDE_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path.string()));
  key.Add("+");
  key.Add(bytes);
  return absl::OkStatus();
}

// The name of the cache file for `directory`: a digest of everything LoadRulePack reads
// (see the header), in the order it reads it.
absl::StatusOr<std::string> CacheKey(std::string_view directory) {
  const fs::path dir{std::string(directory)};
  Hasher128 key;
  key.Add(kMagic);
  key.Add(directory);
  for (const char* name : {"policy.yaml", "cues.yaml", "context.yaml"}) {
    BONAFIDE_RETURN_IF_ERROR(AddOptionalFile(dir / name, key));
  }
  std::vector<fs::path> files;
  std::error_code ec;
  const fs::path holders_dir = dir / "rights_holders";
  for (fs::directory_iterator it(holders_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.filename().string().front() == '.' || !it->is_regular_file(ec)) continue;
    files.push_back(p);
  }
  if (ec) return absl::UnavailableError(absl::StrCat(holders_dir.string(), ": ", ec.message()));
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    if (p.extension() == ".yaml" || p.extension() == ".yml") {
      BONAFIDE_RETURN_IF_ERROR(AddOptionalFile(p, key));
    } else {
      key.Add(p.filename().string());  // another file: only its name gives a warning
    }
  }
  return key.Hex();
}

// LoadRulePack checked that each genuine photo was a regular file; a cached pack must
// still be able to say so.
bool PhotosStillThere(const RulePack& pack) {
  std::error_code ec;
  for (const RightsHolder& holder : pack.rights_holders) {
    for (const Product& product : holder.products) {
      for (const std::string& image : product.images) {
        if (!fs::is_regular_file(image, ec)) return false;
      }
    }
  }
  return true;
}

}  // namespace

std::string SerializeRulePack(const RulePack& pack) {
  Writer writer;
  writer(pack);
  return SealCache(kMagic, writer.bytes());
}

absl::StatusOr<RulePack> ParseCachedRulePack(std::string_view bytes) {
  const std::optional<std::string_view> payload = UnsealCache(bytes, kMagic);
  if (!payload.has_value()) {
    return absl::DataLossError(
        "not a whole rule pack cache file of this format version (truncated or corrupt)");
  }
  RulePack pack;
  Reader reader(*payload);
  reader(pack);
  if (!reader.ok() || !reader.at_end()) {
    return absl::DataLossError("rule pack cache file: malformed content");
  }
  return pack;
}

absl::StatusOr<RulePack> LoadRulePackCached(std::string_view directory,
                                            const std::string& cache_dir, bool* from_cache) {
  if (from_cache != nullptr) *from_cache = false;
  if (cache_dir.empty()) return LoadRulePack(directory);
  // A directory that cannot be read for the key is LoadRulePack's to report.
  const absl::StatusOr<std::string> key = CacheKey(directory);
  if (!key.ok()) return LoadRulePack(directory);
  const std::string path = absl::StrCat(cache_dir, "/rules-", *key, ".pack");
  if (absl::StatusOr<std::string> bytes = ReadFile(path); bytes.ok()) {
    if (absl::StatusOr<RulePack> pack = ParseCachedRulePack(*bytes);
        pack.ok() && PhotosStillThere(*pack)) {
      if (from_cache != nullptr) *from_cache = true;
      return pack;
    }
  }
  BONAFIDE_ASSIGN_OR_RETURN(RulePack pack, LoadRulePack(directory));
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  // A cache that cannot be written only costs the next start a YAML parse.
  WriteFileAtomically(path, SerializeRulePack(pack)).IgnoreError();
  return pack;
}

}  // namespace bonafide::rules
