#include "mdns/dns_message.h"

#include <gtest/gtest.h>

namespace refrtc::mdns {
namespace {

constexpr char kName[] = "3e1d5c0e-8b2a-4a4c-9f0e-0123456789ab.local";

// Appends a name as uncompressed labels.
void PutName(Bytes& b, const std::string& name) {
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.push_back(static_cast<uint8_t>(dot - start));
    b.insert(b.end(), name.begin() + start, name.begin() + dot);
    start = dot + 1;
  }
  b.push_back(0);
}

// The shape of Chromium's mDNS responder answer (services/network mdns responder): id 0,
// flags 0x8400 (QR|AA), no question, one A record with cache-flush set, TTL 120.
Bytes ChromiumStyleResponse(const std::string& name, std::array<uint8_t, 4> ip) {
  Bytes b = {0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
  PutName(b, name);
  Bytes tail = {0x00, 0x01, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x04};
  b.insert(b.end(), tail.begin(), tail.end());
  b.insert(b.end(), ip.begin(), ip.end());
  return b;
}

TEST(DnsMessage, QueryWireFormat) {
  Bytes q = BuildQuery("ab.local", kTypeAaaa, /*unicast_response=*/true);
  Bytes want = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,  // header: id 0, flags 0, QDCOUNT 1
                2, 'a', 'b', 5, 'l', 'o', 'c', 'a', 'l', 0,
                0x00, 0x1c,   // AAAA
                0x80, 0x01};  // QU | IN
  EXPECT_EQ(q, want);
  auto m = Message::Parse(q);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->is_response());
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(m->questions[0].name, "ab.local");
  EXPECT_EQ(m->questions[0].type, kTypeAaaa);
  EXPECT_EQ(m->questions[0].klass, kClassIn);
  EXPECT_TRUE(m->questions[0].unicast_response);
}

TEST(DnsMessage, ParsesChromiumStyleResponse) {
  auto m = Message::Parse(ChromiumStyleResponse(kName, {192, 0, 2, 2}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->is_response());
  EXPECT_EQ(m->opcode(), 0);
  EXPECT_EQ(m->rcode(), 0);
  EXPECT_TRUE(m->questions.empty());
  ASSERT_EQ(m->answers.size(), 1u);
  const ResourceRecord& rr = m->answers[0];
  EXPECT_EQ(rr.name, kName);
  EXPECT_EQ(rr.type, kTypeA);
  EXPECT_EQ(rr.klass, kClassIn);
  EXPECT_TRUE(rr.cache_flush);
  EXPECT_EQ(rr.ttl, 120u);
  ASSERT_TRUE(rr.address().has_value());
  EXPECT_EQ(rr.address()->ToString(), "192.0.2.2:0");
}

TEST(DnsMessage, FollowsCompressionPointersAndSkipsOtherTypes) {
  // Question "host.local" AAAA; answer 1: PTR whose owner is a pointer to the question name;
  // answer 2: AAAA with owner "x" + pointer to "local" (offset 17).
  Bytes b = {0, 0, 0x84, 0, 0, 1, 0, 2, 0, 0, 0, 0};
  PutName(b, "host.local");  // offsets 12..23: 4 host 5 local 0  ("local" label at 17)
  b.insert(b.end(), {0x00, 0x1c, 0x00, 0x01});
  b.insert(b.end(), {0xc0, 12, 0x00, 0x0c, 0x00, 0x01, 0, 0, 0, 10, 0x00, 0x02, 0xc0, 12});  // PTR
  b.insert(b.end(), {1, 'x', 0xc0, 17, 0x00, 0x1c, 0x80, 0x01, 0, 0, 0, 60, 0x00, 0x10});
  std::array<uint8_t, 16> v6 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  b.insert(b.end(), v6.begin(), v6.end());
  auto m = Message::Parse(b);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->answers.size(), 2u);
  EXPECT_EQ(m->answers[0].name, "host.local");
  EXPECT_EQ(m->answers[0].type, kTypePtr);
  EXPECT_FALSE(m->answers[0].address().has_value());  // not A/AAAA: skipped by callers
  EXPECT_EQ(m->answers[1].name, "x.local");
  ASSERT_TRUE(m->answers[1].address().has_value());
  EXPECT_EQ(m->answers[1].address()->IpString(), "fd00::2");
}

