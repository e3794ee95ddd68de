#include "native_driver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "../../src/json_depth.h"
#include "engine/transport_stack.h"
#include "refrtc/rtc_json.h"
#include "refrtc/test_identity_provider.h"
#include "util/codec.h"
#include "util/dom_exception.h"

namespace refrtc::driver {
namespace {

constexpr uint64_t kSendManyHighWater = 1 << 20;   // bytes buffered before waiting
constexpr uint64_t kSendManyLowWater = 256 << 10;  // resume below this (bufferedamountlow)
constexpr size_t kInlineMessageMax = 64 << 10;     // larger messages are reported as size+sha256
constexpr uint64_t kSendManyMaxSize = 64 << 20;     // sendMany message size limit (allocated per message)

json Error(absl::string_view name, absl::string_view message) {
  return json{{"name", std::string(name)}, {"message", std::string(message)}};
}

json DescriptionJson(const std::optional<RTCSessionDescription>& d) { return RTCSessionDescriptionToJson(d); }

// WebIDL "ConvertToInt" for unsigned long (bits 32) / unsigned long long (bits 64) without
// [EnforceRange]: truncate, then modulo 2^bits; NaN/infinity → 0 (none reach here from JSON). A
// plain static_cast of an out-of-range double is undefined behaviour — and nlohmann::json's
// get<uint32_t>() of a float is exactly that cast, so protocol numbers come through here (issue F:
// the driver-command fuzzer sends 1e300). Non-numbers are a TypeError.
absl::StatusOr<uint64_t> ToUnsigned(const json& v, int bits, absl::string_view what) {
  if (!v.is_number()) return TypeError(absl::StrCat(what, " must be a number"));
  const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  if (v.is_number_unsigned()) return v.get<uint64_t>() & mask;
  if (v.is_number_integer()) return static_cast<uint64_t>(v.get<int64_t>()) & mask;  // two's complement: mod 2^64
  double d = std::trunc(v.get<double>());
  if (!std::isfinite(d)) return uint64_t{0};
  const double modulus = bits >= 64 ? 18446744073709551616.0 : std::ldexp(1.0, bits);
  double m = std::fmod(d, modulus);  // exact
  if (m < 0) m += modulus;
  if (m >= modulus) m = 0;  // -tiny + 2^64 rounded up to 2^64
  return static_cast<uint64_t>(m) & mask;
}

// Commands nested deeper than this are refused before parsing (json_depth.h).
constexpr int kMaxJsonDepth = 64;

// A count or size in the protocol's own ops (sendMany): a non-negative JSON integer.
absl::StatusOr<uint64_t> Count(const json& cmd, const char* key) {
  if (!cmd.contains(key) || !cmd[key].is_number_unsigned())
    return TypeError(absl::StrCat(key, " must be a non-negative integer"));
  return cmd[key].get<uint64_t>();
}

// Certificates in a DRIVER_PROTOCOL config are handles from generateCertificate (refrtc extension
// of v1, feature "certificates").
absl::StatusOr<RTCConfiguration> ParseConfig(
    const json& j, const std::map<std::string, std::shared_ptr<RTCCertificate>>& certificates) {
  return RTCConfigurationFromJson(j, [&](const json& h) -> absl::StatusOr<std::shared_ptr<RTCCertificate>> {
    auto it = h.is_string() ? certificates.find(h.get<std::string>()) : certificates.end();
    if (it == certificates.end()) return NotFoundError(absl::StrCat("unknown certificate ", h.dump()));
    return it->second;
  });
}

// W3C §4.9 generateCertificate(keygenAlgorithm) with the WebCrypto AlgorithmIdentifier as JSON:
// a name string, or {"name", "namedCurve"} (ECDSA) / {"name", "modulusLength", "publicExponent",
// "hash"} (RSASSA-PKCS1-v1_5), plus RTCCertificateExpiration "expires" (ms). publicExponent is the
// Uint8Array's bytes, big-endian: [1, 0, 1] or JSON.stringify's {"0": 1, "1": 0, "2": 1}; hash a
// name or {"name"}. Names compare ASCII case-insensitively (WebCrypto normalization); "ECDSA" alone
// means P-256 (refrtc leniency, the default algorithm). Missing required members and wrong types are
// TypeError; unsupported values NotSupportedError (RTCKeygenAlgorithm::CheckSupported).
absl::Status ParseKeygenAlgorithm(const json& alg, RTCKeygenAlgorithm* out, int64_t* expires_ms) {
  *out = RTCKeygenAlgorithm();
  *expires_ms = RTCCertificate::kDefaultExpiresMs;
  if (!alg.is_string() && !alg.is_object()) return TypeError("keygenAlgorithm must be a string or an object");
  if (alg.is_object() && (!alg.contains("name") || !alg["name"].is_string()))
    return TypeError("keygenAlgorithm.name is required");
  std::string name = alg.is_string() ? alg.get<std::string>() : alg["name"].get<std::string>();
  if (absl::EqualsIgnoreCase(name, "ECDSA")) {
    out->name = RTCKeygenAlgorithm::Name::kEcdsa;
    if (alg.is_object() && alg.contains("namedCurve")) {
      if (!alg["namedCurve"].is_string()) return TypeError("namedCurve must be a string");
      out->namedCurve = alg["namedCurve"].get<std::string>();
    }
  } else if (absl::EqualsIgnoreCase(name, "RSASSA-PKCS1-v1_5")) {
    out->name = RTCKeygenAlgorithm::Name::kRsassaPkcs1v15;
    if (!alg.is_object()) return TypeError("RsaHashedKeyGenParams: modulusLength, publicExponent and hash are required");
    const json& m = alg.value("modulusLength", json());
    if (!m.is_number() || m.get<double>() < 0 || m.get<double>() > 4294967295.0)
      return TypeError("RsaKeyGenParams.modulusLength must be an unsigned long");
    out->modulusLength = static_cast<uint32_t>(m.get<double>());
    const json& e = alg.value("publicExponent", json());
    std::vector<json> bytes;
    if (e.is_array()) {
      bytes.assign(e.begin(), e.end());
    } else if (e.is_object()) {  // JSON.stringify(new Uint8Array([1, 0, 1]))
      for (size_t i = 0; e.contains(std::to_string(i)); ++i) bytes.push_back(e[std::to_string(i)]);
      if (bytes.size() != e.size()) return TypeError("RsaKeyGenParams.publicExponent must be a Uint8Array");
    } else {
      return TypeError("RsaKeyGenParams.publicExponent must be a Uint8Array (BigInteger)");
    }
    uint64_t exponent = 0;
    for (const json& b : bytes) {
      if (!b.is_number_integer() || b.get<int64_t>() < 0 || b.get<int64_t>() > 255)
        return TypeError("RsaKeyGenParams.publicExponent bytes must be 0..255");
      if (exponent >> 56) return NotSupportedError("RSA publicExponent too large (only 65537)");
      exponent = exponent << 8 | static_cast<uint64_t>(b.get<int64_t>());
    }
    out->publicExponent = exponent;
    const json& h = alg.value("hash", json());
    if (h.is_string()) {
      out->hash = h.get<std::string>();
    } else if (h.is_object() && h.contains("name") && h["name"].is_string()) {
      out->hash = h["name"].get<std::string>();
    } else {
      return TypeError("RsaHashedKeyGenParams.hash is required");
    }
  } else {
    return NotSupportedError(absl::StrCat("unsupported keygenAlgorithm ", alg.dump()));
  }
  if (alg.is_object() && alg.contains("expires")) {
    // RTCCertificateExpiration.expires: [EnforceRange] unsigned long long.
    if (!alg["expires"].is_number() || alg["expires"].get<double>() < 0 ||
        alg["expires"].get<double>() > 9007199254740991.0)
      return TypeError("RTCCertificateExpiration.expires must be a non-negative number");
    *expires_ms = static_cast<int64_t>(alg["expires"].get<double>());
  }
  return out->CheckSupported();
}

}  // namespace

NativeDriver::NativeDriver(io::EventLoop& loop, io::InterfaceFilter filter)
    : loop_(loop), filter_(std::move(filter)) {
  out = [](const std::string& line) {
    std::string s = line + "\n";
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::write(1, s.data() + off, s.size() - off);
      if (n <= 0) {
        if (errno == EINTR) continue;
        return;
      }
      off += static_cast<size_t>(n);
    }
  };
}

