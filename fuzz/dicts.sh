# Sourced by fuzz/oss-fuzz/build.sh and fuzz/coverage.sh (and usable by the launcher):
# refrtc_fuzz_dict <target> prints the dictionary of a fuzz target (without _fuzzer), or nothing.
# fuzz/dict/<target>.dict, else the format's: <first word of the name>.dict (stun_parse → stun),
# with the targets whose input is another format's mapped: jsep_apply is SDP, turn_client STUN,
# srtp/media/vp8/h264 RTP; driver_command and driver_reply share driver.dict.
refrtc_fuzz_dict() {
  local name="$1" dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/dict"
  local fmt="${name%%_*}"
  case "$fmt" in jsep) fmt=sdp ;; turn) fmt=stun ;; srtp | media | vp8 | h264) fmt=rtp ;; esac
  if [[ -f "$dir/$name.dict" ]]; then echo "$dir/$name.dict"
  elif [[ -f "$dir/$fmt.dict" ]]; then echo "$dir/$fmt.dict"
  fi
}
