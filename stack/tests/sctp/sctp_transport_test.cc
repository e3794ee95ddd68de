#include "sctp/sctp_transport.h"

#include <usrsctp.h>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <random>
#include <cstring>
#include <set>
#include <cstdlib>
#include <sys/time.h>
#include <time.h>

#include "util/codec.h"
#include "util/dom_exception.h"

namespace refrtc::sctp {
namespace {

// One virtual clock for the whole test process: usrsctp's timers are process-global, so every
// Transport must see the same monotonic time (see sctp_transport.h).
Instant& Now() {
  static Instant now = Instant{} + seconds(100000);
  return now;
}

struct Side {
  std::unique_ptr<Transport> t;
  std::vector<Event> events;
  template <typename T>
  std::vector<T> Get() const {
    std::vector<T> out;
    for (const auto& e : events)
      if (auto* p = std::get_if<T>(&e)) out.push_back(*p);
    return out;
  }
  template <typename T>
  size_t Count() const {
    return Get<T>().size();
  }
};

// Two Transports (DTLS client a, DTLS server b) wired back to back in memory.
class Pair {
 public:
  explicit Pair(double loss = 0.0, uint64_t seed = 1) : loss_(loss), rng_(seed) {
    a.t = std::make_unique<Transport>(true);
    b.t = std::make_unique<Transport>(false);
  }
  void Start() {
    ASSERT_TRUE(a.t->Start(Now()).ok());
    ASSERT_TRUE(b.t->Start(Now()).ok());
  }
  // Moves every queued packet once; returns whether anything moved.
  bool Step() {
    bool moved = false;
    moved |= Move(a, b);
    moved |= Move(b, a);
    Drain();
    return moved;
  }
  void Drain() {
    while (auto e = a.t->PollEvent()) a.events.push_back(std::move(*e));
    while (auto e = b.t->PollEvent()) b.events.push_back(std::move(*e));
  }
  // Runs until pred() holds or `limit` of virtual time passes; returns pred().
  bool RunUntil(const std::function<bool()>& pred, Duration limit = seconds(120)) {
    const Instant end = Now() + limit;
    int immediate_wakes = 0;
    while (!pred()) {
      if (Now() > end) return false;
      if (Step()) {
        immediate_wakes = 0;
        continue;
      }
      Instant next = Now() + milliseconds(100);
      for (Side* s : {&a, &b}) {
        if (auto t = s->t->PollTimeout()) next = std::min(next, *t);
      }
      if (next <= Now()) {
        // Immediate wake-ups must settle: no host busy loop.
        if (++immediate_wakes > 4) {
          ADD_FAILURE() << "PollTimeout keeps returning the past";
          return false;
        }
      } else {
        immediate_wakes = 0;
        Now() = next;
      }
      a.t->HandleTimeout(Now());
      b.t->HandleTimeout(Now());
      Drain();
    }
    return true;
  }
  void RunFor(Duration d) {
    const Instant end = Now() + d;
    RunUntil([&] { return Now() >= end; }, d + seconds(1));
  }
  bool Connect() {
    Start();
    return RunUntil([&] {
      return a.Count<EventAssociationUp>() == 1 && b.Count<EventAssociationUp>() == 1;
    });
  }

  Side a, b;
  double loss_;
  std::mt19937_64 rng_;
  size_t max_packet = 0;
  Bytes last_b_header;  // common header of the last b→a packet (a's verification tag)
  bool lossy = true;

