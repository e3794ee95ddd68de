// Security regressions for the SCTP association (RFC 9260 / RFC 4960, RFC 3758 PR-SCTP, RFC 4895
// AUTH, RFC 5061 ASCONF) and the data-channel layer on top of it (RFC 8831, RFC 8832 DCEP), as
// refrtc's sctp::Transport receives them: through usrsctp in AF_CONN mode.
//
// The attacker is a hand-written SCTP peer (FakePeer): it answers the Transport's INIT itself
// (INIT-ACK / COOKIE-ACK), so it owns its TSN sequence and can put any chunk — well-formed or not —
// into a packet with a valid common header (ports, the association's verification tag) and a
// correct CRC32c, i.e. past the checks that reject random garbage. After every attack the tests
// assert the observable effects: the association survives (or aborts where RFC 9260 says so),
// no data channel appears or disappears, data on the existing channel still flows both ways, and
// the Transport's output stays bounded.
#include "sctp/sctp_transport.h"

#include <usrsctp.h>

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sctp/dcep.h"
#include "util/bytes.h"

namespace refrtc::sctp {
namespace {

// One monotonic virtual clock for this file (usrsctp's timer wheel is process-global).
Instant& Now() {
  static Instant now = Instant{} + seconds(200000);
  return now;
}

// RFC 9260 §3.2 chunk types (and RFC 4895 AUTH, RFC 5061 ASCONF, RFC 3758 FORWARD-TSN).
constexpr uint8_t kData = 0, kInit = 1, kInitAck = 2, kSack = 3, kAbort = 6, kError = 9,
                  kCookieEcho = 10, kCookieAck = 11, kAuth = 0x0F, kAsconfAck = 0x80,
                  kReconfig = 0x82, kForwardTsn = 0xC0, kAsconf = 0xC1;
// RFC 9260 §3.3.3 DATA flags.
constexpr uint8_t kUnordered = 0x04, kBegin = 0x02, kEnd = 0x01;
constexpr uint16_t kPort = 5000;  // sctp::Transport's default local and remote port

uint16_t Rd16(ByteView b, size_t off) { return static_cast<uint16_t>(b[off] << 8 | b[off + 1]); }
uint32_t Rd32(ByteView b, size_t off) {
  return static_cast<uint32_t>(Rd16(b, off)) << 16 | Rd16(b, off + 2);
}

// A chunk (RFC 9260 §3.2): type, flags, length (= 4 + value unless overridden: a lying length
// field), value, zero padding to 4 bytes.
Bytes Chunk(uint8_t type, uint8_t flags, const Bytes& value, std::optional<uint16_t> length = {}) {
  Bytes c;
  ByteWriter w(&c);
  w.U8(type);
  w.U8(flags);
  w.U16(length.value_or(static_cast<uint16_t>(4 + value.size())));
  w.Append(value);
  while (c.size() % 4) c.push_back(0);
  return c;
}
// A TLV parameter (RFC 9260 §3.2.1), same conventions.
Bytes Param(uint16_t type, const Bytes& value, std::optional<uint16_t> length = {}) {
  Bytes p;
  ByteWriter w(&p);
  w.U16(type);
  w.U16(length.value_or(static_cast<uint16_t>(4 + value.size())));
  w.Append(value);
  while (p.size() % 4) p.push_back(0);
  return p;
}
Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& b : parts) out.insert(out.end(), b.begin(), b.end());
  return out;
}
Bytes U32s(std::initializer_list<uint32_t> v) {
  Bytes b;
  ByteWriter w(&b);
  for (uint32_t x : v) w.U32(x);
  return b;
}

// RFC 9260 §3.1 common header + chunks, with a correct CRC32c (§6.8).
Bytes Packet(uint32_t vtag, const Bytes& chunks) {
  Bytes p;
  ByteWriter w(&p);
  w.U16(kPort);
  w.U16(kPort);
  w.U32(vtag);
  w.U32(0);
  w.Append(chunks);
  const uint32_t crc = usrsctp_crc32c(p.data(), p.size());  // laid out for a direct store
  std::memcpy(p.data() + 8, &crc, 4);
  return p;
}

struct ParsedChunk {
  uint8_t type = 0, flags = 0;
  Bytes value;
};
std::vector<ParsedChunk> ParseChunks(ByteView pkt) {
  std::vector<ParsedChunk> out;
  size_t off = 12;
  while (off + 4 <= pkt.size()) {
    const uint16_t len = Rd16(pkt, off + 2);
    if (len < 4 || off + len > pkt.size()) break;
    out.push_back(ParsedChunk{pkt[off], pkt[off + 1],
                              Bytes(pkt.begin() + off + 4, pkt.begin() + off + len)});
    off += (len + 3u) & ~3u;
  }
  return out;
}

// The attacker: a scripted SCTP endpoint facing one refrtc Transport (the DTLS client, so
// refrtc's own channels use even stream ids and the peer's DCEP OPENs odd ones, RFC 8832 §6).
struct PeerOptions {
  uint16_t os = 1024;   // our outbound streams = the Transport's inbound streams
  uint16_t mis = 1024;  // our inbound streams = the Transport's outbound streams
};
class FakePeer {
 public:
  using Options = PeerOptions;
  explicit FakePeer(Options o = {}) : opt_(o), t(std::make_unique<Transport>(true)) {}

