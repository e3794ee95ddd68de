#include "ice/candidate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace refrtc::ice {
namespace {

TEST(Candidate, ParsesLibwebrtcSrflx) {
  auto c = Candidate::Parse(
      "candidate:842163049 1 udp 1677729535 1.2.3.4 54321 typ srflx raddr 0.0.0.0 rport 0 generation 0 "
      "ufrag abcd network-id 1 network-cost 10");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->foundation, "842163049");
  EXPECT_EQ(c->component, 1u);
  EXPECT_EQ(c->protocol, "udp");
  EXPECT_EQ(c->priority, 1677729535u);
  EXPECT_EQ(c->address, "1.2.3.4");
  EXPECT_EQ(c->port, 54321);
  EXPECT_EQ(c->type, CandidateType::kServerReflexive);
  EXPECT_EQ(c->related_address, "0.0.0.0");
  EXPECT_EQ(c->related_port, 0);
  EXPECT_EQ(c->extensions.at("generation"), "0");
  EXPECT_EQ(c->extensions.at("ufrag"), "abcd");
  EXPECT_EQ(c->extensions.at("network-id"), "1");
  EXPECT_EQ(c->extensions.at("network-cost"), "10");
  ASSERT_TRUE(c->socket_address().has_value());
  EXPECT_EQ(c->socket_address()->ToString(), "1.2.3.4:54321");
  // ToString -> Parse is lossless.
  auto again = Candidate::Parse(c->ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *c);
}

TEST(Candidate, ParsesLibdatachannelWithAEquals) {
  auto c = Candidate::Parse("a=candidate:1 1 UDP 2122317823 192.168.1.5 52155 typ host\r\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->protocol, "udp");
  EXPECT_EQ(c->type, CandidateType::kHost);
  EXPECT_EQ(c->ToString(), "candidate:1 1 udp 2122317823 192.168.1.5 52155 typ host");
}

TEST(Candidate, ToStringFormat) {
  Candidate c;
  c.foundation = "abc";
  c.priority = 100;
  c.address = "10.0.0.1";
  c.port = 5000;
  c.type = CandidateType::kServerReflexive;
  c.related_address = "192.168.0.1";
  c.related_port = 4000;
  c.extensions["generation"] = "0";
  c.extensions["ufrag"] = "u";
  EXPECT_EQ(c.ToString(),
            "candidate:abc 1 udp 100 10.0.0.1 5000 typ srflx raddr 192.168.0.1 rport 4000 generation 0 ufrag u");
}

TEST(Candidate, Ipv6AndMdns) {
  auto v6 = Candidate::Parse("candidate:2 1 udp 2122262783 2001:db8::1 9 typ host");
  ASSERT_TRUE(v6.ok());
  ASSERT_TRUE(v6->socket_address().has_value());
  EXPECT_TRUE(v6->socket_address()->is_v6());
  auto mdns = Candidate::Parse(
      "candidate:3 1 udp 2122260223 0f3c7a2e-1b1c-4b8f-9b4e-5d7b0e2a9c11.local 61234 typ host generation 0");
  ASSERT_TRUE(mdns.ok());
  EXPECT_TRUE(mdns->is_mdns());
  EXPECT_FALSE(mdns->socket_address().has_value());
}

TEST(Candidate, TcpCandidate) {
  auto c = Candidate::Parse("candidate:4 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active generation 0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->protocol, "tcp");
  EXPECT_EQ(c->tcptype, "active");
  EXPECT_EQ(Candidate::Parse(c->ToString())->tcptype, "active");
}

// Fuzzer regression: raddr/rport after an extension used to become extensions themselves and
// move on ToString. They are now read anywhere in the tail.
TEST(Candidate, RelatedAddressAfterExtensions) {
  auto c = Candidate::Parse("candidate:1 1 udp 5 1.2.3.4 9 typ srflx generation 0 raddr 10.0.0.1 rport 7");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->related_address, "10.0.0.1");
  EXPECT_EQ(c->related_port, 7);
  EXPECT_EQ(c->extensions.count("rport"), 0u);
  EXPECT_EQ(c->ToString(), "candidate:1 1 udp 5 1.2.3.4 9 typ srflx raddr 10.0.0.1 rport 7 generation 0");
  auto d = Candidate::Parse("candidate:1 1 udp 5 1.2.3.4 9 typ srflx x y rport 7");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*Candidate::Parse(d->ToString()), *d);
}

TEST(Candidate, RejectsMalformed) {
  for (std::string bad : std::vector<std::string>{
           "",
           "candidate:",
           "cand:1 1 udp 1 1.2.3.4 5 typ host",
           "candidate:1 1 udp 1 1.2.3.4 5 typ",
           "candidate:1 1 udp 1 1.2.3.4 5 type host",
           "candidate:1 1 udp 1 1.2.3.4 5 typ bogus",
           "candidate:1 0 udp 1 1.2.3.4 5 typ host",
           "candidate:1 257 udp 1 1.2.3.4 5 typ host",
           "candidate:1 1 udp 4294967296 1.2.3.4 5 typ host",
           "candidate:1 1 udp -1 1.2.3.4 5 typ host",
           "candidate:1 1 udp 1 1.2.3.4 65536 typ host",
           "candidate:1 1 udp 1 1.2.3.4 x typ host",
           "candidate:f*o 1 udp 1 1.2.3.4 5 typ host",
           "candidate:123456789012345678901234567890123 1 udp 1 1.2.3.4 5 typ host",
           "candidate:1 1 udp 1 1.2.3.4 5 typ host generation",
           "candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.1.1.1 rport 99999",
           // Fuzzer regression: control characters inside a field (would not survive ToString).
           "candidate:1 1 udp 1 1.2.3.4 5 typ host ext va\tl",
           std::string("candidate:1 1 udp 1 1.2.3.4 5 typ host ext v") + '\0' + "x",
       }) {
    EXPECT_FALSE(Candidate::Parse(bad).ok()) << bad;
  }
}

TEST(Candidate, PriorityFormulas) {
  // RFC 8445 §5.1.2.1.
  EXPECT_EQ(ComputePriority(CandidateType::kHost, 65535, 1), (126u << 24) + (65535u << 8) + 255u);
  EXPECT_EQ(ComputePriority(CandidateType::kServerReflexive, 0, 1), (100u << 24) + 255u);
  EXPECT_GT(ComputePriority(CandidateType::kPeerReflexive, 0, 1), ComputePriority(CandidateType::kServerReflexive, 65535, 1));
  // RFC 8445 §6.1.2.3.
  EXPECT_EQ(PairPriority(10, 20), (uint64_t{10} << 32) + 40 + 0);
  EXPECT_EQ(PairPriority(20, 10), (uint64_t{10} << 32) + 40 + 1);
}

}  // namespace
}  // namespace refrtc::ice
