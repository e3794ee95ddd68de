// Fuzzes the SDP parser (RFC 8866): Parse must never crash; on success the serialized form must
// parse back to an equal model and re-serialize byte for byte (the round-trip guarantee of
// sdp.h), and the typed accessors / validators must run on whatever was accepted.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "sdp/jsep_builder.h"
#include "sdp/sdp.h"
#include "sdp/sdp_validate.h"

using refrtc::sdp::SessionDescription;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = SessionDescription::Parse(text);
  if (!parsed.ok()) return 0;

  const std::string once = parsed->Serialize();
  auto again = SessionDescription::Parse(once);
  if (!again.ok() || !(*again == *parsed) || again->Serialize() != once) abort();

  // Exercise the accessors and validators on accepted input.
  (void)parsed->bundle_groups();
  for (const auto& m : parsed->media) {
    (void)m.mid();
    (void)m.ice_options();
    (void)m.fingerprints();
    (void)m.sctp_port();
    (void)m.max_message_size();
    (void)m.candidates();
    (void)m.direction();
    (void)m.rejected();
    (void)refrtc::sdp::EffectiveFingerprints(*parsed, m);
    (void)refrtc::sdp::EffectiveIceOptions(*parsed, m);
    (void)refrtc::sdp::TransportSection(*parsed, m);
    (void)refrtc::sdp::ExtractTransport(*parsed, m);
    refrtc::sdp::MediaSection copy = m;
    (void)refrtc::sdp::ApplyDefaultCandidate(copy);
  }
  (void)refrtc::sdp::ValidateDescription(*parsed, refrtc::sdp::SdpType::kOffer);
  (void)refrtc::sdp::ValidateDescription(*parsed, refrtc::sdp::SdpType::kAnswer);
  return 0;
}