  // RFC 9260 §5.1: the Transport's INIT, our INIT-ACK, its COOKIE-ECHO, our COOKIE-ACK.
  // `in_cookie_wait` runs while the Transport waits for our INIT-ACK.
  bool Handshake(const std::function<void()>& in_cookie_wait = {}) {
    if (!t->Start(Now()).ok()) return false;
    Collect();
    const ParsedChunk* init = Last(kInit);
    if (!init || init->value.size() < 16) return false;
    a_tag = Rd32(init->value, 0);
    if (in_cookie_wait) in_cookie_wait();
    // INIT-ACK: our tag, a_rwnd, OS, MIS, initial TSN, then the State Cookie (§3.3.3) and the
    // extensions: PR-SCTP (RFC 3758 §3.1), Supported Extensions (RFC 5061 §4.2.7: FORWARD-TSN,
    // RE-CONFIG, AUTH, ASCONF, ASCONF-ACK) and RFC 4895 §3 AUTH (RANDOM, HMAC-ALGO SHA-1,
    // CHUNKS = ASCONF, ASCONF-ACK) so that FORWARD-TSN, AUTH and ASCONF reach their parsers.
    Bytes value = U32s({my_tag, 0x100000});
    ByteWriter w(&value);
    w.U16(opt_.os);
    w.U16(opt_.mis);
    w.U32(next_tsn);
    w.Append(Param(7, Bytes(24, 0xC0)));
    w.Append(Param(0xC000, {}));
    w.Append(Param(0x8008, {kForwardTsn, kReconfig, kAuth, kAsconf, kAsconfAck}));
    w.Append(Param(0x8002, Bytes(32, 0x5A)));
    w.Append(Param(0x8004, {0x00, 0x01}));
    w.Append(Param(0x8003, {kAsconf, kAsconfAck}));
    Send(Packet(a_tag, Chunk(kInitAck, 0, value)));
    if (!Last(kCookieEcho)) return false;
    Send(Packet(a_tag, Chunk(kCookieAck, 0, {})));
    return Count<EventAssociationUp>() == 1 && t->association_up();
  }

  // Feeds one packet to the Transport and collects everything it answers.
  void Send(const Bytes& packet) {
    t->HandlePacket(packet, Now());
    Collect();
  }
  void SendChunks(const Bytes& chunks) { Send(Packet(a_tag, chunks)); }

  // A DATA chunk (RFC 9260 §3.3.1), a whole unordered message unless told otherwise.
  static Bytes Data(uint32_t tsn, uint16_t sid, uint32_t ppid, ByteView payload,
                    uint8_t flags = kUnordered | kBegin | kEnd) {
    Bytes v;
    ByteWriter w(&v);
    w.U32(tsn);
    w.U16(sid);
    w.U16(0);  // SSN (unordered: ignored)
    w.U32(ppid);
    w.Append(payload);
    return Chunk(kData, flags, v);
  }
  // Sends one message with the next TSN.
  void SendData(uint16_t sid, uint32_t ppid, ByteView payload) {
    SendChunks(Data(next_tsn++, sid, ppid, payload));
  }

  // A remote DATA_CHANNEL_OPEN (RFC 8832 §5.1); true when refrtc announced the channel.
  bool RemoteOpen(uint16_t sid, const std::string& label) {
    DcepOpen open;
    open.label = label;
    const size_t before = Count<EventIncomingChannel>();
    SendData(sid, kPpidDcep, Serialize(open));
    return Count<EventIncomingChannel>() == before + 1 && DcepAcksFrom(sid) == 1;
  }

  // Data still flows both ways on `sid`: a message from us arrives as an EventMessage, and a
  // message refrtc sends comes out as a DATA chunk on that stream.
  bool Exchange(uint16_t sid, const std::string& text) {
    const size_t before = Messages(sid).size();
    SendData(sid, kPpidString, AsBytes(text));
    auto got = Messages(sid);
    if (got.size() != before + 1 || AsString(got.back().data) != text) return false;
    const std::string back = text + "/back";
    if (!t->Send(StreamId(sid), AsBytes(back), false, Now()).ok()) return false;
    t->Flush(Now());
    Collect();
    for (const auto& c : from_a) {
      if (c.type == kData && c.value.size() >= 12 && Rd16(c.value, 4) == sid &&
          AsString(ByteView(c.value).subspan(12)) == back) {
        return true;
      }
    }
    return false;
  }

