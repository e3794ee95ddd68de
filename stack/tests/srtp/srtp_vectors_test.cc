// Known-answer tests for SrtpSession. libsrtp always derives session keys from a master key (RFC 3711
// §4.3), while the RFC 7714 §16 vectors are stated for session keys. So a small independent reference
// (mbedTLS AES/GCM/HMAC) of the RFC 3711 KDF, AES-CM + HMAC-SHA1 and RFC 7714 AES-GCM packet
// transforms is first pinned to the published vectors (RFC 3711 Appendix B.3, RFC 7714 §16.1.1, and
// libsrtp's own test/srtp_driver.c vector), then SrtpSession's output is compared with it byte for
// byte, including packets after a ROC increment.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "mbedtls/aes.h"
#include "mbedtls/gcm.h"
#include "mbedtls/md.h"
#include "srtp/srtp_session.h"

namespace refrtc::srtp {
namespace {

Bytes Hex(absl::string_view hex) {
  std::string s = absl::HexStringToBytes(hex);
  return Bytes(s.begin(), s.end());
}
Bytes Concat(const Bytes& a, const Bytes& b) {
  Bytes r = a;
  r.insert(r.end(), b.begin(), b.end());
  return r;
}
Bytes Slice(const Bytes& b, size_t from, size_t n) { return Bytes(b.begin() + from, b.begin() + from + n); }

// AES-128 in counter mode from a 16-byte initial counter block (RFC 3711 §4.1.1).
Bytes AesCtr(const Bytes& key, const uint8_t iv[16], const Bytes& in) {
  mbedtls_aes_context aes;
  mbedtls_aes_init(&aes);
  mbedtls_aes_setkey_enc(&aes, key.data(), 128);
  uint8_t counter[16], stream[16];
  std::memcpy(counter, iv, 16);
  size_t off = 0;
  Bytes out(in.size());
  if (!in.empty()) mbedtls_aes_crypt_ctr(&aes, in.size(), &off, counter, stream, in.data(), out.data());
  mbedtls_aes_free(&aes);
  return out;
}

// RFC 3711 §4.3.1/§4.3.3 with key_derivation_rate 0: x = label XOR'd into the master salt (padded
// with zeros to 112 bits, as libsrtp and RFC 7714 §11's 96-bit salts), keystream from x·2^16.
Bytes Kdf(const Bytes& master_key, const Bytes& master_salt, uint8_t label, size_t n) {
  uint8_t iv[16] = {};
  std::memcpy(iv, master_salt.data(), master_salt.size());
  iv[7] ^= label;
  return AesCtr(master_key, iv, Bytes(n, 0));
}

size_t HeaderLen(const Bytes& rtp) {
  auto h = RtpHeaderLength(rtp);
  EXPECT_TRUE(h.ok());
  return h.ok() ? *h : 0;
}

// RFC 3711 §3.1, §4.1.1, §4.2: AES-CM payload encryption + HMAC-SHA1 tag over packet ‖ ROC.
Bytes RefCmProtect(const Bytes& master_key, const Bytes& master_salt, const Bytes& rtp, uint32_t roc,
                   size_t tag_len) {
  const Bytes k_e = Kdf(master_key, master_salt, 0, 16), k_a = Kdf(master_key, master_salt, 1, 20),
              k_s = Kdf(master_key, master_salt, 2, 14);
  const size_t h = HeaderLen(rtp);
  uint8_t iv[16] = {};
  std::memcpy(iv, k_s.data(), 14);
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= rtp[8 + i];  // SSRC · 2^64
  const uint64_t index = static_cast<uint64_t>(roc) << 16 | (rtp[2] << 8 | rtp[3]);
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));  // i · 2^16
  Bytes out = Concat(Slice(rtp, 0, h), AesCtr(k_e, iv, Slice(rtp, h, rtp.size() - h)));
  Bytes authed = out;
  for (int i = 0; i < 4; ++i) authed.push_back(static_cast<uint8_t>(roc >> (24 - 8 * i)));
  uint8_t mac[20];
  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), k_a.data(), k_a.size(), authed.data(),
                  authed.size(), mac);
  out.insert(out.end(), mac, mac + tag_len);
  return out;
}

