// The W3C attribute part of a `getState` reply (DRIVER_PROTOCOL), read from an RTCPeerConnection-
// shaped object. `desc` turns one description into {type, sdp} or null (drivers differ in what
// their implementation returns for "no description").
export function pcStateFields(pc, desc) {
  return {
    signalingState: pc.signalingState,
    iceGatheringState: pc.iceGatheringState,
    iceConnectionState: pc.iceConnectionState,
    connectionState: pc.connectionState,
    localDescription: desc(pc.localDescription),
    remoteDescription: desc(pc.remoteDescription),
    currentLocalDescription: desc(pc.currentLocalDescription),
    currentRemoteDescription: desc(pc.currentRemoteDescription),
    pendingLocalDescription: desc(pc.pendingLocalDescription),
    pendingRemoteDescription: desc(pc.pendingRemoteDescription),
    canTrickleIceCandidates: pc.canTrickleIceCandidates ?? null,
  };
}
