#include "engine/scan_run.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include "engine/rejects_file.h"
#include "util/hash.h"
#include "util/sort.h"
#include "util/status_macros.h"

namespace bonafide::engine {

void ScanTally::Reset(size_t cues) {
  scanned = 0;
  cue_listings.assign(cues, 0);
  signals = {};
  photos = photos_not_read = photos_matched = 0;
  photos_from_cache = photos_from_listing = 0;
  std::fill(std::begin(photos_by_status), std::end(photos_by_status), 0);
}

void ScanTally::Add(const Listing& listing, const Verdict& verdict) {
  ++scanned;
  for (int32_t c : verdict.cue_hits) ++cue_listings[c];
  bool price = false, obfuscated = false, image = false, known_photo = false, record = false;
  for (const Signal& s : verdict.signals) {
    price |= s.kind == SignalKind::kPrice;
    obfuscated |= s.kind == SignalKind::kObfuscatedBrand;
    image |= s.kind == SignalKind::kImage;
    known_photo |= s.kind == SignalKind::kKnownCounterfeitPhoto;
    record |= s.kind == SignalKind::kSellerRecord;
  }
  signals.price += price;
  signals.image += image;
  signals.obfuscated_brand += obfuscated;
  signals.known_counterfeit_photo += known_photo;
  signals.seller_record += record;
  photos += static_cast<int64_t>(listing.images.size());
  if (verdict.images.empty()) {
    photos_not_read += static_cast<int64_t>(listing.images.size());
    return;
  }
  for (const ImageResult& r : verdict.images) {
    if (r.status == ImageStatus::kNotRead) {
      ++photos_not_read;
      continue;
    }
    ++photos_by_status[static_cast<int>(r.status)];
    photos_matched += r.matched;
    const bool hashed = r.status == ImageStatus::kHashed || r.status == ImageStatus::kTooPlain;
    photos_from_cache += hashed && r.source == HashSource::kCache;
    photos_from_listing += hashed && r.source == HashSource::kListing;
  }
}

void ScanTally::Merge(const ScanTally& o) {
  scanned += o.scanned;
  for (size_t c = 0; c < cue_listings.size(); ++c) cue_listings[c] += o.cue_listings[c];
  signals.price += o.signals.price;
  signals.image += o.signals.image;
  signals.obfuscated_brand += o.signals.obfuscated_brand;
  signals.known_counterfeit_photo += o.signals.known_counterfeit_photo;
  signals.seller_record += o.signals.seller_record;
  photos += o.photos;
  photos_not_read += o.photos_not_read;
  photos_matched += o.photos_matched;
  photos_from_cache += o.photos_from_cache;
  photos_from_listing += o.photos_from_listing;
  for (int i = 0; i < kImageStatuses; ++i) photos_by_status[i] += o.photos_by_status[i];
}

// Copies of short strings that stay where they are until Reset (views into it stay valid):
// blocks of at least 64 KiB, kept for reuse.
class StringArena {
 public:
  std::string_view Copy(std::string_view s) {
    if (used_ == blocks_.size() || blocks_[used_].capacity - blocks_[used_].size < s.size()) {
      if (used_ < blocks_.size()) ++used_;
      if (used_ == blocks_.size() || blocks_[used_].capacity < s.size()) {
        const size_t capacity = std::max(kBlockBytes, s.size());
        blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(used_),
                       Block{std::make_unique<char[]>(capacity), 0, capacity});
      }
    }
    Block& block = blocks_[used_];
    char* at = block.bytes.get() + block.size;
    std::memcpy(at, s.data(), s.size());
    block.size += s.size();
    return std::string_view(at, s.size());
  }
  void Reset() {
    for (Block& block : blocks_) block.size = 0;
    used_ = 0;
  }

 private:
  static constexpr size_t kBlockBytes = 64 << 10;
  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t size = 0;
    size_t capacity = 0;
  };
  std::vector<Block> blocks_;
  size_t used_ = 0;  // the block being filled; blocks_.size() before the first Copy
};

