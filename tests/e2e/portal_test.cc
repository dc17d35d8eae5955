// The portal end to end (docs/portal.md): a real `bonafide scan` of listings with photos for
// two rights holders, tokens made by `bonafide token`, the real `bonafide serve` on a
// loopback port, and real HTTP requests. Most tests try to break isolation: holder A must
// never read, list, count, download a photo of, or answer holder B's cases.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bonafide/outbox.h"
#include "engine/portal_api.h"
#include "engine/portal_server.h"
#include "tests/models/synthetic_photos.h"
#include "tests/outbox_test_util.h"
#include "tests/raw_outbox.h"
#include "tests/temp_dir.h"
#include "tests/test_util.h"
#include "tests/tools/cli_runner.h"

#include "simdjson.h"

namespace bonafide {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What encodeURIComponent does: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) escaped.
std::string EncodeComponent(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) ||
        std::string_view("-_.!~*'()").find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out.append(buf);
    }
  }
  return out;
}

// What a raw exchange got back: the bytes, and whether the server closed the connection.
struct RawReply {
  std::string bytes;
  bool closed = false;
};

// A TCP connection to 127.0.0.1:`port` whose reads and writes give up after `timeout`.
int Connect(int port, std::chrono::milliseconds timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// Reads until the server closes the connection (closed) or sends nothing for the
// socket's timeout.
RawReply ReadUntilClosed(int fd) {
  RawReply reply;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      reply.bytes.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      reply.closed = n == 0 || errno == ECONNRESET;
      return reply;
    }
  }
}

struct Reply {
  int status = 0;
  std::string body;
  std::string content_type;
  httplib::Headers headers;
};

