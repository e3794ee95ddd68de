// The embind boundary of the WASM build: the sans-IO RTCPeerConnection (stack/include/refrtc/) as
// JS-callable objects. Thin and synchronous by design — promises, events, sockets and timers live in
// the JS package (wasm/lib/). The interface is specified in wasm/src/BINDING.md.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "refrtc/rtc_certificate.h"
#include "refrtc/rtc_json.h"
#include "refrtc/media_stream_track.h"
#include "refrtc/rtc_peer_connection.h"
#include "refrtc/rtc_rtp_transceiver.h"
#include "refrtc/rtc_identity.h"
#include "util/dom_exception.h"

namespace refrtc::wasm {
namespace {

using emscripten::val;
using json = nlohmann::json;

// Host times are milliseconds on the host's monotonic clock (performance.now()).
Instant FromMs(double ms) {
  return Instant(std::chrono::duration_cast<Duration>(std::chrono::microseconds(std::llround(ms * 1000.0))));
}
double ToMs(Instant t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() / 1000.0;
}

val ErrorVal(absl::string_view name, absl::string_view message) {
  val e = val::object();
  e.set("name", std::string(name));
  e.set("message", std::string(message));
  val r = val::object();
  r.set("error", e);
  return r;
}
val ErrorVal(const absl::Status& st) {
  val r = ErrorVal(DomErrorName(st), st.message());
  // webrtc-identity: an RTCError's errorDetail, and "pending" (IsIdentityPending: retry the call
  // once the IdP settled; BINDING.md "Identity").
  if (std::string detail = RTCErrorDetail(st); !detail.empty()) r["error"].set("errorDetail", detail);
  if (IsIdentityPending(st)) r["error"].set("pending", true);
  return r;
}
val Ok() { return val::object(); }

// JSON text → JS value and back, for the cold paths (configuration, state, candidates).
val ToVal(const json& j) { return val::global("JSON").call<val>("parse", j.dump()); }
// JS value → json; `undefined` and anything JSON.stringify cannot express become null. Never throws.
json FromVal(const val& v) {
  if (v.isUndefined() || v.isNull()) return nullptr;
  val text = val::global("JSON").call<val>("stringify", v);
  if (!text.isString()) return nullptr;
  json j = json::parse(text.as<std::string>(), nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(nullptr) : j;
}

val BytesToVal(const Bytes& b) {
  val out = val::global("Uint8Array").new_(b.size());
  out.call<void>("set", val(emscripten::typed_memory_view(b.size(), b.data())));
  return out;
}
// One bulk copy into WASM memory (TypedArray.set over a view of the vector), not an element-wise
// conversion: datagrams and messages cross here.
Bytes ValToBytes(const val& v) {
  if (!v.instanceof(val::global("Uint8Array"))) return emscripten::convertJSArrayToNumberVector<uint8_t>(v);
  Bytes out(v["length"].as<size_t>());
  if (!out.empty()) val(emscripten::typed_memory_view(out.size(), out.data())).call<void>("set", v);
  return out;
}

absl::StatusOr<SocketAddress> Addr(const std::string& ip, int port) {
  if (port < 0 || port > 65535) return TypeError("port out of range");
  return SocketAddress::Parse(ip, static_cast<uint16_t>(port));
}

val FingerprintsVal(const RTCCertificate& c) {
  val arr = val::array();
  for (const auto& f : c.getFingerprints()) {
    val o = val::object();
    o.set("algorithm", f.algorithm);
    o.set("value", f.value);
    arr.call<void>("push", o);
  }
  return arr;
}

}  // namespace

// W3C §4.9 RTCCertificate: an engine certificate, named by a process-unique id so configurations
// can refer to it.
class Certificate {
 public:
  explicit Certificate(std::shared_ptr<RTCCertificate> c) : cert_(std::move(c)) {}
  double expires() const { return static_cast<double>(cert_->expires()); }
  val getFingerprints() const { return FingerprintsVal(*cert_); }
  const std::shared_ptr<RTCCertificate>& cert() const { return cert_; }

 private:
  std::shared_ptr<RTCCertificate> cert_;
};


// mediacapture-main §4.3 MediaStreamTrack: a synthetic local track (createSyntheticTrack) or a
// receiver's remote track. Holds no reference to a peer connection, so it outlives them safely.
class Track {
 public:
  explicit Track(std::shared_ptr<MediaStreamTrack> t) : track_(std::move(t)) {}
  std::string kind() const { return track_->kind(); }
  std::string id() const { return track_->id(); }
  std::string label() const { return track_->label(); }
  bool enabled() const { return track_->enabled(); }
  void setEnabled(bool e) { track_->set_enabled(e); }
  bool muted() const { return track_->muted(); }
  std::string readyState() const { return ToString(track_->readyState()); }
  void stop() { track_->stop(); }
  bool remote() const { return track_->remote(); }
  std::string source() const { return track_->source(); }
  const std::shared_ptr<MediaStreamTrack>& track() const { return track_; }

