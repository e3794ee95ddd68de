// libFuzzer target for the relay's candidate / description rewriting (harness/src/relay.cc): any
// candidate line or SDP must be rewritten or dropped, never crash; and the network-change reader.
// The harness library is not part of the fuzz build's link set, so the relay is compiled in here.
#include <cstddef>
#include <cstdint>

#include "../harness/src/relay.cc"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One relay for the whole run (its socket count is capped, so fds stay bounded).
  static std::unique_ptr<refrtc::harness::Relay> relay = [] {
    auto r = refrtc::harness::Relay::Start(refrtc::harness::RelayOptions{});
    return r.ok() ? std::move(*r) : nullptr;
  }();
  std::string text(reinterpret_cast<const char*>(data), size);
  if (relay) {
    int side = size > 0 ? data[0] & 1 : 0;
    auto c = relay->RewriteCandidate(side, text);
    if (c) (void)relay->RewriteCandidate(1 - side, *c);  // a rewritten candidate must stay relayable
    int dropped = 0;
    (void)relay->RewriteDescription(side, text, &dropped);
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) {
    (void)refrtc::harness::ParseNetworkChange(j, true);
    (void)refrtc::harness::ParseNetworkChange(j, false);
  }
  return 0;
}