// The server under test and the data it serves, shared by every test of the suite.
class PortalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const testing::TempDir& d = *dir_;
    d.Write("rules/policy.yaml", R"(currency: EUR
fx_date: 2026-11-27
fx: {USD: 0.86}
threshold: 1.0
weights: {cue: 1.0, price: 1.0, image: 1.0, obfuscated_brand: 0.5}
image: {max_distance: 31, min_quality: 50}
)");
    d.Write("rules/cues.yaml", "rules:\n  - id: cue.replica\n    phrases: [replica]\n");
    d.Write("rules/rights_holders/acme.yaml", R"(id: acme
name: ACME Sports GmbH
brands:
  - name: ACME
products:
  - id: acme-runner-22
    name: Runner 22
    keywords: [runner 22]
    reference_price: {amount: 180, currency: EUR}
    min_price_ratio: 0.4
    images: [photos/runner-front.jpg]
)");
    d.Write("rules/rights_holders/brandy.yaml", R"(id: brandy
name: Brandy Bags Ltd
brands:
  - name: Brandy
products:
  - id: brandy-tote
    name: Tote
    keywords: [tote]
    reference_price: {amount: 300, currency: EUR}
    min_price_ratio: 0.4
)");
    const cv::Mat genuine = testing::DrawPhoto(7);
    genuine_bytes_ = testing::EncodeJpeg(genuine, 92);
    d.Write("rules/rights_holders/photos/runner-front.jpg", genuine_bytes_);
    listing_photo_ = testing::EncodeJpeg(testing::Resized(genuine, 0.5));
    d.Write("images/front.jpg", listing_photo_);
    d.Write("images/brandy/tote.png", testing::EncodePng(testing::DrawPhoto(9, 200, 150)));
    secret_ = "SECRET-" + std::string(200, 'x');
    d.Write("outside/secret.jpg", "\xFF\xD8\xFF" + secret_);
    std::filesystem::create_symlink(d.Join("outside/secret.jpg"), d.Join("images/link.jpg"));

    std::string dump;
    auto line = [&](const std::string& id, const std::string& title, const std::string& images) {
      dump += "{\"id\":\"" + id + "\",\"marketplace\":\"shop:eu\",\"title\":\"" + title +
              "\",\"price\":50,\"currency\":\"EUR\",\"seller_id\":\"s-" + id + "\",\"images\":[" +
              images + "]}\n";
    };
    for (int i = 0; i < 5; ++i) {
      line("a" + std::to_string(i), "ACME Runner 22 replica", "\"front.jpg\"");
      line("b" + std::to_string(i), "Brandy tote replica", "\"brandy/tote.png\"");
    }
    line("a-link", "ACME Runner 22 replica", "\"link.jpg\",\"front.jpg\"");
    line("a/slash%", "ACME Runner 22 replica", "");
    d.Write("listings.jsonl", dump);
    outbox_ = testing::TestOutboxLocation(d);
    const testing::CliRun scan = testing::RunCli(
        "scan --progress=false --cache-dir " + testing::ShellQuote(d.Join("cache")) + " --rules " +
        testing::ShellQuote(d.Join("rules")) + " --images " +
        testing::ShellQuote(d.Join("images")) + " --outbox " + testing::ShellQuote(outbox_) +
        " --rejects " + testing::ShellQuote(d.Join("rejects.jsonl")) + " " +
        testing::ShellQuote(d.Join("listings.jsonl")));
    ASSERT_EQ(scan.exit_status, 0) << scan.err;
    acme_token_ = NewToken("--rights-holder acme");
    brandy_token_ = NewToken("--rights-holder brandy");
    admin_token_ = NewToken("--admin");
    StartServer();
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
      const std::string log = testing::ReadFileOrDie(dir_->Join("serve.err"));
      EXPECT_THAT(log, HasSubstr("GET /api/v1/cases 200"));
      for (const std::string* token : {&acme_token_, &brandy_token_, &admin_token_}) {
        EXPECT_THAT(log, Not(HasSubstr(token->substr(11)))) << "a token in the access log";
      }
      EXPECT_THAT(log, Not(HasSubstr("bonafide_session")));
    }
    delete dir_;
  }

  static std::string NewToken(const std::string& who) {
    const testing::CliRun r =
        testing::RunCli("token create --outbox " + testing::ShellQuote(outbox_) + " " + who);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    std::string token = r.out;
    EXPECT_EQ(token.back(), '\n');
    token.pop_back();
    EXPECT_EQ(token.find('\n'), std::string::npos) << "one line on stdout";
    EXPECT_EQ(token.size(), 46u);
    return token;
  }

  // Starts `bonafide serve` on a free port; reads the port from its first stdout line.
  static void StartServer() {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    const std::string err = dir_->Join("serve.err");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      if (std::freopen(err.c_str(), "w", stderr) == nullptr) _exit(127);
      const std::string images = dir_->Join("images"), rules = dir_->Join("rules");
      execl(testing::kCli.c_str(), testing::kCli.c_str(), "serve", "--outbox", outbox_.c_str(),
            "--listen", "127.0.0.1:0", "--image-root", images.c_str(), "--rules", rules.c_str(),
            "--threads", "8", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    close(out[0]);
    const std::string prefix = "listening on http://127.0.0.1:";
    ASSERT_EQ(line.substr(0, prefix.size()), prefix) << line;
    port_ = std::stoi(line.substr(prefix.size()));
  }

  static httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_url_encode(false);  // paths are sent exactly as the tests write them
    client.set_read_timeout(std::chrono::seconds(20));
    return client;
  }

  static Reply Send(const std::string& method, const std::string& path, const std::string& token,
                    const std::string& body = "", httplib::Headers headers = {}) {
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    httplib::Client client = Client();
    httplib::Result r = method == "GET"      ? client.Get(path, headers)
                        : method == "DELETE" ? client.Delete(path, headers)
                                             : client.Post(path, headers, body, "application/json");
    Reply reply;
    if (!r) {
      ADD_FAILURE() << method << " " << path << ": " << httplib::to_string(r.error());
      return reply;
    }
    reply.status = r->status;
    reply.body = r->body;
    reply.content_type = r->get_header_value("Content-Type");
    reply.headers = r->headers;
    return reply;
  }
  static Reply Get(const std::string& path, const std::string& token) {
    return Send("GET", path, token);
  }

  // Every case key a list request of `token` returns, following the cursor pages of 2.
  static std::vector<std::string> ListAll(const std::string& token, const std::string& extra) {
    std::vector<std::string> keys;
    std::string after;
    for (int page = 0; page < 100; ++page) {
      std::string path = "/api/v1/cases?limit=2" + extra;
      if (!after.empty()) path += "&after=" + after;
      const Reply r = Get(path, token);
      EXPECT_EQ(r.status, 200) << r.body;
      simdjson::dom::parser parser;
      simdjson::dom::element doc = parser.parse(r.body).value();
      const simdjson::dom::array cases = doc["cases"].get_array().value();
      for (simdjson::dom::element c : cases) {
        keys.emplace_back(std::string_view(c["case_key"].get_string().value()));
      }
      if (doc["next"].is_null()) return keys;
      after = std::string(doc["next"].get_string().value());
    }
    ADD_FAILURE() << "the cursor never ends";
    return keys;
  }

  static std::vector<StoredCase> CasesOf(const std::string& holder) {
    auto outbox = OpenOutbox(outbox_, OutboxAccess::kReadOnly);
    EXPECT_TRUE(outbox.ok());
    CaseQuery q;
    q.rights_holder = holder;
    return (*outbox)->ListCases(q).value().cases;
  }

  // Sends `request` as it is on a new connection, and reads what comes back.
  static RawReply SendRaw(const std::string& request) {
    const int fd = Connect(port_, std::chrono::seconds(5));
    EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    RawReply reply = ReadUntilClosed(fd);
    close(fd);
    return reply;
  }

  // Runs `sql` on the outbox, beside the server.
  static void ExecSql(const std::string& sql) { testing::RawOutboxQuery(outbox_, sql); }

  static std::string AcmeKey(int i) { return "acme:shop%3Aeu:a" + std::to_string(i); }
  static std::string BrandyKey(int i) { return "brandy:shop%3Aeu:b" + std::to_string(i); }

  static testing::TempDir* dir_;
  static std::string outbox_, acme_token_, brandy_token_, admin_token_;
  static std::string genuine_bytes_, listing_photo_, secret_;
  static pid_t pid_;
  static int port_;
};