// One pipeline token: a chunk of input and everything computed from it.
struct Batch {
  InputChunk chunk;
  // Rejects of the chunk; `listings` only holds the few being judged (see ScanRun::Scan).
  ParsedBatch parsed;
  std::vector<InputSource::SkippedRecord> skipped;
  std::vector<CaseRecord> cases;
  StringArena listing_keys;             // marketplaces and ids that `scanned` views
  std::vector<ScannedListing> scanned;  // each with its cases' range
  std::vector<CaseRecord> spare_cases;  // records of earlier chunks, kept for their capacity
  ScanTally tally;
  std::string input_error;   // set on the last batch of an input that failed
  bool input_done = false;   // the last batch of an input: its checkpoint says done
  uint64_t skip_before = 0;  // resuming: records before this offset were scanned already
  uint64_t next_line = 1;    // line number of the first record after this batch
  uint64_t bytes_consumed = 0, total_bytes = 0;  // of the input, for progress
  int64_t other_shards = 0;  // records left to the other shards (ScanOptions::shard)

  CaseRecord& NewCase() {
    if (spare_cases.empty()) return cases.emplace_back();
    cases.push_back(std::move(spare_cases.back()));
    spare_cases.pop_back();
    return cases.back();
  }

  void Reset(size_t cues) {
    parsed.Clear();
    skipped.clear();
    for (CaseRecord& c : cases) spare_cases.push_back(std::move(c));
    cases.clear();
    scanned.clear();
    listing_keys.Reset();
    tally.Reset(cues);
    other_shards = 0;
    input_error.clear();
    input_done = false;
    skip_before = 0;
    chunk.data.clear();
  }

  // Drops the rejects before `skip_before` (a resumed scan's first chunk; its listings
  // before that point are passed over where they are judged).
  void DropRejectsBeforeResumePoint() {
    if (skip_before == 0) return;
    std::erase_if(parsed.rejects, [&](const Reject& r) { return r.byte_offset < skip_before; });
    std::erase_if(skipped,
                  [&](const InputSource::SkippedRecord& r) { return r.byte_offset < skip_before; });
  }
};

// What one pipeline thread keeps from batch to batch.
struct ScanWorker {
  ChunkParser parser;
  std::unique_ptr<Scanner::Scratch> scratch;
  Verdict verdict;
  std::vector<Reject> scan_rejects;  // listings the scanner refused, in the batch at hand
};

namespace {

// Size and modification time of a regular file ("" for stdin and the like): a checkpoint
// is only trusted for the very file it was taken on.
std::string InputIdentity(const std::string& path) {
  struct stat st;
  if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  return absl::StrCat(st.st_size, ":", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec);
}

}  // namespace

ScanRun::ScanRun(const Scanner& scanner, const std::vector<std::string>& inputs, CaseSink& sink,
                 const ScanOptions& options)
    : scanner_(scanner),
      info_(scanner.rules_info()),
      inputs_(inputs),
      sink_(sink),
      options_(options),
      start_(std::chrono::steady_clock::now()) {}

ScanRun::~ScanRun() = default;

