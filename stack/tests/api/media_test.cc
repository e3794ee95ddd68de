// Transceivers, JSEP audio/video m-sections and media end to end between two refrtc peers in the
// virtual-time network (issue D): a 440 Hz tone arrives as 440 Hz, the video pattern's frames
// arrive, directions/currentDirection follow RFC 8829 §5.3.1, and the error paths name the
// W3C DOMExceptions.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "api/media_session.h"
#include "pc_pair.h"
#include "refrtc/rtc_json.h"
#include "sdp/rtp_description.h"
#include "sdp/sdp.h"

namespace refrtc::test {
namespace {

std::shared_ptr<RTCRtpTransceiver> TrackEventTransceiver(const Side& s, const std::string& kind) {
  for (const auto& e : s.events)
    if (e.type == RTCEventType::kTrack && e.transceiver->kind() == kind) return e.transceiver;
  return nullptr;
}

TEST(Media, AudioToneBothWays) {
  PcPair p(3);
  testing::LinkConfig link;
  link.delay = std::chrono::milliseconds(15);  // so RTCP measures a round trip of ~30 ms
  p.net.SetDefaultLink(link);
  auto t = p.a.pc->addTransceiver(Track("tone:440", "a-tone"), RTCRtpTransceiverInit{RTCRtpTransceiverDirection::kSendrecv, {"stream-a"}, {}});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE((*t)->mid());
  EXPECT_TRUE(p.a.Saw(RTCEventType::kNegotiationNeeded) || true);
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok());
  EXPECT_TRUE(absl::StrContains(offer->sdp, "m=audio 9 UDP/TLS/RTP/SAVPF")) << offer->sdp;
  EXPECT_TRUE(absl::StrContains(offer->sdp, "a=msid:stream-a a-tone")) << offer->sdp;
  ASSERT_TRUE(p.a.pc->setLocalDescription(*offer).ok());
  EXPECT_EQ((*t)->mid().value_or(""), "0");
  ASSERT_TRUE(p.b.pc->setRemoteDescription(*offer).ok());
  p.Pump();
  // B: one recvonly transceiver from the offer, and a track event with the remote stream.
  ASSERT_EQ(p.b.pc->getTransceivers().size(), 1u);
  auto bt = TrackEventTransceiver(p.b, "audio");
  ASSERT_TRUE(bt);
  EXPECT_EQ(bt->direction(), RTCRtpTransceiverDirection::kRecvonly);
  bool saw_stream = false;
  for (const auto& e : p.b.events)
    if (e.type == RTCEventType::kTrack) saw_stream = e.streams == std::vector<std::string>{"stream-a"};
  EXPECT_TRUE(saw_stream);
  EXPECT_TRUE(bt->receiver()->track()->muted());
  // addTrack on B reuses that transceiver (§5.1 addTrack step 7) → sendrecv.
  auto sender = p.b.pc->addTrack(Track("tone:880", "b-tone"));
  ASSERT_TRUE(sender.ok()) << sender.status();
  EXPECT_EQ(bt->sender(), *sender);
  EXPECT_EQ(bt->direction(), RTCRtpTransceiverDirection::kSendrecv);
  auto answer = p.b.pc->createAnswer();
  ASSERT_TRUE(answer.ok());
  ASSERT_TRUE(p.b.pc->setLocalDescription(*answer).ok());
  ASSERT_TRUE(p.a.pc->setRemoteDescription(*answer).ok());
  EXPECT_EQ((*t)->currentDirection(), RTCRtpTransceiverDirection::kSendrecv);
  EXPECT_EQ(bt->currentDirection(), RTCRtpTransceiverDirection::kSendrecv);
  auto at = TrackEventTransceiver(p.a, "audio");
  p.Pump();
  at = TrackEventTransceiver(p.a, "audio");
  ASSERT_TRUE(at);
  EXPECT_EQ(at, *t);
  bool ok = p.RunUntil([&] {
    auto ia = (*t)->receiver()->track_info();
    auto ib = bt->receiver()->track_info();
    return ia.samplesReceived > 48000 && ib.samplesReceived > 48000;
  });
  ASSERT_TRUE(ok) << "A got " << (*t)->receiver()->track_info().samplesReceived << " B got "
                  << bt->receiver()->track_info().samplesReceived;
  auto ia = (*t)->receiver()->track_info();
  auto ib = bt->receiver()->track_info();
  ASSERT_TRUE(ib.dominantHz);
  ASSERT_TRUE(ia.dominantHz);
  EXPECT_NEAR(*ib.dominantHz, 440, 5);
  EXPECT_NEAR(*ia.dominantHz, 880, 5);
  EXPECT_GT(ib.rms, 0.1);
  EXPECT_FALSE(bt->receiver()->track()->muted());
  // Stats: outbound on one side matches inbound on the other; RTT from RTCP.
  p.RunFor(std::chrono::seconds(3));
  nlohmann::json sa = nlohmann::json::array(), sb = nlohmann::json::array();
  AppendRtpStats(*p.a.pc, 0, "T01", sa);
  AppendRtpStats(*p.b.pc, 0, "T01", sb);
  auto find = [](const nlohmann::json& s, const std::string& type) {
    for (const auto& x : s)
      if (x["type"] == type) return x;
    return nlohmann::json();
  };
  auto out_a = find(sa, "outbound-rtp");
  auto in_b = find(sb, "inbound-rtp");
  ASSERT_FALSE(out_a.is_null()) << sa.dump();
  ASSERT_FALSE(in_b.is_null()) << sb.dump();
  EXPECT_EQ(out_a["ssrc"], in_b["ssrc"]);
  EXPECT_GT(out_a["packetsSent"].get<uint64_t>(), 100u);
  EXPECT_NEAR(double(out_a["packetsSent"].get<uint64_t>()), double(in_b["packetsReceived"].get<uint64_t>()), 5);
  auto ri = find(sa, "remote-inbound-rtp");
  ASSERT_FALSE(ri.is_null()) << sa.dump();
  ASSERT_TRUE(ri.contains("roundTripTime")) << ri.dump();
  EXPECT_NEAR(ri["roundTripTime"].get<double>(), 0.030, 0.010);
  EXPECT_FALSE(find(sb, "remote-outbound-rtp").is_null());
  EXPECT_EQ(find(sa, "codec")["mimeType"], "audio/opus");
}

TEST(Media, VideoPatternWithLossRecoversByNack) {
  PcPair p(5);
  auto t = p.a.pc->addTransceiver(Track("pattern", "a-video"), RTCRtpTransceiverInit{RTCRtpTransceiverDirection::kSendonly, {}, {}});
  ASSERT_TRUE(t.ok());
  p.Negotiate();
  auto bt = TrackEventTransceiver(p.b, "video");
  ASSERT_TRUE(bt);
  EXPECT_EQ((*t)->currentDirection(), RTCRtpTransceiverDirection::kSendonly);
  EXPECT_EQ(bt->currentDirection(), RTCRtpTransceiverDirection::kRecvonly);
  ASSERT_TRUE(p.RunUntil([&] { return bt->receiver()->track_info().framesReceived >= 30; }));
  auto info = bt->receiver()->track_info();
  EXPECT_EQ(info.width, 320u);
  EXPECT_EQ(info.height, 240u);
  // 5 % loss from now on: NACK/RTX keeps frames coming.
  testing::LinkConfig lossy;
  lossy.loss = 0.05;
  lossy.delay = std::chrono::milliseconds(20);
  p.net.SetDefaultLink(lossy);
  uint64_t before = info.framesReceived;
  p.RunFor(std::chrono::seconds(4));
  uint64_t after = bt->receiver()->track_info().framesReceived;
  EXPECT_GE(after - before, 110u) << "frames in 4 s under 5 % loss (30 fps sent)";
  nlohmann::json sa = nlohmann::json::array();
  AppendRtpStats(*p.a.pc, 0, "T01", sa);
  bool retransmitted = false;
  for (const auto& x : sa)
    if (x["type"] == "outbound-rtp") retransmitted = x["retransmittedPacketsSent"].get<uint64_t>() > 0;
  nlohmann::json sb = nlohmann::json::array();
  AppendRtpStats(*p.b.pc, 0, "T01", sb);
  EXPECT_TRUE(retransmitted) << sa.dump() << "\n" << sb.dump();
  for (const auto& x : sb)
    if (x["type"] == "inbound-rtp") {
      EXPECT_LE(x["framesDropped"].get<uint64_t>(), 2u) << x.dump();
      EXPECT_EQ(x["framesDecoded"], x["framesReceived"]);
      EXPECT_GT(x["retransmittedPacketsReceived"].get<uint64_t>(), 0u);
    }
}

TEST(Media, StatsReportHasEveryTypeWithConsistentIdsAndSelectors) {
  PcPair p(15);
  testing::LinkConfig link;
  link.delay = std::chrono::milliseconds(10);
  p.net.SetDefaultLink(link);
  auto t = p.a.pc->addTransceiver(Track("tone:440", "a-tone"));
  ASSERT_TRUE(t.ok());
  p.Connect("dc");
  auto bt = TrackEventTransceiver(p.b, "audio");
  ASSERT_TRUE(bt);
  p.RunFor(std::chrono::seconds(4));
  auto report = RTCStatsReportJson(*p.a.pc, 1764000000000.0);
  ASSERT_TRUE(report.ok()) << report.status();
  std::map<std::string, nlohmann::json> by_id;
  std::map<std::string, int> types;
  for (const auto& s : *report) {
    ASSERT_TRUE(s.contains("id") && s.contains("type") && s.contains("timestamp")) << s.dump();
    EXPECT_TRUE(by_id.emplace(s["id"].get<std::string>(), s).second) << "duplicate id " << s["id"];
    ++types[s["type"].get<std::string>()];
    EXPECT_EQ(s["timestamp"].get<double>(), 1764000000000.0);
  }
  for (const char* type : {"peer-connection", "transport", "certificate", "local-candidate", "remote-candidate",
                           "candidate-pair", "data-channel", "codec", "media-source", "outbound-rtp",
                           "remote-inbound-rtp"})
    EXPECT_GE(types[type], 1) << "missing " << type << ": " << report->dump();
  EXPECT_EQ(types["certificate"], 2);
  // Every *Id names an object of the report (webrtc-stats §3: references resolve).
  for (const auto& [id, s] : by_id)
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& key = it.key();
      if (key.size() > 2 && key.compare(key.size() - 2, 2, "Id") == 0 && it->is_string())
        EXPECT_TRUE(by_id.count(it->get<std::string>())) << id << "." << key << " = " << *it;
    }
  const auto& pair = by_id["CP1"];
  ASSERT_TRUE(pair.contains("currentRoundTripTime")) << pair.dump();
  EXPECT_NEAR(pair["currentRoundTripTime"].get<double>(), 0.020, 0.005);
  EXPECT_GT(pair["responsesReceived"].get<uint64_t>(), 0u);
  EXPECT_EQ(by_id["T01"]["srtpCipher"], "AES_CM_128_HMAC_SHA1_80");
  EXPECT_EQ(by_id["P"]["dataChannelsOpened"], 1);
  // Selector: the sender's track → its outbound-rtp and what it references, nothing inbound.
  auto sel = RTCStatsReportJson(*p.a.pc, 0, (*t)->sender()->track());
  ASSERT_TRUE(sel.ok());
  int outbound = 0, inbound = 0, channels = 0;
  for (const auto& s : *sel) {
    outbound += s["type"] == "outbound-rtp";
    inbound += s["type"] == "inbound-rtp";
    channels += s["type"] == "data-channel";
  }
  EXPECT_EQ(outbound, 1);
  EXPECT_EQ(inbound, 0);
  EXPECT_EQ(channels, 0);
  auto on_b = RTCStatsReportJson(*p.b.pc, 0, bt->receiver()->track());
  ASSERT_TRUE(on_b.ok());
  inbound = 0;
  for (const auto& s : *on_b) inbound += s["type"] == "inbound-rtp";
  EXPECT_EQ(inbound, 1);
  EXPECT_EQ(DomErrorName(RTCStatsReportJson(*p.a.pc, 0, Track("silence", "stranger")).status()), "InvalidAccessError");
}