// Strings from the stack (a remote peer's text message, an error message quoting SDP) need not be
// valid UTF-8; json::dump() would throw on them. DRIVER_PROTOCOL lines are UTF-8: replace with U+FFFD.
NativeDriver::~NativeDriver() {
  // The loop outlives the driver (the fuzzer keeps one): it must not keep the peer connections'
  // sockets or pointers to them.
  for (auto& [name, p] : pcs_)
    if (p.attached) loop_.Detach(p.pc.get());
}

void NativeDriver::Emit(const json& j) { out(j.dump(-1, ' ', false, json::error_handler_t::replace)); }

void NativeDriver::Reply(const json& id, const absl::Status& st, json result) {
  if (st.ok()) {
    Emit(json{{"id", id}, {"ok", true}, {"result", std::move(result)}});
  } else {
    Emit(json{{"id", id}, {"ok", false}, {"error", Error(DomErrorName(st), st.message())}});
  }
}

NativeDriver::Pc* NativeDriver::FindPc(const json& cmd) {
  if (!cmd.contains("pc") || !cmd["pc"].is_string()) return nullptr;
  auto it = pcs_.find(cmd["pc"].get<std::string>());
  return it == pcs_.end() ? nullptr : &it->second;
}

NativeDriver::Channel* NativeDriver::FindChannel(const json& cmd) {
  if (!cmd.contains("channel") || !cmd["channel"].is_string()) return nullptr;
  auto it = channels_.find(cmd["channel"].get<std::string>());
  return it == channels_.end() ? nullptr : &it->second;
}

NativeDriver::Channel& NativeDriver::Register(const std::string& pc, std::shared_ptr<RTCDataChannel> ch) {
  std::string handle = absl::StrCat("ch", ch->handle());
  channel_by_ptr_[ch->handle()] = handle;
  Channel& c = channels_[handle];
  c.handle = handle;
  c.pc = pc;
  c.ch = std::move(ch);
  return c;
}

json NativeDriver::ChannelState(const Channel& c) const {
  json j = RTCDataChannelToJson(*c.ch);
  j["channel"] = c.handle;
  j["messagesReceived"] = c.ch->messages_received();
  j["bytesReceived"] = c.ch->bytes_received();
  return j;
}

