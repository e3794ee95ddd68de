#include <gtest/gtest.h>

#include "util/bytes.h"
#include "util/codec.h"
#include "util/dom_exception.h"
#include "util/socket_address.h"

namespace refrtc {
namespace {

TEST(Crc32, KnownVector) { EXPECT_EQ(Crc32(AsBytes("123456789")), 0xCBF43926u); }

TEST(Base64, RoundTrip) {
  EXPECT_EQ(Base64Encode(AsBytes("hello")), "aGVsbG8=");
  auto d = Base64Decode("aGVsbG8=");
  ASSERT_TRUE(d);
  EXPECT_EQ(AsString(*d), "hello");
  EXPECT_EQ(Base64Encode({}), "");
  EXPECT_FALSE(Base64Decode("!!!"));
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(Sha256Hex(AsBytes("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ByteReader, BoundsChecked) {
  Bytes b = {1, 2, 3};
  ByteReader r(b);
  EXPECT_EQ(r.U16(), 0x0102);
  EXPECT_FALSE(r.U16());
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.U8());  // stays failed
}

TEST(SocketAddress, ParseAndFormat) {
  auto a = SocketAddress::Parse("127.0.0.1", 5000);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->is_loopback());
  EXPECT_EQ(a->ToString(), "127.0.0.1:5000");
  auto b = SocketAddress::ParseHostPort("[::1]:9");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->is_v6());
  EXPECT_EQ(b->ToString(), "[::1]:9");
  EXPECT_FALSE(SocketAddress::Parse("foo.local", 1).ok());
}

TEST(DomException, NamesSurvive) {
  EXPECT_EQ(DomErrorName(InvalidStateError("x")), "InvalidStateError");
  EXPECT_EQ(DomErrorName(InvalidModificationError("x")), "InvalidModificationError");
  EXPECT_EQ(DomErrorName(absl::InvalidArgumentError("x")), "TypeError");
  EXPECT_EQ(DomErrorName(absl::OkStatus()), "");
}

}  // namespace
}  // namespace refrtc
