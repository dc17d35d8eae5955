// PDQ hashing; see pdq.h. Written from the published algorithm, bit-exact with the
// reference float pipeline (facebook/ThreatExchange pdq/cpp):
//
// * Every float operation of the reference happens here too, on the same operands and in
//   the same order, so results agree to the bit. What differs is only the order in which
//   *independent* elements are processed: the reference filters one row (or column) at a
//   time; here 16 rows (or all columns) advance together in SSE registers, and the image is
//   streamed through a ring of a few rows instead of two full-size float copies.
// * Only what the 64x64 decimation reads is divided and stored: the second row pass keeps
//   the 64 sampled columns, the second column pass the 64 sampled rows.
// * The build must not contract a*b+c into FMA (GCC does not under -std=c++20; the
//   conformance tests in tests/models/pdq_test.cc catch it if it ever does).
#include "models/pdq.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/status/status.h"

#include "util/status_macros.h"

namespace bonafide::models {
namespace {

constexpr int kDown = 64;  // downsample side
constexpr int kDct = 16;   // DCT block side
// Rows processed together by a row pass: 4 SSE vectors, so that 4 independent add/sub
// chains hide the latency of the running sums.
constexpr int kLanes = 16;
constexpr int kVecs = kLanes / 4;

// The 16x64 DCT-II matrix without the DC row, built exactly as the reference builds it:
// a float scale times a double cosine, rounded to float.
struct DctMatrix {
  alignas(32) float d[kDct * kDown];   // d[i][k], frequency i+1, sample k
  alignas(32) float dt[kDown * kDct];  // transposed: dt[k][j] = d[j][k]
  DctMatrix() {
    constexpr double kPi = 3.14159265358979323846;
    const float scale = std::sqrt(2.0 / double{kDown});
    for (int i = 0; i < kDct; ++i) {
      for (int k = 0; k < kDown; ++k) {
        const float v = scale * std::cos((kPi / 2.0 / double{kDown}) * (i + 1) * (2 * k + 1));
        d[i * kDown + k] = v;
        dt[k * kDct + i] = v;
      }
    }
  }
};
const DctMatrix& Dct() {
  static const DctMatrix* const m = new DctMatrix();
  return *m;
}

// Window of one box pass along a dimension of `size` when downsampling to 64: half of a
// 64th, rounded up (two passes then cover a full 64th).
int WindowSize(int size) { return (size + 2 * kDown - 1) / (2 * kDown); }

// One 1-D box pass of length `len`, window `w`, runs len + h - 1 steps (h = (w + 2) / 2):
// step s adds in[s] (if s < len), then subtracts in[s - w] (if s >= w), then, if
// s >= h - 1, writes out[s - h + 1] = sum / (number of terms in the sum). This is the
// reference's four-phase loop written as one rule.
int HalfWindow(int w) { return (w + 2) / 2; }
int TermCount(int s, int len, int w) { return std::min(s + 1, len) - std::max(0, s - w + 1); }

// Transposes kLanes rows of `width` floats into out[c * kLanes + r]. Works in blocks of
// 16 columns (one cache line per row) and 4 rows at a time, so that each input line is
// used up at once: rows of images 1024 wide are 4 KiB apart and all map to one L1 set.
void GatherStrip(const float* const* rows, int width, float* out) {
  int c0 = 0;
  for (; c0 + 16 <= width; c0 += 16) {
    for (int g = 0; g < kVecs; ++g) {
      for (int c = c0; c < c0 + 16; c += 4) {
        __m128 r0 = _mm_loadu_ps(rows[4 * g + 0] + c);
        __m128 r1 = _mm_loadu_ps(rows[4 * g + 1] + c);
        __m128 r2 = _mm_loadu_ps(rows[4 * g + 2] + c);
        __m128 r3 = _mm_loadu_ps(rows[4 * g + 3] + c);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        float* o = out + c * kLanes + 4 * g;
        _mm_store_ps(o, r0);
        _mm_store_ps(o + kLanes, r1);
        _mm_store_ps(o + 2 * kLanes, r2);
        _mm_store_ps(o + 3 * kLanes, r3);
      }
    }
  }
  for (int c = c0; c < width; ++c) {
    for (int r = 0; r < kLanes; ++r) out[c * kLanes + r] = rows[r][c];
  }
}

// Inverse of GatherStrip: rows[r][c] = in[c * kLanes + r].
void ScatterStrip(const float* in, int width, float* const* rows) {
  int c0 = 0;
  for (; c0 + 16 <= width; c0 += 16) {
    for (int g = 0; g < kVecs; ++g) {
      for (int c = c0; c < c0 + 16; c += 4) {
        const float* i = in + c * kLanes + 4 * g;
        __m128 r0 = _mm_load_ps(i);
        __m128 r1 = _mm_load_ps(i + kLanes);
        __m128 r2 = _mm_load_ps(i + 2 * kLanes);
        __m128 r3 = _mm_load_ps(i + 3 * kLanes);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(rows[4 * g + 0] + c, r0);
        _mm_storeu_ps(rows[4 * g + 1] + c, r1);
        _mm_storeu_ps(rows[4 * g + 2] + c, r2);
        _mm_storeu_ps(rows[4 * g + 3] + c, r3);
      }
    }
  }
  for (int c = c0; c < width; ++c) {
    for (int r = 0; r < kLanes; ++r) rows[r][c] = in[c * kLanes + r];
  }
}

// Row stride of our row buffers: a whole number of cache lines, odd, so that the 16 rows
// of a strip fall into 16 different L1 sets.
size_t PaddedStride(int width) {
  size_t lines = (static_cast<size_t>(width) + 15) / 16;
  if (lines % 2 == 0) ++lines;
  return lines * 16;
}

// The 1-D box pass over kLanes interleaved lanes (in[s * kLanes + lane]), keeping the
// running sums in registers. kDivide: out = sum / count (the filter output); otherwise
// out = sum (the caller divides the few values it needs).
template <bool kDivide>
void BoxStrip(const float* in, int len, int w, float* out) {
  static_assert(kVecs == 4);
  const int h = HalfWindow(w);
  // Four named accumulators (an array indexed in loops may be kept in memory at -O2).
  __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  auto add = [&](int s) {
    const float* p = in + s * kLanes;
    a0 = _mm_add_ps(a0, _mm_load_ps(p));
    a1 = _mm_add_ps(a1, _mm_load_ps(p + 4));
    a2 = _mm_add_ps(a2, _mm_load_ps(p + 8));
    a3 = _mm_add_ps(a3, _mm_load_ps(p + 12));
  };
  auto sub = [&](int s) {
    const float* p = in + s * kLanes;
    a0 = _mm_sub_ps(a0, _mm_load_ps(p));
    a1 = _mm_sub_ps(a1, _mm_load_ps(p + 4));
    a2 = _mm_sub_ps(a2, _mm_load_ps(p + 8));
    a3 = _mm_sub_ps(a3, _mm_load_ps(p + 12));
  };
  auto write = [&](int o, int count) {
    float* p = out + o * kLanes;
    if constexpr (kDivide) {
      const __m128 n = _mm_set1_ps(static_cast<float>(count));
      _mm_store_ps(p, _mm_div_ps(a0, n));
      _mm_store_ps(p + 4, _mm_div_ps(a1, n));
      _mm_store_ps(p + 8, _mm_div_ps(a2, n));
      _mm_store_ps(p + 12, _mm_div_ps(a3, n));
    } else {
      static_cast<void>(count);
      _mm_store_ps(p, a0);
      _mm_store_ps(p + 4, a1);
      _mm_store_ps(p + 8, a2);
      _mm_store_ps(p + 12, a3);
    }
  };
  int s = 0;
  for (; s < h - 1; ++s) {  // phase 1: fill
    add(s);
  }
  for (; s < w; ++s) {  // phase 2: growing window
    add(s);
    write(s - h + 1, s + 1);
  }
  for (; s < len; ++s) {  // phase 3: full window
    add(s);
    sub(s - w);
    write(s - h + 1, w);
  }
  for (; s < len + h - 1; ++s) {  // phase 4: shrinking window
    sub(s - w);
    write(s - h + 1, len + w - 1 - s);
  }
}

// One step s of the 1-D box pass along columns, for all `width` columns at once.
// sum += add_row (if given); sum -= sub_row (if given); out_row = sum / count (if given).
void BoxColumnsStep(float* sum, const float* add_row, const float* sub_row, float* out_row,
                    int count, int width) {
  const float countf = static_cast<float>(count);
  const __m128 n = _mm_set1_ps(countf);
  int c = 0;
  for (; c + 4 <= width; c += 4) {
    __m128 v = _mm_loadu_ps(sum + c);
    if (add_row != nullptr) v = _mm_add_ps(v, _mm_loadu_ps(add_row + c));
    if (sub_row != nullptr) v = _mm_sub_ps(v, _mm_loadu_ps(sub_row + c));
    _mm_storeu_ps(sum + c, v);
    if (out_row != nullptr) _mm_storeu_ps(out_row + c, _mm_div_ps(v, n));
  }
  for (; c < width; ++c) {
    float v = sum[c];
    if (add_row != nullptr) v += add_row[c];
    if (sub_row != nullptr) v -= sub_row[c];
    sum[c] = v;
    if (out_row != nullptr) out_row[c] = v / countf;
  }
}

// Decimation: the source index sampled by output index i (pixel centres), in double as
// the reference computes it.
int Sample(int i, int size) { return static_cast<int>(((i + 0.5) * size) / kDown); }

// The reference's quality metric on the 64x64 downsample.
int Quality(const float* a) {
  int gradient_sum = 0;
  for (int i = 0; i + 1 < kDown; ++i) {
    for (int j = 0; j < kDown; ++j) {
      const float u = a[i * kDown + j];
      const float v = a[(i + 1) * kDown + j];
      const int d = static_cast<int>(((u - v) * 100) / 255);
      gradient_sum += std::abs(d);
    }
  }
  for (int i = 0; i < kDown; ++i) {
    for (int j = 0; j + 1 < kDown; ++j) {
      const float u = a[i * kDown + j];
      const float v = a[i * kDown + j + 1];
      const int d = static_cast<int>(((u - v) * 100) / 255);
      gradient_sum += std::abs(d);
    }
  }
  return std::min(gradient_sum / 90, 100);
}

// B = D A D^T restricted to frequencies 1..16: t = D A (16x64), then b = t D^T (16x16).
// Each output is a float sum over k = 0..63 in increasing k, as in the reference; the
// loops run over independent outputs innermost so that they vectorize.
void Dct64To16(const float* a, float* t, float* b) {
  const DctMatrix& m = Dct();
  for (int i = 0; i < kDct; ++i) {
    float acc[kDown] = {};
    for (int k = 0; k < kDown; ++k) {
      const float dik = m.d[i * kDown + k];
      const float* ak = a + k * kDown;
      for (int j = 0; j < kDown; ++j) acc[j] += dik * ak[j];
    }
    std::memcpy(t + i * kDown, acc, sizeof(acc));
  }
  for (int i = 0; i < kDct; ++i) {
    float acc[kDct] = {};
    for (int k = 0; k < kDown; ++k) {
      const float tik = t[i * kDown + k];
      const float* dk = m.dt + k * kDct;
      for (int j = 0; j < kDct; ++j) acc[j] += tik * dk[j];
    }
    std::memcpy(b + i * kDct, acc, sizeof(acc));
  }
}

// Sets bit i*16+j for coefficients above the median. The reference's median (Torben's
// algorithm) returns the lower median, i.e. the 128th smallest of the 256 values.
Hash256 Threshold(const float* dct) {
  float sorted[kDct * kDct];
  std::memcpy(sorted, dct, sizeof(sorted));
  std::nth_element(sorted, sorted + (kDct * kDct - 1) / 2, sorted + kDct * kDct);
  const float median = sorted[(kDct * kDct - 1) / 2];
  Hash256 hash;
  for (int k = 0; k < kDct * kDct; ++k) {
    if (dct[k] > median) hash.SetBit(k);
  }
  return hash;
}

// The DCT coefficients of a rotated/flipped image follow from the original's: a mirror
// along an axis negates the odd frequencies (even indices, as index i is frequency i+1)
// along it, a transpose swaps the axes.
void DihedralDct(Dihedral d, const float* a, float* b) {
  for (int i = 0; i < kDct; ++i) {
    for (int j = 0; j < kDct; ++j) {
      const float v = a[i * kDct + j];
      const bool i_odd = (i & 1) != 0;
      const bool j_odd = (j & 1) != 0;
      switch (d) {
        case Dihedral::kOriginal:
          b[i * kDct + j] = v;
          break;
        case Dihedral::kRotate90:
          b[j * kDct + i] = j_odd ? v : -v;
          break;
        case Dihedral::kRotate180:
          b[i * kDct + j] = (i_odd != j_odd) ? -v : v;
          break;
        case Dihedral::kRotate270:
          b[j * kDct + i] = i_odd ? v : -v;
          break;
        case Dihedral::kFlipX:
          b[i * kDct + j] = i_odd ? v : -v;
          break;
        case Dihedral::kFlipY:
          b[i * kDct + j] = j_odd ? v : -v;
          break;
        case Dihedral::kTranspose:
          b[j * kDct + i] = v;
          break;
        case Dihedral::kTransverse:
          b[j * kDct + i] = (i_odd != j_odd) ? -v : v;
          break;
      }
    }
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename T>
void Grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

std::string ToHex(const Hash256& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(64, '0');
  for (int w = 0; w < 4; ++w) {
    const uint64_t word = hash.words[3 - w];
    for (int n = 0; n < 16; ++n) {
      out[w * 16 + n] = kDigits[(word >> (60 - 4 * n)) & 0xf];
    }
  }
  return out;
}

absl::StatusOr<Hash256> HashFromHex(std::string_view hex) {
  if (hex.size() != 64) {
    return absl::InvalidArgumentError("pdq hash: expected 64 hex digits, got " +
                                      std::to_string(hex.size()) + " characters");
  }
  Hash256 hash;
  for (int w = 0; w < 4; ++w) {
    uint64_t word = 0;
    for (int n = 0; n < 16; ++n) {
      const char c = hex[w * 16 + n];
      const int digit = HexDigit(c);
      if (digit < 0) {
        return absl::InvalidArgumentError("pdq hash: invalid hex digit at offset " +
                                          std::to_string(w * 16 + n));
      }
      word = (word << 4) | static_cast<uint64_t>(digit);
    }
    hash.words[3 - w] = word;
  }
  return hash;
}

// Row pass over kLanes rows (`rows`, width floats each): leaves the filter output
// (divide) or the raw running sums (!divide) in strip_out_ as width x kLanes.
void PdqHasher::BoxRowsStrip(const float* const* rows, int width, bool divide) {
  GatherStrip(rows, width, strip_in_.data());
  if (divide) {
    BoxStrip<true>(strip_in_.data(), width, WindowSize(width), strip_out_.data());
  } else {
    BoxStrip<false>(strip_in_.data(), width, WindowSize(width), strip_out_.data());
  }
}

// Blur and decimate `luma` into down64_. The reference runs, on full-size buffers, row
// pass 1, column pass 1, row pass 2, column pass 2, then samples 64x64. Here the rows
// stream: row pass 1 fills a ring of rows 16 at a time; column pass 1 steps down the ring
// and emits rows into a 16-row strip; each full strip gets row pass 2, of which only the
// 64 sampled columns are kept (selected_, height x 64); column pass 2 runs on those.
void PdqHasher::Downsample(const float* luma, int width, int height) {
  if (width == kDown && height == kDown) {  // the reference does not filter this size
    std::memcpy(down64_, luma, sizeof(down64_));
    return;
  }
  const int wc = WindowSize(height);  // window of the column passes
  const int hc = HalfWindow(wc);
  const int wr = WindowSize(width);  // window of the row passes
  const int hr = HalfWindow(wr);

  // Ring of row-pass-1 output: step s reads rows s and s - wc while rows up to
  // s + kLanes - 1 have been written, so wc + kLanes rows suffice.
  int ring_rows = 16;
  while (ring_rows < wc + kLanes) ring_rows *= 2;
  const size_t w = static_cast<size_t>(width);
  const size_t stride = PaddedStride(width);
  Grow(ring_, static_cast<size_t>(ring_rows) * stride);
  Grow(col_sum_, w);
  Grow(strip_rows_, (kLanes + 1) * stride);  // + one row to discard padding lanes into
  Grow(strip_in_, kLanes * w);
  Grow(strip_out_, kLanes * w);
  Grow(selected_, static_cast<size_t>(height) * kDown);
  std::fill_n(col_sum_.begin(), w, 0.0f);
  float* const trash = strip_rows_.data() + kLanes * stride;

  int sample_cols[kDown];
  int sample_rows[kDown];
  for (int i = 0; i < kDown; ++i) {
    sample_cols[i] = Sample(i, width);
    sample_rows[i] = Sample(i, height);
  }
  float col_count[kDown];  // term counts of row pass 2 at the sampled columns
  for (int i = 0; i < kDown; ++i) {
    col_count[i] = static_cast<float>(TermCount(sample_cols[i] + hr - 1, width, wr));
  }

  auto ring_row = [&](int r) { return ring_.data() + static_cast<size_t>(r % ring_rows) * stride; };

  int produced = 0;  // rows of row pass 1 written to the ring
  const int steps = height + hc - 1;
  for (int s = 0; s < steps; ++s) {
    const bool add = s < height;
    if (add && s >= produced) {
      // Row pass 1 on input rows [produced, produced + kLanes); padding lanes repeat the
      // last row and are discarded.
      const float* in[kLanes];
      float* out[kLanes];
      for (int l = 0; l < kLanes; ++l) {
        const int r = produced + l;
        in[l] = luma + static_cast<size_t>(std::min(r, height - 1)) * w;
        out[l] = r < height ? ring_row(r) : trash;
      }
      BoxRowsStrip(in, width, /*divide=*/true);
      ScatterStrip(strip_out_.data(), width, out);
      produced += kLanes;
    }
    const int o = s - hc + 1;  // output row of column pass 1, if >= 0
    float* out_row =
        o >= 0 ? strip_rows_.data() + static_cast<size_t>(o % kLanes) * stride : nullptr;
    BoxColumnsStep(col_sum_.data(), add ? ring_row(s) : nullptr,
                   s >= wc ? ring_row(s - wc) : nullptr, out_row, TermCount(s, height, wc), width);
    if (o >= 0 && (o % kLanes == kLanes - 1 || o == height - 1)) {
      // Row pass 2 on the strip of column-pass-1 rows [first, o].
      const int first = o - o % kLanes;
      const int count = o - first + 1;
      const float* in[kLanes];
      for (int l = 0; l < kLanes; ++l) {
        in[l] = strip_rows_.data() + static_cast<size_t>(std::min(l, count - 1)) * stride;
      }
      BoxRowsStrip(in, width, /*divide=*/false);
      for (int l = 0; l < count; ++l) {
        float* dst = selected_.data() + static_cast<size_t>(first + l) * kDown;
        for (int i = 0; i < kDown; ++i) {
          const int so = sample_cols[i];  // output index along the row
          dst[i] = strip_out_[static_cast<size_t>(so) * kLanes + l] / col_count[i];
        }
      }
    }
  }

  // Column pass 2 on the 64 sampled columns, keeping the 64 sampled rows.
  float sum[kDown] = {};
  int next = 0;  // next sampled row to fill
  for (int s = 0; s < steps && next < kDown; ++s) {
    const int o = s - hc + 1;
    const bool want = o >= 0 && sample_rows[next] == o;
    BoxColumnsStep(sum, s < height ? selected_.data() + static_cast<size_t>(s) * kDown : nullptr,
                   s >= wc ? selected_.data() + static_cast<size_t>(s - wc) * kDown : nullptr,
                   want ? down64_ + next * kDown : nullptr, TermCount(s, height, wc), kDown);
    if (want) {
      ++next;
      while (next < kDown && sample_rows[next] == o) {  // small images sample a row twice
        std::memcpy(down64_ + next * kDown, down64_ + (next - 1) * kDown, kDown * sizeof(float));
        ++next;
      }
    }
  }
}

bool PdqHasher::Transform(const float* luma, int width, int height, int* quality) {
  BONAFIDE_CHECK(luma != nullptr && width >= 1 && height >= 1);
  if (width < kPdqMinHashableSide || height < kPdqMinHashableSide) {
    *quality = 0;
    return false;
  }
  Downsample(luma, width, height);
  *quality = Quality(down64_);
  Dct64To16(down64_, dct16x64_, dct_);
  return true;
}

PdqResult PdqHasher::Hash(const float* luma, int width, int height) {
  PdqResult result;
  if (Transform(luma, width, height, &result.quality)) result.hash = Threshold(dct_);
  return result;
}

std::array<PdqResult, kNumDihedral> PdqHasher::HashDihedral(const float* luma, int width,
                                                            int height) {
  std::array<PdqResult, kNumDihedral> results{};
  int quality = 0;
  if (Transform(luma, width, height, &quality)) {
    alignas(32) float aux[kDct * kDct];
    for (int d = 0; d < kNumDihedral; ++d) {
      DihedralDct(static_cast<Dihedral>(d), dct_, aux);
      results[d].hash = Threshold(aux);
    }
  }
  for (PdqResult& r : results) r.quality = quality;
  return results;
}

}  // namespace bonafide::models
