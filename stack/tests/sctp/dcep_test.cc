#include "sctp/dcep.h"

#include <gtest/gtest.h>

namespace refrtc::sctp {
namespace {

TEST(Dcep, OpenRoundTrip) {
  DcepOpen open;
  open.channel_type = kChannelPartialReliableRexmitUnordered;
  open.priority = 512;
  open.reliability_param = 7;
  open.label = "chat";
  open.protocol = "proto/1";
  Bytes wire = Serialize(open);
  ASSERT_EQ(wire.size(), 12u + 4 + 7);
  // RFC 8832 §5.1 layout.
  EXPECT_EQ(wire[0], 0x03);
  EXPECT_EQ(wire[1], 0x81);
  EXPECT_EQ(wire[2], 0x02);
  EXPECT_EQ(wire[3], 0x00);
  EXPECT_EQ(wire[7], 7);
  EXPECT_EQ(wire[9], 4);   // label length
  EXPECT_EQ(wire[11], 7);  // protocol length
  EXPECT_EQ(std::string(wire.begin() + 12, wire.begin() + 16), "chat");
  auto parsed = ParseDcep(wire);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(std::holds_alternative<DcepOpen>(*parsed));
  EXPECT_EQ(std::get<DcepOpen>(*parsed), open);
}

TEST(Dcep, KnownBytesParse) {
  // OPEN, reliable, priority 256, no label, protocol "x".
  Bytes wire = {0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 'x'};
  auto parsed = ParseDcep(wire);
  ASSERT_TRUE(parsed.ok());
  const auto& open = std::get<DcepOpen>(*parsed);
  EXPECT_EQ(open.channel_type, kChannelReliable);
  EXPECT_EQ(open.priority, 256);
  EXPECT_EQ(open.label, "");
  EXPECT_EQ(open.protocol, "x");
}

TEST(Dcep, Ack) {
  Bytes ack = SerializeAck();
  ASSERT_EQ(ack, Bytes{0x02});
  auto parsed = ParseDcep(ack);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(std::holds_alternative<DcepAck>(*parsed));
  EXPECT_FALSE(ParseDcep(Bytes{0x02, 0x00}).ok());  // trailing bytes
}

TEST(Dcep, RejectsEveryTruncation) {
  DcepOpen open;
  open.label = "label";
  open.protocol = "protocol";
  Bytes wire = Serialize(open);
  for (size_t n = 0; n < wire.size(); ++n) {
    EXPECT_FALSE(ParseDcep(ByteView(wire.data(), n)).ok()) << "length " << n;
  }
  Bytes longer = wire;
  longer.push_back(0);
  EXPECT_FALSE(ParseDcep(longer).ok());
}

TEST(Dcep, RejectsUnknownTypes) {
  EXPECT_FALSE(ParseDcep(Bytes{}).ok());
  EXPECT_FALSE(ParseDcep(Bytes{0x01}).ok());
  EXPECT_FALSE(ParseDcep(Bytes{0xff}).ok());
  // Channel type 0x03 is not defined.
  Bytes bad = {0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(ParseDcep(bad).ok());
  bad[1] = 0x82;
  EXPECT_TRUE(ParseDcep(bad).ok());
}

TEST(Dcep, LengthFieldsPastEnd) {
  // Label length says 0xffff, only 3 bytes follow.
  Bytes wire = {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 'a', 'b', 'c'};
  EXPECT_FALSE(ParseDcep(wire).ok());
  // Protocol length past end.
  Bytes wire2 = {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 5, 'a', 'b'};
  EXPECT_FALSE(ParseDcep(wire2).ok());
}

}  // namespace
}  // namespace refrtc::sctp
