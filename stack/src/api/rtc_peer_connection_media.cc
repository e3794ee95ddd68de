// W3C webrtc-pc §5 RTP media API on RTCPeerConnection, and JSEP (RFC 8829) for audio/video
// m-sections: §5.2.1/§5.3.1 generating them, §5.9/§5.10 applying them, transceiver association
// (webrtc-pc §4.4.1.6 "set the RTCSessionDescription"), track events (§5.7) and the negotiation of
// codecs, directions, SSRCs and the MID header extension that MediaSession runs with.
#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "api/media_session.h"
#include "engine/transport_stack.h"
#include "media/media_pipeline.h"
#include "refrtc/rtc_peer_connection.h"
#include "sdp/rtp_description.h"
#include "sdp/sdp.h"
#include "util/dom_exception.h"

namespace refrtc {

uint64_t RTCPeerConnection::next_media_handle_ = 1;

namespace {

constexpr uint8_t kMidExtensionId = 4;  // the id libwebrtc offers it with
constexpr const char* kRtpProtocol = "UDP/TLS/RTP/SAVPF";

const char* const kDirNames[] = {"sendrecv", "sendonly", "recvonly", "inactive", "stopped"};

std::string MimeType(const std::string& kind, const std::string& name) { return absl::StrCat(kind, "/", name); }

// Our receive codecs with the payload types we offer them with (RFC 3551 static 0/8; dynamic like
// libwebrtc's defaults so the SDP looks familiar).
std::vector<sdp::RtpCodec> LocalCodecs(const std::string& kind) {
  std::vector<sdp::RtpCodec> out;
  if (kind == "audio") {
    for (const auto& c : media::SupportedAudioCodecs()) {
      sdp::RtpCodec r;
      r.name = c.name;
      r.clock_rate = c.clock_rate;
      r.channels = c.channels;
      r.fmtp = c.fmtp;
      r.payload_type = absl::EqualsIgnoreCase(c.name, "opus") ? 111 : absl::EqualsIgnoreCase(c.name, "PCMU") ? 0 : 8;
      out.push_back(r);
    }
    // RFC 4733 telephone-event at the audio codecs' clock rates (48000 for Opus, 8000 for G.711):
    // negotiated so DTMF can follow (issue E); never chosen as the media codec.
    out.push_back(sdp::RtpCodec{110, "telephone-event", 48000, 1, "0-15", {}});
    out.push_back(sdp::RtpCodec{126, "telephone-event", 8000, 1, "0-15", {}});
  } else {
    uint8_t pt = 96;
    for (const auto& c : media::SupportedVideoCodecs()) {
      sdp::RtpCodec r;
      r.name = c.name;
      r.clock_rate = c.clock_rate;
      r.fmtp = c.fmtp;
      r.payload_type = pt++;
      // RFC 4585 §4.2 generic NACK and PLI, RFC 5104 §7.1 FIR.
      r.rtcp_fb = {"nack", "nack pli", "ccm fir"};
      out.push_back(r);
      sdp::RtpCodec rtx;  // RFC 4588 §8.6
      rtx.name = "rtx";
      rtx.clock_rate = c.clock_rate;
      rtx.fmtp = absl::StrCat("apt=", r.payload_type);
      rtx.payload_type = pt++;
      out.push_back(rtx);
    }
  }
  return out;
}

// RFC 6184 §8.1: packetization-mode (0 when absent) must match for H.264 to be the same codec.
std::string H264PacketizationMode(const std::string& fmtp) {
  for (absl::string_view p : absl::StrSplit(fmtp, ';')) {
    p = absl::StripAsciiWhitespace(p);
    if (absl::StartsWithIgnoreCase(p, "packetization-mode=")) return std::string(p.substr(19));
  }
  return "0";
}

bool SameCodec(const sdp::RtpCodec& a, const sdp::RtpCodec& b) {
  if (!absl::EqualsIgnoreCase(a.name, b.name) || a.clock_rate != b.clock_rate) return false;
  if (absl::EqualsIgnoreCase(a.name, "H264")) return H264PacketizationMode(a.fmtp) == H264PacketizationMode(b.fmtp);
  return a.is_rtx() || a.channels == b.channels || absl::EqualsIgnoreCase(a.name, "opus");
}

bool MatchesPreference(const sdp::RtpCodec& c, const std::string& kind, const RTCRtpCodec& pref) {
  return absl::EqualsIgnoreCase(MimeType(kind, c.name), pref.mimeType) && c.clock_rate == pref.clockRate;
}

// §5.4 setCodecPreferences: the preferred codecs first in the given order, their RTX with them;
// codecs not listed are left out (RFC 8829 §5.2.1: "only include codecs in the list").
std::vector<sdp::RtpCodec> ApplyPreferences(const std::vector<sdp::RtpCodec>& codecs, const std::string& kind,
                                            const std::vector<RTCRtpCodec>& prefs) {
  if (prefs.empty()) return codecs;
  std::vector<sdp::RtpCodec> out;
  for (const auto& p : prefs) {
    for (const auto& c : codecs) {
      if (c.is_rtx() || !MatchesPreference(c, kind, p)) continue;
      if (std::any_of(out.begin(), out.end(), [&](const sdp::RtpCodec& o) { return o.payload_type == c.payload_type; }))
        continue;
      out.push_back(c);
      for (const auto& r : codecs)
        if (r.is_rtx() && r.apt() == c.payload_type) out.push_back(r);
    }
  }
  return out;
}

RTCRtpTransceiverDirection FromSdpDirection(const std::string& d) {
  auto parsed = ParseDirection(d);
  return parsed ? *parsed : RTCRtpTransceiverDirection::kInactive;
}

bool IsRtpSection(const sdp::MediaSection& m) {
  return (m.media == "audio" || m.media == "video") && absl::StrContains(m.protocol, "RTP/");
}

}  // namespace

const char* ToString(RTCRtpTransceiverDirection d) { return kDirNames[static_cast<int>(d)]; }

std::optional<RTCRtpTransceiverDirection> ParseDirection(const std::string& s) {
  for (int i = 0; i < 5; ++i)
    if (s == kDirNames[i]) return static_cast<RTCRtpTransceiverDirection>(i);
  return std::nullopt;
}

const char* ToString(MediaStreamTrackState s) { return s == MediaStreamTrackState::kLive ? "live" : "ended"; }

absl::StatusOr<std::shared_ptr<MediaStreamTrack>> MediaStreamTrack::CreateSynthetic(absl::string_view source,
                                                                                    std::string id) {
  auto kind = media::SourceKind(source);
  if (!kind.ok()) return TypeError(absl::StrCat("Unknown synthetic source '", source, "'"));
  auto t = std::shared_ptr<MediaStreamTrack>(new MediaStreamTrack());
  t->kind_ = *kind == media::MediaKind::kAudio ? "audio" : "video";
  t->id_ = std::move(id);
  t->label_ = std::string(source);
  t->source_ = std::string(source);
  return t;
}

// ---------------------------------------------------------------------------------------------
// RTCRtpSender / RTCRtpReceiver / RTCRtpTransceiver methods

absl::Status RTCRtpSender::replaceTrack(std::shared_ptr<MediaStreamTrack> track) {
  // §5.2 replaceTrack steps.
  if (!pc_ || pc_->is_closed_) return InvalidStateError("The peer connection is closed");
  if (transceiver_ && (transceiver_->stopping_ || transceiver_->stopped_))
    return InvalidStateError("The transceiver is stopped");
  if (track && transceiver_ && track->kind() != transceiver_->kind())
    return TypeError("The track's kind does not match the transceiver's");
  track_ = std::move(track);
  return absl::OkStatus();
}

RTCRtpSendParameters RTCRtpSender::getParameters() {
  // §5.2 getParameters: a new transactionId each call; setParameters must return it.
  RTCRtpSendParameters p;
  p.transactionId = absl::StrCat("tx", ++transaction_counter_);
  last_transaction_id_ = p.transactionId;
  p.encodings = encodings_;
  if (pc_ && transceiver_ && pc_->media_) {
    for (const auto& st : pc_->media_->Stats()) {
      if (!transceiver_->mid_ || st.mid != *transceiver_->mid_) continue;
      if (st.send_codec) {
        RTCRtpCodec c;
        c.mimeType = MimeType(transceiver_->kind_, st.send_codec->name);
        c.clockRate = st.send_codec->clock_rate;
        if (transceiver_->kind_ == "audio") c.channels = st.send_codec->channels;
        c.sdpFmtpLine = st.send_codec->fmtp;
        c.payloadType = st.send_codec->payload_type;
        p.codecs.push_back(c);
      }
      for (auto& e : p.encodings) e.ssrc = st.local_ssrc;
    }
  }
  return p;
}

absl::Status RTCRtpSender::setParameters(const RTCRtpSendParameters& parameters) {
  // §5.2 setParameters steps.
  if (!pc_ || pc_->is_closed_ || (transceiver_ && (transceiver_->stopping_ || transceiver_->stopped_)))
    return InvalidStateError("The sender is stopped");
  if (last_transaction_id_.empty() || parameters.transactionId != last_transaction_id_)
    return InvalidStateError("getParameters() must be called before setParameters() (transactionId mismatch)");
  if (parameters.encodings.size() != encodings_.size())
    return InvalidModificationError("The number of encodings cannot change");
  for (size_t i = 0; i < encodings_.size(); ++i) {
    encodings_[i].active = parameters.encodings[i].active;
    encodings_[i].maxBitrate = parameters.encodings[i].maxBitrate;
  }
  last_transaction_id_.clear();
  return absl::OkStatus();
}

RTCTrackInfo RTCRtpReceiver::track_info() const {
  RTCTrackInfo out = info_;
  if (!transceiver_ || !transceiver_->pc_ || !transceiver_->pc_->media_) return out;
  auto info = transceiver_->pc_->media_->SinkInfo(transceiver_);
  if (!info) return out;
  out.samplesReceived = info->samples_received;
  out.sampleRate = info->sample_rate;
  out.dominantHz = info->dominant_hz;
  out.rms = info->rms;
  out.framesReceived = info->frames_received;
  out.framesDecoded = info->frames_decoded;
  out.width = info->width;
  out.height = info->height;
  return out;
}

absl::Status RTCRtpTransceiver::setDirection(RTCRtpTransceiverDirection d) {
  // §5.4 direction setter.
  if (!pc_ || pc_->is_closed_) return InvalidStateError("The peer connection is closed");
  if (stopping_ || stopped_) return InvalidStateError("The transceiver is stopping or stopped");
  if (d == RTCRtpTransceiverDirection::kStopped) return TypeError("'stopped' cannot be set; use stop()");
  if (d == direction_) return absl::OkStatus();
  direction_ = d;
  pc_->UpdateNegotiationNeeded();
  return absl::OkStatus();
}

absl::Status RTCRtpTransceiver::stop() {
  // §5.4 stop(): closed → InvalidStateError; "stop sending and receiving", then negotiation.
  if (!pc_ || pc_->is_closed_) return InvalidStateError("The peer connection is closed");
  if (stopping_ || stopped_) return absl::OkStatus();
  stopping_ = true;
  direction_ = RTCRtpTransceiverDirection::kStopped;
  if (receiver_ && receiver_->track_) receiver_->track_->state_ = MediaStreamTrackState::kEnded;
  pc_->UpdateNegotiationNeeded();
  return absl::OkStatus();
}

absl::Status RTCRtpTransceiver::setCodecPreferences(const std::vector<RTCRtpCodec>& codecs) {
  // §5.4 setCodecPreferences: every codec must be one we can receive (getCapabilities), else
  // InvalidModificationError; an empty list restores the defaults.
  auto caps = RTCPeerConnection::getCapabilities(kind_);
  for (const auto& c : codecs) {
    bool known = std::any_of(caps.begin(), caps.end(), [&](const RTCRtpCodec& k) {
      return absl::EqualsIgnoreCase(k.mimeType, c.mimeType) && k.clockRate == c.clockRate;
    });
    if (!known) return InvalidModificationError(absl::StrCat("Codec not supported for receiving: ", c.mimeType));
  }
  preferences_ = codecs;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// RTCPeerConnection: §5.1 methods

std::vector<RTCRtpCodec> RTCPeerConnection::getCapabilities(const std::string& kind) {
  std::vector<RTCRtpCodec> out;
  if (kind != "audio" && kind != "video") return out;
  for (const auto& c : LocalCodecs(kind)) {
    RTCRtpCodec r;
    r.mimeType = MimeType(kind, c.name);
    r.clockRate = c.clock_rate;
    if (kind == "audio") r.channels = c.channels;
    r.sdpFmtpLine = c.is_rtx() ? "" : c.fmtp;
    if (c.is_rtx() && std::any_of(out.begin(), out.end(), [](const RTCRtpCodec& x) { return absl::EndsWith(x.mimeType, "/rtx"); }))
      continue;
    out.push_back(r);
  }
  return out;
}

std::shared_ptr<RTCRtpTransceiver> RTCPeerConnection::NewTransceiver(const std::string& kind,
                                                                     RTCRtpTransceiverDirection dir) {
  auto t = std::shared_ptr<RTCRtpTransceiver>(new RTCRtpTransceiver());
  t->pc_ = this;
  t->kind_ = kind;
  t->direction_ = dir;
  t->handle_ = next_media_handle_++;
  t->sender_ = std::shared_ptr<RTCRtpSender>(new RTCRtpSender());
  t->sender_->pc_ = this;
  t->sender_->transceiver_ = t.get();
  t->sender_->handle_ = next_media_handle_++;
  t->receiver_ = std::shared_ptr<RTCRtpReceiver>(new RTCRtpReceiver());
  t->receiver_->transceiver_ = t.get();
  // §5.3 "create an RTCRtpReceiver": a remote track, muted until media arrives.
  auto track = std::shared_ptr<MediaStreamTrack>(new MediaStreamTrack());
  track->kind_ = kind;
  track->id_ = rng_.IceString(8) + "-" + rng_.IceString(8);
  std::replace(track->id_.begin(), track->id_.end(), '/', 'x');
  std::replace(track->id_.begin(), track->id_.end(), '+', 'y');
  track->label_ = "remote " + kind;
  track->remote_ = true;
  track->muted_ = true;
  t->receiver_->track_ = track;
  t->receiver_->info_.kind = kind;
  // RFC 3550 §8.1: SSRCs chosen at random (never 0).
  auto ssrc = [&] {
    uint32_t v = 0;
    while (v == 0) v = rng_.U32();
    return v;
  };
  t->local_ssrc_ = ssrc();
  if (kind == "video") t->local_rtx_ssrc_ = ssrc();
  transceivers_.push_back(t);
  return t;
}

absl::StatusOr<std::shared_ptr<RTCRtpTransceiver>> RTCPeerConnection::addTransceiver(
    const std::string& kind, const RTCRtpTransceiverInit& init) {
  // §5.1 addTransceiver steps: closed → InvalidStateError; kind must be audio or video (TypeError).
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  if (kind != "audio" && kind != "video") return TypeError(absl::StrCat("Invalid media kind '", kind, "'"));
  if (init.direction == RTCRtpTransceiverDirection::kStopped) return TypeError("Invalid direction 'stopped'");
  if (init.sendEncodings.size() > 1) return OperationError("Simulcast (more than one encoding) is not supported");
  auto t = NewTransceiver(kind, init.direction);
  t->sender_->stream_ids_ = init.streams;
  if (!init.sendEncodings.empty()) {
    t->sender_->encodings_ = init.sendEncodings;
    for (auto& e : t->sender_->encodings_) e.ssrc.reset();
  }
  UpdateNegotiationNeeded();
  CheckInvariants();
  return t;
}

absl::StatusOr<std::shared_ptr<RTCRtpTransceiver>> RTCPeerConnection::addTransceiver(
    std::shared_ptr<MediaStreamTrack> track, const RTCRtpTransceiverInit& init) {
  if (!track) return TypeError("addTransceiver: track is null");
  auto t = addTransceiver(track->kind(), init);
  if (!t.ok()) return t;
  (*t)->sender_->track_ = std::move(track);
  return t;
}

absl::StatusOr<std::shared_ptr<RTCRtpSender>> RTCPeerConnection::addTrack(std::shared_ptr<MediaStreamTrack> track,
                                                                        const std::vector<std::string>& streams) {
  // §5.1 addTrack steps.
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  if (!track) return TypeError("addTrack: track is null");
  for (const auto& t : transceivers_)
    if (t->sender_->track_ == track && !t->stopped_)
      return InvalidAccessError("The track already has a sender in this peer connection");
  // Step 7: reuse a transceiver whose sender never sent, has no track, same kind, not stopping.
  std::shared_ptr<RTCRtpTransceiver> reuse;
  for (const auto& t : transceivers_) {
    if (t->kind_ == track->kind() && !t->sender_->track_ && !t->sender_->ever_sent_ && !t->stopping_ &&
        !t->stopped_) {
      reuse = t;
      break;
    }
  }
  if (reuse) {
    reuse->sender_->track_ = track;
    reuse->sender_->stream_ids_ = streams;
    // Step 7.3: recvonly → sendrecv, inactive → sendonly.
    if (reuse->direction_ == RTCRtpTransceiverDirection::kRecvonly) reuse->direction_ = RTCRtpTransceiverDirection::kSendrecv;
    if (reuse->direction_ == RTCRtpTransceiverDirection::kInactive) reuse->direction_ = RTCRtpTransceiverDirection::kSendonly;
    UpdateNegotiationNeeded();
    CheckInvariants();
    return reuse->sender_;
  }
  auto t = NewTransceiver(track->kind(), RTCRtpTransceiverDirection::kSendrecv);
  t->created_by_add_track_ = true;
  t->sender_->track_ = track;
  t->sender_->stream_ids_ = streams;
  UpdateNegotiationNeeded();
  CheckInvariants();
  return t->sender_;
}

absl::Status RTCPeerConnection::removeTrack(const std::shared_ptr<RTCRtpSender>& sender) {
  // §5.1 removeTrack steps.
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  if (!sender || sender->pc_ != this) return InvalidAccessError("The sender was not created by this peer connection");
  RTCRtpTransceiver* t = sender->transceiver_;
  if (!t || t->stopping_ || t->stopped_ || !sender->track_) return absl::OkStatus();
  sender->track_.reset();
  if (t->direction_ == RTCRtpTransceiverDirection::kSendrecv) t->direction_ = RTCRtpTransceiverDirection::kRecvonly;
  if (t->direction_ == RTCRtpTransceiverDirection::kSendonly) t->direction_ = RTCRtpTransceiverDirection::kInactive;
  UpdateNegotiationNeeded();
  return absl::OkStatus();
}

std::vector<std::shared_ptr<RTCRtpTransceiver>> RTCPeerConnection::getTransceivers() const {
  std::vector<std::shared_ptr<RTCRtpTransceiver>> out;
  for (const auto& t : transceivers_)
    if (!t->stopped_) out.push_back(t);
  return out;
}

std::vector<std::shared_ptr<RTCRtpSender>> RTCPeerConnection::getSenders() const {
  std::vector<std::shared_ptr<RTCRtpSender>> out;
  for (const auto& t : getTransceivers()) out.push_back(t->sender_);
  return out;
}

std::vector<std::shared_ptr<RTCRtpReceiver>> RTCPeerConnection::getReceivers() const {
  std::vector<std::shared_ptr<RTCRtpReceiver>> out;
  for (const auto& t : getTransceivers()) out.push_back(t->receiver_);
  return out;
}

std::vector<MediaStreamStats> RTCPeerConnection::media_stats() const {
  return media_ ? media_->Stats() : std::vector<MediaStreamStats>{};
}

uint64_t RTCPeerConnection::unroutable_rtp_packets() const { return media_ ? media_->unroutable_packets() : 0; }

RTCRtpTransceiver* RTCPeerConnection::TransceiverByMid(const std::string& mid) const {
  for (const auto& t : transceivers_)
    if (t->mid_ && *t->mid_ == mid && !t->stopped_) return t.get();
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Generating m-sections (RFC 8829 §5.2.1 offer, §5.3.1 answer)

void RTCPeerConnection::WriteOfferMedia(RTCRtpTransceiver& t, sdp::MediaSection& m) const {
  sdp::RtpDescription d;
  d.kind = t.kind_;
  d.direction = ToString(t.direction_ == RTCRtpTransceiverDirection::kStopped ? RTCRtpTransceiverDirection::kInactive
                                                                               : t.direction_);
  d.codecs = ApplyPreferences(LocalCodecs(t.kind_), t.kind_, t.preferences_);
  d.extensions.push_back(sdp::RtpExtension{kMidExtensionId, std::string(sdp::kMidExtensionUri)});
  // RFC 8829 §5.2.1: a=msid with the sender's streams and track (JSEP: "-" without a stream).
  if (t.sender_->track_) {
    d.stream_ids = t.sender_->stream_ids_;
    d.track_id = t.sender_->track_->id();
  }
  d.rtcp_mux = true;
  d.rtcp_rsize = true;
  // a=ssrc while the sender has a track, whatever the direction — as libwebrtc does. libwebrtc
  // destroys its receive stream when the SSRC disappears from a description (a recvonly/inactive
  // renegotiation) and, when the same SSRC comes back, does not play its audio again (seen with
  // Chromium 156 and @roamhq/wrtc: conformance/media/media-set-direction).
  if (sdp::DirectionSends(d.direction) || t.sender_->track_) {
    d.media_ssrc = t.local_ssrc_;
    if (t.local_rtx_ssrc_ && std::any_of(d.codecs.begin(), d.codecs.end(), [](const sdp::RtpCodec& c) { return c.is_rtx(); }))
      d.rtx_ssrc = t.local_rtx_ssrc_;
    d.cname = cname_;
  }
  m.media = t.kind_;
  m.protocol = kRtpProtocol;
  sdp::WriteRtpDescription(d, m);
}

bool RTCPeerConnection::WriteAnswerMedia(const sdp::MediaSection& offered, RTCRtpTransceiver& t,
                                         sdp::MediaSection& m) const {
  if (t.stopping_ || t.stopped_) return false;
  auto remote = sdp::ParseRtpDescription(offered);
  auto local = ApplyPreferences(LocalCodecs(t.kind_), t.kind_, t.preferences_);
  sdp::RtpDescription d;
  d.kind = t.kind_;
  // RFC 8829 §5.3.1: the offer's payload types, the answerer's preference order when set.
  std::vector<sdp::RtpCodec> common;
  auto add = [&](const sdp::RtpCodec& rc, const sdp::RtpCodec& lc) {
    sdp::RtpCodec c = rc;
    c.rtcp_fb.clear();
    for (const auto& fb : rc.rtcp_fb)
      if (lc.has_feedback(fb)) c.rtcp_fb.push_back(fb);
    common.push_back(c);
  };
  if (!t.preferences_.empty()) {
    for (const auto& lc : local) {
      if (lc.is_rtx()) continue;
      for (const auto& rc : remote.codecs)
        if (!rc.is_rtx() && SameCodec(rc, lc) &&
            std::none_of(common.begin(), common.end(), [&](const sdp::RtpCodec& x) { return x.payload_type == rc.payload_type; }))
          add(rc, lc);
    }
  } else {
    for (const auto& rc : remote.codecs) {
      if (rc.is_rtx()) continue;
      for (const auto& lc : local)
        if (!lc.is_rtx() && SameCodec(rc, lc)) {
          add(rc, lc);
          break;
        }
    }
  }
  if (common.empty()) return false;  // §5.3.1: no codec in common → reject
  bool we_do_rtx = std::any_of(local.begin(), local.end(), [](const sdp::RtpCodec& c) { return c.is_rtx(); });
  std::vector<sdp::RtpCodec> with_rtx;
  for (const auto& c : common) {
    with_rtx.push_back(c);
    if (!we_do_rtx) continue;
    for (const auto& rc : remote.codecs)
      if (rc.is_rtx() && rc.apt() == c.payload_type) {
        sdp::RtpCodec r = rc;
        r.rtcp_fb.clear();
        with_rtx.push_back(r);
        break;
      }
  }
  d.codecs = with_rtx;
  if (uint8_t id = remote.ExtensionId(sdp::kMidExtensionUri))
    d.extensions.push_back(sdp::RtpExtension{id, std::string(sdp::kMidExtensionUri)});
  // We can only send a codec we can encode (H.264 is receive-only): without one in common the
  // answer does not claim to send (RFC 3264 §6.1).
  bool can_send = false;
  for (const auto& c : common) {
    auto list = t.kind_ == "audio" ? media::SupportedAudioCodecs() : media::SupportedVideoCodecs();
    for (const auto& spec : list)
      can_send |= spec.can_encode && absl::EqualsIgnoreCase(spec.name, c.name) && spec.clock_rate == c.clock_rate;
  }
  std::string wanted = ToString(t.direction_);
  if (!can_send) wanted = sdp::DirectionReceives(wanted) ? "recvonly" : "inactive";
  d.direction = sdp::AnswerDirection(remote.direction, wanted);
  if (t.sender_->track_) {
    d.stream_ids = t.sender_->stream_ids_;
    d.track_id = t.sender_->track_->id();
  }
  d.rtcp_mux = true;  // RFC 8829 §5.3.1: we require rtcp-mux (policy "require")
  d.rtcp_rsize = remote.rtcp_rsize;
  if (sdp::DirectionSends(d.direction) || (t.sender_->track_ && can_send)) {  // see WriteOfferMedia
    d.media_ssrc = t.local_ssrc_;
    if (t.local_rtx_ssrc_ && std::any_of(d.codecs.begin(), d.codecs.end(), [](const sdp::RtpCodec& c) { return c.is_rtx(); }))
      d.rtx_ssrc = t.local_rtx_ssrc_;
    d.cname = cname_;
  }
  m.media = t.kind_;
  m.protocol = offered.protocol;
  sdp::WriteRtpDescription(d, m);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Applying descriptions (webrtc-pc §4.4.1.6 "set the RTCSessionDescription")

void RTCPeerConnection::ApplyLocalMedia(const sdp::SessionDescription& local, RTCSdpType type) {
  for (const auto& m : local.media) {
    if (!IsRtpSection(m) || !m.mid()) continue;
    const std::string mid = *m.mid();
    if (type == RTCSdpType::kOffer) {
      // Step 4.6.x: a transceiver gets the mid of the m-section our offer gave it.
      if (TransceiverByMid(mid)) continue;
      auto it = offer_mids_.find(mid);
      if (it == offer_mids_.end()) continue;
      if (auto t = it->second.lock()) {
        if (!t->mid_) {
          t->mid_ = mid;
          t->mid_from_pending_offer_ = true;
        }
      }
      continue;
    }
    // Our (pr)answer: currentDirection = the answer's direction (step 4.6.x "set
    // [[CurrentDirection]]"); a rejected section stops its transceiver.
    RTCRtpTransceiver* t = TransceiverByMid(mid);
    if (!t) continue;
    if (m.port == 0 && !m.bundle_only()) {
      StopTransceiverNow(*t);
      continue;
    }
    if (type == RTCSdpType::kAnswer) {
      t->current_direction_ = FromSdpDirection(m.direction());
      t->mid_from_pending_offer_ = false;
      t->created_by_remote_offer_ = false;
      if (sdp::DirectionSends(m.direction())) t->sender_->ever_sent_ = true;
    }
  }
  if (type == RTCSdpType::kOffer) offer_mids_.clear();
}

void RTCPeerConnection::ApplyRemoteMedia(const sdp::SessionDescription& remote, RTCSdpType type,
                                         std::vector<RTCEvent>* track_events) {
  for (size_t i = 0; i < remote.media.size(); ++i) {
    const auto& m = remote.media[i];
    if (!IsRtpSection(m)) continue;
    const std::string mid = m.mid().value_or(std::to_string(i));
    RTCRtpTransceiver* t = TransceiverByMid(mid);
    const bool rejected = m.port == 0 && !m.bundle_only();
    if (type == RTCSdpType::kOffer && !t && !rejected) {
      // Step 4.6.x: associate a transceiver created by addTrack, of this kind, without a mid;
      // else create one (recvonly, W3C "create an RTCRtpTransceiver" with direction recvonly).
      for (const auto& c : transceivers_) {
        if (c->created_by_add_track_ && !c->mid_ && c->kind_ == m.media && !c->stopping_ && !c->stopped_) {
          t = c.get();
          break;
        }
      }
      if (!t) {
        auto created = NewTransceiver(m.media, RTCRtpTransceiverDirection::kRecvonly);
        created->created_by_remote_offer_ = true;
        t = created.get();
      }
      t->mid_ = mid;
      t->mid_from_pending_offer_ = true;
    }
    if (!t) continue;
    if (rejected) {
      if (type != RTCSdpType::kOffer || t->current_direction_) StopTransceiverNow(*t);
      continue;
    }
    auto d = sdp::ParseRtpDescription(m);
    // §4.4.1.6 "process remote tracks": the remote sends on this m-section (its sendrecv/sendonly)
    // → the track event fires once per becoming receptive; stops sending → the track is muted.
    bool remote_sends = sdp::DirectionSends(d.direction);
    t->remote_stream_ids_ = d.stream_ids;
    t->receiver_->stream_ids_ = d.stream_ids;
    if (type == RTCSdpType::kAnswer) {
      t->current_direction_ = FromSdpDirection(sdp::ReverseDirection(d.direction));
      t->mid_from_pending_offer_ = false;
      t->created_by_remote_offer_ = false;
      if (sdp::DirectionReceives(d.direction)) t->sender_->ever_sent_ = t->sender_->ever_sent_ || t->sender_->track_ != nullptr;
    }
    if (remote_sends && !t->fired_direction_recv_) {
      t->fired_direction_recv_ = true;
      if (t->receiver_->track_->state_ == MediaStreamTrackState::kEnded) continue;
      RTCEvent e{RTCEventType::kTrack};
      for (const auto& sp : transceivers_)
        if (sp.get() == t) e.transceiver = sp;
      e.streams = d.stream_ids;
      track_events->push_back(std::move(e));
    } else if (!remote_sends && t->fired_direction_recv_) {
      t->fired_direction_recv_ = false;
      t->receiver_->track_->muted_ = true;  // "process the removal of a remote track"
    }
  }
}

void RTCPeerConnection::StopTransceiverNow(RTCRtpTransceiver& t) {
  // webrtc-pc §5.4 "stop the RTCRtpTransceiver" + "stopped" once negotiated.
  t.stopping_ = true;
  t.stopped_ = true;
  t.direction_ = RTCRtpTransceiverDirection::kStopped;
  t.current_direction_ = RTCRtpTransceiverDirection::kStopped;
  if (t.receiver_ && t.receiver_->track_) t.receiver_->track_->state_ = MediaStreamTrackState::kEnded;
  if (media_) media_->Remove(&t);
}

void RTCPeerConnection::NegotiateMedia() {
  // After an answer: both current descriptions exist; run MediaSession with what they decided.
  if (!current_local_ || !current_remote_ || !media_) return;
  auto local = sdp::SessionDescription::Parse(current_local_->sdp);
  auto remote = sdp::SessionDescription::Parse(current_remote_->sdp);
  if (!local.ok() || !remote.ok()) return;
  const bool we_answered = current_local_->type == RTCSdpType::kAnswer;
  for (const auto& tp : transceivers_) {
    RTCRtpTransceiver& t = *tp;
    if (!t.mid_ || t.stopped_) continue;
    const sdp::MediaSection* lm = local->FindMedia(*t.mid_);
    const sdp::MediaSection* rm = remote->FindMedia(*t.mid_);
    if (!lm || !rm || lm->port == 0 || rm->port == 0) continue;
    const sdp::MediaSection& answer = we_answered ? *lm : *rm;
    auto ad = sdp::ParseRtpDescription(answer);
    auto rd = sdp::ParseRtpDescription(*rm);
    NegotiatedRtp n;
    n.mid = *t.mid_;
    n.kind = t.kind_;
    auto current = t.current_direction_.value_or(RTCRtpTransceiverDirection::kInactive);
    n.send = (current == RTCRtpTransceiverDirection::kSendrecv || current == RTCRtpTransceiverDirection::kSendonly) &&
             !t.stopping_;
    n.recv = (current == RTCRtpTransceiverDirection::kSendrecv || current == RTCRtpTransceiverDirection::kRecvonly) &&
             !t.stopping_;
    n.codecs = ad.codecs;
    n.mid_extension_id = ad.ExtensionId(sdp::kMidExtensionUri);
    n.local_ssrc = t.local_ssrc_;
    n.local_rtx_ssrc = t.local_rtx_ssrc_;
    n.remote_ssrc = rd.media_ssrc;
    n.remote_rtx_ssrc = rd.rtx_ssrc;
    n.cname = cname_;
    media_->Configure(&t, n, now_);
  }
}

void RTCPeerConnection::RollbackMedia(bool local_offer) {
  // §4.4.1.6 rollback: mids a rolled-back offer set go back to null; transceivers a rolled-back
  // remote offer created (and that got no track since) are removed; addTrack associations undone.
  for (auto it = transceivers_.begin(); it != transceivers_.end();) {
    auto& t = *it;
    if (t->mid_from_pending_offer_) {
      t->mid_.reset();
      t->mid_from_pending_offer_ = false;
      if (!local_offer && t->fired_direction_recv_ && !t->current_direction_) {
        t->fired_direction_recv_ = false;
        t->receiver_->track_->muted_ = true;
      }
    }
    if (!local_offer && t->created_by_remote_offer_ && !t->sender_->track_) {
      if (media_) media_->Remove(t.get());
      it = transceivers_.erase(it);
      continue;
    }
    t->created_by_remote_offer_ = false;
    ++it;
  }
  offer_mids_.clear();
}

bool RTCPeerConnection::MediaNegotiationNeeded() const {
  // §4.7.3 "check if negotiation is needed", the media steps.
  std::optional<sdp::SessionDescription> local;
  if (current_local_) {
    auto p = sdp::SessionDescription::Parse(current_local_->sdp);
    if (p.ok()) local = std::move(*p);
  }
  for (const auto& t : transceivers_) {
    if (t->stopped_) continue;
    // A transceiver that was stopped but not yet negotiated as such.
    if (t->stopping_) {
      if (t->mid_) return true;
      continue;
    }
    if (!t->mid_) return true;  // not yet in any description
    if (!local) return true;
    const sdp::MediaSection* m = local->FindMedia(*t->mid_);
    if (!m) return true;
    // Direction or sent track changed since the last negotiation.
    auto d = sdp::ParseRtpDescription(*m);
    std::string want = ToString(t->direction_);
    if (current_local_->type == RTCSdpType::kOffer) {
      if (d.direction != want) return true;
    } else {
      // As answerer: our answer's direction is at most what we want; renegotiate when we want
      // more than the answer gave (we cannot widen it by answering).
      if (sdp::DirectionSends(want) != sdp::DirectionSends(d.direction) && !sdp::DirectionSends(d.direction) &&
          t->current_direction_ && sdp::DirectionSends(want))
        return true;
      if (sdp::DirectionReceives(want) != sdp::DirectionReceives(d.direction) && !sdp::DirectionReceives(want))
        return true;
      if (sdp::DirectionSends(d.direction) && !sdp::DirectionSends(want)) return true;
    }
    // §4.7.3: the sender's associated stream ids differ from the a=msid we sent (replaceTrack keeps
    // them, so it never needs negotiation).
    if (sdp::DirectionSends(want) && sdp::DirectionSends(d.direction) && d.stream_ids != t->sender_->stream_ids_)
      return true;
  }
  return false;
}

void RTCPeerConnection::PumpMedia() {
  if (!media_) return;
  while (auto o = media_->PollOutgoing()) {
    absl::Status st = o->rtcp ? stack_->SendRtcp(std::move(o->packet), now_) : stack_->SendRtp(std::move(o->packet), now_);
    (void)st;  // counted by the transport stack (no path / no keys yet): media is loss-tolerant
  }
}

}  // namespace refrtc