 private:
  std::shared_ptr<MediaStreamTrack> track_;
};

namespace {
val GenerateCertificate(double seed, double unix_time_s, double expires_ms) {
  auto cert = RTCCertificate::Generate(static_cast<uint64_t>(seed), static_cast<int64_t>(unix_time_s),
                                       static_cast<int64_t>(expires_ms));
  if (!cert.ok()) return ErrorVal(cert.status());
  val r = val::object();
  r.set("certificate", val(std::make_shared<Certificate>(*cert)));
  return r;
}

// W3C §4.9 generateCertificate with an algorithm normalized by wasm/lib/certificate.js:
// {name: "ECDSA" | "RSASSA-PKCS1-v1_5", namedCurve, modulusLength, publicExponent (a number), hash}.
// Unsupported values → NotSupportedError (RTCKeygenAlgorithm::CheckSupported).
val GenerateCertificateWith(double seed, double unix_time_s, double expires_ms, val algorithm) {
  RTCKeygenAlgorithm alg;
  std::string name = algorithm["name"].isString() ? algorithm["name"].as<std::string>() : "";
  if (name == "RSASSA-PKCS1-v1_5") {
    alg.name = RTCKeygenAlgorithm::Name::kRsassaPkcs1v15;
    double m = algorithm["modulusLength"].isNumber() ? algorithm["modulusLength"].as<double>() : 0;
    double e = algorithm["publicExponent"].isNumber() ? algorithm["publicExponent"].as<double>() : 0;
    alg.modulusLength = m >= 0 && m <= 4294967295.0 ? static_cast<uint32_t>(m) : 0;
    alg.publicExponent = e >= 0 && e <= 9007199254740991.0 ? static_cast<uint64_t>(e) : 0;
    alg.hash = algorithm["hash"].isString() ? algorithm["hash"].as<std::string>() : "";
  } else if (name == "ECDSA") {
    alg.namedCurve = algorithm["namedCurve"].isString() ? algorithm["namedCurve"].as<std::string>() : "P-256";
  } else {
    return ErrorVal(NotSupportedError("unsupported keygenAlgorithm " + name));
  }
  auto cert = RTCCertificate::Generate(alg, static_cast<uint64_t>(seed), static_cast<int64_t>(unix_time_s),
                                       static_cast<int64_t>(expires_ms));
  if (!cert.ok()) return ErrorVal(cert.status());
  val r = val::object();
  r.set("certificate", val(std::make_shared<Certificate>(*cert)));
  return r;
}

// Not W3C (the stand-in for getUserMedia): a live local track from a synthetic source ("tone:FREQ",
// "silence", "pattern"); `id` comes from the caller (the engine has no randomness here).
val CreateSyntheticTrack(std::string source, std::string id) {
  auto t = MediaStreamTrack::CreateSynthetic(source, std::move(id));
  if (!t.ok()) return ErrorVal(t.status());
  val r = val::object();
  r.set("track", val(std::make_shared<Track>(*t)));
  return r;
}

// A core Track from a JS value: the Track itself or the package's MediaStreamTrack holding one in
// `__core`; nullptr otherwise.
std::shared_ptr<MediaStreamTrack> TrackFromVal(const val& v) {
  if (v.isUndefined() || v.isNull()) return nullptr;
  val cls = val::module_property("Track");
  val core = v.instanceof(cls) ? v : v["__core"];
  if (core.isUndefined() || core.isNull() || !core.instanceof(cls)) return nullptr;
  return core.as<std::shared_ptr<Track>>()->track();
}

json CodecToJson(const RTCRtpCodec& c) {
  json j{{"mimeType", c.mimeType}, {"clockRate", c.clockRate}};
  if (c.channels) j["channels"] = *c.channels;
  if (!c.sdpFmtpLine.empty()) j["sdpFmtpLine"] = c.sdpFmtpLine;
  if (c.payloadType) j["payloadType"] = *c.payloadType;
  return j;
}

absl::StatusOr<std::vector<RTCRtpCodec>> CodecsFromJson(const json& j) {
  std::vector<RTCRtpCodec> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return TypeError("codecs must be a sequence of RTCRtpCodec");
  for (const auto& c : j) {
    if (!c.is_object() || !c.contains("mimeType") || !c["mimeType"].is_string() || !c.contains("clockRate") ||
        !c["clockRate"].is_number())
      return TypeError("RTCRtpCodec needs mimeType and clockRate");
    RTCRtpCodec r;
    r.mimeType = c["mimeType"].get<std::string>();
    r.clockRate = c["clockRate"].get<uint32_t>();
    if (c.contains("channels") && c["channels"].is_number()) r.channels = c["channels"].get<uint16_t>();
    if (c.contains("sdpFmtpLine") && c["sdpFmtpLine"].is_string()) r.sdpFmtpLine = c["sdpFmtpLine"].get<std::string>();
    out.push_back(std::move(r));
  }
  return out;
}

// W3C §5.2.1 RTCRtpSendParameters as JSON: transactionId, encodings (active, maxBitrate, and the
// informative ssrc), codecs (negotiated), headerExtensions and rtcp (not modelled: empty/defaults).
json SendParametersToJson(const RTCRtpSendParameters& p) {
  json j{{"transactionId", p.transactionId}, {"encodings", json::array()}, {"codecs", json::array()},
         {"headerExtensions", json::array()}, {"rtcp", {{"reducedSize", false}}}};
  for (const auto& e : p.encodings) {
    json o{{"active", e.active}};
    if (e.maxBitrate) o["maxBitrate"] = *e.maxBitrate;
    if (e.ssrc) o["ssrc"] = *e.ssrc;
    j["encodings"].push_back(o);
  }
  for (const auto& c : p.codecs) j["codecs"].push_back(CodecToJson(c));
  return j;
}

absl::StatusOr<RTCRtpSendParameters> SendParametersFromJson(const json& j) {
  if (!j.is_object()) return TypeError("RTCRtpSendParameters must be an object");
  RTCRtpSendParameters p;
  if (!j.contains("transactionId") || !j["transactionId"].is_string())
    return TypeError("RTCRtpSendParameters.transactionId is required");
  p.transactionId = j["transactionId"].get<std::string>();
  if (!j.contains("encodings") || !j["encodings"].is_array())
    return TypeError("RTCRtpSendParameters.encodings is required");
  for (const auto& e : j["encodings"]) {
    if (!e.is_object()) return TypeError("encodings must hold objects");
    RTCRtpEncodingParameters o;
    if (e.contains("active") && !e["active"].is_null()) {
      if (!e["active"].is_boolean()) return TypeError("active must be a boolean");
      o.active = e["active"].get<bool>();
    }
    if (e.contains("maxBitrate") && !e["maxBitrate"].is_null()) {
      if (!e["maxBitrate"].is_number() || e["maxBitrate"].get<double>() < 0)
        return TypeError("maxBitrate must be an unsigned long");
      o.maxBitrate = static_cast<uint64_t>(e["maxBitrate"].get<double>());
    }
    p.encodings.push_back(o);
  }
  return p;
}

val GetCapabilities(std::string kind) {
  // W3C §5.2 / §5.3 getCapabilities(kind): null for a kind other than audio/video.
  if (kind != "audio" && kind != "video") return val::null();
  json j{{"codecs", json::array()}, {"headerExtensions", json::array()}};
  for (const auto& c : RTCPeerConnection::getCapabilities(kind)) j["codecs"].push_back(CodecToJson(c));
  j["headerExtensions"].push_back({{"uri", "urn:ietf:params:rtp-hdrext:sdes:mid"}});
  return ToVal(j);
}

// RTCConfiguration from a JS object: everything but certificates through JSON, certificates as the
// Certificate objects themselves.
absl::StatusOr<RTCConfiguration> ConfigFromVal(const val& config) {
  if (config.isUndefined() || config.isNull()) return RTCConfiguration{};
  if (config.typeOf().as<std::string>() != "object") return TypeError("RTCConfiguration must be an object");
  json j = json::object();
  for (const char* key : {"iceServers", "iceTransportPolicy", "bundlePolicy", "rtcpMuxPolicy", "iceCandidatePoolSize",
                          "peerIdentity" /* webrtc-identity §6 */}) {
    val v = config[key];
    if (!v.isUndefined()) j[key] = FromVal(v);
  }
  std::vector<std::shared_ptr<RTCCertificate>> certs;
  val list = config["certificates"];
  if (!list.isUndefined() && !list.isNull()) {
    if (!list.isArray()) return TypeError("certificates must be a sequence of RTCCertificate");
    int n = list["length"].as<int>();
    for (int i = 0; i < n; ++i) {
      // A core Certificate, or the JS package's RTCCertificate wrapping one in `__core`.
      val el = list[i];
      val cls = val::module_property("Certificate");
      val core = el.isUndefined() || el.isNull() ? val::undefined() : (el.instanceof(cls) ? el : el["__core"]);
      if (core.isUndefined() || core.isNull() || !core.instanceof(cls))
        return TypeError("certificates must hold RTCCertificate objects");
      certs.push_back(core.as<std::shared_ptr<Certificate>>()->cert());
    }
  }
  auto c = RTCConfigurationFromJson(j, nullptr);
  if (!c.ok()) return c.status();
  c->certificates = std::move(certs);
  return c;
}
}  // namespace

// W3C §4.4 RTCPeerConnection over the sans-IO engine.
class PeerConnection {
 public:
  explicit PeerConnection(std::unique_ptr<RTCPeerConnection> pc) : pc_(std::move(pc)) {}

