#include "engine/photo_hash_cache.h"

#include <time.h>

#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

#include "engine/sqlite_db.h"
#include "util/hash.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::engine {
namespace {

using sqlite::Op;
using sqlite::Stmt;
using sqlite::StmtScope;

// The row's `data`: quality (i32), hash count (u32), the hashes (32 bytes each), the
// nothing-after-PDQ digest (u64; absent in rows written before it existed, read as 0),
// then the check (u64): the first half of Hasher128 over the identity, the digest and
// everything before it. Little-endian (x86-64 is the build floor).
constexpr size_t kHeaderBytes = 8;
constexpr size_t kStagesBytes = 8;
constexpr size_t kCheckBytes = 8;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS photos (
  device INTEGER NOT NULL, inode INTEGER NOT NULL, size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
  digest_lo INTEGER NOT NULL, digest_hi INTEGER NOT NULL,
  data BLOB NOT NULL, used INTEGER NOT NULL,
  PRIMARY KEY (device, inode)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS photos_by_digest ON photos (digest_lo, digest_hi);
CREATE INDEX IF NOT EXISTS photos_by_use ON photos (used);
INSERT OR IGNORE INTO meta VALUES ('hash_version', 0), ('entries', 0);
)sql";

int64_t NowMicros() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

uint64_t Check(const FileIdentity& id, const ContentDigest& digest, std::string_view body) {
  Hasher128 h;
  const int64_t fields[] = {static_cast<int64_t>(id.device),
                            static_cast<int64_t>(id.inode),
                            id.size,
                            id.mtime_ns,
                            id.ctime_ns,
                            static_cast<int64_t>(digest.lo),
                            static_cast<int64_t>(digest.hi)};
  h.Add(std::string_view(reinterpret_cast<const char*>(fields), sizeof(fields)));
  h.Add(body);
  return h.Digest().first;
}

std::string EncodeData(const FileIdentity& id, const ContentDigest& digest,
                       const models::PdqResult* variants, size_t count,
                       uint64_t nothing_after_pdq) {
  const size_t hashes_end = kHeaderBytes + count * sizeof(models::Hash256);
  std::string data(hashes_end + kStagesBytes + kCheckBytes, '\0');
  const int32_t quality = variants[0].quality;
  const uint32_t n = static_cast<uint32_t>(count);
  std::memcpy(data.data(), &quality, 4);
  std::memcpy(data.data() + 4, &n, 4);
  for (size_t v = 0; v < count; ++v) {
    std::memcpy(data.data() + kHeaderBytes + v * sizeof(models::Hash256), variants[v].hash.words,
                sizeof(models::Hash256));
  }
  std::memcpy(data.data() + hashes_end, &nothing_after_pdq, kStagesBytes);
  const size_t body = data.size() - kCheckBytes;
  const uint64_t check = Check(id, digest, std::string_view(data.data(), body));
  std::memcpy(data.data() + body, &check, kCheckBytes);
  return data;
}

// Decodes a row's data into `out`; false when it is damaged or has too few hashes.
bool DecodeData(const FileIdentity& id, const ContentDigest& digest, const void* blob, size_t bytes,
                size_t min_variants, CachedPhotoHash& out) {
  if (blob == nullptr || bytes < kHeaderBytes + kCheckBytes) return false;
  const char* p = static_cast<const char*>(blob);
  int32_t quality;
  uint32_t count;
  std::memcpy(&quality, p, 4);
  std::memcpy(&count, p + 4, 4);
  if (count != 1 && count != models::kNumDihedral) return false;
  const size_t hashes_end = kHeaderBytes + count * sizeof(models::Hash256);
  const bool has_stages = bytes == hashes_end + kStagesBytes + kCheckBytes;
  if (!has_stages && bytes != hashes_end + kCheckBytes) return false;
  uint64_t check;
  std::memcpy(&check, p + bytes - kCheckBytes, kCheckBytes);
  if (check != Check(id, digest, std::string_view(p, bytes - kCheckBytes))) return false;
  if (quality < 0 || quality > 100 || count < min_variants) return false;
  out.count = count;
  out.digest = digest;
  out.nothing_after_pdq = 0;
  if (has_stages) std::memcpy(&out.nothing_after_pdq, p + hashes_end, kStagesBytes);
  for (size_t v = 0; v < count; ++v) {
    std::memcpy(out.variants[v].hash.words, p + kHeaderBytes + v * sizeof(models::Hash256),
                sizeof(models::Hash256));
    out.variants[v].quality = quality;
  }
  return true;
}

// Creates the schema and drops the rows of another hash version.
absl::Status InitDatabase(const std::string& path) {
  sqlite::Db db;
  BONAFIDE_RETURN_IF_ERROR(db.Open(path, /*read_only=*/false));
  BONAFIDE_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL", "set WAL mode", Op::kWrite));
  return db.InTransaction([&]() -> absl::Status {
    BONAFIDE_RETURN_IF_ERROR(db.Exec(kSchema, "create schema", Op::kWrite));
    BONAFIDE_ASSIGN_OR_RETURN(
        const int64_t version,
        db.QueryInt("SELECT value FROM meta WHERE key = 'hash_version'", "read", Op::kRead));
    if (version == kPhotoHashVersion) return absl::OkStatus();
    BONAFIDE_RETURN_IF_ERROR(db.Exec("DELETE FROM photos", "drop stale hashes", Op::kWrite));
    const std::string update =
        absl::StrCat("UPDATE meta SET value = ", kPhotoHashVersion,
                     " WHERE key = 'hash_version'; UPDATE meta SET value = 0 WHERE key = "
                     "'entries'");
    return db.Exec(update.c_str(), "set hash version", Op::kWrite);
  });
}

}  // namespace

