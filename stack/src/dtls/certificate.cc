#include "dtls/certificate.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/error.h"
#include "mbedtls/md.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/rsa.h"
#include "mbedtls/x509_crt.h"

namespace refrtc::dtls {

std::string MbedError(int ret) {
  char buf[160];
  mbedtls_strerror(ret, buf, sizeof(buf));
  return absl::StrCat(buf, " (-0x", absl::Hex(-ret), ")");
}

namespace {


// Entropy source for a CTR_DRBG: all randomness comes from the host's Random (sans-IO rule).
int RandomEntropy(void* p, unsigned char* out, size_t len) {
  static_cast<Random*>(p)->Fill(out, len);
  return 0;
}

const mbedtls_md_info_t* MdForAlgorithm(absl::string_view algorithm) {
  std::string a = absl::AsciiStrToLower(algorithm);
  // RFC 8122 §5: hash-func names from the IANA "Hash Function Textual Names" registry.
  if (a == "sha-1") return mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
  if (a == "sha-224") return mbedtls_md_info_from_type(MBEDTLS_MD_SHA224);
  if (a == "sha-256") return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  if (a == "sha-384") return mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
  if (a == "sha-512") return mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
  return nullptr;
}

// X.509 time string "YYYYMMDDhhmmss" (mbedtls_x509write_crt_set_validity format), UTC.
std::string X509Time(int64_t unix_s) {
  int64_t days = unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400);
  int64_t secs = unix_s - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02u%02d%02d%02d", static_cast<int>(y), m, d,
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  return buf;
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms, re-derived here).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

std::optional<Bytes> CertificateDigest(absl::string_view algorithm, ByteView der) {
  const mbedtls_md_info_t* md = MdForAlgorithm(algorithm);
  if (md == nullptr) return std::nullopt;
  Bytes out(mbedtls_md_get_size(md));
  if (mbedtls_md(md, der.data(), der.size(), out.data()) != 0) return std::nullopt;
  return out;
}

std::string FormatFingerprint(ByteView digest) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(digest.size() * 3);
  for (size_t i = 0; i < digest.size(); ++i) {
    if (i) s.push_back(':');
    s.push_back(kHex[digest[i] >> 4]);
    s.push_back(kHex[digest[i] & 15]);
  }
  return s;
}