  // --- JSEP and API ---
  val createOffer(val options) {
    RTCOfferOptions o;
    if (!options.isUndefined() && !options.isNull()) {
      val r = options["iceRestart"];
      o.iceRestart = !r.isUndefined() && r.as<bool>();
    }
    auto d = pc_->createOffer(o);
    if (!d.ok()) return ErrorVal(d.status());
    return DescriptionVal(d->type.value_or(RTCSdpType::kOffer), d->sdp);
  }
  val createAnswer() {
    auto d = pc_->createAnswer();
    if (!d.ok()) return ErrorVal(d.status());
    return DescriptionVal(d->type.value_or(RTCSdpType::kAnswer), d->sdp);
  }
  val setLocalDescription(std::string type, std::string sdp) {
    RTCSessionDescriptionInit init;
    if (!type.empty()) {
      auto t = ParseSdpType(type);
      if (!t.ok()) return ErrorVal(t.status());
      init.type = *t;
    }
    init.sdp = std::move(sdp);
    return StatusVal(pc_->setLocalDescription(init));
  }
  val setRemoteDescription(std::string type, std::string sdp) {
    auto t = ParseSdpType(type);
    if (!t.ok()) return ErrorVal(t.status());
    RTCSessionDescriptionInit init{*t, std::move(sdp)};
    return StatusVal(pc_->setRemoteDescription(init));
  }
  val addIceCandidate(val candidate) {
    if (candidate.isUndefined() || candidate.isNull()) return StatusVal(pc_->addIceCandidate(std::nullopt));
    auto init = RTCIceCandidateInitFromJson(FromVal(candidate));
    if (!init.ok()) return ErrorVal(init.status());
    return StatusVal(pc_->addIceCandidate(*init));
  }
  void restartIce() { pc_->restartIce(); }
  void close() { pc_->close(); }
  val getConfiguration() const { return ToVal(RTCConfigurationToJson(pc_->getConfiguration())); }
  val setConfiguration(val config) {
    auto c = ConfigFromVal(config);
    if (!c.ok()) return ErrorVal(c.status());
    return StatusVal(pc_->setConfiguration(*c));
  }
  val state() const {
    json j{{"signalingState", ToString(pc_->signalingState())},
           {"iceGatheringState", ToString(pc_->iceGatheringState())},
           {"iceConnectionState", ToString(pc_->iceConnectionState())},
           {"connectionState", ToString(pc_->connectionState())},
           {"localDescription", RTCSessionDescriptionToJson(pc_->localDescription())},
           {"currentLocalDescription", RTCSessionDescriptionToJson(pc_->currentLocalDescription())},
           {"pendingLocalDescription", RTCSessionDescriptionToJson(pc_->pendingLocalDescription())},
           {"remoteDescription", RTCSessionDescriptionToJson(pc_->remoteDescription())},
           {"currentRemoteDescription", RTCSessionDescriptionToJson(pc_->currentRemoteDescription())},
           {"pendingRemoteDescription", RTCSessionDescriptionToJson(pc_->pendingRemoteDescription())},
           {"dtlsState", ToString(pc_->dtlsTransport().state)}};
    // For getStats (webrtc-stats §7.14 transport.dtlsCipher, §7.16 the remote certificate).
    const RTCDtlsTransport dtls = pc_->dtlsTransport();
    j["dtlsCipher"] = dtls.cipherSuite;
    j["remoteFingerprint"] = dtls.remoteFingerprint;
    auto trickle = pc_->canTrickleIceCandidates();
    j["canTrickleIceCandidates"] = trickle ? json(*trickle) : json(nullptr);
    if (auto sctp = pc_->sctp()) {
      json s{{"state", ToString(sctp->state)}};
      // W3C §6.1.1: maxMessageSize may be +Infinity, which JSON cannot carry; null = Infinity here.
      s["maxMessageSize"] = std::isinf(sctp->maxMessageSize) ? json(nullptr) : json(sctp->maxMessageSize);
      s["maxChannels"] = sctp->maxChannels ? json(*sctp->maxChannels) : json(nullptr);
      j["sctp"] = s;
    } else {
      j["sctp"] = nullptr;
    }
    val out = ToVal(j);
    if (auto sctp = pc_->sctp(); sctp && std::isinf(sctp->maxMessageSize))
      out["sctp"].set("maxMessageSize", val::global("Infinity"));
    return out;
  }
  val certificateFingerprints() const { return FingerprintsVal(*pc_->certificate()); }

