// HyperscanDatabase: compilation and the serialised-database cache.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include <hs.h>
#include <re2/re2.h>

#include "rules/hyperscan_matcher.h"
#include "util/files.h"
#include "util/hash.h"
#include "util/huge_page_buffer.h"
#include "util/status_macros.h"

namespace bonafide::rules {
namespace {

constexpr unsigned kMode = HS_MODE_BLOCK;
constexpr unsigned kLiteralFlags = HS_FLAG_UTF8;
constexpr unsigned kRegexFlags = HS_FLAG_UTF8 | HS_FLAG_CASELESS;

unsigned Flags(const PatternInfo& pattern) {
  return pattern.is_regex ? kRegexFlags : kLiteralFlags;
}

// The cache file name of a database: a digest of the Hyperscan version, of the platform it
// compiles for (this CPU: its tuning and instruction sets), and of every member's
// expression, flags and pattern index (integers in decimal: the same text as the "%.17g"
// the key once used, at a tenth of the cost). Without the platform, machines of different
// CPUs sharing a cache directory would take each other's databases: Hyperscan accepts one
// built for fewer instruction sets and runs it without the newer ones (the database a
// valgrind run wrote, which sees no AVX-512, then slowed every later scan), and refuses the
// other way round, so that they would recompile in turns.
std::string CacheKey(const CompiledRules& rules, const std::vector<uint32_t>& members) {
  Hasher128 key;
  key.Add(hs_version());
  hs_platform_info_t platform{};
  if (hs_populate_platform(&platform) == HS_SUCCESS) {
    key.Add(absl::StrCat("tune ", platform.tune, " features ", platform.cpu_features));
  }
  for (uint32_t i : members) {
    key.Add(rules.patterns()[i].expression);
    key.Add(absl::StrCat(Flags(rules.patterns()[i])));
    key.Add(absl::StrCat(i));
  }
  return key.Hex();
}

// Places the serialized database `bytes` into `memory` and points `out` at it. Huge
// pages: in Hyperscan's own allocation the databases' 1.5 MB were a quarter of a warm
// start's page faults. False when Hyperscan refuses the bytes (another version, a damaged
// file).
bool Deserialize(std::string_view bytes, HugePageBuffer& memory, hs_database_t** out) {
  size_t size = 0;
  if (hs_serialized_database_size(bytes.data(), bytes.size(), &size) != HS_SUCCESS) return false;
  absl::StatusOr<HugePageBuffer> buffer = HugePageBuffer::Allocate(size);
  if (!buffer.ok()) return false;
  auto* db = reinterpret_cast<hs_database_t*>(buffer->data());
  if (hs_deserialize_database_at(bytes.data(), bytes.size(), db) != HS_SUCCESS) return false;
  memory = std::move(*buffer);
  *out = db;
  return true;
}

// Compiles (or loads from `cache_dir`) a database of the patterns `members` of `rules` into
// `memory`, and points `out` at it.
absl::Status BuildDatabase(const CompiledRules& rules, const std::vector<uint32_t>& members,
                           const std::string& cache_dir, HugePageBuffer& memory,
                           hs_database_t** out, bool* cached) {
  std::string cache_path;
  if (!cache_dir.empty()) {
    cache_path = absl::StrCat(cache_dir, "/hs-", CacheKey(rules, members), ".db");
    if (auto file = MappedFile::Open(cache_path); file.ok()) {
      const std::string_view bytes(file->bytes().data(), file->bytes().size());
      if (Deserialize(bytes, memory, out)) {
        *cached = true;
        return absl::OkStatus();
      }
    }
  }
  std::vector<const char*> expressions;
  std::vector<unsigned> flags;
  for (uint32_t i : members) {
    expressions.push_back(rules.patterns()[i].expression.c_str());
    flags.push_back(Flags(rules.patterns()[i]));
  }
  hs_compile_error_t* error = nullptr;
  hs_database_t* compiled = nullptr;
  const hs_error_t rc = hs_compile_multi(expressions.data(), flags.data(), members.data(),
                                         static_cast<unsigned>(expressions.size()), kMode, nullptr,
                                         &compiled, &error);
  if (rc != HS_SUCCESS) {
    std::string message = error != nullptr ? error->message : "unknown error";
    std::string where = rules.pack().directory;
    std::string expression;
    if (error != nullptr && error->expression >= 0 &&
        static_cast<size_t>(error->expression) < members.size()) {
      const PatternInfo& pattern = rules.patterns()[members[error->expression]];
      where = pattern.where;
      expression = pattern.expression;
    }
    hs_free_compile_error(error);
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": hyperscan cannot compile \"", expression, "\": ", message));
  }
  // Serialised for the cache, and placed like a cached one: one way to hold a database.
  char* bytes = nullptr;
  size_t length = 0;
  const hs_error_t serialized = hs_serialize_database(compiled, &bytes, &length);
  hs_free_database(compiled);
  if (serialized != HS_SUCCESS) {
    return absl::ResourceExhaustedError(
        absl::StrCat(rules.pack().directory, ": hyperscan cannot serialise a database (error ",
                     serialized, ")"));
  }
  const std::string_view view(bytes, length);
  if (!cache_path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cache_dir, ec);
    // A cache that cannot be written only costs the next run a recompilation.
    WriteFileAtomically(cache_path, view).IgnoreError();
  }
  const bool placed = Deserialize(view, memory, out);
  std::free(bytes);
  if (!placed) {
    return absl::ResourceExhaustedError(
        absl::StrCat(rules.pack().directory, ": cannot place a compiled database in memory"));
  }
  return absl::OkStatus();
}

}  // namespace

HyperscanDatabase::HyperscanDatabase(std::shared_ptr<const CompiledRules> rules)
    : MatcherDatabase(std::move(rules)) {}

HyperscanDatabase::~HyperscanDatabase() = default;

absl::StatusOr<std::shared_ptr<const HyperscanDatabase>> HyperscanDatabase::Compile(
    std::shared_ptr<const CompiledRules> rules, const MatcherOptions& options) {
  std::shared_ptr<HyperscanDatabase> db(new HyperscanDatabase(std::move(rules)));
  const std::vector<PatternInfo>& patterns = db->rules().patterns();
  // The rule loader has validated every cue regex with RE2 already.
  RE2::Options re2_options;
  re2_options.set_case_sensitive(false);
  re2_options.set_log_errors(false);
  for (const PatternInfo& info : patterns) {
    db->regexes_.push_back(info.is_regex ? std::make_unique<RE2>(info.expression, re2_options)
                                         : nullptr);
  }
  bool from_cache = true;
  for (MatchScope scope : {MatchScope::kTitle, MatchScope::kDescription}) {
    std::vector<uint32_t> members;
    for (uint32_t i = 0; i < patterns.size(); ++i) {
      if (InScope(patterns[i], scope)) members.push_back(i);
    }
    bool cached = false;
    const bool title = scope == MatchScope::kTitle;
    BONAFIDE_RETURN_IF_ERROR(
        BuildDatabase(db->rules(), members, options.cache_dir,
                      title ? db->title_memory_ : db->description_memory_,
                      title ? &db->title_database_ : &db->description_database_, &cached));
    from_cache &= cached;
  }
  db->loaded_from_cache_ = from_cache;
  return std::shared_ptr<const HyperscanDatabase>(std::move(db));
}

}  // namespace bonafide::rules