  template <typename T>
  size_t Count() const {
    size_t n = 0;
    for (const auto& e : events) n += std::holds_alternative<T>(e);
    return n;
  }
  std::vector<EventMessage> Messages(uint16_t sid) const {
    std::vector<EventMessage> out;
    for (const auto& e : events)
      if (auto* m = std::get_if<EventMessage>(&e); m && m->id == StreamId(sid)) out.push_back(*m);
    return out;
  }
  // DATA_CHANNEL_ACKs (PPID 50, payload 0x02) refrtc sent on `sid`.
  size_t DcepAcksFrom(uint16_t sid) const {
    size_t n = 0;
    for (const auto& c : from_a) {
      n += c.type == kData && c.value.size() == 13 && Rd16(c.value, 4) == sid &&
           Rd32(c.value, 8) == kPpidDcep && c.value[12] == kDcepAck;
    }
    return n;
  }
  // Streams with a data channel in any state but closed.
  size_t ChannelCount() const {
    size_t n = 0;
    for (uint32_t sid = 0; sid < 0xffff; ++sid) {
      n += t->channel_state(StreamId(static_cast<uint16_t>(sid))) != ChannelState::kClosed;
    }
    return n;
  }
  const ParsedChunk* Last(uint8_t type) const {
    for (auto it = from_a.rbegin(); it != from_a.rend(); ++it)
      if (it->type == type) return &*it;
    return nullptr;
  }
  size_t ChunksFromA(uint8_t type) const {
    size_t n = 0;
    for (const auto& c : from_a) n += c.type == type;
    return n;
  }

  // Drains the Transport's output and events; acknowledges its DATA (RFC 9260 §6.2) so that
  // nothing is retransmitted behind the tests' back.
  void Collect() {
    for (int round = 0; round < 16; ++round) {
      bool new_data = false;
      while (auto p = t->PollOutgoing()) {
        ++packets_from_a;
        for (auto& c : ParseChunks(*p)) {
          if (c.type == kData && c.value.size() >= 4) {
            const uint32_t tsn = Rd32(c.value, 0);
            if (!a_cum_tsn || static_cast<int32_t>(tsn - *a_cum_tsn) > 0) a_cum_tsn = tsn;
            new_data = true;
          }
          from_a.push_back(std::move(c));
        }
      }
      while (auto e = t->PollEvent()) events.push_back(std::move(*e));
      if (!new_data || !t->association_up()) break;
      t->HandlePacket(Packet(a_tag, Chunk(kSack, 0, Cat({U32s({*a_cum_tsn, 0x100000}),
                                                         Bytes{0, 0, 0, 0}}))),
                      Now());
    }
  }

  Options opt_;
  std::unique_ptr<Transport> t;
  uint32_t a_tag = 0;             // the Transport's Initiate Tag: our packets carry it
  const uint32_t my_tag = 0x5eed1234;
  uint32_t next_tsn = 0x10000;    // TSN of our next DATA chunk
  std::optional<uint32_t> a_cum_tsn;
  std::vector<Event> events;
  std::vector<ParsedChunk> from_a;
  size_t packets_from_a = 0;
};

// The common precondition (Establish): an association with one peer-opened channel on stream 1 that works.
void Establish(FakePeer& p) {
  ASSERT_TRUE(p.Handshake());
  ASSERT_TRUE(p.RemoteOpen(1, "victim"));
  ASSERT_TRUE(p.Exchange(1, "before"));
  ASSERT_EQ(p.ChannelCount(), 1u);
}

// After an attack that must be survived: association up, nothing announced, the one channel
// still there and still carrying data both ways.
void ExpectSurvived(FakePeer& p, size_t events_before, const std::string& probe) {
  EXPECT_TRUE(p.t->association_up());
  EXPECT_EQ(p.Count<EventAssociationDown>(), 0u);
  EXPECT_EQ(p.Count<EventIncomingChannel>(), 1u);
  EXPECT_EQ(p.Count<EventChannelClosed>() + p.Count<EventChannelClosing>(), 0u);
  EXPECT_EQ(p.events.size(), events_before) << "the attack produced events";
  EXPECT_EQ(p.ChannelCount(), 1u);
  EXPECT_EQ(p.t->channel_state(StreamId(1)), ChannelState::kOpen);
  EXPECT_TRUE(p.Exchange(1, probe)) << "data no longer flows after the attack";
}