testing::TempDir* PortalTest::dir_ = nullptr;
std::string PortalTest::outbox_, PortalTest::acme_token_, PortalTest::brandy_token_,
    PortalTest::admin_token_, PortalTest::genuine_bytes_, PortalTest::listing_photo_,
    PortalTest::secret_;
pid_t PortalTest::pid_ = -1;
int PortalTest::port_ = 0;

TEST_F(PortalTest, ScanMadeCasesForBothHolders) {
  EXPECT_EQ(CasesOf("acme").size(), 7u);
  EXPECT_EQ(CasesOf("brandy").size(), 5u);
}

TEST_F(PortalTest, HealthzAndPageNeedNoTokenAndCarryTheSecurityHeaders) {
  Reply r = Get("/healthz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  r = Get("/", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, HasSubstr("text/html"));
  EXPECT_THAT(r.body, HasSubstr("<html"));
  EXPECT_EQ(r.headers.find("Cache-Control")->second, "no-cache");
  for (const char* path : {"/", "/api/v1/cases", "/nope", "/api/v1/cases?token=x"}) {
    r = Get(path, "");
    EXPECT_EQ(r.headers.find("Content-Security-Policy")->second,
              "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
              "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
        << path;
    EXPECT_EQ(r.headers.find("X-Content-Type-Options")->second, "nosniff");
    EXPECT_EQ(r.headers.find("Referrer-Policy")->second, "no-referrer");
    EXPECT_EQ(r.headers.find("X-Frame-Options")->second, "DENY");
  }
  EXPECT_EQ(Get("/index.html/../../outbox.db", "").status, 404);
}

TEST_F(PortalTest, MissingWrongAndQueryTokensAreRefused) {
  EXPECT_EQ(Get("/api/v1/cases", "").status, 401);
  EXPECT_EQ(Get("/api/v1/cases", "bf_wrong").status, 401);
  // Right prefix, wrong secret.
  std::string tampered = acme_token_;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Get("/api/v1/cases", tampered).status, 401);
  const Reply basic = Send("GET", "/api/v1/cases", "", "", {{"Authorization", "Basic eDp5"}});
  EXPECT_EQ(basic.status, 401);
  for (std::string q : {"?token=", "?access_token=", "?status=pending&token="}) {
    const Reply r = Get("/api/v1/cases" + q + acme_token_, "");
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_THAT(r.body, HasSubstr("\"error\""));
  }
  EXPECT_EQ(Get("/api/v1/cases?token=" + acme_token_, acme_token_).status, 400);
}

TEST_F(PortalTest, EachHolderListsOnlyItsOwnCases) {
  auto keys_of = [](const std::vector<StoredCase>& cases) {
    std::set<std::string> keys;
    for (const StoredCase& c : cases) keys.insert(c.case_key);
    return keys;
  };
  const std::vector<std::string> acme = ListAll(acme_token_, "");
  EXPECT_EQ(std::set<std::string>(acme.begin(), acme.end()), keys_of(CasesOf("acme")));
  EXPECT_EQ(acme.size(), 7u) << "no case twice across pages";
  const std::vector<std::string> brandy = ListAll(brandy_token_, "");
  EXPECT_EQ(std::set<std::string>(brandy.begin(), brandy.end()), keys_of(CasesOf("brandy")));
  // A holder's token cannot widen its scope; an admin's can narrow it.
  EXPECT_EQ(ListAll(acme_token_, "&rights_holder=brandy"), acme);
  EXPECT_EQ(ListAll(admin_token_, "&rights_holder=brandy"), brandy);
  EXPECT_EQ(ListAll(admin_token_, "").size(), 12u);
  // A cursor of B's list, replayed by A, still lists A's cases only.
  const Reply page = Get("/api/v1/cases?limit=1", brandy_token_);
  simdjson::dom::parser parser;
  const std::string next(parser.parse(page.body)["next"].get_string().value());
  const Reply replay = Get("/api/v1/cases?after=" + next, acme_token_);
  EXPECT_EQ(replay.status, 200);
  EXPECT_THAT(replay.body, Not(HasSubstr("brandy")));
  EXPECT_EQ(Get("/api/v1/cases?after=zz", acme_token_).status, 400);
  EXPECT_EQ(Get("/api/v1/cases?limit=201", acme_token_).status, 400);
  EXPECT_EQ(Get("/api/v1/cases?status=open", acme_token_).status, 400);
}

TEST_F(PortalTest, AnotherHoldersUnknownAndMalformedKeysGiveTheSame404) {
  const std::string own = EncodeComponent(AcmeKey(1));
  ASSERT_EQ(Get("/api/v1/cases/" + own, acme_token_).status, 200);
  ASSERT_EQ(Get("/api/v1/photos/" + own + "/0", acme_token_).status, 200);
  const std::vector<std::string> others = {
      EncodeComponent(BrandyKey(1)),                   // another holder's
      EncodeComponent("acme:shop%3Aeu:a99"),           // unknown
      EncodeComponent("acme:shop:eu:a1"),              // tampered: not percent-encoded
      EncodeComponent("brandy:shop%3Aeu:a1"),          // tampered: holder swapped
      EncodeComponent(EncodeComponent(BrandyKey(1))),  // double-encoded
      "acme%3Ashop%253Aeu%3Aa1%00",                    // NUL
      "%E0%80%80",                                     // invalid UTF-8
      "%",                                             // malformed escape
      "acme",                                          // malformed key
      "acme:x",
      "..%2F..%2Fetc%2Fpasswd",
  };
  const Reply reference = Get("/api/v1/cases/" + others[0], acme_token_);
  EXPECT_EQ(reference.status, 404);
  EXPECT_EQ(reference.body, R"({"error":"no such case"})");
  for (const std::string& key : others) {
    const Reply c = Get("/api/v1/cases/" + key, acme_token_);
    EXPECT_EQ(c.status, 404) << key;
    EXPECT_EQ(c.body, reference.body) << key;
    EXPECT_EQ(c.headers.find("Content-Length")->second,
              reference.headers.find("Content-Length")->second);
    const Reply photo = Get("/api/v1/photos/" + key + "/0", acme_token_);
    EXPECT_EQ(photo.status, 404) << key;
    EXPECT_EQ(photo.body, reference.body) << key;
    const Reply verdict = Send("POST", "/api/v1/cases/" + key + "/verdict", acme_token_,
                               R"({"verdict":"counterfeit"})");
    EXPECT_EQ(verdict.status, 404) << key;
    EXPECT_EQ(verdict.body, reference.body) << key;
  }
  // Nothing changed on B's side.
  for (const StoredCase& c : CasesOf("brandy")) EXPECT_EQ(c.status, CaseStatus::kPending);
  // A listing id with '/' and '%': its key is one path segment once encoded.
  const Reply slash =
      Get("/api/v1/cases/" + EncodeComponent("acme:shop%3Aeu:a/slash%25"), acme_token_);
  EXPECT_EQ(slash.status, 200) << slash.body;
}

TEST_F(PortalTest, CaseViewHoldsEvidenceEventsAndVerdicts) {
  const Reply r = Get("/api/v1/cases/" + EncodeComponent(AcmeKey(2)), acme_token_);
  ASSERT_EQ(r.status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.body).value();
  simdjson::dom::element c = doc["case"].value();
  EXPECT_EQ(std::string_view(c["case_key"].get_string().value()), AcmeKey(2));
  EXPECT_EQ(std::string_view(c["status"].get_string().value()), "pending");
  EXPECT_EQ(std::string_view(c["evidence"]["listing"]["title"].get_string().value()),
            "ACME Runner 22 replica");
  EXPECT_GE(c["signals"].get_array().value().size(), 2u);
  simdjson::dom::array events = doc["events"].get_array().value();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::string_view(events.at(0)["type"].get_string().value()), "case.opened");
  EXPECT_TRUE(doc["verdicts"].get_array().value().size() == 0);
}

