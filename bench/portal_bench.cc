// The rights holders' portal under load (docs/portal.md): the real PortalServer on
// loopback, an outbox of many cases, client threads with kept-alive connections.
//
//   portal_bench --cases 1000000 [--holders 30] [--clients 4] [--seconds 10]
//                [--outbox PATH]
//
// Builds an outbox of --cases cases spread over --holders rights holders (rows written
// with SQL in one transaction: a case with a ~700-byte evidence, its announcement and one
// case.opened event each), or reuses --outbox when it exists. Then, for --seconds each,
// every client thread repeats one kind of request:
//   list     GET /api/v1/cases?status=pending&limit=50 as rights holder "h0", following
//            `next` for 20 pages
//   open     GET /api/v1/cases/{key} of a random case of h0 (with its events and verdicts)
//   report   GET /api/v1/report as h0 (every signal of h0's cases against their verdicts)
//   verdict  POST /api/v1/cases/{key}/verdict as "h1" on a case of h1 not judged before (a
//            when every case of h1 has been judged, the clients stop early: a reused
//            outbox has none left after --cases / --holders verdicts)
// and prints, per kind, requests/s and latency p50, p99 and max (client-side, from sending
// the request to the whole response). Any answer other than 200 is counted as an error.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include <sqlite3.h>

#include "bonafide/outbox.h"
#include "engine/portal_api.h"
#include "engine/portal_server.h"
#include "engine/portal_tokens.h"

#include "httplib.h"

namespace bonafide {
namespace {

struct Flags {
  int64_t cases = 1000000;
  int holders = 30;
  int clients = 4;
  double seconds = 10;
  std::string outbox;
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: portal_bench [--cases N] [--holders H] [--clients C] [--seconds S]"
               " [--outbox PATH]\n");
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) Usage();
    const char* value = argv[++i];
    if (arg == "--cases") {
      f.cases = std::atoll(value);
    } else if (arg == "--holders") {
      f.holders = std::atoi(value);
    } else if (arg == "--clients") {
      f.clients = std::atoi(value);
    } else if (arg == "--seconds") {
      f.seconds = std::atof(value);
    } else if (arg == "--outbox") {
      f.outbox = value;
    } else {
      Usage();
    }
  }
  if (f.cases < f.holders || f.holders < 1 || f.clients < 1 || f.seconds <= 0) Usage();
  return f;
}

std::string HolderOf(int64_t i, int holders) { return absl::StrCat("h", i % holders); }
std::string KeyOf(int64_t i, int holders) {
  return absl::StrCat(HolderOf(i, holders), ":shop:L", i);
}

bool Check(int rc, sqlite3* db, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
  std::fprintf(stderr, "portal_bench: %s: %s\n", what, sqlite3_errmsg(db));
  return false;
}