FileIdentity FileIdentity::FromStat(const struct stat& st) {
  FileIdentity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = st.st_size;
  id.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  id.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec;
  return id;
}

ContentDigest ContentDigest::Of(std::string_view bytes) {
  Hasher128 h;
  h.Add(bytes);
  const auto [lo, hi] = h.Digest();
  return {lo, hi};
}

absl::StatusOr<std::unique_ptr<PhotoHashCache>> PhotoHashCache::Open(
    const std::string& dir, const PhotoHashCacheOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat(dir, ": cannot create the cache directory: ", ec.message()));
  }
  std::string path = absl::StrCat(dir, "/", ToAbsl(kFileName));
  absl::Status status = InitDatabase(path);
  if (!status.ok() && status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kPermissionDenied) {
    // Not a database, or a damaged one: it only held hashes that can be computed again.
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path + suffix, ec);
    }
    status = InitDatabase(path);
  }
  if (!status.ok()) return status;
  return std::unique_ptr<PhotoHashCache>(new PhotoHashCache(std::move(path), options));
}

PhotoHashCache::~PhotoHashCache() = default;

// ---------------------------------------------------------------------------------------

struct PhotoHashCache::Session::Impl {
  struct Pending {
    FileIdentity identity;
    ContentDigest digest;
    std::string data;  // empty: only the last-use time changes
    int64_t used = 0;
  };