 private:
  bool Move(Side& from, Side& to) {
    bool moved = false;
    while (auto p = from.t->PollOutgoing()) {
      moved = true;
      max_packet = std::max(max_packet, p->size());
      if (&from == &b && p->size() >= 12) last_b_header.assign(p->begin(), p->begin() + 12);
      if (lossy && loss_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < loss_) {
        continue;
      }
      to.t->HandlePacket(*p, Now());
    }
    return moved;
  }
};

Bytes Str(absl::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return b;
}

TEST(SctpTransport, AssociationComesUp) {
  Pair p;
  ASSERT_TRUE(p.Connect());
  EXPECT_TRUE(p.a.t->association_up());
  EXPECT_TRUE(p.b.t->association_up());
  EXPECT_EQ(p.a.t->max_channels(), kMaxStreams);
  EXPECT_EQ(p.b.t->max_channels(), kMaxStreams);
  // Every SCTP packet fits a 1200-byte UDP payload after DTLS framing.
  EXPECT_LE(p.max_packet, 1163u);
}

TEST(SctpTransport, DcepOpenAndAck) {
  Pair p;
  ASSERT_TRUE(p.Connect());
  ChannelInit init;
  init.label = "chat";
  init.protocol = "json";
  init.ordered = false;
  init.max_retransmits = 3;
  init.priority = 512;
  auto id = p.a.t->OpenChannel(init, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->value(), 0);  // DTLS client: even ids
  EXPECT_EQ(p.a.t->channel_state(*id), ChannelState::kConnecting);
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 1; }));
  EXPECT_EQ(p.a.t->channel_state(*id), ChannelState::kOpen);
  auto incoming = p.b.Get<EventIncomingChannel>();
  ASSERT_EQ(incoming.size(), 1u);
  EXPECT_EQ(incoming[0].id, *id);
  EXPECT_EQ(incoming[0].init.label, "chat");
  EXPECT_EQ(incoming[0].init.protocol, "json");
  EXPECT_FALSE(incoming[0].init.ordered);
  EXPECT_EQ(incoming[0].init.max_retransmits, std::optional<uint16_t>(3));
  EXPECT_FALSE(incoming[0].init.max_packet_life_time_ms.has_value());
  EXPECT_EQ(incoming[0].init.priority, 512);
  EXPECT_FALSE(incoming[0].init.negotiated);
  EXPECT_EQ(p.b.t->channel_state(*id), ChannelState::kOpen);

  // Server side picks odd ids; a second client channel picks the next even id.
  auto sid = p.b.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(sid.ok());
  EXPECT_EQ(sid->value(), 1);
  auto id2 = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id2.ok());
  EXPECT_EQ(id2->value(), 2);
  ASSERT_TRUE(p.RunUntil([&] {
    return p.b.Count<EventChannelOpen>() == 1 && p.a.Count<EventIncomingChannel>() == 1 &&
           p.a.Count<EventChannelOpen>() == 2;
  }));
  EXPECT_EQ(p.a.Get<EventIncomingChannel>()[0].id, StreamId(1));
}

TEST(SctpTransport, OpenBeforeAssociationIsQueued) {
  Pair p;
  ChannelInit init;
  init.label = "early";
  auto id = p.a.t->OpenChannel(init, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.a.t->Send(*id, AsBytes("hello"), false, Now()).ok());
  EXPECT_EQ(p.a.t->buffered_amount(*id), 5u);
  ASSERT_TRUE(p.Connect());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == 1; }));
  EXPECT_EQ(p.b.Get<EventIncomingChannel>().at(0).init.label, "early");
  EXPECT_EQ(AsString(p.b.Get<EventMessage>()[0].data), "hello");
  EXPECT_EQ(p.a.t->buffered_amount(*id), 0u);
}

TEST(SctpTransport, WrongParityOpenIsIgnored) {
  Pair p;
  ASSERT_TRUE(p.Connect());
  // The DTLS server must use odd ids; an OPEN on an even id is not accepted by the client.
  auto id = p.b.t->OpenChannel(ChannelInit{}, uint16_t{4}, Now());
  ASSERT_TRUE(id.ok());
  p.RunFor(seconds(2));
  EXPECT_EQ(p.a.Count<EventIncomingChannel>(), 0u);
  EXPECT_EQ(p.b.Count<EventChannelOpen>(), 0u);
  EXPECT_EQ(p.a.t->channel_state(StreamId(4)), ChannelState::kClosed);
}