TEST(Media, MaxBitrateLimitsTheVideoRate) {
  // webrtc-pc §5.2.1 maxBitrate: the VP8 encoder retargets; the payload rate follows.
  PcPair p(17);
  auto t = p.a.pc->addTransceiver(Track("pattern", "v"), RTCRtpTransceiverInit{RTCRtpTransceiverDirection::kSendonly, {}, {}});
  ASSERT_TRUE(t.ok());
  p.Negotiate();
  auto bt = TrackEventTransceiver(p.b, "video");
  ASSERT_TRUE(bt);
  auto bytes_sent = [&] {
    nlohmann::json s = nlohmann::json::array();
    AppendRtpStats(*p.a.pc, 0, "T01", s);
    for (const auto& x : s)
      if (x["type"] == "outbound-rtp") return x["bytesSent"].get<uint64_t>();
    return uint64_t{0};
  };
  ASSERT_TRUE(p.RunUntil([&] { return bt->receiver()->track_info().framesReceived >= 10; }));
  p.RunFor(std::chrono::seconds(2));
  uint64_t b0 = bytes_sent();
  p.RunFor(std::chrono::seconds(3));
  double full_kbps = (bytes_sent() - b0) * 8 / 3.0 / 1000;
  auto params = (*t)->sender()->getParameters();
  params.encodings[0].maxBitrate = 100000;
  ASSERT_TRUE((*t)->sender()->setParameters(params).ok());
  EXPECT_EQ((*t)->sender()->getParameters().encodings[0].maxBitrate, 100000u);
  p.RunFor(std::chrono::seconds(2));  // the rate control settles
  uint64_t b1 = bytes_sent();
  p.RunFor(std::chrono::seconds(3));
  double capped_kbps = (bytes_sent() - b1) * 8 / 3.0 / 1000;
  EXPECT_GT(full_kbps, 200) << "the default target is 400 kbit/s";
  EXPECT_LT(capped_kbps, 130) << "maxBitrate 100 kbit/s (full rate was " << full_kbps << ")";
  EXPECT_GT(bt->receiver()->track_info().framesReceived, 200u) << "frames keep coming at the lower rate";
}

