// The RTP half of an audio/video m-section (RFC 8829 §5.2.1 / §5.3.1): codecs (a=rtpmap, a=fmtp,
// a=rtcp-fb; RFC 8866 §6.6, RFC 4585 §4.2), header extensions (a=extmap, RFC 8285 §8), the sender's
// media stream and track ids (a=msid, RFC 8830 §2), its SSRCs (a=ssrc, a=ssrc-group:FID, RFC 5576
// §4.1/§4.2), direction, rtcp-mux (RFC 5761 §5.1.3) and rtcp-rsize (RFC 5506 §5).
//
// ParseRtpDescription never fails on odd values: a malformed attribute is ignored, as RFC 8866 §5.13
// asks of unknown or unusable attributes. WriteRtpDescription appends the attributes in Chromium's
// order so refrtc's descriptions look familiar next to libwebrtc's.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "sdp/sdp.h"

namespace refrtc::sdp {

// RFC 8843 §15 / RFC 8285: the extension BUNDLE needs to demultiplex by m-section.
constexpr absl::string_view kMidExtensionUri = "urn:ietf:params:rtp-hdrext:sdes:mid";

struct RtpCodec {
  uint8_t payload_type = 0;
  std::string name;          // as written: "opus", "VP8", "rtx", "telephone-event"
  uint32_t clock_rate = 0;
  uint8_t channels = 1;      // encoding parameters (audio); 1 when absent
  std::string fmtp;          // a=fmtp value after "<pt> " ("" when none)
  std::vector<std::string> rtcp_fb;  // a=rtcp-fb values after "<pt> ": "nack", "nack pli", "ccm fir"
  // RFC 4588 §8.6: for rtx, the payload type it repairs (fmtp apt=).
  std::optional<uint8_t> apt() const;
  bool has_feedback(absl::string_view fb) const;
  bool is_rtx() const;
};

struct RtpExtension {
  uint8_t id = 0;
  std::string uri;
};

struct RtpDescription {
  std::string kind;  // "audio" / "video"
  std::string direction = "sendrecv";
  std::vector<RtpCodec> codecs;  // in m= format order
  std::vector<RtpExtension> extensions;
  std::vector<std::string> stream_ids;  // a=msid stream ids ("-" means none, RFC 8830 §2)
  std::string track_id;                 // a=msid appdata (may be empty)
  std::vector<uint32_t> ssrcs;          // every a=ssrc id, in order, unique
  std::optional<uint32_t> media_ssrc;   // the primary (first of FID, else first ssrc)
  std::optional<uint32_t> rtx_ssrc;     // second of a=ssrc-group:FID
  std::string cname;                    // a=ssrc:<x> cname:
  bool rtcp_mux = false;
  bool rtcp_rsize = false;

  const RtpCodec* FindCodec(uint8_t pt) const;
  // The rtx codec whose apt is `pt`, or nullptr.
  const RtpCodec* FindRtxFor(uint8_t pt) const;
  // a=extmap id for `uri`, 0 when absent.
  uint8_t ExtensionId(absl::string_view uri) const;
};

RtpDescription ParseRtpDescription(const MediaSection& m);
// Appends extmap, direction, msid, rtcp-mux, rtcp-rsize, rtpmap/rtcp-fb/fmtp per codec and the
// ssrc lines (FID group first when there is an RTX SSRC). Sets m.formats to the codecs' payload types.
void WriteRtpDescription(const RtpDescription& d, MediaSection& m);

// RFC 3264 §6.1 / RFC 8829 §5.3.1: the direction an answerer may use given the offered one and what
// it wants: the offer's sendonly allows at most recvonly, and so on.
std::string AnswerDirection(absl::string_view offered, absl::string_view wanted);
// The same direction seen from the other end (sendonly ↔ recvonly).
std::string ReverseDirection(absl::string_view direction);
bool DirectionSends(absl::string_view direction);
bool DirectionReceives(absl::string_view direction);

}  // namespace refrtc::sdp