absl::Status ScanRun::Prepare() {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    InputOptions input_options;
    input_options.chunk_bytes = info_.reads_images
                                    ? std::min(options_.chunk_bytes, options_.photo_chunk_bytes)
                                    : options_.chunk_bytes;
    input_options.input_index = static_cast<int>(i);
    input_options.format = options_.input_format;
    BONAFIDE_ASSIGN_OR_RETURN(auto source, InputSource::Open(inputs_[i], input_options));
    sources_.push_back(std::move(source));
  }

  // Resuming: the same inputs (same sizes and times) and rules as an interrupted scan whose
  // checkpoints are in the sink. Files (not stdin) always leave checkpoints, also when this
  // run does not resume: a scan restarted from the start and killed in turn must resume
  // from its own progress, not from the older run's.
  Hasher128 run_hasher;
  run_hasher.Add(info_.rules_version);
  // Each shard is a run of its own: it resumes and publishes on its own.
  if (!options_.shard.whole()) run_hasher.Add(absl::StrCat("shard ", options_.shard.ToString()));
  bool resumable = true;
  for (const std::string& input : inputs_) {
    identities_.push_back(InputIdentity(input));
    resumable &= !identities_.back().empty();
    run_hasher.Add(input);
    run_hasher.Add(identities_.back());
  }
  run_ = resumable ? run_hasher.Hex() : "";
  // A scan that cannot resume still publishes its events as one run; its id only has to
  // differ from every other run's.
  if (resumable) {
    publish_run_ = run_;
  } else {
    run_hasher.Add(
        absl::StrCat(::getpid(), ":", std::chrono::system_clock::now().time_since_epoch().count()));
    publish_run_ = absl::StrCat("once:", run_hasher.Hex());
  }
  for (size_t h = 0; h < info_.holders.size(); ++h) holder_index_[info_.holders[h].id] = h;
  // Room for a hash per listing at a generous 64 bytes a record (capped): growing the
  // vector instead would touch twice the memory, and fresh pages are what costs here.
  uint64_t input_bytes = 0;
  for (const auto& source : sources_) input_bytes += source->total_bytes();
  listing_hashes_.reserve(std::min<uint64_t>(input_bytes / 64, uint64_t{1} << 24));
  resume_at_.resize(inputs_.size());
  input_records_.resize(inputs_.size());
  std::optional<uint64_t> keep_rejects_bytes;
  if (resumable && !options_.resume) BONAFIDE_RETURN_IF_ERROR(sink_.ClearCheckpoints(run_));
  if (resumable && options_.resume) {
    BONAFIDE_ASSIGN_OR_RETURN(std::vector<ScanCheckpoint> checkpoints, sink_.LoadCheckpoints(run_));
    for (const ScanCheckpoint& c : checkpoints) {
      for (size_t i = 0; i < inputs_.size(); ++i) {
        if (inputs_[i] == c.input && identities_[i] == c.identity) resume_at_[i] = c;
      }
      keep_rejects_bytes = std::max(keep_rejects_bytes.value_or(0), c.rejects_bytes);
      summary_.resumed.push_back(c.done ? absl::StrCat(c.input, ": already scanned")
                                        : absl::StrCat(c.input, ": from line ", c.line));
    }
  }
  BONAFIDE_ASSIGN_OR_RETURN(rejects_, RejectsFile::Open(options_.rejects_path, keep_rejects_bytes));
  totals_.Reset(info_.cue_rules.size());
  return absl::OkStatus();
}

Batch* ScanRun::Read() {
  while (current_ < sources_.size() && !sink_failed_.load(std::memory_order_relaxed)) {
    if (options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed)) {
      interrupted_ = true;
      return nullptr;
    }
    const std::optional<ScanCheckpoint>& at = resume_at_[current_];
    if (at.has_value() && at->done) {  // finished before the interruption
      ++current_;
      continue;
    }
    Batch* b = nullptr;
    if (!free_batches_.try_pop(b)) {
      all_batches_.push_back(std::make_unique<Batch>());
      b = all_batches_.back().get();
    }
    b->Reset(info_.cue_rules.size());
    InputSource& source = *sources_[current_];
    absl::StatusOr<bool> more = source.Next(b->chunk);
    b->skipped = source.TakeSkipped();
    b->chunk.input_index = static_cast<int>(current_);
    b->bytes_consumed = source.bytes_consumed();
    b->total_bytes = source.total_bytes();
    b->next_line = b->chunk.first_line + b->chunk.line_ends;
    if (at.has_value()) {
      // Chunks wholly before the resume point were scanned by the interrupted run.
      const uint64_t end = b->chunk.first_offset + b->chunk.data.size();
      if (more.ok() && *more && end <= at->byte_offset) {
        free_batches_.push(b);
        continue;
      }
      b->skip_before = at->byte_offset;
    }
    if (!more.ok()) {
      b->chunk.data.clear();
      b->input_error = std::string(more.status().message());
    }
    if (!more.ok() || !*more) {
      b->chunk.data.clear();
      b->input_done = true;
      ++current_;
    }
    batches_read_.fetch_add(1, std::memory_order_release);
    return b;
  }
  return nullptr;
}

