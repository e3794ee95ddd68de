'use strict';
// The package's exports, shared by the Node entries (index.cjs / index.mjs) and the browser bundle.
const core = require('./core.js');
const { RTCPeerConnection } = require('./peer_connection.js');
const { RTCSessionDescription } = require('./session_description.js');
const { RTCIceCandidate } = require('./ice_candidate.js');
const { RTCDataChannel } = require('./data_channel.js');
const { RTCCertificate } = require('./certificate.js');
const { RTCError, RTCErrorEvent } = require('./errors.js');
const { RTCPeerConnectionIceEvent, RTCPeerConnectionIceErrorEvent, RTCDataChannelEvent } =
  require('./events.js');
const { RTCDtlsTransport, RTCIceTransport, RTCSctpTransport } = require('./transports.js');
const { RTCStatsReport } = require('./stats.js');
const { MediaStreamTrack, MediaStream, RTCRtpSender, RTCRtpReceiver, RTCRtpTransceiver, RTCTrackEvent,
  createSyntheticTrack, RTCDTMFSender, RTCDTMFToneChangeEvent, RTCDTMFReceivedEvent } = require('./media.js');
const { createWsHost } = require('./ws_host.js');
const { RTCIdentityProviderRegistrar, RTCIdentityProviderRegistry, RTCIdentityAssertion, identityProviders } =
  require('./identity.js');
const { TestIdentityProvider } = require('./test_idp.js');

core.settings.hosts.relay = createWsHost;

module.exports = {
  RTCPeerConnection, RTCSessionDescription, RTCIceCandidate, RTCDataChannel, RTCCertificate,
  RTCError, RTCErrorEvent, RTCPeerConnectionIceEvent, RTCPeerConnectionIceErrorEvent,
  RTCDataChannelEvent, RTCDtlsTransport, RTCIceTransport, RTCSctpTransport, RTCStatsReport,
  MediaStreamTrack, MediaStream, RTCRtpSender, RTCRtpReceiver, RTCRtpTransceiver, RTCTrackEvent,
  // webrtc-pc §7 DTMF; RTCDTMFReceivedEvent is the refrtc receive-side extension ('dtmf' at a receiver).
  RTCDTMFSender, RTCDTMFToneChangeEvent, RTCDTMFReceivedEvent,
  configure: core.configure,
  // refrtc extension (no capture devices): a live local track from a synthetic source.
  createSyntheticTrack,
  // webrtc-identity (identity.js): the IdP registrar/registry, RTCIdentityAssertion, the
  // process-wide registry, and the refrtc test IdP (test_idp.js).
  RTCIdentityProviderRegistrar, RTCIdentityProviderRegistry, RTCIdentityAssertion, identityProviders,
  TestIdentityProvider,
  // Internal hooks for the entry points.
  _core: core,
};