// INIT with a wrong-sized or zero-length parameter (RFC 9260 §3.2.1: Parameter Length includes
// the 4-byte header, so < 4 is invalid; a length past the chunk is malformed). Variants used by
// the INIT tests below. The INIT's own tag/TSN fields are valid.
std::vector<std::pair<std::string, Bytes>> MalformedInits() {
  const Bytes fixed = Cat({U32s({0xabcdef01, 0x100000}), Bytes{0x04, 0x00, 0x04, 0x00},
                           U32s({0x777})});
  std::vector<std::pair<std::string, Bytes>> v;
  // Parameter length running past the end of the chunk (and of the packet).
  v.emplace_back("param past chunk", Chunk(kInit, 0, Cat({fixed, Param(0x8002, Bytes(8, 1),
                                                                       uint16_t{0x400})})));
  // The chunk length covers the parameter header only; the parameter claims more.
  {
    Bytes c = Chunk(kInit, 0, Cat({fixed, Param(0xC000, Bytes(16, 2), uint16_t{20})}));
    c[2] = 0;
    c[3] = 4 + 16 + 4;  // chunk ends right after the parameter header
    v.emplace_back("param past shortened chunk", c);
  }
  // Zero-length parameter (would loop forever in a parser that advances by the length).
  v.emplace_back("zero-length param", Chunk(kInit, 0, Cat({fixed, Param(0x0005, {}, uint16_t{0}),
                                                           Param(0xC000, {})})));
  v.emplace_back("zero-length unknown param",
                 Chunk(kInit, 0, Cat({fixed, Param(0x8123, {}, uint16_t{0})})));
  // Parameter length 2 (< its own header).
  v.emplace_back("length-2 param", Chunk(kInit, 0, Cat({fixed, Param(0x8008, {0xC0}, uint16_t{2})})));
  // A host-name parameter (RFC 9260 §3.3.2.1: deprecated) and a cookie preservative with a
  // huge length.
  v.emplace_back("huge cookie preservative",
                 Chunk(kInit, 0, Cat({fixed, Param(9, U32s({0xffffffff}), uint16_t{0xfffc})})));
  // INIT shorter than its fixed part, and an INIT chunk whose length runs past the packet.
  v.emplace_back("truncated INIT", Chunk(kInit, 0, Bytes(fixed.begin(), fixed.begin() + 8)));
  v.emplace_back("INIT past packet", Chunk(kInit, 0, fixed, uint16_t{0x1000}));
  return v;
}

// RFC 9260 §3.2.1, §5.1: malformed INITs arriving while our own INIT is outstanding (COOKIE-WAIT)
// are dropped or answered on their own; they neither kill the pending association nor change
// what it negotiates.
TEST(SctpSecurity, MalformedInitDuringHandshakeDoesNotPoisonTheAssociation) {
  FakePeer p(FakePeer::Options{1024, 100});
  ASSERT_TRUE(p.Handshake([&] {
    for (const auto& [name, chunk] : MalformedInits()) {
      p.Send(Packet(0, chunk));  // RFC 9260 §8.5.1: INIT carries verification tag 0
      EXPECT_FALSE(p.t->association_up()) << name;
      EXPECT_EQ(p.Count<EventAssociationDown>(), 0u) << name;
    }
  }));
  EXPECT_EQ(p.t->max_channels(), 100u);  // what our real INIT-ACK said, not the garbage
  ASSERT_TRUE(p.RemoteOpen(1, "after"));
  EXPECT_TRUE(p.Exchange(1, "works"));
}

// RFC 9260 §5.2.2 (INIT in ESTABLISHED), §3.2.1: a malformed INIT for an established association
// must not restart, abort or otherwise disturb it, and may cost at most one answer each.
TEST(SctpSecurity, MalformedInitDoesNotDisturbEstablishedAssociation) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  const Bytes existing_cookie = p.Last(kCookieEcho)->value;
  for (const auto& [name, chunk] : MalformedInits()) {
    const size_t before = p.packets_from_a;
    for (int i = 0; i < 50; ++i) p.Send(Packet(0, chunk));
    EXPECT_LE(p.packets_from_a - before, 50u) << name << ": more than one answer per INIT";
    EXPECT_TRUE(p.t->association_up()) << name;
  }
  // The parameter lists with a length < 4 or past the chunk never reached usrsctp (its INIT-ACK
  // builder loops forever on a zero-length parameter: usrsctp #570); see sctp_transport.cc.
  EXPECT_GE(p.t->dropped_malformed_packets(), 5u * 50u);
  // A malformed INIT with the association's own tag (not 0) is dropped too (§8.5.1).
  p.SendChunks(MalformedInits()[0].second);
  ExpectSurvived(p, events, "after-init");
  EXPECT_EQ(p.Last(kCookieEcho)->value, existing_cookie);  // no new handshake was started
}

// usrsctp #570 (infinite loop in sctp_send_initiate_ack on a zero-length parameter; Debian's
// usrsctp 0.9.5.0 predates the fix): before refrtc filtered such packets, this single 36-byte
// INIT from the peer hung the whole process inside usrsctp_conninput. Now it is dropped before
// usrsctp and counted; the association is untouched.
TEST(SctpSecurity, InitWithZeroLengthParameterDoesNotHang) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  const uint64_t dropped = p.t->dropped_malformed_packets();
  const Bytes init = Chunk(kInit, 0, Cat({U32s({0xabcdef01, 0x100000}), Bytes{0x04, 0x00, 0x04, 0x00},
                                          U32s({0x777}), Param(0x8123, {}, uint16_t{0})}));
  ASSERT_EQ(init.size(), 24u);
  p.Send(Packet(0, init));
  EXPECT_EQ(p.t->dropped_malformed_packets(), dropped + 1);
  // The same zero-length parameter inside ASCONF and RE-CONFIG is dropped the same way.
  p.SendChunks(Chunk(kAsconf, 0, Cat({U32s({1}), Param(0x0005, {}, uint16_t{0})})));
  p.SendChunks(Chunk(kReconfig, 0, Param(0x000d, {}, uint16_t{0})));
  EXPECT_EQ(p.t->dropped_malformed_packets(), dropped + 3);
  ExpectSurvived(p, events, "after-zero-length-init");
}