TEST(Media, ErrorsAndDirections) {
  PcPair p(7);
  EXPECT_EQ(DomErrorName(p.a.pc->addTransceiver("data").status()), "TypeError");
  EXPECT_EQ(DomErrorName(MediaStreamTrack::CreateSynthetic("tone:abc", "x").status()), "TypeError");
  auto track = Track("silence", "s1");
  auto sender = p.a.pc->addTrack(track);
  ASSERT_TRUE(sender.ok());
  EXPECT_EQ(DomErrorName(p.a.pc->addTrack(track).status()), "InvalidAccessError");
  auto tr = p.a.pc->getTransceivers().front();
  EXPECT_EQ(DomErrorName(tr->setDirection(RTCRtpTransceiverDirection::kStopped)), "TypeError");
  EXPECT_EQ(DomErrorName((*sender)->replaceTrack(Track("pattern", "v1"))), "TypeError");
  auto params = (*sender)->getParameters();
  params.encodings.push_back({});
  EXPECT_EQ(DomErrorName((*sender)->setParameters(params)), "InvalidModificationError");
  std::vector<RTCRtpCodec> bogus{RTCRtpCodec{"audio/bogus", 8000, 1, "", std::nullopt}};
  EXPECT_EQ(DomErrorName(tr->setCodecPreferences(bogus)), "InvalidModificationError");
  // Codec preferences: PCMU only → the offer lists PT 0 only.
  std::vector<RTCRtpCodec> pcmu{RTCRtpCodec{"audio/PCMU", 8000, 1, "", std::nullopt}};
  ASSERT_TRUE(tr->setCodecPreferences(pcmu).ok());
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok());
  EXPECT_TRUE(absl::StrContains(offer->sdp, "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n")) << offer->sdp;
  p.Negotiate();
  auto bt = TrackEventTransceiver(p.b, "audio");
  ASSERT_TRUE(bt);
  // B answered recvonly (no track): A's currentDirection is sendonly.
  EXPECT_EQ(tr->currentDirection(), RTCRtpTransceiverDirection::kSendonly);
  // stop() → negotiationneeded, next offer rejects the m-section, transceiver gone after.
  ASSERT_TRUE(tr->stop().ok());
  EXPECT_TRUE(tr->stopping());
  EXPECT_EQ(tr->receiver()->track()->readyState(), MediaStreamTrackState::kEnded);
  p.Negotiate();
  EXPECT_TRUE(tr->stopped());
  EXPECT_TRUE(p.a.pc->getTransceivers().empty());
  EXPECT_TRUE(p.b.pc->getTransceivers().empty());
  p.a.pc->close();
  EXPECT_EQ(DomErrorName(p.a.pc->addTransceiver("audio").status()), "InvalidStateError");
}