// RFC 7714 §8.1 IV = (00 00 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt, §8.2 AAD = header, 16-octet tag appended.
Bytes RefGcmProtectWithSessionKeys(const Bytes& k_e, const Bytes& k_s, const Bytes& rtp, uint32_t roc) {
  const size_t h = HeaderLen(rtp);
  uint8_t iv[12] = {};
  for (int i = 0; i < 4; ++i) iv[2 + i] = rtp[8 + i];
  for (int i = 0; i < 4; ++i) iv[6 + i] = static_cast<uint8_t>(roc >> (24 - 8 * i));
  iv[10] = rtp[2];
  iv[11] = rtp[3];
  for (int i = 0; i < 12; ++i) iv[i] ^= k_s[i];
  mbedtls_gcm_context gcm;
  mbedtls_gcm_init(&gcm);
  mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, k_e.data(), 128);
  Bytes out(rtp.size() + 16);
  std::memcpy(out.data(), rtp.data(), h);
  mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, rtp.size() - h, iv, 12, rtp.data(), h, rtp.data() + h,
                            out.data() + h, 16, out.data() + rtp.size());
  mbedtls_gcm_free(&gcm);
  return out;
}

Bytes RefGcmProtect(const Bytes& master_key, const Bytes& master_salt, const Bytes& rtp, uint32_t roc) {
  return RefGcmProtectWithSessionKeys(Kdf(master_key, master_salt, 0, 16), Kdf(master_key, master_salt, 2, 12),
                                      rtp, roc);
}

// RFC 3711 Appendix B.3 (also the first 30 bytes of `test_key` in libsrtp's test/srtp_driver.c).
const Bytes kB3Key = Hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Bytes kB3Salt = Hex("0EC675AD498AFEEBB6960B3AABE6");

// RFC 7714 §16: key 00..0f, salt "Quid pro quo", the RTP packet "Gallia est omnis divisa in partes tres".
const Bytes kGcmKey = Hex("000102030405060708090a0b0c0d0e0f");
const Bytes kGcmSalt = Hex("517569642070726f2071756f");
const Bytes kGcmRtp = Hex("8040f17b8041f8d35501a0b2"
                          "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573");

bool GcmSupported() {
  return SrtpSession::Create(Profile::kAeadAes128Gcm, Direction::kProtect, kGcmKey, kGcmSalt).status().code() !=
         absl::StatusCode::kUnimplemented;
}

