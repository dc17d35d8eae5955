// bonafide_image_bench: the image stage end to end, beside bonafide_bench (text).
//
//   bonafide_image_bench --data DIR [--photos 1000] [--large-photos 20] [--genuine 250]
//       [--threads 1,2] [--repeats 3] [--batches 16] [--hamming-bank 1000000]
//       [--edited-photos on|off] [--json results.json] [--work-dir DIR]
//
// Generates in DIR, or reuses when DIR/manifest.txt matches the flags, a reproducible photo
// set drawn in code (gradients, shapes, text and sensor-like noise, so that JPEG sizes are a
// real photo's): --photos 1-MP JPEGs (1152x864, quality 90) in listings of 1-3 photos,
// --large-photos 12-MP JPEGs (4000x3000) one per listing, and a rules directory whose
// products register --genuine 1-MP genuine photos (plus the 12-MP originals of the large
// copies). One listing in four shows a seller's edits of genuine photos (recompressed,
// mirrored, rotated, brightened, watermarked, resampled), so that matches really happen.
// Then, for each set, side by side on the same files:
//   read files            ReadImageFile alone (the I/O floor; the files are page-cached)
//   full decode + PDQ     ImageDecoder kFull + PdqHasher, 1 thread
//   reduced decode + PDQ  kReduced (what the scan uses), 1 thread
//   OpenCV PHash          cv::imread + cv::img_hash::PHash, 1 thread (the peer)
//   scan/T                Scanner::ScanFiles with an image root into a fresh SQLite outbox,
//                         T threads, the file cut into --batches batches (and once into
//                         batches of the default size)
// and flat versus multi-index Hamming search over the bank's hashes (and over the bank
// padded with random hashes to --hamming-bank), queried with the listing photos' hashes.
// Every configuration runs in its own forked child, so that its peak RSS (wait4) is its
// own; the parent never touches OpenCV or oneTBB. --edited-photos (ScannerOptions::
// edited_photos, on by default as in the scanner) runs the stages after PDQ (trimmed PDQ,
// local features) on every photo PDQ does not match; off measures PDQ alone. Each figure is the
// median of --repeats passes; ratios are to the scan with the most threads on the same set.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include <opencv2/core.hpp>
#include <opencv2/img_hash.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bench/child_process.h"
#include "bonafide/listing.h"
#include "bonafide/outbox.h"
#include "bonafide/scanner.h"
#include "bonafide/verdict.h"
#include "models/hamming_index.h"
#include "models/image_decode.h"
#include "models/pdq.h"
#include "models/photo_bank.h"
#include "util/strings.h"

