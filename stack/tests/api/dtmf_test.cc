// webrtc-pc §7 RTCDTMFSender and RFC 4733 telephone-events end to end: insertDTMF validation and
// clamping, the Playout task's tonechange sequence and timing on the peer connection's clock,
// canInsertDTMF, digits received at 48 kHz (Opus) and 8 kHz (PCMU) — and, on the MediaSession's
// unprotected output, the RTP on the wire (marker, timestamps, E bit, three end packets, one
// sequence space with the audio) and the decoder under deterministic end-packet loss.
#include <gtest/gtest.h>

#include "absl/strings/str_replace.h"
#include "api/media_session.h"
#include "pc_pair.h"
#include "rtp/rtp_packet.h"
#include "rtp/telephone_event.h"

namespace refrtc::test {
namespace {

struct ToneChange {
  int64_t at_ms;
  std::string tone;
  std::string buffer_after;  // toneBuffer when the event was polled
};
struct Digit {
  std::string tone;
  uint32_t duration_ms;
  int64_t at_ms;
};

// A (sendonly audio, tone:440) → B (recvonly), connected; records A's tonechange and B's dtmf events.
class DtmfCall {
 public:
  explicit DtmfCall(uint64_t seed, const std::vector<RTCRtpCodec>& prefs = {},
                    const std::function<std::string(std::string)>& rewrite_answer = nullptr)
      : p(seed) {
    auto t = p.a.pc->addTransceiver(Track("tone:440", "a-audio"),
                                    RTCRtpTransceiverInit{RTCRtpTransceiverDirection::kSendrecv, {"s"}, {}});
    EXPECT_TRUE(t.ok());
    at = *t;
    if (!prefs.empty()) EXPECT_TRUE(at->setCodecPreferences(prefs).ok());
    p.on_event = [this](int side, const RTCEvent& e) {
      const int64_t ms = ToMillis(p.net.now() - origin);
      if (side == 0 && e.type == RTCEventType::kToneChange)
        tones.push_back({ms, e.state, e.sender->dtmf()->toneBuffer()});
      if (side == 1 && e.type == RTCEventType::kDtmfReceived) {
        digits.push_back({e.state, e.duration_ms, ms});
        EXPECT_TRUE(e.transceiver);
      }
    };
    p.Negotiate(rewrite_answer);
    connected = p.RunUntil([&] {
      return p.a.pc->connectionState() == RTCPeerConnectionState::kConnected &&
             p.b.pc->connectionState() == RTCPeerConnectionState::kConnected;
    });
    p.RunFor(std::chrono::milliseconds(300));  // audio flowing
  }
  std::shared_ptr<RTCDTMFSender> dtmf() { return at->sender()->dtmf(); }
  // insertDTMF at the network's current time (= time origin of the recorded events).
  absl::Status Insert(const std::string& tones, uint32_t duration = 100, uint32_t gap = 70) {
    p.a.pc->SetTime(p.net.now());
    origin = p.net.now();
    auto st = dtmf()->insertDTMF(tones, duration, gap);
    p.net.Flush();
    return st;
  }
  bool RunUntilToneChangeEnd(Duration max = std::chrono::seconds(20)) {
    return p.RunUntil([&] { return !tones.empty() && tones.back().tone.empty(); }, max);
  }