json NativeDriver::PcState(const Pc& p) const {
  const auto& pc = *p.pc;
  json j{{"signalingState", ToString(pc.signalingState())},
         {"iceGatheringState", ToString(pc.iceGatheringState())},
         {"iceConnectionState", ToString(pc.iceConnectionState())},
         {"connectionState", ToString(pc.connectionState())},
         {"localDescription", DescriptionJson(pc.localDescription())},
         {"remoteDescription", DescriptionJson(pc.remoteDescription())},
         {"currentLocalDescription", DescriptionJson(pc.currentLocalDescription())},
         {"currentRemoteDescription", DescriptionJson(pc.currentRemoteDescription())},
         {"pendingLocalDescription", DescriptionJson(pc.pendingLocalDescription())},
         {"pendingRemoteDescription", DescriptionJson(pc.pendingRemoteDescription())},
         {"transceivers", json::array()}};
  for (const auto& t : pc.getTransceivers())
    j["transceivers"].push_back(const_cast<NativeDriver*>(this)->TransceiverJson(p.name, t));
  j["canTrickleIceCandidates"] = pc.canTrickleIceCandidates() ? json(*pc.canTrickleIceCandidates()) : json(nullptr);
  if (auto s = pc.sctp()) {
    j["sctp"] = json{{"maxMessageSize", s->maxMessageSize},
                     {"maxChannels", s->maxChannels ? json(*s->maxChannels) : json(nullptr)},
                     {"state", ToString(s->state)}};
  } else {
    j["sctp"] = nullptr;
  }
  return j;
}

json NativeDriver::Stats(const Pc& p) const {
  // The whole RTCStatsReport (webrtc-stats) comes from the stack (refrtc/rtc_json.h), shared with
  // the WASM binding; the driver only supplies the wall clock.
  double ts = std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto report = RTCStatsReportJson(*p.pc, ts);
  return report.ok() ? *report : json::array();
}

void NativeDriver::PumpSendMany(Channel& c) {
  if (!c.send_many) return;
  auto& job = *c.send_many;
  auto& ch = *c.ch;
  Bytes buf;
  while (job.next < job.count) {
    if (ch.readyState() != RTCDataChannelState::kOpen) {
      json id = job.id;
      c.send_many.reset();
      Reply(id, InvalidStateError("channel closed during sendMany"));
      return;
    }
    if (ch.bufferedAmount() >= kSendManyHighWater) {
      // Wait for bufferedamountlow (never a busy loop).
      if (!c.app_low_threshold_set) ch.setBufferedAmountLowThreshold(kSendManyLowWater);
      return;
    }
    absl::Status st;
    if (job.binary) {
      buf.assign(job.size, static_cast<uint8_t>(job.next % 256));
      st = ch.sendBinary(buf);
    } else {
      std::string s(job.size, static_cast<char>('a' + job.next % 26));
      st = ch.send(s);
    }
    if (!st.ok()) {
      json id = job.id;
      c.send_many.reset();
      Reply(id, st);
      return;
    }
    ++c.messages_sent;
    c.bytes_sent += job.size;
    ++job.next;
  }
  json id = job.id;
  c.send_many.reset();
  Reply(id, absl::OkStatus());
}

void NativeDriver::HandleLine(const std::string& line) {
  json cmd = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (cmd.is_discarded() || !cmd.is_object()) {
    Emit(json{{"id", nullptr}, {"ok", false}, {"error", Error("SyntaxError", "invalid JSON")}});
    return;
  }
  // DRIVER_PROTOCOL "Framing": every command carries the id its reply echoes (the harness's are
  // integers). Without one (or with a structured one) the command is not run.
  if (!cmd.contains("id") || !(cmd["id"].is_number() || cmd["id"].is_string())) {
    Emit(json{{"id", nullptr}, {"ok", false}, {"error", Error("TypeError", "command without a number or string id")}});
    return;
  }
  json id = cmd["id"];
  if (JsonNestingDepth(line) > kMaxJsonDepth) {
    Emit(json{{"id", id}, {"ok", false}, {"error", Error("SyntaxError", "command nested deeper than 64 levels")}});
    return;
  }
  std::string op = cmd.contains("op") && cmd["op"].is_string() ? cmd["op"].get<std::string>() : "";
  for (auto& [name, p] : pcs_) p.pc->SetTime(loop_.Now());
  bool deferred = false;
  json result = SafeDispatch(op, cmd, &deferred);
  if (deferred) return;
  DrainEvents();  // events the call fired come before its promise resolves
  json reply{{"id", id}};
  reply.update(result);
  Emit(reply);
  loop_.Wake();
}

json NativeDriver::SafeDispatch(const std::string& op, const json& cmd, bool* deferred) {
  // The driver is a host program (it may throw; the stack never does): nlohmann::json throws on
  // missing members (at()) and wrong types (get<T>()) in the command. The W3C API's WebIDL
  // conversion would throw a TypeError there, so that is the reply; nothing escapes HandleLine.
  try {
    return Dispatch(op, cmd, deferred);
  } catch (const json::exception& e) {
    *deferred = false;
    return json{{"ok", false}, {"error", Error("TypeError", e.what())}};
  } catch (const std::exception& e) {
    *deferred = false;
    return json{{"ok", false}, {"error", Error("OperationError", e.what())}};
  }
}