namespace bonafide {
namespace {

namespace fs = std::filesystem;
using bench::Median;

// Bump when the drawing or the layout changes, so that old data sets are regenerated.
constexpr int kDataVersion = 2;
constexpr int kHolders = 5;
constexpr int kTargetPhotosPerSecond = 500;  // 1-MP JPEGs, 2 threads (bench/RESULTS.md)

struct Options {
  std::string data;
  int photos = 1000;
  int large_photos = 20;
  int genuine = 250;
  int small_width = 1152, small_height = 864;
  int large_width = 4000, large_height = 3000;
  std::vector<int> threads = {1, 2};
  int repeats = 3;
  int64_t hamming_bank = 1'000'000;
  // Pipeline batches per listing file. The scan cuts its input into batches of bytes (16 KiB
  // when photos are read, ScanOptions::photo_chunk_bytes), and a batch of listings with
  // photos is a quarter second of work or more: these small files are a few batches. 16
  // batches per file gives the steady state of a large dump (many batches per thread); the
  // default batch size is measured too.
  int batches = 16;
  // The nightly rescan's share of new photos, in percent (2; 0 = no rescan rows).
  double rescan_changed_percent = 2;
  bool edited_photos = true;  // ScannerOptions::edited_photos
  std::string json;
  std::string work_dir = fs::temp_directory_path().string();
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bonafide_image_bench: %s\n", message.c_str());
  std::fflush(nullptr);
  std::_Exit(1);  // also from forked children: no exit handlers of the parent's state
}

// ---------------------------------------------------------------------------------------
// The plan: which photos exist, which listings show them, which are copies. A pure function
// of the flags, so the parent knows it without reading the data.

struct PhotoSpec {
  std::string path;   // relative to the image root
  uint64_t seed = 0;  // an unrelated photo is drawn from this seed
  int genuine = -1;   // a copy: index into Plan::genuine
  int edit = 0;       // a copy: which seller's edit (see Edit)
};

struct ListingSpec {
  std::string id;  // "copy-..." listings show only copies, "item-..." only unrelated photos
  std::vector<PhotoSpec> photos;
};

struct GenuineSpec {
  std::string path;  // relative to rules/rights_holders
  uint64_t seed = 0;
  int width = 0, height = 0;
  int holder = 0, product = 0;
};

struct PhotoSet {
  std::string name;  // "1-MP", "12-MP"
  int width = 0, height = 0;
  std::string listings_file;  // relative to the data dir
  std::vector<ListingSpec> listings;
  int64_t photos = 0;
  int64_t planted = 0;  // photos that are copies of genuine photos
};

struct Plan {
  std::vector<GenuineSpec> genuine;
  std::vector<PhotoSet> sets;
};

std::string MegapixelName(int width, int height) {
  const double mp = static_cast<double>(width) * height / 1e6;
  return mp >= 0.95 ? absl::StrFormat("%.0f-MP", mp) : absl::StrFormat("%.1f-MP", mp);
}

Plan MakePlan(const Options& o) {
  Plan plan;
  auto add_genuine = [&](const std::string& name, uint64_t seed, int w, int h) {
    const int g = static_cast<int>(plan.genuine.size());
    // Four photos per product, products dealt round-robin over the holders.
    plan.genuine.push_back({"photos/" + name, seed, w, h, g % kHolders, g / kHolders / 4});
    return g;
  };
  for (int g = 0; g < o.genuine; ++g) {
    add_genuine(absl::StrFormat("g-%05d.jpg", g), g, o.small_width, o.small_height);
  }
  // The small set: listings of 1, 2, 3, 1, 2, 3... photos; every fourth listing is a copy
  // listing whose photos are edits of consecutive genuine photos.
  PhotoSet small{MegapixelName(o.small_width, o.small_height), o.small_width, o.small_height,
                 "listings-small.jsonl"};
  int next_genuine = 0;
  for (int photo = 0, j = 0; photo < o.photos; ++j) {
    const int n = std::min(1 + j % 3, o.photos - photo);
    const bool copy = j % 4 == 0 && o.genuine > 0;
    ListingSpec l;
    l.id = absl::StrFormat("%s-%06d", copy ? "copy" : "item", j);
    for (int k = 0; k < n; ++k, ++photo) {
      PhotoSpec p;
      p.path = absl::StrFormat("small/%s-%d.jpg", l.id, k);
      if (copy) {
        p.genuine = next_genuine++ % o.genuine;
        p.edit = photo;
        ++small.planted;
      } else {
        p.seed = 1'000'000 + photo;
      }
      l.photos.push_back(p);
    }
    small.photos += n;
    small.listings.push_back(std::move(l));
  }
  // The large set: one photo per listing; every fourth is a copy of its own 12-MP genuine
  // photo (genuine photos come in both sizes in real rules).
  PhotoSet large{MegapixelName(o.large_width, o.large_height), o.large_width, o.large_height,
                 "listings-large.jsonl"};
  for (int j = 0; j < o.large_photos; ++j) {
    const bool copy = j % 4 == 0;
    ListingSpec l;
    l.id = absl::StrFormat("%s-%06d", copy ? "copy" : "item", j);
    PhotoSpec p;
    p.path = absl::StrFormat("large/%s-0.jpg", l.id);
    if (copy) {
      p.genuine = add_genuine(absl::StrFormat("gl-%05d.jpg", j), 500'000 + j, o.large_width,
                              o.large_height);
      p.edit = j / 4;
      ++large.planted;
    } else {
      p.seed = 2'000'000 + j;
    }
    l.photos.push_back(p);
    large.photos = j + 1;
    large.listings.push_back(std::move(l));
  }
  plan.sets.push_back(std::move(small));
  if (o.large_photos > 0) plan.sets.push_back(std::move(large));
  return plan;
}

std::string Manifest(const Options& o) {
  return absl::StrFormat(
      "bonafide_image_bench data v%d: photos %d (%dx%d), large photos %d (%dx%d), genuine %d\n",
      kDataVersion, o.photos, o.small_width, o.small_height, o.large_photos, o.large_width,
      o.large_height, o.genuine);
}

// ---------------------------------------------------------------------------------------
// Drawing (only in the generating child).

// A photo-like picture from `seed`: two colours blended along a random direction with two
// slow waves, a dozen anti-aliased shapes, a line of text and Gaussian sensor noise. The
// noise is what makes the JPEG size realistic (quality 90: about 2 bits per pixel).
cv::Mat DrawPhoto(uint64_t seed, int width, int height) {
  cv::RNG rng(seed * 0x9E3779B97F4A7C15ull + 12345);
  const cv::Vec3f a(rng.uniform(0.f, 255.f), rng.uniform(0.f, 255.f), rng.uniform(0.f, 255.f));
  const cv::Vec3f b(rng.uniform(0.f, 255.f), rng.uniform(0.f, 255.f), rng.uniform(0.f, 255.f));
  const double angle = rng.uniform(0.0, 2 * CV_PI);
  const float cx = static_cast<float>(std::cos(angle)), cy = static_cast<float>(std::sin(angle));
  // Separable waves: one table per axis instead of a sin() per pixel.
  std::vector<float> wave_x(width), wave_y(height);
  const double fx = rng.uniform(1.0, 6.0), fy = rng.uniform(1.0, 6.0);
  const double px = rng.uniform(0.0, 2 * CV_PI), py = rng.uniform(0.0, 2 * CV_PI);
  for (int x = 0; x < width; ++x) {
    wave_x[x] = static_cast<float>(30 * std::sin(2 * CV_PI * fx * x / width + px));
  }
  for (int y = 0; y < height; ++y) {
    wave_y[y] = static_cast<float>(std::cos(2 * CV_PI * fy * y / height + py));
  }
  cv::Mat img(height, width, CV_8UC3);
  const float inv = 1.0f / static_cast<float>(width + height);
  for (int y = 0; y < height; ++y) {
    auto* row = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < width; ++x) {
      const float t =
          std::clamp(((x - width / 2) * cx + (y - height / 2) * cy) * inv + 0.5f, 0.0f, 1.0f);
      const cv::Vec3f c = a * (1 - t) + b * t;
      const float w = wave_x[x] * wave_y[y];
      row[x] = cv::Vec3b(cv::saturate_cast<uchar>(c[0] + w), cv::saturate_cast<uchar>(c[1] + w),
                         cv::saturate_cast<uchar>(c[2] + w));
    }
  }
  const int s = std::min(width, height);
  for (int i = 0; i < 12; ++i) {
    const cv::Scalar colour(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
    const cv::Point p(rng.uniform(0, width), rng.uniform(0, height));
    const int r = rng.uniform(s / 16, s / 4);
    const int thickness = rng.uniform(0, 3) == 0 ? std::max(2, s / 100) : cv::FILLED;
    switch (rng.uniform(0, 3)) {
      case 0:
        cv::circle(img, p, r, colour, thickness, cv::LINE_AA);
        break;
      case 1:
        cv::rectangle(img, p, p + cv::Point(r, r * 2 / 3), colour, thickness, cv::LINE_AA);
        break;
      default:
        cv::ellipse(img, p, cv::Size(r, r / 2), rng.uniform(0, 180), 0, 360, colour, thickness,
                    cv::LINE_AA);
    }
  }
  cv::putText(img, absl::StrCat("LOT ", seed), cv::Point(width / 12, height * 9 / 10),
              cv::FONT_HERSHEY_DUPLEX, s / 300.0, cv::Scalar(250, 250, 250), std::max(1, s / 150),
              cv::LINE_AA);
  cv::Mat noise(height, width, CV_16SC3);
  rng.fill(noise, cv::RNG::NORMAL, 0, rng.uniform(4.0, 6.5));
  cv::add(img, noise, img, cv::noArray(), CV_8U);
  return img;
}

// The seller's edits (all keep about the same pixel count); sets the JPEG quality.
cv::Mat Edit(const cv::Mat& genuine, int edit, int* quality) {
  cv::Mat out;
  *quality = 88;
  switch (edit % 6) {
    case 0:
      out = genuine;
      *quality = 75;
      break;  // recompressed
    case 1:
      cv::flip(genuine, out, 1);
      break;  // mirrored
    case 2:
      cv::rotate(genuine, out, cv::ROTATE_90_CLOCKWISE);
      break;
    case 3:
      genuine.convertTo(out, -1, 1.0, 20);
      break;  // brightened
    case 4:
      out = genuine.clone();
      cv::putText(out, "best-deals-shop.example", cv::Point(out.cols / 20, out.rows / 10),
                  cv::FONT_HERSHEY_SIMPLEX, out.cols / 1200.0, cv::Scalar(240, 240, 240),
                  std::max(1, out.cols / 600), cv::LINE_AA);
      break;
    default: {  // resampled: shrunk to 60% and blown up again, as a re-posted thumbnail
      // (not cropped: a 4% crop on every side moved PDQ by 56-88 bits here, past the
      // 31-bit threshold; DCT hashes do not survive crops)
      cv::Mat small;
      cv::resize(genuine, small, cv::Size(), 0.6, 0.6, cv::INTER_AREA);
      cv::resize(small, out, genuine.size(), 0, 0, cv::INTER_LINEAR);
    }
  }
  return out;
}

void WriteFile(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) Die("cannot write " + path.string());
}

void WriteJpeg(const fs::path& path, const cv::Mat& img, int quality) {
  std::vector<uchar> buf;
  if (!cv::imencode(".jpg", img, buf, {cv::IMWRITE_JPEG_QUALITY, quality})) {
    Die("cannot encode " + path.string());
  }
  WriteFile(path, std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

void WriteRules(const fs::path& rules, const Plan& plan) {
  WriteFile(rules / "policy.yaml", R"(# Generated by bonafide_image_bench.
currency: EUR
fx_date: 2026-11-27
fx: {USD: 0.86}
threshold: 1.0
weights: {cue: 1.0, price: 1.0, image: 1.0, obfuscated_brand: 0.5}
image: {max_distance: 31, min_quality: 50}
)");
  WriteFile(rules / "cues.yaml", "rules:\n  - id: cue.replica\n    phrases: [replica, fake]\n");
  for (int h = 0; h < kHolders; ++h) {
    const char letter = static_cast<char>('a' + h);
    std::string products;
    int product = -1;
    for (const GenuineSpec& g : plan.genuine) {  // products are contiguous per holder
      if (g.holder != h) continue;
      if (g.product != product) {
        product = g.product;
        absl::StrAppendFormat(&products,
                              "  - id: bench-%c-p%d\n    name: Model %d\n    keywords: [model "
                              "%c%d]\n    images:\n",
                              letter, product, product, letter, product);
      }
      absl::StrAppend(&products, "      - ", g.path, "\n");
    }
    const char upper = static_cast<char>('A' + h);
    std::string yaml =
        absl::StrFormat("id: bench-%c\nname: Benchbrand %c Ltd\nbrands:\n  - name: Benchbrand %c\n",
                        letter, upper, upper);
    if (!products.empty()) absl::StrAppend(&yaml, "products:\n", products);
    WriteFile(rules / "rights_holders" / absl::StrCat("bench-", std::string(1, letter), ".yaml"),
              yaml);
  }
}

// Neutral listing text (no cue words): every case the scan opens comes from a photo.
std::string ListingLine(const ListingSpec& l, int j) {
  static const char* const kTitles[] = {
      "Running shoes, size 42, worn twice", "Leather handbag with shoulder strap",
      "Benchbrand A wrist watch, boxed",    "Wireless headphones, black, like new",
      "Benchbrand C trainers for kids",     "Vintage sunglasses with case"};
  std::string line;
  JsonObject obj(line);
  obj.String("id", l.id)
      .String("title", kTitles[j % 6])
      .String("description",
              "Bought last year, kept in a smoke-free home. Photos show the item itself; "
              "shipping within two days, pickup possible. Ask me anything.")
      .Raw("price", absl::StrCat(49 + j % 90))
      .String("currency", "EUR")
      .String("seller_id", absl::StrCat("s-", j % 97));
  std::string images = "[";
  for (const PhotoSpec& p : l.photos) {
    if (images.size() > 1) images.push_back(',');
    AppendJsonString(p.path, images);
  }
  images.push_back(']');
  obj.Raw("images", images);
  obj.Close();
  line.push_back('\n');
  return line;
}

// Generates everything; photos in parallel (each depends only on its seed).
void Generate(const Options& o, const Plan& plan) {
  const fs::path data(o.data);
  for (const char* sub : {"rules", "images", "cache", "listings-small.jsonl",
                          "listings-large.jsonl", "manifest.txt"}) {
    fs::remove_all(data / sub);
  }
  WriteRules(data / "rules", plan);
  const fs::path genuine_dir = data / "rules" / "rights_holders";
  cv::parallel_for_(cv::Range(0, static_cast<int>(plan.genuine.size())), [&](const cv::Range& r) {
    for (int g = r.start; g < r.end; ++g) {
      const GenuineSpec& s = plan.genuine[g];
      WriteJpeg(genuine_dir / s.path, DrawPhoto(s.seed, s.width, s.height), 92);
    }
  });
  for (const PhotoSet& set : plan.sets) {
    std::vector<const PhotoSpec*> photos;
    std::string jsonl;
    for (size_t j = 0; j < set.listings.size(); ++j) {
      jsonl += ListingLine(set.listings[j], static_cast<int>(j));
      for (const PhotoSpec& p : set.listings[j].photos) photos.push_back(&p);
    }
    WriteFile(data / set.listings_file, jsonl);
    cv::parallel_for_(cv::Range(0, static_cast<int>(photos.size())), [&](const cv::Range& r) {
      for (int i = r.start; i < r.end; ++i) {
        const PhotoSpec& p = *photos[i];
        if (p.genuine < 0) {
          WriteJpeg(data / "images" / p.path, DrawPhoto(p.seed, set.width, set.height), 90);
          continue;
        }
        const GenuineSpec& g = plan.genuine[p.genuine];
        int quality = 0;
        const cv::Mat copy = Edit(DrawPhoto(g.seed, g.width, g.height), p.edit, &quality);
        WriteJpeg(data / "images" / p.path, copy, quality);
      }
    });
  }
  WriteFile(data / "manifest.txt", Manifest(o));  // last: a complete data set
}

// ---------------------------------------------------------------------------------------
// Children: every configuration runs in a forked process and sends back a plain struct.

// Runs `body` in a forked child (bench/child_process.h); dies when the child failed.
template <typename T>
T RunInChild(const std::string& what, const std::function<T()>& body, double* peak_mb) {
  std::optional<T> result = bench::RunInChild<T>(body, peak_mb);
  if (!result) Die(what + ": the measuring process failed");
  return *result;
}

struct Timing {
  double wall = 0;
  double cpu = 0;  // user + system of the whole process (all threads)
};

double CpuSeconds() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

Timing Time(const std::function<void()>& f) {
  const double cpu = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  f();
  Timing t;
  t.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.cpu = CpuSeconds() - cpu;
  return t;
}

// What one configuration measured (sent from the child; plain data).
struct Result {
  double seconds = 0;      // median wall time of a pass
  double cpu_seconds = 0;  // median CPU time of a pass
  int64_t photos = 0;
  int64_t listings = 0;  // scans only
  int64_t bytes = 0;     // JPEG bytes of the photos
  // Scans only: what the summary and the outbox saw in the last pass.
  int64_t hashed = 0, matched = 0, cases = 0, spurious_cases = 0;
  uint64_t check = 0;  // folded hash bits, so the work cannot be optimised away
};

// Runs `pass` --repeats times and keeps the medians.
Result Repeat(const Options& o, const std::function<void(Result&)>& pass) {
  Result r;
  std::vector<double> wall, cpu;
  for (int i = 0; i < o.repeats; ++i) {
    const Timing t = Time([&] { pass(r); });
    wall.push_back(t.wall);
    cpu.push_back(t.cpu);
  }
  r.seconds = Median(wall);
  r.cpu_seconds = Median(cpu);
  return r;
}

std::vector<std::string> PhotoPaths(const Options& o, const PhotoSet& set) {
  std::vector<std::string> paths;
  for (const ListingSpec& l : set.listings) {
    for (const PhotoSpec& p : l.photos) paths.push_back(o.data + "/images/" + p.path);
  }
  return paths;
}

int64_t TotalBytes(const std::vector<std::string>& paths) {
  int64_t bytes = 0;
  for (const std::string& path : paths) bytes += static_cast<int64_t>(fs::file_size(path));
  return bytes;
}

Result ReadFiles(const Options& o, const PhotoSet& set) {
  const std::vector<std::string> paths = PhotoPaths(o, set);
  std::string bytes;
  return Repeat(o, [&](Result& r) {
    r.photos = r.bytes = 0;
    for (const std::string& path : paths) {
      if (absl::Status s = models::ReadImageFile(path, size_t{64} << 20, bytes); !s.ok()) {
        Die(path + ": " + std::string(s.message()));
      }
      ++r.photos;
      r.bytes += static_cast<int64_t>(bytes.size());
      r.check += static_cast<uint8_t>(bytes.back());
    }
  });
}

Result DecodeAndPdq(const Options& o, const PhotoSet& set, models::DecodeMode mode) {
  cv::setNumThreads(0);  // 0: OpenCV runs everything on the calling thread
  const std::vector<std::string> paths = PhotoPaths(o, set);
  models::ImageDecoder decoder;
  models::DecodedLuma luma;
  models::PdqHasher hasher;
  const int64_t bytes = TotalBytes(paths);
  return Repeat(o, [&](Result& r) {
    r.photos = 0;
    r.bytes = bytes;
    for (const std::string& path : paths) {
      if (absl::Status s = decoder.DecodeFile(path, mode, luma); !s.ok()) {
        Die(path + ": " + std::string(s.message()));
      }
      const models::PdqResult h = hasher.Hash(luma.luma.data(), luma.width, luma.height);
      ++r.photos;
      r.check ^= h.hash.words[0] + static_cast<uint64_t>(h.quality);
    }
  });
}

Result OpenCvPhash(const Options& o, const PhotoSet& set) {
  cv::setNumThreads(0);
  const std::vector<std::string> paths = PhotoPaths(o, set);
  cv::Ptr<cv::img_hash::PHash> phash = cv::img_hash::PHash::create();
  cv::Mat hash;
  const int64_t bytes = TotalBytes(paths);
  return Repeat(o, [&](Result& r) {
    r.photos = 0;
    r.bytes = bytes;
    for (const std::string& path : paths) {
      const cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);  // what a user of OpenCV writes
      if (img.empty()) Die(path + ": cv::imread failed");
      phash->compute(img, hash);
      ++r.photos;
      r.check ^= hash.at<uint8_t>(0, 0) + (uint64_t{hash.at<uint8_t>(0, 7)} << 8);
    }
  });
}

// The scanner of the decode rows: photos under the data dir, the genuine photos' hashes
// from the cache, and no listing-photo cache (these rows measure decoding).
ScannerOptions ScannerOptionsFor(const Options& o) {
  ScannerOptions options;
  options.rules_dir = o.data + "/rules";
  options.cache_dir = o.data + "/cache";
  options.image_root = o.data + "/images";
  options.photo_cache_max_entries = 0;
  options.edited_photos = o.edited_photos;
  return options;
}

std::unique_ptr<Scanner> NewScanner(const ScannerOptions& options) {
  auto scanner = Scanner::Create(options);
  if (!scanner.ok()) Die(std::string(scanner.status().message()));
  if (!options.image_root.empty() && !(*scanner)->rules_info().reads_images) {
    Die("the scanner does not read photos");
  }
  return std::move(*scanner);
}

std::unique_ptr<Scanner> NewScanner(const Options& o) { return NewScanner(ScannerOptionsFor(o)); }

// What a timed scan expects of its summary.
enum class Expect {
  kEveryPhotoHashed,  // every photo hashed, at least the planted copies matched
  kNoPhotoRead,       // a text-only scan
};

// How many of a pass's hashes must come from the listing-photo cache and from the
// listings (at least), so that a row cannot look fast by skipping work, or slow by missing
// its cache.
struct ExpectSources {
  int64_t min_from_cache = 0;
  int64_t min_from_listing = 0;
};

// Scans `listings_file` (relative to the data dir) --repeats times with `scanner_options`,
// each pass into a fresh outbox; `before_pass(i)` runs untimed before pass i (or is null).
Result ScanWith(const Options& o, const PhotoSet& set, const ScannerOptions& scanner_options,
                const std::string& listings_file, int threads, size_t chunk_bytes, Expect expect,
                const std::function<void(int)>& before_pass, ExpectSources sources = {}) {
  const std::unique_ptr<Scanner> scanner = NewScanner(scanner_options);
  const std::string db = absl::StrCat(o.work_dir, "/bonafide-image-bench-", ::getpid(), ".db");
  auto remove_db = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  };
  Result result;
  std::vector<double> wall, cpu;
  for (int i = 0; i < o.repeats; ++i) {
    if (before_pass) before_pass(i);
    remove_db();
    auto outbox = OpenOutbox(db);
    if (!outbox.ok()) Die(std::string(outbox.status().message()));
    ScanOptions options;
    options.threads = threads;
    options.chunk_bytes = chunk_bytes;
    options.resume = false;
    int64_t cases = 0, spurious = 0;
    options.on_case = [&](const CaseRecord& c) {
      ++cases;
      if (c.listing_id.rfind("copy-", 0) != 0) ++spurious;  // a case without a copied photo
    };
    absl::StatusOr<ScanSummary> summary;
    const Timing t = Time(
        [&] { summary = scanner->ScanFiles({o.data + "/" + listings_file}, **outbox, options); });
    if (!summary.ok()) Die(std::string(summary.status().message()));
    // A scan that read no photo (or fewer than the set) must fail, not look fast.
    const ScanSummary::ImageCounts& im = summary->images;
    const bool as_expected = expect == Expect::kNoPhotoRead
                                 ? im.hashed == 0
                                 : im.photos == set.photos && im.hashed == set.photos &&
                                       im.matched >= set.planted &&
                                       im.from_cache >= sources.min_from_cache &&
                                       im.from_listing >= sources.min_from_listing;
    if (!as_expected) {
      Die(absl::StrFormat(
          "%s scan of %s: %d photos, %d hashed (%d from the cache, %d from the listings), %d "
          "matched (%d planted copies)",
          set.name, listings_file, im.photos, im.hashed, im.from_cache, im.from_listing, im.matched,
          set.planted));
    }
    wall.push_back(t.wall);
    cpu.push_back(t.cpu);
    result.photos = expect == Expect::kNoPhotoRead ? set.photos : im.hashed;
    result.listings = summary->listings_read;
    result.hashed = im.hashed;
    result.matched = im.matched;
    result.cases = cases;
    result.spurious_cases = spurious;
    outbox->reset();
  }
  remove_db();
  result.bytes = TotalBytes(PhotoPaths(o, set));
  result.seconds = Median(wall);
  result.cpu_seconds = Median(cpu);
  return result;
}

Result Scan(const Options& o, const PhotoSet& set, int threads, size_t chunk_bytes) {
  return ScanWith(o, set, ScannerOptionsFor(o), set.listings_file, threads, chunk_bytes,
                  Expect::kEveryPhotoHashed, nullptr);
}

// Creates the scanner once (warming the Hyperscan and photo-hash caches, which no timed
// run should pay for) and reports the bank.
struct BankInfo {
  int genuine = 0;
  int too_plain = 0;
  int hashed_now = 0;  // genuine photos decoded by this start (0 when cached)
};

BankInfo Prepare(const Options& o) {
  const std::unique_ptr<Scanner> scanner = NewScanner(o);
  BankInfo info;
  const RulesInfo& rules = scanner->rules_info();
  info.genuine = static_cast<int>(rules.genuine_photos.size());
  for (const RulesInfo::GenuinePhoto& photo : rules.genuine_photos)
    info.too_plain += photo.too_plain;
  info.hashed_now = rules.genuine_photos_hashed;
  return info;
}

// Flat versus multi-index search over the bank's hashes, then over the bank padded with
// uniform random hashes to --hamming-bank (the planted neighbours stay findable).
struct HammingRow {
  int64_t bank_hashes = 0;
  double flat_qps = 0, multi_qps = 0;
  double matches_per_query = 0;
  double flat_mb = 0, multi_mb = 0;
};
struct HammingResult {
  HammingRow rows[2];
  int row_count = 0;
  int queries = 0;
  bool scanner_uses_multi = false;
};

// Queries per second of `query` over `queries`, rounds repeated for >= 0.2 s; median of
// --repeats. Every round must find `matches_per_round` neighbours (which also keeps the
// queries from being optimised away).
double QueriesPerSecond(const Options& o, const std::vector<models::Hash256>& queries,
                        size_t matches_per_round,
                        const std::function<size_t(const models::Hash256&)>& query) {
  std::vector<double> rates;
  for (int i = 0; i < o.repeats; ++i) {
    size_t rounds = 0, matches = 0;
    const Timing t = Time([&] {
      const auto start = std::chrono::steady_clock::now();
      do {
        for (const models::Hash256& q : queries) matches += query(q);
        ++rounds;
      } while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(200));
    });
    if (matches != rounds * matches_per_round) Die("a timed search found other neighbours");
    rates.push_back(static_cast<double>(rounds * queries.size()) / t.wall);
  }
  return Median(rates);
}

