// ConsumeTopic: judges the listings of a Kafka topic as a member of a consumer group and
// commits the cases with the consumed offsets in the outbox (`bonafide consume`,
// docs/cli.md).
//
//   engine::ConsumeOptions options;
//   options.brokers = "kafka-1:9092";  options.topic = "listings";  options.group = "bonafide";
//   options.outbox = "outbox.db";      options.rejects_path = "rejects.jsonl";
//   absl::StatusOr<engine::ConsumeSummary> summary = engine::ConsumeTopic(*scanner, options);
//
// Every message is one listing as a JSON object, the format of a JSON Lines dump record,
// read by ListingJsonParser (bonafide/listing.h), the dump reader's own code. A message that is not
// a valid listing goes to the rejects file with its topic, partition and offset. Judged listings go
// through an OutboxWriter (bonafide/outbox_writer.h): each group commit carries the next offset of
// every partition it covers, as a checkpoint (run ConsumerRun(group, topic), input
// "<topic>/<partition>"), plus the rejects file's size. Offsets come from the outbox on
// every partition assignment, never from Kafka's committed offsets (nothing is committed
// to Kafka), so a crash or a rebalance neither loses nor repeats a case: on revocation the
// in-flight listings are committed before the partitions are given up, and a killed
// consumer's uncommitted listings are read again by whoever gets their partition.
//
// Uses librdkafka (its types stay in kafka_consumer.cc); logs nothing.
#ifndef BONAFIDE_ENGINE_KAFKA_CONSUMER_H_
#define BONAFIDE_ENGINE_KAFKA_CONSUMER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "bonafide/outbox_writer.h"
#include "bonafide/scanner.h"

namespace bonafide::engine {

struct ConsumeOptions {
  std::string brokers;  // bootstrap servers, "host:port,host:port" (required)
  std::string topic;    // the topic to read (required)
  std::string group;    // the consumer group (required)
  std::string outbox;   // OpenOutbox location: an SQLite path or a postgresql:// URI (required)
  // Rejected messages, JSON Lines ("" = not written). Give every consumer of a group its
  // own file: a consumer cuts its file back to the size committed under the file's
  // absolute path when it starts.
  std::string rejects_path;
  // Group commits: listings per transaction and the longest a listing waits for one.
  OutboxWriterOptions writer;
  // Stop once every assigned partition has been read to its end (batch use).
  bool exit_at_end = false;
  // The group's session timeout (45000): how long a consumer that died keeps its
  // partitions before the group gives them to the others.
  int session_timeout_ms = 45000;
  // Set (by a signal handler) to stop: what was judged is committed, then the consumer
  // leaves the group. May be null.
  const std::atomic<bool>* stop = nullptr;
};

struct ConsumeSummary {
  int64_t messages = 0;      // messages read, listings and rejects
  int64_t listings = 0;      // listings judged
  int64_t rejected = 0;      // messages written to the rejects (also without a rejects file)
  OutboxWriterStats outbox;  // what the writer committed
  bool interrupted = false;  // stopped by ConsumeOptions::stop
};

// The checkpoints' run of a consumer group reading a topic: "kafka:<group>:<topic>".
std::string ConsumerRun(std::string_view group, std::string_view topic);

// Consumes `options.topic` until a stop request, or, with exit_at_end, until every assigned
// partition has been read to its end; commits what was judged and leaves the group.
// `scanner` must outlive the call. Returns the summary, or InvalidArgument (bad options),
// the outbox's errors (the writer's first failed commit: nothing after the last committed
// offsets is lost, the next run reads it again), PermissionDenied (the rejects file),
// NotFound (the topic does not exist) or Unavailable (a fatal Kafka client error).
absl::StatusOr<ConsumeSummary> ConsumeTopic(const Scanner& scanner, const ConsumeOptions& options);

}  // namespace bonafide::engine

#endif  // BONAFIDE_ENGINE_KAFKA_CONSUMER_H_
