// Candidate::Parse never crashes, and ToString of a parsed candidate parses back to the same one.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ice/candidate.h"

using namespace refrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto c = ice::Candidate::Parse(s);
  if (!c.ok()) return 0;
  (void)c->socket_address();
  auto again = ice::Candidate::Parse(c->ToString());
  if (!again.ok() || !(*again == *c)) abort();
  return 0;
}