HammingResult Hamming(const Options& o, const Plan& plan) {
  std::vector<models::GenuinePhoto> photos;
  for (const GenuineSpec& g : plan.genuine) {
    photos.push_back({g.holder, g.product, o.data + "/rules/rights_holders/" + g.path});
  }
  models::PhotoBankOptions bank_options;
  bank_options.cache_dir = o.data + "/cache";  // filled by Prepare: nothing is decoded here
  auto bank = models::PhotoBank::Build(photos, bank_options);
  if (!bank.ok()) Die(std::string(bank.status().message()));
  HammingResult result;
  result.scanner_uses_multi = (*bank)->uses_multi_index();
  std::vector<models::Hash256> hashes;
  for (size_t i = 0; i < (*bank)->photo_count(); ++i) {
    const models::PhotoBank::Photo& p = (*bank)->photo(static_cast<uint32_t>(i));
    if (p.indexed) hashes.insert(hashes.end(), p.hashes.begin(), p.hashes.end());
  }
  // Queries: the listing photos of the first set, hashed as the scan hashes them.
  std::vector<models::Hash256> queries;
  models::ImageDecoder decoder;
  models::DecodedLuma luma;
  models::PdqHasher hasher;
  for (const std::string& path : PhotoPaths(o, plan.sets[0])) {
    if (queries.size() == 256) break;
    if (absl::Status s = decoder.DecodeFile(path, models::DecodeMode::kReduced, luma); !s.ok()) {
      Die(path + ": " + std::string(s.message()));
    }
    queries.push_back(hasher.Hash(luma.luma.data(), luma.width, luma.height).hash);
  }
  result.queries = static_cast<int>(queries.size());
  constexpr int kMaxDistance = 31;
  std::vector<int64_t> sizes = {static_cast<int64_t>(hashes.size())};
  if (o.hamming_bank > sizes[0]) sizes.push_back(o.hamming_bank);
  std::mt19937_64 rng(1);
  for (int64_t n : sizes) {
    while (static_cast<int64_t>(hashes.size()) < n) {
      models::Hash256 h;
      for (uint64_t& w : h.words) w = rng();
      hashes.push_back(h);
    }
    const models::FlatIndex flat = models::FlatIndex::Build(hashes);
    const models::MultiIndex multi = models::MultiIndex::Build(hashes);
    // Both must find the same neighbours (the multi-index is exact).
    std::vector<models::IndexMatch> a, b;
    models::MultiIndex::Scratch scratch(multi);
    size_t total = 0;
    for (const models::Hash256& q : queries) {
      flat.Query(q, kMaxDistance, a);
      multi.Query(q, kMaxDistance, scratch, b);
      if (a.size() != b.size()) Die("flat and multi-index searches disagree");
      total += a.size();
    }
    HammingRow& row = result.rows[result.row_count++];
    row.bank_hashes = n;
    row.matches_per_query = static_cast<double>(total) / static_cast<double>(queries.size());
    row.flat_mb = static_cast<double>(flat.memory_bytes()) / 1e6;
    row.multi_mb = static_cast<double>(multi.memory_bytes()) / 1e6;
    row.flat_qps = QueriesPerSecond(o, queries, total, [&](const models::Hash256& q) {
      flat.Query(q, kMaxDistance, a);
      return a.size();
    });
    row.multi_qps = QueriesPerSecond(o, queries, total, [&](const models::Hash256& q) {
      multi.Query(q, kMaxDistance, scratch, b);
      return b.size();
    });
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// The parent: flags, data, children, report.

struct Run {
  std::string name;
  int threads = 1;
  bool scan = false;
  Result r;
  double peak_mb = 0;
  double photos_per_second() const { return r.seconds > 0 ? r.photos / r.seconds : 0; }
  double cpu_ms_per_photo() const { return r.photos > 0 ? 1e3 * r.cpu_seconds / r.photos : 0; }
};

std::vector<int> ParseSize(const std::string& value) {
  std::vector<int> wh;
  for (absl::string_view part : absl::StrSplit(value, 'x')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 64 || n > 20000) Die("bad size " + value);
    wh.push_back(n);
  }
  if (wh.size() != 2) Die("a size is WIDTHxHEIGHT, e.g. 1152x864");
  return wh;
}

Options ParseFlags(int argc, char** argv) {
  Options o;
  auto number = [](const std::string& flag, const std::string& v, int64_t min) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(v, &n) || n < min) Die("bad " + flag + " " + v);
    return n;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      const size_t eq = arg.find('=');
      if (eq != std::string::npos) return arg.substr(eq + 1);
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    const std::string name = arg.substr(0, arg.find('='));
    if (name == "--data") {
      o.data = value();
    } else if (name == "--photos") {
      o.photos = static_cast<int>(number(name, value(), 1));
    } else if (name == "--large-photos") {
      o.large_photos = static_cast<int>(number(name, value(), 0));
    } else if (name == "--genuine") {
      o.genuine = static_cast<int>(number(name, value(), 1));
    } else if (name == "--small-size") {
      const std::vector<int> wh = ParseSize(value());
      o.small_width = wh[0];
      o.small_height = wh[1];
    } else if (name == "--large-size") {
      const std::vector<int> wh = ParseSize(value());
      o.large_width = wh[0];
      o.large_height = wh[1];
    } else if (name == "--threads") {
      o.threads.clear();
      for (absl::string_view t : absl::StrSplit(value(), ',')) {
        o.threads.push_back(static_cast<int>(number(name, std::string(t), 1)));
      }
    } else if (name == "--repeats") {
      o.repeats = static_cast<int>(number(name, value(), 1));
    } else if (name == "--hamming-bank") {
      o.hamming_bank = number(name, value(), 0);
    } else if (name == "--batches") {
      o.batches = static_cast<int>(number(name, value(), 1));
    } else if (name == "--rescan-changed") {
      if (!absl::SimpleAtod(value(), &o.rescan_changed_percent) || o.rescan_changed_percent < 0 ||
          o.rescan_changed_percent > 100) {
        Die("bad --rescan-changed (a percentage)");
      }
    } else if (name == "--edited-photos") {
      const std::string v = value();
      if (v != "on" && v != "off") Die("bad --edited-photos (on or off)");
      o.edited_photos = v == "on";
    } else if (name == "--json") {
      o.json = value();
    } else if (name == "--work-dir") {
      o.work_dir = value();
    } else {
      Die("usage: bonafide_image_bench --data DIR [--photos N] [--large-photos N] "
          "[--genuine N] [--small-size WxH] [--large-size WxH] [--threads 1,2] [--repeats N] "
          "[--batches N] [--hamming-bank N] [--rescan-changed PERCENT] "
          "[--edited-photos on|off] [--json FILE] [--work-dir DIR]");
    }
  }
  if (o.data.empty()) Die("--data DIR is required (the photo set is generated there)");
  return o;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

