// The impaired UDP relay with two plain UDP sockets standing in for the peers (real time, short
// poll waits only).
#include "relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace refrtc::harness {
namespace {

using Clock = std::chrono::steady_clock;

class Udp {
 public:
  Udp() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 4 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(0x7f000001);
    bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    socklen_t len = sizeof(sa);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    addr_ = UdpAddr{0x7f000001, ntohs(sa.sin_port)};
  }
  ~Udp() { close(fd_); }
  const UdpAddr& addr() const { return addr_; }
  void SendTo(const UdpAddr& to, const std::string& data) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(to.ip);
    sa.sin_port = htons(to.port);
    sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  }
  // One datagram within `ms`, or nullopt.
  std::optional<std::pair<UdpAddr, std::string>> Recv(int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return std::nullopt;
    char buf[65536];
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return std::nullopt;
    return std::make_pair(UdpAddr{ntohl(from.sin_addr.s_addr), ntohs(from.sin_port)}, std::string(buf, static_cast<size_t>(n)));
  }
  // Everything that arrives until `quiet_ms` pass without a datagram.
  std::vector<std::string> Drain(int quiet_ms) {
    std::vector<std::string> out;
    while (auto d = Recv(quiet_ms)) out.push_back(d->second);
    return out;
  }

 private:
  int fd_ = -1;
  UdpAddr addr_;
};

std::unique_ptr<Relay> MakeRelay(uint64_t seed = 7, const std::string& pcap = "") {
  RelayOptions o;
  o.seed = seed;
  o.pcap_path = pcap;
  auto r = Relay::Start(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return std::move(*r);
}

struct Pair {
  Udp a, b;
  UdpAddr fa, fb;  // relay addresses representing a (used by b) and b (used by a)
  explicit Pair(Relay& relay) {
    fa = *relay.Expose(0, a.addr());
    fb = *relay.Expose(1, b.addr());
  }
};

TEST(Relay, ForwardsInOrderBothWaysWithSymmetricAddresses) {
  auto relay = MakeRelay();
  Pair p(*relay);
  EXPECT_EQ(p.fa.ip, 0x7f000001u);
  EXPECT_NE(p.fa.port, p.a.addr().port);
  for (int i = 0; i < 200; ++i) p.a.SendTo(p.fb, "m" + std::to_string(i));
  for (int i = 0; i < 200; ++i) {
    auto d = p.b.Recv(1000);
    ASSERT_TRUE(d) << "message " << i;
    EXPECT_EQ(d->second, "m" + std::to_string(i));
    EXPECT_EQ(d->first, p.fa) << "B must see A's packets coming from A's relay address";
  }
  p.b.SendTo(p.fa, "reply");
  auto r = p.a.Recv(1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->second, "reply");
  EXPECT_EQ(r->first, p.fb) << "the reply must come from where the request went";
  EXPECT_EQ(relay->stats(0).forwarded, 200u);
  EXPECT_EQ(relay->stats(1).forwarded, 1u);
  // Exposing again gives the same address; a relay address maps to itself.
  EXPECT_EQ(*relay->Expose(0, p.a.addr()), p.fa);
  EXPECT_EQ(*relay->Expose(1, p.fa), p.fa);
}

TEST(Relay, LearnsUnsignalledSources) {
  auto relay = MakeRelay();
  Udp b;
  UdpAddr fb = *relay->Expose(1, b.addr());
  Udp stranger;  // an A socket whose candidate was never signalled
  stranger.SendTo(fb, "hi");
  auto d = b.Recv(1000);
  ASSERT_TRUE(d);
  UdpAddr learned = d->first;
  EXPECT_EQ(learned.ip, 0x7f000001u);
  EXPECT_NE(learned.port, stranger.addr().port);
  b.SendTo(learned, "back");
  auto r = stranger.Recv(1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->second, "back");
  EXPECT_EQ(r->first, fb);
  EXPECT_EQ(relay->stats(0).forwarded, 1u);  // the stranger is on A's side
  EXPECT_EQ(relay->stats(1).forwarded, 1u);
}

TEST(Relay, FullLossDropsEverything) {
  auto relay = MakeRelay();
  Pair p(*relay);
  Impairment imp;
  imp.loss_pct = 100;
  relay->SetImpairment(0, imp);
  for (int i = 0; i < 50; ++i) p.a.SendTo(p.fb, "x");
  EXPECT_TRUE(p.b.Drain(150).empty());
  EXPECT_EQ(relay->stats(0).lost, 50u);
  EXPECT_EQ(relay->stats(0).forwarded, 0u);
  // The other direction is untouched.
  p.b.SendTo(p.fa, "y");
  EXPECT_TRUE(p.a.Recv(1000));
}

TEST(Relay, DuplicatesAreCounted) {
  auto relay = MakeRelay();
  Pair p(*relay);
  Impairment imp;
  imp.duplicate_pct = 100;
  relay->SetImpairment(0, imp);
  for (int i = 0; i < 20; ++i) p.a.SendTo(p.fb, "d" + std::to_string(i));
  auto got = p.b.Drain(150);
  EXPECT_EQ(got.size(), 40u);
  EXPECT_EQ(relay->stats(0).duplicated, 20u);
  EXPECT_EQ(relay->stats(0).forwarded, 40u);
}

// Which of 300 packets survive 30 % loss + 20 % duplication, by index.
std::multiset<std::string> Survivors(uint64_t seed) {
  auto relay = MakeRelay(seed);
  Pair p(*relay);
  Impairment imp;
  imp.loss_pct = 30;
  imp.duplicate_pct = 20;
  relay->SetImpairment(0, imp);
  for (int i = 0; i < 300; ++i) {
    p.a.SendTo(p.fb, std::to_string(i));
    if (i % 50 == 49) usleep(2000);  // keep socket buffers far from full
  }
  auto got = p.b.Drain(150);
  return std::multiset<std::string>(got.begin(), got.end());
}

TEST(Relay, SeededDecisionsAreReproducible) {
  auto first = Survivors(42), second = Survivors(42), other = Survivors(43);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other);
  EXPECT_GT(first.size(), 150u);
  EXPECT_LT(first.size(), 300u);
}