  PcPair p;
  std::shared_ptr<RTCRtpTransceiver> at;
  bool connected = false;
  Instant origin{};
  std::vector<ToneChange> tones;
  std::vector<Digit> digits;
};

TEST(Dtmf, SenderExistsForAudioOnlyAndValidatesLikeTheSpec) {
  DtmfCall c(21);
  ASSERT_TRUE(c.connected);
  auto dtmf = c.dtmf();
  ASSERT_TRUE(dtmf);
  EXPECT_EQ(dtmf, c.at->sender()->dtmf());  // the same object
  EXPECT_TRUE(dtmf->canInsertDTMF());
  EXPECT_EQ(dtmf->toneBuffer(), "");
  // InvalidCharacterError; the buffer is untouched.
  for (const char* bad : {"12x", "E", " ", "1;2", "e"}) {
    auto st = c.Insert(bad);
    EXPECT_EQ(DomErrorName(st), "InvalidCharacterError") << bad;
  }
  EXPECT_EQ(dtmf->toneBuffer(), "");
  EXPECT_FALSE(dtmf->next_playout_task());
  // Lower case a-d normalised; clamping of duration (40..6000) and interToneGap (30..6000).
  ASSERT_TRUE(c.Insert("1a,bcd#*", 10, 10).ok());
  EXPECT_EQ(dtmf->toneBuffer(), "1A,BCD#*");
  EXPECT_EQ(dtmf->duration(), 40u);
  EXPECT_EQ(dtmf->interToneGap(), 30u);
  ASSERT_TRUE(c.Insert("9", 7000, 7000).ok());  // replaces the buffer
  EXPECT_EQ(dtmf->toneBuffer(), "9");
  EXPECT_EQ(dtmf->duration(), 6000u);
  EXPECT_EQ(dtmf->interToneGap(), 6000u);
  ASSERT_TRUE(c.Insert("").ok());  // clears it
  EXPECT_EQ(dtmf->toneBuffer(), "");
  EXPECT_EQ(dtmf->duration(), 100u);
  EXPECT_EQ(dtmf->interToneGap(), 70u);
  // The task queued by the first call still runs: with the buffer empty it fires tonechange("").
  ASSERT_TRUE(c.RunUntilToneChangeEnd());
  ASSERT_EQ(c.tones.size(), 1u);
  EXPECT_EQ(c.tones[0].tone, "");
  // Video senders have no RTCDTMFSender.
  auto v = c.p.a.pc->addTransceiver("video");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->sender()->dtmf(), nullptr);
  // Stopping the transceiver: InvalidStateError.
  ASSERT_TRUE(c.at->stop().ok());
  EXPECT_FALSE(dtmf->canInsertDTMF());
  EXPECT_EQ(DomErrorName(c.Insert("1")), "InvalidStateError");
}

TEST(Dtmf, InvalidStateBeforeNegotiationAndForRecvonly) {
  PcPair p(22);
  auto t = p.a.pc->addTransceiver(Track("tone:440", "a"));
  ASSERT_TRUE(t.ok());
  auto dtmf = (*t)->sender()->dtmf();
  ASSERT_TRUE(dtmf);
  EXPECT_FALSE(dtmf->canInsertDTMF());
  EXPECT_EQ(DomErrorName(dtmf->insertDTMF("1")), "InvalidStateError");  // currentDirection null
  p.Negotiate();
  ASSERT_TRUE(p.RunUntil([&] { return p.b.pc->connectionState() == RTCPeerConnectionState::kConnected; }));
  auto bt = p.b.pc->getTransceivers().at(0);
  EXPECT_EQ(bt->currentDirection(), RTCRtpTransceiverDirection::kRecvonly);
  ASSERT_TRUE(bt->sender()->dtmf());
  EXPECT_FALSE(bt->sender()->dtmf()->canInsertDTMF());
  EXPECT_EQ(DomErrorName(bt->sender()->dtmf()->insertDTMF("1")), "InvalidStateError");
  EXPECT_TRUE(dtmf->canInsertDTMF());
}

TEST(Dtmf, CannotInsertWithoutNegotiatedTelephoneEvent) {
  // The answer drops telephone-event (as from a peer without DTMF support).
  auto strip = [](std::string sdp) {
    std::string out;
    size_t pos = 0;
    while (pos < sdp.size()) {
      size_t end = sdp.find("\r\n", pos);
      if (end == std::string::npos) end = sdp.size();
      std::string line = sdp.substr(pos, end - pos);
      pos = end + 2;
      if (line.find(" 110") != std::string::npos && line.rfind("m=audio", 0) == 0)
        line = absl::StrReplaceAll(line, {{" 110", ""}, {" 126", ""}});
      if (line.find(":110 ") != std::string::npos || line.find(":126 ") != std::string::npos) continue;
      out += line + "\r\n";
    }
    return out;
  };
  DtmfCall c(23, {}, strip);
  ASSERT_TRUE(c.connected);
  EXPECT_FALSE(c.dtmf()->canInsertDTMF());
  EXPECT_EQ(DomErrorName(c.Insert("1")), "InvalidStateError");
}

TEST(Dtmf, ToneChangeSequenceTimingCommaPauseAndReceivedDigits) {
  DtmfCall c(24);
  ASSERT_TRUE(c.connected);
  ASSERT_TRUE(c.Insert("1,2", 100, 70).ok());
  ASSERT_TRUE(c.RunUntilToneChangeEnd());
  // §7.2 Playout task: "1" now, "," after 100+70, "2" 2000 ms later, "" after 100+70.
  ASSERT_EQ(c.tones.size(), 4u);
  const char* want[] = {"1", ",", "2", ""};
  const int64_t at[] = {0, 170, 2170, 2340};
  const char* buffer[] = {",2", "2", "", ""};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.tones[i].tone, want[i]) << i;
    EXPECT_EQ(c.tones[i].at_ms, at[i]) << i;
    EXPECT_EQ(c.tones[i].buffer_after, buffer[i]) << i;
  }
  EXPECT_FALSE(c.dtmf()->next_playout_task());
  c.p.RunFor(std::chrono::milliseconds(300));
  ASSERT_EQ(c.digits.size(), 2u);
  EXPECT_EQ(c.digits[0].tone, "1");
  EXPECT_EQ(c.digits[1].tone, "2");
  for (const auto& d : c.digits) EXPECT_NEAR(double(d.duration_ms), 100, 1);
  // A replacing insertDTMF while playing keeps the running task's schedule.
  c.tones.clear();
  ASSERT_TRUE(c.Insert("12345", 200, 100).ok());
  c.p.RunFor(std::chrono::milliseconds(10));
  ASSERT_EQ(c.tones.size(), 1u);
  EXPECT_EQ(c.dtmf()->toneBuffer(), "2345");
  c.p.a.pc->SetTime(c.p.net.now());
  ASSERT_TRUE(c.dtmf()->insertDTMF("9", 100, 70).ok());
  ASSERT_TRUE(c.RunUntilToneChangeEnd());
  ASSERT_EQ(c.tones.size(), 3u);
  EXPECT_EQ(c.tones[1].tone, "9");
  EXPECT_EQ(c.tones[1].at_ms, 300);  // 200 + 100 of the first call's tone
  EXPECT_EQ(c.tones[2].at_ms, 470);
}

