#include "refrtc/rtc_json.h"

#include <map>
#include <set>

#include "api/media_session.h"
#include "dtls/certificate.h"
#include "dtls/dtls_transport.h"
#include "engine/transport_stack.h"
#include "ice/candidate.h"
#include "srtp/srtp_session.h"
#include "util/codec.h"
#include "refrtc/rtc_peer_connection.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "util/dom_exception.h"

namespace refrtc {
namespace {
using json = nlohmann::json;

bool Present(const json& j, const char* key) { return j.is_object() && j.contains(key) && !j[key].is_null(); }

// WebIDL [EnforceRange] unsigned short.
absl::StatusOr<std::optional<uint16_t>> OptUint16(const json& j, const char* key) {
  if (!Present(j, key)) return std::optional<uint16_t>();
  const json& v = j[key];
  if (!v.is_number()) return TypeError(absl::StrCat(key, " must be a number"));
  double d = v.get<double>();
  if (!(d >= 0 && d <= 65535)) return TypeError(absl::StrCat(key, " is out of range for unsigned short"));
  return std::optional<uint16_t>(static_cast<uint16_t>(d));
}

absl::StatusOr<std::string> OptString(const json& j, const char* key, std::string dflt = "") {
  if (!Present(j, key)) return dflt;
  if (!j[key].is_string()) return TypeError(absl::StrCat(key, " must be a string"));
  return j[key].get<std::string>();
}

absl::StatusOr<bool> OptBool(const json& j, const char* key, bool dflt) {
  if (!Present(j, key)) return dflt;
  if (!j[key].is_boolean()) return TypeError(absl::StrCat(key, " must be a boolean"));
  return j[key].get<bool>();
}

}  // namespace

absl::StatusOr<RTCConfiguration> RTCConfigurationFromJson(const json& j, const CertificateLookup& lookup) {
  RTCConfiguration c;
  if (j.is_null()) return c;
  if (!j.is_object()) return TypeError("RTCConfiguration must be an object");
  if (Present(j, "certificates")) {
    if (!j["certificates"].is_array()) return TypeError("certificates must be a sequence of RTCCertificate");
    for (const auto& h : j["certificates"]) {
      auto cert = lookup ? lookup(h) : absl::StatusOr<std::shared_ptr<RTCCertificate>>(TypeError("no certificates"));
      if (!cert.ok()) return cert.status();
      c.certificates.push_back(*cert);
    }
  }
  if (Present(j, "peerIdentity")) {  // webrtc-identity §6 RTCConfiguration.peerIdentity
    if (!j["peerIdentity"].is_string()) return TypeError("peerIdentity must be a string");
    c.peerIdentity = j["peerIdentity"].get<std::string>();
  }
  if (Present(j, "iceServers")) {
    if (!j["iceServers"].is_array()) return TypeError("iceServers must be a sequence of RTCIceServer");
    for (const auto& s : j["iceServers"]) {
      if (!s.is_object()) return TypeError("an RTCIceServer must be an object");
      RTCIceServer server;
      if (!Present(s, "urls")) return TypeError("RTCIceServer.urls is required");
      if (s["urls"].is_string()) {
        server.urls.push_back(s["urls"].get<std::string>());
      } else if (s["urls"].is_array()) {
        for (const auto& u : s["urls"]) {
          if (!u.is_string()) return TypeError("RTCIceServer.urls must hold strings");
          server.urls.push_back(u.get<std::string>());
        }
      } else {
        return TypeError("RTCIceServer.urls must be a string or a sequence of strings");
      }
      auto user = OptString(s, "username");
      if (!user.ok()) return user.status();
      auto cred = OptString(s, "credential");
      if (!cred.ok()) return cred.status();
      server.username = *user;
      server.credential = *cred;
      c.iceServers.push_back(std::move(server));
    }
  }
  auto policy = OptString(j, "iceTransportPolicy", "all");
  if (!policy.ok()) return policy.status();
  if (*policy == "relay") c.iceTransportPolicy = RTCIceTransportPolicy::kRelay;
  else if (*policy != "all") return TypeError(absl::StrCat("bad iceTransportPolicy '", *policy, "'"));
  auto bundle = OptString(j, "bundlePolicy", "balanced");
  if (!bundle.ok()) return bundle.status();
  if (*bundle == "max-bundle") c.bundlePolicy = RTCBundlePolicy::kMaxBundle;
  else if (*bundle == "max-compat") c.bundlePolicy = RTCBundlePolicy::kMaxCompat;
  else if (*bundle != "balanced") return TypeError(absl::StrCat("bad bundlePolicy '", *bundle, "'"));
  auto mux = OptString(j, "rtcpMuxPolicy", "require");
  if (!mux.ok()) return mux.status();
  if (*mux != "require") return TypeError(absl::StrCat("bad rtcpMuxPolicy '", *mux, "'"));
  if (Present(j, "iceCandidatePoolSize")) {
    const json& v = j["iceCandidatePoolSize"];
    // [EnforceRange] octet.
    if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= 255))
      return TypeError("iceCandidatePoolSize is out of range for octet");
    c.iceCandidatePoolSize = static_cast<uint8_t>(v.get<double>());
  }
  return c;
}