json NativeDriver::Dispatch(const std::string& op, const json& cmd, bool* deferred) {
  auto ok = [](json r = json::object()) { return json{{"ok", true}, {"result", std::move(r)}}; };
  auto fail = [&](const absl::Status& st) {
    // webrtc-identity: a call waiting for the IdP is answered later (retried in DrainEvents).
    if (IsIdentityPending(st)) {
      *deferred = true;
      identity_waiting_.push_back(cmd);
      return json();
    }
    json e = Error(DomErrorName(st), st.message());
    if (std::string detail = RTCErrorDetail(st); !detail.empty()) e["errorDetail"] = detail;  // RTCError
    return json{{"ok", false}, {"error", e}};
  };
  auto not_found = [](absl::string_view what) {
    return json{{"ok", false}, {"error", Error("NotFoundError", absl::StrCat("unknown ", what))}};
  };

  if (op == "hello") {
    return ok({{"name", "refrtc-native"}, {"version", "0.1.0"}, {"protocol", 1},
               {"features", json::array({"rollback", "restartIce", "stats", "certificates", "media", "mediaControl", "identity", "dtmf", "dtmfReceive"})}});
  }
  if (op == "generateCertificate") {
    // W3C webrtc-pc §4.9 generateCertificate(keygenAlgorithm): ECDSA P-256 or RSASSA-PKCS1-v1_5
    // (ParseKeygenAlgorithm); anything else → NotSupportedError. expires (ms, relative) defaults to 30 days.
    RTCKeygenAlgorithm algorithm;
    int64_t expires_ms = 0;
    absl::Status parsed = ParseKeygenAlgorithm(cmd.value("keygenAlgorithm", json("ECDSA")), &algorithm, &expires_ms);
    if (!parsed.ok()) return fail(parsed);
    uint64_t seed = std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32) ^ ++seed_counter_;
    auto cert = RTCCertificate::Generate(algorithm, seed, static_cast<int64_t>(::time(nullptr)), expires_ms);
    if (!cert.ok()) return fail(cert.status());
    std::string handle = absl::StrCat("cert", ++certificate_counter_);
    certificates_[handle] = *cert;
    json fps = json::array();
    for (const RTCDtlsFingerprint& f : (*cert)->getFingerprints()) fps.push_back({{"algorithm", f.algorithm}, {"value", f.value}});
    return ok({{"certificate", handle}, {"expires", (*cert)->expires()}, {"fingerprints", fps}});
  }
  if (op == "shutdown") {
    shutdown_ = true;
    for (auto& [n, p] : pcs_) p.pc->close();
    loop_.Stop();
    return ok();
  }
  if (op == "createPeerConnection") {
    std::string name = cmd.value("pc", "");
    if (name.empty()) return fail(TypeError("pc is required"));
    if (pcs_.count(name)) return fail(InvalidStateError("pc name already in use"));
    auto config = ParseConfig(cmd.contains("config") ? cmd["config"] : json::object(), certificates_);
    if (!config.ok()) return fail(config.status());
    RTCEngineOptions options;
    options.seed = std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32) ^ ++seed_counter_;
    options.unix_time_s = static_cast<int64_t>(::time(nullptr));
    if (const char* path = std::getenv("SSLKEYLOGFILE"); path && *path) {
      // NSS key log lines for Wireshark/tshark: one write(2) per line on an O_APPEND descriptor, so
      // two drivers sharing the file (native:native) never interleave within a line.
      std::string file = path;
      options.key_log = [file](const std::string& line) {
        int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) return;
        std::string out = line + "\n";
        ssize_t n = ::write(fd, out.data(), out.size());
        (void)n;
        ::close(fd);
      };
    }
    auto pc = RTCPeerConnection::Create(*config, options);
    if (!pc.ok()) return fail(pc.status());
    Pc& p = pcs_[name];
    p.name = name;
    p.pc = std::move(*pc);
    p.pc->SetTime(loop_.Now());
    auto bound = loop_.Attach(p.pc.get(), io::EnumerateInterfaces(filter_));
    if (!bound.ok()) {
      pcs_.erase(name);
      return fail(OperationError(bound.status().message()));
    }
    p.attached = true;
    return ok();
  }

  // Channel-level ops.
  if (op == "send" || op == "sendMany" || op == "getChannel" || op == "setChannel" || op == "closeChannel") {
    Channel* c = FindChannel(cmd);
    if (!c) return not_found("channel");
    auto& ch = *c->ch;
    if (op == "getChannel") return ok(ChannelState(*c));
    if (op == "closeChannel") {
      ch.close();
      return ok();
    }
    if (op == "setChannel") {
      if (cmd.contains("bufferedAmountLowThreshold")) {
        auto v = ToUnsigned(cmd["bufferedAmountLowThreshold"], 64, "bufferedAmountLowThreshold");
        if (!v.ok()) return fail(v.status());
        ch.setBufferedAmountLowThreshold(*v);
        c->app_low_threshold_set = true;
      }
      if (cmd.contains("binaryType")) {
        auto st = ch.setBinaryType(cmd["binaryType"].get<std::string>());
        if (!st.ok()) return fail(st);
      }
      if (cmd.contains("mute")) c->mute = cmd["mute"].get<bool>();
      if (cmd.contains("notifyAfter")) {
        auto v = Count(cmd, "notifyAfter");
        if (!v.ok()) return fail(v.status());
        c->notify_after = *v;
        c->notified = false;
        if (c->notify_after && ch.messages_received() >= c->notify_after) {
          c->notified = true;
          Emit({{"event", "received"}, {"pc", c->pc}, {"channel", c->handle},
                {"messages", ch.messages_received()}, {"bytes", ch.bytes_received()}});
        }
      }
      return ok();
    }
    if (op == "send") {
      const json& data = cmd.at("data");
      absl::Status st;
      size_t size = 0;
      if (data.is_string()) {
        std::string s = data.get<std::string>();
        size = s.size();
        st = ch.send(s);
      } else if (data.is_object() && data.contains("binary")) {
        auto bytes = Base64Decode(data["binary"].get<std::string>());
        if (!bytes) return fail(TypeError("invalid base64"));
        size = bytes->size();
        st = ch.sendBinary(*bytes);
      } else {
        return fail(TypeError("data must be a string or {binary}"));
      }
      if (!st.ok()) return fail(st);
      ++c->messages_sent;
      c->bytes_sent += size;
      return ok();
    }
    // sendMany
    if (c->send_many) return fail(InvalidStateError("a sendMany is already running on this channel"));
    Channel::SendMany job;
    job.id = cmd.contains("id") ? cmd["id"] : json(nullptr);
    auto size = Count(cmd, "size");
    if (!size.ok()) return fail(size.status());
    auto count = Count(cmd, "count");
    if (!count.ok()) return fail(count.status());
    // Each message is materialized before send(): a size no channel sends (far above any RFC 8841
    // max-message-size the scenarios use) is refused before allocating it.
    if (*size > kSendManyMaxSize)
      return fail(TypeError(absl::StrCat("sendMany size ", *size, " is over the driver's limit ", kSendManyMaxSize)));
    job.size = *size;
    job.count = *count;
    job.binary = cmd.value("binary", true);
    c->send_many = job;
    PumpSendMany(*c);  // replies itself, now or when the last message is queued
    *deferred = true;
    return json::object();
  }

  if (op == "insertDTMF" || op == "getDTMF") {
    // webrtc-pc §7 RTCDTMFSender of the sender (features dtmf / dtmfReceive; docs/DRIVER_PROTOCOL.md).
    std::shared_ptr<RTCRtpSender> sender;
    for (auto& [h, x] : transceivers_)
      if (absl::StrCat("s", x.t->sender()->handle()) == cmd.value("sender", "")) sender = x.t->sender();
    if (!sender) return not_found("sender");
    auto dtmf = sender->dtmf();
    if (!dtmf) return fail(InvalidStateError("the sender has no RTCDTMFSender (video)"));
    if (op == "getDTMF") return ok(json{{"toneBuffer", dtmf->toneBuffer()}, {"canInsertDTMF", dtmf->canInsertDTMF()}});
    auto num = [&](const char* key, uint32_t dflt) -> uint32_t {
      if (!cmd.contains(key) || !cmd[key].is_number()) return dflt;
      // WebIDL unsigned long: ToUint32 of the (integral part of the) number.
      return static_cast<uint32_t>(*ToUnsigned(cmd[key], 32, key));
    };
    auto st = dtmf->insertDTMF(cmd.value("tones", ""), num("duration", 100), num("interToneGap", 70));
    if (!st.ok()) return fail(st);
    return ok();
  }
  if (op == "getTrackInfo") {
    auto it = transceivers_.find(cmd.value("transceiver", ""));
    if (it == transceivers_.end()) return not_found("transceiver");
    const auto& t = it->second.t;
    json info = RTCTrackInfoToJson(t->receiver()->track_info());
    info["mid"] = t->mid() ? json(*t->mid()) : json(nullptr);
    info["track"] = t->receiver()->track()->id();
    return ok(info);
  }
  if (op == "setDirection" || op == "stopTransceiver" || op == "replaceTrack" || op == "setCodecPreferences" ||
      op == "removeTrack") {
    // Feature mediaControl (docs/DRIVER_PROTOCOL.md, refrtc notes).
    std::shared_ptr<RTCRtpTransceiver> t;
    if (cmd.contains("transceiver")) {
      auto it = transceivers_.find(cmd.value("transceiver", ""));
      if (it != transceivers_.end()) t = it->second.t;
    } else if (cmd.contains("sender")) {
      for (auto& [h, x] : transceivers_)
        if (absl::StrCat("s", x.t->sender()->handle()) == cmd.value("sender", "")) t = x.t;
    }
    if (!t) return not_found(cmd.contains("sender") ? "sender" : "transceiver");
    absl::Status st;
    if (op == "setDirection") {
      auto d = ParseDirection(cmd.value("direction", ""));
      st = d ? t->setDirection(*d) : TypeError("invalid direction");
    } else if (op == "stopTransceiver") {
      st = t->stop();
    } else if (op == "replaceTrack") {
      std::shared_ptr<MediaStreamTrack> track;
      if (cmd.contains("source") && !cmd["source"].is_null()) {
        auto tr = MediaStreamTrack::CreateSynthetic(cmd["source"].get<std::string>(),
                                                    absl::StrCat("refrtc-track-", ++track_counter_, "-", ::getpid()));
        if (!tr.ok()) return fail(tr.status());
        track = *tr;
      }
      st = t->sender()->replaceTrack(track);
    } else if (op == "removeTrack") {
      Pc* p = FindPc(cmd);
      if (!p) return not_found("pc");
      st = p->pc->removeTrack(t->sender());
    } else {
      std::vector<RTCRtpCodec> codecs;
      if (cmd.contains("codecs") && cmd["codecs"].is_array())
        for (const auto& c : cmd["codecs"]) {
          RTCRtpCodec rc;
          rc.mimeType = c.value("mimeType", "");
          if (c.contains("clockRate")) {
            auto rate = ToUnsigned(c["clockRate"], 32, "clockRate");
            if (!rate.ok()) return fail(rate.status());
            rc.clockRate = static_cast<uint32_t>(*rate);
          }
          codecs.push_back(rc);
        }
      st = t->setCodecPreferences(codecs);
    }
    if (!st.ok()) return fail(st);
    return ok();
  }
  if (op == "addTransceiver" || op == "addTrack" || op == "getTransceivers") {
    Pc* p = FindPc(cmd);
    if (!p) return not_found("pc");
    return MediaOp(op, cmd, *p);
  }

  if (op == "setIdentityProvider" || op == "registerTestIdp" || op == "getIdentityAssertion" ||
      op == "getPeerIdentity") {
    Pc* p = FindPc(cmd);
    if (!p) return not_found("pc");
    json r;
    absl::Status st = IdentityOp(op, cmd, *p, &r);
    if (!st.ok()) return fail(st);
    return ok(r);
  }

  static const char* kPcOps[] = {"createOffer", "createAnswer", "setLocalDescription", "setRemoteDescription",
                                 "addIceCandidate", "restartIce", "getState", "createDataChannel",
                                 "getStats", "close"};
  bool is_pc_op = false;
  for (const char* o : kPcOps) is_pc_op |= op == o;
  if (!is_pc_op) return fail(NotSupportedError(absl::StrCat("unknown op '", op, "'")));
  Pc* p = FindPc(cmd);
  if (!p) return not_found("pc");
  auto& pc = *p->pc;

  if (op == "createOffer") {
    RTCOfferOptions o;
    if (cmd.contains("options") && cmd["options"].is_object()) o.iceRestart = cmd["options"].value("iceRestart", false);
    auto r = pc.createOffer(o);
    if (!r.ok()) return fail(r.status());
    return ok({{"type", "offer"}, {"sdp", r->sdp}});
  }
  if (op == "createAnswer") {
    auto r = pc.createAnswer();
    if (!r.ok()) return fail(r.status());
    return ok({{"type", "answer"}, {"sdp", r->sdp}});
  }
  if (op == "setLocalDescription" || op == "setRemoteDescription") {
    RTCSessionDescriptionInit init;
    if (cmd.contains("description") && !cmd["description"].is_null()) {
      const auto& d = cmd["description"];
      if (d.contains("type") && !d["type"].is_null()) {
        auto t = ParseSdpType(d["type"].get<std::string>());
        if (!t.ok()) return fail(t.status());
        init.type = *t;
      }
      init.sdp = d.value("sdp", "");
    }
    absl::Status st = op == "setLocalDescription" ? pc.setLocalDescription(init) : pc.setRemoteDescription(init);
    if (!st.ok()) return fail(st);
    if (op == "setLocalDescription") return ok({{"description", DescriptionJson(pc.localDescription())}});
    return ok();
  }
  if (op == "addIceCandidate") {
    std::optional<RTCIceCandidateInit> cand;
    if (cmd.contains("candidate") && !cmd["candidate"].is_null()) {
      auto init = RTCIceCandidateInitFromJson(cmd["candidate"]);
      if (!init.ok()) return fail(init.status());
      cand = *init;
    }
    auto st = pc.addIceCandidate(cand);
    if (!st.ok()) return fail(st);
    return ok();
  }
  if (op == "restartIce") {
    pc.restartIce();
    return ok();
  }
  if (op == "getState") return ok(PcState(*p));
  if (op == "getStats") return ok({{"stats", Stats(*p)}});
  if (op == "close") {
    pc.close();
    return ok();
  }
  // createDataChannel
  auto init = RTCDataChannelInitFromJson(cmd.contains("options") ? cmd["options"] : json(nullptr));
  if (!init.ok()) return fail(init.status());
  auto ch = pc.createDataChannel(cmd.value("label", ""), *init);
  if (!ch.ok()) return fail(ch.status());
  Channel& c = Register(p->name, *ch);
  return ok(ChannelState(c));
}