// RFC 4960 §3.3.2 (which usrsctp follows): an INIT whose Initiate Tag is 0, or which offers zero
// inbound/outbound streams, is an error answered by ABORT — and usrsctp applies that to the
// association it has with the sender. Only the authenticated DTLS peer can send it (SCTP runs
// inside DTLS, RFC 8261), and that peer could send an ABORT anyway; what refrtc must guarantee is
// a clean shutdown: the association reported down once, every channel closed, nothing delivered
// afterwards, no hang.
TEST(SctpSecurity, InitWithZeroTagOrZeroStreamsAbortsCleanly) {
  const std::vector<std::pair<std::string, Bytes>> inits = {
      {"zero streams",
       Chunk(kInit, 0, Cat({U32s({0xabcdef02, 0x100000}), Bytes{0, 0, 0, 0}, U32s({1})}))},
      {"initiate tag 0", Chunk(kInit, 0, Cat({U32s({0, 0x100000}), Bytes{0, 4, 0, 4}, U32s({1})}))},
  };
  for (const auto& [name, init] : inits) {
    FakePeer p;
    Establish(p);
    p.Send(Packet(0, init));
    EXPECT_EQ(p.Count<EventAssociationDown>(), 1u) << name;
    EXPECT_FALSE(p.t->association_up()) << name;
    EXPECT_EQ(p.Count<EventChannelClosed>(), 1u) << name;
    EXPECT_EQ(p.ChannelCount(), 0u) << name;
    const size_t events = p.events.size();
    p.SendData(1, kPpidString, AsBytes("ghost"));
    p.Send(Packet(0, init));
    EXPECT_EQ(p.events.size(), events) << name;
  }
}

// RFC 5061 §4.1.1, §5.2: ASCONF must be authenticated (RFC 4895); malformed ones — truncated,
// lying lengths, zero-length parameters, with and without a bogus AUTH in front — are dropped
// (or answered with an ERROR/ASCONF-ACK) without touching the association.
TEST(SctpSecurity, MalformedAsconfIsDroppedAndAssociationSurvives) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  const Bytes addr = Param(0x0005, {192, 0, 2, 1});  // IPv4 address parameter
  const std::vector<Bytes> asconfs = {
      Chunk(kAsconf, 0, {}),                                        // no serial number
      Chunk(kAsconf, 0, U32s({1})),                                 // serial only, no address
      Chunk(kAsconf, 0, Cat({U32s({2}), Param(0x0005, {192, 0}, uint16_t{8})})),  // addr cut
      Chunk(kAsconf, 0, Cat({U32s({3}), addr, Param(0xC001, {}, uint16_t{0})})),  // zero length
      Chunk(kAsconf, 0, Cat({U32s({4}), addr, Param(0xC001, U32s({1}), uint16_t{0x200})})),
      Chunk(kAsconf, 0, Cat({U32s({5}), addr,
                             Param(0xC001, Cat({U32s({7}), Param(0x0005, {}, uint16_t{1})}))})),
      Chunk(kAsconf, 0, Cat({U32s({6}), addr}), uint16_t{0x2000}),  // chunk past the packet
      Chunk(kAsconf, 0, Cat({U32s({7}), addr, Param(0xC002, U32s({9, 0x00050008, 0xc0000201}))})),
  };
  // Bogus AUTH: key 0, SHA-1, 20 zero bytes of HMAC (RFC 4895 §4.2).
  const Bytes bogus_auth = Chunk(kAuth, 0, Cat({Bytes{0, 0, 0, 1}, Bytes(20, 0)}));
  for (const Bytes& c : asconfs) {
    p.SendChunks(c);
    p.SendChunks(Cat({bogus_auth, c}));
  }
  EXPECT_EQ(p.ChunksFromA(kAsconfAck), 0u) << "an unauthenticated ASCONF was processed";
  ExpectSurvived(p, events, "after-asconf");
}

// RFC 4895 §6.3: an AUTH chunk that is truncated, names an unknown key or HMAC, or has a wrong
// HMAC is discarded together with the chunks it would authenticate; nothing after it is
// delivered, and the association survives.
TEST(SctpSecurity, MalformedAuthChunkIsDroppedWithWhatFollows) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  const std::vector<Bytes> auths = {
      Chunk(kAuth, 0, {}),                                         // truncated: no key/HMAC id
      Chunk(kAuth, 0, {0, 0}),                                     // key id only
      Chunk(kAuth, 0, {0, 0, 0, 1}),                               // no HMAC at all
      Chunk(kAuth, 0, Cat({Bytes{0, 0, 0, 1}, Bytes(4, 0)})),      // SHA-1 but 4 HMAC bytes
      Chunk(kAuth, 0, Cat({Bytes{0xff, 0xff, 0, 1}, Bytes(20, 0)})),  // unknown key id
      Chunk(kAuth, 0, Cat({Bytes{0, 0, 0x77, 0x77}, Bytes(20, 0)})),  // unknown HMAC id
      Chunk(kAuth, 0, Cat({Bytes{0, 0, 0, 1}, Bytes(20, 0xAB)})),     // wrong HMAC
      Chunk(kAuth, 0, Cat({Bytes{0, 0, 0, 1}, Bytes(20, 0)}), uint16_t{0x4000}),  // past packet
      Chunk(kAuth, 0, Cat({Bytes{0, 0, 0, 3}, Bytes(200, 0)})),    // SHA-256 id, oversized HMAC
  };
  for (size_t i = 0; i < auths.size(); ++i) {
    const std::string text = "smuggled-" + std::to_string(i);
    // The DATA chunk reuses our next TSN: if it is dropped, the TSN is still free.
    p.SendChunks(Cat({auths[i], FakePeer::Data(p.next_tsn, 1, kPpidString, AsBytes(text))}));
    EXPECT_EQ(p.Messages(1).size(), 1u) << "DATA behind AUTH variant " << i << " was delivered";
  }
  ExpectSurvived(p, events, "after-auth");
}

