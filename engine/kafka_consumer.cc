// ConsumeTopic: librdkafka's high-level consumer, one thread: poll, judge, hand to the
// OutboxWriter; partition assignments and revocations are handled in the rebalance callback,
// which librdkafka calls from inside the poll on the same thread.
#include "engine/kafka_consumer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

#include "bonafide/listing.h"
#include "bonafide/outbox.h"
#include "engine/rejects_file.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace bonafide::engine {

std::string ConsumerRun(std::string_view group, std::string_view topic) {
  return absl::StrCat("kafka:", ToAbsl(group), ":", ToAbsl(topic));
}

namespace {

constexpr int kPollMs = 100;
constexpr int kMetadataTimeoutMs = 10000;

// The checkpoint input naming a partition, and the one naming a rejects file.
std::string PartitionInput(std::string_view topic, int32_t partition) {
  return absl::StrCat(ToAbsl(topic), "/", partition);
}
std::string RejectsInput(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return absl::StrCat("rejects:", ec ? path : absolute.lexically_normal().string());
}

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};

// One ConsumeTopic call.
class ConsumeRun {
 public:
  ConsumeRun(const Scanner& scanner, const ConsumeOptions& options)
      : scanner_(scanner),
        options_(options),
        run_(ConsumerRun(options.group, options.topic)),
        rejects_input_(options.rejects_path.empty() ? "" : RejectsInput(options.rejects_path)) {}

  absl::StatusOr<ConsumeSummary> Run() {
    BONAFIDE_RETURN_IF_ERROR(Open());
    while (status_.ok() && !Stopping() && !AllAtEnd()) {
      std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(
          rd_kafka_consumer_poll(kafka_.get(), kPollMs));
      if (m != nullptr) Handle(*m);
    }
    summary_.interrupted = Stopping();
    // What was judged commits before the consumer leaves; leaving revokes the partitions,
    // whose callback flushes again (nothing left by then).
    absl::Status flushed = writer_->Flush();
    rd_kafka_consumer_close(kafka_.get());
    kafka_.reset();
    summary_.outbox = writer_->stats();
    absl::Status closed = writer_->Close();
    absl::Status rejects_closed = rejects_->Close();
    for (absl::Status* s : {&flushed, &closed, &rejects_closed}) {
      if (status_.ok() && !s->ok()) status_ = std::move(*s);
    }
    if (!status_.ok()) return status_;
    return summary_;
  }

 private:
  bool Stopping() const {
    // Relaxed: a flag set by a signal handler; nothing else is published through it.
    return options_.stop != nullptr && options_.stop->load(std::memory_order_relaxed);
  }

  // With exit_at_end: partitions are assigned and every one has been read to its end.
  bool AllAtEnd() const {
    if (!options_.exit_at_end || assigned_.empty()) return false;
    return std::all_of(assigned_.begin(), assigned_.end(), [](const auto& p) { return p.second; });
  }

  absl::Status Open() {
    if (options_.brokers.empty() || options_.topic.empty() || options_.group.empty() ||
        options_.outbox.empty()) {
      return absl::InvalidArgumentError("consume: brokers, topic, group and outbox are required");
    }
    BONAFIDE_ASSIGN_OR_RETURN(writer_, OutboxWriter::Open(options_.outbox, options_.writer));
    BONAFIDE_ASSIGN_OR_RETURN(reader_, OpenOutbox(options_.outbox, OutboxAccess::kReadOnly));
    BONAFIDE_ASSIGN_OR_RETURN(std::unique_ptr<Scanner::Scratch> scratch, scanner_.NewScratch());
    scratch_ = std::move(scratch);
    // The rejects written after this consumer's last commit belong to messages that will be
    // read again: cut them off.
    std::optional<uint64_t> keep_rejects;
    if (!rejects_input_.empty()) {
      BONAFIDE_ASSIGN_OR_RETURN(std::vector<ScanCheckpoint> checkpoints,
                                reader_->LoadCheckpoints(run_));
      for (const ScanCheckpoint& c : checkpoints) {
        if (c.input == rejects_input_) keep_rejects = c.rejects_bytes;
      }
    }
    BONAFIDE_ASSIGN_OR_RETURN(rejects_, RejectsFile::Open(options_.rejects_path, keep_rejects));
    return OpenKafka();
  }

