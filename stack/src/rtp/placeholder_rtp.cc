// Placeholder until the rtp module lands (issue D).
namespace refrtc::rtp {}