void NativeDriver::DrainEvents() {
  for (auto& [name, p] : pcs_) {
    while (auto ev = p.pc->PollEvent()) {
      json j{{"event", ToString(ev->type)}, {"pc", name}};
      std::string handle;
      Channel* c = nullptr;
      if (ev->channel) {
        auto it = channel_by_ptr_.find(ev->channel->handle());
        if (it == channel_by_ptr_.end()) {
          c = &Register(name, ev->channel);
        } else {
          c = &channels_[it->second];
        }
        j["channel"] = c->handle;
      }
      switch (ev->type) {
        case RTCEventType::kIceCandidate:
          j["candidate"] = ev->candidate ? RTCIceCandidateInitToJson(*ev->candidate) : json(nullptr);
          break;
        case RTCEventType::kIceGatheringStateChange:
        case RTCEventType::kIceConnectionStateChange:
        case RTCEventType::kConnectionStateChange:
        case RTCEventType::kSignalingStateChange:
          j["state"] = ev->state;
          break;
        case RTCEventType::kDataChannel:
          j.update(ChannelState(*c));
          break;
        case RTCEventType::kChannelMessage: {
          if (c->mute) {
            if (c->notify_after && !c->notified && c->ch->messages_received() >= c->notify_after) {
              c->notified = true;
              Emit({{"event", "received"}, {"pc", name}, {"channel", c->handle},
                    {"messages", c->ch->messages_received()}, {"bytes", c->ch->bytes_received()}});
            }
            continue;
          }
          if (ev->data.size() > kInlineMessageMax) {
            // DRIVER_PROTOCOL: messages over 64 KiB carry size + sha256 instead of data.
            j["size"] = ev->data.size();
            j["sha256"] = Sha256Hex(ev->data);
            j["binary"] = ev->binary;
          } else if (ev->binary) {
            j["data"] = json{{"binary", Base64Encode(ev->data)}};
          } else {
            j["data"] = std::string(ev->data.begin(), ev->data.end());
          }
          Emit(j);
          if (c->notify_after && !c->notified && c->ch->messages_received() >= c->notify_after) {
            c->notified = true;
            Emit({{"event", "received"}, {"pc", name}, {"channel", c->handle},
                  {"messages", c->ch->messages_received()}, {"bytes", c->ch->bytes_received()}});
          }
          continue;
        }
        case RTCEventType::kChannelBufferedAmountLow:
          PumpSendMany(*c);
          if (!c->app_low_threshold_set) continue;  // the driver's own flow control only
          break;
        case RTCEventType::kTrack:
          // DRIVER_PROTOCOL `track`: the transceiver's handle, kind, mid, stream ids, track id.
          j["transceiver"] = TransceiverHandle(name, ev->transceiver);
          j["kind"] = ev->transceiver->kind();
          j["mid"] = ev->transceiver->mid() ? json(*ev->transceiver->mid()) : json(nullptr);
          j["streams"] = ev->streams;
          j["track"] = ev->transceiver->receiver()->track()->id();
          break;
        case RTCEventType::kToneChange:
          // DRIVER_PROTOCOL `tonechange`: the sender's handle and the tone ("" at the end).
          j["sender"] = absl::StrCat("s", ev->sender->handle());
          j["tone"] = ev->state;
          break;
        case RTCEventType::kDtmfReceived:
          // DRIVER_PROTOCOL `dtmf` (feature dtmfReceive): one RFC 4733 digit, duration in ms.
          j["transceiver"] = TransceiverHandle(name, ev->transceiver);
          j["tone"] = ev->state;
          j["duration"] = ev->duration_ms;
          break;
        case RTCEventType::kIdentityResult:
        case RTCEventType::kPeerIdentityResult:
          j["state"] = ev->state;
          if (ev->state == "rejected")
            j["error"] = json{{"name", ev->error_name}, {"message", ev->error_message}, {"errorDetail", ev->error_detail}};
          break;
        case RTCEventType::kChannelError:
        case RTCEventType::kIceCandidateError:
          j["error"] = json{{"name", ev->error_name}, {"message", ev->error_message}, {"errorDetail", ev->error_detail}};
          break;
        default:
          break;
      }
      Emit(j);
      if (ev->type == RTCEventType::kChannelOpen && c) PumpSendMany(*c);
    }
  }
  for (auto& [h, c] : channels_) {
    if (c.send_many) PumpSendMany(c);
  }
  // webrtc-identity: retry the calls that waited for an IdP (createOffer/createAnswer,
  // setRemoteDescription with a target peer identity, getIdentityAssertion, getPeerIdentity).
  if (!identity_waiting_.empty()) {
    auto waiting = std::move(identity_waiting_);
    identity_waiting_.clear();
    for (const json& cmd : waiting) {
      bool deferred = false;
      json result = SafeDispatch(cmd["op"].get<std::string>(), cmd, &deferred);
      if (deferred) continue;
      json reply{{"id", cmd.contains("id") ? cmd["id"] : json(nullptr)}};
      reply.update(result);
      Emit(reply);
    }
  }
}