json RTCConfigurationToJson(const RTCConfiguration& c) {
  json servers = json::array();
  for (const auto& s : c.iceServers) {
    json e{{"urls", s.urls}};
    if (!s.username.empty()) e["username"] = s.username;
    if (!s.credential.empty()) e["credential"] = s.credential;
    servers.push_back(std::move(e));
  }
  const char* bundle = c.bundlePolicy == RTCBundlePolicy::kMaxBundle   ? "max-bundle"
                       : c.bundlePolicy == RTCBundlePolicy::kMaxCompat ? "max-compat"
                                                                       : "balanced";
  json j{{"iceServers", servers},
         {"iceTransportPolicy", c.iceTransportPolicy == RTCIceTransportPolicy::kRelay ? "relay" : "all"},
         {"bundlePolicy", bundle},
         {"rtcpMuxPolicy", "require"},
         {"iceCandidatePoolSize", c.iceCandidatePoolSize}};
  if (c.peerIdentity) j["peerIdentity"] = *c.peerIdentity;  // webrtc-identity §6
  return j;
}

absl::StatusOr<RTCDataChannelInit> RTCDataChannelInitFromJson(const json& j) {
  RTCDataChannelInit init;
  if (j.is_null()) return init;
  if (!j.is_object()) return TypeError("RTCDataChannelInit must be an object");
  auto ordered = OptBool(j, "ordered", true);
  if (!ordered.ok()) return ordered.status();
  init.ordered = *ordered;
  auto life = OptUint16(j, "maxPacketLifeTime");
  if (!life.ok()) return life.status();
  init.maxPacketLifeTime = *life;
  auto rtx = OptUint16(j, "maxRetransmits");
  if (!rtx.ok()) return rtx.status();
  init.maxRetransmits = *rtx;
  auto proto = OptString(j, "protocol");
  if (!proto.ok()) return proto.status();
  init.protocol = *proto;
  auto negotiated = OptBool(j, "negotiated", false);
  if (!negotiated.ok()) return negotiated.status();
  init.negotiated = *negotiated;
  auto id = OptUint16(j, "id");
  if (!id.ok()) return id.status();
  init.id = *id;
  return init;
}

json RTCDataChannelToJson(const RTCDataChannel& ch) {
  json j{{"label", ch.label()},
         {"ordered", ch.ordered()},
         {"protocol", ch.protocol()},
         {"negotiated", ch.negotiated()},
         {"readyState", ToString(ch.readyState())},
         {"bufferedAmount", ch.bufferedAmount()},
         {"bufferedAmountLowThreshold", ch.bufferedAmountLowThreshold()},
         {"binaryType", ch.binaryType()}};
  j["id"] = ch.id() ? json(*ch.id()) : json(nullptr);
  j["maxPacketLifeTime"] = ch.maxPacketLifeTime() ? json(*ch.maxPacketLifeTime()) : json(nullptr);
  j["maxRetransmits"] = ch.maxRetransmits() ? json(*ch.maxRetransmits()) : json(nullptr);
  return j;
}

