// The scanner: rules compiled once, listings judged many times, from many threads.
//
//   bonafide::ScannerOptions options;
//   options.rules_dir = "examples/rules";
//   auto scanner = bonafide::Scanner::Create(options);         // slow: loads, compiles
//   if (!scanner.ok()) { ... (*scanner) ... }
//
// One listing at a time (an ingestion service):
//   auto scratch = (*scanner)->NewScratch();                   // one per thread
//   bonafide::Verdict verdict;                                 // reuse per thread
//   (*scanner)->Scan(listing, **scratch, verdict);
//   for (const auto& h : verdict.holders) if (h.case_opened) ...
//
// A whole dump (the CLI's `scan`):
//   auto outbox = bonafide::OpenOutbox("outbox.db");
//   auto summary = (*scanner)->ScanFiles({"dump.jsonl.zst"}, **outbox, scan_options);
//
// Nothing here prints or exits; errors are absl::Status values.
#ifndef BONAFIDE_SCANNER_H_
#define BONAFIDE_SCANNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "bonafide/explain.h"
#include "bonafide/export.h"
#include "bonafide/listing.h"
#include "bonafide/outbox.h"
#include "bonafide/shard.h"
#include "bonafide/sink.h"
#include "bonafide/verdict.h"

namespace bonafide {

namespace engine {
class ScanRun;
}  // namespace engine

// Which engine finds the text patterns. All report the same matches
// (tests/rules/text_matcher_test.cc); RE2::Set is several times slower (bench/RESULTS.md),
// the benchmarks' peer and what a build without Hyperscan has.
enum class TextBackend {
  kDefault,    // Hyperscan when the build has it (BONAFIDE_WITH_HYPERSCAN), else RE2::Set
  kHyperscan,  // Scanner::Create returns Unimplemented in a build without Hyperscan
  kRe2Set,
};

struct ScannerOptions {
  std::string rules_dir;  // the rules directory (docs/rule-format.md); required
  // Where compiled Hyperscan databases, the genuine photos' hashes and the listing
  // photos' hashes are cached ("" = no cache). The CLI defaults to $XDG_CACHE_HOME/bonafide or
  // ~/.cache/bonafide.
  std::string cache_dir;
  // The directory listing `images` paths are relative to ("" = only the photos a listing
  // carries, in Listing::image_bytes or image_hashes, are read). Must exist. A path that resolves
  // outside it through a symbolic link is refused (ImageStatus::kOutsideRoot). Every listing's
  // photos are read when some product of the rules registers genuine photos or the feedback holds
  // photos of confirmed counterfeits (RulesInfo::reads_images); otherwise only a flagged listing's,
  // for its evidence (a counterfeit verdict adds them to the known counterfeit photos).
  std::string image_root;
  // The most listing photos whose hashes are kept in cache_dir across scans
  // (4,000,000, about 0.6 GB; 0 = keep none). A photo whose file is unchanged (same
  // device, inode, size, modification and change times) is not read again, one with
  // known content under a new identity is read but not decoded; the least recently used
  // are evicted beyond the bound. Several scans may share the cache at once.
  // docs/images.md ("Listing-photo cache").
  int64_t photo_cache_max_entries = 4'000'000;
  // The stages after PDQ (docs/images.md, "Edited photos"): a listing photo decoded in
  // this scan whose PDQ hash matches no genuine photo is hashed again inside its uniform
  // borders, then matched by local features (ORB keypoints verified by a RANSAC
  // homography), which finds a genuine photo cropped by up to ~30% of its area or with
  // text laid over it. Costs keypoints of every genuine photo at Create and, per
  // unmatched photo, a bounded feature search (RulesInfo::photo_features says what it
  // loaded). false: PDQ of the whole photo only.
  bool edited_photos = true;
  TextBackend text_backend = TextBackend::kDefault;
  // What the rights holders' verdicts taught, as Outbox::LoadFeedback() reads it (empty:
  // nothing). Sellers authorized through a verdict are never flagged for that rights
  // holder; a seller's confirmed counterfeits give the `seller_record` signal, and their
  // photos the `known_counterfeit_photo` signal (read with the listing photos, so only
  // with an image root). Entries of rights holders the rules do not have are ignored.
  // Create returns InvalidArgument for a counterfeit photo hash that is not 64 hex digits.
  OutboxFeedback feedback;
};

// Progress of ScanFiles, reported from its serial stage.
struct ScanProgress {
  int64_t listings_read = 0;
  int64_t cases = 0;
  uint64_t bytes_consumed = 0;  // of the current input (compressed bytes for .zst/.gz)
  uint64_t total_bytes = 0;     // of the current input (0 when unknown)
  int input_index = 0;
  double elapsed_seconds = 0;
};

struct ScanOptions {
  int threads = 0;  // worker threads (0 = all cores)
  // How the inputs are written (kAuto: by each file name; ".csv" is CSV, the rest and
  // stdin JSON Lines). Set it for CSV on stdin or under another name.
  InputFormat input_format = InputFormat::kAuto;
  // Rejected records are written here as JSON Lines ("" = not written; still counted).
  std::string rejects_path;
  // Parameters that affect performance.
  size_t chunk_bytes = 1 << 20;  // bytes of input per pipeline batch (1 MiB)
  // The batch size when the scanner reads photos (RulesInfo::reads_images), if smaller than
  // chunk_bytes: a listing's photos cost milliseconds, so 1 MiB of listings (thousands of
  // photos) would be one thread's work for many seconds while the others wait. 16 KiB is
  // about 50 listings: a quarter second of 1-MP photos, a second of 12-MP ones.
  size_t photo_chunk_bytes = 16 << 10;
  int tokens_per_thread = 4;  // batches in flight per thread (bounds memory)
  // Input per sink transaction, for a sink that defers commits (CaseSink::DefersCommits):
  // batches reach the sink as they are judged and commit together
  // (OutboxBatch::defer_commit) once this many bytes of input are in them or a second
  // after the first, whichever comes first; a batch also commits when no later batch has
  // been read yet (a slow stdin), and every batch of a scan that reads photos commits (0:
  // every batch commits). A commit rewrites each page its transaction changed (an index's
  // leaf takes a few cases of every batch), so fewer commits write less; a killed scan
  // redoes at most this much input when it resumes.
  size_t commit_bytes = 8 << 20;
  // Called after each batch reaches the sink (serial; keep it cheap), or null.
  std::function<void(const ScanProgress&)> on_progress;
  // Called for every case the sink committed, in input order (serial), or null. Cases of a
  // batch whose write failed are not reported.
  std::function<void(const CaseRecord&)> on_case;
  // A stop request, or null (no stop). When it reads true (checked before each batch is
  // read; relaxed load, nothing else is synchronised through it), the scan reads no further
  // input, finishes and commits the batches in flight, and returns a summary marked
  // `interrupted`. Its checkpoints stay in the sink, so the same scan resumes later.
  // IMPORTANT: the atomic must outlive the ScanFiles call; it may be set from a signal
  // handler (std::atomic<bool> is lock-free on every supported platform).
  const std::atomic<bool>* stop = nullptr;
  // Resume an interrupted scan: when the sink holds checkpoints of a scan of the same
  // inputs (same files, sizes and modification times) with the same rules, inputs it
  // finished are skipped and the one it was reading continues after the last committed
  // batch, so that no case or event is lost or repeated (true). Stdin is never resumed.
  // False scans from the start and drops those checkpoints; the new run's own checkpoints
  // are then what a later resume continues from.
  bool resume = true;
  // Judge only the listings of this shard (bonafide/shard.h); the others are counted in
  // ScanSummary::other_shards. Records that are not listings (rejected before their key is
  // known) are reported by shard 0 only. Each shard is a run of its own: it resumes and
  // publishes on its own, and only its own listings can close cases.
  Shard shard;
};

// What a scan did. Plain value.
struct ScanSummary {
  int64_t listings_read = 0;  // records seen = scanned + rejected + other_shards
  int64_t scanned = 0;
  int64_t rejected = 0;
  int64_t other_shards = 0;  // records left to the other shards (ScanOptions::shard)
  Shard shard;               // ScanOptions::shard
  uint64_t bytes_read = 0;   // decompressed input bytes
  double elapsed_seconds = 0;

