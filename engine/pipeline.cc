// Scanner::ScanFiles: the oneTBB pipeline.
//
//   read (serial, in order)  ->  parse + scan (parallel)  ->  sink (serial, in order)
//
// Batches are whole input chunks (about 1 MiB). The serial stages keep input order, so the
// outbox, the rejects file and the counters are the same for any number of threads. The
// number of batches in flight is bounded (threads x tokens_per_thread), which bounds memory.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include <tbb/concurrent_queue.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include "bonafide/scanner.h"
#include "engine/listing_input.h"
#include "util/hash.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide {
namespace {

// Listing photo counters of a batch (ScanSummary::ImageCounts without the names).
struct ImageTally {
  static constexpr int kStatuses = static_cast<int>(ImageStatus::kUnreadable) + 1;
  int64_t photos = 0, not_read = 0, matched = 0;
  int64_t by_status[kStatuses] = {};

  void Add(const Listing& listing, const Verdict& verdict) {
    photos += static_cast<int64_t>(listing.images.size());
    if (verdict.images.empty()) {
      not_read += static_cast<int64_t>(listing.images.size());
      return;
    }
    for (const ImageResult& r : verdict.images) {
      ++by_status[static_cast<int>(r.status)];
      matched += r.matched;
    }
  }
  void Merge(const ImageTally& o) {
    photos += o.photos;
    not_read += o.not_read;
    matched += o.matched;
    for (int i = 0; i < kStatuses; ++i) by_status[i] += o.by_status[i];
  }
};

// One pipeline token: a chunk of input and everything computed from it.
struct Batch {
  engine::InputChunk chunk;
  engine::ParsedBatch parsed;
  std::vector<engine::InputSource::SkippedRecord> skipped;
  std::vector<CaseRecord> cases;
  std::vector<CaseRecord> spare_cases;  // records of earlier chunks, kept for their capacity
  int64_t scanned = 0;
  std::vector<int64_t> holder_flagged;
  std::vector<int64_t> cue_listings;
  int64_t price_listings = 0;
  int64_t obfuscated_listings = 0;
  int64_t image_listings = 0;
  ImageTally images;
  std::string input_error;   // set on the last batch of an input that failed
  bool input_done = false;   // the last batch of an input: its checkpoint says done
  uint64_t skip_before = 0;  // resuming: records before this offset were scanned already
  uint64_t next_line = 1;    // line number of the first record after this batch
  uint64_t bytes_consumed = 0, total_bytes = 0;  // of the input, for progress

  CaseRecord& NewCase() {
    if (spare_cases.empty()) return cases.emplace_back();
    cases.push_back(std::move(spare_cases.back()));
    spare_cases.pop_back();
    return cases.back();
  }

  void Reset(int holders, int cues) {
    parsed.Clear();
    skipped.clear();
    for (CaseRecord& c : cases) spare_cases.push_back(std::move(c));
    cases.clear();
    scanned = 0;
    holder_flagged.assign(holders, 0);
    cue_listings.assign(cues, 0);
    price_listings = 0;
    obfuscated_listings = 0;
    image_listings = 0;
    images = ImageTally{};
    input_error.clear();
    input_done = false;
    skip_before = 0;
    chunk.data.clear();
  }