json RTCIceCandidateInitToJson(const RTCIceCandidateInit& c) {
  json j{{"candidate", c.candidate}};
  j["sdpMid"] = c.sdpMid ? json(*c.sdpMid) : json(nullptr);
  j["sdpMLineIndex"] = c.sdpMLineIndex ? json(*c.sdpMLineIndex) : json(nullptr);
  j["usernameFragment"] = c.usernameFragment ? json(*c.usernameFragment) : json(nullptr);
  return j;
}

absl::StatusOr<RTCIceCandidateInit> RTCIceCandidateInitFromJson(const json& j) {
  if (!j.is_object()) return TypeError("RTCIceCandidateInit must be an object");
  RTCIceCandidateInit c;
  auto cand = OptString(j, "candidate");
  if (!cand.ok()) return cand.status();
  c.candidate = *cand;
  if (Present(j, "sdpMid")) {
    auto mid = OptString(j, "sdpMid");
    if (!mid.ok()) return mid.status();
    c.sdpMid = *mid;
  }
  auto index = OptUint16(j, "sdpMLineIndex");
  if (!index.ok()) return index.status();
  c.sdpMLineIndex = *index;
  if (Present(j, "usernameFragment")) {
    auto u = OptString(j, "usernameFragment");
    if (!u.ok()) return u.status();
    c.usernameFragment = *u;
  }
  return c;
}

json RTCSessionDescriptionToJson(const std::optional<RTCSessionDescription>& d) {
  if (!d) return nullptr;
  return json{{"type", ToString(d->type)}, {"sdp", d->sdp}};
}

}  // namespace refrtc

// ---------------------------------------------------------------------------------------------
// Media (issue D)