TEST(Relay, RateLimitBoundsThroughputAndTailDrops) {
  auto relay = MakeRelay();
  Pair p(*relay);
  Impairment imp;
  imp.rate_kbps = 4000;      // 500,000 B/s
  imp.queue_bytes = 1 << 20;
  relay->SetImpairment(0, imp);
  std::string kb(1000, 'r');
  auto t0 = Clock::now();
  for (int i = 0; i < 100; ++i) p.a.SendTo(p.fb, kb);  // 100 kB: ≥ 200 ms on the link
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(p.b.Recv(1000)) << i;
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_GE(ms, 190);
  EXPECT_LT(ms, 1000);
  // A small queue: a burst of 100 packets keeps only about queue_bytes worth (+ the one on the link).
  imp.rate_kbps = 800;  // 100,000 B/s
  imp.queue_bytes = 10000;
  relay->SetImpairment(0, imp);
  for (int i = 0; i < 100; ++i) p.a.SendTo(p.fb, kb);
  auto got = p.b.Drain(300);
  EXPECT_GE(got.size(), 9u);
  EXPECT_LE(got.size(), 12u);
  EXPECT_EQ(relay->stats(0).queue_dropped, 100u - got.size());
}

TEST(Relay, DelayJitterAndReorder) {
  auto relay = MakeRelay();
  Pair p(*relay);
  Impairment imp;
  imp.delay_ms = 60;
  relay->SetImpairment(0, imp);
  auto t0 = Clock::now();
  p.a.SendTo(p.fb, "late");
  ASSERT_TRUE(p.b.Recv(1000));
  double waited = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_GE(waited, 55);
  imp.delay_ms = 0;
  imp.reorder_pct = 50;
  imp.reorder_ms = 40;
  relay->SetImpairment(0, imp);
  for (int i = 0; i < 40; ++i) p.a.SendTo(p.fb, std::to_string(i));
  auto got = p.b.Drain(150);
  ASSERT_EQ(got.size(), 40u);
  bool out_of_order = false;
  for (size_t i = 1; i < got.size(); ++i) out_of_order |= std::stoi(got[i]) < std::stoi(got[i - 1]);
  EXPECT_TRUE(out_of_order);
  EXPECT_GT(relay->stats(0).reordered, 5u);
}