// RFC 3758 §3.6: FORWARD-TSN chunks that are truncated, whose stream entries run past the chunk
// or the packet, name streams that do not exist, or point backwards are dropped or clamped; the
// association survives and the next in-sequence DATA is delivered.
TEST(SctpSecurity, MalformedForwardTsnIsDroppedAndAssociationSurvives) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  const uint32_t cum = p.next_tsn - 1;
  const std::vector<Bytes> fwds = {
      Chunk(kForwardTsn, 0, {}),                        // truncated: no new cumulative TSN
      Chunk(kForwardTsn, 0, {0, 1}),                    // half a TSN
      Chunk(kForwardTsn, 0, Cat({U32s({cum}), Bytes{0, 1}})),  // half a stream entry
      // Stream entries claimed past the end of the packet.
      Chunk(kForwardTsn, 0, Cat({U32s({cum}), U32s({0x00010000})}), uint16_t{8 + 4 * 100}),
      // Entries for streams that do not exist (0xFFFF, 5000) and a huge SSN.
      Chunk(kForwardTsn, 0, Cat({U32s({cum}), U32s({0xffff0000, 0x13880001, 0x0001ffff})})),
      // New cumulative TSN in the past (old, must be ignored).
      Chunk(kForwardTsn, 0, Cat({U32s({cum - 1000}), U32s({0x00010005})})),
      // 255 entries that all name the same stream.
      Chunk(kForwardTsn, 0, Cat({U32s({cum}), Bytes(4 * 255, 0)})),
  };
  for (const Bytes& f : fwds) {
    for (int i = 0; i < 20; ++i) p.SendChunks(f);
    EXPECT_TRUE(p.t->association_up());
  }
  // Nothing was skipped: the next TSN is still the expected one and is delivered.
  ExpectSurvived(p, events, "after-forward-tsn");
}

// RFC 3758 §3.6: a FORWARD-TSN within the receive window legitimately skips TSNs that were never
// received (abandoned messages); later DATA continues after it and TSNs at or below it are
// duplicates, never delivered.
TEST(SctpSecurity, ForwardTsnWithinWindowSkipsAbandonedTsns) {
  FakePeer p;
  Establish(p);
  const uint32_t skip_to = p.next_tsn + 50;
  p.SendChunks(Chunk(kForwardTsn, 0, U32s({skip_to, 0x00010000})));
  EXPECT_TRUE(p.t->association_up());
  const size_t before = p.Messages(1).size();
  p.SendChunks(FakePeer::Data(skip_to - 3, 1, kPpidString, AsBytes("stale")));
  EXPECT_EQ(p.Messages(1).size(), before) << "a TSN covered by FORWARD-TSN was delivered";
  p.next_tsn = skip_to + 1;
  EXPECT_TRUE(p.Exchange(1, "after-skip"));
}

// RFC 3758 §3.6 / RFC 9260 §9.1: a FORWARD-TSN far beyond anything the receive window could
// hold (2^31 ahead) is an attack, not an abandoned message: usrsctp aborts the association with
// a Protocol Violation cause (13). refrtc must report it as down and close every channel —
// never silently skip 2^31 TSNs and keep going with corrupted state.
TEST(SctpSecurity, ForwardTsnFarInTheFutureAbortsTheAssociation) {
  FakePeer p;
  Establish(p);
  p.SendChunks(Chunk(kForwardTsn, 0, U32s({p.next_tsn + 0x7ffffff0u, 0x00010000})));
  const ParsedChunk* abort = p.Last(kAbort);
  ASSERT_NE(abort, nullptr) << "no ABORT for a FORWARD-TSN 2^31 ahead";
  ASSERT_GE(abort->value.size(), 4u);
  EXPECT_EQ(Rd16(abort->value, 0), 13) << "ABORT cause is not Protocol Violation";
  EXPECT_FALSE(p.t->association_up());
  EXPECT_EQ(p.Count<EventAssociationDown>(), 1u);
  EXPECT_EQ(p.Count<EventChannelClosed>(), 1u);
  EXPECT_EQ(p.ChannelCount(), 0u);
  EXPECT_FALSE(p.t->Send(StreamId(1), AsBytes("x"), false, Now()).ok());
  // Anything that follows is dropped quietly.
  const size_t events = p.events.size();
  p.SendData(1, kPpidString, AsBytes("ghost"));
  EXPECT_EQ(p.events.size(), events);
}