namespace refrtc {

absl::StatusOr<RTCRtpTransceiverInit> RTCRtpTransceiverInitFromJson(const nlohmann::json& j) {
  RTCRtpTransceiverInit init;
  if (j.is_null()) return init;
  if (!j.is_object()) return TypeError("RTCRtpTransceiverInit must be an object");
  if (j.contains("direction") && !j["direction"].is_null()) {
    if (!j["direction"].is_string()) return TypeError("direction must be a string");
    auto d = ParseDirection(j["direction"].get<std::string>());
    if (!d) return TypeError(absl::StrCat("'", j["direction"].get<std::string>(), "' is not a valid RTCRtpTransceiverDirection"));
    init.direction = *d;
  }
  if (j.contains("streams") && j["streams"].is_array()) {
    for (const auto& s : j["streams"]) {
      if (s.is_string()) init.streams.push_back(s.get<std::string>());
      else if (s.is_object() && s.contains("id") && s["id"].is_string()) init.streams.push_back(s["id"].get<std::string>());
      else return TypeError("streams must hold stream ids");
    }
  }
  if (j.contains("sendEncodings") && j["sendEncodings"].is_array()) {
    for (const auto& e : j["sendEncodings"]) {
      if (!e.is_object()) return TypeError("sendEncodings must hold objects");
      RTCRtpEncodingParameters p;
      if (e.contains("active") && e["active"].is_boolean()) p.active = e["active"].get<bool>();
      if (e.contains("maxBitrate") && e["maxBitrate"].is_number()) {
        double v = e["maxBitrate"].get<double>();
        if (v < 0) return TypeError("maxBitrate must be unsigned");
        p.maxBitrate = static_cast<uint64_t>(v);
      }
      init.sendEncodings.push_back(p);
    }
  }
  return init;
}

nlohmann::json RTCTrackInfoToJson(const RTCTrackInfo& info) {
  nlohmann::json j{{"kind", info.kind}};
  if (info.kind == "audio") {
    j["samplesReceived"] = info.samplesReceived;
    j["sampleRate"] = info.sampleRate;
    j["dominantHz"] = info.dominantHz ? nlohmann::json(*info.dominantHz) : nlohmann::json(nullptr);
    j["rms"] = info.rms;
  } else {
    j["framesReceived"] = info.framesReceived;
    j["framesDecoded"] = info.framesDecoded;
    j["width"] = info.width;
    j["height"] = info.height;
  }
  return j;
}

namespace {
nlohmann::json CodecStats(const sdp::RtpCodec& c, const std::string& kind, const std::string& id, double ts,
                          const std::string& transport_id) {
  nlohmann::json j{{"id", id},
                   {"type", "codec"},
                   {"timestamp", ts},
                   {"payloadType", c.payload_type},
                   {"mimeType", absl::StrCat(kind, "/", c.name)},
                   {"clockRate", c.clock_rate},
                   {"transportId", transport_id}};
  if (kind == "audio") j["channels"] = c.channels;
  if (!c.fmtp.empty()) j["sdpFmtpLine"] = c.fmtp;
  return j;
}
}  // namespace

void AppendRtpStats(const RTCPeerConnection& pc, double ts, const std::string& transport_id, nlohmann::json& stats) {
  // webrtc-stats §3: ids are derived from stable properties (SSRC, payload type, sender handle).
  auto transceivers = pc.getTransceivers();
  std::set<std::string> codec_ids;
  for (const auto& st : pc.media_stats()) {
    std::shared_ptr<RTCRtpTransceiver> t;
    for (const auto& x : transceivers)
      if (x->mid() && *x->mid() == st.mid) t = x;
    const std::string k = st.kind == "audio" ? "A" : "V";
    if (st.send) {
      const auto& c = *st.send;
      std::string out_id = absl::StrCat("OT", k, st.local_ssrc);
      std::string codec_id;
      if (st.send_codec) {
        codec_id = absl::StrCat("CO", transport_id, "_", int(st.send_codec->payload_type));
        if (codec_ids.insert(codec_id).second) stats.push_back(CodecStats(*st.send_codec, st.kind, codec_id, ts, transport_id));
      }
      nlohmann::json o{{"id", out_id},
                       {"type", "outbound-rtp"},
                       {"timestamp", ts},
                       {"ssrc", st.local_ssrc},
                       {"kind", st.kind},
                       {"transportId", transport_id},
                       {"mid", st.mid},
                       {"packetsSent", c.packets_sent},
                       {"bytesSent", c.bytes_sent},
                       {"headerBytesSent", c.header_bytes_sent},
                       {"retransmittedPacketsSent", c.retransmitted_packets_sent},
                       {"retransmittedBytesSent", c.retransmitted_bytes_sent},
                       {"nackCount", c.nack_count},
                       {"active", true}};
      if (!codec_id.empty()) o["codecId"] = codec_id;
      if (t && t->sender()->track()) {
        std::string src_id = absl::StrCat("S", k, t->sender()->handle());
        o["mediaSourceId"] = src_id;
        nlohmann::json src{{"id", src_id}, {"type", "media-source"}, {"timestamp", ts},
                           {"trackIdentifier", t->sender()->track()->id()}, {"kind", st.kind}};
        if (st.kind == "video") {
          src["width"] = st.frame_width;
          src["height"] = st.frame_height;
          src["frames"] = st.frames_encoded;
        }
        stats.push_back(src);
      }
      if (st.kind == "video") {
        o["framesEncoded"] = st.frames_encoded;
        o["keyFramesEncoded"] = st.keyframes_encoded;
        o["frameWidth"] = st.frame_width;
        o["frameHeight"] = st.frame_height;
        o["pliCount"] = c.pli_count;
        o["firCount"] = c.fir_count;
      }
      if (c.last_report) {
        // webrtc-stats §7.6 RTCRemoteInboundRtpStreamStats, from the last report block about us.
        std::string rid = absl::StrCat("RI", k, st.local_ssrc);
        o["remoteId"] = rid;
        nlohmann::json ri{{"id", rid},
                          {"type", "remote-inbound-rtp"},
                          {"timestamp", ts},
                          {"ssrc", st.local_ssrc},
                          {"kind", st.kind},
                          {"transportId", transport_id},
                          {"localId", out_id},
                          {"packetsLost", c.last_report->cumulative_lost},
                          {"fractionLost", c.last_report->fraction_lost / 256.0},
                          {"jitter", st.send_codec && st.send_codec->clock_rate
                                         ? c.last_report->jitter / double(st.send_codec->clock_rate)
                                         : 0.0},
                          {"totalRoundTripTime", c.total_round_trip_time_s},
                          {"roundTripTimeMeasurements", c.round_trip_time_measurements}};
        if (!codec_id.empty()) ri["codecId"] = codec_id;
        if (c.round_trip_time_s) ri["roundTripTime"] = *c.round_trip_time_s;
        stats.push_back(ri);
      }
      stats.push_back(o);
    }
    if (st.recv && st.remote_ssrc) {
      const auto& c = *st.recv;
      std::string in_id = absl::StrCat("IT", k, *st.remote_ssrc);
      std::string codec_id;
      if (st.recv_codec) {
        codec_id = absl::StrCat("CI", transport_id, "_", int(st.recv_codec->payload_type));
        if (codec_ids.insert(codec_id).second) stats.push_back(CodecStats(*st.recv_codec, st.kind, codec_id, ts, transport_id));
      }
      nlohmann::json in{{"id", in_id},
                        {"type", "inbound-rtp"},
                        {"timestamp", ts},
                        {"ssrc", *st.remote_ssrc},
                        {"kind", st.kind},
                        {"transportId", transport_id},
                        {"mid", st.mid},
                        {"packetsReceived", c.packets_received},
                        {"packetsLost", c.packets_lost},
                        {"jitter", c.jitter_s},
                        {"bytesReceived", c.bytes_received},
                        {"headerBytesReceived", c.header_bytes_received},
                        {"nackCount", c.nack_count},
                        {"retransmittedPacketsReceived", c.retransmitted_packets_received}};
      if (!codec_id.empty()) in["codecId"] = codec_id;
      if (t) in["trackIdentifier"] = t->receiver()->track()->id();
      if (st.sink) {
        if (st.kind == "audio") {
          in["totalSamplesReceived"] = st.sink->samples_received;
          in["concealedSamples"] = st.sink->concealed_samples;
        } else {
          in["framesReceived"] = st.sink->frames_received;
          in["framesDecoded"] = st.sink->frames_decoded;
          in["keyFramesDecoded"] = st.sink->keyframes_received;
          in["framesDropped"] = st.sink->frames_dropped;
          in["frameWidth"] = st.sink->width;
          in["frameHeight"] = st.sink->height;
          in["pliCount"] = st.pli_sent;
          in["firCount"] = st.fir_sent;
        }
      }
      if (c.last_sender_report) {
        // webrtc-stats §7.8 RTCRemoteOutboundRtpStreamStats, from the remote's last SR.
        std::string rid = absl::StrCat("RO", k, *st.remote_ssrc);
        in["remoteId"] = rid;
        const auto& sr = *c.last_sender_report;
        double remote_ts = (static_cast<double>(sr.ntp_time.seconds()) - 2208988800.0) * 1000.0 +
                           sr.ntp_time.fraction() / 4294967296.0 * 1000.0;
        stats.push_back({{"id", rid},
                         {"type", "remote-outbound-rtp"},
                         {"timestamp", ts},
                         {"ssrc", *st.remote_ssrc},
                         {"kind", st.kind},
                         {"transportId", transport_id},
                         {"localId", in_id},
                         {"packetsSent", sr.packet_count},
                         {"bytesSent", sr.octet_count},
                         {"remoteTimestamp", remote_ts},
                         {"reportsSent", c.sender_reports_received}});
      }
      stats.push_back(in);
    }
  }
}

}  // namespace refrtc

