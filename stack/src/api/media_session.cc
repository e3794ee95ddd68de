#include "api/media_session.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "rtp/rtcp_packet.h"
#include "rtp/rtp_packet.h"

namespace refrtc {
namespace {

constexpr Duration kRtcpInterval = std::chrono::seconds(1);  // RFC 3550 §6.2 (libwebrtc uses 1 s too)
constexpr Duration kMinPliInterval = std::chrono::milliseconds(300);
constexpr size_t kMaxRtpPayload = 1200;
// webrtc-pc §5.3: a receiver's track is muted when media stops flowing; like libwebrtc we call
// 1.5 s without an RTP packet "stopped" (unmuted again by the next packet).
constexpr Duration kMuteAfter = std::chrono::milliseconds(1500);  // leaves room for headers, SRTP and IPv6/UDP under 1280

bool SameCodec(const sdp::RtpCodec& a, const media::CodecSpec& b) {
  return absl::EqualsIgnoreCase(a.name, b.name) && a.clock_rate == b.clock_rate;
}

// The codecs the media pipeline can encode/decode for this kind, matched against the negotiated list.
std::optional<media::CodecSpec> PipelineCodec(const std::string& kind, const sdp::RtpCodec& c) {
  auto list = kind == "audio" ? media::SupportedAudioCodecs() : media::SupportedVideoCodecs();
  for (auto spec : list) {
    if (SameCodec(c, spec)) {
      spec.channels = c.channels;
      spec.fmtp = c.fmtp;
      return spec;
    }
  }
  return std::nullopt;
}

bool IsRtxPt(const NegotiatedRtp& n, uint8_t pt) {
  for (const auto& c : n.codecs)
    if (c.payload_type == pt) return c.is_rtx();
  return false;
}

const sdp::RtpCodec* FindCodec(const NegotiatedRtp& n, uint8_t pt) {
  for (const auto& c : n.codecs)
    if (c.payload_type == pt) return &c;
  return nullptr;
}

bool IsTelephoneEvent(const sdp::RtpCodec& c) { return absl::EqualsIgnoreCase(c.name, "telephone-event"); }

const sdp::RtpCodec* FindRtxFor(const NegotiatedRtp& n, uint8_t pt) {
  for (const auto& c : n.codecs)
    if (c.is_rtx() && c.apt() == pt) return &c;
  return nullptr;
}

}  // namespace

void MediaSession::Configure(RTCRtpTransceiver* t, const NegotiatedRtp& n, Instant now) {
  Stream* s = nullptr;
  for (auto& x : streams_)
    if (x->t == t) s = x.get();
  if (!s) {
    streams_.push_back(std::make_unique<Stream>());
    s = streams_.back().get();
    s->t = t;
  }
  s->neg = n;
  // RFC 8829 §5.3.1 / RFC 3264 §6.1: send with the first codec of the answer we can encode.
  std::optional<sdp::RtpCodec> send_codec;
  for (const auto& c : n.codecs) {
    if (c.is_rtx()) continue;
    auto spec = PipelineCodec(n.kind, c);
    if (spec && spec->can_encode) {  // H.264 is receive-only (passthrough): never sent
      send_codec = c;
      break;
    }
  }
  std::optional<uint8_t> rtx_pt;
  if (send_codec) {
    if (const auto* rtx = FindRtxFor(n, send_codec->payload_type)) rtx_pt = rtx->payload_type;
  }
  bool changed = !s->send || !s->send_codec || !send_codec || s->send_codec->payload_type != send_codec->payload_type ||
                 s->send->config().ssrc.value() != n.local_ssrc || s->send_rtx_pt != rtx_pt ||
                 s->send->config().mid_extension_id != n.mid_extension_id;
  if (send_codec && changed) {
    rtp::SendStreamConfig cfg;
    cfg.ssrc = Ssrc(n.local_ssrc);
    cfg.payload_type = rtp::PayloadType(send_codec->payload_type);
    cfg.clock_rate = send_codec->clock_rate;
    if (rtx_pt && n.local_rtx_ssrc) {
      cfg.rtx_ssrc = Ssrc(n.local_rtx_ssrc);
      cfg.rtx_payload_type = rtp::PayloadType(*rtx_pt);
    }
    cfg.mid_extension_id = n.mid_extension_id;
    cfg.mid = n.mid;
    cfg.initial_sequence_number = static_cast<uint16_t>(rng_.U32() & 0x7FFF);  // RFC 3550 §5.1 (libwebrtc: < 2^15)
    cfg.timestamp_base = rng_.U32();
    cfg.history_size = n.kind == "video" ? 600 : 0;
    cfg.cname = n.cname;
    if (s->source) {
      s->frames_encoded_before += s->source->frames_encoded();
      s->keyframes_before += s->source->keyframes_encoded();
    }
    s->send = std::make_unique<rtp::RtpSendStream>(cfg);
    s->dtmf_tx.reset();
    s->ts_origin.reset();
    s->source.reset();
    s->source_track = nullptr;
  }
  if (!send_codec) {
    if (s->source) {
      s->frames_encoded_before += s->source->frames_encoded();
      s->keyframes_before += s->source->keyframes_encoded();
    }
    s->source.reset();
    s->source_track = nullptr;
    s->dtmf_tx.reset();
  }
  s->send_codec = send_codec;
  s->send_rtx_pt = rtx_pt;

  // Receiving: SSRCs the remote announced (RFC 5576); others are learned from MID / payload type.
  for (auto it = ssrc_routes_.begin(); it != ssrc_routes_.end();) {
    if (it->second == s && (it->first != n.remote_ssrc.value_or(0) || !n.remote_ssrc)) {
      // Keep learned routes of this stream unless the remote now announces different SSRCs.
      if (n.remote_ssrc && it->first != *n.remote_ssrc && it->first != n.remote_rtx_ssrc.value_or(0)) {
        it = ssrc_routes_.erase(it);
        continue;
      }
    }
    ++it;
  }
  if (n.remote_ssrc) {
    ssrc_routes_[*n.remote_ssrc] = s;
    s->remote_ssrc = n.remote_ssrc;
  }
  if (n.remote_rtx_ssrc) {
    ssrc_routes_[*n.remote_rtx_ssrc] = s;
    s->remote_rtx_ssrc = n.remote_rtx_ssrc;
  }
  if (s->recv && s->remote_ssrc && s->recv->config().ssrc.value() != *s->remote_ssrc) {
    s->recv.reset();  // the remote changed its SSRC (a new sender): new statistics
    s->sink.reset();
    s->sink_pt.reset();
  }
  if (!next_rtcp_ && ready_) next_rtcp_ = now + kRtcpInterval / 2;
}

void MediaSession::Remove(RTCRtpTransceiver* t) {
  for (auto it = ssrc_routes_.begin(); it != ssrc_routes_.end();) {
    if (it->second->t == t) {
      it = ssrc_routes_.erase(it);
    } else {
      ++it;
    }
  }
  streams_.erase(std::remove_if(streams_.begin(), streams_.end(), [&](const std::unique_ptr<Stream>& s) { return s->t == t; }),
                 streams_.end());
  received_dtmf_.erase(std::remove_if(received_dtmf_.begin(), received_dtmf_.end(),
                                      [&](const ReceivedDtmf& d) { return d.t == t; }),
                       received_dtmf_.end());
}

void MediaSession::SetTransportReady(bool ready, Instant now) {
  ready_ = ready;
  if (ready && !next_rtcp_) next_rtcp_ = now + kRtcpInterval / 2;
  if (!ready) {
    next_rtcp_.reset();
    for (auto& s : streams_) {
      s->source.reset();
      s->source_track = nullptr;
      s->dtmf_tx.reset();
    }
  }
}

MediaSession::Stream* MediaSession::BySendSsrc(uint32_t ssrc) {
  for (auto& s : streams_) {
    if (s->send && (s->send->config().ssrc.value() == ssrc ||
                    (s->send->config().rtx_ssrc && s->send->config().rtx_ssrc->value() == ssrc)))
      return s.get();
  }
  return nullptr;
}

MediaSession::Stream* MediaSession::ByRecvSsrc(uint32_t ssrc) {
  auto it = ssrc_routes_.find(ssrc);
  return it == ssrc_routes_.end() ? nullptr : it->second;
}

size_t MediaSession::receive_streams() const {
  size_t n = 0;
  for (const auto& s : streams_) n += s->recv ? 1 : 0;
  return n;
}

// Security fix (issue F): every packet with a new SSRC used to add a route that was never removed,
// so a flood of random SSRCs grew ssrc_routes_ without bound. Now capped at ssrc_route_limit().
void MediaSession::LearnSsrc(uint32_t ssrc, Stream* s) {
  auto it = ssrc_routes_.find(ssrc);
  if (it != ssrc_routes_.end()) {
    it->second = s;
    return;
  }
  if (ssrc_routes_.size() >= ssrc_route_limit()) {
    // Forget routes to SSRCs their stream no longer receives (replaced by a newer SSRC).
    for (auto r = ssrc_routes_.begin(); r != ssrc_routes_.end();) {
      const Stream* t = r->second;
      if (t->remote_ssrc != r->first && t->remote_rtx_ssrc != r->first) {
        r = ssrc_routes_.erase(r);
      } else {
        ++r;
      }
    }
    if (ssrc_routes_.size() >= ssrc_route_limit()) {
      ++ssrcs_not_learned_;
      return;
    }
  }
  ssrc_routes_.emplace(ssrc, s);
}

MediaSession::Stream* MediaSession::Route(const rtp::RtpPacket& p) {
  const uint32_t ssrc = p.ssrc.value();
  // RFC 8843 §9.2: the MID header extension decides, and teaches the SSRC.
  for (auto& s : streams_) {
    uint8_t id = s->neg.mid_extension_id;
    if (!id) continue;
    if (const auto* ext = p.FindExtension(id)) {
      std::string mid(ext->data.begin(), ext->data.end());
      for (auto& t : streams_) {
        if (t->neg.mid == mid && t->neg.recv) {
          LearnSsrc(ssrc, t.get());
          return t.get();
        }
      }
      return nullptr;  // a MID we do not receive on
    }
    break;  // one BUNDLE group: every section uses the same id
  }
  if (Stream* s = ByRecvSsrc(ssrc)) return s->neg.recv ? s : nullptr;
  // RFC 8843 §9.2 step 3: a payload type unique to one receiving m-section.
  Stream* match = nullptr;
  int count = 0;
  for (auto& s : streams_) {
    if (!s->neg.recv) continue;
    if (FindCodec(s->neg, p.payload_type.value())) {
      match = s.get();
      ++count;
    }
  }
  if (count == 1) {
    LearnSsrc(ssrc, match);
    return match;
  }
  return nullptr;
}

void MediaSession::OnRtp(ByteView packet, Instant now) {
  auto p = rtp::ParseRtp(packet);
  if (!p.ok()) {
    ++unroutable_;
    return;
  }
  Stream* s = Route(*p);
  if (!s) {
    ++unroutable_;
    return;
  }
  DeliverMedia(*s, *p, now);
}

void MediaSession::DeliverMedia(Stream& s, const rtp::RtpPacket& p, Instant now) {
  const uint8_t pt = p.payload_type.value();
  const bool rtx = IsRtxPt(s.neg, pt);
  if (rtx) {
    if (!s.remote_rtx_ssrc) {
      s.remote_rtx_ssrc = p.ssrc.value();  // learned (no a=ssrc-group:FID in the description)
      s.recv.reset();                      // recreated below with the RTX SSRC
    }
    if (!s.recv) return;  // nothing to repair yet
  } else if (!s.recv || s.recv->config().ssrc.value() != p.ssrc.value()) {
    const sdp::RtpCodec* codec = FindCodec(s.neg, pt);
    if (!codec) return;
    rtp::ReceiveStreamConfig cfg;
    cfg.ssrc = p.ssrc;
    cfg.clock_rate = codec->clock_rate;
    cfg.media_payload_type = p.payload_type;
    if (const auto* r = FindRtxFor(s.neg, pt)) {
      cfg.rtx_payload_type = rtp::PayloadType(r->payload_type);
      if (s.remote_rtx_ssrc) cfg.rtx_ssrc = Ssrc(*s.remote_rtx_ssrc);
    }
    cfg.nack_enabled = codec->has_feedback("nack");
    cfg.local_ssrc = Ssrc(s.neg.local_ssrc);
    s.recv = std::make_unique<rtp::RtpReceiveStream>(cfg);
    s.remote_ssrc = p.ssrc.value();
    LearnSsrc(p.ssrc.value(), &s);
  }
  auto media_packet = s.recv->OnPacket(p, now);
  if (!media_packet) return;
  const uint8_t media_pt = media_packet->payload_type.value();
  if (const sdp::RtpCodec* te = FindCodec(s.neg, media_pt); te && IsTelephoneEvent(*te)) {
    // RFC 4733: telephone-events go to the DTMF decoder (counted by the receive stream above, never
    // given to the audio sink). One decoder per remote SSRC and clock rate.
    const uint32_t ssrc = media_packet->ssrc.value();
    if (!s.dtmf_rx || s.dtmf_rx_ssrc != ssrc || s.dtmf_rx_clock != te->clock_rate) {
      s.dtmf_rx = std::make_unique<rtp::TelephoneEventDecoder>(te->clock_rate);
      s.dtmf_rx_ssrc = ssrc;
      s.dtmf_rx_clock = te->clock_rate;
    }
    s.dtmf_rx->OnPacket(media_packet->timestamp, media_packet->payload, now);
    DrainDigits(s);
    UpdateReceiverTrack(s, now);
    SendFeedback(s, now);
    return;
  }
  if (!s.sink || s.sink_pt != media_pt) {
    const sdp::RtpCodec* codec = FindCodec(s.neg, media_pt);
    if (!codec) return;
    auto spec = PipelineCodec(s.neg.kind, *codec);
    if (!spec) return;  // negotiated but not decodable here (e.g. telephone-event): counted by the stream
    auto sink = media::MediaSink::Create(*spec);
    if (!sink.ok()) return;
    s.sink = std::move(*sink);
    s.sink_pt = media_pt;
    s.sink->SetRetransmissionsExpected(codec->has_feedback("nack") && FindRtxFor(s.neg, media_pt) != nullptr);
  }
  s.sink->OnRtp(media_packet->sequence_number.value(), media_packet->timestamp, media_packet->marker,
                media_packet->payload, now);
  UpdateReceiverTrack(s, now);
  SendFeedback(s, now);
}

void MediaSession::UpdateReceiverTrack(Stream& s, Instant now) {
  auto& receiver = s.t->receiver_;
  if (receiver && receiver->track_) receiver->track_->muted_ = false;  // webrtc-pc §5.3: unmuted when RTP arrives
  s.last_rtp_received = now;
}

std::optional<media::TrackInfo> MediaSession::SinkInfo(const RTCRtpTransceiver* t) const {
  for (const auto& s : streams_)
    if (s->t == t && s->sink) return s->sink->Info();
  return std::nullopt;
}

void MediaSession::SendFeedback(Stream& s, Instant now) {
  std::vector<rtp::RtcpPacket> fb;
  const Ssrc me(s.neg.local_ssrc);
  if (s.recv) {
    auto lost = s.recv->PollNack(now);
    if (!lost.empty()) {
      rtp::Nack nack;
      nack.sender_ssrc = me;
      nack.media_ssrc = s.recv->config().ssrc;
      nack.lost = lost;
      fb.push_back(nack);
    }
  }
  if (s.sink && s.recv && s.sink->TakeKeyframeRequest()) {
    if (!s.last_pli || now - *s.last_pli >= kMinPliInterval) {
      s.last_pli = now;
      ++s.pli_sent;
      fb.push_back(rtp::Pli{me, s.recv->config().ssrc});
    }
  }
  if (fb.empty()) return;
  // RFC 4585 §3.1: feedback goes in a compound packet that starts with a (here empty) RR.
  std::vector<rtp::RtcpPacket> compound;
  rtp::ReceiverReport rr;
  rr.sender_ssrc = me;
  compound.push_back(rr);
  for (auto& f : fb) compound.push_back(std::move(f));
  QueueRtcp(compound);
}

void MediaSession::OnRtcp(ByteView packet, Instant now) {
  // Per-packet tolerance: one malformed packet of a compound does not hide the others.
  auto blocks = rtp::SplitRtcpCompound(packet, /*allow_inner_padding=*/true);
  if (!blocks.ok()) return;
  auto on_block = [&](const rtp::ReportBlock& b) {
    if (Stream* s = BySendSsrc(b.source_ssrc.value())) {
      s->send->OnReportBlock(b, now);
      if (s->recv && s->send->counters().round_trip_time_s) s->recv->SetRtt(*s->send->counters().round_trip_time_s);
    }
  };
  for (const auto& block : *blocks) {
    auto parsed = rtp::ParseRtcpBlock(block);
    if (!parsed.ok()) continue;
    if (auto* sr = std::get_if<rtp::SenderReport>(&*parsed)) {
      if (Stream* s = ByRecvSsrc(sr->sender_ssrc.value()); s && s->recv) s->recv->OnSenderReport(*sr, now);
      for (const auto& b : sr->report_blocks) on_block(b);
    } else if (auto* rr = std::get_if<rtp::ReceiverReport>(&*parsed)) {
      for (const auto& b : rr->report_blocks) on_block(b);
    } else if (auto* nack = std::get_if<rtp::Nack>(&*parsed)) {
      if (Stream* s = BySendSsrc(nack->media_ssrc.value())) {
        for (auto& b : s->send->OnNack(nack->lost, now)) out_.push_back(Outgoing{std::move(b), false});
      }
    } else if (auto* pli = std::get_if<rtp::Pli>(&*parsed)) {
      if (Stream* s = BySendSsrc(pli->media_ssrc.value())) {
        s->send->OnPli();
        if (s->source) s->source->RequestKeyframe();
      }
    } else if (auto* fir = std::get_if<rtp::Fir>(&*parsed)) {
      for (const auto& e : fir->entries) {
        if (Stream* s = BySendSsrc(e.ssrc.value())) {
          s->send->OnFir();
          if (s->source) s->source->RequestKeyframe();
        }
      }
    }
  }
}

void MediaSession::ApplyMaxBitrate(Stream& s) {
  // webrtc-pc §5.2.1 maxBitrate of the (single) encoding, applied when it changes.
  const auto& enc = s.t->sender_->encodings_;
  std::optional<uint64_t> max = enc.empty() ? std::nullopt : enc.front().maxBitrate;
  if (s.applied_max_bitrate && *s.applied_max_bitrate == max) return;
  s.applied_max_bitrate = max;
  s.source->SetMaxBitrate(max);
}

bool MediaSession::WantsSource(const Stream& s) const {
  const auto& sender = s.t->sender_;
  const MediaStreamTrack* track = sender ? sender->track_.get() : nullptr;
  return ready_ && s.neg.send && s.send && s.send_codec && track &&
         track->readyState() == MediaStreamTrackState::kLive && !s.t->stopping_ &&
         (sender->encodings_.empty() || sender->encodings_.front().active);
}

void MediaSession::EnsureSource(Stream& s, Instant now) {
  const MediaStreamTrack* track = s.t->sender_ ? s.t->sender_->track_.get() : nullptr;
  if (!WantsSource(s)) {
    if (s.source) {
      s.frames_encoded_before += s.source->frames_encoded();
      s.keyframes_before += s.source->keyframes_encoded();
    }
    s.source.reset();
    s.source_track = nullptr;
    return;
  }
  if (s.source_track == track && s.source_spec == track->source()) {
    if (s.source) {
      s.source->SetEnabled(track->enabled());
      ApplyMaxBitrate(s);
    }
    return;  // running, or failed to start for this track (not retried)
  }
  if (s.source) {
    s.frames_encoded_before += s.source->frames_encoded();
    s.keyframes_before += s.source->keyframes_encoded();
  }
  auto spec = PipelineCodec(s.neg.kind, *s.send_codec);
  if (!spec) return;
  auto src = media::MediaSource::Create(track->source(), *spec, now, kMaxRtpPayload);
  if (!src.ok()) {
    s.source.reset();
    s.source_track = track;  // do not retry every tick; a new track resets this
    s.source_spec = track->source();
    return;
  }
  s.source = std::move(*src);
  if (!s.ts_origin) {
    s.ts_origin = now;
    s.ts_offset = 0;
  } else {
    // Continue the stream's clock: the new source's frame 0 is stamped with the time elapsed since
    // the stream started (in the codec's clock units).
    double elapsed = std::chrono::duration<double>(now - *s.ts_origin).count();
    s.ts_offset = static_cast<uint32_t>(static_cast<uint64_t>(elapsed * s.send_codec->clock_rate + 0.5));
  }
  s.source->SetEnabled(track->enabled());
  s.applied_max_bitrate.reset();
  ApplyMaxBitrate(s);
  s.source_track = track;
  s.source_spec = track->source();
}

void MediaSession::HandleTimeout(Instant now) {
  for (auto& sp : streams_) {
    Stream& s = *sp;
    EnsureSource(s, now);
    // RFC 4733 §2.5.1: while an event is sent (until its last end packet) the audio is suppressed;
    // the source keeps running so its clock continues.
    const bool dtmf_busy = s.dtmf_tx && s.dtmf_tx->busy();
    if (s.source) {
      for (auto& payload : s.source->Pull(now)) {
        if (dtmf_busy) continue;
        out_.push_back(Outgoing{s.send->Packetize(payload.payload, payload.timestamp + s.ts_offset, payload.marker, now), false});
        s.last_packet_sent = now;
      }
    }
    if (s.dtmf_tx && s.send && ready_) {
      for (auto& o : s.dtmf_tx->Poll(now)) {
        // Same SSRC and sequence numbers as the audio, the telephone-event payload type; the capture
        // time is the instant the timestamp stands for (keeps the SR's RTP/NTP mapping right).
        out_.push_back(Outgoing{s.send->Packetize(o.payload, o.timestamp, o.marker, o.timestamp_time,
                                                  rtp::PayloadType(s.dtmf_pt)),
                                false});
        s.last_packet_sent = now;
      }
    }
    if (s.dtmf_rx) {
      s.dtmf_rx->HandleTimeout(now);
      DrainDigits(s);
    }
    if (s.recv && ready_) SendFeedback(s, now);
    if (s.last_rtp_received && now - *s.last_rtp_received >= kMuteAfter) {
      s.last_rtp_received.reset();
      if (s.t->receiver_ && s.t->receiver_->track_) s.t->receiver_->track_->muted_ = true;
    }
  }
  if (ready_ && next_rtcp_ && now >= *next_rtcp_) {
    SendRtcpReports(now);
    // RFC 3550 §6.3.1: randomised to 0.5-1.5 times the interval.
    auto jitter = std::chrono::duration_cast<Duration>(kRtcpInterval * (0.5 + rng_.Unit()));
    next_rtcp_ = now + jitter;
  }
}

std::optional<Instant> MediaSession::PollTimeout() const {
  std::optional<Instant> t;
  auto take = [&](std::optional<Instant> x) {
    if (x && (!t || *x < *t)) t = x;
  };
  bool any_active = false;
  for (const auto& s : streams_) {
    if (s->source) take(s->source->NextDeadline());
    if (s->recv) take(s->recv->NextNackDeadline());
    if (s->last_rtp_received) take(*s->last_rtp_received + kMuteAfter);
    if (s->dtmf_tx && s->send && ready_) take(s->dtmf_tx->NextDeadline());
    if (s->dtmf_rx) take(s->dtmf_rx->NextDeadline());
    // A source that should start (a track was just set) or stop is handled at the next tick. A
    // source that failed to start keeps source_track set, so this never spins.
    const MediaStreamTrack* track = s->t->sender_ ? s->t->sender_->track_.get() : nullptr;
    bool want = WantsSource(*s);
    if ((want && !s->source && s->source_track != track) || (!want && s->source)) any_active = true;
  }
  if (ready_ && !streams_.empty()) take(next_rtcp_);
  if (any_active) return Instant{};  // due now
  return t;
}

std::optional<MediaSession::Outgoing> MediaSession::PollOutgoing() {
  if (out_.empty()) return std::nullopt;
  Outgoing o = std::move(out_.front());
  out_.pop_front();
  return o;
}

std::optional<uint8_t> MediaSession::DtmfPayloadType(const RTCRtpTransceiver* t) const {
  for (const auto& s : streams_) {
    if (s->t != t) continue;
    if (!s->neg.send || !s->send || !s->send_codec || s->neg.kind != "audio") return std::nullopt;
    // webrtc-pc §7.2 "determine if DTMF can be sent": audio/telephone-event negotiated for sending;
    // RFC 4733 §2.1: at the clock rate of the audio it is sent with.
    for (const auto& c : s->neg.codecs)
      if (IsTelephoneEvent(c) && c.clock_rate == s->send_codec->clock_rate) return c.payload_type;
    return std::nullopt;
  }
  return std::nullopt;
}

bool MediaSession::StartDtmfTone(RTCRtpTransceiver* t, char tone, uint32_t duration_ms, Instant now) {
  auto pt = DtmfPayloadType(t);
  auto event = rtp::DtmfCharToEvent(tone);
  if (!pt || !event || !ready_) return false;
  Stream* s = nullptr;
  for (auto& x : streams_)
    if (x->t == t) s = x.get();
  if (!s) return false;
  const uint32_t clock = s->send_codec->clock_rate;
  if (!s->dtmf_tx || s->dtmf_tx->clock_rate() != clock) s->dtmf_tx = std::make_unique<rtp::TelephoneEventSender>(clock);
  s->dtmf_pt = *pt;
  // The event's timestamp is "now" on the stream's RTP clock (the one the audio source's frames are
  // stamped on: ts_origin + elapsed), so timestamps stay monotonic with the audio.
  if (!s->ts_origin) {
    s->ts_origin = now;
    s->ts_offset = 0;
  }
  const double elapsed = std::chrono::duration<double>(now - *s->ts_origin).count();
  const uint32_t ts = static_cast<uint32_t>(static_cast<uint64_t>(elapsed * clock + 0.5));
  s->dtmf_tx->Start(*event, duration_ms, ts, now);
  return true;
}

void MediaSession::DrainDigits(Stream& s) {
  if (!s.dtmf_rx) return;
  while (auto d = s.dtmf_rx->PollDigit()) received_dtmf_.push_back(ReceivedDtmf{s.t, d->tone, d->duration_ms, d->rtp_timestamp});
}

std::optional<MediaSession::ReceivedDtmf> MediaSession::PollReceivedDtmf() {
  if (received_dtmf_.empty()) return std::nullopt;
  ReceivedDtmf d = received_dtmf_.front();
  received_dtmf_.pop_front();
  return d;
}

uint32_t MediaSession::RtcpSenderSsrc() const {
  for (const auto& s : streams_)
    if (s->neg.local_ssrc) return s->neg.local_ssrc;
  return 1;
}

void MediaSession::SendRtcpReports(Instant now) {
  std::vector<rtp::ReportBlock> blocks;
  for (auto& s : streams_) {
    if (!s->recv) continue;
    if (auto b = s->recv->MakeReportBlock(now)) blocks.push_back(*b);
  }
  std::vector<rtp::RtcpPacket> compound;
  std::vector<Ssrc> sdes_ssrcs;
  std::string cname;
  const rtp::NtpTime ntp = clock_.At(now);
  for (auto& s : streams_) {
    if (!s->send || !s->send->has_sent()) continue;
    rtp::SenderReport sr = s->send->MakeSenderReport(now, ntp);
    if (compound.empty()) {
      // RFC 3550 §6.4.1: up to 31 report blocks ride on the first SR.
      for (size_t i = 0; i < blocks.size() && i < 31; ++i) sr.report_blocks.push_back(blocks[i]);
      blocks.clear();
    }
    compound.push_back(sr);
    sdes_ssrcs.push_back(sr.sender_ssrc);
    cname = s->neg.cname;
  }
  if (compound.empty()) {
    if (blocks.empty()) return;  // nothing sent nor received yet
    rtp::ReceiverReport rr;
    rr.sender_ssrc = Ssrc(RtcpSenderSsrc());
    for (size_t i = 0; i < blocks.size() && i < 31; ++i) rr.report_blocks.push_back(blocks[i]);
    compound.push_back(rr);
    sdes_ssrcs.push_back(rr.sender_ssrc);
    for (const auto& s : streams_)
      if (!s->neg.cname.empty()) cname = s->neg.cname;
  }
  // RFC 3550 §6.1: every compound carries an SDES CNAME.
  rtp::Sdes sdes;
  for (const auto& ssrc : sdes_ssrcs) sdes.chunks.push_back(rtp::SdesChunk{ssrc, {rtp::SdesItem{1, cname}}});
  if (!cname.empty()) compound.push_back(sdes);
  QueueRtcp(compound);
}

void MediaSession::QueueRtcp(const std::vector<rtp::RtcpPacket>& packets) {
  auto bytes = rtp::SerializeRtcpCompound(packets);
  if (bytes.ok()) out_.push_back(Outgoing{std::move(*bytes), true});
}

std::vector<MediaStreamStats> MediaSession::Stats() const {
  std::vector<MediaStreamStats> out;
  for (const auto& sp : streams_) {
    const Stream& s = *sp;
    MediaStreamStats st;
    st.mid = s.neg.mid;
    st.kind = s.neg.kind;
    st.send_codec = s.send_codec;
    st.local_ssrc = s.neg.local_ssrc;
    st.remote_ssrc = s.remote_ssrc;
    if (s.send && s.send->has_sent()) st.send = s.send->counters();
    if (s.recv) {
      st.recv = s.recv->counters();
      if (s.sink_pt) {
        if (const auto* c = FindCodec(s.neg, *s.sink_pt)) st.recv_codec = *c;
      }
    }
    st.frames_encoded = s.frames_encoded_before + (s.source ? s.source->frames_encoded() : 0);
    st.keyframes_encoded = s.keyframes_before + (s.source ? s.source->keyframes_encoded() : 0);
    if (s.source) {
      st.frame_width = s.source->width();
      st.frame_height = s.source->height();
    }
    if (s.sink) st.sink = s.sink->Info();
    st.pli_sent = s.pli_sent;
    st.fir_sent = s.fir_sent;
    st.last_packet_sent = s.last_packet_sent;
    out.push_back(std::move(st));
  }
  return out;
}

std::shared_ptr<RTCRtpTransceiver> MediaSession::NewDetachedTransceiver(const std::string& kind,
                                                                       const std::string& source) {
  auto t = std::shared_ptr<RTCRtpTransceiver>(new RTCRtpTransceiver());
  t->kind_ = kind;
  t->sender_ = std::shared_ptr<RTCRtpSender>(new RTCRtpSender());
  t->sender_->transceiver_ = t.get();
  t->receiver_ = std::shared_ptr<RTCRtpReceiver>(new RTCRtpReceiver());
  t->receiver_->transceiver_ = t.get();
  auto track = std::shared_ptr<MediaStreamTrack>(new MediaStreamTrack());
  track->kind_ = kind;
  track->remote_ = true;
  track->muted_ = true;
  t->receiver_->track_ = track;
  if (!source.empty()) {
    auto local = MediaStreamTrack::CreateSynthetic(source, "detached");
    if (local.ok()) t->sender_->track_ = *local;
  }
  return t;
}

}  // namespace refrtc
