#include "media/video_pattern.h"

#include <algorithm>

namespace refrtc::media {
namespace {

void Alloc(I420Picture* p) {
  p->width = kPatternWidth;
  p->height = kPatternHeight;
  p->data.resize(kPatternWidth * kPatternHeight * 3 / 2);
}

// Fills a rectangle (luma coordinates, even-aligned) in all three planes.
void FillRect(I420Picture* p, int x0, int y0, int w, int h, uint8_t y, uint8_t u, uint8_t v) {
  const int W = static_cast<int>(p->width), H = static_cast<int>(p->height);
  for (int yy = y0; yy < y0 + h; ++yy) {
    if (yy < 0 || yy >= H) continue;
    for (int xx = x0; xx < x0 + w; ++xx) {
      if (xx < 0 || xx >= W) continue;
      p->y()[yy * W + xx] = y;
    }
  }
  for (int yy = y0 / 2; yy < (y0 + h) / 2; ++yy) {
    if (yy < 0 || yy >= H / 2) continue;
    for (int xx = x0 / 2; xx < (x0 + w) / 2; ++xx) {
      if (xx < 0 || xx >= W / 2) continue;
      p->u()[yy * (W / 2) + xx] = u;
      p->v()[yy * (W / 2) + xx] = v;
    }
  }
}

}  // namespace

void DrawPattern(uint32_t index, I420Picture* p) {
  Alloc(p);
  const int W = kPatternWidth, H = kPatternHeight;
  // Background: diagonal luma gradient scrolling by 2 pixels per frame; constant chroma tint.
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      p->y()[y * W + x] = static_cast<uint8_t>(48 + ((x + y + 2 * static_cast<int>(index % 128)) & 127));
    }
  }
  for (int i = 0; i < W / 2 * H / 2; ++i) {
    p->u()[i] = 120;
    p->v()[i] = 136;
  }
  // A 48x48 box bouncing horizontally (4 px per frame) at mid height.
  const int travel = W - 48;
  int pos = static_cast<int>((index * 4) % (2 * travel));
  int bx = pos < travel ? pos : 2 * travel - pos;
  FillRect(p, bx, 80, 48, 48, 200, 60, 200);
  // A 16-pixel wide vertical bar sweeping right (6 px per frame).
  int bar = static_cast<int>((index * 6) % W) & ~1;
  FillRect(p, bar, 0, 16, 64, 235, 128, 128);
  // Frame counter: 16 blocks of 16x16 at the bottom, white = 1, dark = 0, MSB first.
  for (int bit = 0; bit < 16; ++bit) {
    bool on = (index >> (15 - bit)) & 1;
    FillRect(p, 32 + bit * 16, H - 32, 14, 16, on ? 235 : 16, 128, 128);
  }
}

void DrawBlack(I420Picture* p) {
  Alloc(p);
  const size_t luma = kPatternWidth * kPatternHeight;
  std::fill(p->data.begin(), p->data.begin() + luma, 16);  // BT.601 video-range black
  std::fill(p->data.begin() + luma, p->data.end(), 128);
}

}  // namespace refrtc::media
