// Micro-benchmarks for engine/listing_input: parsing one in-memory chunk of listings.
//
//   BM_ListingInput_ParseJsonl    ChunkParser::Parse: JSON Lines records → validated Listings
//   BM_ListingInput_ParseCsv      ChunkParser::Parse: the same listings as CSV rows
//   BM_ListingInput_SimdjsonOnly  the floor: simdjson On-Demand iterate per line, touching
//                                 every field (string views only, no validation, no copies)
//
// The chunk holds ~2,000 synthetic listings of ~500 bytes each (about 1 MiB, the default
// chunk size). Results read as MB/s (bytes) and listings/s (items).
#include <cstring>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>

#include "engine/csv_listing_parser.h"
#include "engine/listing_input.h"

#include "simdjson.h"

namespace bonafide::engine {
namespace {

// ~500-byte listing lines with escapes, nested unknown fields and images.
std::string MakeJsonl(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string line = R"({"id":"l-)" + std::to_string(1000000 + i) +
                       R"(","marketplace":"shop-de","title":"ACME Runner 22 \"Originals\" )"
                       R"(running shoes size )" +
                       std::to_string(36 + i % 12) +
                       R"(","description":"Brand new in box, never worn. Fast shipping )"
                       R"(from Hamburg. Returns accepted within 14 days.","price":)" +
                       std::to_string(20 + i % 200) + "." + std::to_string(i % 100) +
                       R"(,"currency":"EUR","seller_id":"s-)" + std::to_string(i % 5000) +
                       R"(","category":"shoes/running","condition":"new","quantity":)" +
                       std::to_string(1 + i % 3) + R"(,"images":["img/)" + std::to_string(i) +
                       R"(-front.jpg","img/)" + std::to_string(i) +
                       R"(-side.jpg"],"attrs":{"color":"black","tags":["a","b"]},"pad":")";
    line.append(line.size() < 490 ? 490 - line.size() : 0, 'x');
    line += "\"}\n";
    out += line;
  }
  return out;
}

// The same listings as CSV rows (without the unknown fields), under kCsvHeader.
constexpr char kCsvHeader[] =
    "id,marketplace,title,description,price,currency,seller_id,category,condition,quantity,"
    "images\n";
std::string MakeCsv(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    const std::string id = std::to_string(i);
    std::string line = "l-" + std::to_string(1000000 + i) +
                       ",shop-de,\"ACME Runner 22 \"\"Originals\"\" running shoes size " +
                       std::to_string(36 + i % 12) +
                       "\",\"Brand new in box, never worn. Fast shipping from Hamburg. Returns "
                       "accepted within 14 days.\"," +
                       std::to_string(20 + i % 200) + "." + std::to_string(i % 100) + ",EUR,s-" +
                       std::to_string(i % 5000) + ",shoes/running,new," +
                       std::to_string(1 + i % 3) + ",img/" + id + "-front.jpg|img/" + id +
                       "-side.jpg\n";
    out += line;
  }
  return out;
}

InputChunk MakeChunk(int n, InputFormat format = InputFormat::kJsonLines) {
  InputChunk chunk;
  std::string text = format == InputFormat::kCsv ? MakeCsv(n) : MakeJsonl(n);
  chunk.format = format;
  chunk.data.reserve(text.size() + kChunkPadding);
  chunk.data = text;
  chunk.ends_input = true;
  return chunk;
}

// Times ChunkParser over one chunk of state.range(0) synthetic listings in `format`.
void TimeParse(benchmark::State& state, InputFormat format) {
  InputChunk chunk = MakeChunk(static_cast<int>(state.range(0)), format);
  if (format == InputFormat::kCsv) {
    std::string_view header = kCsvHeader;
    header.remove_suffix(1);  // the line end
    absl::StatusOr<std::shared_ptr<const CsvSchema>> schema = CsvSchema::FromHeader(header);
    if (!schema.ok()) {
      state.SkipWithError("bad CSV header");
      return;
    }
    chunk.csv = *schema;
  }
  ChunkParser parser;
  ParsedBatch batch;
  for (auto _ : state) {
    batch.Clear();
    parser.Parse(chunk, batch);
    benchmark::DoNotOptimize(batch.listings.data());
  }
  if (batch.listings_size != static_cast<size_t>(state.range(0))) {
    state.SkipWithError("not every synthetic listing was accepted");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.data.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ListingInput_ParseJsonl(benchmark::State& state) {
  TimeParse(state, InputFormat::kJsonLines);
}
BENCHMARK(BM_ListingInput_ParseJsonl)->Arg(2000);

void BM_ListingInput_ParseCsv(benchmark::State& state) { TimeParse(state, InputFormat::kCsv); }
BENCHMARK(BM_ListingInput_ParseCsv)->Arg(2000);

void BM_ListingInput_SimdjsonOnly(benchmark::State& state) {
  const InputChunk chunk = MakeChunk(static_cast<int>(state.range(0)));
  simdjson::ondemand::parser parser;
  const char* data = chunk.data.data();
  const size_t size = chunk.data.size();
  for (auto _ : state) {
    size_t pos = 0, touched = 0;
    while (pos < size) {
      const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
      size_t len = nl ? static_cast<size_t>(nl - (data + pos)) : size - pos;
      simdjson::ondemand::document doc;
      if (!parser.iterate(data + pos, len, size - pos + kChunkPadding).get(doc)) {
        simdjson::ondemand::object obj;
        if (!doc.get_object().get(obj)) {
          for (auto field : obj) {
            std::string_view s;
            double d;
            simdjson::ondemand::value v = field.value();
            switch (v.type().value_unsafe()) {
              case simdjson::ondemand::json_type::string:
                if (!v.get_string().get(s)) touched += s.size();
                break;
              case simdjson::ondemand::json_type::number:
                if (!v.get_double().get(d)) touched += d > 0;
                break;
              default:
                break;
            }
          }
        }
      }
      pos += len + 1;
    }
    benchmark::DoNotOptimize(touched);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ListingInput_SimdjsonOnly)->Arg(2000);

}  // namespace
}  // namespace bonafide::engine

BENCHMARK_MAIN();
