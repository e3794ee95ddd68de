// The "pattern" source's pictures: I420 320x240 with moving content so that no two consecutive
// frames are equal (DRIVER_PROTOCOL.md "Synthetic sources").
#pragma once
#include <cstdint>
#include <vector>

namespace refrtc::media {

inline constexpr uint32_t kPatternWidth = 320;
inline constexpr uint32_t kPatternHeight = 240;

// One I420 picture in a single buffer: Y (w*h), then U and V (w/2 * h/2 each).
struct I420Picture {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> data;
  uint8_t* y() { return data.data(); }
  uint8_t* u() { return data.data() + width * height; }
  uint8_t* v() { return data.data() + width * height + (width / 2) * (height / 2); }
};

// Frame `index` of the pattern: a slowly scrolling diagonal gradient, a coloured box bouncing
// horizontally, a vertical bar sweeping across, and a row of 16 blocks showing `index` in binary.
void DrawPattern(uint32_t index, I420Picture* out);
// A black picture (W3C mediacapture-main: a disabled video track renders black frames).
void DrawBlack(I420Picture* out);

}  // namespace refrtc::media
