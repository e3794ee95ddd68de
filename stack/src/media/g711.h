// ITU-T G.711 (11/88) companding: µ-law (PCMU) and A-law (PCMA), RFC 3551 §4.5.14.
// 16-bit linear PCM in, 8-bit code out (and back). Our own implementation of the segment
// encoding described in G.711 Tables 1a/1b and 2a/2b.
#pragma once
#include <cstdint>

namespace refrtc::media {

uint8_t LinearToUlaw(int16_t pcm);
int16_t UlawToLinear(uint8_t code);
uint8_t LinearToAlaw(int16_t pcm);
int16_t AlawToLinear(uint8_t code);

}  // namespace refrtc::media