  // --- data channels (§6.1, §6.2) ---
  val createDataChannel(std::string label, val init_val) {
    auto init = RTCDataChannelInitFromJson(FromVal(init_val));
    if (!init.ok()) return ErrorVal(init.status());
    auto ch = pc_->createDataChannel(label, *init);
    if (!ch.ok()) return ErrorVal(ch.status());
    double h = Remember(*ch);
    val r = val::object();
    r.set("channel", h);
    return r;
  }
  val channelState(double handle) const {
    auto* ch = Find(handle);
    if (!ch) return val::null();
    return ToVal(RTCDataChannelToJson(*ch));
  }
  val channelSend(double handle, val data) {
    auto* ch = Find(handle);
    if (!ch) return ErrorVal("InvalidStateError", "unknown or closed channel");
    if (data.isString()) return StatusVal(ch->send(data.as<std::string>()));
    Bytes b = ValToBytes(data);
    return StatusVal(ch->sendBinary(ByteView(b.data(), b.size())));
  }
  void channelClose(double handle) {
    if (auto* ch = Find(handle)) ch->close();
  }
  void channelSetBufferedAmountLowThreshold(double handle, double v) {
    if (auto* ch = Find(handle)) ch->setBufferedAmountLowThreshold(v < 0 ? 0 : static_cast<uint64_t>(v));
  }

  // --- RTP media (§5.1–§5.4) ---
  // Transceivers are named by a numeric handle (the engine's, unique in the process); their sender
  // and receiver by the transceiver's handle. Tracks cross as Track objects.
  val addTransceiver(val track_or_kind, val init_val) {
    auto init = RTCRtpTransceiverInitFromJson(FromVal(init_val));
    if (!init.ok()) return ErrorVal(init.status());
    absl::StatusOr<std::shared_ptr<RTCRtpTransceiver>> t = TypeError("addTransceiver: a kind or a track is required");
    if (track_or_kind.isString()) {
      t = pc_->addTransceiver(track_or_kind.as<std::string>(), *init);
    } else if (auto track = TrackFromVal(track_or_kind)) {
      t = pc_->addTransceiver(track, *init);
    }
    if (!t.ok()) return ErrorVal(t.status());
    return TransceiverResult(*t);
  }
  val addTrack(val track_val, val streams_val) {
    auto track = TrackFromVal(track_val);
    if (!track) return ErrorVal("TypeError", "addTrack: not a MediaStreamTrack");
    std::vector<std::string> streams;
    json sj = FromVal(streams_val);
    if (sj.is_array())
      for (const auto& s : sj)
        if (s.is_string()) streams.push_back(s.get<std::string>());
    auto sender = pc_->addTrack(track, streams);
    if (!sender.ok()) return ErrorVal(sender.status());
    for (const auto& t : pc_->getTransceivers())
      if (t->sender() == *sender) return TransceiverResult(t);
    return ErrorVal("OperationError", "addTrack: no transceiver has the sender");
  }
  val removeTrack(double handle) {
    auto* t = FindTransceiver(handle);
    if (!t) return ErrorVal("InvalidAccessError", "the sender was not created by this peer connection");
    return StatusVal(pc_->removeTrack(t->sender()));
  }
  // getTransceivers(): handles in creation order.
  val transceivers() {
    val arr = val::array();
    for (const auto& t : pc_->getTransceivers()) arr.call<void>("push", RememberTransceiver(t));
    return arr;
  }
  // The transceiver's attributes: { kind, mid, direction, currentDirection, stopping, stopped,
  // senderStreams, receiverStreams } or null for an unknown handle.
  val transceiverState(double handle) const {
    auto* t = FindTransceiver(handle);
    if (!t) return val::null();
    json j{{"kind", t->kind()},
           {"mid", t->mid() ? json(*t->mid()) : json(nullptr)},
           {"direction", ToString(t->direction())},
           {"currentDirection", t->currentDirection() ? json(ToString(*t->currentDirection())) : json(nullptr)},
           {"stopping", t->stopping()},
           {"stopped", t->stopped()},
           {"senderStreams", t->sender()->stream_ids()},
           {"receiverStreams", t->receiver()->stream_ids()}};
    return ToVal(j);
  }
  val transceiverSetDirection(double handle, std::string direction) {
    auto* t = FindTransceiver(handle);
    if (!t) return ErrorVal("InvalidStateError", "unknown transceiver");
    auto d = ParseDirection(direction);
    if (!d) return ErrorVal("TypeError", absl::StrCat("'", direction, "' is not a valid RTCRtpTransceiverDirection"));
    return StatusVal(t->setDirection(*d));
  }
  val transceiverStop(double handle) {
    auto* t = FindTransceiver(handle);
    if (!t) return ErrorVal("InvalidStateError", "unknown transceiver");
    return StatusVal(t->stop());
  }
  val transceiverSetCodecPreferences(double handle, val codecs_val) {
    auto* t = FindTransceiver(handle);
    if (!t) return ErrorVal("InvalidStateError", "unknown transceiver");
    auto codecs = CodecsFromJson(FromVal(codecs_val));
    if (!codecs.ok()) return ErrorVal(codecs.status());
    return StatusVal(t->setCodecPreferences(*codecs));
  }
  val senderReplaceTrack(double handle, val track_val) {
    auto* t = FindTransceiver(handle);
    if (!t) return ErrorVal("InvalidStateError", "unknown sender");
    std::shared_ptr<MediaStreamTrack> track;
    if (!track_val.isNull() && !track_val.isUndefined()) {
      track = TrackFromVal(track_val);
      if (!track) return ErrorVal("TypeError", "replaceTrack: not a MediaStreamTrack");
    }
    return StatusVal(t->sender()->replaceTrack(std::move(track)));
  }
  val senderGetParameters(double handle) {
    auto* t = FindTransceiver(handle);
    if (!t) return val::null();
    return ToVal(SendParametersToJson(t->sender()->getParameters()));
  }
  val senderSetParameters(double handle, val params_val) {
    auto* t = FindTransceiver(handle);
    if (!t) return ErrorVal("InvalidStateError", "unknown sender");
    auto p = SendParametersFromJson(FromVal(params_val));
    if (!p.ok()) return ErrorVal(p.status());
    return StatusVal(t->sender()->setParameters(*p));
  }
  // webrtc-pc §7 RTCDTMFSender of the transceiver's sender (BINDING.md "DTMF"): insertDTMF with the
  // W3C defaults applied by the JS layer; an audio-less (video) sender is InvalidStateError.
  val senderInsertDTMF(double handle, std::string tones, double duration, double inter_tone_gap) {
    auto* t = FindTransceiver(handle);
    if (!t) return ErrorVal("InvalidStateError", "unknown sender");
    auto dtmf = t->sender()->dtmf();
    if (!dtmf) return ErrorVal("InvalidStateError", "the sender has no RTCDTMFSender (video)");
    // WebIDL unsigned long (ToUint32 of the integral part; the JS layer passes numbers).
    auto u32 = [](double v) { return static_cast<uint32_t>(static_cast<int64_t>(v)); };
    return StatusVal(dtmf->insertDTMF(tones, u32(duration), u32(inter_tone_gap)));
  }
  // {toneBuffer, canInsertDTMF}, or null when the sender has no RTCDTMFSender (video) / unknown.
  val senderDtmfState(double handle) const {
    auto* t = FindTransceiver(handle);
    if (!t) return val::null();
    auto dtmf = t->sender()->dtmf();
    if (!dtmf) return val::null();
    val r = val::object();
    r.set("toneBuffer", dtmf->toneBuffer());
    r.set("canInsertDTMF", dtmf->canInsertDTMF());
    return r;
  }
  // The receiver's track (one Track per call, all naming the same engine track).
  val receiverTrack(double handle) const {
    auto* t = FindTransceiver(handle);
    if (!t) return val::null();
    return val(std::make_shared<Track>(t->receiver()->track()));
  }
  // Not W3C: what the receiver's analysing sink measured (rtc_json.h RTCTrackInfoToJson).
  val receiverTrackInfo(double handle) const {
    auto* t = FindTransceiver(handle);
    if (!t) return val::null();
    return ToVal(RTCTrackInfoToJson(t->receiver()->track_info()));
  }
  // webrtc-stats RTP objects (codec, media-source, outbound-rtp, inbound-rtp, remote-inbound-rtp,
  // remote-outbound-rtp), referring to the transport stats object `transportId`.
  val rtpStats(double timestamp_ms, std::string transport_id) const {
    json stats = json::array();
    AppendRtpStats(*pc_, timestamp_ms, transport_id, stats);
    return ToVal(stats);
  }

