// ES module entry (Node). Top-level await: once this module has loaded, the core is ready and
// `new RTCPeerConnection()` works immediately.
import refrtc from './index.cjs';

await refrtc.ready;

export const {
  RTCPeerConnection, RTCSessionDescription, RTCIceCandidate, RTCDataChannel, RTCCertificate,
  RTCError, RTCErrorEvent, RTCPeerConnectionIceEvent, RTCPeerConnectionIceErrorEvent,
  RTCDataChannelEvent, RTCDtlsTransport, RTCIceTransport, RTCSctpTransport, RTCStatsReport,
  MediaStreamTrack, MediaStream, RTCRtpSender, RTCRtpReceiver, RTCRtpTransceiver, RTCTrackEvent,
  RTCDTMFSender, RTCDTMFToneChangeEvent, RTCDTMFReceivedEvent,
  createSyntheticTrack, configure, ready,
  RTCIdentityProviderRegistrar, RTCIdentityProviderRegistry, RTCIdentityAssertion, identityProviders,
  TestIdentityProvider,
} = refrtc;
export default refrtc;