TEST(SctpTransport, NegotiatedChannel) {
  Pair p;
  ChannelInit init;
  init.negotiated = true;
  init.label = "neg";
  EXPECT_FALSE(p.a.t->OpenChannel(init, std::nullopt, Now()).ok());  // id required
  ASSERT_TRUE(p.a.t->OpenChannel(init, uint16_t{7}, Now()).ok());
  EXPECT_EQ(DomErrorName(p.a.t->OpenChannel(init, uint16_t{7}, Now()).status()), "OperationError");
  ASSERT_TRUE(p.Connect());
  ASSERT_TRUE(p.b.t->OpenChannel(init, uint16_t{7}, Now()).ok());
  ASSERT_TRUE(p.RunUntil([&] {
    return p.a.Count<EventChannelOpen>() == 1 && p.b.Count<EventChannelOpen>() == 1;
  }));
  EXPECT_EQ(p.b.Count<EventIncomingChannel>(), 0u);  // no DCEP
  ASSERT_TRUE(p.a.t->Send(StreamId(7), AsBytes("x"), true, Now()).ok());
  ASSERT_TRUE(p.b.t->Send(StreamId(7), AsBytes("y"), false, Now()).ok());
  ASSERT_TRUE(p.RunUntil(
      [&] { return p.a.Count<EventMessage>() == 1 && p.b.Count<EventMessage>() == 1; }));
  EXPECT_EQ(AsString(p.b.Get<EventMessage>()[0].data), "x");
  EXPECT_TRUE(p.b.Get<EventMessage>()[0].binary);
  EXPECT_EQ(AsString(p.a.Get<EventMessage>()[0].data), "y");
  EXPECT_FALSE(p.a.Get<EventMessage>()[0].binary);
}

TEST(SctpTransport, MessagesOfAllKindsBothWays) {
  Pair p;
  p.a.t->SetRemoteMaxMessageSize(0);  // remote "unlimited" → our 256 KiB cap
  p.b.t->SetRemoteMaxMessageSize(kLocalMaxMessageSize);
  EXPECT_EQ(p.a.t->max_message_size(), kLocalMaxMessageSize);
  ASSERT_TRUE(p.Connect());
  auto id = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 1; }));
  struct Msg {
    Bytes data;
    bool binary;
  };
  std::vector<Msg> msgs = {{Str("hello"), false}, {Pattern(10, 1), true},
                           {{}, false},                   {{}, true},
                           {Bytes{42}, true},             {Pattern(65536, 2), true},
                           {Pattern(262144, 3), true},    {Bytes(70000, 'a'), false}};
  for (Side* from : {&p.a, &p.b}) {
    for (const auto& m : msgs) ASSERT_TRUE(from->t->Send(*id, m.data, m.binary, Now()).ok());
  }
  ASSERT_TRUE(p.RunUntil([&] {
    return p.a.Count<EventMessage>() == msgs.size() && p.b.Count<EventMessage>() == msgs.size();
  }));
  for (Side* to : {&p.a, &p.b}) {
    auto got = to->Get<EventMessage>();
    for (size_t i = 0; i < msgs.size(); ++i) {
      EXPECT_EQ(got[i].id, *id);
      EXPECT_EQ(got[i].binary, msgs[i].binary) << i;
      EXPECT_EQ(got[i].data, msgs[i].data) << i;
    }
  }
  EXPECT_EQ(p.a.t->discarded_oversized_messages(), 0u);
}

TEST(SctpTransport, MessageOverMaxIsTypeError) {
  Pair p;
  EXPECT_EQ(p.a.t->max_message_size(), kDefaultRemoteMaxMessageSize);  // RFC 8841 default
  auto id = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  Bytes big(65537, 1);
  auto st = p.a.t->Send(*id, big, true, Now());
  EXPECT_EQ(DomErrorName(st), "TypeError");
  EXPECT_TRUE(p.a.t->Send(*id, Bytes(65536, 1), true, Now()).ok());
  p.a.t->SetRemoteMaxMessageSize(1000000);
  EXPECT_EQ(p.a.t->max_message_size(), kLocalMaxMessageSize);
  EXPECT_EQ(DomErrorName(p.a.t->Send(*id, Bytes(kLocalMaxMessageSize + 1, 1), true, Now())),
            "TypeError");
  EXPECT_EQ(p.a.t->buffered_amount(*id), 65536u);
  ASSERT_TRUE(p.Connect());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == 1; }));
  EXPECT_EQ(p.b.Get<EventMessage>()[0].data.size(), 65536u);
}