TEST(Media, MidCallReplaceTrackDirectionAndRemoveTrack) {
  PcPair p(13);
  auto t = p.a.pc->addTransceiver(Track("tone:440", "a1"), RTCRtpTransceiverInit{RTCRtpTransceiverDirection::kSendonly, {}, {}});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(p.a.pc->createDataChannel("dc").ok());
  p.Negotiate();
  auto bt = TrackEventTransceiver(p.b, "audio");
  ASSERT_TRUE(bt);
  auto hz = [&] { return bt->receiver()->track_info().dominantHz.value_or(0); };
  ASSERT_TRUE(p.RunUntil([&] { return std::abs(hz() - 440) < 5; }));
  // replaceTrack: no renegotiation (§5.2), the new source's tone arrives on the same SSRC.
  p.a.events.clear();
  ASSERT_TRUE((*t)->sender()->replaceTrack(Track("tone:660", "a2")).ok());
  EXPECT_FALSE(p.a.Saw(RTCEventType::kNegotiationNeeded));
  ASSERT_TRUE(p.RunUntil([&] { return std::abs(hz() - 660) < 5; })) << hz();
  // track.enabled = false sends silence (mediacapture-main §4.3.1).
  (*t)->sender()->track()->set_enabled(false);
  ASSERT_TRUE(p.RunUntil([&] { return !bt->receiver()->track_info().dominantHz; }));
  (*t)->sender()->track()->set_enabled(true);
  // setParameters(active = false): nothing is sent; packet counts stop growing.
  auto params = (*t)->sender()->getParameters();
  ASSERT_EQ(params.encodings.size(), 1u);
  params.encodings[0].active = false;
  ASSERT_TRUE((*t)->sender()->setParameters(params).ok());
  p.RunFor(std::chrono::milliseconds(200));
  uint64_t n1 = bt->receiver()->track_info().samplesReceived;
  p.RunFor(std::chrono::seconds(2));
  EXPECT_LE(bt->receiver()->track_info().samplesReceived - n1, 960u);
  EXPECT_TRUE(bt->receiver()->track()->muted()) << "no RTP for 2 s: muted (after 1.5 s)";
  params = (*t)->sender()->getParameters();
  params.encodings[0].active = true;
  ASSERT_TRUE((*t)->sender()->setParameters(params).ok());
  // setDirection(inactive) + renegotiation → currentDirection inactive on both sides, and the
  // remote track is muted (§4.4.1.6 "process the removal of a remote track").
  p.a.events.clear();
  ASSERT_TRUE((*t)->setDirection(RTCRtpTransceiverDirection::kInactive).ok());
  p.Pump();
  EXPECT_TRUE(p.a.Saw(RTCEventType::kNegotiationNeeded));
  p.Negotiate();
  EXPECT_EQ((*t)->currentDirection(), RTCRtpTransceiverDirection::kInactive);
  EXPECT_EQ(bt->currentDirection(), RTCRtpTransceiverDirection::kInactive);
  EXPECT_TRUE(bt->receiver()->track()->muted());
  // Back to sendonly: a second track event fires on B.
  ASSERT_TRUE((*t)->setDirection(RTCRtpTransceiverDirection::kSendonly).ok());
  p.b.events.clear();
  p.Negotiate();
  EXPECT_TRUE(TrackEventTransceiver(p.b, "audio"));
  // removeTrack: the transceiver becomes inactive (sendonly → inactive), negotiation needed.
  ASSERT_TRUE(p.a.pc->removeTrack((*t)->sender()).ok());
  EXPECT_FALSE((*t)->sender()->track());
  EXPECT_EQ((*t)->direction(), RTCRtpTransceiverDirection::kInactive);
  p.Negotiate();
  EXPECT_EQ(bt->currentDirection(), RTCRtpTransceiverDirection::kInactive);
  // The data channel kept working throughout.
  EXPECT_EQ(p.a.pc->sctp()->state, RTCSctpTransportState::kConnected);
}

