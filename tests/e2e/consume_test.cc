// `bonafide consume` end to end, against librdkafka's mock cluster held by this process
// (tests/kafka_mock_cluster.h; no Kafka broker ships with Debian): two consumers in one group
// read a topic of four partitions holding generated listings and poison messages; one is
// killed with SIGKILL while it holds judged listings not yet committed and started again
// (two rebalances), both are stopped with SIGTERM, and a third consumer with --exit-at-end
// reads what was produced after. Then the outbox must equal a plain `bonafide scan` of the
// same listings (cases and events: tests/schedulers/compare_outboxes.py), and the rejects
// files together must name every invalid message's topic, partition and offset exactly once.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include <gtest/gtest.h>

#include "bonafide/outbox.h"
#include "tests/generated_dump.h"
#include "tests/kafka_mock_cluster.h"
#include "tests/temp_dir.h"
#include "tests/test_util.h"
#include "tools/gen/listing_generator.h"

#include "simdjson.h"

extern char** environ;

namespace bonafide {
namespace {

const std::string kRules = std::string(BONAFIDE_SOURCE_DIR) + "/examples/rules";
const std::string kBonafide = std::string(BONAFIDE_BINARY_DIR) + "/tools/bonafide";
const std::string kCompare =
    std::string(BONAFIDE_SOURCE_DIR) + "/tests/schedulers/compare_outboxes.py";
constexpr char kTopic[] = "listings";
constexpr char kGroup[] = "judges";
constexpr int kPartitions = 4;

// A message's place: (partition, offset).
using Place = std::pair<int32_t, int64_t>;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Polls `done` every 50 ms for up to `seconds`; returns its last answer.
bool WaitFor(const std::function<bool()>& done, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

class ConsumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kafka_.CreateTopic(kTopic, kPartitions);
    gen::GeneratorOptions options;
    options.count = 2000;
    options.seed = 7;
    testing::WriteGeneratedDump(dir_.Join("generated.jsonl"), options);
    listings_ = Lines(testing::ReadFileOrDie(dir_.Join("generated.jsonl")));
    ASSERT_EQ(listings_.size(), 2000u);
  }

  // Produces listings_[begin, end) round-robin over the partitions, each wave with poison
  // messages of every kind in between; remembers where each message went.
  void ProduceWave(size_t begin, size_t end) {
    const std::vector<std::string> poison = {
        "not json",
        R"({"id":"bad-price","title":"t","price":-1,"currency":"EUR","seller_id":"s"})",
        "",
        R"({"id":"cut-short","title":"Nike)",
        R"({"title":"no id","price":1,"currency":"EUR","seller_id":"s"})",
    };
    std::vector<std::pair<int32_t, std::string>> messages;
    std::vector<int> listing_index;  // -1: poison
    for (size_t i = begin; i < end; ++i) {
      messages.emplace_back(static_cast<int32_t>(i % kPartitions), listings_[i]);
      listing_index.push_back(static_cast<int>(i));
      if ((i - begin) % 97 == 0) {
        const size_t k = (i - begin) / 97;
        messages.emplace_back(static_cast<int32_t>((i + k) % kPartitions),
                              poison[k % poison.size()]);
        listing_index.push_back(-1);
      }
    }
    const std::vector<int64_t> offsets = kafka_.Produce(kTopic, messages);
    for (size_t m = 0; m < messages.size(); ++m) {
      const Place place{messages[m].first, offsets[m]};
      if (listing_index[m] < 0) {
        poison_.insert(place);
      } else {
        listing_place_[listing_index[m]] = place;
      }
      end_[place.first] = std::max(end_[place.first], place.second + 1);
    }
  }

