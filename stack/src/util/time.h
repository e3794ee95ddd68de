// Time as the sans-IO engine sees it: every input carries `now`; nothing inside reads a clock.
#pragma once
#include <chrono>

namespace refrtc {

// A monotonic instant. Hosts pass std::chrono::steady_clock::now() (native loop) or a virtual
// time point (test network, fuzzers); the engine only compares and adds durations.
using Instant = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

inline int64_t ToMillis(Duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

}  // namespace refrtc