std::string RunJson(const Run& run, double reference_rate) {
  std::string out;
  JsonObject obj(out);
  obj.String("name", run.name)
      .Int("threads", run.threads)
      .Int("photos", run.r.photos)
      .Raw("seconds", absl::StrFormat("%.6f", run.r.seconds))
      .Raw("cpu_seconds", absl::StrFormat("%.6f", run.r.cpu_seconds))
      .Raw("photos_per_second", absl::StrFormat("%.1f", run.photos_per_second()))
      .Raw("mb_per_second", absl::StrFormat("%.3f", run.r.bytes / run.r.seconds / 1e6))
      .Raw("peak_rss_mb", absl::StrFormat("%.1f", run.peak_mb))
      .Raw("ratio_to_scan", absl::StrFormat("%.4f", run.photos_per_second() / reference_rate));
  if (run.scan) {
    obj.Int("listings", run.r.listings)
        .Raw("listings_per_second", absl::StrFormat("%.1f", run.r.listings / run.r.seconds))
        .Int("hashed", run.r.hashed)
        .Int("matched", run.r.matched)
        .Int("cases", run.r.cases)
        .Int("spurious_cases", run.r.spurious_cases);
  }
  obj.Close();
  return out;
}

// Runs every configuration on one photo set, prints its table and returns its JSON.
// Sets *scan2 to the 2-thread scan (the target's figure), when there is one.
std::string MeasureSet(const Options& o, const PhotoSet& set, Run* scan2) {
  std::vector<Run> runs;
  auto add = [&](const std::string& name, int threads, bool scan,
                 const std::function<Result()>& body) {
    Run run;
    run.name = name;
    run.threads = threads;
    run.scan = scan;
    run.r = RunInChild<Result>(set.name + " " + name, body, &run.peak_mb);
    runs.push_back(run);
  };
  add("read files (1 thread)", 1, false, [&] { return ReadFiles(o, set); });
  add("full decode + PDQ (1 thread)", 1, false,
      [&] { return DecodeAndPdq(o, set, models::DecodeMode::kFull); });
  add("reduced decode + PDQ (1 thread)", 1, false,
      [&] { return DecodeAndPdq(o, set, models::DecodeMode::kReduced); });
  add("OpenCV imread + PHash (1 thread)", 1, false, [&] { return OpenCvPhash(o, set); });
  const int max_threads = *std::max_element(o.threads.begin(), o.threads.end());
  const size_t file_bytes = fs::file_size(o.data + "/" + set.listings_file);
  const size_t chunk_bytes = std::max<size_t>(1024, file_bytes / o.batches);
  if (o.batches > 1) {  // the default batch size, to show what it costs here
    add(absl::StrFormat("scan (%d threads, default batches)", max_threads), max_threads, true,
        [&] { return Scan(o, set, max_threads, ScanOptions{}.chunk_bytes); });
  }
  for (int t : o.threads) {
    add(absl::StrFormat("bonafide scan (%d thread%s)", t, t > 1 ? "s" : ""), t, true,
        [&] { return Scan(o, set, t, chunk_bytes); });
    if (t == 2) *scan2 = runs.back();
  }

  const Run& reference = runs.back();
  const double reference_rate = reference.photos_per_second();
  const double mean_kb = static_cast<double>(reference.r.bytes) / set.photos / 1e3;
  std::printf(
      "\n%s JPEGs: %lld photos (%dx%d, %.0f kB mean) in %zu listings; %lld are "
      "edited copies of genuine photos; scan batches of %.1f KiB\n",
      set.name.c_str(), static_cast<long long>(set.photos), set.width, set.height, mean_kb,
      set.listings.size(), static_cast<long long>(set.planted), chunk_bytes / 1024.0);
  std::printf("%-34s %10s %11s %8s %9s %9s %8s %9s\n", "run", "photos/s", "listings/s", "MB/s",
              "seconds", "CPU ms/ph", "peak MB", "vs scan");
  std::string runs_json;
  for (const Run& run : runs) {
    const std::string listings =
        run.scan ? absl::StrFormat("%.0f", run.r.listings / run.r.seconds) : "-";
    std::printf("%-34s %10.1f %11s %8.1f %9.3f %9.2f %8.1f %8.2fx\n", run.name.c_str(),
                run.photos_per_second(), listings.c_str(), run.r.bytes / run.r.seconds / 1e6,
                run.r.seconds, run.cpu_ms_per_photo(), run.peak_mb,
                run.photos_per_second() / reference_rate);
    absl::StrAppend(&runs_json, runs_json.empty() ? "" : ",", RunJson(run, reference_rate));
  }
  std::printf(
      "scan check: %lld photos hashed, %lld matched (%lld planted copies), %lld cases "
      "(%lld on listings without a copy)\n",
      static_cast<long long>(reference.r.hashed), static_cast<long long>(reference.r.matched),
      static_cast<long long>(set.planted), static_cast<long long>(reference.r.cases),
      static_cast<long long>(reference.r.spurious_cases));

  std::string json;
  JsonObject(json)
      .String("name", set.name)
      .Int("width", set.width)
      .Int("height", set.height)
      .Int("photos", set.photos)
      .Int("listings", static_cast<int64_t>(set.listings.size()))
      .Int("planted_copies", set.planted)
      .Int("jpeg_bytes", reference.r.bytes)
      .Int("batch_bytes", static_cast<int64_t>(chunk_bytes))
      .Raw("runs", "[" + runs_json + "]")
      .Close();
  return json;
}