  // --- sans-IO (Endpoint) ---
  val addLocalAddress(std::string ip, int port) {
    auto a = Addr(ip, port);
    if (!a.ok()) return ErrorVal(a.status());
    pc_->AddLocalAddress(*a);
    return Ok();
  }
  void handleReceive(val bytes, std::string local_ip, int local_port, std::string remote_ip, int remote_port,
                     double now_ms) {
    auto local = Addr(local_ip, local_port);
    auto remote = Addr(remote_ip, remote_port);
    if (!local.ok() || !remote.ok()) return;  // not an address the engine can have sent to: drop
    Bytes b = ValToBytes(bytes);
    pc_->HandleReceive(ByteView(b.data(), b.size()), *local, *remote, FromMs(now_ms));
  }
  void handleStreamData(val bytes, std::string local_ip, int local_port, std::string remote_ip, int remote_port,
                        double now_ms) {
    auto local = Addr(local_ip, local_port);
    auto remote = Addr(remote_ip, remote_port);
    if (!local.ok() || !remote.ok()) return;
    Bytes b = ValToBytes(bytes);
    pc_->HandleStreamData(ByteView(b.data(), b.size()), *local, *remote, FromMs(now_ms));
  }
  void handleStreamClosed(std::string local_ip, int local_port, std::string remote_ip, int remote_port,
                          double now_ms) {
    auto local = Addr(local_ip, local_port);
    auto remote = Addr(remote_ip, remote_port);
    if (!local.ok() || !remote.ok()) return;
    pc_->HandleStreamClosed(*local, *remote, FromMs(now_ms));
  }
  void handleTimeout(double now_ms) { pc_->HandleTimeout(FromMs(now_ms)); }
  void setTime(double now_ms) { pc_->SetTime(FromMs(now_ms)); }
  val pollTransmit() {
    auto t = pc_->PollTransmit();
    if (!t) return val::null();
    val o = val::object();
    o.set("data", BytesToVal(t->data));
    o.set("fromIp", t->from.IpString());
    o.set("fromPort", t->from.port());
    o.set("toIp", t->to.IpString());
    o.set("toPort", t->to.port());
    o.set("protocol", t->protocol == TransportProtocol::kTcp ? "tcp" : "udp");
    return o;
  }
  val pollTimeout() {
    auto t = pc_->PollTimeout();
    return t ? val(ToMs(*t)) : val::null();
  }
  val pollEvent() {
    auto e = pc_->PollEvent();
    if (!e) return val::null();
    val o = val::object();
    auto channel = [&]() { o.set("channel", e->channel ? Remember(e->channel) : -1.0); };
    switch (e->type) {
      case RTCEventType::kIceCandidate:
        o.set("type", "icecandidate");
        o.set("candidate", e->candidate ? ToVal(RTCIceCandidateInitToJson(*e->candidate)) : val::null());
        break;
      case RTCEventType::kIceCandidateError:
        o.set("type", "icecandidateerror");
        o.set("url", e->error_detail);
        o.set("errorCode", std::atoi(e->error_name.c_str()));
        o.set("errorText", e->error_message);
        break;
      case RTCEventType::kIceGatheringStateChange:
        o.set("type", "icegatheringstatechange");
        o.set("state", e->state);
        break;
      case RTCEventType::kIceConnectionStateChange:
        o.set("type", "iceconnectionstatechange");
        o.set("state", e->state);
        break;
      case RTCEventType::kConnectionStateChange:
        o.set("type", "connectionstatechange");
        o.set("state", e->state);
        break;
      case RTCEventType::kSignalingStateChange:
        o.set("type", "signalingstatechange");
        o.set("state", e->state);
        break;
      case RTCEventType::kNegotiationNeeded:
        o.set("type", "negotiationneeded");
        break;
      case RTCEventType::kDataChannel:
        o.set("type", "datachannel");
        channel();
        break;
      case RTCEventType::kChannelOpen:
        o.set("type", "open");
        channel();
        break;
      case RTCEventType::kChannelClosing:
        o.set("type", "closing");
        channel();
        break;
      case RTCEventType::kChannelClose:
        o.set("type", "close");
        channel();
        Forget(e->channel);
        break;
      case RTCEventType::kChannelMessage:
        o.set("type", "message");
        channel();
        if (e->binary) {
          o.set("data", BytesToVal(e->data));
        } else {
          o.set("data", std::string(e->data.begin(), e->data.end()));
        }
        break;
      case RTCEventType::kChannelBufferedAmountLow:
        o.set("type", "bufferedamountlow");
        channel();
        break;
      case RTCEventType::kChannelError:
        o.set("type", "error");
        channel();
        o.set("name", e->error_name);
        o.set("message", e->error_message);
        o.set("errorDetail", e->error_detail);
        break;
      case RTCEventType::kIdentityResult:
      case RTCEventType::kPeerIdentityResult:
        // webrtc-identity: assertion generation / peerIdentity settled ("fulfilled"|"rejected").
        o.set("type", e->type == RTCEventType::kIdentityResult ? "identityresult" : "peeridentityresult");
        o.set("state", e->state);
        if (e->state == "rejected") {
          val err = val::object();
          err.set("name", e->error_name);
          err.set("message", e->error_message);
          if (!e->error_detail.empty()) err.set("errorDetail", e->error_detail);
          o.set("error", err);
        }
        break;
      case RTCEventType::kToneChange: {
        // webrtc-pc §7.3 RTCDTMFToneChangeEvent at the sender's dtmf: the transceiver handle names it.
        o.set("type", "tonechange");
        double h = -1.0;
        for (const auto& t : pc_->getTransceivers())
          if (t->sender() == e->sender) h = RememberTransceiver(t);
        o.set("transceiver", h);
        o.set("tone", e->state);
        break;
      }
      case RTCEventType::kDtmfReceived:
        // refrtc extension: one RFC 4733 digit received on the transceiver's receiver.
        o.set("type", "dtmf");
        o.set("transceiver", e->transceiver ? RememberTransceiver(e->transceiver) : -1.0);
        o.set("tone", e->state);
        o.set("duration", static_cast<double>(e->duration_ms));
        break;
      case RTCEventType::kTrack: {
        // webrtc-pc §5.7 RTCTrackEvent: the transceiver (its receiver and track) and the ids of the
        // remote streams the track belongs to.
        o.set("type", "track");
        o.set("transceiver", e->transceiver ? RememberTransceiver(e->transceiver) : -1.0);
        val streams = val::array();
        for (const auto& id : e->streams) streams.call<void>("push", id);
        o.set("streams", streams);
        break;
      }
    }
    return o;
  }