Batch* ScanRun::Scan(Batch* b) {
  if (b->chunk.data.empty()) {
    b->DropRejectsBeforeResumePoint();
    return b;
  }
  std::unique_ptr<ScanWorker>& slot = workers_.local();
  if (slot == nullptr) {
    slot = std::make_unique<ScanWorker>();
    auto scratch = scanner_.NewScratch();
    BONAFIDE_CHECK(scratch.ok());  // fails only when out of memory
    slot->scratch = std::move(*scratch);
  }
  ScanWorker& w = *slot;
  const Shard shard = options_.shard;
  // A few records are parsed and judged at a time, in the same few Listing objects, so
  // that their text is still in the cache when it is judged and when the next ones are
  // parsed into them: a whole chunk's listings (megabytes, in thousands of strings) were
  // read back from memory, and written to memory cold.
  constexpr size_t kRecordsPerSlice = 32;
  w.scan_rejects.clear();
  ChunkParser::Cursor cursor;
  for (bool more = true; more;) {
    b->parsed.listings_size = 0;
    more = w.parser.ParseSome(b->chunk, b->parsed, cursor, kRecordsPerSlice);
    for (size_t i = 0; i < b->parsed.listings_size; ++i) {
      const Listing& listing = b->parsed.listings[i];
      if (listing.byte_offset < b->skip_before) continue;  // scanned before the resume
      if (!InShard(listing.marketplace, listing.id, shard)) {
        ++b->other_shards;
        continue;
      }
      if (!scanner_.ScanRead(listing, *w.scratch, w.verdict).ok()) {
        w.scan_rejects.push_back({b->chunk.input_index, listing.line_number, listing.byte_offset,
                                  w.verdict.reject_reason, w.verdict.reject_class, listing.id});
        continue;
      }
      b->tally.Add(listing, w.verdict);
      ScannedListing& scanned = b->scanned.emplace_back();
      scanned.marketplace = b->listing_keys.Copy(listing.marketplace);
      scanned.listing_id = b->listing_keys.Copy(listing.id);
      scanned.key_hash = ListingKeyHash(listing.marketplace, listing.id);
      scanned.cases_begin = static_cast<uint32_t>(b->cases.size());
      for (const HolderVerdict& hv : w.verdict.holders) {
        if (hv.case_opened) scanner_.MakeCaseRecord(listing, w.verdict, hv, b->NewCase());
      }
      scanned.cases_end = static_cast<uint32_t>(b->cases.size());
    }
  }
  b->DropRejectsBeforeResumePoint();
  if (!shard.whole() && shard.index != 0) {
    // A record that is not a listing has no key to shard by: shard 0 reports it, so that
    // the shards' rejects add up to an unsharded scan's.
    b->other_shards += static_cast<int64_t>(b->parsed.rejects.size() + b->skipped.size());
    b->parsed.rejects.clear();
    b->skipped.clear();
  }
  if (!w.scan_rejects.empty()) {
    for (Reject& r : w.scan_rejects) b->parsed.rejects.push_back(std::move(r));
    std::stable_sort(b->parsed.rejects.begin(), b->parsed.rejects.end(),
                     [](const Reject& x, const Reject& y) { return x.line < y.line; });
  }
  return b;
}

