// libFuzzer target for the conformance scenario reader (harness/src/scenario.cc): any input must
// parse or be rejected with a status; never crash, hang or recurse without bound.
// The harness library is not part of the fuzz build's link set, so the reader is compiled in here.
#include <cstddef>
#include <cstdint>

#include "../harness/src/scenario.cc"
#include "../harness/src/relay.cc"  // ParseNetworkChange ("network" in scenarios)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto sc = refrtc::harness::ParseScenario(text);
  if (sc.ok()) {
    // Exercise the matcher on what was parsed: each step's match/args against itself must hold.
    for (const auto& step : sc->steps) {
      std::string why;
      (void)refrtc::harness::JsonMatches(step.args, step.match, &why);
      (void)refrtc::harness::JsonMatches(step.match, step.match, &why);
    }
  }
  return 0;
}