// ---------------------------------------------------------------------------------------
// A nightly rescan: the same listings again, with --rescan-changed percent of the photos
// new since the last scan. Side by side: the text-only scan (no image root), the rescan
// without the listing-photo cache (every photo decoded), with the cache (only the changed
// photos decoded), and with the photos' hashes in the listings (none read). The rescan works
// on a copy of the photos under --work-dir (the data set stays as generated); before each
// timed pass, untimed, the next slice of unrelated photos is redrawn (new content, same
// path and about the same size), and the cached rows of the first pass are warm.

// The listing file with every photo path replaced by {"path", "pdq", "quality"}, hashed
// by the scanner as a scan would (reduced decode).
std::string WriteHashedListings(const Options& o, const PhotoSet& set) {
  ScannerOptions scanner_options = ScannerOptionsFor(o);
  const std::unique_ptr<Scanner> scanner = NewScanner(scanner_options);
  auto scratch = scanner->NewScratch();
  if (!scratch.ok()) Die(std::string(scratch.status().message()));
  std::ifstream in(o.data + "/" + set.listings_file);
  std::string line, out;
  size_t j = 0;
  while (std::getline(in, line)) {
    const ListingSpec& spec = set.listings.at(j++);
    Listing listing;
    listing.id = spec.id;
    listing.currency = "EUR";
    listing.seller_id = "s";
    for (const PhotoSpec& p : spec.photos) listing.images.push_back(p.path);
    Verdict verdict;
    if (absl::Status judged = scanner->Scan(listing, **scratch, verdict); !judged.ok()) {
      Die(std::string(judged.message()));
    }
    for (const ImageResult& r : verdict.images) {
      std::string quoted, entry;
      AppendJsonString(listing.images[r.image], quoted);
      entry = absl::StrCat("{\"path\":", quoted, ",\"pdq\":\"", Scanner::ImageHashHex(r),
                           "\",\"quality\":", r.quality, "}");
      const size_t at = line.find(quoted);
      if (at == std::string::npos) Die("photo path not found in " + set.listings_file);
      line.replace(at, quoted.size(), entry);
    }
    absl::StrAppend(&out, line, "\n");
  }
  std::string name = "rescan-hashed-" + set.listings_file;
  WriteFile(fs::path(o.data) / name, out);
  return name;
}