TEST(DnsMessage, RejectsLoopsForwardPointersAndBadLabels) {
  Bytes header = {0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  auto with = [&](Bytes name) {
    Bytes b = header;
    b.insert(b.end(), name.begin(), name.end());
    b.insert(b.end(), {0, 1, 0, 1});
    return Message::Parse(b);
  };
  EXPECT_FALSE(with({0xc0, 12}).ok());                 // points at itself
  EXPECT_FALSE(with({1, 'a', 0xc0, 12}).ok());         // points back into its own run: loop
  EXPECT_FALSE(with({0xc0, 40}).ok());                 // forward pointer
  EXPECT_FALSE(with({0xc0}).ok());                     // truncated pointer
  EXPECT_FALSE(with({0x40, 0}).ok());                  // reserved label type 01
  EXPECT_FALSE(with({0x80, 0}).ok());                  // reserved label type 10
  EXPECT_FALSE(with({5, 'a', 'b'}).ok());              // label past the end
  Bytes long_name;
  for (int i = 0; i < 5; ++i) {
    long_name.push_back(63);
    long_name.insert(long_name.end(), 63, 'a');
  }
  long_name.push_back(0);
  EXPECT_FALSE(with(long_name).ok());  // 321 octets > 255
  EXPECT_TRUE(with({1, 'a', 0}).ok());
}

TEST(DnsMessage, RejectsTruncationAndTooManyRecords) {
  Bytes r = ChromiumStyleResponse(kName, {10, 0, 0, 1});
  for (size_t n = 0; n < r.size(); ++n)
    EXPECT_FALSE(Message::Parse(ByteView(r.data(), n)).ok()) << "prefix of " << n;
  Bytes many = {0, 0, 0x84, 0, 0x01, 0x00, 0, 0, 0, 0, 0, 0};  // 256 questions: at the cap
  for (int i = 0; i < 256; ++i) many.insert(many.end(), {0, 0, 1, 0, 1});
  EXPECT_TRUE(Message::Parse(many).ok());
  many[7] = 1;  // +1 answer
  EXPECT_EQ(Message::Parse(many).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(DnsMessage, SerializeRoundTripsAndValidatesNames) {
  Message m;
  m.id = 0x1234;
  m.flags = kFlagQr | kFlagAa;
  m.questions.push_back({"a\\.b.local", kTypeA, kClassIn, false});
  ResourceRecord rr;
  rr.name = "Host.Local";
  rr.type = kTypeA;
  rr.cache_flush = true;
  rr.ttl = 4500;
  rr.rdata = {10, 1, 2, 3};
  m.answers.push_back(rr);
  rr.type = kTypeTxt;
  rr.rdata = {3, 'a', '=', 'b'};
  m.additionals.push_back(rr);
  auto bytes = m.Serialize();
  ASSERT_TRUE(bytes.ok());
  auto back = Message::Parse(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, 0x1234);
  EXPECT_EQ(back->questions[0].name, "a\\.b.local");  // the dot inside a label survives
  ASSERT_EQ(back->answers.size(), 1u);
  EXPECT_EQ(back->answers[0].address()->IpString(), "10.1.2.3");
  EXPECT_TRUE(back->answers[0].cache_flush);
  EXPECT_EQ(back->additionals[0].rdata, rr.rdata);
  EXPECT_TRUE(NameEquals(back->answers[0].name, "host.local."));
  EXPECT_FALSE(NameEquals("host.local", "host2.local"));

  Message bad;
  bad.questions.push_back({"a..local", kTypeA, kClassIn, false});
  EXPECT_FALSE(bad.Serialize().ok());
  bad.questions[0].name = std::string(64, 'a') + ".local";
  EXPECT_FALSE(bad.Serialize().ok());
  EXPECT_TRUE(BuildQuery(std::string(64, 'a') + ".local", kTypeA, false).empty());
}

TEST(DnsMessage, Groups) {
  EXPECT_EQ(GroupV4().ToString(), "224.0.0.251:5353");
  EXPECT_EQ(GroupV6().ToString(), "[ff02::fb]:5353");
  EXPECT_TRUE(IsMdnsGroup(GroupV6()));
  EXPECT_FALSE(IsMdnsGroup(*SocketAddress::Parse("224.0.0.250", 5353)));
}

}  // namespace
}  // namespace refrtc::mdns
