// The RTP half of an RTCPeerConnection (issue D), below the W3C objects and above the transport
// stack: per transceiver a synthetic source → encoder → RtpSendStream, and RtpReceiveStream →
// analysing sink; BUNDLE demultiplexing of received RTP by MID header extension, SSRC and payload
// type (RFC 8843 §9.2 / RFC 8829 §5.9); RTCP: compound SR/RR + SDES every second (RFC 3550 §6.2,
// with the 0.5-1.5 randomisation of §6.3.1), generic NACK with RTX (RFC 4585 §6.2.1, RFC 4588), PLI
// (RFC 4585 §6.3.1) and FIR (RFC 5104 §4.3.1). Sans-IO: packets out are queued (unprotected) for the
// peer connection to hand to TransportStack::SendRtp/SendRtcp; time comes in as Instant.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/media_pipeline.h"
#include "refrtc/rtc_rtp_transceiver.h"
#include "rtp/rtp_streams.h"
#include "rtp/rtp_types.h"
#include "rtp/telephone_event.h"
#include "sdp/rtp_description.h"
#include "util/bytes.h"
#include "util/random.h"
#include "util/time.h"

namespace refrtc {

// What an offer/answer exchange decided for one transceiver's m-section.
struct NegotiatedRtp {
  std::string mid;
  std::string kind;
  bool send = false;  // currentDirection sends
  bool recv = false;  // currentDirection receives
  // Codecs of the answer (payload types shared by both ends, RFC 8829 §5.3.1), in its order.
  std::vector<sdp::RtpCodec> codecs;
  uint8_t mid_extension_id = 0;  // 0: not negotiated
  uint32_t local_ssrc = 0, local_rtx_ssrc = 0;
  std::optional<uint32_t> remote_ssrc, remote_rtx_ssrc;  // from the remote a=ssrc lines
  std::string cname;
};

// webrtc-stats snapshot of one transceiver (the peer connection turns it into RTCStats objects).
struct MediaStreamStats {
  std::string mid, kind;
  std::optional<sdp::RtpCodec> send_codec;
  std::optional<sdp::RtpCodec> recv_codec;
  uint32_t local_ssrc = 0;
  std::optional<uint32_t> remote_ssrc;
  std::optional<rtp::SendStreamCounters> send;
  std::optional<rtp::ReceiveStreamCounters> recv;
  uint64_t frames_encoded = 0, keyframes_encoded = 0;
  uint32_t frame_width = 0, frame_height = 0;
  std::optional<media::TrackInfo> sink;
  uint64_t pli_sent = 0, fir_sent = 0;
  std::optional<Instant> last_packet_sent;
};

class MediaSession {
 public:
  MediaSession(Random& rng, rtp::NtpClock clock) : rng_(rng), clock_(clock) {}

  // (Re)applies a negotiation result for `t` (after every applied answer). Keeps the streams whose
  // parameters did not change (sequence numbers continue across renegotiation).
  void Configure(RTCRtpTransceiver* t, const NegotiatedRtp& n, Instant now);
  void Remove(RTCRtpTransceiver* t);
  // Media may flow (SRTP keys exist) / may not (closed, failed).
  void SetTransportReady(bool ready, Instant now);

  void OnRtp(ByteView packet, Instant now);
  void OnRtcp(ByteView packet, Instant now);
  void HandleTimeout(Instant now);
  std::optional<Instant> PollTimeout() const;

  struct Outgoing {
    Bytes packet;
    bool rtcp = false;
  };
  std::optional<Outgoing> PollOutgoing();

  std::vector<MediaStreamStats> Stats() const;
  // What the receiving sink of `t` measured (computed on demand: the audio spectrum is not cheap).
  std::optional<media::TrackInfo> SinkInfo(const RTCRtpTransceiver* t) const;
  // For fuzzers and unit tests of the session alone: a transceiver not owned by any peer
  // connection (sender with `source` as its track when not empty).
  static std::shared_ptr<RTCRtpTransceiver> NewDetachedTransceiver(const std::string& kind, const std::string& source);

  // --- DTMF (RFC 4733 telephone-events; webrtc-pc §7) ---
  // The negotiated telephone-event payload type `t` would send DTMF with: the stream sends, and a
  // telephone-event codec with the clock rate of the send codec was negotiated (48000 with Opus,
  // 8000 with PCMU/PCMA). nullopt otherwise.
  std::optional<uint8_t> DtmfPayloadType(const RTCRtpTransceiver* t) const;
  // Starts one event (tone '0'-'9', '*', '#', 'A'-'D') of `duration_ms` now: the audio is
  // suppressed and RFC 4733 packets go out on the audio SSRC until the event's end packets are
  // sent. false (nothing sent) when DtmfPayloadType is nullopt, the transport is not ready or the
  // tone is not a DTMF character.
  bool StartDtmfTone(RTCRtpTransceiver* t, char tone, uint32_t duration_ms, Instant now);
  // Digits decoded from received telephone-events (rtp::TelephoneEventDecoder policy).
  struct ReceivedDtmf {
    RTCRtpTransceiver* t = nullptr;
    char tone = 0;
    uint32_t duration_ms = 0;
    uint32_t rtp_timestamp = 0;
  };
  std::optional<ReceivedDtmf> PollReceivedDtmf();