// pion/datachannel #213 class (RFC 8832 §5.1): a DATA_CHANNEL_OPEN whose label or protocol
// length runs past the message must be rejected — no channel, no DATA_CHANNEL_ACK, no over-read —
// and must not block a correct OPEN on the same stream afterwards.
TEST(SctpSecurity, DcepOpenWithLabelLengthPastMessageCreatesNoChannel) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  const std::vector<Bytes> opens = {
      {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 'a', 'b', 'c'},  // label 0xFFFF, 3 bytes
      {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 'a', 'b', 'c'},  // protocol 0xFFFF
      {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 'a', 'b', 'c'},        // label one byte short
      {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},           // both, nothing follows
      {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 1},                             // header cut
  };
  for (const Bytes& open : opens) {
    p.SendData(3, kPpidDcep, open);
    p.SendData(1, kPpidDcep, open);  // and on the existing channel's stream
  }
  EXPECT_EQ(p.DcepAcksFrom(3), 0u);
  EXPECT_EQ(p.DcepAcksFrom(1), 1u);  // only the genuine OPEN of Establish
  EXPECT_EQ(p.t->channel_state(StreamId(3)), ChannelState::kClosed);
  ExpectSurvived(p, events, "after-dcep-overflow");
  EXPECT_EQ(p.t->channel_state(StreamId(1)), ChannelState::kOpen);
  // The stream is not poisoned: a correct OPEN there works.
  ASSERT_TRUE(p.RemoteOpen(3, "second"));
  EXPECT_EQ(p.ChannelCount(), 2u);
  EXPECT_TRUE(p.Exchange(3, "on-three"));
}

// RFC 8832 §6 / RFC 8831 §6.2: an OPEN on a stream id at or beyond the negotiated number of
// streams creates no channel (refrtc could not answer on that stream). Here the peer accepts
// only 16 streams from us (MIS 16) while sending on 1024, so usrsctp delivers stream 17 and
// 1023 and refrtc's own check must refuse them. A stream id beyond what WE accept (OS) is
// refused by SCTP itself with an ERROR "Invalid Stream Identifier" (RFC 9260 §6.5).
TEST(SctpSecurity, DcepOpenBeyondNegotiatedStreamsIsRefused) {
  {
    FakePeer p(FakePeer::Options{1024, 16});
    Establish(p);
    ASSERT_EQ(p.t->max_channels(), 16u);
    const size_t events = p.events.size();
    for (uint16_t sid : {17, 19, 1023}) {
      DcepOpen open;
      open.label = "too-high";
      p.SendData(sid, kPpidDcep, Serialize(open));
      EXPECT_EQ(p.t->channel_state(StreamId(sid)), ChannelState::kClosed) << sid;
      EXPECT_EQ(p.DcepAcksFrom(sid), 0u) << sid;
    }
    ExpectSurvived(p, events, "after-high-open");
    ASSERT_TRUE(p.RemoteOpen(15, "highest-valid"));  // 15 < 16: fine
  }
  {
    FakePeer p(FakePeer::Options{16, 1024});  // the Transport accepts 16 inbound streams
    Establish(p);
    const size_t events = p.events.size();
    const size_t errors = p.ChunksFromA(kError);
    DcepOpen open;
    open.label = "past-os";
    p.SendData(101, kPpidDcep, Serialize(open));
    EXPECT_EQ(p.t->channel_state(StreamId(101)), ChannelState::kClosed);
    ASSERT_EQ(p.ChunksFromA(kError), errors + 1);
    const ParsedChunk* err = p.Last(kError);
    ASSERT_GE(err->value.size(), 6u);
    EXPECT_EQ(Rd16(err->value, 0), 1);    // cause: Invalid Stream Identifier
    EXPECT_EQ(Rd16(err->value, 4), 101);  // the offending stream
    ExpectSurvived(p, events, "after-os-open");
  }
}

// RFC 8832 §5: only message types 0x02 (ACK) and 0x03 (OPEN) exist; anything else on PPID 50 is
// dropped — on a fresh stream it creates no channel, on an open channel it changes nothing and
// is not delivered as user data.
TEST(SctpSecurity, UnknownDcepMessageTypeIsDropped) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  for (uint8_t type : {0x00, 0x01, 0x04, 0x7f, 0x80, 0xff}) {
    const Bytes msg = {type, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    p.SendData(5, kPpidDcep, msg);
    p.SendData(1, kPpidDcep, msg);
    p.SendData(5, kPpidDcep, Bytes{type});
  }
  EXPECT_EQ(p.t->channel_state(StreamId(5)), ChannelState::kClosed);
  EXPECT_EQ(p.DcepAcksFrom(5), 0u);
  ExpectSurvived(p, events, "after-unknown-dcep");
}