TEST_F(PortalTest, EventsFeedNeverShowsAnotherHoldersEvents) {
  auto ids_of = [](const std::string& body, const std::string& holder) {
    simdjson::dom::parser parser;
    std::vector<int64_t> ids;
    const simdjson::dom::element doc = parser.parse(body).value();
    const simdjson::dom::array events = doc["events"].get_array().value();
    for (simdjson::dom::element e : events) {
      EXPECT_EQ(std::string_view(e["payload"]["rights_holder"].get_string().value()), holder);
      ids.push_back(e["id"].get_int64().value());
    }
    return ids;
  };
  const Reply brandy = Get("/api/v1/events", brandy_token_);
  const std::vector<int64_t> brandy_ids = ids_of(brandy.body, "brandy");
  ASSERT_FALSE(brandy_ids.empty());
  // Starting right before each of B's event ids, A still sees only its own.
  for (int64_t id : brandy_ids) {
    const Reply r = Get("/api/v1/events?limit=3&after=" + std::to_string(id - 1), acme_token_);
    EXPECT_EQ(r.status, 200);
    for (int64_t got : ids_of(r.body, "acme")) EXPECT_GT(got, id - 1);
  }
  const Reply end = Get("/api/v1/events?after=1000000", acme_token_);
  EXPECT_EQ(end.body, R"({"events":[],"next_after":1000000})");
}

TEST_F(PortalTest, ReportCountsOnlyTheHoldersCases) {
  simdjson::dom::parser parser;
  auto replica_cases = [&](const std::string& token, const std::string& extra) {
    const Reply r = Get("/api/v1/report" + extra, token);
    EXPECT_EQ(r.status, 200);
    const simdjson::dom::element doc = parser.parse(r.body).value();
    const simdjson::dom::array rows = doc["rows"].get_array().value();
    for (simdjson::dom::element row : rows) {
      if (std::string_view(row["name"].get_string().value()) == "cue.replica") {
        EXPECT_EQ(std::string_view(row["kind"].get_string().value()), "cue");
        return row["cases"].get_int64().value();
      }
    }
    return int64_t{-1};
  };
  EXPECT_EQ(replica_cases(acme_token_, ""), 7);
  EXPECT_EQ(replica_cases(brandy_token_, ""), 5);
  EXPECT_EQ(replica_cases(acme_token_, "?rights_holder=brandy"), 7);
  EXPECT_EQ(replica_cases(admin_token_, ""), 12);
}