void ScanRun::WriteReject(const std::string& input, uint64_t line, uint64_t offset,
                          const std::string& reason, const std::string& reason_class,
                          const std::string& listing_id) {
  rejects_->Write(
      [&](JsonObject& json) {
        json.String("input", input).Int("line", static_cast<int64_t>(line));
        json.Int("offset", static_cast<int64_t>(offset));
      },
      reason, listing_id);
  ++reject_classes_[reason_class];
  ++summary_.rejected;
}

void ScanRun::Write(Batch* b) {
  const std::string& input = inputs_[b->chunk.input_index];
  for (const auto& s : b->skipped) {
    WriteReject(input, s.line, s.byte_offset, s.reason, s.reason_class, "");
  }
  for (const auto& r : b->parsed.rejects) {
    WriteReject(input, r.line, r.byte_offset, r.reason, r.reason_class, r.listing_id);
  }
  input_records_[b->chunk.input_index].Add(b->tally.scanned + b->other_shards,
                                           b->skipped.size() + b->parsed.rejects.size());
  other_shards_ += b->other_shards;
  summary_.bytes_read += b->chunk.data.size();
  totals_.Merge(b->tally);
  if (!b->input_error.empty()) summary_.input_errors.push_back(b->input_error);
  if (sink_status_.ok()) {
    // The cases and the position after them commit together; the rejects before them are
    // flushed first, so a resumed scan can cut the rejects file back to this point.
    ScanCheckpoint checkpoint;
    if (!run_.empty()) {
      const int i = b->chunk.input_index;
      checkpoint.run = run_;
      checkpoint.input = inputs_[i];
      checkpoint.identity = identities_[i];
      checkpoint.byte_offset = b->chunk.first_offset + b->chunk.data.size();
      checkpoint.line = b->next_line;
      checkpoint.rejects_bytes = rejects_->FlushedSize();
      checkpoint.done = b->input_done;
    }
    OutboxBatch batch;
    batch.run = publish_run_;
    batch.listings = b->scanned;
    batch.cases = b->cases;
    if (!run_.empty()) batch.checkpoints = {&checkpoint, 1};
    ++batches_written_;
    batch.defer_commit = DeferCommit(*b);
    absl::Status written = sink_.Write(batch).status();
    if (!written.ok()) {
      sink_status_ = std::move(written);
      sink_failed_.store(true, std::memory_order_relaxed);
    } else {
      CountListings(*b);
      uncommitted_cases_ += static_cast<int64_t>(b->cases.size());
      if (options_.on_case) {
        uncommitted_records_.insert(uncommitted_records_.end(), b->cases.begin(), b->cases.end());
      }
      commit_pending_ = batch.defer_commit;
      if (!batch.defer_commit) Committed();
    }
  }
  ReportProgress(*b);
  free_batches_.push(b);
}

// A commit writes every page its transaction changed to the WAL: the tables' last pages
// and the indexes' leaves where the batch's keys went, which the next transaction changes
// again. Committed every 1 MiB chunk, a first scan of 500k listings wrote twice the
// outbox's size to the WAL, and the commits were a third of the write stage. Batches are
// committed together up to ScanOptions::commit_bytes of input or one second, whichever
// comes first. The open transaction holds the outbox's write lock, which verdicts, the
// relay and other shards wait for: a batch is deferred only when a later one has been
// read already (being judged, it reaches this stage soon; a stalled stdin commits at
// once), and never in a scan that reads photos (a batch can take a second to judge, and
// its commit costs little beside that). So the last batch of a scan, stopped or not,
// always commits: nothing is read after it.
bool ScanRun::DeferCommit(const Batch& b) {
  constexpr std::chrono::seconds kCommitInterval(1);
  if (!sink_.DefersCommits() || info_.reads_images) return false;
  if (batches_read_.load(std::memory_order_acquire) <= batches_written_) return false;
  if (!commit_pending_) {
    bytes_since_commit_ = 0;
    group_start_ = std::chrono::steady_clock::now();
  }
  bytes_since_commit_ += b.chunk.data.size();
  return bytes_since_commit_ < options_.commit_bytes &&
         std::chrono::steady_clock::now() - group_start_ < kCommitInterval;
}

