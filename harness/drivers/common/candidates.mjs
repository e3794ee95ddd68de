// RTCIceCandidateInit in the `candidate:…` form (DRIVER_PROTOCOL "Clarifications"): strips an
// `a=` prefix and fills sdpMid/sdpMLineIndex from the local description when the implementation
// leaves them null.
export function candidateInit(c, pc) {
  let cand = c.candidate || '';
  if (cand.startsWith('a=')) cand = cand.slice(2);
  let sdpMid = c.sdpMid ?? null;
  let sdpMLineIndex = c.sdpMLineIndex ?? null;
  if (sdpMid === null && sdpMLineIndex === null) sdpMLineIndex = 0;
  if (sdpMid === null && pc.localDescription) {
    const mids = [...pc.localDescription.sdp.matchAll(/^a=mid:(\S+)/gm)].map((m) => m[1]);
    if (mids[sdpMLineIndex] !== undefined) sdpMid = mids[sdpMLineIndex];
  }
  const out = { candidate: cand, sdpMid, sdpMLineIndex };
  if (c.usernameFragment) out.usernameFragment = c.usernameFragment;
  return out;
}