  pid_t StartConsumer(const std::string& name, std::vector<std::string> extra = {},
                      const std::string& topic = kTopic) {
    std::vector<std::string> args = {kBonafide,
                                     "consume",
                                     "--brokers",
                                     kafka_.bootstraps(),
                                     "--topic",
                                     topic,
                                     "--group",
                                     kGroup,
                                     "--rules",
                                     kRules,
                                     "--outbox",
                                     dir_.Join("consume.db"),
                                     "--rejects",
                                     dir_.Join(name + ".rejects.jsonl"),
                                     "--cache-dir",
                                     dir_.Join("cache"),
                                     "--session-timeout-ms",
                                     "6000"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string err = dir_.Join(name + ".stderr");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, dir_.Join(name + ".stdout").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, kBonafide.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  // The positions committed in the consume outbox: partition -> next offset.
  std::map<int32_t, int64_t> Committed() {
    std::map<int32_t, int64_t> next;
    auto outbox = OpenOutbox(dir_.Join("consume.db"), OutboxAccess::kReadOnly);
    if (!outbox.ok()) return next;  // not created yet
    auto checkpoints = (*outbox)->LoadCheckpoints(absl::StrCat("kafka:", kGroup, ":", kTopic));
    if (!checkpoints.ok()) return next;
    for (const ScanCheckpoint& c : *checkpoints) {
      const std::string prefix = absl::StrCat(kTopic, "/");
      if (c.input.rfind(prefix, 0) == 0) {
        next[std::stoi(c.input.substr(prefix.size()))] = static_cast<int64_t>(c.byte_offset);
      }
    }
    return next;
  }
  bool AllCommitted() { return Committed() == end_; }

  testing::TempDir dir_;
  testing::KafkaMockCluster kafka_;
  std::vector<std::string> listings_;
  std::map<int, Place> listing_place_;
  std::set<Place> poison_;
  std::map<int32_t, int64_t> end_;  // partition -> offset after its last message
};

TEST_F(ConsumeTest, KilledAndRebalancedConsumersEqualAPlainScan) {
  // Large, slow groups: a consumer holds what it judged for up to 1.5 s before committing.
  const std::vector<std::string> slow = {"--batch-ms", "1500", "--batch-listings", "100000"};
  pid_t a = StartConsumer("a", slow);
  pid_t b = StartConsumer("b", slow);
  ProduceWave(0, 500);
  ASSERT_TRUE(WaitFor([&] { return AllCommitted(); }, 60)) << "wave 1 never committed";

  // Wave 2 is judged at once but committed only 1.5 s later: kill `a` in between.
  ProduceWave(500, 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const std::map<int32_t, int64_t> before_kill = Committed();
  kill(a, SIGKILL);
  EXPECT_EQ(Wait(a), 128 + SIGKILL);
  EXPECT_NE(before_kill, end_) << "nothing was in flight when the consumer was killed";
  a = StartConsumer("a", slow);  // cuts its rejects file back to its last commit
  ProduceWave(1000, 1500);
  ASSERT_TRUE(WaitFor([&] { return AllCommitted(); }, 90)) << "waves 2-3 never committed";

  kill(a, SIGTERM);
  kill(b, SIGTERM);
  EXPECT_EQ(Wait(a), 130) << testing::ReadFileOrDie(dir_.Join("a.stderr"));
  EXPECT_EQ(Wait(b), 130) << testing::ReadFileOrDie(dir_.Join("b.stderr"));

  // Batch use: the rest, read by one consumer that exits once it reached every end.
  ProduceWave(1500, 2000);
  const int c = Wait(StartConsumer("c", {"--exit-at-end"}));
  EXPECT_EQ(c, 0) << testing::ReadFileOrDie(dir_.Join("c.stderr"));
  EXPECT_EQ(Committed(), end_);

  // The same listings in one plain scan.
  std::string dump;
  for (const std::string& l : listings_) absl::StrAppend(&dump, l, "\n");
  dir_.Write("all.jsonl", dump);
  const std::string scan =
      absl::StrCat(kBonafide, " scan --rules ", kRules, " --outbox ", dir_.Join("scan.db"),
                   " --rejects ", dir_.Join("scan.rejects.jsonl"), " --cache-dir ",
                   dir_.Join("cache"), " ", dir_.Join("all.jsonl"), " >/dev/null");
  ASSERT_EQ(std::system(scan.c_str()), 0);
  const std::string compare =
      absl::StrCat("python3 ", kCompare, " ", kBonafide, " ", dir_.Join("scan.db"), " ",
                   dir_.Join("consume.db"), " >", dir_.Join("compare.txt"), " 2>&1");
  EXPECT_EQ(std::system(compare.c_str()), 0) << testing::ReadFileOrDie(dir_.Join("compare.txt"));

  // Every message that is not a valid listing, exactly once over the three rejects files:
  // the poison, and the listings the plain scan rejected too.
  std::multiset<Place> expected(poison_.begin(), poison_.end());
  simdjson::ondemand::parser parser;
  for (const std::string& line : Lines(testing::ReadFileOrDie(dir_.Join("scan.rejects.jsonl")))) {
    simdjson::padded_string json(line);
    simdjson::ondemand::document doc = parser.iterate(json).value();
    const int64_t n = doc["line"].get_int64().value();
    expected.insert(listing_place_.at(static_cast<int>(n - 1)));
  }
  std::multiset<Place> rejected;
  for (const char* name : {"a", "b", "c"}) {
    const std::string path = dir_.Join(absl::StrCat(name, ".rejects.jsonl"));
    for (const std::string& line : Lines(testing::ReadFileOrDie(path))) {
      simdjson::padded_string json(line);
      simdjson::ondemand::document doc = parser.iterate(json).value();
      EXPECT_EQ(std::string_view(doc["topic"].get_string().value()), kTopic);
      const int64_t partition = doc["partition"].get_int64().value();
      const int64_t offset = doc["offset"].get_int64().value();
      EXPECT_FALSE(std::string_view(doc["reason"].get_string().value()).empty()) << line;
      rejected.emplace(static_cast<int32_t>(partition), offset);
    }
  }
  EXPECT_EQ(rejected, expected);
  EXPECT_GE(poison_.size(), 20u);
}

// Partitions that never held a message are at their end at once.
TEST_F(ConsumeTest, ExitAtEndOnAnEmptyTopic) {
  kafka_.CreateTopic("empty", 2);
  EXPECT_EQ(Wait(StartConsumer("empty", {"--exit-at-end", "--format", "jsonl"}, "empty")), 0)
      << testing::ReadFileOrDie(dir_.Join("empty.stderr"));
  const std::string out = testing::ReadFileOrDie(dir_.Join("empty.stdout"));
  EXPECT_NE(out.find(R"("messages":0,)"), std::string::npos) << out;
  EXPECT_TRUE(Committed().empty());
}

}  // namespace
}  // namespace bonafide