std::string MeasureRescan(const Options& o, const PhotoSet& set) {
  const int threads = *std::max_element(o.threads.begin(), o.threads.end());
  const size_t file_bytes = fs::file_size(o.data + "/" + set.listings_file);
  const size_t chunk_bytes = std::max<size_t>(1024, file_bytes / o.batches);
  // The photos that may change: unrelated ones (the planted copies keep matching).
  std::vector<const PhotoSpec*> changeable;
  for (const ListingSpec& l : set.listings) {
    for (const PhotoSpec& p : l.photos) {
      if (p.genuine < 0) changeable.push_back(&p);
    }
  }
  const size_t per_pass = static_cast<size_t>(
      std::llround(static_cast<double>(set.photos) * o.rescan_changed_percent / 100));
  const std::string root = absl::StrCat(o.work_dir, "/bonafide-rescan-", ::getpid());
  fs::remove_all(root);
  fs::create_directories(root + "/empty");
  fs::copy(o.data + "/images", root + "/images", fs::copy_options::recursive);
  const std::string hashed_file = WriteHashedListings(o, set);
  int generation = 0;  // redrawn photos get seeds never used before
  auto change_photos = [&](int pass) {
    for (size_t k = 0; k < per_pass && !changeable.empty(); ++k) {
      const PhotoSpec& p = *changeable[(pass * per_pass + k) % changeable.size()];
      ++generation;
      WriteJpeg(fs::path(root) / "images" / p.path,
                DrawPhoto(p.seed + 1'000'003ull * generation, set.width, set.height), 90);
    }
  };

  struct Row {
    std::string name;
    Result r;
    double peak_mb = 0;
  };
  std::vector<Row> rows;
  auto add = [&](const std::string& name, const std::function<Result()>& body) {
    Row row;
    row.name = name;
    row.r = RunInChild<Result>("rescan " + name, body, &row.peak_mb);
    rows.push_back(row);
  };
  ScannerOptions text_only = ScannerOptionsFor(o);
  text_only.image_root.clear();
  add("text only (no --images)", [&] {
    return ScanWith(o, set, text_only, set.listings_file, threads, chunk_bytes,
                    Expect::kNoPhotoRead, nullptr);
  });
  ScannerOptions uncached = ScannerOptionsFor(o);
  uncached.image_root = root + "/images";
  add("rescan, no photo cache", [&] {
    return ScanWith(o, set, uncached, set.listings_file, threads, chunk_bytes,
                    Expect::kEveryPhotoHashed, [&](int pass) { change_photos(pass); });
  });
  ScannerOptions cached = uncached;
  cached.cache_dir = root + "/cache";
  cached.photo_cache_max_entries = ScannerOptions{}.photo_cache_max_entries;
  add(absl::StrFormat("rescan, photo cache, %g%% changed", o.rescan_changed_percent), [&] {
    // The nightly scan before this one filled the cache.
    const Options once = [&] {
      Options x = o;
      x.repeats = 1;
      return x;
    }();
    ScanWith(once, set, cached, set.listings_file, threads, chunk_bytes, Expect::kEveryPhotoHashed,
             nullptr);
    // Every photo but the new ones comes from the cache.
    return ScanWith(o, set, cached, set.listings_file, threads, chunk_bytes,
                    Expect::kEveryPhotoHashed, [&](int pass) { change_photos(pass + o.repeats); },
                    {.min_from_cache = set.photos - static_cast<int64_t>(per_pass)});
  });
  ScannerOptions from_listing = ScannerOptionsFor(o);
  from_listing.image_root = root + "/empty";  // nothing there to read
  add("rescan, hashes in the listings", [&] {
    return ScanWith(o, set, from_listing, hashed_file, threads, chunk_bytes,
                    Expect::kEveryPhotoHashed, nullptr, {.min_from_listing = set.photos});
  });
  fs::remove_all(root);

  const double text_seconds = rows[0].r.seconds;
  std::printf(
      "\nNightly rescan of the %s set: %zu listings, %lld photos, %zu (%g%%) of them new "
      "before each pass; %d threads\n",
      set.name.c_str(), set.listings.size(), static_cast<long long>(set.photos), per_pass,
      o.rescan_changed_percent, threads);
  std::printf("%-40s %11s %9s %9s %8s %8s %13s %12s\n", "run", "listings/s", "seconds", "CPU s",
              "peak MB", "cases", "time vs text", "CPU vs text");
  std::string rows_json;
  for (const Row& row : rows) {
    std::printf("%-40s %11.0f %9.3f %9.3f %8.1f %8lld %12.2fx %11.2fx\n", row.name.c_str(),
                row.r.listings / row.r.seconds, row.r.seconds, row.r.cpu_seconds, row.peak_mb,
                static_cast<long long>(row.r.cases), row.r.seconds / text_seconds,
                row.r.cpu_seconds / rows[0].r.cpu_seconds);
    std::string r;
    JsonObject(r)
        .String("name", row.name)
        .Raw("seconds", absl::StrFormat("%.4f", row.r.seconds))
        .Raw("cpu_seconds", absl::StrFormat("%.4f", row.r.cpu_seconds))
        .Raw("listings_per_second", absl::StrFormat("%.1f", row.r.listings / row.r.seconds))
        .Raw("time_vs_text_only", absl::StrFormat("%.3f", row.r.seconds / text_seconds))
        .Raw("cpu_vs_text_only", absl::StrFormat("%.3f", row.r.cpu_seconds / rows[0].r.cpu_seconds))
        .Int("cases", row.r.cases)
        .Raw("peak_rss_mb", absl::StrFormat("%.1f", row.peak_mb))
        .Close();
    absl::StrAppend(&rows_json, rows_json.empty() ? "" : ",", r);
  }
  std::string json;
  JsonObject(json)
      .String("set", set.name)
      .Raw("changed_percent", absl::StrFormat("%g", o.rescan_changed_percent))
      .Int("changed_photos_per_pass", static_cast<int64_t>(per_pass))
      .Int("threads", threads)
      .Raw("runs", "[" + rows_json + "]")
      .Close();
  return json;
}