  // RTP packets that matched no m-section (RFC 8843 §9.2: dropped).
  uint64_t unroutable_packets() const { return unroutable_; }

  // Resource limit (docs/LIMITS.md): remote SSRCs remembered as routes (announced in a=ssrc or
  // learned from MID / payload type, RFC 8843 §9.2). Every m-section has one receive stream and one
  // DTMF decoder, replaced when its remote SSRC changes; the routes to SSRCs no stream uses any more
  // are forgotten when the table is full, and a new SSRC that still does not fit is not learned
  // (the packet is still delivered). RFC 3550 §8.2 expects few SSRCs per session: the table holds
  // two per m-section (media + RTX) plus kMaxSsrcRoutes more (simulcast layers, SSRC changes).
  static constexpr size_t kMaxSsrcRoutes = 64;
  size_t ssrc_route_limit() const { return kMaxSsrcRoutes + 2 * streams_.size(); }
  size_t ssrc_routes() const { return ssrc_routes_.size(); }
  uint64_t ssrcs_not_learned() const { return ssrcs_not_learned_; }
  size_t receive_streams() const;  // m-sections with a live receive stream (diagnostics)

 private:
  struct Stream {
    RTCRtpTransceiver* t = nullptr;
    NegotiatedRtp neg;
    // Sending.
    std::optional<sdp::RtpCodec> send_codec;
    std::optional<uint8_t> send_rtx_pt;
    std::unique_ptr<rtp::RtpSendStream> send;
    std::unique_ptr<media::MediaSource> source;
    std::string source_spec;  // of the track the source was made for
    const MediaStreamTrack* source_track = nullptr;
    std::optional<std::optional<uint64_t>> applied_max_bitrate;  // last SetMaxBitrate given to source
    uint64_t frames_encoded_before = 0, keyframes_before = 0;  // of replaced sources
    std::optional<Instant> last_packet_sent;
    // RFC 3550 §5.1: the RTP timestamp grows linearly with time for the life of the send stream,
    // across pauses and source changes (a new source's frames start at 0 and get this offset).
    std::optional<Instant> ts_origin;
    uint32_t ts_offset = 0;
    // Receiving.
    std::optional<uint32_t> remote_ssrc, remote_rtx_ssrc;
    std::unique_ptr<rtp::RtpReceiveStream> recv;
    std::unique_ptr<media::MediaSink> sink;
    std::optional<uint8_t> sink_pt;
    bool recv_nack = false;
    uint64_t pli_sent = 0, fir_sent = 0;
    std::optional<Instant> last_pli;
    std::optional<Instant> last_rtp_received;  // for muting the receiver's track when RTP stops
    // DTMF: the event being sent (on the send stream's SSRC with dtmf_pt), and the decoder of the
    // remote SSRC's telephone-events (dtmf_rx_ssrc, at dtmf_rx_clock).
    std::unique_ptr<rtp::TelephoneEventSender> dtmf_tx;
    uint8_t dtmf_pt = 0;
    std::unique_ptr<rtp::TelephoneEventDecoder> dtmf_rx;
    uint32_t dtmf_rx_ssrc = 0, dtmf_rx_clock = 0;
  };
  void DrainDigits(Stream& s);

  Stream* Route(const rtp::RtpPacket& p);
  void LearnSsrc(uint32_t ssrc, Stream* s);
  Stream* BySendSsrc(uint32_t ssrc);
  Stream* ByRecvSsrc(uint32_t ssrc);
  bool WantsSource(const Stream& s) const;
  void ApplyMaxBitrate(Stream& s);
  void EnsureSource(Stream& s, Instant now);
  void DeliverMedia(Stream& s, const rtp::RtpPacket& p, Instant now);
  void SendRtcpReports(Instant now);
  void SendFeedback(Stream& s, Instant now);
  void QueueRtcp(const std::vector<rtp::RtcpPacket>& packets);
  uint32_t RtcpSenderSsrc() const;
  void UpdateReceiverTrack(Stream& s, Instant now);

  Random& rng_;
  rtp::NtpClock clock_;
  bool ready_ = false;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::map<uint32_t, Stream*> ssrc_routes_;  // learned remote SSRC (media or RTX) → stream
  std::deque<Outgoing> out_;
  std::optional<Instant> next_rtcp_;
  uint64_t unroutable_ = 0;
  uint64_t ssrcs_not_learned_ = 0;
  std::deque<ReceivedDtmf> received_dtmf_;
};

}  // namespace refrtc
