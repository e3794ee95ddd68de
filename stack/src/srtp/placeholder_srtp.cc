// Placeholder until the srtp module lands (issue D).
namespace refrtc::srtp {}