void ExpectAllTones(DtmfCall& c) {
  ASSERT_TRUE(c.connected);
  ASSERT_TRUE(c.dtmf()->canInsertDTMF());
  const std::string all = "0123456789*#ABCD";
  ASSERT_TRUE(c.Insert(all, 120, 60).ok());
  ASSERT_TRUE(c.RunUntilToneChangeEnd());
  ASSERT_TRUE(c.p.RunUntil([&] { return c.digits.size() >= all.size(); }, std::chrono::seconds(2)));
  c.p.RunFor(std::chrono::milliseconds(600));
  ASSERT_EQ(c.digits.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(c.digits[i].tone, std::string(1, all[i]));
    EXPECT_NEAR(double(c.digits[i].duration_ms), 120, 50);
    // Reported when its end packet arrives: 120 ms after the tone's tonechange (no link delay).
    EXPECT_NEAR(double(c.digits[i].at_ms), double(c.tones[i].at_ms + 120), 5) << i;
  }
  // Telephone-event packets are counted by the receive stream and never reach the audio sink,
  // which still hears the 440 Hz tone (audio resumed after the events).
  c.p.RunFor(std::chrono::seconds(1));
  for (const auto& s : c.p.b.pc->media_stats()) {
    ASSERT_TRUE(s.recv);
    EXPECT_GT(s.recv->packets_received, 16u * 5);
    ASSERT_TRUE(s.sink);
    ASSERT_TRUE(s.sink->dominant_hz);
    EXPECT_NEAR(*s.sink->dominant_hz, 440, 5);
  }
}