TEST(SctpTransport, UnorderedDeliversEverything) {
  Pair p(0.05, 7);
  ASSERT_TRUE(p.Connect());
  ChannelInit init;
  init.ordered = false;
  auto id = p.a.t->OpenChannel(init, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 1; }));
  constexpr int kN = 300;
  for (int i = 0; i < kN; ++i) {
    std::string s = std::to_string(i);
    ASSERT_TRUE(p.a.t->Send(*id, AsBytes(s), false, Now()).ok());
  }
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == kN; }));
  std::set<std::string> got;
  for (const auto& m : p.b.Get<EventMessage>()) got.insert(std::string(AsString(m.data)));
  EXPECT_EQ(got.size(), static_cast<size_t>(kN));
}

TEST(SctpTransport, PartialReliabilityLosesOnlyUnreliable) {
  Pair p(0.10, 3);
  p.lossy = false;
  ASSERT_TRUE(p.Connect());
  ChannelInit unreliable;
  unreliable.ordered = false;
  unreliable.max_retransmits = 0;
  auto u = p.a.t->OpenChannel(unreliable, std::nullopt, Now());
  auto r = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(u.ok() && r.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 2; }));
  p.lossy = true;
  constexpr int kN = 400;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(p.a.t->Send(*u, Pattern(300, static_cast<uint8_t>(i)), true, Now()).ok());
    ASSERT_TRUE(p.a.t->Send(*r, Pattern(300, static_cast<uint8_t>(i)), true, Now()).ok());
  }
  auto count = [&](StreamId id) {
    size_t n = 0;
    for (const auto& m : p.b.Get<EventMessage>()) n += m.id == id;
    return n;
  };
  ASSERT_TRUE(p.RunUntil([&] { return count(*r) == kN; }));
  p.RunFor(seconds(5));
  EXPECT_EQ(count(*r), static_cast<size_t>(kN));
  size_t got_u = count(*u);
  EXPECT_GT(got_u, kN / 2);
  EXPECT_LT(got_u, static_cast<size_t>(kN));  // some were abandoned (RFC 3758)
  // Reliable channel delivered everything, in order.
  size_t i = 0;
  for (const auto& m : p.b.Get<EventMessage>()) {
    if (m.id != *r) continue;
    EXPECT_EQ(m.data, Pattern(300, static_cast<uint8_t>(i))) << i;
    ++i;
  }
}

TEST(SctpTransport, ThousandMessagesAtFivePercentLoss) {
  Pair p(0.05, 11);
  ASSERT_TRUE(p.Connect());
  auto id = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 1; }));
  std::mt19937_64 gen(5);
  Bytes all;
  for (int i = 0; i < 1000; ++i) {
    Bytes m(1200);
    for (auto& c : m) c = static_cast<uint8_t>(gen());
    all.insert(all.end(), m.begin(), m.end());
    ASSERT_TRUE(p.a.t->Send(*id, m, true, Now()).ok());
  }
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == 1000; }, seconds(600)));
  Bytes got;
  for (const auto& m : p.b.Get<EventMessage>()) got.insert(got.end(), m.data.begin(), m.data.end());
  EXPECT_EQ(Sha256Hex(got), Sha256Hex(all));
}