  struct HolderCounts {
    std::string id;
    // Listings that meet the holder's threshold: its cases, counting a listing repeated
    // in the input once, by its last record.
    int64_t cases = 0;
  };
  std::vector<HolderCounts> holders;  // every rights holder of the rules, by id
  // Records of a listing (same marketplace and id) followed by a later record of it in
  // this run: the last one wins. Counted over the part of the input this process read.
  int64_t duplicates = 0;
  OutboxWriteStats outbox;  // the events the run published

  // Listings on which each cue rule held, in rules order (RulesInfo::cue_rules).
  struct RuleCounts {
    std::string id;  // cue rule id
    int version = 0;
    bool shadow = false;
    int64_t listings = 0;
  };
  std::vector<RuleCounts> rules;

  // Listings on which each signal other than cue rules held (for any rights holder).
  struct SignalCounts {
    int64_t price = 0;
    int64_t image = 0;
    int64_t obfuscated_brand = 0;
    int64_t known_counterfeit_photo = 0;  // learnt from verdicts (ScannerOptions::feedback)
    int64_t seller_record = 0;
  };
  SignalCounts signals;

  // Listing photos (the `image` signal, docs/images.md).
  struct ImageCounts {
    int64_t photos = 0;     // photo paths in scanned listings
    int64_t not_read = 0;   // not read: no image root, or no genuine photos registered
    int64_t hashed = 0;     // decoded and hashed (ImageStatus kHashed or kTooPlain)
    int64_t too_plain = 0;  // of those, below min_quality: not matched
    // Of the hashed, those whose hash the listing-photo cache had (HashSource::kCache) or
    // the listing carried (kListing); the rest were decoded.
    int64_t from_cache = 0;
    int64_t from_listing = 0;
    int64_t matched = 0;  // within max_distance of a genuine photo
    // Photos that could not be read, by ImageStatusName() ("missing", "outside_root",
    // "too_large", "unreadable"), most frequent first.
    std::vector<std::pair<std::string, int64_t>> failed_by_reason;
    bool image_root_set = false;
    int64_t genuine_photos = 0;  // registered in the rules
    // Genuine photos below min_quality, kept out of the bank ("too plain to use").
    std::vector<std::string> too_plain_genuine;
  };
  ImageCounts images;