// Runs the Hamming comparison, prints its table and returns its JSON.
std::string MeasureHamming(const Options& o, const Plan& plan) {
  double peak_mb = 0;
  const HammingResult hamming = RunInChild<HammingResult>(
      "hamming", [&] { return Hamming(o, plan); }, &peak_mb);
  std::printf(
      "\nHamming search, radius 31, %d listing-photo hashes as queries, 1 thread "
      "(the scan's bank uses the %s index; peak %.0f MB)\n",
      hamming.queries, hamming.scanner_uses_multi ? "multi" : "flat", peak_mb);
  std::printf("%-34s %12s %14s %12s %10s %12s\n", "bank", "flat q/s", "multi-index q/s",
              "multi/flat", "matches/q", "MB flat/mi");
  std::string rows;
  for (int i = 0; i < hamming.row_count; ++i) {
    const HammingRow& row = hamming.rows[i];
    const std::string name =
        absl::StrFormat("%lld hashes%s", static_cast<long long>(row.bank_hashes),
                        i == 0 ? " (the bank)" : " (bank + random)");
    std::printf("%-34s %12.0f %14.0f %11.2fx %10.2f %5.1f/%.1f\n", name.c_str(), row.flat_qps,
                row.multi_qps, row.multi_qps / row.flat_qps, row.matches_per_query, row.flat_mb,
                row.multi_mb);
    std::string r;
    JsonObject(r)
        .Int("bank_hashes", row.bank_hashes)
        .Raw("flat_queries_per_second", absl::StrFormat("%.1f", row.flat_qps))
        .Raw("multi_index_queries_per_second", absl::StrFormat("%.1f", row.multi_qps))
        .Raw("multi_index_vs_flat", absl::StrFormat("%.4f", row.multi_qps / row.flat_qps))
        .Raw("matches_per_query", absl::StrFormat("%.3f", row.matches_per_query))
        .Close();
    absl::StrAppend(&rows, i > 0 ? "," : "", r);
  }
  return absl::StrFormat("{\"peak_rss_mb\":%.1f,\"banks\":[%s]}", peak_mb, rows);
}