// ---------------------------------------------------------------------------------------------
// getStats (webrtc-stats)

namespace refrtc {
namespace {

nlohmann::json CandidateStats(const std::string& text, const std::string& id, const std::string& type, double ts,
                              const std::string& transport_id) {
  auto c = ice::Candidate::Parse(text);
  if (!c.ok()) return nullptr;
  nlohmann::json j{{"id", id},
                   {"type", type},
                   {"timestamp", ts},
                   {"transportId", transport_id},
                   {"address", c->address},
                   {"port", c->port},
                   {"protocol", c->protocol},
                   {"candidateType", ice::CandidateTypeName(c->type)},
                   {"priority", c->priority},
                   {"foundation", c->foundation}};
  if (!c->related_address.empty()) {
    j["relatedAddress"] = c->related_address;
    j["relatedPort"] = c->related_port;
  }
  if (!c->tcptype.empty()) j["tcpType"] = c->tcptype;
  auto ufrag = c->extensions.find("ufrag");
  if (ufrag != c->extensions.end()) j["usernameFragment"] = ufrag->second;
  return j;
}

// "ip:port" of a candidate's address, to find the selected pair's candidates.
std::string HostPort(const std::string& text) {
  auto c = ice::Candidate::Parse(text);
  if (!c.ok()) return "";
  auto a = c->socket_address();
  return a ? a->ToString() : "";
}

}  // namespace

absl::StatusOr<nlohmann::json> RTCStatsReportJson(const RTCPeerConnection& pc, double ts,
                                                  const std::shared_ptr<MediaStreamTrack>& selector) {
  using nlohmann::json;
  const std::string tid = "T01";
  json stats = json::array();
  json rtp = json::array();
  AppendRtpStats(pc, ts, tid, rtp);
  if (selector) {
    // webrtc-pc §8.5: the selector must belong to exactly one sender or receiver.
    std::string want_type, want_track;
    int matches = 0;
    for (const auto& t : pc.getTransceivers()) {
      if (t->sender()->track() == selector) {
        ++matches;
        want_type = "outbound-rtp";
      }
      if (t->receiver()->track() == selector) {
        ++matches;
        want_type = "inbound-rtp";
      }
    }
    if (matches != 1) return InvalidAccessError("The selector is not the track of exactly one sender or receiver");
    // The stream object of that track, and everything it references by id, transitively.
    std::map<std::string, json> by_id;
    for (const auto& s : rtp) by_id[s["id"].get<std::string>()] = s;
    std::set<std::string> keep;
    std::vector<std::string> todo;
    for (const auto& s : rtp) {
      if (s["type"] != want_type) continue;
      bool mine = want_type == "inbound-rtp" ? s.value("trackIdentifier", "") == selector->id()
                                             : by_id.count(s.value("mediaSourceId", "")) &&
                                                   by_id[s.value("mediaSourceId", "")].value("trackIdentifier", "") == selector->id();
      if (mine) todo.push_back(s["id"].get<std::string>());
    }
    while (!todo.empty()) {
      std::string id = todo.back();
      todo.pop_back();
      if (!keep.insert(id).second || !by_id.count(id)) continue;
      for (const char* ref : {"codecId", "remoteId", "localId", "mediaSourceId"}) {
        if (by_id[id].contains(ref)) todo.push_back(by_id[id][ref].get<std::string>());
      }
    }
    json filtered = json::array();
    for (const auto& s : rtp)
      if (keep.count(s["id"].get<std::string>())) filtered.push_back(s);
    rtp = filtered;
  }

  // peer-connection (webrtc-stats §7.11).
  if (!selector)
    stats.push_back({{"id", "P"},
                     {"type", "peer-connection"},
                     {"timestamp", ts},
                     {"dataChannelsOpened", pc.data_channels_opened()},
                     {"dataChannelsClosed", pc.data_channels_closed()}});

  // transport (§7.14), certificates (§7.16).
  const auto& counters = pc.transport_stack().counters();
  auto dtls = pc.dtlsTransport();
  json transport{{"id", tid},
                 {"type", "transport"},
                 {"timestamp", ts},
                 {"packetsSent", counters.sent},
                 {"packetsReceived", counters.received},
                 {"bytesSent", counters.bytes_sent},
                 {"bytesReceived", counters.bytes_received},
                 {"dtlsState", ToString(dtls.state)},
                 {"iceState", ToString(pc.iceConnectionState())},
                 {"iceRole", ToString(dtls.iceTransport.role)},
                 {"iceLocalUsernameFragment", pc.transport_stack().ice().local_credentials().ufrag}};
  if (!dtls.cipherSuite.empty()) {
    transport["dtlsCipher"] = dtls.cipherSuite;
    transport["tlsVersion"] = "FEFD";  // DTLS 1.2 (RFC 6347 §4.1)
  }
  if (auto profile = pc.transport_stack().srtp_profile()) transport["srtpCipher"] = srtp::ProfileName(*profile);
  if (auto cert = pc.certificate()) {
    auto fps = cert->getFingerprints();
    if (!fps.empty()) {
      transport["localCertificateId"] = "CFlocal";
      stats.push_back({{"id", "CFlocal"},
                       {"type", "certificate"},
                       {"timestamp", ts},
                       {"fingerprint", fps.front().value},
                       {"fingerprintAlgorithm", fps.front().algorithm},
                       {"base64Certificate", Base64Encode(cert->engine_certificate()->Der())}});
    }
  }
  Bytes remote_der = pc.transport_stack().dtls().remote_certificate_der();
  if (!remote_der.empty()) {
    transport["remoteCertificateId"] = "CFremote";
    auto digest = dtls::CertificateDigest("sha-256", remote_der);
    std::string fp;
    if (digest) {
      for (size_t i = 0; i < digest->size(); ++i)
        absl::StrAppend(&fp, i ? ":" : "", absl::AsciiStrToUpper(HexEncode(ByteView(&(*digest)[i], 1))));
    }
    stats.push_back({{"id", "CFremote"},
                     {"type", "certificate"},
                     {"timestamp", ts},
                     {"fingerprint", fp},
                     {"fingerprintAlgorithm", "sha-256"},
                     {"base64Certificate", Base64Encode(remote_der)}});
  }

  // Candidates (§7.13) and the selected pair (§7.12).
  std::map<std::string, std::string> local_ids, remote_ids;  // "ip:port" → stats id
  int n = 0;
  for (const auto& c : pc.local_candidates()) {
    std::string id = absl::StrCat("I", ++n);
    json j = CandidateStats(c, id, "local-candidate", ts, tid);
    if (j.is_null()) continue;
    local_ids.emplace(HostPort(c), id);
    stats.push_back(j);
  }
  for (const auto& c : pc.remote_candidates()) {
    std::string id = absl::StrCat("I", ++n);
    json j = CandidateStats(c, id, "remote-candidate", ts, tid);
    if (j.is_null()) continue;
    remote_ids.emplace(HostPort(c), id);
    stats.push_back(j);
  }
  if (auto sel = pc.transport_stack().ice().selected_pair()) {
    transport["selectedCandidatePairId"] = "CP1";
    std::string l = sel->first.ToString(), r = sel->second.ToString();
    // A peer-reflexive remote (learned from a check, RFC 8445 §7.3.1.3) has no signalled candidate.
    if (!remote_ids.count(r)) {
      std::string id = absl::StrCat("I", ++n);
      remote_ids[r] = id;
      stats.push_back({{"id", id}, {"type", "remote-candidate"}, {"timestamp", ts}, {"transportId", tid},
                       {"address", sel->second.IpString()}, {"port", sel->second.port()}, {"protocol", "udp"},
                       {"candidateType", "prflx"}});
    }
    json pair{{"id", "CP1"},
              {"type", "candidate-pair"},
              {"timestamp", ts},
              {"transportId", tid},
              {"state", "succeeded"},
              {"nominated", pc.transport_stack().ice().selected_pair_nominated()},
              {"localAddress", l},
              {"remoteAddress", r},
              {"remoteCandidateId", remote_ids[r]},
              {"bytesSent", counters.bytes_sent},
              {"bytesReceived", counters.bytes_received},
              {"packetsSent", counters.sent},
              {"packetsReceived", counters.received}};
    if (local_ids.count(l)) pair["localCandidateId"] = local_ids[l];
    if (auto ps = pc.transport_stack().ice().pair_stats(sel->first, sel->second)) {
      pair["requestsSent"] = ps->requests_sent;
      pair["responsesReceived"] = ps->responses_received;
      if (ps->current_rtt) pair["currentRoundTripTime"] = std::chrono::duration<double>(*ps->current_rtt).count();
      pair["totalRoundTripTime"] = std::chrono::duration<double>(ps->total_rtt).count();
    }
    stats.push_back(pair);
  }
  stats.push_back(transport);

  // data-channel (§7.10).
  if (!selector) {
    for (const auto& ch : pc.data_channels()) {
      json d{{"id", absl::StrCat("D", ch->handle())},
             {"type", "data-channel"},
             {"timestamp", ts},
             {"label", ch->label()},
             {"protocol", ch->protocol()},
             {"state", ToString(ch->readyState())},
             {"messagesSent", ch->messages_sent()},
             {"bytesSent", ch->bytes_sent()},
             {"messagesReceived", ch->messages_received()},
             {"bytesReceived", ch->bytes_received()}};
      d["dataChannelIdentifier"] = ch->id() ? json(*ch->id()) : json(nullptr);
      stats.push_back(d);
    }
  }
  for (auto& s : rtp) stats.push_back(std::move(s));
  return stats;
}

}  // namespace refrtc
