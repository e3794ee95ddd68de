// The record format shared by the fuzzers that feed RTP payload sequences into media sinks:
// [seq_delta:1 (signed)][ts_delta:1 (×300)][flags:1][len:1][payload:len], repeated; bits 3-7 of
// flags are the arrival time step in 8 ms units, bits 0-2 are the fuzzer's own (see each fuzzer).
// A truncated last payload is cut to what is left.
#pragma once
#include <cstddef>
#include <cstdint>

#include "util/bytes.h"
#include "util/time.h"

namespace refrtc::fuzz {

struct RtpRecord {
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint8_t flags = 0;
  ByteView payload;
  Instant now;
  bool marker() const { return flags & 1; }
};

class RtpRecordReader {
 public:
  RtpRecordReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  // The next record (sequence number, timestamp and arrival time accumulated), false at the end.
  bool Next(RtpRecord& r) {
    if (pos_ + 4 > size_) return false;
    seq_ = static_cast<uint16_t>(seq_ + static_cast<int8_t>(data_[pos_]));
    ts_ += static_cast<uint32_t>(data_[pos_ + 1]) * 300;
    r.flags = data_[pos_ + 2];
    size_t len = data_[pos_ + 3];
    pos_ += 4;
    if (len > size_ - pos_) len = size_ - pos_;
    r.payload = ByteView(data_ + pos_, len);
    pos_ += len;
    now_ += std::chrono::milliseconds(8 * (r.flags >> 3));
    r.seq = seq_;
    r.timestamp = ts_;
    r.now = now_;
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  uint16_t seq_ = 0;
  uint32_t ts_ = 0;
  Instant now_ = Instant() + std::chrono::seconds(1);
};

}  // namespace refrtc::fuzz