  // Drops the listings and rejects before `skip_before` (a resumed scan's first chunk).
  void DropRecordsBeforeResumePoint() {
    if (skip_before == 0) return;
    size_t kept = 0;
    for (size_t i = 0; i < parsed.listings_size; ++i) {
      if (parsed.listings[i].byte_offset >= skip_before) {
        if (kept != i) std::swap(parsed.listings[kept], parsed.listings[i]);
        ++kept;
      }
    }
    parsed.listings_size = kept;
    std::erase_if(parsed.rejects,
                  [&](const engine::Reject& r) { return r.byte_offset < skip_before; });
    std::erase_if(skipped, [&](const engine::InputSource::SkippedRecord& r) {
      return r.byte_offset < skip_before;
    });
  }
};

struct Worker {
  engine::ChunkParser parser;
  std::unique_ptr<Scanner::Scratch> scratch;
  Verdict verdict;
};

// Writes rejects as JSON Lines: {"input":..., "line":..., "offset":..., "reason":...}.
class RejectsWriter {
 public:
  // Opens `path` afresh, or, when resuming, cut back to `keep_bytes` (the size recorded in
  // the last committed checkpoint: rejects written after it belong to records that will be
  // read again).
  static absl::StatusOr<std::unique_ptr<RejectsWriter>> Open(const std::string& path,
                                                             std::optional<uint64_t> keep_bytes) {
    auto w = std::make_unique<RejectsWriter>();
    if (path.empty()) return w;
    if (keep_bytes.has_value() && ::truncate(path.c_str(), static_cast<off_t>(*keep_bytes)) == 0) {
      w->file_ = std::fopen(path.c_str(), "a");
    } else {
      w->file_ = std::fopen(path.c_str(), "w");
    }
    if (w->file_ == nullptr) {
      return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write rejects file"));
    }
    return w;
  }
  // Flushes and returns the file's size (0 when not writing), for checkpoints.
  uint64_t FlushedSize() {
    if (file_ == nullptr) return 0;
    std::fflush(file_);
    return static_cast<uint64_t>(std::ftell(file_));
  }
  ~RejectsWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  void Write(const std::string& input, uint64_t line, uint64_t offset, const std::string& reason,
             const std::string& id) {
    if (file_ == nullptr) return;
    line_.clear();
    JsonObject json(line_);
    json.String("input", input).Int("line", static_cast<int64_t>(line));
    json.Int("offset", static_cast<int64_t>(offset)).String("reason", reason);
    if (!id.empty()) json.String("id", id);
    json.Close();
    line_.push_back('\n');
    std::fwrite(line_.data(), 1, line_.size(), file_);
  }
  absl::Status Close(const std::string& path) {
    if (file_ == nullptr) return absl::OkStatus();
    const bool ok = std::fflush(file_) == 0 && std::ferror(file_) == 0;
    std::fclose(file_);
    file_ = nullptr;
    if (!ok) return absl::ResourceExhaustedError(absl::StrCat(path, ": write failed"));
    return absl::OkStatus();
  }

 private:
  std::FILE* file_ = nullptr;
  std::string line_;
};

void FillImageCounts(const Scanner& scanner, const ImageTally& t, ScanSummary::ImageCounts& out) {
  using S = ImageStatus;
  auto n = [&](S s) { return t.by_status[static_cast<int>(s)]; };
  out.photos = t.photos;
  out.not_read = t.not_read;
  out.hashed = n(S::kHashed) + n(S::kTooPlain);
  out.too_plain = n(S::kTooPlain);
  out.matched = t.matched;
  for (S s : {S::kMissing, S::kOutsideRoot, S::kTooLarge, S::kUnreadable}) {
    if (n(s) > 0) out.failed_by_reason.emplace_back(ImageStatusName(s), n(s));
  }
  std::stable_sort(out.failed_by_reason.begin(), out.failed_by_reason.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  out.image_root_set = !scanner.image_root().empty();
  out.genuine_photos = scanner.genuine_photo_count();
  for (int p = 0; p < scanner.genuine_photo_count(); ++p) {
    if (scanner.genuine_photo_too_plain(p)) {
      out.too_plain_genuine.push_back(scanner.genuine_photo_path(p));
    }
  }
}

// Size and modification time of a regular file ("" for stdin and the like): a checkpoint
// is only trusted for the very file it was taken on.
std::string InputIdentity(const std::string& path) {
  struct stat st;
  if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  return absl::StrCat(st.st_size, ":", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec);
}

// Records of one input read in this run, for the summary's input warnings.
struct InputRecordCounts {
  int64_t records = 0, rejected = 0;
  void Add(int64_t scanned, size_t rejects) {
    records += scanned + static_cast<int64_t>(rejects);
    rejected += static_cast<int64_t>(rejects);
  }
};

// Warns about each input read from its start that gave no listing: it held no records,
// or every record was rejected (then with the format it looks like, when that is not the
// format it was read as: a CSV file read as JSON Lines rejects every line).
void AddInputWarnings(const std::vector<std::string>& inputs,
                      const std::vector<std::unique_ptr<engine::InputSource>>& sources,
                      const std::vector<std::optional<ScanCheckpoint>>& resume_at,
                      const std::vector<InputRecordCounts>& counts,
                      std::vector<ScanSummary::InputWarning>& out) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (resume_at[i].has_value()) continue;  // counts cover only part of it
    ScanSummary::InputWarning w;
    w.input = inputs[i];
    if (counts[i].records == 0) {
      w.kind = ScanSummary::InputWarning::Kind::kNoRecords;
    } else if (counts[i].rejected == counts[i].records) {
      w.kind = ScanSummary::InputWarning::Kind::kEveryRecordRejected;
      w.records = counts[i].records;
      const InputFormat apparent = sources[i]->apparent_format();
      if (apparent != InputFormat::kAuto && apparent != sources[i]->format()) {
        w.suggested_format = apparent;
      }
    } else {
      continue;
    }
    out.push_back(std::move(w));
  }
}

}  // namespace