// Regression (10k-message PeerConnection stall): an outage long enough for usrsctp to mark the
// only path INACTIVE (RFC 4960 §8.2: more than Path.Max.Retrans = 5 T3-rtx expiries). The data
// outstanding during the outage still gets through by T3 retransmission, but acks of retransmitted
// chunks do not clear the path's error count (Karn), so NEW data waits until a HEARTBEAT-ACK marks
// the path active again. usrsctp sends that HEARTBEAT only once heart_beat_delay (30 s) has passed
// on the clock it reads with gettimeofday(); virtual time runs far ahead of the real clock here, so
// unless usrsctp reads the clock its timers run on, no HEARTBEAT ever leaves and the new data
// never arrives.
TEST(SctpTransport, RecoversAfterOutageMarksThePathInactive) {
  Pair p(0.0, 3);
  ASSERT_TRUE(p.Connect());
  ChannelInit init;
  init.negotiated = true;
  auto id = p.a.t->OpenChannel(init, uint16_t{2}, Now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.b.t->OpenChannel(init, uint16_t{2}, Now()).ok());
  ASSERT_TRUE(p.a.t->Send(*id, Pattern(100, 1), true, Now()).ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == 1; }));
  // 40 s of total loss: T3-rtx backs off 0.4, 0.8, ... 10 s: more than 5 expiries (path INACTIVE),
  // fewer than Association.Max.Retrans = 10 (the association survives).
  p.loss_ = 1.0;
  ASSERT_TRUE(p.a.t->Send(*id, Pattern(3000, 2), true, Now()).ok());
  p.RunFor(seconds(40));
  EXPECT_EQ(p.b.Count<EventMessage>(), 1u);
  p.loss_ = 0.0;
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == 2; }, seconds(30)));
  EXPECT_EQ(p.b.Get<EventMessage>()[1].data, Pattern(3000, 2));
  // New data: needs the path back (HEARTBEAT after at most heart_beat_delay + RTO ≈ 30-40 s).
  ASSERT_TRUE(p.a.t->Send(*id, Pattern(500, 3), true, Now()).ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == 3; }, seconds(60)))
      << "path never recovered after the outage";
  EXPECT_EQ(p.b.Get<EventMessage>()[2].data, Pattern(500, 3));
  EXPECT_EQ(p.a.Count<EventAssociationDown>(), 0u);
  // Once the path is active again, new data flows without delay.
  ASSERT_TRUE(p.a.t->Send(*id, Pattern(700, 4), true, Now()).ok());
  EXPECT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == 4; }, seconds(1)));
}

// The clock substitution is scoped to usrsctp calls: everybody else still reads the real clock.
TEST(SctpTransport, GettimeofdayOutsideUsrsctpIsTheSystemClock) {
  Pair p;
  ASSERT_TRUE(p.Connect());
  p.RunFor(seconds(3600));  // usrsctp's clock is now far from the system clock
  struct timeval tv;
  ASSERT_EQ(gettimeofday(&tv, nullptr), 0);
  struct timespec ts;
  ASSERT_EQ(clock_gettime(CLOCK_REALTIME, &ts), 0);
  const int64_t a = int64_t{tv.tv_sec} * 1000000 + tv.tv_usec;
  const int64_t b = int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
  EXPECT_LT(std::llabs(b - a), 5 * 1000000);
}

TEST(SctpTransport, CloseFromOneSideClosesBoth) {
  Pair p;
  ASSERT_TRUE(p.Connect());
  auto id = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 1; }));
  ASSERT_TRUE(p.a.t->Send(*id, AsBytes("last words"), false, Now()).ok());
  p.a.t->CloseChannel(*id, Now());
  EXPECT_EQ(p.a.t->channel_state(*id), ChannelState::kClosing);
  EXPECT_FALSE(p.a.t->Send(*id, AsBytes("too late"), false, Now()).ok());
  ASSERT_TRUE(p.RunUntil([&] {
    return p.a.Count<EventChannelClosed>() == 1 && p.b.Count<EventChannelClosed>() == 1;
  }));
  EXPECT_EQ(p.b.Count<EventChannelClosing>(), 1u);  // remote-initiated on b's side
  EXPECT_EQ(p.a.Count<EventChannelClosing>(), 0u);
  ASSERT_EQ(p.b.Count<EventMessage>(), 1u);  // data queued before close still delivered
  EXPECT_EQ(p.a.t->channel_state(*id), ChannelState::kClosed);
  EXPECT_EQ(p.b.t->channel_state(*id), ChannelState::kClosed);
  // The id is free again and the stream works after the reset.
  auto again = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *id);
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 2; }));
  ASSERT_TRUE(p.a.t->Send(*again, AsBytes("reborn"), false, Now()).ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == 2; }));
  EXPECT_EQ(AsString(p.b.Get<EventMessage>()[1].data), "reborn");
}