std::optional<Bytes> ParseFingerprint(absl::string_view value) {
  // RFC 8122 §5: fingerprint = 2UHEX *(":" 2UHEX); lowercase accepted too (RFC 4572 erratum,
  // browsers emit either).
  value = absl::StripAsciiWhitespace(value);
  if (value.empty() || (value.size() + 1) % 3 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  Bytes out;
  for (size_t i = 0; i < value.size(); i += 3) {
    int hi = nibble(value[i]), lo = nibble(value[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i + 2 < value.size() && value[i + 2] != ':') return std::nullopt;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

Certificate::Certificate() {
  mbedtls_x509_crt_init(&crt_);
  mbedtls_pk_init(&pk_);
}

Certificate::~Certificate() {
  mbedtls_x509_crt_free(&crt_);
  mbedtls_pk_free(&pk_);
}

absl::Status Certificate::Load(absl::string_view cert_pem, absl::string_view key_pem) {
  // mbedTLS wants PEM input NUL-terminated with the NUL counted in the length.
  std::string c(cert_pem), k(key_pem);
  int ret = mbedtls_x509_crt_parse(&crt_, reinterpret_cast<const unsigned char*>(c.c_str()), c.size() + 1);
  if (ret != 0) return absl::InvalidArgumentError("certificate parse failed: " + MbedError(ret));
  ret = mbedtls_pk_parse_key(&pk_, reinterpret_cast<const unsigned char*>(k.c_str()), k.size() + 1, nullptr, 0);
  if (ret != 0) return absl::InvalidArgumentError("private key parse failed: " + MbedError(ret));
  ret = mbedtls_pk_check_pair(&crt_.pk, &pk_);
  if (ret != 0) return absl::InvalidArgumentError("private key does not match certificate: " + MbedError(ret));
  cert_pem_ = std::move(c);
  key_pem_ = std::move(k);
  const mbedtls_x509_time& t = crt_.valid_to;
  expires_unix_s_ = DaysFromCivil(t.year, static_cast<unsigned>(t.mon), static_cast<unsigned>(t.day)) * 86400 +
                    t.hour * 3600 + t.min * 60 + t.sec;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Certificate>> Certificate::FromPem(absl::string_view cert_pem,
                                                                  absl::string_view key_pem) {
  std::shared_ptr<Certificate> cert(new Certificate());
  absl::Status s = cert->Load(cert_pem, key_pem);
  if (!s.ok()) return s;
  return cert;
}

// Generates a key with `make_key` and self-signs a certificate for it (shared by the W3C
// generateCertificate algorithms: ECDSA P-256 and RSASSA-PKCS1-v1_5).
absl::StatusOr<std::shared_ptr<Certificate>> Certificate::Generate(
    Random& rng, int64_t unix_now_s, int64_t expires_unix_s,
    const std::function<int(mbedtls_pk_context*, mbedtls_ctr_drbg_context*)>& make_key) {
  // W3C §4.9 allows expires = 0: the certificate exists but is already expired, so the
  // RTCPeerConnection constructor rejects it (InvalidAccessError). Only a past notAfter is refused.
  if (expires_unix_s < unix_now_s) return absl::InvalidArgumentError("certificate would expire before it is made");
  // X.509 times are limited to years 1950..9999 (RFC 5280 §4.1.2.5).
  const int64_t kMin = DaysFromCivil(1950, 1, 2) * 86400, kMax = DaysFromCivil(9999, 12, 31) * 86400;
  int64_t not_before = std::clamp<int64_t>(unix_now_s - 86400, kMin, kMax);
  int64_t not_after = std::clamp<int64_t>(expires_unix_s, kMin, kMax);

  mbedtls_ctr_drbg_context drbg;
  mbedtls_ctr_drbg_init(&drbg);
  mbedtls_pk_context key;
  mbedtls_pk_init(&key);
  mbedtls_x509write_cert wr;
  mbedtls_x509write_crt_init(&wr);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  std::vector<unsigned char> cert_buf(8192), key_buf(8192);
  auto cleanup = [&] {
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&wr);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_platform_zeroize(key_buf.data(), key_buf.size());
  };
  auto fail = [&](absl::string_view what, int ret) {
    cleanup();
    return absl::InternalError(absl::StrCat(what, ": ", MbedError(ret)));
  };

  static const unsigned char kPers[] = "refrtc-certificate";
  int ret = mbedtls_ctr_drbg_seed(&drbg, RandomEntropy, &rng, kPers, sizeof(kPers) - 1);
  if (ret != 0) return fail("ctr_drbg_seed", ret);
  if ((ret = make_key(&key, &drbg)) != 0) return fail("key generation", ret);

  // RFC 5280 §4.1.2.2: serial is a positive integer of at most 20 octets; use 8 random octets.
  unsigned char serial_bytes[8];
  mbedtls_ctr_drbg_random(&drbg, serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] = static_cast<unsigned char>((serial_bytes[0] & 0x7f) | 0x01);
  mbedtls_mpi_read_binary(&serial, serial_bytes, sizeof(serial_bytes));

  mbedtls_x509write_crt_set_version(&wr, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&wr, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&wr, &key);
  mbedtls_x509write_crt_set_issuer_key(&wr, &key);
  if ((ret = mbedtls_x509write_crt_set_subject_name(&wr, "CN=refrtc")) != 0) return fail("subject", ret);
  if ((ret = mbedtls_x509write_crt_set_issuer_name(&wr, "CN=refrtc")) != 0) return fail("issuer", ret);
  if ((ret = mbedtls_x509write_crt_set_serial(&wr, &serial)) != 0) return fail("serial", ret);
  ret = mbedtls_x509write_crt_set_validity(&wr, X509Time(not_before).c_str(), X509Time(not_after).c_str());
  if (ret != 0) return fail("validity", ret);
  ret = mbedtls_x509write_crt_pem(&wr, cert_buf.data(), cert_buf.size(), mbedtls_ctr_drbg_random, &drbg);
  if (ret != 0) return fail("x509write_crt_pem", ret);
  ret = mbedtls_pk_write_key_pem(&key, key_buf.data(), key_buf.size());
  if (ret != 0) return fail("pk_write_key_pem", ret);
  std::string cert_pem(reinterpret_cast<const char*>(cert_buf.data()));
  std::string key_pem(reinterpret_cast<const char*>(key_buf.data()));
  cleanup();

  std::shared_ptr<Certificate> cert(new Certificate());
  absl::Status s = cert->Load(cert_pem, key_pem);
  mbedtls_platform_zeroize(&key_pem[0], key_pem.size());
  if (!s.ok()) return s;
  cert->expires_unix_s_ = expires_unix_s;  // exact value, not the second-rounded X.509 one
  return cert;
}

absl::StatusOr<std::shared_ptr<Certificate>> Certificate::GenerateEcdsaP256(Random& rng, int64_t unix_now_s,
                                                                            int64_t expires_unix_s) {
  return Generate(rng, unix_now_s, expires_unix_s, [](mbedtls_pk_context* key, mbedtls_ctr_drbg_context* drbg) {
    int ret = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret != 0) return ret;
    return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key), mbedtls_ctr_drbg_random, drbg);
  });
}

absl::StatusOr<std::shared_ptr<Certificate>> Certificate::GenerateRsa(Random& rng, int modulus_bits,
                                                                      uint32_t public_exponent, int64_t unix_now_s,
                                                                      int64_t expires_unix_s) {
  if (modulus_bits < 1024 || modulus_bits > 8192 || modulus_bits % 8 != 0)
    return absl::InvalidArgumentError("unsupported RSA modulus length");
  if (public_exponent < 3 || public_exponent % 2 == 0) return absl::InvalidArgumentError("bad RSA public exponent");
  return Generate(rng, unix_now_s, expires_unix_s, [&](mbedtls_pk_context* key, mbedtls_ctr_drbg_context* drbg) {
    int ret = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    if (ret != 0) return ret;
    return mbedtls_rsa_gen_key(mbedtls_pk_rsa(*key), mbedtls_ctr_drbg_random, drbg,
                               static_cast<unsigned>(modulus_bits), static_cast<int>(public_exponent));
  });
}

std::string Certificate::Fingerprint(absl::string_view algorithm) const {
  auto d = CertificateDigest(algorithm, Der());
  return d ? FormatFingerprint(*d) : std::string();
}

}  // namespace refrtc::dtls
