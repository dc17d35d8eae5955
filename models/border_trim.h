// Border trim: finds the photo inside uniform borders (padding, a frame, letterboxing), so
// that a genuine photo shown padded can be hashed without its padding.
//
// Usage (on the luma already decoded for PDQ):
//
//   ContentBox box = FindContentBox(luma.luma.data(), luma.width, luma.height);
//   if (box.trimmed) {
//     CopyContent(luma.luma.data(), luma.width, box, trimmed);   // reused vector
//     PdqResult r = hasher.Hash(trimmed.data(), box.width, box.height);
//   }
//
// "Uniform": each side is trimmed independently. The side's border colour is the median
// of its outermost line (row or column); the trim walks inwards while a line has at most
// BorderTrimOptions::max_outlier_fraction of its pixels farther than
// BorderTrimOptions::tolerance grey levels from that colour. The fraction absorbs JPEG
// ringing and noise next to the content's edge; the tolerance a slightly noisy or
// compressed plain border. A gradient or textured border is not uniform and stays.
//
// Bounds: the box keeps at least BorderTrimOptions::min_kept_fraction of each side of the
// image (else nothing is trimmed: a mostly plain image is not a padded photo), and a trim
// smaller than min_trim pixels on every side is no trim (PDQ already sees that image).
// Cost: each pixel is visited at most twice (rows from the top and bottom, then columns of
// the remaining rows), about 0.1 ms for a 0.25 MP reduced decode; no allocation once the
// caller's vectors are warm.
//
// Thread-safety: pure functions.
#ifndef BONAFIDE_MODELS_BORDER_TRIM_H_
#define BONAFIDE_MODELS_BORDER_TRIM_H_

#include <vector>

namespace bonafide::models {

struct BorderTrimOptions {
  // Grey levels (of 255) a border pixel may differ from its side's border colour.
  float tolerance = 12.0F;
  // Fraction of a line's pixels allowed beyond the tolerance (ringing, noise, a thin
  // line of the photo's edge).
  float max_outlier_fraction = 0.02F;
  // Each side of the box keeps at least this fraction of the image's side.
  float min_kept_fraction = 0.3F;
  // Borders thinner than this (pixels, on every side) are not worth a second hash.
  int min_trim = 3;
};

// Where the content is, in pixels of the image given.
struct ContentBox {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
  bool trimmed = false;  // the box is smaller than the image (by min_trim on some side)
};

// Returns the box inside the uniform borders of the row-major `luma` (width * height
// floats, 0..255). When nothing is trimmed the box is the whole image.
ContentBox FindContentBox(const float* luma, int width, int height,
                          const BorderTrimOptions& options = {});

// Copies the box of `luma` (row stride `width`) into `out`, box.width * box.height floats,
// row-major (its capacity is reused).
void CopyContent(const float* luma, int width, const ContentBox& box, std::vector<float>& out);

}  // namespace bonafide::models

#endif  // BONAFIDE_MODELS_BORDER_TRIM_H_
