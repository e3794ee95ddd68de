#include "mdns/resolver.h"

#include <gtest/gtest.h>

#include "mdns/dns_message.h"

namespace refrtc::mdns {
namespace {

constexpr char kName[] = "3e1d5c0e-8b2a-4a4c-9f0e-0123456789ab.local";

SocketAddress Ip(const char* ip, uint16_t port = 0) { return *SocketAddress::Parse(ip, port); }

Bytes Response(const std::string& name, const SocketAddress& ip, uint32_t ttl = 120, uint16_t flags = 0x8400,
               bool in_additional = false) {
  Message m;
  m.flags = flags;
  ResourceRecord rr;
  rr.name = name;
  rr.type = ip.is_v4() ? kTypeA : kTypeAaaa;
  rr.cache_flush = true;
  rr.ttl = ttl;
  rr.rdata.assign(ip.ip_bytes(), ip.ip_bytes() + ip.ip_size());
  (in_additional ? m.additionals : m.answers).push_back(rr);
  return *m.Serialize();
}

std::vector<Transmit> Drain(Resolver& r) {
  std::vector<Transmit> out;
  while (auto t = r.PollTransmit()) out.push_back(std::move(*t));
  return out;
}

class ResolverTest : public ::testing::Test {
 protected:
  Instant now = Instant{} + std::chrono::hours(1);
  SocketAddress responder = Ip("192.0.2.9", kMdnsPort);
};

TEST_F(ResolverTest, SendsOneShotQueriesForAAndAaaaOnBothGroups) {
  Resolver r;
  ASSERT_TRUE(r.Resolve(kName, now).ok());
  auto tx = Drain(r);
  ASSERT_EQ(tx.size(), 4u);
  int a = 0, aaaa = 0;
  for (const auto& t : tx) {
    EXPECT_TRUE(t.to == GroupV4() || t.to == GroupV6()) << t.to.ToString();
    EXPECT_EQ(t.from.port(), kMdnsPort);
    EXPECT_TRUE(t.from.is_any());
    EXPECT_EQ(t.from.family(), t.to.family());
    auto m = Message::Parse(t.data);
    ASSERT_TRUE(m.ok());
    EXPECT_FALSE(m->is_response());
    EXPECT_EQ(m->id, 0);  // RFC 6762 §18.1
    ASSERT_EQ(m->questions.size(), 1u);
    EXPECT_EQ(m->questions[0].name, kName);
    EXPECT_FALSE(m->questions[0].unicast_response);
    (m->questions[0].type == kTypeA ? a : aaaa)++;
  }
  EXPECT_EQ(a, 2);
  EXPECT_EQ(aaaa, 2);
  EXPECT_EQ(r.PollTimeout(), now + seconds(1));
}

TEST_F(ResolverTest, RetriesThreeTimesThenFails) {
  ResolverConfig cfg;
  cfg.query_ipv6 = false;
  Resolver r(cfg);
  ASSERT_TRUE(r.Resolve(kName, now).ok());
  EXPECT_EQ(Drain(r).size(), 2u);
  r.HandleTimeout(now + milliseconds(999));  // early: nothing
  EXPECT_TRUE(Drain(r).empty());
  r.HandleTimeout(now + seconds(1));
  EXPECT_EQ(Drain(r).size(), 2u);
  r.HandleTimeout(now + seconds(2));
  EXPECT_EQ(Drain(r).size(), 2u);
  EXPECT_FALSE(r.PollEvent().has_value());
  r.HandleTimeout(now + seconds(3));
  EXPECT_TRUE(Drain(r).empty());  // no 4th try
  auto ev = r.PollEvent();
  ASSERT_TRUE(ev.has_value());
  ASSERT_TRUE(std::holds_alternative<Failed>(*ev));
  EXPECT_EQ(std::get<Failed>(*ev).name, kName);
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_FALSE(r.PollTimeout().has_value());
}

TEST_F(ResolverTest, ResolvesFromResponseAndCaches) {
  Resolver r;
  ASSERT_TRUE(r.Resolve(kName, now).ok());
  Drain(r);
  // Case-insensitive name match (RFC 6762 §16); in the additional section also counts.
  std::string upper = kName;
  for (auto& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_TRUE(r.HandlePacket(Response(upper, Ip("192.0.2.2"), 120, 0x8400, true), responder, now));
  auto ev = r.PollEvent();
  ASSERT_TRUE(ev.has_value());
  ASSERT_TRUE(std::holds_alternative<Resolved>(*ev));
  EXPECT_EQ(std::get<Resolved>(*ev).name, kName);
  ASSERT_EQ(std::get<Resolved>(*ev).addresses.size(), 1u);
  EXPECT_EQ(std::get<Resolved>(*ev).addresses[0].IpString(), "192.0.2.2");
  EXPECT_EQ(r.pending(), 0u);
  EXPECT_FALSE(r.PollTimeout().has_value());  // no more retries
  // A later AAAA for the cached name adds an address and reports the full set.
  EXPECT_TRUE(r.HandlePacket(Response(kName, Ip("fd00::2")), responder, now + seconds(1)));
  ev = r.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(std::get<Resolved>(*ev).addresses.size(), 2u);
  // Cached: a new Resolve answers at once without sending.
  ASSERT_TRUE(r.Resolve(kName, now + seconds(2)).ok());
  EXPECT_TRUE(Drain(r).empty());
  ev = r.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(std::get<Resolved>(*ev).addresses.size(), 2u);
  // Expired after the TTL: queried again.
  EXPECT_TRUE(r.Lookup(kName, now + seconds(200)).empty());
  ASSERT_TRUE(r.Resolve(kName, now + seconds(200)).ok());
  EXPECT_EQ(Drain(r).size(), 4u);
}

TEST_F(ResolverTest, IgnoresInvalidResponses) {
  Resolver r;
  ASSERT_TRUE(r.Resolve(kName, now).ok());
  Drain(r);
  SocketAddress ip = Ip("192.0.2.2");
  EXPECT_FALSE(r.HandlePacket(Response(kName, ip), Ip("192.0.2.9", 5000), now));  // §6 source port
  EXPECT_FALSE(r.HandlePacket(Response(kName, ip, 120, 0x0000), responder, now));  // a query
  EXPECT_FALSE(r.HandlePacket(Response(kName, ip, 120, 0x8403), responder, now));  // rcode 3
  EXPECT_FALSE(r.HandlePacket(Response(kName, ip, 120, 0x8400 | (2 << 11)), responder, now));  // opcode
  EXPECT_FALSE(r.HandlePacket(Response("other.local", ip), responder, now));  // not our name
  EXPECT_FALSE(r.HandlePacket(Response(kName, ip, 0), responder, now));       // goodbye
  Bytes bad_len = Response(kName, ip);
  bad_len.pop_back();
  EXPECT_FALSE(r.HandlePacket(bad_len, responder, now));  // truncated
  Bytes junk = {0, 1, 2};
  EXPECT_FALSE(r.HandlePacket(junk, responder, now));
  // A TXT record with the name: skipped.
  Message m;
  m.flags = 0x8400;
  ResourceRecord txt;
  txt.name = kName;
  txt.type = kTypeTxt;
  txt.rdata = {1, 2, 3, 4};
  m.answers.push_back(txt);
  EXPECT_FALSE(r.HandlePacket(*m.Serialize(), responder, now));
  EXPECT_FALSE(r.PollEvent().has_value());
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_EQ(r.cached(), 0u);  // unsolicited "other.local" not cached
}

TEST_F(ResolverTest, GoodbyeRemovesCachedAddress) {
  Resolver r;
  ASSERT_TRUE(r.Resolve(kName, now).ok());
  ASSERT_TRUE(r.HandlePacket(Response(kName, Ip("192.0.2.2")), responder, now));
  EXPECT_EQ(r.Lookup(kName, now).size(), 1u);
  r.HandlePacket(Response(kName, Ip("192.0.2.2"), 0), responder, now);
  EXPECT_TRUE(r.Lookup(kName, now).empty());
}

TEST_F(ResolverTest, BoundsAndBadNames) {
  ResolverConfig cfg;
  cfg.max_pending = 2;
  cfg.max_cache = 2;
  Resolver r(cfg);
  EXPECT_EQ(r.Resolve("example.com", now).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Resolve(".local", now).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Resolve("a..local", now).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(r.Resolve("a.local", now).ok());
  ASSERT_TRUE(r.Resolve("b.local", now).ok());
  ASSERT_TRUE(r.Resolve("A.local", now).ok());  // joins the pending "a.local"
  EXPECT_EQ(r.Resolve("c.local", now).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Drain(r).size(), 8u);  // the joined name sent nothing new
  ASSERT_TRUE(r.HandlePacket(Response("a.local", Ip("10.0.0.1"), 10), responder, now));
  ASSERT_TRUE(r.HandlePacket(Response("b.local", Ip("10.0.0.2"), 100), responder, now));
  ASSERT_TRUE(r.Resolve("c.local", now).ok());
  ASSERT_TRUE(r.HandlePacket(Response("c.local", Ip("10.0.0.3"), 100), responder, now));
  EXPECT_EQ(r.cached(), 2u);
  EXPECT_TRUE(r.Lookup("a.local", now).empty());  // soonest-expiring evicted
  EXPECT_EQ(r.Lookup("c.local", now).size(), 1u);
}

TEST_F(ResolverTest, QuBitOnlyOnFirstQueryWhenConfigured) {
  ResolverConfig cfg;
  cfg.unicast_response = true;
  cfg.query_ipv6 = false;
  Resolver r(cfg);
  ASSERT_TRUE(r.Resolve(kName, now).ok());
  for (const auto& t : Drain(r)) EXPECT_TRUE(Message::Parse(t.data)->questions[0].unicast_response);
  r.HandleTimeout(now + seconds(1));
  for (const auto& t : Drain(r)) EXPECT_FALSE(Message::Parse(t.data)->questions[0].unicast_response);
}

}  // namespace
}  // namespace refrtc::mdns