  // --- webrtc-identity (BINDING.md "Identity") ---
  val setIdentityProvider(std::string provider, val options) {
    RTCIdentityProviderOptions o;
    json j = FromVal(options);
    if (j.is_object()) {
      if (j.contains("protocol") && j["protocol"].is_string()) o.protocol = j["protocol"].get<std::string>();
      if (j.contains("usernameHint") && j["usernameHint"].is_string()) o.usernameHint = j["usernameHint"].get<std::string>();
      if (j.contains("peerIdentity") && j["peerIdentity"].is_string()) o.peerIdentity = j["peerIdentity"].get<std::string>();
    }
    return StatusVal(pc_->setIdentityProvider(provider, o));
  }
  val getIdentityAssertion() {
    auto a = pc_->getIdentityAssertion();
    if (!a.ok()) return ErrorVal(a.status());
    val r = val::object();
    r.set("assertion", *a);
    return r;
  }
  // {peerIdentity: {state, idp?, name?, error?}, idpLoginUrl, idpErrorInfo}
  val identityState() const {
    RTCPeerIdentity id = pc_->peerIdentity();
    val p = val::object();
    p.set("state", std::string(ToString(id.state)));
    if (id.state == RTCPromiseState::kFulfilled) {
      p.set("idp", id.assertion.idp);
      p.set("name", id.assertion.name);
    } else if (id.state == RTCPromiseState::kRejected) {
      p.set("error", ErrorVal(id.error)["error"]);
    }
    val r = val::object();
    r.set("peerIdentity", p);
    r.set("idpLoginUrl", pc_->idpLoginUrl() ? val(*pc_->idpLoginUrl()) : val::null());
    r.set("idpErrorInfo", pc_->idpErrorInfo() ? val(*pc_->idpErrorInfo()) : val::null());
    return r;
  }
  void setIdpTimeout(double ms) { pc_->setIdpTimeout(std::chrono::microseconds(std::llround(ms * 1000.0))); }
  // Registers a JS IdP for (domain, protocol) in this peer connection's registry: the engine's
  // calls to it queue up for pollIdpRequest(); the JS side answers with settleIdpRequest().
  val registerIdpBridge(std::string domain, std::string protocol) {
    return StatusVal(pc_->identityProviders().Register(domain, protocol, std::make_shared<JsIdpBridge>(domain, protocol, idp_queue_)));
  }
  // {id, kind: "generate"|"validate", domain, protocol, origin, contents, options} or
  // {id, kind: "validate", ..., assertion}; null when none is waiting.
  val pollIdpRequest() {
    if (idp_queue_->calls.empty()) return val::null();
    IdpCall c = std::move(idp_queue_->calls.front());
    idp_queue_->calls.pop_front();
    val o = val::object();
    o.set("id", c.id);
    o.set("kind", c.kind);
    o.set("domain", c.domain);
    o.set("protocol", c.protocol);
    o.set("origin", c.origin);
    if (c.kind == "generate") {
      o.set("contents", c.contents);
      val opt = val::object();
      opt.set("protocol", c.options.protocol);
      if (c.options.usernameHint) opt.set("usernameHint", *c.options.usernameHint);
      if (c.options.peerIdentity) opt.set("peerIdentity", *c.options.peerIdentity);
      o.set("options", opt);
    } else {
      o.set("assertion", c.assertion);
    }
    return o;
  }
  // ok: value = RTCIdentityAssertionResult {idp: {domain, protocol}, assertion} or
  // RTCIdentityValidationResult {identity, contents}; else value = {errorDetail, message,
  // idpLoginUrl, idpErrorInfo}. Unknown ids (timed out, abandoned) are ignored.
  void settleIdpRequest(double id, bool ok, val value) {
    json j = FromVal(value);
    auto str = [&](const json& o, const char* k) {
      return o.is_object() && o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
    };
    auto opt = [&](const json& o, const char* k) -> std::optional<std::string> {
      if (o.is_object() && o.contains(k) && o[k].is_string()) return o[k].get<std::string>();
      return std::nullopt;
    };
    RTCIdentityProviderError err{str(j, "errorDetail"), str(j, "message"), opt(j, "idpLoginUrl"), opt(j, "idpErrorInfo")};
    if (auto it = idp_queue_->gen.find(id); it != idp_queue_->gen.end()) {
      auto req = it->second;
      idp_queue_->gen.erase(it);
      if (!ok) return req->reject(err);
      RTCIdentityAssertionResult r;
      const json idp = j.is_object() && j.contains("idp") ? j["idp"] : json();
      r.idp.domain = str(idp, "domain");
      if (auto p = opt(idp, "protocol")) r.idp.protocol = *p;
      r.assertion = str(j, "assertion");
      return req->resolve(r);
    }
    if (auto it = idp_queue_->val.find(id); it != idp_queue_->val.end()) {
      auto req = it->second;
      idp_queue_->val.erase(it);
      if (!ok) return req->reject(err);
      if (!opt(j, "identity") || !opt(j, "contents"))
        return req->reject({"idp-bad-script-failure", "validateAssertion did not resolve to an RTCIdentityValidationResult"});
      return req->resolve(RTCIdentityValidationResult{str(j, "identity"), str(j, "contents")});
    }
  }