TEST(SctpTransport, CloseHighStreamIdFromRemote) {
  // Stream 258 = 0x0102: catches byte-order mistakes in the stream-reset event handling.
  Pair p;
  ASSERT_TRUE(p.Connect());
  auto id = p.a.t->OpenChannel(ChannelInit{}, uint16_t{258}, Now());
  auto other = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id.ok() && other.ok());
  EXPECT_EQ(id->value(), 258);
  EXPECT_EQ(other->value(), 0);
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventIncomingChannel>() == 2; }));
  p.b.t->CloseChannel(*id, Now());
  ASSERT_TRUE(p.RunUntil([&] {
    return p.a.Count<EventChannelClosed>() == 1 && p.b.Count<EventChannelClosed>() == 1;
  }));
  EXPECT_EQ(p.a.Get<EventChannelClosing>().at(0).id, *id);
  EXPECT_EQ(p.a.Get<EventChannelClosed>().at(0).id, *id);
  EXPECT_EQ(p.b.Get<EventChannelClosed>().at(0).id, *id);
  EXPECT_EQ(p.a.t->channel_state(*other), ChannelState::kOpen);
  EXPECT_EQ(p.b.t->channel_state(*other), ChannelState::kOpen);
}

TEST(SctpTransport, BufferedAmountDrainsAndLowFires) {
  Pair p;
  p.a.t->SetRemoteMaxMessageSize(0);
  ASSERT_TRUE(p.Connect());
  auto id = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 1; }));
  p.a.t->SetBufferedAmountLowThreshold(*id, 100000);
  // 8 MiB at once: more than usrsctp's send buffer, so some waits in our queue.
  constexpr int kN = 32;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(p.a.t->Send(*id, Pattern(262144, static_cast<uint8_t>(i)), true, Now()).ok());
  }
  const uint64_t start = p.a.t->buffered_amount(*id);
  EXPECT_GT(start, 100000u);
  EXPECT_EQ(start, 262144u * kN);  // Send only queues (handed over asynchronously)
  EXPECT_EQ(p.a.Count<EventBufferedAmountLow>(), 0u);
  uint64_t last = start;
  bool monotonic = true;
  ASSERT_TRUE(p.RunUntil([&] {
    uint64_t now_amount = p.a.t->buffered_amount(*id);
    monotonic &= now_amount <= last;
    last = now_amount;
    return p.b.Count<EventMessage>() == kN;
  }));
  EXPECT_TRUE(monotonic);
  EXPECT_EQ(p.a.t->buffered_amount(*id), 0u);
  EXPECT_EQ(p.a.Count<EventBufferedAmountLow>(), 1u);
  auto got = p.b.Get<EventMessage>();
  for (int i = 0; i < kN; ++i) EXPECT_EQ(got[i].data, Pattern(262144, static_cast<uint8_t>(i)));
}

TEST(SctpTransport, GracefulCloseTakesAssociationDown) {
  Pair p;
  ASSERT_TRUE(p.Connect());
  auto id = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 1; }));
  p.b.t->Close(Now());
  ASSERT_TRUE(p.RunUntil([&] {
    return p.a.Count<EventAssociationDown>() == 1 && p.b.Count<EventAssociationDown>() == 1;
  }));
  EXPECT_FALSE(p.a.t->association_up());
  EXPECT_EQ(p.a.Count<EventChannelClosed>(), 1u);
  EXPECT_EQ(p.b.Count<EventChannelClosed>(), 1u);
  EXPECT_EQ(p.a.t->channel_state(*id), ChannelState::kClosed);
  EXPECT_FALSE(p.a.t->PollTimeout().has_value() && p.a.t->PollOutgoing().has_value());
}

