#include "media/g711.h"

namespace refrtc::media {
namespace {

// Position of the highest set bit of v (v > 0), 0-based.
int HighBit(int v) {
  int n = 0;
  while (v >>= 1) ++n;
  return n;
}

}  // namespace

// G.711 µ-law: 14-bit magnitude plus bias 33 (0x21 on the 13-bit scale G.711 uses, i.e. 0x84 on
// the 16-bit scale), 8 segments of 16 steps; the code is transmitted with all bits inverted.
uint8_t LinearToUlaw(int16_t pcm) {
  constexpr int kBias = 0x84;
  constexpr int kClip = 32635;
  int v = pcm;
  uint8_t sign = 0;
  if (v < 0) {
    v = -v;
    sign = 0x80;
  }
  if (v > kClip) v = kClip;
  v += kBias;
  // Segment = position of the leading one above bit 7 (bias guarantees bit 7 at least).
  int segment = HighBit(v) - 7;
  int mantissa = (v >> (segment + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (segment << 4) | mantissa));
}

int16_t UlawToLinear(uint8_t code) {
  constexpr int kBias = 0x84;
  int c = static_cast<uint8_t>(~code);
  int segment = (c >> 4) & 0x07;
  int mantissa = c & 0x0F;
  // Decision value at the middle of the step: ((2m + 33) << segment) on the 14-bit scale.
  int magnitude = ((mantissa << 3) + kBias) << segment;
  magnitude -= kBias;
  return static_cast<int16_t>((c & 0x80) ? -magnitude : magnitude);
}

// G.711 A-law: 13-bit magnitude, segment 0 and 1 share the step size; even bits are inverted
// for transmission (XOR 0x55), and the sign bit is 1 for positive values.
uint8_t LinearToAlaw(int16_t pcm) {
  int v = pcm >> 3;  // 13-bit signed
  uint8_t sign = 0x80;
  if (v < 0) {
    v = -v - 1;  // one's complement magnitude, as G.711 Table 1a's negative decision values
    sign = 0x00;
  }
  if (v > 0x0FFF) v = 0x0FFF;
  uint8_t code;
  if (v < 32) {
    code = static_cast<uint8_t>(v >> 1);  // segment 0: step 2 (on the 13-bit scale)
  } else {
    int segment = HighBit(v) - 4;  // 1..7
    int mantissa = (v >> segment) & 0x0F;
    code = static_cast<uint8_t>((segment << 4) | mantissa);
  }
  return static_cast<uint8_t>((sign | code) ^ 0x55);
}

int16_t AlawToLinear(uint8_t code) {
  int c = code ^ 0x55;
  int segment = (c >> 4) & 0x07;
  int mantissa = c & 0x0F;
  int magnitude;  // 13-bit scale, middle of the quantisation step
  if (segment == 0) {
    magnitude = (mantissa << 1) + 1;
  } else {
    magnitude = ((mantissa << 1) + 33) << (segment - 1);
  }
  magnitude <<= 3;  // back to 16 bits
  return static_cast<int16_t>((c & 0x80) ? magnitude : -magnitude);
}

}  // namespace refrtc::media