 private:
  struct IdpCall {
    double id = 0;
    std::string kind, domain, protocol, origin, contents, assertion;
    RTCIdentityProviderOptions options;
  };
  struct IdpQueue {
    double next_id = 1;
    std::deque<IdpCall> calls;
    std::map<double, std::shared_ptr<RTCIdentityAssertionRequest>> gen;
    std::map<double, std::shared_ptr<RTCIdentityValidationRequest>> val;
  };
  // The engine-side stand-in for a JS RTCIdentityProvider: each callback becomes a queued call.
  class JsIdpBridge : public RTCIdentityProvider {
   public:
    JsIdpBridge(std::string domain, std::string protocol, std::shared_ptr<IdpQueue> q)
        : domain_(std::move(domain)), protocol_(std::move(protocol)), q_(std::move(q)) {}
    void generateAssertion(const std::string& contents, const std::string& origin, const RTCIdentityProviderOptions& options,
                           std::shared_ptr<RTCIdentityAssertionRequest> request) override {
      IdpCall c{q_->next_id++, "generate", domain_, protocol_, origin, contents, "", options};
      q_->gen[c.id] = std::move(request);
      q_->calls.push_back(std::move(c));
    }
    void validateAssertion(const std::string& assertion, const std::string& origin,
                           std::shared_ptr<RTCIdentityValidationRequest> request) override {
      IdpCall c{q_->next_id++, "validate", domain_, protocol_, origin, "", assertion, {}};
      q_->val[c.id] = std::move(request);
      q_->calls.push_back(std::move(c));
    }

   private:
    std::string domain_, protocol_;
    std::shared_ptr<IdpQueue> q_;
  };
  std::shared_ptr<IdpQueue> idp_queue_ = std::make_shared<IdpQueue>();

  static val DescriptionVal(RTCSdpType type, const std::string& sdp) {
    val o = val::object();
    o.set("type", std::string(ToString(type)));
    o.set("sdp", sdp);
    return o;
  }
  static val StatusVal(const absl::Status& st) { return st.ok() ? Ok() : ErrorVal(st); }

  // Channels by handle. The JS side names a channel by its handle for the channel's whole life;
  // the engine's own reference goes when it closes, ours when the close event has been polled.
  double Remember(const std::shared_ptr<RTCDataChannel>& ch) {
    channels_[ch->handle()] = ch;
    return static_cast<double>(ch->handle());
  }
  void Forget(const std::shared_ptr<RTCDataChannel>& ch) {
    if (ch) closed_[ch->handle()] = ch, channels_.erase(ch->handle());
  }
  RTCDataChannel* Find(double handle) const {
    auto key = static_cast<uint64_t>(handle);
    if (auto it = channels_.find(key); it != channels_.end()) return it->second.get();
    if (auto it = closed_.find(key); it != closed_.end()) return it->second.get();
    return nullptr;
  }

  val TransceiverResult(const std::shared_ptr<RTCRtpTransceiver>& t) {
    val r = val::object();
    r.set("transceiver", RememberTransceiver(t));
    return r;
  }
  // Transceivers by handle: kept for the PeerConnection's life, so a transceiver that rollback or
  // negotiation removed from getTransceivers() stays addressable (its ops then fail as the spec says).
  double RememberTransceiver(const std::shared_ptr<RTCRtpTransceiver>& t) {
    transceivers_[t->handle()] = t;
    return static_cast<double>(t->handle());
  }
  RTCRtpTransceiver* FindTransceiver(double handle) const {
    if (auto it = transceivers_.find(static_cast<uint64_t>(handle)); it != transceivers_.end()) return it->second.get();
    return nullptr;
  }