  // Reject reasons with their counts, most frequent first. The reason is the message
  // without the record's details (e.g. "invalid JSON" for "invalid JSON: TAPE_ERROR ...").
  std::vector<std::pair<std::string, int64_t>> rejects_by_reason;

  // Inputs that gave no listing, each worth a look before the counts are trusted. Only
  // inputs read from their start in this run are checked.
  struct InputWarning {
    enum class Kind {
      kNoRecords,            // the input holds no records (an empty file)
      kEveryRecordRejected,  // records were read, and every one was rejected
    };
    std::string input;  // as given ("-" for standard input)
    Kind kind = Kind::kNoRecords;
    int64_t records = 0;  // kEveryRecordRejected: how many
    // kEveryRecordRejected: the format the input's first line looks like, when it is not
    // the one the input was read as (kAuto = no suggestion).
    InputFormat suggested_format = InputFormat::kAuto;
  };
  std::vector<InputWarning> input_warnings;

  // Inputs that could not be read to their end (a truncated .zst, an I/O error): the
  // records before the damage were scanned, the scan went on with the next input.
  std::vector<std::string> input_errors;

  // When this scan resumed an interrupted one: where each input was taken up again. The
  // counts above then cover only what this run read.
  std::vector<std::string> resumed;

  // A stop request (ScanOptions::stop) ended the scan before the end of its inputs; what
  // was read is committed.
  bool interrupted = false;
  // The scan committed checkpoints (every input a regular file): if interrupted, running
  // the scan again with ScanOptions::resume continues where this one stopped.
  bool resumable = false;
};

// What a Scanner's rules contain, for reports and for reading verdicts: the indexes in a
// Verdict (HolderVerdict::holder, Signal::index, Signal::genuine_photo, Verdict::cue_hits)
// are positions in these vectors. Plain value, fixed when the Scanner is created.
struct RulesInfo {
  struct Holder {
    std::string id;
    std::vector<std::string> product_ids;  // Signal::index of kPrice and kImage signals
  };
  std::vector<Holder> holders;  // sorted by id

  struct CueRule {
    std::string id;
    int version = 1;
    bool shadow = false;  // evaluated and counted, never scored
  };
  std::vector<CueRule> cue_rules;  // in cues.yaml order, `off` rules included

  // Every products[].images entry, holder by holder, product by product.
  struct GenuinePhoto {
    std::string path;        // relative to the rules directory, as reported in reasons
    int quality = 0;         // PDQ quality 0..100
    bool too_plain = false;  // below image.min_quality: never matched
  };
  std::vector<GenuinePhoto> genuine_photos;
  int genuine_photos_hashed = 0;  // decoded by Create (the rest came from the cache)
  // The local-feature stage (ScannerOptions::edited_photos): "on: <n> photos, <k>
  // keypoints", "off" (not asked for, or no genuine photos), or "unavailable: <why>" (a
  // build without OpenCV).
  std::string photo_features = "off";
  // Keypoints that must agree for a local-feature match (reported in its evidence).
  int photo_features_min_inliers = 0;

  int patterns = 0;  // text patterns compiled
  // A digest of everything loaded that can change a decision: every field of the rule pack
  // (but where it was written) and the bytes of every genuine photo. Recorded with every
  // case and part of a scan's resume identity (16 hex digits; docs/outbox-format.md).
  std::string rules_version;
  bool loaded_from_cache = false;  // the compiled text database came from the cache

  std::string image_root;  // ScannerOptions::image_root
  // An image root is set, and genuine photos or photos of confirmed counterfeit cases
  // (ScannerOptions::feedback) exist.
  bool reads_images = false;