void ScanRun::Committed() {
  cases_written_ += uncommitted_cases_;
  uncommitted_cases_ = 0;
  // Only committed cases: a caller printing them must not show what the outbox lacks.
  for (const CaseRecord& c : uncommitted_records_) options_.on_case(c);
  uncommitted_records_.clear();
}

void ScanRun::ReportProgress(const Batch& b) {
  if (!options_.on_progress) return;
  ScanProgress p;
  p.listings_read = totals_.scanned + summary_.rejected + other_shards_;
  p.cases = cases_written_;
  p.input_index = b.chunk.input_index;
  p.bytes_consumed = b.bytes_consumed;
  p.total_bytes = b.total_bytes;
  p.elapsed_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  options_.on_progress(p);
}

int ScanRun::Threads() const {
  return options_.threads > 0 ? options_.threads
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

absl::StatusOr<ScanSummary> ScanRun::Run() {
  BONAFIDE_RETURN_IF_ERROR(Prepare());
  const int threads = Threads();
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_pipeline(
        static_cast<size_t>(threads) * std::max(1, options_.tokens_per_thread),
        tbb::make_filter<void, Batch*>(tbb::filter_mode::serial_in_order,
                                       [this](tbb::flow_control& fc) {
                                         Batch* b = Read();
                                         if (b == nullptr) fc.stop();
                                         return b;
                                       }) &
            tbb::make_filter<Batch*, Batch*>(tbb::filter_mode::parallel,
                                             [this](Batch* b) { return Scan(b); }) &
            tbb::make_filter<Batch*, void>(tbb::filter_mode::serial_in_order,
                                           [this](Batch* b) { Write(b); }));
  });
  // The last batch written committed the deferred ones (DeferCommit), unless a write
  // failed, which rolled them back.
  BONAFIDE_CHECK(!commit_pending_ || !sink_status_.ok());
  return Finish();
}

void ScanRun::CountListings(const Batch& b) {
  for (const ScannedListing& l : b.scanned) {
    listing_hashes_.push_back(l.key_hash);
    // The last record of a listing wins: a repeat takes the place of the earlier record's
    // cases (a flagged repeat adds its own below).
    if (const auto it = last_flagged_.find(l.key_hash); it != last_flagged_.end()) {
      for (size_t i = it->second.first; i < it->second.second; ++i) flagged_[i].superseded = true;
      last_flagged_.erase(it);
    }
    if (l.cases_end == l.cases_begin) continue;
    const size_t first = flagged_.size();
    for (uint32_t i = l.cases_begin; i < l.cases_end; ++i) {
      const auto it = holder_index_.find(b.cases[i].rights_holder);
      if (it != holder_index_.end()) flagged_.push_back({it->second, false});
    }
    last_flagged_[l.key_hash] = {first, flagged_.size()};
  }
}

void ScanRun::CountCasesAndDuplicates(ScanSummary& s) {
  for (size_t i = 1; i < listing_hashes_.size(); ++i) {
    if (listing_hashes_[i] == listing_hashes_[i - 1]) ++s.duplicates;
  }
  std::vector<int64_t> cases(info_.holders.size(), 0);
  for (const FlaggedCase& f : flagged_) {
    if (!f.superseded) ++cases[f.holder];
  }
  for (size_t h = 0; h < info_.holders.size(); ++h) {
    s.holders.push_back({info_.holders[h].id, cases[h]});
  }
}

