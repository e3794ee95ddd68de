#include "native_driver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <random>

#include "absl/strings/str_cat.h"
#include "engine/transport_stack.h"
#include "refrtc/rtc_json.h"
#include "util/codec.h"
#include "util/dom_exception.h"

namespace refrtc::driver {
namespace {

constexpr uint64_t kSendManyHighWater = 1 << 20;   // bytes buffered before waiting
constexpr uint64_t kSendManyLowWater = 256 << 10;  // resume below this (bufferedamountlow)
constexpr size_t kInlineMessageMax = 64 << 10;     // larger messages are reported as size+sha256

json Error(absl::string_view name, absl::string_view message) {
  return json{{"name", std::string(name)}, {"message", std::string(message)}};
}

json DescriptionJson(const std::optional<RTCSessionDescription>& d) { return RTCSessionDescriptionToJson(d); }

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

void NativeDriver::Emit(const json& j) { out(j.dump()); }

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
  json id = cmd.contains("id") ? cmd["id"] : json(nullptr);
  std::string op = cmd.contains("op") && cmd["op"].is_string() ? cmd["op"].get<std::string>() : "";
  for (auto& [name, p] : pcs_) p.pc->SetTime(loop_.Now());
  bool deferred = false;
  json result;
  try {
    result = Dispatch(op, cmd, &deferred);
  } catch (const json::exception& e) {
    // Wrong argument types in the command: the WebIDL conversion would throw a TypeError.
    DrainEvents();
    Emit(json{{"id", id}, {"ok", false}, {"error", Error("TypeError", e.what())}});
    return;
  }
  if (deferred) return;
  DrainEvents();  // events the call fired come before its promise resolves
  json reply{{"id", id}};
  reply.update(result);
  Emit(reply);
  loop_.Wake();
}

json NativeDriver::Dispatch(const std::string& op, const json& cmd, bool* deferred) {
  auto ok = [](json r = json::object()) { return json{{"ok", true}, {"result", std::move(r)}}; };
  auto fail = [](const absl::Status& st) {
    return json{{"ok", false}, {"error", Error(DomErrorName(st), st.message())}};
  };
  auto not_found = [](absl::string_view what) {
    return json{{"ok", false}, {"error", Error("NotFoundError", absl::StrCat("unknown ", what))}};
  };

  if (op == "hello") {
    return ok({{"name", "refrtc-native"}, {"version", "0.1.0"}, {"protocol", 1},
               {"features", json::array({"rollback", "restartIce", "stats", "certificates", "media", "mediaControl"})}});
  }
  if (op == "generateCertificate") {
    // W3C webrtc-pc §4.9 generateCertificate(keygenAlgorithm): ECDSA P-256 here (RSA is issue E);
    // any other algorithm → NotSupportedError. keygenAlgorithm.expires (ms, relative) defaults to 30 days.
    json alg = cmd.value("keygenAlgorithm", json("ECDSA"));
    std::string name = alg.is_string() ? alg.get<std::string>() : alg.is_object() ? alg.value("name", "") : "";
    std::string curve = alg.is_object() ? alg.value("namedCurve", "P-256") : "P-256";
    if (name != "ECDSA" || curve != "P-256") {
      return json{{"ok", false}, {"error", Error("NotSupportedError", absl::StrCat("unsupported keygenAlgorithm ", alg.dump()))}};
    }
    int64_t expires_ms = 30LL * 86400 * 1000;
    if (alg.is_object() && alg.contains("expires")) {
      if (!alg["expires"].is_number() || alg["expires"].get<double>() < 0) return fail(TypeError("bad expires"));
      expires_ms = static_cast<int64_t>(alg["expires"].get<double>());
    }
    uint64_t seed = std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32) ^ ++seed_counter_;
    auto cert = RTCCertificate::Generate(seed, static_cast<int64_t>(::time(nullptr)), expires_ms);
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
        ch.setBufferedAmountLowThreshold(cmd["bufferedAmountLowThreshold"].get<uint64_t>());
        c->app_low_threshold_set = true;
      }
      if (cmd.contains("binaryType")) {
        auto st = ch.setBinaryType(cmd["binaryType"].get<std::string>());
        if (!st.ok()) return fail(st);
      }
      if (cmd.contains("mute")) c->mute = cmd["mute"].get<bool>();
      if (cmd.contains("notifyAfter")) {
        c->notify_after = cmd["notifyAfter"].get<uint64_t>();
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
    job.size = cmd.at("size").get<uint64_t>();
    job.count = cmd.at("count").get<uint64_t>();
    job.binary = cmd.value("binary", true);
    c->send_many = job;
    PumpSendMany(*c);  // replies itself, now or when the last message is queued
    *deferred = true;
    return json::object();
  }

  if (op == "insertDTMF") return fail(NotSupportedError("DTMF arrives with issue E"));
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
          rc.clockRate = c.value("clockRate", 0u);
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