// refrtc extension ops for webrtc-identity (feature "identity"; docs/DRIVER_PROTOCOL.md refrtc
// notes): the refrtc test IdP (refrtc/test_identity_provider.h) in the pc's IdP registry.
absl::Status NativeDriver::IdentityOp(const std::string& op, const json& cmd, Pc& p, json* result) {
  auto& pc = *p.pc;
  *result = json::object();
  auto str = [&](const json& j, const char* k, const std::string& def) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : def;
  };
  if (cmd.contains("idpTimeoutMs") && cmd["idpTimeoutMs"].is_number()) {
    // Bounded to a day: a larger value (or 1e300) would overflow the deadline arithmetic.
    const double ms = std::min(std::max(cmd["idpTimeoutMs"].get<double>(), 0.0), 86400000.0);
    pc.setIdpTimeout(std::chrono::milliseconds(static_cast<int64_t>(ms)));
  }
  auto register_test_idp = [&](const json& t, const std::string& domain, const std::string& protocol) {
    TestIdentityProviderOptions o;
    o.domain = domain;
    o.key = str(t, "key", "");
    o.name = str(t, "name", "");
    o.login_url = str(t, "loginUrl", o.login_url);
    auto fail = ParseTestIdpFailure(str(t, "fail", "none"));
    if (!fail.ok()) return TypeError(fail.status().message());
    o.fail = *fail;
    o.unix_ms = [] {
      return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    };
    return pc.identityProviders().Register(domain, protocol, std::make_shared<TestIdentityProvider>(o));
  };
  if (op == "registerTestIdp") {
    return register_test_idp(cmd, str(cmd, "domain", "idp.example"), str(cmd, "protocol", "default"));
  }
  if (op == "setIdentityProvider") {
    RTCIdentityProviderOptions o;
    o.protocol = str(cmd, "protocol", "default");
    if (cmd.contains("usernameHint") && cmd["usernameHint"].is_string()) o.usernameHint = cmd["usernameHint"].get<std::string>();
    if (cmd.contains("peerIdentity") && cmd["peerIdentity"].is_string()) o.peerIdentity = cmd["peerIdentity"].get<std::string>();
    std::string provider = str(cmd, "provider", str(cmd, "idp", ""));
    if (cmd.contains("testIdp") && cmd["testIdp"].is_object()) {
      absl::Status st = register_test_idp(cmd["testIdp"], provider, o.protocol);
      if (!st.ok()) return st;
    }
    return pc.setIdentityProvider(provider, o);
  }
  if (op == "getIdentityAssertion") {
    auto a = pc.getIdentityAssertion();
    if (!a.ok()) return a.status();
    (*result)["assertion"] = *a;
    return absl::OkStatus();
  }
  // getPeerIdentity: the settled peerIdentity promise ({idp, name} or its rejection); with
  // "wait": false the current state without waiting. idpLoginUrl / idpErrorInfo ride along.
  RTCPeerIdentity id = pc.peerIdentity();
  if (id.state == RTCPromiseState::kPending && cmd.value("wait", true))
    return IdentityPendingStatus("peerIdentity is pending");
  (*result)["state"] = ToString(id.state);
  (*result)["idpLoginUrl"] = pc.idpLoginUrl() ? json(*pc.idpLoginUrl()) : json(nullptr);
  (*result)["idpErrorInfo"] = pc.idpErrorInfo() ? json(*pc.idpErrorInfo()) : json(nullptr);
  if (id.state == RTCPromiseState::kRejected && cmd.value("wait", true)) return id.error;
  if (id.state == RTCPromiseState::kFulfilled) {
    (*result)["idp"] = id.assertion.idp;
    (*result)["name"] = id.assertion.name;
  } else if (id.state == RTCPromiseState::kRejected) {
    json e = Error(DomErrorName(id.error), id.error.message());
    if (std::string d = RTCErrorDetail(id.error); !d.empty()) e["errorDetail"] = d;
    (*result)["error"] = e;
  }
  return absl::OkStatus();
}