absl::StatusOr<ScanSummary> Scanner::ScanFiles(const std::vector<std::string>& inputs,
                                               CaseSink& sink, const ScanOptions& options) const {
  const auto start = std::chrono::steady_clock::now();
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int holders = holder_count();
  const int cues = cue_rule_count();

  std::vector<std::unique_ptr<engine::InputSource>> sources;
  for (size_t i = 0; i < inputs.size(); ++i) {
    engine::InputOptions input_options;
    input_options.chunk_bytes = reads_images()
                                    ? std::min(options.chunk_bytes, options.photo_chunk_bytes)
                                    : options.chunk_bytes;
    input_options.input_index = static_cast<int>(i);
    input_options.format = options.input_format;
    BONAFIDE_ASSIGN_OR_RETURN(auto source, engine::InputSource::Open(inputs[i], input_options));
    sources.push_back(std::move(source));
  }

  // Resuming: the same inputs (same sizes and times) and rules as an interrupted scan whose
  // checkpoints are in the sink.
  std::vector<std::string> identities;
  Hasher128 run_hasher;
  run_hasher.Add(rules_version());
  bool resumable = options.resume;
  for (const std::string& input : inputs) {
    identities.push_back(InputIdentity(input));
    resumable &= !identities.back().empty();
    run_hasher.Add(input);
    run_hasher.Add(identities.back());
  }
  const std::string run = resumable ? run_hasher.Hex() : "";
  std::vector<std::optional<ScanCheckpoint>> resume_at(inputs.size());
  std::optional<uint64_t> keep_rejects_bytes;
  ScanSummary summary;
  if (resumable) {
    BONAFIDE_ASSIGN_OR_RETURN(std::vector<ScanCheckpoint> checkpoints, sink.LoadCheckpoints(run));
    for (const ScanCheckpoint& c : checkpoints) {
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i] == c.input && identities[i] == c.identity) resume_at[i] = c;
      }
      keep_rejects_bytes = std::max(keep_rejects_bytes.value_or(0), c.rejects_bytes);
      summary.resumed.push_back(c.done ? absl::StrCat(c.input, ": already scanned")
                                       : absl::StrCat(c.input, ": from line ", c.line));
    }
  }
  BONAFIDE_ASSIGN_OR_RETURN(auto rejects,
                            RejectsWriter::Open(options.rejects_path, keep_rejects_bytes));

  for (int h = 0; h < holders; ++h) summary.holders.push_back({holder_id(h), 0});
  std::vector<int64_t> cue_listings(cues, 0);
  int64_t price_listings = 0, obfuscated_listings = 0, image_listings = 0;
  ImageTally images;
  absl::flat_hash_map<std::string, int64_t> reject_classes;
  std::vector<InputRecordCounts> input_records(inputs.size());

  tbb::enumerable_thread_specific<std::unique_ptr<Worker>> workers;

  std::vector<std::unique_ptr<Batch>> all_batches;
  tbb::concurrent_queue<Batch*> free_batches;
  size_t current = 0;
  absl::Status sink_status;
  std::atomic<bool> stop{false};  // relaxed: only ends reading early after a sink failure
  int64_t cases_written = 0;

  auto read = [&](tbb::flow_control& fc) -> Batch* {
    while (current < sources.size() && !stop.load(std::memory_order_relaxed)) {
      const std::optional<ScanCheckpoint>& at = resume_at[current];
      if (at.has_value() && at->done) {  // finished before the interruption
        ++current;
        continue;
      }
      Batch* b = nullptr;
      if (!free_batches.try_pop(b)) {
        all_batches.push_back(std::make_unique<Batch>());
        b = all_batches.back().get();
      }
      b->Reset(holders, cues);
      engine::InputSource& source = *sources[current];
      absl::StatusOr<bool> more = source.Next(b->chunk);
      b->skipped = source.TakeSkipped();
      b->chunk.input_index = static_cast<int>(current);
      b->bytes_consumed = source.bytes_consumed();
      b->total_bytes = source.total_bytes();
      b->next_line = b->chunk.first_line + CountByte(b->chunk.data, '\n');
      if (at.has_value()) {
        // Chunks wholly before the resume point were scanned by the interrupted run.
        const uint64_t end = b->chunk.first_offset + b->chunk.data.size();
        if (more.ok() && *more && end <= at->byte_offset) {
          free_batches.push(b);
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
        ++current;
      }
      return b;
    }
    fc.stop();
    return nullptr;
  };

  auto scan = [&](Batch* b) -> Batch* {
    if (b->chunk.data.empty()) {
      b->DropRecordsBeforeResumePoint();
      return b;
    }
    std::unique_ptr<Worker>& slot = workers.local();
    if (slot == nullptr) {
      slot = std::make_unique<Worker>();
      auto scratch = NewScratch();
      BONAFIDE_CHECK(scratch.ok());  // fails only when out of memory
      slot->scratch = std::move(*scratch);
    }
    Worker& w = *slot;
    w.parser.Parse(b->chunk, b->parsed);
    b->DropRecordsBeforeResumePoint();
    const size_t parse_rejects = b->parsed.rejects.size();
    for (size_t i = 0; i < b->parsed.listings_size; ++i) {
      const Listing& listing = b->parsed.listings[i];
      Scan(listing, *w.scratch, w.verdict);
      if (!w.verdict.reject_reason.empty()) {
        b->parsed.rejects.push_back({b->chunk.input_index, listing.line_number, listing.byte_offset,
                                     w.verdict.reject_reason, w.verdict.reject_class, listing.id});
        continue;
      }
      ++b->scanned;
      for (int32_t c : w.verdict.cue_hits) ++b->cue_listings[c];
      bool price = false, obfuscated = false, image = false;
      for (const Signal& s : w.verdict.signals) {
        price |= s.kind == SignalKind::kPrice;
        obfuscated |= s.kind == SignalKind::kObfuscatedBrand;
        image |= s.kind == SignalKind::kImage;
      }
      b->price_listings += price;
      b->obfuscated_listings += obfuscated;
      b->image_listings += image;
      b->images.Add(listing, w.verdict);
      for (const HolderVerdict& hv : w.verdict.holders) {
        if (!hv.case_opened) continue;
        ++b->holder_flagged[hv.holder];
        MakeCaseRecord(listing, w.verdict, hv, b->NewCase());
      }
    }
    if (b->parsed.rejects.size() != parse_rejects) {
      std::stable_sort(
          b->parsed.rejects.begin(), b->parsed.rejects.end(),
          [](const engine::Reject& x, const engine::Reject& y) { return x.line < y.line; });
    }
    return b;
  };

  auto write = [&](Batch* b) {
    const std::string& input = inputs[b->chunk.input_index];
    auto reject = [&](uint64_t line, uint64_t offset, const std::string& reason,
                      const std::string& reason_class, const std::string& id) {
      rejects->Write(input, line, offset, reason, id);
      ++reject_classes[reason_class];
      ++summary.rejected;
    };
    for (const auto& s : b->skipped) reject(s.line, s.byte_offset, s.reason, s.reason_class, "");
    for (const auto& r : b->parsed.rejects) {
      reject(r.line, r.byte_offset, r.reason, r.reason_class, r.listing_id);
    }
    input_records[b->chunk.input_index].Add(b->scanned,
                                            b->skipped.size() + b->parsed.rejects.size());
    summary.scanned += b->scanned;
    summary.bytes_read += b->chunk.data.size();
    for (int c = 0; c < cues; ++c) cue_listings[c] += b->cue_listings[c];
    price_listings += b->price_listings;
    obfuscated_listings += b->obfuscated_listings;
    image_listings += b->image_listings;
    images.Merge(b->images);
    for (int h = 0; h < holders; ++h) summary.holders[h].cases += b->holder_flagged[h];
    if (!b->input_error.empty()) summary.input_errors.push_back(b->input_error);
    if (sink_status.ok()) {
      // The cases and the position after them commit together; the rejects before them are
      // flushed first, so a resumed scan can cut the rejects file back to this point.
      ScanCheckpoint checkpoint;
      if (!run.empty()) {
        const int i = b->chunk.input_index;
        checkpoint.run = run;
        checkpoint.input = inputs[i];
        checkpoint.identity = identities[i];
        checkpoint.byte_offset = b->chunk.first_offset + b->chunk.data.size();
        checkpoint.line = b->next_line;
        checkpoint.rejects_bytes = rejects->FlushedSize();
        checkpoint.done = b->input_done;
      }
      absl::StatusOr<OutboxWriteStats> stats =
          sink.Write(b->cases, run.empty() ? nullptr : &checkpoint);
      if (!stats.ok()) {
        sink_status = stats.status();
        stop.store(true, std::memory_order_relaxed);
      } else {
        summary.outbox.opened += stats->opened;
        summary.outbox.updated += stats->updated;
        summary.outbox.unchanged += stats->unchanged;
        cases_written += static_cast<int64_t>(b->cases.size());
      }
      if (options.on_case) {
        for (const CaseRecord& c : b->cases) options.on_case(c);
      }
    }
    if (options.on_progress) {
      ScanProgress p;
      p.listings_read = summary.scanned + summary.rejected;
      p.cases = cases_written;
      p.input_index = b->chunk.input_index;
      p.bytes_consumed = b->bytes_consumed;
      p.total_bytes = b->total_bytes;
      p.elapsed_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      options.on_progress(p);
    }
    free_batches.push(b);
  };

  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_pipeline(
        static_cast<size_t>(threads) * std::max(1, options.tokens_per_thread),
        tbb::make_filter<void, Batch*>(tbb::filter_mode::serial_in_order, read) &
            tbb::make_filter<Batch*, Batch*>(tbb::filter_mode::parallel, scan) &
            tbb::make_filter<Batch*, void>(tbb::filter_mode::serial_in_order, write));
  });
  BONAFIDE_RETURN_IF_ERROR(sink_status);
  BONAFIDE_RETURN_IF_ERROR(rejects->Close(options.rejects_path));
  // The scan is complete: the next run of the same command is a fresh rescan.
  if (!run.empty()) BONAFIDE_RETURN_IF_ERROR(sink.ClearCheckpoints(run));

  summary.listings_read = summary.scanned + summary.rejected;
  summary.elapsed_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int c = 0; c < cues; ++c) {
    summary.rules.push_back(
        {cue_rule_id(c), cue_rule_version(c), cue_rule_shadow(c), cue_listings[c]});
  }
  summary.rules.push_back({"price", 0, false, price_listings});
  summary.rules.push_back({"image", 0, false, image_listings});
  summary.rules.push_back({"obfuscated_brand", 0, false, obfuscated_listings});
  FillImageCounts(*this, images, summary.images);
  AddInputWarnings(inputs, sources, resume_at, input_records, summary.input_warnings);
  for (const auto& [reason, count] : reject_classes) {
    summary.rejects_by_reason.emplace_back(reason, count);
  }
  std::sort(summary.rejects_by_reason.begin(), summary.rejects_by_reason.end(),
            [](const auto& a, const auto& b) {
              return a.second != b.second ? a.second > b.second : a.first < b.first;
            });
  return summary;
}

}  // namespace bonafide