TEST_F(PortalTest, PhotosAreServedFromTheirRootsOnly) {
  const std::string key = EncodeComponent(AcmeKey(3));
  Reply r = Get("/api/v1/photos/" + key + "/0", acme_token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "image/jpeg");
  EXPECT_EQ(r.body, listing_photo_);
  r = Get("/api/v1/photos/" + key + "/0?genuine=1", acme_token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, genuine_bytes_);
  const Reply png = Get("/api/v1/photos/" + EncodeComponent(BrandyKey(0)) + "/0", brandy_token_);
  EXPECT_EQ(png.status, 200);
  EXPECT_EQ(png.content_type, "image/png");
  EXPECT_EQ(Get("/api/v1/photos/" + EncodeComponent(BrandyKey(0)) + "/0", acme_token_).status, 404);
  // A listing photo that a symbolic link leads out of the root: never read.
  const std::string link = EncodeComponent("acme:shop%3Aeu:a-link");
  r = Get("/api/v1/photos/" + link + "/0", acme_token_);
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, Not(HasSubstr("SECRET")));
  EXPECT_EQ(Get("/api/v1/photos/" + link + "/1", acme_token_).status, 200);
  const std::vector<std::string> hostile = {
      "/api/v1/photos/" + key + "/1",
      "/api/v1/photos/" + key + "/-1",
      "/api/v1/photos/" + key + "/0x0",
      "/api/v1/photos/" + key + "/..%2F..%2Foutside%2Fsecret.jpg",
      "/api/v1/photos/" + key + "/%2e%2e%2f%2e%2e%2foutside%2fsecret.jpg",
      "/api/v1/photos/" + key + "/%252e%252e%252foutside%252fsecret.jpg",
      "/api/v1/photos/" + key + "/0/../../../outside/secret.jpg",
      "/api/v1/photos/..%2F..%2Foutside%2Fsecret.jpg/0",
      "/api/v1/photos/%2e%2e%2foutside/0",
      "/api/v1/photos/../../outside/secret.jpg",
      "/../outside/secret.jpg",
      "/%2e%2e/outside/secret.jpg",
      "/images/link.jpg",
      "/link.jpg",
  };
  for (const std::string& path : hostile) {
    r = Get(path, acme_token_);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_THAT(r.body, Not(HasSubstr("SECRET"))) << path;
  }
}

TEST_F(PortalTest, FiftySimultaneousVerdictsOneWins) {
  const std::string key = AcmeKey(4);
  const std::string path = "/api/v1/cases/" + EncodeComponent(key) + "/verdict";
  std::atomic<int> ok{0}, conflict{0}, other{0};
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      const Reply r =
          Send("POST", path, acme_token_,
               R"({"verdict":"counterfeit","comment":"thread )" + std::to_string(i) + "\"}");
      (r.status == 200 ? ok : r.status == 409 ? conflict : other)++;
    });
  }
  go = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(conflict.load(), 49);
  EXPECT_EQ(other.load(), 0);
  auto outbox = OpenOutbox(outbox_, OutboxAccess::kReadOnly);
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ((*outbox)->ListVerdicts(key).value().size(), 1u);
  int verdict_events = 0;
  for (const StoredEvent& e : (*outbox)->ListEvents(std::nullopt, 0, 0, key).value()) {
    verdict_events += e.type == "case.verdict";
  }
  EXPECT_EQ(verdict_events, 1);
  EXPECT_EQ((*outbox)->GetCase(key).value()->status, CaseStatus::kConfirmed);
  // A replace is taken; B's token cannot replace A's verdict.
  EXPECT_EQ(Send("POST", path, brandy_token_, R"({"verdict":"genuine","replace":true})").status,
            404);
  const Reply replaced = Send("POST", path, acme_token_, R"({"verdict":"genuine","replace":true})");
  EXPECT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_THAT(replaced.body, HasSubstr("\"status\":\"rejected\""));
  EXPECT_EQ((*outbox)->ListVerdicts(key).value().back().actor, acme_token_.substr(0, 11));
}

TEST_F(PortalTest, BadBodiesAreRefusedAndChangeNothing) {
  const std::string key = AcmeKey(0);
  const std::string path = "/api/v1/cases/" + EncodeComponent(key) + "/verdict";
  const std::vector<std::string> bodies = {
      R"({"verdict":"counterfeit","comment":")" + std::string(70 * 1024, 'x') + "\"}",
      R"({"verdict":"counterfeit")",
      "not json",
      "",
      "[]",
      R"({"verdict":"fake"})",
      R"({"verdict":1})",
      R"({"comment":"no verdict"})",
      R"({"verdict":"counterfeit","replace":"yes"})",
      R"({"verdict":"counterfeit","authorize_seller":true})",
      R"({"verdict":"genuine","comment":")" + std::string(5000, 'x') + "\"}",
  };
  for (const std::string& body : bodies) {
    const Reply r = Send("POST", path, acme_token_, body);
    EXPECT_EQ(r.status, 400) << body.substr(0, 60);
    EXPECT_THAT(r.body, HasSubstr("\"error\":")) << body.substr(0, 60);
  }
  auto outbox = OpenOutbox(outbox_, OutboxAccess::kReadOnly);
  ASSERT_TRUE(outbox.ok());
  EXPECT_TRUE((*outbox)->ListVerdicts(key).value().empty());
  EXPECT_EQ((*outbox)->GetCase(key).value()->status, CaseStatus::kPending);
  // The server still answers on the same kind of connection afterwards.
  EXPECT_EQ(Get("/healthz", "").status, 200);
}