TEST(Relay, BlackoutDropsOneDirectionUntilLifted) {
  auto relay = MakeRelay();
  Pair p(*relay);
  relay->SetBlackout(0, true);
  p.a.SendTo(p.fb, "lost");
  p.b.SendTo(p.fa, "fine");
  EXPECT_TRUE(p.a.Recv(1000));
  EXPECT_FALSE(p.b.Recv(100));
  EXPECT_EQ(relay->stats(0).blackout, 1u);
  relay->SetBlackout(0, false);
  p.a.SendTo(p.fb, "back");
  auto d = p.b.Recv(1000);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->second, "back");
}

TEST(Relay, RewritesCandidatesAndDescriptions) {
  auto relay = MakeRelay();
  auto c = relay->RewriteCandidate(0, "candidate:1 1 udp 2122063615 192.0.2.2 47410 typ host generation 0 ufrag Sp+w");
  ASSERT_TRUE(c);
  UdpAddr front = *relay->Expose(0, *UdpAddr::Parse("192.0.2.2", 47410));
  EXPECT_EQ(*c, "candidate:1 1 udp 2122063615 127.0.0.1 " + std::to_string(front.port) + " typ host generation 0 ufrag Sp+w");
  // Rewriting a rewritten candidate changes nothing.
  EXPECT_EQ(*relay->RewriteCandidate(1, *c), *c);
  EXPECT_FALSE(relay->RewriteCandidate(0, "candidate:2 1 tcp 1518280447 192.0.2.2 9 typ host tcptype active"));
  EXPECT_FALSE(relay->RewriteCandidate(0, "candidate:3 1 udp 2122265343 fd00::2 34161 typ host"));
  EXPECT_FALSE(relay->RewriteCandidate(0, "candidate:4 1 UDP 2122265343 3f0c2b8e-1d5a.local 34161 typ host"));
  EXPECT_FALSE(relay->RewriteCandidate(0, "candidate:5 1 udp 1 1.2.3.4 70000 typ host"));
  EXPECT_FALSE(relay->RewriteCandidate(0, "garbage"));
  auto srflx = relay->RewriteCandidate(1, "a=candidate:6 1 UDP 1686052607 203.0.113.9 5000 typ srflx raddr 10.0.0.1 rport 6000");
  ASSERT_TRUE(srflx);
  EXPECT_EQ(srflx->rfind("a=candidate:6 1 UDP 1686052607 127.0.0.1 ", 0), 0u);
  EXPECT_NE(srflx->find(" typ srflx raddr 10.0.0.1 rport 6000"), std::string::npos);

  std::string sdp =
      "v=0\r\na=ice-ufrag:x\r\na=candidate:1 1 udp 2122063615 192.0.2.2 47410 typ host\r\n"
      "a=candidate:3 1 udp 2122265343 fd00::2 34161 typ host\r\na=end-of-candidates\r\n";
  int dropped = 0;
  std::string out = relay->RewriteDescription(0, sdp, &dropped);
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(out, "v=0\r\na=ice-ufrag:x\r\na=candidate:1 1 udp 2122063615 127.0.0.1 " + std::to_string(front.port) +
                     " typ host\r\na=end-of-candidates\r\n");
}

TEST(Relay, WritesPcap) {
  std::string path = ::testing::TempDir() + "/relay_test.pcap";
  {
    auto relay = MakeRelay(1, path);
    Pair p(*relay);
    p.a.SendTo(p.fb, "hello");
    ASSERT_TRUE(p.b.Recv(1000));
    p.b.SendTo(p.fa, "world!");
    ASSERT_TRUE(p.a.Recv(1000));
    EXPECT_EQ(relay->pcap_note(), "");
  }
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(data.size(), 24u + (16 + 28 + 5) + (16 + 28 + 6));
  uint32_t magic, linktype;
  memcpy(&magic, data.data(), 4);
  memcpy(&linktype, data.data() + 20, 4);
  EXPECT_EQ(magic, 0xa1b2c3d4u);
  EXPECT_EQ(linktype, 101u);
  EXPECT_EQ(static_cast<uint8_t>(data[24 + 16]), 0x45);  // IPv4, 20-byte header
  EXPECT_EQ(data[24 + 16 + 9], 17);                       // UDP
  EXPECT_EQ(data.substr(24 + 16 + 28, 5), "hello");
  std::remove(path.c_str());
}