// Writes the cases straight into the outbox's tables: a scan of a dump that flags a million
// listings would take far longer and measure something else.
bool FillOutbox(const std::string& path, const Flags& f) {
  {
    auto outbox = OpenOutbox(path);  // creates the schema
    if (!outbox.ok()) {
      std::fprintf(stderr, "portal_bench: %s\n", outbox.status().ToString().c_str());
      return false;
    }
  }
  sqlite3* db = nullptr;
  if (!Check(sqlite3_open(path.c_str(), &db), db, "open")) return false;
  bool ok = Check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
  sqlite3_stmt* insert_case = nullptr;
  sqlite3_stmt* announce = nullptr;
  sqlite3_stmt* event = nullptr;
  ok = ok && Check(sqlite3_prepare_v2(
                       db,
                       "INSERT INTO cases (id, case_key, rights_holder, marketplace, listing_id,"
                       " seller_id, score, reasons, evidence, signals, fingerprint, material,"
                       " status, first_seen_at, last_seen_at)"
                       " VALUES (?1, ?2, ?3, 'shop', ?4, ?5, 2, ?6, ?7, 'cue:cue.replica price',"
                       " 'f', 'm', 'pending', ?8, ?8)",
                       -1, &insert_case, nullptr),
                   db, "prepare");
  ok = ok && Check(sqlite3_prepare_v2(db,
                                      "INSERT INTO announcements (case_id, status, material,"
                                      " revision) VALUES (?1, 'pending', 'm', 1)",
                                      -1, &announce, nullptr),
                   db, "prepare");
  ok = ok && Check(sqlite3_prepare_v2(db,
                                      "INSERT INTO events (event_key, rights_holder, case_key,"
                                      " type, payload, created_at) VALUES (?1 || ':1', ?2, ?1,"
                                      " 'case.opened', ?3, ?4)",
                                      -1, &event, nullptr),
                   db, "prepare");
  const std::string description(400, 'd');
  for (int64_t i = 0; ok && i < f.cases; ++i) {
    const std::string key = KeyOf(i, f.holders), holder = HolderOf(i, f.holders);
    const std::string listing = absl::StrCat("L", i), seller = absl::StrCat("s", i % 5000);
    const std::string reasons = absl::StrCat(
        R"([{"signal":"cue","rule":"cue.replica","version":1,"weight":1,"shadow":false,)",
        R"("field":"title","begin":10,"end":17,"text":"replica"},)",
        R"({"signal":"price","weight":1,"shadow":false,"ratio":0.2}])");
    const std::string evidence = absl::StrCat(
        R"({"listing":{"id":")", listing, R"(","marketplace":"shop","title":"ACME Runner replica )",
        i, R"(","description":")", description, R"(","price":19.9,"currency":"EUR","seller_id":")",
        seller, R"(","images":[]},"threshold":1,"explanation":"score 2 >= threshold 1"})");
    // Newest first is by first_seen_at: one millisecond apart, in id order.
    const int64_t ms = 1764900000000 + i;
    char when[64];
    const std::time_t secs = ms / 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    sqlite3_bind_int64(insert_case, 1, i + 1);
    sqlite3_bind_text(insert_case, 2, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert_case, 3, holder.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert_case, 4, listing.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert_case, 5, seller.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert_case, 6, reasons.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert_case, 7, evidence.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert_case, 8, when, -1, SQLITE_TRANSIENT);
    ok = Check(sqlite3_step(insert_case), db, "insert case");
    sqlite3_reset(insert_case);
    sqlite3_bind_int64(announce, 1, i + 1);
    ok = ok && Check(sqlite3_step(announce), db, "insert announcement");
    sqlite3_reset(announce);
    const std::string payload =
        absl::StrCat(R"({"case_key":")", key, R"(","status":"pending","reasons":)", reasons,
                     R"(,"revision":1})");
    sqlite3_bind_text(event, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(event, 2, holder.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(event, 3, payload.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(event, 4, when, -1, SQLITE_TRANSIENT);
    ok = ok && Check(sqlite3_step(event), db, "insert event");
    sqlite3_reset(event);
  }
  sqlite3_finalize(insert_case);
  sqlite3_finalize(announce);
  sqlite3_finalize(event);
  ok = ok && Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  sqlite3_close(db);
  return ok;
}

struct Kind {
  const char* name;
  std::vector<double> latencies_ms;
  int64_t errors = 0;
  double seconds = 0;
};

void Report(const Kind& k) {
  std::vector<double> v = k.latencies_ms;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
  };
  std::printf(
      "%-8s %8zu requests %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms   "
      "errors %lld\n",
      k.name, v.size(), static_cast<double>(v.size()) / k.seconds, at(0.50), at(0.99),
      v.empty() ? 0.0 : v.back(), static_cast<long long>(k.errors));
}