std::string NativeDriver::TransceiverHandle(const std::string& pc, const std::shared_ptr<RTCRtpTransceiver>& t) {
  auto it = transceiver_by_ptr_.find(t->handle());
  if (it != transceiver_by_ptr_.end()) return it->second;
  std::string h = absl::StrCat("t", t->handle());
  transceivers_[h] = Transceiver{pc, t};
  transceiver_by_ptr_[t->handle()] = h;
  return h;
}

json NativeDriver::TransceiverJson(const std::string& pc, const std::shared_ptr<RTCRtpTransceiver>& t) {
  return json{{"transceiver", TransceiverHandle(pc, t)},
              {"sender", absl::StrCat("s", t->sender()->handle())},
              {"mid", t->mid() ? json(*t->mid()) : json(nullptr)},
              {"kind", t->kind()},
              {"direction", ToString(t->direction())},
              {"currentDirection", t->currentDirection() ? json(ToString(*t->currentDirection())) : json(nullptr)}};
}

json NativeDriver::MediaOp(const std::string& op, const json& cmd, Pc& p) {
  auto ok = [](json r = json::object()) { return json{{"ok", true}, {"result", std::move(r)}}; };
  auto fail = [](const absl::Status& st) {
    return json{{"ok", false}, {"error", Error(DomErrorName(st), st.message())}};
  };
  auto& pc = *p.pc;
  if (op == "getTransceivers") {
    json list = json::array();
    for (const auto& t : pc.getTransceivers()) list.push_back(TransceiverJson(p.name, t));
    return ok({{"transceivers", list}});
  }
  std::string kind = cmd.value("kind", "");
  std::shared_ptr<MediaStreamTrack> track;
  if (cmd.contains("source") && !cmd["source"].is_null()) {
    // DRIVER_PROTOCOL synthetic sources: "tone:FREQ", "silence", "pattern".
    auto t = MediaStreamTrack::CreateSynthetic(cmd["source"].get<std::string>(),
                                               absl::StrCat("refrtc-track-", ++track_counter_, "-", ::getpid()));
    if (!t.ok()) return fail(t.status());
    if (!kind.empty() && (*t)->kind() != kind)
      return fail(TypeError(absl::StrCat("source '", cmd["source"].get<std::string>(), "' is not of kind ", kind)));
    track = *t;
  }
  if (op == "addTrack") {
    if (!track) return fail(TypeError("addTrack needs a source"));
    std::vector<std::string> streams;
    if (cmd.contains("streams") && cmd["streams"].is_array())
      for (const auto& x : cmd["streams"]) streams.push_back(x.get<std::string>());
    auto sender = pc.addTrack(track, streams);
    if (!sender.ok()) return fail(sender.status());
    for (const auto& t : pc.getTransceivers())
      if (t->sender() == *sender) return ok(TransceiverJson(p.name, t));
    return fail(OperationError("addTrack: no transceiver for the sender"));
  }
  auto init = RTCRtpTransceiverInitFromJson(cmd.contains("init") ? cmd["init"] : json(nullptr));
  if (!init.ok()) return fail(init.status());
  auto t = track ? pc.addTransceiver(track, *init) : pc.addTransceiver(kind, *init);
  if (!t.ok()) return fail(t.status());
  return ok(TransceiverJson(p.name, *t));
}

}  // namespace refrtc::driver