// RFC 8832 §6: a DATA_CHANNEL_ACK answers an OPEN we sent. An ACK for a stream with no channel,
// for a channel the peer opened itself, or malformed, opens nothing and announces nothing; only
// the genuine ACK opens our channel.
TEST(SctpSecurity, DcepAckForChannelNeverOpenedIsIgnored) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  p.SendData(7, kPpidDcep, Bytes{kDcepAck});   // no channel on stream 7
  p.SendData(2, kPpidDcep, Bytes{kDcepAck});   // our parity, no channel either
  p.SendData(1, kPpidDcep, Bytes{kDcepAck});   // the peer's own channel: already open
  EXPECT_EQ(p.Count<EventChannelOpen>(), 0u);
  EXPECT_EQ(p.t->channel_state(StreamId(7)), ChannelState::kClosed);
  EXPECT_EQ(p.t->channel_state(StreamId(2)), ChannelState::kClosed);
  ExpectSurvived(p, events, "after-stray-ack");

  // Our own channel waiting for its ACK: a malformed ACK (trailing byte) does not open it.
  auto ours = p.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(ours.ok());
  p.t->Flush(Now());
  p.Collect();
  EXPECT_EQ(p.t->channel_state(*ours), ChannelState::kConnecting);
  p.SendData(ours->value(), kPpidDcep, Bytes{kDcepAck, 0x00});
  EXPECT_EQ(p.t->channel_state(*ours), ChannelState::kConnecting);
  EXPECT_EQ(p.Count<EventChannelOpen>(), 0u);
  p.SendData(ours->value(), kPpidDcep, Bytes{kDcepAck});
  EXPECT_EQ(p.t->channel_state(*ours), ChannelState::kOpen);
  EXPECT_EQ(p.Count<EventChannelOpen>(), 1u);
  // A second ACK changes nothing.
  p.SendData(ours->value(), kPpidDcep, Bytes{kDcepAck});
  EXPECT_EQ(p.Count<EventChannelOpen>(), 1u);
}

// RFC 9260 §8.5: a packet whose verification tag is not the association's is dropped, even with
// a correct CRC32c — an off-path attacker cannot inject DATA, DCEP OPENs or ABORTs.
TEST(SctpSecurity, WrongVerificationTagIsDropped) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  DcepOpen open;
  open.label = "spoofed";
  for (uint32_t tag : {0u, p.a_tag ^ 1, p.my_tag}) {
    p.Send(Packet(tag, FakePeer::Data(p.next_tsn, 9, kPpidDcep, Serialize(open))));
    p.Send(Packet(tag, FakePeer::Data(p.next_tsn, 1, kPpidString, AsBytes("spoofed"))));
    p.Send(Packet(tag, Chunk(kAbort, 0, {})));
  }
  EXPECT_EQ(p.t->channel_state(StreamId(9)), ChannelState::kClosed);
  EXPECT_EQ(p.Messages(1).size(), 1u);
  ExpectSurvived(p, events, "after-spoof");
}

// Flood: thousands of malformed chunks of every kind above. The Transport's state stays bounded:
// no events, no channels, at most a few answers per packet (no amplification), and the
// association still works afterwards.
TEST(SctpSecurity, FloodOfMalformedChunksKeepsStateBounded) {
  FakePeer p;
  Establish(p);
  const size_t events = p.events.size();
  const size_t out_before = p.packets_from_a;
  const uint32_t cum = p.next_tsn - 1;
  const std::vector<Bytes> junk = {
      Chunk(kAsconf, 0, U32s({1})),
      Chunk(kAuth, 0, {0, 0}),
      Chunk(kForwardTsn, 0, Cat({U32s({cum}), Bytes{0, 1}})),
      // An old SACK (cumulative TSN behind) claiming 65535 gap blocks and 65535 duplicates.
      Chunk(kSack, 0, U32s({*p.a_cum_tsn - 5, 0, 0xffffffff})),
      Chunk(kReconfig, 0, Param(0x000d, U32s({1, 2, 3}), uint16_t{0x300})),  // RE-CONFIG past end
      Chunk(0x3f, 0, Bytes(7, 1)),                              // unknown, "stop processing"
      Chunk(0xbf, 0, Bytes(7, 1)),                              // unknown, "skip and report"
      Chunk(kCookieEcho, 0, Bytes(40, 0x11)),                   // forged cookie
  };
  constexpr int kRounds = 300;
  for (int i = 0; i < kRounds; ++i) {
    for (const Bytes& c : junk) p.SendChunks(c);
  }
  EXPECT_LE(p.packets_from_a - out_before, kRounds * junk.size());
  EXPECT_TRUE(p.t->association_up());
  // Let timers run (SACK/heartbeat paths see whatever state the junk left).
  for (int i = 0; i < 20; ++i) {
    Now() += milliseconds(100);
    p.t->HandleTimeout(Now());
    p.Collect();
  }
  ExpectSurvived(p, events, "after-flood");
}

}  // namespace
}  // namespace refrtc::sctp
