#include "dtls/certificate.h"

#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "util/codec.h"

namespace refrtc::dtls {
namespace {

constexpr int64_t kNow = 1700000000;  // 2023-11-14T22:13:20Z
constexpr int64_t kExpires = kNow + 30 * 86400;

TEST(CalendarTest, RoundTripsKnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2023, 11, 14), kNow / 86400);
  for (int64_t z = -800000; z < 3000000; z += 997) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(z, &y, &m, &d);
    ASSERT_EQ(DaysFromCivil(y, m, d), z);
  }
}

TEST(CertificateTest, GeneratesEcdsaP256WithFingerprints) {
  Random rng(1);
  auto cert = Certificate::GenerateEcdsaP256(rng, kNow, kExpires);
  ASSERT_TRUE(cert.ok()) << cert.status();
  const Certificate& c = **cert;
  EXPECT_EQ(c.expires_unix_s(), kExpires);
  EXPECT_EQ(mbedtls_pk_get_type(c.pk()), MBEDTLS_PK_ECKEY);
  EXPECT_EQ(mbedtls_pk_ec(*c.pk())->grp.id, MBEDTLS_ECP_DP_SECP256R1);
  // Validity: notBefore = now - 1 day, notAfter = expires (UTC).
  EXPECT_EQ(c.crt()->valid_from.year, 2023);
  EXPECT_EQ(c.crt()->valid_from.mon, 11);
  EXPECT_EQ(c.crt()->valid_from.day, 13);
  EXPECT_EQ(c.crt()->valid_from.hour, 22);
  EXPECT_EQ(c.crt()->valid_from.min, 13);
  EXPECT_EQ(c.crt()->valid_to.day, 14);
  EXPECT_EQ(c.crt()->valid_to.mon, 12);
  char subject[128];
  mbedtls_x509_dn_gets(subject, sizeof(subject), &c.crt()->subject);
  EXPECT_EQ(std::string(subject), "CN=refrtc");
  // RFC 8122 §5: uppercase hex pairs separated by colons.
  std::string fp = c.Fingerprint();
  EXPECT_TRUE(std::regex_match(fp, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}"))) << fp;
  EXPECT_EQ(fp, c.Fingerprint("SHA-256"));
  // The sha-256 fingerprint is the digest of the DER encoding.
  std::string hex = Sha256Hex(c.Der());
  std::string joined;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i) joined += ':';
    joined += static_cast<char>(std::toupper(hex[i]));
    joined += static_cast<char>(std::toupper(hex[i + 1]));
  }
  EXPECT_EQ(fp, joined);
  EXPECT_EQ(c.Fingerprint("sha-1").size(), 20u * 3 - 1);
  EXPECT_EQ(c.Fingerprint("sha-384").size(), 48u * 3 - 1);
  EXPECT_EQ(c.Fingerprint("sha-512").size(), 64u * 3 - 1);
  EXPECT_EQ(c.Fingerprint("md5"), "");
  EXPECT_EQ(c.Fingerprint("bogus"), "");
}

TEST(CertificateTest, DifferentRandomGivesDifferentCertificates) {
  Random a(1), b(2);
  auto c1 = Certificate::GenerateEcdsaP256(a, kNow, kExpires);
  auto c2 = Certificate::GenerateEcdsaP256(b, kNow, kExpires);
  ASSERT_TRUE(c1.ok() && c2.ok());
  EXPECT_NE((*c1)->Fingerprint(), (*c2)->Fingerprint());
  EXPECT_NE((*c1)->KeyPem(), (*c2)->KeyPem());
}

TEST(CertificateTest, PemRoundTripKeepsFingerprint) {
  Random rng(7);
  auto cert = Certificate::GenerateEcdsaP256(rng, kNow, kExpires);
  ASSERT_TRUE(cert.ok());
  EXPECT_NE((*cert)->CertPem().find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE((*cert)->KeyPem().find("PRIVATE KEY-----"), std::string::npos);
  auto loaded = Certificate::FromPem((*cert)->CertPem(), (*cert)->KeyPem());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Fingerprint(), (*cert)->Fingerprint());
  EXPECT_EQ((*loaded)->Fingerprint("sha-512"), (*cert)->Fingerprint("sha-512"));
  EXPECT_EQ((*loaded)->expires_unix_s(), kExpires);
  EXPECT_EQ((*loaded)->CertPem(), (*cert)->CertPem());
}

TEST(CertificateTest, FromPemRejectsGarbageAndMismatchedKey) {
  Random rng(9);
  auto a = Certificate::GenerateEcdsaP256(rng, kNow, kExpires);
  auto b = Certificate::GenerateEcdsaP256(rng, kNow, kExpires);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(Certificate::FromPem("not a cert", (*a)->KeyPem()).ok());
  EXPECT_FALSE(Certificate::FromPem((*a)->CertPem(), "not a key").ok());
  auto mixed = Certificate::FromPem((*a)->CertPem(), (*b)->KeyPem());
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(std::string(mixed.status().message()).find("does not match"), std::string::npos);
}

TEST(CertificateTest, RejectsExpiryInThePast) {
  Random rng(3);
  EXPECT_FALSE(Certificate::GenerateEcdsaP256(rng, kNow, kNow - 1).ok());
}

TEST(FingerprintTest, ParseAndFormat) {
  auto b = ParseFingerprint("ab:CD:01");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, (Bytes{0xab, 0xcd, 0x01}));
  EXPECT_EQ(FormatFingerprint(*b), "AB:CD:01");
  EXPECT_FALSE(ParseFingerprint("").has_value());
  EXPECT_FALSE(ParseFingerprint("AB:C").has_value());
  EXPECT_FALSE(ParseFingerprint("AB-CD").has_value());
  EXPECT_FALSE(ParseFingerprint("GG").has_value());
  EXPECT_FALSE(ParseFingerprint("ABCD").has_value());
}

}  // namespace
}  // namespace refrtc::dtls
