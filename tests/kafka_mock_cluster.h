// A Kafka cluster for tests: librdkafka's built-in mock cluster (rdkafka_mock.h), which
// speaks the real Kafka protocol on loopback TCP ports, so that `bonafide consume`
// processes and in-process consumers connect to it like to any broker. No Kafka broker ships
// with Debian; this is the one the `kafka` tests use. It lives as long as this object (the
// test process), and produces synchronously, reporting each message's offset.
//
//   testing::KafkaMockCluster kafka;
//   kafka.CreateTopic("listings", 4);
//   int64_t offset = kafka.Produce("listings", 2, R"({"id":"1",...})");
//   ... `bonafide consume --brokers kafka.bootstraps() ...`
#ifndef BONAFIDE_TESTS_KAFKA_MOCK_CLUSTER_H_
#define BONAFIDE_TESTS_KAFKA_MOCK_CLUSTER_H_

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace bonafide::testing {

class KafkaMockCluster {
 public:
  KafkaMockCluster() {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int, const char*, const char*) {});
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaMockCluster::OnDelivery);
    // The cluster's own handle, which also produces: the mock needs one for its
    // bookkeeping, and it bootstraps from its own cluster below.
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    EXPECT_NE(host_, nullptr) << error;
    cluster_ = rd_kafka_mock_cluster_new(host_, 3);
    EXPECT_NE(cluster_, nullptr);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    rd_kafka_conf_t* producer_conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(producer_conf,
                             [](const rd_kafka_t*, int, const char*, const char*) {});
    rd_kafka_conf_set_dr_msg_cb(producer_conf, &KafkaMockCluster::OnDelivery);
    EXPECT_EQ(rd_kafka_conf_set(producer_conf, "bootstrap.servers", bootstraps_.c_str(), error,
                                sizeof(error)),
              RD_KAFKA_CONF_OK);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, producer_conf, error, sizeof(error));
    EXPECT_NE(producer_, nullptr) << error;
  }
  ~KafkaMockCluster() {
    if (producer_ != nullptr) rd_kafka_destroy(producer_);
    if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
    if (host_ != nullptr) rd_kafka_destroy(host_);
  }
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  // "127.0.0.1:port,..." for bootstrap.servers / --brokers.
  const std::string& bootstraps() const { return bootstraps_; }

  void CreateTopic(const std::string& topic, int partitions) {
    EXPECT_EQ(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // Produces every (partition, payload) to `topic` and waits for them; returns each one's
  // offset, in order.
  std::vector<int64_t> Produce(const std::string& topic,
                               const std::vector<std::pair<int32_t, std::string>>& messages) {
    std::vector<int64_t> offsets(messages.size(), -1);
    for (size_t i = 0; i < messages.size(); ++i) {
      const std::string& payload = messages[i].second;
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(messages[i].first),
          RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&offsets[i]), RD_KAFKA_V_END);
      EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
      rd_kafka_poll(producer_, 0);  // serves the delivery reports so far
    }
    EXPECT_EQ(rd_kafka_flush(producer_, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int64_t offset : offsets) EXPECT_GE(offset, 0);
    return offsets;
  }

 private:
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->_private != nullptr && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      *static_cast<int64_t*>(m->_private) = m->offset;
    }
  }

  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstraps_;
};

}  // namespace bonafide::testing

#endif  // BONAFIDE_TESTS_KAFKA_MOCK_CLUSTER_H_