TEST(SrtpReference, KdfMatchesRfc3711AppendixB3) {
  EXPECT_EQ(Kdf(kB3Key, kB3Salt, 0, 16), Hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(Kdf(kB3Key, kB3Salt, 1, 20), Hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
  EXPECT_EQ(Kdf(kB3Key, kB3Salt, 2, 14), Hex("30CBBC08863D8C85D49DB34A9AE1"));
}

TEST(SrtpReference, GcmMatchesRfc7714Section16_1_1) {
  // The vector is for session key/salt directly (ROC 0, SEQ 0xf17b, SSRC 0x5501a0b2).
  EXPECT_EQ(RefGcmProtectWithSessionKeys(kGcmKey, kGcmSalt, kGcmRtp, 0),
            Hex("8040f17b8041f8d35501a0b2"
                "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
                "899d7f27beb16a9152cf765ee4390cce"));
}

// libsrtp test/srtp_driver.c srtp_validate(): srtp_plaintext_ref → srtp_ciphertext under `test_key`
// (AES_CM_128_HMAC_SHA1_80, SSRC 0xcafebabe, SEQ 0x1234).
const Bytes kDriverPlain = Hex("800f1234decafbadcafebabe" "abababababababababababababababab");
const Bytes kDriverCipher = Hex("800f1234decafbadcafebabe" "4e55dc4ce79978d88ca4d215949d2402" "b78d6acc99ea179b8dbb");

TEST(SrtpReference, CmMatchesLibsrtpDriverVector) {
  EXPECT_EQ(RefCmProtect(kB3Key, kB3Salt, kDriverPlain, 0, 10), kDriverCipher);
}

TEST(SrtpVectors, LibsrtpDriverRtpVector) {
  auto tx = SrtpSession::Create(Profile::kAes128CmHmacSha1_80, Direction::kProtect, kB3Key, kB3Salt);
  auto rx = SrtpSession::Create(Profile::kAes128CmHmacSha1_80, Direction::kUnprotect, kB3Key, kB3Salt);
  ASSERT_TRUE(tx.ok() && rx.ok());
  Bytes p = kDriverPlain;
  ASSERT_TRUE(tx->ProtectRtp(p).ok());
  EXPECT_EQ(p, kDriverCipher);
  ASSERT_TRUE(rx->UnprotectRtp(p).ok());
  EXPECT_EQ(p, kDriverPlain);
}

// Same source: rtcp_plaintext_ref → srtcp_ciphertext (E=1, SRTCP index 1: libsrtp's first).
TEST(SrtpVectors, LibsrtpDriverRtcpVector) {
  const Bytes plain = Hex("81c8000bcafebabe" "abababababababababababababababab");
  const Bytes cipher = Hex("81c8000bcafebabe" "7128035be487b9bdbef89041f977a5a8" "80000001" "993e08cd54d6c1230798");
  auto tx = SrtpSession::Create(Profile::kAes128CmHmacSha1_80, Direction::kProtect, kB3Key, kB3Salt);
  auto rx = SrtpSession::Create(Profile::kAes128CmHmacSha1_80, Direction::kUnprotect, kB3Key, kB3Salt);
  ASSERT_TRUE(tx.ok() && rx.ok());
  Bytes p = plain;
  ASSERT_TRUE(tx->ProtectRtcp(p).ok());
  EXPECT_EQ(p, cipher);
  ASSERT_TRUE(rx->UnprotectRtcp(p).ok());
  EXPECT_EQ(p, plain);
}

// End to end for AEAD_AES_128_GCM: the RFC 7714 §16 key/salt used as the *master* key/salt, the RFC
// packet protected by SrtpSession equals the reference (KDF + RFC 7714 transform pinned above).
TEST(SrtpVectors, GcmEndToEndAgainstReference) {
  if (!GcmSupported()) GTEST_SKIP() << "linked libsrtp build has no AES-GCM";
  auto tx = SrtpSession::Create(Profile::kAeadAes128Gcm, Direction::kProtect, kGcmKey, kGcmSalt);
  auto rx = SrtpSession::Create(Profile::kAeadAes128Gcm, Direction::kUnprotect, kGcmKey, kGcmSalt);
  ASSERT_TRUE(tx.ok() && rx.ok());
  Bytes p = kGcmRtp;
  ASSERT_TRUE(tx->ProtectRtp(p).ok());
  EXPECT_EQ(p, RefGcmProtect(kGcmKey, kGcmSalt, kGcmRtp, 0));
  EXPECT_EQ(p.size(), kGcmRtp.size() + 16);
  ASSERT_TRUE(rx->UnprotectRtp(p).ok());
  EXPECT_EQ(p, kGcmRtp);
}

// The ROC (RFC 3711 §3.3.1) enters the keystream/IV and the HMAC: after SEQ wraps, SrtpSession must
// produce what the reference does with ROC 1, for both transforms.
TEST(SrtpVectors, RocAfterSequenceWrapMatchesReference) {
  for (Profile profile : {Profile::kAes128CmHmacSha1_80, Profile::kAes128CmHmacSha1_32, Profile::kAeadAes128Gcm}) {
    if (profile == Profile::kAeadAes128Gcm && !GcmSupported()) continue;
    SCOPED_TRACE(ProfileName(profile));
    const Bytes salt = profile == Profile::kAeadAes128Gcm ? kGcmSalt : kB3Salt;
    auto tx = SrtpSession::Create(profile, Direction::kProtect, kB3Key, salt);
    ASSERT_TRUE(tx.ok());
    uint32_t roc = 0;
    for (uint32_t i = 0; i < 65536 + 5; ++i) {
      const uint16_t seq = static_cast<uint16_t>(65530 + i);
      if (seq == 0) ++roc;
      Bytes rtp = Hex("80e1000000000064deadbeef0102030405060708");
      rtp[2] = static_cast<uint8_t>(seq >> 8);
      rtp[3] = static_cast<uint8_t>(seq);
      const Bytes plain = rtp;
      ASSERT_TRUE(tx->ProtectRtp(rtp).ok());
      if (i < 3 || (roc == 1 && (seq < 3 || seq > 65530))) {
        const Bytes want = profile == Profile::kAeadAes128Gcm
                               ? RefGcmProtect(kB3Key, salt, plain, roc)
                               : RefCmProtect(kB3Key, salt, plain, roc, profile == Profile::kAes128CmHmacSha1_80 ? 10 : 4);
        ASSERT_EQ(rtp, want) << "seq " << seq << " roc " << roc;
      }
    }
    EXPECT_EQ(roc, 1u);
  }
}

}  // namespace
}  // namespace refrtc::srtp