  absl::Status Prepare() {
    // A lost write costs a rehash, so a commit need not wait for the disk (WAL keeps the
    // file consistent either way).
    BONAFIDE_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL; PRAGMA mmap_size = 268435456",
                                     "set pragmas", Op::kRead));
    BONAFIDE_RETURN_IF_ERROR(
        db.Prepare("SELECT size, mtime_ns, ctime_ns, digest_lo, digest_hi, data, used "
                   "FROM photos WHERE device = ?1 AND inode = ?2",
                   by_identity, Op::kRead));
    BONAFIDE_RETURN_IF_ERROR(
        db.Prepare("SELECT device, inode, size, mtime_ns, ctime_ns, data FROM photos "
                   "WHERE digest_lo = ?1 AND digest_hi = ?2 LIMIT 4",
                   by_content, Op::kRead));
    BONAFIDE_RETURN_IF_ERROR(
        db.Prepare("UPDATE photos SET size = ?3, mtime_ns = ?4, ctime_ns = ?5, digest_lo = ?6, "
                   "digest_hi = ?7, data = ?8, used = ?9 WHERE device = ?1 AND inode = ?2",
                   update, Op::kWrite));
    BONAFIDE_RETURN_IF_ERROR(
        db.Prepare("INSERT INTO photos (device, inode, size, mtime_ns, ctime_ns, digest_lo, "
                   "digest_hi, data, used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                   insert, Op::kWrite));
    BONAFIDE_RETURN_IF_ERROR(db.Prepare(
        "UPDATE photos SET used = ?3 WHERE device = ?1 AND inode = ?2", touch, Op::kWrite));
    BONAFIDE_RETURN_IF_ERROR(
        db.Prepare("UPDATE meta SET value = value + ?1 WHERE key = 'entries' RETURNING value",
                   add_entries, Op::kWrite));
    return db.Prepare(
        "DELETE FROM photos WHERE (device, inode) IN "
        "(SELECT device, inode FROM photos ORDER BY used LIMIT ?1)",
        evict, Op::kWrite);
  }

  static void BindIdentity(sqlite3_stmt* stmt, const FileIdentity& id) {
    sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(id.device));
    sqlite3_bind_int64(stmt, 2, static_cast<int64_t>(id.inode));
  }

  absl::Status Write() {
    int64_t added = 0;
    for (const Pending& p : pending) {
      if (p.data.empty()) {
        StmtScope scope(touch.get());
        BindIdentity(touch.get(), p.identity);
        sqlite3_bind_int64(touch.get(), 3, p.used);
        BONAFIDE_RETURN_IF_ERROR(db.StepDone(touch.get(), "touch"));
        continue;
      }
      for (sqlite3_stmt* stmt : {update.get(), insert.get()}) {
        StmtScope scope(stmt);
        BindIdentity(stmt, p.identity);
        sqlite3_bind_int64(stmt, 3, p.identity.size);
        sqlite3_bind_int64(stmt, 4, p.identity.mtime_ns);
        sqlite3_bind_int64(stmt, 5, p.identity.ctime_ns);
        sqlite3_bind_int64(stmt, 6, static_cast<int64_t>(p.digest.lo));
        sqlite3_bind_int64(stmt, 7, static_cast<int64_t>(p.digest.hi));
        sqlite3_bind_blob(stmt, 8, p.data.data(), static_cast<int>(p.data.size()), SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 9, p.used);
        BONAFIDE_RETURN_IF_ERROR(db.StepDone(stmt, "store"));
        if (sqlite3_changes(db.get()) > 0) {
          added += stmt == insert.get();
          break;
        }
      }
    }
    StmtScope scope(add_entries.get());
    sqlite3_bind_int64(add_entries.get(), 1, added);
    if (sqlite3_step(add_entries.get()) != SQLITE_ROW) {
      return db.Error(sqlite3_errcode(db.get()), "count", Op::kWrite);
    }
    const int64_t entries = sqlite3_column_int64(add_entries.get(), 0);
    sqlite3_reset(add_entries.get());
    if (entries <= options.max_entries) return absl::OkStatus();
    // Evict a slice beyond the excess, so that a full cache does not evict on every flush.
    const int64_t excess = entries - options.max_entries + options.max_entries / 64;
    {
      StmtScope evict_scope(evict.get());
      sqlite3_bind_int64(evict.get(), 1, excess);
      BONAFIDE_RETURN_IF_ERROR(db.StepDone(evict.get(), "evict"));
    }
    const int64_t evicted = sqlite3_changes(db.get());
    StmtScope again(add_entries.get());
    sqlite3_bind_int64(add_entries.get(), 1, -evicted);
    if (sqlite3_step(add_entries.get()) != SQLITE_ROW) {
      return db.Error(sqlite3_errcode(db.get()), "count", Op::kWrite);
    }
    return absl::OkStatus();
  }

  // Starting a read transaction in WAL mode takes locks on the shared-memory file
  // (system calls); a session keeps one open over kReadsPerTransaction lookups instead of
  // one per lookup (measured: 11 us -> 2 us a hit). Its snapshot may miss rows other
  // sessions wrote meanwhile: that costs a rehash, never a wrong hash.
  static constexpr int kReadsPerTransaction = 1024;
  void BeginRead() {
    if (reads_in_transaction == 0 && !broken) {
      if (sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return;
    }
    if (++reads_in_transaction >= kReadsPerTransaction) EndRead();
  }
  void EndRead() {
    if (reads_in_transaction == 0) return;
    reads_in_transaction = 0;
    if (!sqlite3_get_autocommit(db.get())) {
      sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
    }
  }

  void Flush() {
    EndRead();  // a write transaction cannot start from an old snapshot
    if (pending.empty() || broken) {
      pending.clear();
      return;
    }
    const absl::Status status = db.InTransaction([this] { return Write(); });
    // A busy or full cache drops this batch (its photos are hashed again next time); a
    // damaged one is left alone for the rest of the session.
    if (!status.ok() && status.code() != absl::StatusCode::kUnavailable &&
        status.code() != absl::StatusCode::kResourceExhausted) {
      broken = true;
    }
    pending.clear();
  }

  PhotoHashCacheOptions options;
  sqlite::Db db;
  Stmt by_identity, by_content, update, insert, touch, add_entries, evict;
  std::vector<Pending> pending;
  int reads_in_transaction = 0;  // lookups in the open read transaction (0: none open)
  bool broken = false;           // a statement failed for a reason other than a busy lock
};