  absl::Status OpenKafka() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    const int heartbeat_ms = std::clamp(options_.session_timeout_ms / 3, 1, 3000);
    const std::pair<const char*, std::string> settings[] = {
        {"bootstrap.servers", options_.brokers},
        {"group.id", options_.group},
        {"client.id", "bonafide-consume"},
        // Positions live in the outbox only.
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "true"},
        // Eager rebalancing: every revocation is whole, then a fresh assignment.
        {"partition.assignment.strategy", "range,roundrobin"},
        {"session.timeout.ms", absl::StrCat(options_.session_timeout_ms)},
        {"heartbeat.interval.ms", absl::StrCat(heartbeat_ms)},
    };
    char error[512];
    for (const auto& [name, value] : settings) {
      if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return absl::InvalidArgumentError(absl::StrCat("kafka: ", name, ": ", error));
      }
    }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_rebalance_cb(conf, &ConsumeRun::OnRebalance);
    rd_kafka_conf_set_error_cb(conf, &ConsumeRun::OnError);
    // A library does not print: the client's log lines are dropped, its errors are
    // returned (OnError, message errors).
    rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int, const char*, const char*) {});
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    if (rk == nullptr) {  // conf is still ours
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat("kafka: ", error));
    }
    kafka_.reset(rk);
    rd_kafka_poll_set_consumer(rk);
    BONAFIDE_RETURN_IF_ERROR(CheckTopicExists());
    std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter> topics(
        rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics.get()); err) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka: subscribe to \"", options_.topic, "\": ", rd_kafka_err2str(err)));
    }
    return absl::OkStatus();
  }

  // A subscription to a topic that does not exist would wait for it forever.
  absl::Status CheckTopicExists() {
    rd_kafka_topic_t* topic = rd_kafka_topic_new(kafka_.get(), options_.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(kafka_.get(), 0, topic, &metadata, kMetadataTimeoutMs);
    rd_kafka_topic_destroy(topic);
    if (err) {
      return absl::UnavailableError(absl::StrCat("kafka: brokers ", options_.brokers,
                                                 ": no metadata: ", rd_kafka_err2str(err)));
    }
    rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (metadata->topic_cnt == 1) topic_err = metadata->topics[0].err;
    rd_kafka_metadata_destroy(metadata);
    if (topic_err) {
      return absl::NotFoundError(
          absl::StrCat("kafka: topic \"", options_.topic, "\": ", rd_kafka_err2str(topic_err)));
    }
    return absl::OkStatus();
  }

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<ConsumeRun*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->Assign(rk, partitions);
    } else {
      self->Revoke(rk);
    }
  }

  // Starts every partition at the offset the outbox holds for it (at its beginning when
  // it has none).
  void Assign(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* partitions) {
    absl::flat_hash_map<std::string, uint64_t> next;
    absl::Status status = writer_->Flush();  // this consumer's own commits first (none left)
    if (status.ok()) {
      absl::StatusOr<std::vector<ScanCheckpoint>> checkpoints = reader_->LoadCheckpoints(run_);
      if (checkpoints.ok()) {
        for (const ScanCheckpoint& c : *checkpoints) next[c.input] = c.byte_offset;
      } else {
        status = checkpoints.status();
      }
    }
    if (!status.ok()) {
      Fail(std::move(status));
      rd_kafka_assign(rk, nullptr);
      return;
    }
    assigned_.clear();
    for (int i = 0; i < partitions->cnt; ++i) {
      rd_kafka_topic_partition_t& p = partitions->elems[i];
      const auto it = next.find(PartitionInput(p.topic, p.partition));
      p.offset = it == next.end() ? RD_KAFKA_OFFSET_BEGINNING : static_cast<int64_t>(it->second);
      assigned_[p.partition] = false;
    }
    if (const rd_kafka_resp_err_t e = rd_kafka_assign(rk, partitions); e) {
      Fail(absl::UnavailableError(absl::StrCat("kafka: assign: ", rd_kafka_err2str(e))));
    }
  }

  // Commits the listings in flight before the partitions go to another consumer. If that
  // fails they are dropped (and the run stops): the next owner reads them again. When the
  // group already gave the partitions away (this consumer stalled past its session), their
  // new owners may be judging the same messages: what is in flight is dropped, not
  // committed, and the run stops.
  void Revoke(rd_kafka_t* rk) {
    if (rd_kafka_assignment_lost(rk)) {
      constexpr std::string_view kLost =
          "the group gave this consumer's partitions to others (no heartbeat within the "
          "session timeout); their new owners read the uncommitted messages again";
      writer_->Discard(kLost);
      Fail(absl::AbortedError(absl::StrCat("kafka: ", ToAbsl(kLost))));
    } else if (absl::Status flushed = writer_->Flush(); !flushed.ok()) {
      Fail(std::move(flushed));
    }
    assigned_.clear();
    rd_kafka_assign(rk, nullptr);
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    if (err != RD_KAFKA_RESP_ERR__FATAL) return;  // the client retries the others itself
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    static_cast<ConsumeRun*>(opaque)->Fail(
        absl::UnavailableError(absl::StrCat("kafka: ", reason, ": ", fatal)));
  }

  void Fail(absl::Status status) {
    if (status_.ok()) status_ = std::move(status);
  }

  void Handle(const rd_kafka_message_t& m) {
    if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (const auto it = assigned_.find(m.partition); it != assigned_.end()) it->second = true;
      return;
    }
    if (m.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        m.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
      Fail(absl::NotFoundError(
          absl::StrCat("kafka: topic \"", options_.topic, "\": ", rd_kafka_message_errstr(&m))));
      return;
    }
    if (m.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
        m.err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
      Fail(absl::PermissionDeniedError(absl::StrCat("kafka: ", rd_kafka_message_errstr(&m))));
      return;
    }
    if (m.err) return;  // transient (a broker went away): the client retries
    const auto it = assigned_.find(m.partition);
    if (it == assigned_.end()) return;  // left over from a partition given up
    it->second = false;
    ++summary_.messages;
    ScanCheckpoint position;
    position.run = run_;
    position.input = PartitionInput(options_.topic, m.partition);
    position.byte_offset = static_cast<uint64_t>(m.offset) + 1;
    position.line = 0;
    const std::string_view payload(static_cast<const char*>(m.payload),
                                   m.payload == nullptr ? 0 : m.len);
    if (const absl::Status parsed = parser_.Parse(payload, listing_); !parsed.ok()) {
      Reject(m, position, ToStd(parsed.message()));
      return;
    }
    if (const absl::Status judged = scanner_.Scan(listing_, *scratch_, verdict_); !judged.ok()) {
      Reject(m, position, ToStd(judged.message()));
      return;
    }
    ++summary_.listings;
    JudgedListing judged{listing_.marketplace, listing_.id, {}};
    for (const HolderVerdict& h : verdict_.holders) {
      if (h.case_opened) {
        scanner_.MakeCaseRecord(listing_, verdict_, h, judged.cases.emplace_back());
      }
    }
    Fail(writer_->Add(std::move(judged), {&position, 1}));
  }

  // Writes the reject, then hands the writer the partition's new position together with
  // the rejects file's size: both commit with the next group.
  void Reject(const rd_kafka_message_t& m, const ScanCheckpoint& position,
              std::string_view reason) {
    ++summary_.rejected;
    rejects_->Write(
        [&](JsonObject& json) {
          json.String("topic", options_.topic)
              .Int("partition", m.partition)
              .Int("offset", m.offset);
        },
        reason, listing_.id);
    if (rejects_input_.empty()) {
      Fail(writer_->AddCheckpoints({&position, 1}));
      return;
    }
    ScanCheckpoint rejects_size;
    rejects_size.run = run_;
    rejects_size.input = rejects_input_;
    rejects_size.line = 0;
    rejects_size.rejects_bytes = rejects_->FlushedSize();
    const ScanCheckpoint both[] = {position, rejects_size};
    Fail(writer_->AddCheckpoints(both));
  }

  const Scanner& scanner_;
  const ConsumeOptions& options_;
  const std::string run_;
  const std::string rejects_input_;  // "" without a rejects file
  std::unique_ptr<OutboxWriter> writer_;
  std::unique_ptr<Outbox> reader_;  // reads the checkpoints
  std::unique_ptr<RejectsFile> rejects_;
  std::unique_ptr<rd_kafka_t, KafkaHandleDeleter> kafka_;
  // The assigned partitions, each with whether it has been read to its end.
  absl::flat_hash_map<int32_t, bool> assigned_;
  ListingJsonParser parser_;
  Listing listing_;
  std::unique_ptr<Scanner::Scratch> scratch_;
  Verdict verdict_;
  ConsumeSummary summary_;
  absl::Status status_;  // the first error; ends the run
};

}  // namespace

absl::StatusOr<ConsumeSummary> ConsumeTopic(const Scanner& scanner, const ConsumeOptions& options) {
  ConsumeRun run(scanner, options);
  return run.Run();
}

}  // namespace bonafide::engine