TEST(NetworkChange, Parses) {
  auto c = ParseNetworkChange(nlohmann::json::parse(R"({"impair": {"loss": 5, "delayMs": 20, "jitterMs": 5, "reorder": 1,
      "duplicate": 1, "rateKbps": 2000, "direction": "AtoB"}})"), false);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->set_impair);
  EXPECT_EQ(c->impair.loss_pct, 5);
  EXPECT_EQ(c->impair.delay_ms, 20);
  EXPECT_EQ(c->impair.jitter_ms, 5);
  EXPECT_EQ(c->impair.rate_kbps, 2000);
  EXPECT_TRUE(c->impair_dir[0]);
  EXPECT_FALSE(c->impair_dir[1]);
  EXPECT_FALSE(c->blackout);

  auto clear = ParseNetworkChange(nlohmann::json::parse(R"({"impair": null})"), false);
  ASSERT_TRUE(clear.ok());
  EXPECT_TRUE(clear->set_impair);
  EXPECT_EQ(clear->impair, Impairment{});

  auto blackout = ParseNetworkChange(nlohmann::json::parse(R"({"blackout": true, "direction": "BtoA"})"), false);
  ASSERT_TRUE(blackout.ok());
  EXPECT_EQ(blackout->blackout, true);
  EXPECT_FALSE(blackout->blackout_dir[0]);
  EXPECT_TRUE(blackout->blackout_dir[1]);

  EXPECT_TRUE(ParseNetworkChange(nlohmann::json::parse(R"({"relay": true, "impair": {"loss": 1}})"), true).ok());
  EXPECT_FALSE(ParseNetworkChange(nlohmann::json::parse(R"({"relay": true})"), false).ok());
  EXPECT_FALSE(ParseNetworkChange(nlohmann::json::parse(R"({"relay": false})"), true).ok());
  EXPECT_FALSE(ParseNetworkChange(nlohmann::json::parse(R"({})"), false).ok());
  EXPECT_FALSE(ParseNetworkChange(nlohmann::json::parse(R"({"impair": {"loss": 101}})"), false).ok());
  EXPECT_FALSE(ParseNetworkChange(nlohmann::json::parse(R"({"impair": {"lost": 1}})"), false).ok());
  EXPECT_FALSE(ParseNetworkChange(nlohmann::json::parse(R"({"impair": {"loss": "5"}})"), false).ok());
  EXPECT_FALSE(ParseNetworkChange(nlohmann::json::parse(R"({"blackout": 1})"), false).ok());
  EXPECT_FALSE(ParseNetworkChange(nlohmann::json::parse(R"({"blackout": true, "direction": "up"})"), false).ok());
  EXPECT_FALSE(ParseNetworkChange(nlohmann::json::parse(R"({"blackout": true})"), true).ok());
}

}  // namespace
}  // namespace refrtc::harness

namespace refrtc::harness {
namespace {

TEST(RelayCapture, DemotesOnlyThePriorityOfCandidateLines) {
  EXPECT_EQ(DemoteCandidatePriority("candidate:1 1 udp 2129722623 fd00::2 35174 typ host generation 0"),
            "candidate:1 1 udp 1 fd00::2 35174 typ host generation 0");
  EXPECT_EQ(DemoteCandidatePriority("a=candidate:9 1 tcp 1518280447 ::1 9 typ host tcptype active"),
            "a=candidate:9 1 tcp 1 ::1 9 typ host tcptype active");
  EXPECT_EQ(DemoteCandidatePriority("a=mid:0"), "a=mid:0");
  EXPECT_EQ(DemoteCandidatePriority("candidate:1 1 udp"), "candidate:1 1 udp");
  EXPECT_EQ(DemoteCandidatePriority(""), "");
}

}  // namespace
}  // namespace refrtc::harness