TEST(Dtmf, EveryToneArrivesAt48kHzWithOpus) {
  DtmfCall c(25);
  ExpectAllTones(c);
  EXPECT_EQ(c.p.b.pc->media_stats().at(0).recv_codec->name, "opus");
}

TEST(Dtmf, EveryToneArrivesAt8kHzWithPcmu) {
  DtmfCall c(26, {RTCRtpCodec{"audio/PCMU", 8000, 1, "", {}}, RTCRtpCodec{"audio/telephone-event", 8000, 1, "", {}}});
  ExpectAllTones(c);
  EXPECT_EQ(c.p.b.pc->media_stats().at(0).recv_codec->name, "PCMU");
}

TEST(Dtmf, LongToneIsSegmentedAndReassembled) {
  DtmfCall c(27);
  ASSERT_TRUE(c.connected);
  ASSERT_TRUE(c.Insert("#", 6000, 70).ok());
  ASSERT_TRUE(c.RunUntilToneChangeEnd());
  c.p.RunFor(std::chrono::milliseconds(300));
  ASSERT_EQ(c.digits.size(), 1u);
  EXPECT_EQ(c.digits[0].tone, "#");
  EXPECT_EQ(c.digits[0].duration_ms, 6000u);
}

TEST(Dtmf, SurvivesRandomLoss) {
  DtmfCall c(28);
  ASSERT_TRUE(c.connected);
  testing::LinkConfig lossy;
  lossy.loss = 0.1;
  lossy.delay = std::chrono::milliseconds(10);
  c.p.net.SetDefaultLink(lossy);
  ASSERT_TRUE(c.Insert("147*2580369#", 100, 70).ok());
  ASSERT_TRUE(c.RunUntilToneChangeEnd());
  c.p.RunFor(std::chrono::milliseconds(800));
  // Each digit at most once, in order; with 10 % loss an event loses all of its packets rarely.
  std::string got;
  for (const auto& d : c.digits) got += d.tone;
  EXPECT_GE(got.size(), 10u) << got;
  size_t pos = 0;
  for (char ch : got) {
    pos = std::string("147*2580369#").find(ch, pos);
    ASSERT_NE(pos, std::string::npos) << got;
    ++pos;
  }
}

// --- The RTP on the wire, at the MediaSession level (unprotected packets) ---

struct WireSession {
  explicit WireSession(uint32_t seed, bool sender, const std::vector<sdp::RtpCodec>& codecs)
      : rng(seed), session(rng, rtp::NtpClock(Start(), rtp::NtpTime(3900000000u, 0u))) {
    t = MediaSession::NewDetachedTransceiver("audio", sender ? "tone:440" : "");
    NegotiatedRtp n;
    n.mid = "0";
    n.kind = "audio";
    n.send = sender;
    n.recv = !sender;
    n.codecs = codecs;
    n.mid_extension_id = 4;
    n.local_ssrc = sender ? 1111 : 2222;
    if (!sender) n.remote_ssrc = 1111;
    n.cname = "wire";
    session.Configure(t.get(), n, Start());
    session.SetTransportReady(true, Start());
  }
  static Instant Start() { return Instant{} + std::chrono::hours(2); }
  Random rng;
  MediaSession session;
  std::shared_ptr<RTCRtpTransceiver> t;
};

struct Sent {
  int64_t at_ms;
  rtp::RtpPacket p;
  Bytes wire;
};

