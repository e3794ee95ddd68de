// RFC 3550 receiver statistics (A.1/A.3/A.8) on arbitrary packet sequences: no UB (UBSan), and
// the report-block invariants hold: cumulative lost within 24-bit signed range, expected never
// negative once out of probation, LSR/DLSR zero until an SR arrives.
//
// Input: byte 0 = config (bits 0-1: MIN_SEQUENTIAL 1-4), then 9-byte records:
//   seq (2), rtp timestamp (4), arrival step in ms (2, signed), op (1: bit 0 report, bit 1 SR).
#include <cstdint>
#include <cstdlib>

#include "rtp/receive_statistics.h"

using namespace refrtc;
using namespace refrtc::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  ReceiveStatisticsConfig config;
  config.min_sequential = 1 + (data[0] & 3);
  ReceiveStatistics stats(config);
  StreamReceiveStatistics& s = stats.Stream(Ssrc(1), 90000);
  Instant now{};
  bool had_sr = false;
  for (size_t off = 1; off + 9 <= size; off += 9) {
    const uint8_t* r = data + off;
    const uint16_t seq = static_cast<uint16_t>(r[0] << 8 | r[1]);
    const uint32_t ts = uint32_t{r[2]} << 24 | uint32_t{r[3]} << 16 | uint32_t{r[4]} << 8 | r[5];
    const int16_t step = static_cast<int16_t>(r[6] << 8 | r[7]);
    now += milliseconds(step);
    s.OnPacket(SequenceNumber(seq), ts, now);
    if (r[8] & 2) {
      s.OnSenderReport(NtpTime(uint64_t{ts} << 24 | seq), now);
      had_sr = true;
    }
    if (r[8] & 1) {
      ReportBlock rb = s.MakeReportBlock(now);
      if (rb.cumulative_lost < -0x800000 || rb.cumulative_lost > 0x7FFFFF) abort();
      if (!had_sr && (rb.last_sr != 0 || rb.delay_since_last_sr != 0)) abort();
      if (!s.on_probation() && s.received() > 0 && s.expected() < 1) abort();
    }
  }
  (void)stats.MakeReportBlocks(now);
  return 0;
}