TEST(SctpTransport, PeerAbortTakesAssociationDown) {
  Pair p;
  ASSERT_TRUE(p.Connect());
  auto id = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Count<EventChannelOpen>() == 1; }));
  ASSERT_EQ(p.last_b_header.size(), 12u);
  // An ABORT chunk (RFC 4960 §3.3.7) with the live verification tag and a correct CRC32c.
  Bytes abort = p.last_b_header;
  abort.insert(abort.end(), {6, 0, 0, 4});
  std::memset(abort.data() + 8, 0, 4);
  uint32_t crc = usrsctp_crc32c(abort.data(), abort.size());
  std::memcpy(abort.data() + 8, &crc, 4);
  p.a.t->HandlePacket(abort, Now());
  p.Drain();
  ASSERT_EQ(p.a.Count<EventAssociationDown>(), 1u);
  EXPECT_NE(p.a.Get<EventAssociationDown>()[0].reason.find("COMM_LOST"), std::string::npos);
  EXPECT_EQ(p.a.Count<EventChannelClosed>(), 1u);
  EXPECT_FALSE(p.a.t->association_up());
  EXPECT_FALSE(p.a.t->Send(*id, AsBytes("x"), false, Now()).ok());
  EXPECT_FALSE(p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now()).ok());
}

TEST(SctpTransport, TwoPairsConcurrently) {
  Pair p1, p2;
  p1.Start();
  p2.Start();
  auto up = [](Pair& p) {
    return p.a.Count<EventAssociationUp>() == 1 && p.b.Count<EventAssociationUp>() == 1;
  };
  // Interleave both pairs on the shared clock.
  for (int i = 0; i < 20000 && !(up(p1) && up(p2)); ++i) {
    bool moved = p1.Step();
    moved |= p2.Step();
    if (!moved) {
      Now() += milliseconds(10);
      for (Pair* p : {&p1, &p2}) {
        p->a.t->HandleTimeout(Now());
        p->b.t->HandleTimeout(Now());
      }
    }
  }
  ASSERT_TRUE(up(p1) && up(p2));
  auto id1 = p1.b.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  auto id2 = p2.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
  ASSERT_TRUE(id1.ok() && id2.ok());
  ASSERT_TRUE(p1.b.t->Send(*id1, AsBytes("one"), false, Now()).ok());
  ASSERT_TRUE(p2.a.t->Send(*id2, AsBytes("two"), false, Now()).ok());
  for (int i = 0; i < 100; ++i) {
    Now() += milliseconds(1);
    for (Pair* p : {&p1, &p2}) {
      p->a.t->HandleTimeout(Now());
      p->b.t->HandleTimeout(Now());
    }
    p1.Step();
    p2.Step();
  }
  ASSERT_EQ(p1.a.Count<EventMessage>(), 1u);
  ASSERT_EQ(p2.b.Count<EventMessage>(), 1u);
  EXPECT_EQ(AsString(p1.a.Get<EventMessage>()[0].data), "one");
  EXPECT_EQ(AsString(p2.b.Get<EventMessage>()[0].data), "two");
  EXPECT_EQ(p1.b.Count<EventMessage>() + p2.a.Count<EventMessage>(), 0u);
}

TEST(SctpTransport, DestroyWhileConnectedIsClean) {
  for (int round = 0; round < 3; ++round) {
    Pair p;
    ASSERT_TRUE(p.Connect());
    auto id = p.a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(p.a.t->Send(*id, Bytes(5000, 1), true, Now()).ok());
    p.Step();
    p.b.t.reset();
    // The survivor keeps running its timers without the peer.
    for (int i = 0; i < 50; ++i) {
      Now() += milliseconds(100);
      p.a.t->HandleTimeout(Now());
      while (p.a.t->PollOutgoing()) {
      }
    }
  }
}