std::vector<Sent> RunSender(WireSession& tx, char tone, uint32_t duration_ms, int64_t start_ms, int64_t end_ms,
                            char tone2 = 0, int64_t start2_ms = 0) {
  std::vector<Sent> out;
  for (int64_t ms = 0; ms <= end_ms; ms += 5) {
    const Instant now = WireSession::Start() + std::chrono::milliseconds(ms);
    if (ms == start_ms) EXPECT_TRUE(tx.session.StartDtmfTone(tx.t.get(), tone, duration_ms, now));
    if (tone2 && ms == start2_ms) EXPECT_TRUE(tx.session.StartDtmfTone(tx.t.get(), tone2, duration_ms, now));
    tx.session.HandleTimeout(now);
    while (auto o = tx.session.PollOutgoing()) {
      if (o->rtcp) continue;
      auto p = rtp::ParseRtp(o->packet);
      EXPECT_TRUE(p.ok());
      out.push_back({ms, *p, o->packet});
    }
  }
  return out;
}

const std::vector<sdp::RtpCodec> kOpusCodecs = {sdp::RtpCodec{111, "opus", 48000, 2, "minptime=10;useinbandfec=1", {}},
                                                sdp::RtpCodec{110, "telephone-event", 48000, 1, "0-15", {}},
                                                sdp::RtpCodec{126, "telephone-event", 8000, 1, "0-15", {}}};

TEST(DtmfWire, PacketsOnTheWire) {
  WireSession tx(1, true, kOpusCodecs);
  ASSERT_EQ(tx.session.DtmfPayloadType(tx.t.get()), 110);
  auto sent = RunSender(tx, '7', 100, 500, 1200);
  ASSERT_GT(sent.size(), 40u);
  // One sequence space: consecutive numbers over audio and events.
  for (size_t i = 1; i < sent.size(); ++i)
    EXPECT_EQ(uint16_t(sent[i].p.sequence_number.value()), uint16_t(sent[i - 1].p.sequence_number.value() + 1)) << i;
  std::vector<const Sent*> ev;
  uint32_t last_audio_ts_before = 0, first_audio_ts_after = 0;
  int64_t last_event_ms = 0;
  for (const auto& s : sent) {
    EXPECT_EQ(s.p.ssrc.value(), 1111u);
    if (s.p.payload_type.value() == 110) {
      ev.push_back(&s);
      last_event_ms = s.at_ms;
    } else {
      EXPECT_EQ(s.p.payload_type.value(), 111);
      if (ev.empty()) last_audio_ts_before = s.p.timestamp;
      else if (!first_audio_ts_after) first_audio_ts_after = s.p.timestamp;
      // No audio while the event and its end packets are sent.
      EXPECT_TRUE(s.at_ms < 500 || s.at_ms > 700) << s.at_ms;
    }
  }
  // 550 ms update (M), 600 ms final (E), 650 and 700 ms repeats.
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(last_event_ms, 700);
  int ends = 0;
  for (size_t i = 0; i < ev.size(); ++i) {
    auto e = rtp::ParseTelephoneEvent(ev[i]->p.payload);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->event, 7);
    EXPECT_EQ(e->volume, 10);
    EXPECT_EQ(ev[i]->p.marker, i == 0);
    EXPECT_EQ(ev[i]->p.timestamp, ev[0]->p.timestamp);
    if (e->end) {
      ++ends;
      EXPECT_EQ(e->duration, 4800);
    } else {
      EXPECT_EQ(e->duration, 2400);
    }
  }
  EXPECT_EQ(ends, 3);
  // The event's timestamp is its start on the audio clock: after the audio before it, 100 ms of
  // RTP time before the audio after it resumes (≈ 720 ms vs 500 ms).
  ASSERT_NE(first_audio_ts_after, 0u);
  EXPECT_GT(int32_t(ev[0]->p.timestamp - last_audio_ts_before), 0);
  EXPECT_LE(int32_t(ev[0]->p.timestamp - last_audio_ts_before), 48000 * 25 / 1000);
  EXPECT_NEAR(double(int32_t(first_audio_ts_after - ev[0]->p.timestamp)), 48000 * 0.2, 48000 * 0.03);
}