PhotoHashCache::Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PhotoHashCache::Session::~Session() { impl_->Flush(); }

std::unique_ptr<PhotoHashCache::Session> PhotoHashCache::NewSession() const {
  auto impl = std::make_unique<Session::Impl>();
  impl->options = options_;
  if (!impl->db.Open(path_, /*read_only=*/false).ok() || !impl->Prepare().ok()) return nullptr;
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

bool PhotoHashCache::Session::Lookup(const FileIdentity& identity, size_t min_variants,
                                     CachedPhotoHash& out) {
  Impl& s = *impl_;
  bool hit = false;
  int64_t used = 0;
  if (!s.broken) {
    s.BeginRead();
    sqlite3_stmt* stmt = s.by_identity.get();
    StmtScope scope(stmt);
    Impl::BindIdentity(stmt, identity);
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      FileIdentity row = identity;
      row.size = sqlite3_column_int64(stmt, 0);
      row.mtime_ns = sqlite3_column_int64(stmt, 1);
      row.ctime_ns = sqlite3_column_int64(stmt, 2);
      const ContentDigest digest{static_cast<uint64_t>(sqlite3_column_int64(stmt, 3)),
                                 static_cast<uint64_t>(sqlite3_column_int64(stmt, 4))};
      used = sqlite3_column_int64(stmt, 6);
      hit = row == identity &&
            DecodeData(row, digest, sqlite3_column_blob(stmt, 5),
                       static_cast<size_t>(sqlite3_column_bytes(stmt, 5)), min_variants, out);
    } else if (rc != SQLITE_DONE && rc != SQLITE_BUSY) {
      s.broken = true;
    }
  }
  if (!hit) {
    ++misses_;
    return false;
  }
  ++hits_;
  const int64_t now = NowMicros();
  if (now - used > s.options.touch_after_seconds * 1'000'000) {
    s.pending.push_back({identity, {}, std::string(), now});
    if (s.pending.size() >= s.options.flush_every) s.Flush();
  }
  return true;
}

bool PhotoHashCache::Session::LookupContent(const ContentDigest& digest, size_t min_variants,
                                            CachedPhotoHash& out) {
  Impl& s = *impl_;
  if (s.broken) return false;
  s.BeginRead();
  sqlite3_stmt* stmt = s.by_content.get();
  StmtScope scope(stmt);
  sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(digest.lo));
  sqlite3_bind_int64(stmt, 2, static_cast<int64_t>(digest.hi));
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    FileIdentity row;
    row.device = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    row.inode = static_cast<uint64_t>(sqlite3_column_int64(stmt, 1));
    row.size = sqlite3_column_int64(stmt, 2);
    row.mtime_ns = sqlite3_column_int64(stmt, 3);
    row.ctime_ns = sqlite3_column_int64(stmt, 4);
    if (DecodeData(row, digest, sqlite3_column_blob(stmt, 5),
                   static_cast<size_t>(sqlite3_column_bytes(stmt, 5)), min_variants, out)) {
      ++content_hits_;
      return true;
    }
  }
  if (rc != SQLITE_DONE && rc != SQLITE_BUSY) s.broken = true;
  return false;
}

void PhotoHashCache::Session::Store(const FileIdentity& identity, const ContentDigest& digest,
                                    const models::PdqResult* variants, size_t count,
                                    uint64_t nothing_after_pdq) {
  Impl& s = *impl_;
  if (s.broken) return;
  Impl::Pending entry{identity, digest,
                      EncodeData(identity, digest, variants, count, nothing_after_pdq),
                      NowMicros()};
  // The scanner stores a photo when it hashes it and again when the later stages found
  // nothing in it: the second replaces the first before either is written.
  if (!s.pending.empty() && s.pending.back().identity == identity) {
    s.pending.back() = std::move(entry);
    return;
  }
  s.pending.push_back(std::move(entry));
  if (s.pending.size() >= s.options.flush_every) s.Flush();
}

void PhotoHashCache::Session::Flush() { impl_->Flush(); }

}  // namespace bonafide::engine