int Main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  std::string path = f.outbox;
  std::unique_ptr<std::filesystem::path> temp_dir;
  if (path.empty()) {
    temp_dir = std::make_unique<std::filesystem::path>(std::filesystem::temp_directory_path() /
                                                       absl::StrCat("portal-bench-", getpid()));
    std::filesystem::create_directories(*temp_dir);
    path = (*temp_dir / "outbox.db").string();
  }
  if (!std::filesystem::exists(path)) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!FillOutbox(path, f)) return 1;
    std::printf("outbox: %lld cases of %d rights holders written in %.1f s (%s)\n",
                static_cast<long long>(f.cases), f.holders,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                path.c_str());
  }
  std::string tokens[2];  // of h0 (reads) and h1 (verdicts)
  {
    auto outbox = OpenOutbox(path);
    for (int h = 0; h < 2; ++h) {
      auto created = outbox.ok() ? engine::CreateToken(**outbox, absl::StrCat("h", h))
                                 : absl::StatusOr<std::string>(outbox.status());
      if (!created.ok()) {
        std::fprintf(stderr, "portal_bench: %s\n", created.status().ToString().c_str());
        return 1;
      }
      tokens[h] = *created;
    }
  }
  engine::PortalOptions options;
  options.outbox_path = path;
  auto api = engine::PortalApi::Create(options);
  if (!api.ok()) {
    std::fprintf(stderr, "portal_bench: %s\n", api.status().ToString().c_str());
    return 1;
  }
  auto server = engine::PortalServer::Bind(**api, {});
  if (!server.ok()) {
    std::fprintf(stderr, "portal_bench: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::thread serving([&] { (void)(*server)->Serve(); });
  const int port = (*server)->port();
  const httplib::Headers reader = {{"Authorization", "Bearer " + tokens[0]}};
  const httplib::Headers judge = {{"Authorization", "Bearer " + tokens[1]}};
  const int64_t holder_cases = f.cases / f.holders;  // h<k>'s cases: k, H + k, 2H + k, ...

  // The verdicts take h1's cases from the oldest up, after those an earlier run judged.
  std::atomic<int64_t> next_verdict{0};
  {
    sqlite3* db = nullptr;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM verdicts WHERE rights_holder = 'h1'", -1,
                           &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      next_verdict = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  std::vector<Kind> kinds = {
      {"list", {}, 0, 0}, {"open", {}, 0, 0}, {"report", {}, 0, 0}, {"verdict", {}, 0, 0}};
  for (Kind& kind : kinds) {
    const std::string name = kind.name;
    std::vector<std::vector<double>> per_client(f.clients);
    std::vector<int64_t> errors(f.clients, 0);
    std::atomic<bool> out_of_cases = false;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::duration<double>(f.seconds);
    std::vector<std::thread> clients;
    for (int c = 0; c < f.clients; ++c) {
      clients.emplace_back([&, c] {
        httplib::Client client("127.0.0.1", port);
        client.set_keep_alive(true);
        client.set_tcp_nodelay(true);
        std::mt19937_64 random(c + 1);
        std::string cursor;
        int page = 0;
        while (std::chrono::steady_clock::now() < deadline) {
          // A verdict needs a case not judged before; when none is left the kind ends early
          // (a fast machine judges them all within --seconds), which is not an error.
          int64_t to_judge = -1;
          if (name == "verdict") {
            to_judge = next_verdict.fetch_add(1);
            if (to_judge >= holder_cases) {
              out_of_cases = true;
              break;
            }
          }
          const auto t0 = std::chrono::steady_clock::now();
          httplib::Result result = [&] {
            if (name == "list") {
              std::string target = "/api/v1/cases?status=pending&limit=50";
              if (!cursor.empty()) target += "&after=" + cursor;
              return client.Get(target, reader);
            }
            if (name == "report") return client.Get("/api/v1/report", reader);
            if (name == "open") {
              const int64_t i = static_cast<int64_t>(random() % holder_cases) * f.holders;
              return client.Get("/api/v1/cases/" + KeyOf(i, f.holders), reader);
            }
            return client.Post(
                "/api/v1/cases/" + KeyOf(to_judge * f.holders + 1, f.holders) + "/verdict", judge,
                R"({"verdict":"counterfeit","comment":"bench"})", "application/json");
          }();
          if (name == "list") {
            // Follows `next` (an opaque hex cursor, no escaping needed) for 20 pages.
            cursor.clear();
            if (result && result->status == 200 && ++page < 20) {
              const size_t at = result->body.rfind("\"next\":\"");
              if (at != std::string::npos) {
                cursor = result->body.substr(at + 8, result->body.find('"', at + 8) - at - 8);
              }
            }
            if (cursor.empty()) page = 0;
          }
          const double ms =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count();
          if (!result || result->status != 200) {
            ++errors[c];
          } else {
            per_client[c].push_back(ms);
          }
        }
      });
    }
    for (std::thread& t : clients) t.join();
    kind.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (int c = 0; c < f.clients; ++c) {
      kind.latencies_ms.insert(kind.latencies_ms.end(), per_client[c].begin(), per_client[c].end());
      kind.errors += errors[c];
    }
    Report(kind);
    if (out_of_cases) {
      std::printf("verdict: every case of h1 judged after %.2f s (a larger --cases runs longer)\n",
                  kind.seconds);
    }
  }
  (*server)->Stop();
  serving.join();
  if (temp_dir != nullptr) std::filesystem::remove_all(*temp_dir);
  int64_t errors = 0;
  for (const Kind& k : kinds) errors += k.errors;
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace bonafide

int main(int argc, char** argv) { return bonafide::Main(argc, argv); }