TEST_F(PortalTest, SessionCookieNeedsTheCsrfTokenToChangeAnything) {
  const Reply login = Send("POST", "/api/v1/session", "", "{\"token\":\"" + brandy_token_ + "\"}");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string set_cookie = login.headers.find("Set-Cookie")->second;
  EXPECT_THAT(set_cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(set_cookie, HasSubstr("SameSite=Strict"));
  EXPECT_THAT(set_cookie, HasSubstr("Path=/"));
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  simdjson::dom::parser parser;
  simdjson::dom::element body = parser.parse(login.body).value();
  EXPECT_EQ(std::string_view(body["rights_holder"].get_string().value()), "brandy");
  EXPECT_FALSE(body["admin"].get_bool().value());
  const std::string csrf(body["csrf_token"].get_string().value());

  const Reply again = Send("GET", "/api/v1/session", "", "", {{"Cookie", cookie}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, login.body);
  EXPECT_EQ(Send("GET", "/api/v1/cases", "", "", {{"Cookie", cookie}}).status, 200);
  const std::string path = "/api/v1/cases/" + EncodeComponent(BrandyKey(2)) + "/verdict";
  const std::string verdict = R"({"verdict":"not_ours"})";
  EXPECT_EQ(Send("POST", path, "", verdict, {{"Cookie", cookie}}).status, 403);
  EXPECT_EQ(Send("POST", path, "", verdict, {{"Cookie", cookie}, {"X-CSRF-Token", "x"}}).status,
            403);
  EXPECT_EQ(Send("POST", path, "", verdict,
                 {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Origin", "http://evil.example"}})
                .status,
            403);
  EXPECT_EQ(Send("POST", path, "", verdict,
                 {{"Cookie", "bonafide_session=forged"}, {"X-CSRF-Token", csrf}})
                .status,
            401);
  EXPECT_EQ(CasesOf("brandy")[0].status == CaseStatus::kRejected, false);
  const Reply ok = Send("POST", path, "", verdict,
                        {{"Cookie", cookie},
                         {"X-CSRF-Token", csrf},
                         {"Origin", "http://127.0.0.1:" + std::to_string(port_)}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  // The cookie opens B's cases only.
  EXPECT_EQ(
      Send("GET", "/api/v1/cases/" + EncodeComponent(AcmeKey(1)), "", "", {{"Cookie", cookie}})
          .status,
      404);
  EXPECT_EQ(Send("DELETE", "/api/v1/session", "", "", {{"Cookie", cookie}}).status, 403);
  const Reply logout =
      Send("DELETE", "/api/v1/session", "", "", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(logout.status, 204);
  EXPECT_THAT(logout.headers.find("Set-Cookie")->second, HasSubstr("Max-Age=0"));
  EXPECT_EQ(Send("GET", "/api/v1/session", "", "", {{"Cookie", cookie}}).status, 401);
  EXPECT_EQ(Send("POST", "/api/v1/session", "", R"({"token":"bf_nope"})").status, 401);
  EXPECT_EQ(Send("POST", "/api/v1/session", "", "nope").status, 400);
}

TEST_F(PortalTest, RevokedTokensAndTheirSessionsAre401) {
  const std::string token = NewToken("--rights-holder acme");
  ASSERT_EQ(Get("/api/v1/cases", token).status, 200);
  const Reply login = Send("POST", "/api/v1/session", "", "{\"token\":\"" + token + "\"}");
  ASSERT_EQ(login.status, 200);
  const std::string set_cookie = login.headers.find("Set-Cookie")->second;
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const testing::CliRun revoke = testing::RunCli(
      "token revoke --outbox " + testing::ShellQuote(outbox_) + " " + token.substr(0, 11));
  ASSERT_EQ(revoke.exit_status, 0) << revoke.err;
  EXPECT_EQ(Get("/api/v1/cases", token).status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/cases", "", "", {{"Cookie", cookie}}).status, 401);
  EXPECT_EQ(Send("POST", "/api/v1/session", "", "{\"token\":\"" + token + "\"}").status, 401);
  const testing::CliRun list =
      testing::RunCli("token list --outbox " + testing::ShellQuote(outbox_));
  EXPECT_THAT(list.out, HasSubstr(token.substr(0, 11) + "  acme  created "));
  EXPECT_THAT(list.out, HasSubstr("revoked"));
  EXPECT_THAT(list.out, Not(HasSubstr(token.substr(11))));
}

TEST_F(PortalTest, BodiesWithoutAContentLengthAreRefusedUnread) {
  // Each request's headers promise a body that never comes: had the server started to
  // read it, no answer would come before its read timeout (10 s; SendRaw waits 5 s).
  const std::string login =
      "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  const struct {
    std::string request;
    std::string status;
  } cases[] = {
      {login + "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"token\":\"bf_xxxx", "411"},
      {login + "Transfer-Encoding: gzip, chunked\r\n\r\n", "411"},
      {login + "\r\n{\"token\":", "411"},  // no Content-Length: read until close
      {"PUT /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "411"},
      {"PATCH /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "411"},
      {login + "Content-Encoding: gzip\r\nContent-Length: 100\r\n\r\n", "400"},
      {login + "Content-Encoding: br\r\nContent-Length: 100\r\n\r\n", "400"},
      {login + "Content-Length: 10\r\nContent-Length: 100\r\n\r\n", "400"},
      {login + "Content-Length: 1e3\r\n\r\n", "400"},
      {"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n", "400"},
  };
  for (const auto& c : cases) {
    const RawReply r = SendRaw(c.request);
    EXPECT_EQ(r.bytes.substr(0, 13), "HTTP/1.1 " + c.status + " ") << c.request;
    EXPECT_THAT(r.bytes, HasSubstr("\r\n\r\n{\"error\":\"")) << c.request;
    EXPECT_THAT(r.bytes, HasSubstr("Content-Security-Policy:")) << c.request;
    EXPECT_TRUE(r.closed) << "the unread body must not be taken as a request: " << c.request;
  }
  // What stays allowed: a Content-Length body, a DELETE or a GET without one.
  const RawReply ok =
      SendRaw(login + "Content-Length: 19\r\nConnection: close\r\n\r\n" + R"({"token":"bf_nope"})");
  EXPECT_EQ(ok.bytes.substr(0, 13), "HTTP/1.1 401 ") << ok.bytes;
  const RawReply logout =
      SendRaw("DELETE /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(logout.bytes.substr(0, 13), "HTTP/1.1 401 ") << logout.bytes;
  const RawReply health = SendRaw(
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(health.bytes.substr(0, 13), "HTTP/1.1 200 ") << health.bytes;
}

TEST_F(PortalTest, EndlessChunkedLoginIsCutOff) {
  // An unauthenticated login whose chunks never end: the server must answer and close,
  // not buffer them. The sender stops at 64 MiB, far beyond any body the portal takes.
  const int fd = Connect(port_, std::chrono::seconds(5));
  std::atomic<bool> send_failed{false};
  std::thread sender([&] {
    const std::string head =
        "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    const std::string chunk = "10000\r\n" + std::string(64 * 1024, 'x') + "\r\n";
    const auto failed = [fd](const std::string& bytes) {
      return send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
             errno != EINTR;
    };
    if (failed(head)) {
      send_failed = true;
      return;
    }
    for (int i = 0; i < 1024 && !send_failed; ++i) send_failed = failed(chunk);
  });
  const RawReply r = ReadUntilClosed(fd);
  sender.join();
  close(fd);
  EXPECT_EQ(r.bytes.substr(0, 13), "HTTP/1.1 411 ") << r.bytes.substr(0, 200);
  EXPECT_TRUE(r.closed);
  EXPECT_TRUE(send_failed.load()) << "the server kept reading the chunks";
  EXPECT_EQ(Get("/healthz", "").status, 200);
}

TEST_F(PortalTest, RangeHeadersAreIgnored) {
  const Reply whole = Get("/app.js", "");
  ASSERT_EQ(whole.status, 200);
  ASSERT_GT(whole.body.size(), 1000u);
  // Thousands of ranges over one file made httplib build a multipart reply of that many
  // copies in memory.
  std::string many = "bytes=0-";
  for (int i = 0; i < 2000; ++i) many += ",0-";
  for (const std::string& range : {many, std::string("bytes=0-9"), std::string("bytes=99999-")}) {
    const Reply r = Send("GET", "/app.js", "", "", {{"Range", range}});
    EXPECT_EQ(r.status, 200) << range.substr(0, 20);
    EXPECT_EQ(r.body, whole.body) << range.substr(0, 20);
    EXPECT_EQ(r.content_type, whole.content_type);
    EXPECT_EQ(r.headers.count("Content-Range"), 0u);
  }
  const Reply api = Send("GET", "/api/v1/cases", acme_token_, "", {{"Range", many}});
  EXPECT_EQ(api.status, 200);
  EXPECT_EQ(api.body.substr(0, 9), R"({"cases":)");
  // A malformed Range is answered by httplib itself (416), still with one small body.
  const Reply bad = Send("GET", "/app.js", "", "", {{"Range", many + ",9-1"}});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.body, R"({"error":"bad request"})");
}

TEST_F(PortalTest, VerdictBodyErrorsAreTheSameForEveryKey) {
  const std::vector<std::string> keys = {
      EncodeComponent(AcmeKey(0)),            // the holder's own case
      EncodeComponent("acme:shop%3Aeu:a99"),  // unknown
      EncodeComponent(BrandyKey(0)),          // another holder's
      "acme",                                 // malformed
  };
  const std::vector<std::string> bodies = {
      R"({"verdict":"counterfeit","authorize_seller":true})",
      R"({"verdict":"not_ours","authorize_seller":true})",
      R"({"verdict":"genuine","comment":")" + std::string(4097, 'x') + "\"}",
      R"({"verdict":"genuine","comment":"\ud800"})",
      R"({"verdict":"fake"})",
  };
  for (const std::string& body : bodies) {
    const Reply first = Send("POST", "/api/v1/cases/" + keys[0] + "/verdict", acme_token_, body);
    EXPECT_EQ(first.status, 400) << body.substr(0, 60) << ": " << first.body;
    for (const std::string& key : keys) {
      const Reply r = Send("POST", "/api/v1/cases/" + key + "/verdict", acme_token_, body);
      EXPECT_EQ(r.status, first.status) << key << " " << body.substr(0, 60);
      EXPECT_EQ(r.body, first.body) << key << " " << body.substr(0, 60);
    }
  }
  // At the limit, the comment is taken: the key decides again.
  const std::string longest =
      R"({"verdict":"genuine","comment":")" + std::string(4096, 'x') + "\"}";
  EXPECT_EQ(Send("POST", "/api/v1/cases/" + keys[2] + "/verdict", acme_token_, longest).status,
            404);
  auto outbox = OpenOutbox(outbox_, OutboxAccess::kReadOnly);
  ASSERT_TRUE(outbox.ok());
  EXPECT_TRUE((*outbox)->ListVerdicts(AcmeKey(0)).value().empty());
  EXPECT_TRUE((*outbox)->ListVerdicts(BrandyKey(0)).value().empty());
}

TEST_F(PortalTest, AnotherHoldersKeyIsRefusedBeforeItsRowIsRead) {
  // A row whose key names brandy while its rights_holder column says acme: only a check
  // of the key itself, made before any row is read, refuses it to acme.
  const std::string key = "brandy:shop%3Aeu:mismatch";
  ExecSql(
      "INSERT INTO cases (case_key, rights_holder, marketplace, listing_id, seller_id, score,"
      " reasons, evidence, signals, fingerprint, material, status, first_seen_at, last_seen_at)"
      " SELECT '" +
      key +
      "', 'acme', marketplace, 'mismatch', seller_id, score, reasons, evidence, signals,"
      " fingerprint, material, status, first_seen_at, last_seen_at FROM cases"
      " WHERE case_key = '" +
      BrandyKey(3) + "'");
  const std::string encoded = EncodeComponent(key);
  ASSERT_EQ(Get("/api/v1/cases/" + encoded, admin_token_).status, 200);
  const Reply reference = Get("/api/v1/cases/" + EncodeComponent(BrandyKey(3)), acme_token_);
  EXPECT_EQ(reference.status, 404);
  EXPECT_EQ(reference.body, R"({"error":"no such case"})");
  const Reply c = Get("/api/v1/cases/" + encoded, acme_token_);
  EXPECT_EQ(c.status, 404);
  EXPECT_EQ(c.body, reference.body);
  const Reply photo = Get("/api/v1/photos/" + encoded + "/0", acme_token_);
  EXPECT_EQ(photo.status, 404);
  EXPECT_EQ(photo.body, reference.body);
  const Reply verdict = Send("POST", "/api/v1/cases/" + encoded + "/verdict", acme_token_,
                             R"({"verdict":"counterfeit"})");
  EXPECT_EQ(verdict.status, 404);
  EXPECT_EQ(verdict.body, reference.body);
  ExecSql("DELETE FROM verdicts WHERE case_key = '" + key + "'; DELETE FROM events WHERE" +
          " case_key = '" + key + "'; DELETE FROM cases WHERE case_key = '" + key + "'");
}

TEST_F(PortalTest, OneTokenCannotLogOtherTokensOut) {
  // A server of its own in this process, with room for 30 sessions.
  engine::PortalOptions options;
  options.outbox_path = outbox_;
  options.max_sessions = 30;
  absl::StatusOr<std::unique_ptr<engine::PortalApi>> api = engine::PortalApi::Create(options);
  ASSERT_TRUE(api.ok()) << api.status();
  absl::StatusOr<std::unique_ptr<engine::PortalServer>> server =
      engine::PortalServer::Bind(**api, engine::PortalServerOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  std::thread serving([&] { EXPECT_TRUE((*server)->Serve().ok()); });
  httplib::Client client("127.0.0.1", (*server)->port());
  const auto login = [&](const std::string& token) {
    const httplib::Result r =
        client.Post("/api/v1/session", "{\"token\":\"" + token + "\"}", "application/json");
    if (!r || r->status != 200) {
      ADD_FAILURE() << "login failed";
      return std::string();
    }
    const std::string set_cookie = r->get_header_value("Set-Cookie");
    return set_cookie.substr(0, set_cookie.find(';'));
  };
  const auto alive = [&](const std::string& cookie) {
    const httplib::Result r = client.Get("/api/v1/session", {{"Cookie", cookie}});
    return r && r->status == 200;
  };
  const std::string brandy = login(brandy_token_);
  std::vector<std::string> acme;
  for (int i = 0; i < 60; ++i) acme.push_back(login(acme_token_));
  EXPECT_TRUE(alive(brandy)) << "acme's logins logged brandy out";
  // acme keeps its newest 20 sessions.
  for (int i = 0; i < 60; ++i) EXPECT_EQ(alive(acme[i]), i >= 40) << i;
  (*server)->Stop();
  serving.join();
}

}  // namespace
}  // namespace bonafide