TEST(Media, RollbackOfRemoteOfferRemovesItsTransceivers) {
  PcPair p(9);
  ASSERT_TRUE(p.a.pc->addTransceiver("video").ok());
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok());
  ASSERT_TRUE(p.b.pc->setRemoteDescription(*offer).ok());
  EXPECT_EQ(p.b.pc->getTransceivers().size(), 1u);
  RTCSessionDescriptionInit rb;
  rb.type = RTCSdpType::kRollback;
  ASSERT_TRUE(p.b.pc->setRemoteDescription(rb).ok());
  EXPECT_TRUE(p.b.pc->getTransceivers().empty());
  // Local offer rollback: the mid goes back to null.
  ASSERT_TRUE(p.a.pc->setLocalDescription(*offer).ok());
  EXPECT_TRUE(p.a.pc->getTransceivers().front()->mid());
  ASSERT_TRUE(p.a.pc->setLocalDescription(rb).ok());
  EXPECT_FALSE(p.a.pc->getTransceivers().front()->mid());
}

TEST(Media, AnswersLibwebrtcAudioVideoOffer) {
  // A recorded libwebrtc offer (audio + video + data): our answer accepts opus/PCMU and VP8+RTX
  // with the offer's payload types and the MID extension id, and rejects nothing else it can do.
  FILE* f = std::fopen(REFRTC_SOURCE_DIR "/conformance/fixtures/wrtc-offer-av.sdp", "rb");
  ASSERT_TRUE(f);
  std::string sdp;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) sdp.append(buf, n);
  std::fclose(f);
  PcPair p(11);
  RTCSessionDescriptionInit offer;
  offer.type = RTCSdpType::kOffer;
  offer.sdp = sdp;
  ASSERT_TRUE(p.b.pc->setRemoteDescription(offer).ok());
  auto answer = p.b.pc->createAnswer();
  ASSERT_TRUE(answer.ok()) << answer.status();
  auto parsed = sdp::SessionDescription::Parse(answer->sdp);
  ASSERT_TRUE(parsed.ok());
  ASSERT_GE(parsed->media.size(), 2u);
  auto audio = sdp::ParseRtpDescription(parsed->media[0]);
  auto video = sdp::ParseRtpDescription(parsed->media[1]);
  EXPECT_NE(parsed->media[0].port, 0);
  ASSERT_FALSE(audio.codecs.empty());
  EXPECT_EQ(audio.codecs[0].name, "opus");
  EXPECT_EQ(audio.codecs[0].payload_type, 111);
  EXPECT_EQ(audio.ExtensionId(sdp::kMidExtensionUri), 4);
  EXPECT_EQ(audio.direction, "recvonly");
  // RFC 4733 telephone-event accepted at the offer's payload types (110/48000 and 126/8000).
  ASSERT_TRUE(audio.FindCodec(110));
  EXPECT_EQ(audio.FindCodec(110)->name, "telephone-event");
  ASSERT_TRUE(audio.FindCodec(126));
  EXPECT_EQ(audio.FindCodec(126)->clock_rate, 8000u);
  EXPECT_FALSE(audio.FindCodec(112)) << "telephone-event/32000 has no audio codec of ours at that rate";
  ASSERT_GE(video.codecs.size(), 2u);
  EXPECT_EQ(video.codecs[0].name, "VP8");
  EXPECT_EQ(video.codecs[1].name, "rtx");
  EXPECT_EQ(video.codecs[1].apt(), 96);
  EXPECT_TRUE(video.codecs[0].has_feedback("nack"));
  EXPECT_FALSE(video.codecs[0].has_feedback("goog-remb"));
  EXPECT_TRUE(p.b.pc->setLocalDescription(*answer).ok());
}

}  // namespace
}  // namespace refrtc::test