TEST(SctpTransport, PacketsCarryValidCrc32c) {
  // CRC32c stays on (RFC 4960 §6.8); also pins the layout the packet fuzzer relies on.
  Transport a(true), b(false);
  ASSERT_TRUE(a.Start(Now()).ok());
  auto init = a.PollOutgoing();
  ASSERT_TRUE(init.has_value());
  ASSERT_GE(init->size(), 12u);
  Bytes copy = *init;
  std::memset(copy.data() + 8, 0, 4);
  uint32_t crc = usrsctp_crc32c(copy.data(), copy.size());
  EXPECT_EQ(std::memcmp(&crc, init->data() + 8, 4), 0);
  // A corrupted packet is dropped by the receiver: no INIT-ACK comes back.
  ASSERT_TRUE(b.Start(Now()).ok());
  while (b.PollOutgoing()) {
  }
  Bytes bad = *init;
  bad.back() ^= 0x55;
  b.HandlePacket(bad, Now());
  EXPECT_FALSE(b.PollOutgoing().has_value());
  b.HandlePacket(*init, Now());
  EXPECT_TRUE(b.PollOutgoing().has_value());
}

TEST(SctpTransport, TimedChannelAndDataBeforeAck) {
  Pair p;
  ASSERT_TRUE(p.Connect());
  ChannelInit init;
  init.max_packet_life_time_ms = 1500;
  init.label = "timed";
  auto id = p.a.t->OpenChannel(init, std::nullopt, Now());
  ASSERT_TRUE(id.ok());
  // Sent while still connecting (RFC 8832 §6 allows data before the ACK): arrives after OPEN.
  ASSERT_TRUE(p.a.t->Send(*id, AsBytes("early"), false, Now()).ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Count<EventMessage>() == 1; }));
  auto in = p.b.Get<EventIncomingChannel>();
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].init.max_packet_life_time_ms, std::optional<uint16_t>(1500));
  EXPECT_FALSE(in[0].init.max_retransmits.has_value());
  EXPECT_TRUE(in[0].init.ordered);
  EXPECT_EQ(AsString(p.b.Get<EventMessage>()[0].data), "early");
  // Both reliability options at once is a TypeError (W3C createDataChannel step).
  ChannelInit both;
  both.max_packet_life_time_ms = 1;
  both.max_retransmits = 1;
  EXPECT_EQ(DomErrorName(p.a.t->OpenChannel(both, std::nullopt, Now()).status()), "TypeError");
}

TEST(SctpTransport, ManyPairsInOneProcess) {
  constexpr int kPairs = 100;
  std::vector<std::unique_ptr<Pair>> pairs;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(std::make_unique<Pair>());
    pairs.back()->Start();
  }
  std::vector<StreamId> ids(kPairs);
  bool opened = false;
  for (int round = 0; round < 2000; ++round) {
    bool moved = false;
    for (auto& p : pairs) moved |= p->Step();
    if (!opened) {
      bool all_up = true;
      for (auto& p : pairs) all_up &= p->a.t->association_up() && p->b.t->association_up();
      if (all_up) {
        opened = true;
        for (int i = 0; i < kPairs; ++i) {
          auto id = pairs[i]->a.t->OpenChannel(ChannelInit{}, std::nullopt, Now());
          ASSERT_TRUE(id.ok());
          ids[i] = *id;
          std::string msg = "pair " + std::to_string(i);
          ASSERT_TRUE(pairs[i]->a.t->Send(*id, AsBytes(msg), false, Now()).ok());
        }
      }
    }
    if (!moved) {
      Now() += milliseconds(10);
      for (auto& p : pairs) {
        p->a.t->HandleTimeout(Now());
        p->b.t->HandleTimeout(Now());
      }
    }
    bool done = opened;
    for (auto& p : pairs) done &= p->b.Count<EventMessage>() == 1;
    if (done) break;
  }
  for (int i = 0; i < kPairs; ++i) {
    auto msgs = pairs[i]->b.Get<EventMessage>();
    ASSERT_EQ(msgs.size(), 1u) << i;
    EXPECT_EQ(AsString(msgs[0].data), "pair " + std::to_string(i));
  }
}

}  // namespace
}  // namespace refrtc::sctp