// Delivers `sent` (minus the packets `drop` selects) to a receiving session; returns its digits.
std::vector<MediaSession::ReceivedDtmf> Deliver(const std::vector<Sent>& sent,
                                                const std::function<bool(const Sent&, int event_index)>& drop,
                                                int64_t run_until_ms) {
  WireSession rx(2, false, kOpusCodecs);
  std::vector<MediaSession::ReceivedDtmf> digits;
  int event_index = 0;
  size_t i = 0;
  for (int64_t ms = 0; ms <= run_until_ms; ms += 5) {
    const Instant now = WireSession::Start() + std::chrono::milliseconds(ms);
    for (; i < sent.size() && sent[i].at_ms <= ms; ++i) {
      const bool te = sent[i].p.payload_type.value() == 110;
      if (!(te && drop(sent[i], event_index))) rx.session.OnRtp(sent[i].wire, now);
      if (te) ++event_index;
    }
    rx.session.HandleTimeout(now);
    while (auto d = rx.session.PollReceivedDtmf()) digits.push_back(*d);
    while (rx.session.PollOutgoing()) {
    }
  }
  // Every packet was counted by the receive stream (events included).
  auto stats = rx.session.Stats();
  EXPECT_TRUE(stats.at(0).recv);
  return digits;
}

bool IsEnd(const Sent& s) { return rtp::ParseTelephoneEvent(s.p.payload)->end; }

TEST(DtmfWire, ReceiverUnderEndPacketLoss) {
  WireSession tx(3, true, kOpusCodecs);
  auto sent = RunSender(tx, '4', 200, 300, 1000);
  // All packets: one digit of 200 ms, reported at the first end packet.
  auto all = Deliver(sent, [](const Sent&, int) { return false; }, 1600);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].tone, '4');
  EXPECT_EQ(all[0].duration_ms, 200u);
  // First end packet lost: still one digit, full duration (from a repeat).
  bool dropped = false;
  auto one_lost = Deliver(sent, [&](const Sent& s, int) {
    if (!dropped && IsEnd(s)) return dropped = true;
    return false;
  }, 1600);
  ASSERT_EQ(one_lost.size(), 1u);
  EXPECT_EQ(one_lost[0].duration_ms, 200u);
  // Every end packet lost and nothing follows: reported 500 ms after the last update (150 ms).
  auto none = Deliver(sent, [](const Sent& s, int) { return IsEnd(s); }, 1600);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].tone, '4');
  EXPECT_EQ(none[0].duration_ms, 150u);
  // Every end packet of the first event lost and a second event follows: the first is reported
  // when the second begins.
  WireSession tx2(4, true, kOpusCodecs);
  auto two = RunSender(tx2, '1', 100, 300, 1200, '9', 600);
  int64_t first_of_second = -1;
  for (const auto& s : two)
    if (s.p.payload_type.value() == 110 && s.p.marker && s.at_ms >= 600) first_of_second = s.at_ms;
  ASSERT_GT(first_of_second, 0);
  auto d2 = Deliver(two, [](const Sent& s, int) { return IsEnd(s) && s.at_ms < 600; }, 1800);
  ASSERT_EQ(d2.size(), 2u);
  EXPECT_EQ(d2[0].tone, '1');
  EXPECT_EQ(d2[0].duration_ms, 50u);
  EXPECT_EQ(d2[1].tone, '9');
  EXPECT_EQ(d2[1].duration_ms, 100u);
}

TEST(DtmfWire, NoTelephoneEventAtTheSendClockRate) {
  // Opus sent, only telephone-event/8000 negotiated: no DTMF (webrtc-pc §7.2 step 9 / RFC 4733 §2.1).
  WireSession tx(5, true, {kOpusCodecs[0], kOpusCodecs[2]});
  EXPECT_FALSE(tx.session.DtmfPayloadType(tx.t.get()));
  EXPECT_FALSE(tx.session.StartDtmfTone(tx.t.get(), '1', 100, WireSession::Start()));
}

}  // namespace
}  // namespace refrtc::test