// Prints the verdict on the image-stage target and returns its JSON ("null" without a 1-MP set
// scanned with 2 threads).
std::string ReportTarget(const std::string& set_name, const Run& scan2) {
  if (set_name != "1-MP" || scan2.r.photos == 0) return "null";
  const double rate = scan2.photos_per_second();
  const bool met = rate >= kTargetPhotosPerSecond;
  const std::string verdict =
      met ? absl::StrFormat("met (%.2fx)", rate / kTargetPhotosPerSecond)
          : absl::StrFormat("missed by a factor of %.2f", kTargetPhotosPerSecond / rate);
  std::printf("\ntarget: %d 1-MP JPEGs/s decode+hash+match on 2 threads: %.0f/s, %s\n",
              kTargetPhotosPerSecond, rate, verdict.c_str());
  // Not a measurement: the ceiling if both cores were ours (on a shared VM the wall clock
  // is often far below it).
  std::printf(
      "  that scan used %.2f ms of CPU per photo: two idle cores would give at most "
      "%.0f/s\n",
      scan2.cpu_ms_per_photo(), 2e3 / scan2.cpu_ms_per_photo());
  return absl::StrFormat(
      "{\"photos_per_second\":%.1f,\"required\":%d,\"met\":%s,\"cpu_ms_per_photo\":%.3f}", rate,
      kTargetPhotosPerSecond, met ? "true" : "false", scan2.cpu_ms_per_photo());
}

int Main(int argc, char** argv) {
  const Options o = ParseFlags(argc, argv);
  const Plan plan = MakePlan(o);
  const std::string load_start = LoadAverage();

  // The data set: reuse it when its manifest matches the flags.
  std::string manifest;
  if (std::ifstream in(o.data + "/manifest.txt"); in) {
    std::getline(in, manifest);
    manifest += "\n";
  }
  if (manifest != Manifest(o)) {
    std::fprintf(stderr, "generating the photo set in %s ...\n", o.data.c_str());
    const auto start = std::chrono::steady_clock::now();
    RunInChild<int>(
        "generate",
        [&] {
          Generate(o, plan);
          return 0;
        },
        nullptr);
    std::fprintf(stderr, "generated in %.1f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const BankInfo bank = RunInChild<BankInfo>(
      "prepare", [&] { return Prepare(o); }, nullptr);
  if (bank.hashed_now > 0) {
    std::fprintf(stderr, "hashed %d genuine photos into %s/cache\n", bank.hashed_now,
                 o.data.c_str());
  }
  std::printf(
      "photo set %s; bank: %d genuine photos (%d too plain), %d hashes; stages after PDQ %s; "
      "median of %d; load average %s\n",
      o.data.c_str(), bank.genuine, bank.too_plain, 8 * (bank.genuine - bank.too_plain),
      o.edited_photos ? "on" : "off", o.repeats, load_start.c_str());

  std::string sets_json;
  Run scan2;  // the 2-thread scan of the first set
  for (const PhotoSet& set : plan.sets) {
    Run set_scan2;
    absl::StrAppend(&sets_json, sets_json.empty() ? "" : ",", MeasureSet(o, set, &set_scan2));
    if (&set == &plan.sets[0]) scan2 = set_scan2;
  }
  const std::string rescan_json =
      o.rescan_changed_percent > 0 ? MeasureRescan(o, plan.sets[0]) : "null";
  const std::string hamming_json = MeasureHamming(o, plan);
  const std::string target_json = ReportTarget(plan.sets[0].name, scan2);
  const std::string load_end = LoadAverage();
  std::printf("load average at the end %s\n", load_end.c_str());

  if (!o.json.empty()) {
    std::string json;
    JsonObject(json)
        .String("data", o.data)
        .Int("repeats", o.repeats)
        .Int("batches_per_file", o.batches)
        .String("load_average_start", load_start)
        .String("load_average_end", load_end)
        .Int("genuine_photos", bank.genuine)
        .Raw("sets", "[" + sets_json + "]")
        .Raw("rescan", rescan_json)
        .Raw("hamming", hamming_json)
        .Raw("target", target_json)
        .Close();
    json.push_back('\n');
    std::ofstream out(o.json, std::ios::trunc);
    out << json;
    if (!out.good()) Die("cannot write " + o.json);
  }
  return 0;
}

}  // namespace
}  // namespace bonafide

int main(int argc, char** argv) { return bonafide::Main(argc, argv); }