absl::StatusOr<ScanSummary> ScanRun::Finish() {
  BONAFIDE_RETURN_IF_ERROR(sink_status_);
  BONAFIDE_RETURN_IF_ERROR(rejects_->Close());
  // The listings' hashes are sorted (to count duplicates) on a second thread, when the scan
  // may use one, during the publication: both come after the pipeline, on one core while
  // the other idled (the sort of 500k hashes took 8 ms).
  std::jthread sorter;
  if (Threads() > 1) sorter = std::jthread([this] { SortUint64(listing_hashes_); });
  // The run's events go out once it is complete. An interrupted run that can resume
  // publishes when the resumed scan completes; one that cannot (stdin) publishes now.
  if (!interrupted_ || run_.empty()) {
    BONAFIDE_ASSIGN_OR_RETURN(summary_.outbox, sink_.Publish(publish_run_));
  }
  // A complete scan forgets its checkpoints: the next run of the same command is a fresh
  // rescan. An interrupted one keeps them, so that the same command resumes it.
  if (!run_.empty() && !interrupted_) BONAFIDE_RETURN_IF_ERROR(sink_.ClearCheckpoints(run_));

  ScanSummary& s = summary_;
  s.interrupted = interrupted_;
  s.resumable = !run_.empty();
  s.scanned = totals_.scanned;
  s.other_shards = other_shards_;
  s.shard = options_.shard;
  s.listings_read = s.scanned + s.rejected + s.other_shards;
  if (sorter.joinable()) {
    sorter.join();
  } else {
    SortUint64(listing_hashes_);
  }
  s.elapsed_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  CountCasesAndDuplicates(s);
  for (size_t c = 0; c < info_.cue_rules.size(); ++c) {
    const RulesInfo::CueRule& rule = info_.cue_rules[c];
    s.rules.push_back({rule.id, rule.version, rule.shadow, totals_.cue_listings[c]});
  }
  s.signals = totals_.signals;

  using S = ImageStatus;
  auto n = [&](S status) { return totals_.photos_by_status[static_cast<int>(status)]; };
  ScanSummary::ImageCounts& im = s.images;
  im.photos = totals_.photos;
  im.not_read = totals_.photos_not_read;
  im.hashed = n(S::kHashed) + n(S::kTooPlain);
  im.too_plain = n(S::kTooPlain);
  im.matched = totals_.photos_matched;
  im.from_cache = totals_.photos_from_cache;
  im.from_listing = totals_.photos_from_listing;
  for (S status : {S::kMissing, S::kOutsideRoot, S::kTooLarge, S::kUnreadable}) {
    if (n(status) > 0) im.failed_by_reason.emplace_back(ImageStatusName(status), n(status));
  }
  std::stable_sort(im.failed_by_reason.begin(), im.failed_by_reason.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  im.image_root_set = !info_.image_root.empty();
  im.genuine_photos = static_cast<int64_t>(info_.genuine_photos.size());
  for (const RulesInfo::GenuinePhoto& photo : info_.genuine_photos) {
    if (photo.too_plain) im.too_plain_genuine.push_back(photo.path);
  }

  AddInputWarnings(s.input_warnings);
  for (const auto& [reason, count] : reject_classes_) {
    s.rejects_by_reason.emplace_back(reason, count);
  }
  std::sort(s.rejects_by_reason.begin(), s.rejects_by_reason.end(),
            [](const auto& a, const auto& b) {
              return a.second != b.second ? a.second > b.second : a.first < b.first;
            });
  return std::move(s);
}

void ScanRun::AddInputWarnings(std::vector<ScanSummary::InputWarning>& out) const {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (resume_at_[i].has_value()) continue;  // the counts cover only part of it
    const InputRecordCounts& counts = input_records_[i];
    ScanSummary::InputWarning w;
    w.input = inputs_[i];
    if (counts.records == 0) {
      w.kind = ScanSummary::InputWarning::Kind::kNoRecords;
    } else if (counts.rejected == counts.records) {
      w.kind = ScanSummary::InputWarning::Kind::kEveryRecordRejected;
      w.records = counts.records;
      const InputFormat apparent = sources_[i]->apparent_format();
      if (apparent != InputFormat::kAuto && apparent != sources_[i]->format()) {
        w.suggested_format = apparent;
      }
    } else {
      continue;
    }
    out.push_back(std::move(w));
  }
}

}  // namespace bonafide::engine