  // What loading the rules found suspicious but legal (two rights holders claiming one
  // brand, a stray file in rights_holders/), one `file:line:column: warning: message` each,
  // in file order; empty when there is nothing to report.
  std::vector<std::string> warnings;
};

// Thread-safe: Scan() may run concurrently on different Scratch objects; ScanFiles() runs
// its own threads. Not copyable.
class BONAFIDE_EXPORT Scanner {
 public:
  // Loads, validates and compiles `options.rules_dir`. Returns NotFound / InvalidArgument
  // with `file:line:column` for rule errors.
  static absl::StatusOr<std::unique_ptr<Scanner>> Create(const ScannerOptions& options);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Per-thread state (Hyperscan scratch, normalisation buffers, image decoder, PDQ hasher
  // and photo-bank query buffers). One per thread; keeps a
  // reference to the Scanner that made it, which must outlive it, and works with that
  // Scanner only (Scan aborts, naming the mistake, when given another's). Not copyable.
  class BONAFIDE_EXPORT Scratch {
   public:
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

   private:
    friend class Scanner;
    struct Impl;
    explicit Scratch(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };
  absl::StatusOr<std::unique_ptr<Scratch>> NewScratch() const;

  // Judges one listing into `verdict` (cleared first). Returns InvalidArgument, with
  // `verdict` holding no holder and the message also in verdict.reject_reason, when the
  // listing is not one a scan accepts: ValidateListing() fails (bonafide/listing.h; the
  // message is the one a dump reader gives such a record), or its currency has no rate in
  // the rules' policy (`unknown currency: "XYZ" ...`). Does not allocate once `scratch`
  // and `verdict` have grown to the sizes the input needs, except for a refused listing's
  // message, inside OpenCV's codecs when the listing's photos are read
  // (ScannerOptions::image_root), for the messages of photos that could not be read, and
  // for a photo's hash stored in the photo-hash cache. Reading photos does file I/O on the
  // calling thread, and so does the photo-hash cache (SQLite reads per photo, a write
  // transaction per 512 photos hashed).
  // REQUIRES: `scratch` came from this scanner (checked: a scratch of another Scanner
  // aborts the process with a message) and no other thread uses it.
  absl::Status Scan(const Listing& listing, Scratch& scratch, Verdict& verdict) const;

  // Explains the verdict on `listing` (bonafide/explain.h): every rights holder it
  // references, each signal that held and each that did not and why, then the holders of
  // `also_holders` it does not reference. Reads the listing's photos whenever an image
  // root is set. A slow path (it formats strings), for `bonafide explain` and portals.
  // REQUIRES: as for Scan.
  ListingExplanation Explain(const Listing& listing, Scratch& scratch,
                             const std::vector<std::string>& also_holders = {}) const;

  // Fills `record` with the case of `holder` (one of verdict.holders) for the outbox:
  // reasons with matched text and place, evidence with the listing snapshot.
  void MakeCaseRecord(const Listing& listing, const Verdict& verdict, const HolderVerdict& holder,
                      CaseRecord& record) const;

  // Scans every input (files, or "-" for stdin) through the parallel pipeline, writing
  // cases to `sink` in input order and rejects to options.rejects_path. Returns the summary
  // (marked `interrupted` after a stop request), or an error that stopped the scan (an
  // unreadable input, a failing sink). Keeps no reference to its arguments after the call.
  absl::StatusOr<ScanSummary> ScanFiles(const std::vector<std::string>& inputs, CaseSink& sink,
                                        const ScanOptions& options) const;

  // Runs every cue rule's embedded examples, and every brand's and product's (titles that
  // must or must not name their rights holder); returns one message per failure
  // (`file:line:column: rule "id": example "..." should match`, `...: brand "Apple":
  // example "..." should not name "apple"`), empty when all pass.
  std::vector<std::string> CheckExamples() const;

  // Returns what the rules contain. The reference is valid as long as the Scanner.
  const RulesInfo& rules_info() const;

  // Returns the name of a Signal::variant: "original", "rotate90", "rotate180",
  // "rotate270", "flip_x", "flip_y", "transpose", "transverse".
  static const char* ImageVariantName(int variant);
  // Returns the name of a Signal::stage: "pdq", "pdq_trimmed", "features".
  static const char* ImageStageName(int stage);
  // Returns the canonical 64-digit hex of an ImageResult's hash.
  static std::string ImageHashHex(const ImageResult& image);

 private:
  struct Impl;
  explicit Scanner(std::unique_ptr<Impl> impl);
  // Scan of a listing the dump reader made, which passed the same checks as
  // ValidateListing already: the scan pipeline (engine::ScanRun) skips doing them twice.
  friend class engine::ScanRun;
  absl::Status ScanRead(const Listing& listing, Scratch& scratch, Verdict& verdict) const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace bonafide

#endif  // BONAFIDE_SCANNER_H_