  std::unique_ptr<RTCPeerConnection> pc_;
  std::map<uint64_t, std::shared_ptr<RTCRtpTransceiver>> transceivers_;
  std::map<uint64_t, std::shared_ptr<RTCDataChannel>> channels_;
  // Closed channels stay readable (readyState "closed", send → InvalidStateError) until the
  // PeerConnection is deleted.
  std::map<uint64_t, std::shared_ptr<RTCDataChannel>> closed_;
};

namespace {
val CreatePeerConnection(val config, double seed, double unix_time_s) {
  auto c = ConfigFromVal(config);
  if (!c.ok()) return ErrorVal(c.status());
  RTCEngineOptions options;
  options.seed = static_cast<uint64_t>(seed);
  options.unix_time_s = static_cast<int64_t>(unix_time_s);
  auto pc = RTCPeerConnection::Create(*c, options);
  if (!pc.ok()) return ErrorVal(pc.status());
  val r = val::object();
  r.set("pc", val(std::make_shared<PeerConnection>(std::move(*pc))));
  return r;
}
}  // namespace

EMSCRIPTEN_BINDINGS(refrtc_core) {
  using emscripten::class_;
  using emscripten::function;
  function("generateCertificate", &GenerateCertificate);
  function("generateCertificateWith", &GenerateCertificateWith);
  function("createPeerConnection", &CreatePeerConnection);
  function("createSyntheticTrack", &CreateSyntheticTrack);
  function("getCapabilities", &GetCapabilities);
  class_<Certificate>("Certificate")
      .smart_ptr<std::shared_ptr<Certificate>>("CertificatePtr")
      .function("expires", &Certificate::expires)
      .function("getFingerprints", &Certificate::getFingerprints);
  class_<Track>("Track")
      .smart_ptr<std::shared_ptr<Track>>("TrackPtr")
      .function("kind", &Track::kind)
      .function("id", &Track::id)
      .function("label", &Track::label)
      .function("enabled", &Track::enabled)
      .function("setEnabled", &Track::setEnabled)
      .function("muted", &Track::muted)
      .function("readyState", &Track::readyState)
      .function("stop", &Track::stop)
      .function("remote", &Track::remote)
      .function("source", &Track::source);
  class_<PeerConnection>("PeerConnection")
      .smart_ptr<std::shared_ptr<PeerConnection>>("PeerConnectionPtr")
      .function("createOffer", &PeerConnection::createOffer)
      .function("createAnswer", &PeerConnection::createAnswer)
      .function("setLocalDescription", &PeerConnection::setLocalDescription)
      .function("setRemoteDescription", &PeerConnection::setRemoteDescription)
      .function("addIceCandidate", &PeerConnection::addIceCandidate)
      .function("restartIce", &PeerConnection::restartIce)
      .function("close", &PeerConnection::close)
      .function("getConfiguration", &PeerConnection::getConfiguration)
      .function("setConfiguration", &PeerConnection::setConfiguration)
      .function("state", &PeerConnection::state)
      .function("certificateFingerprints", &PeerConnection::certificateFingerprints)
      .function("createDataChannel", &PeerConnection::createDataChannel)
      .function("channelState", &PeerConnection::channelState)
      .function("channelSend", &PeerConnection::channelSend)
      .function("channelClose", &PeerConnection::channelClose)
      .function("channelSetBufferedAmountLowThreshold", &PeerConnection::channelSetBufferedAmountLowThreshold)
      .function("addTransceiver", &PeerConnection::addTransceiver)
      .function("addTrack", &PeerConnection::addTrack)
      .function("removeTrack", &PeerConnection::removeTrack)
      .function("transceivers", &PeerConnection::transceivers)
      .function("transceiverState", &PeerConnection::transceiverState)
      .function("transceiverSetDirection", &PeerConnection::transceiverSetDirection)
      .function("transceiverStop", &PeerConnection::transceiverStop)
      .function("transceiverSetCodecPreferences", &PeerConnection::transceiverSetCodecPreferences)
      .function("senderReplaceTrack", &PeerConnection::senderReplaceTrack)
      .function("senderGetParameters", &PeerConnection::senderGetParameters)
      .function("senderSetParameters", &PeerConnection::senderSetParameters)
      .function("senderInsertDTMF", &PeerConnection::senderInsertDTMF)
      .function("senderDtmfState", &PeerConnection::senderDtmfState)
      .function("receiverTrack", &PeerConnection::receiverTrack)
      .function("receiverTrackInfo", &PeerConnection::receiverTrackInfo)
      .function("rtpStats", &PeerConnection::rtpStats)
      .function("addLocalAddress", &PeerConnection::addLocalAddress)
      .function("handleReceive", &PeerConnection::handleReceive)
      .function("handleStreamData", &PeerConnection::handleStreamData)
      .function("handleStreamClosed", &PeerConnection::handleStreamClosed)
      .function("handleTimeout", &PeerConnection::handleTimeout)
      .function("setTime", &PeerConnection::setTime)
      .function("pollTransmit", &PeerConnection::pollTransmit)
      .function("pollTimeout", &PeerConnection::pollTimeout)
      .function("pollEvent", &PeerConnection::pollEvent)
      .function("setIdentityProvider", &PeerConnection::setIdentityProvider)
      .function("getIdentityAssertion", &PeerConnection::getIdentityAssertion)
      .function("identityState", &PeerConnection::identityState)
      .function("setIdpTimeout", &PeerConnection::setIdpTimeout)
      .function("registerIdpBridge", &PeerConnection::registerIdpBridge)
      .function("pollIdpRequest", &PeerConnection::pollIdpRequest)
      .function("settleIdpRequest", &PeerConnection::settleIdpRequest);
}

}  // namespace refrtc::wasm
