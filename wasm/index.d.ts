// TypeScript declarations for the `refrtc` package (W3C webrtc-pc API over the refrtc WebAssembly
// core). Dictionaries and enums are the DOM lib's where they match (add "DOM" to "lib" in
// tsconfig.json, or rely on @types/node's Event/EventTarget).

/// <reference lib="dom" />

export type RTCSdpType = 'offer' | 'pranswer' | 'answer' | 'rollback';

export declare class RTCSessionDescription {
  constructor(init: RTCSessionDescriptionInit);
  readonly type: RTCSdpType;
  readonly sdp: string;
  toJSON(): RTCSessionDescriptionInit;
}

export declare class RTCIceCandidate {
  constructor(init?: RTCIceCandidateInit);
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
  readonly foundation: string | null;
  readonly component: 'rtp' | 'rtcp' | null;
  readonly priority: number | null;
  readonly address: string | null;
  readonly protocol: 'udp' | 'tcp' | null;
  readonly port: number | null;
  readonly type: 'host' | 'srflx' | 'prflx' | 'relay' | null;
  readonly tcpType: 'active' | 'passive' | 'so' | null;
  readonly relatedAddress: string | null;
  readonly relatedPort: number | null;
  readonly usernameFragment: string | null;
  readonly relayProtocol: null;
  readonly url: null;
  toJSON(): RTCIceCandidateInit;
}

export declare class RTCCertificate {
  private constructor();
  /** Milliseconds since the epoch. */
  readonly expires: number;
  getFingerprints(): RTCDtlsFingerprint[];
}

export interface RefrtcCertificateAlgorithm {
  /** 'ECDSA' (namedCurve 'P-256') or 'RSASSA-PKCS1-v1_5' (W3C §4.9); others reject with NotSupportedError. */
  name: 'ECDSA' | 'RSASSA-PKCS1-v1_5' | string;
  namedCurve?: 'P-256' | string;
  /** RSASSA-PKCS1-v1_5: 1024..8192, a multiple of 8 (2048 recommended; larger keys take long to make). */
  modulusLength?: number;
  /** RSASSA-PKCS1-v1_5: new Uint8Array([1, 0, 1]) (65537, the only exponent accepted). */
  publicExponent?: Uint8Array | number[];
  /** RSASSA-PKCS1-v1_5: 'SHA-256' (or { name: 'SHA-256' }). */
  hash?: 'SHA-256' | string | { name: string };
  /** Validity in milliseconds (capped at 365 days; default 30 days). */
  expires?: number;
}

export declare class RTCError extends DOMException {
  constructor(init: RTCErrorInit, message?: string);
  readonly errorDetail: RTCErrorDetailType;
  readonly sdpLineNumber: number | null;
  readonly sctpCauseCode: number | null;
  readonly receivedAlert: number | null;
  readonly sentAlert: number | null;
  readonly httpRequestStatusCode: number | null;
}

export declare class RTCErrorEvent extends Event {
  constructor(type: string, init: { error: RTCError } & EventInit);
  readonly error: RTCError;
}

export declare class RTCPeerConnectionIceEvent extends Event {
  constructor(type: string, init?: { candidate?: RTCIceCandidate | null; url?: string | null } & EventInit);
  readonly candidate: RTCIceCandidate | null;
  readonly url: string | null;
}

export declare class RTCPeerConnectionIceErrorEvent extends Event {
  constructor(type: string, init: RTCPeerConnectionIceErrorEventInit);
  readonly address: string | null;
  readonly port: number | null;
  readonly url: string;
  readonly errorCode: number;
  readonly errorText: string;
}

export declare class RTCDataChannelEvent extends Event {
  constructor(type: string, init: { channel: RTCDataChannel } & EventInit);
  readonly channel: RTCDataChannel;
}

export declare class RTCDataChannel extends EventTarget {
  private constructor();
  readonly label: string;
  readonly ordered: boolean;
  readonly maxPacketLifeTime: number | null;
  readonly maxRetransmits: number | null;
  readonly protocol: string;
  readonly negotiated: boolean;
  readonly id: number | null;
  readonly readyState: RTCDataChannelState;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: 'arraybuffer' | 'blob';
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;
  close(): void;
  onopen: ((this: RTCDataChannel, ev: Event) => any) | null;
  onbufferedamountlow: ((this: RTCDataChannel, ev: Event) => any) | null;
  onerror: ((this: RTCDataChannel, ev: RTCErrorEvent) => any) | null;
  onclosing: ((this: RTCDataChannel, ev: Event) => any) | null;
  onclose: ((this: RTCDataChannel, ev: Event) => any) | null;
  onmessage: ((this: RTCDataChannel, ev: MessageEvent) => any) | null;
}

export declare class RTCIceTransport extends EventTarget {
  private constructor();
  readonly role: 'unknown';
  readonly component: 'rtp';
  readonly state: RTCIceConnectionState;
  readonly gatheringState: RTCIceGatheringState;
  getSelectedCandidatePair(): unknown | null;
  onstatechange: ((ev: Event) => any) | null;
  ongatheringstatechange: ((ev: Event) => any) | null;
  onselectedcandidatepairchange: ((ev: Event) => any) | null;
}

export declare class RTCDtlsTransport extends EventTarget {
  private constructor();
  readonly iceTransport: RTCIceTransport;
  readonly state: RTCDtlsTransportState;
  getRemoteCertificates(): ArrayBuffer[];
  onstatechange: ((ev: Event) => any) | null;
  onerror: ((ev: RTCErrorEvent) => any) | null;
}

export declare class RTCSctpTransport extends EventTarget {
  private constructor();
  readonly transport: RTCDtlsTransport;
  readonly state: RTCSctpTransportState;
  readonly maxMessageSize: number;
  readonly maxChannels: number | null;
  onstatechange: ((ev: Event) => any) | null;
}

/** Read-only maplike (W3C §8.3). */
export declare class RTCStatsReport implements ReadonlyMap<string, any> {
  private constructor();
  readonly size: number;
  get(id: string): any;
  has(id: string): boolean;
  keys(): IterableIterator<string>;
  values(): IterableIterator<any>;
  entries(): IterableIterator<[string, any]>;
  forEach(cb: (value: any, key: string, report: RTCStatsReport) => void, thisArg?: any): void;
  [Symbol.iterator](): IterableIterator<[string, any]>;
}

// ---- RTP media (mediacapture-main §4.2/§4.3, webrtc-pc §5) ----

/**
 * refrtc's synthetic sources (there are no capture devices): `'tone:FREQ'` (audio: a sine of FREQ Hz,
 * 0 < FREQ < 20000, at 0.3 of full scale, 48 kHz), `'silence'` (audio), `'pattern'` (video: a moving
 * 320×240 test pattern at 30 fps, sent as VP8).
 */
export type RefrtcSyntheticSource = `tone:${number}` | 'silence' | 'pattern';

export declare class MediaStreamTrack extends EventTarget {
  private constructor();
  readonly kind: 'audio' | 'video';
  readonly id: string;
  /** For a synthetic track its source (e.g. 'tone:440'); 'remote audio' / 'remote video' for a received one. */
  readonly label: string;
  /** A disabled audio track sends silence, a disabled video track black frames. */
  enabled: boolean;
  /** A received track is muted until RTP arrives (and again when the remote stops sending). */
  readonly muted: boolean;
  readonly readyState: 'live' | 'ended';
  contentHint: string;
  stop(): void;
  /** A new track from the same synthetic source (NotSupportedError for a received track). */
  clone(): MediaStreamTrack;
  getSettings(): MediaTrackSettings;
  getCapabilities(): MediaTrackCapabilities;
  getConstraints(): MediaTrackConstraints;
  applyConstraints(constraints?: MediaTrackConstraints): Promise<void>;
  onmute: ((this: MediaStreamTrack, ev: Event) => any) | null;
  onunmute: ((this: MediaStreamTrack, ev: Event) => any) | null;
  onended: ((this: MediaStreamTrack, ev: Event) => any) | null;
}

export declare class MediaStream extends EventTarget {
  constructor(streamOrTracks?: MediaStream | MediaStreamTrack[]);
  readonly id: string;
  readonly active: boolean;
  getTracks(): MediaStreamTrack[];
  getAudioTracks(): MediaStreamTrack[];
  getVideoTracks(): MediaStreamTrack[];
  getTrackById(trackId: string): MediaStreamTrack | null;
  addTrack(track: MediaStreamTrack): void;
  removeTrack(track: MediaStreamTrack): void;
  clone(): MediaStream;
  onaddtrack: ((this: MediaStream, ev: Event) => any) | null;
  onremovetrack: ((this: MediaStream, ev: Event) => any) | null;
}

/**
 * refrtc extension (the stand-in for getUserMedia): a live local track from a synthetic source.
 * An unknown source is a TypeError.
 */
export declare function createSyntheticTrack(source: RefrtcSyntheticSource): MediaStreamTrack;

export interface RefrtcRtpCodec {
  mimeType: string;
  clockRate: number;
  channels?: number;
  sdpFmtpLine?: string;
}
export interface RefrtcRtpCodecParameters extends RefrtcRtpCodec {
  payloadType: number;
}
export interface RefrtcRtpCapabilities {
  codecs: RefrtcRtpCodec[];
  headerExtensions: { uri: string }[];
}
export interface RefrtcRtpEncodingParameters {
  active?: boolean;
  maxBitrate?: number;
  /** Informative (not W3C): the SSRC of this encoding once negotiated. */
  readonly ssrc?: number;
}
export interface RefrtcRtpSendParameters {
  transactionId: string;
  encodings: RefrtcRtpEncodingParameters[];
  codecs: RefrtcRtpCodecParameters[];
  headerExtensions: { uri: string; id: number }[];
  rtcp: { cname?: string; reducedSize?: boolean };
}
export interface RefrtcRtpReceiveParameters {
  codecs: RefrtcRtpCodecParameters[];
  headerExtensions: { uri: string; id: number }[];
  rtcp: { cname?: string; reducedSize?: boolean };
}

/** refrtc extension: what a receiver's analysing sink measured (RTCRtpReceiver.trackInfo()). */
export type RefrtcTrackInfo =
  | {
      kind: 'audio';
      samplesReceived: number;
      sampleRate: number;
      /** Peak of a Hann-windowed FFT over the last second of decoded mono audio; null when silent. */
      dominantHz: number | null;
      /** Over the last second, full scale = 1. */
      rms: number;
    }
  | {
      kind: 'video';
      framesReceived: number;
      /** Always 0 in the WebAssembly build (no VP8 decoder); frames are counted and sized from the bitstream. */
      framesDecoded: number;
      width: number;
      height: number;
    };

export declare class RTCRtpSender {
  private constructor();
  readonly track: MediaStreamTrack | null;
  readonly transport: RTCDtlsTransport | null;
  /** webrtc-pc §7.1: an RTCDTMFSender for audio senders, null for video. */
  readonly dtmf: RTCDTMFSender | null;
  static getCapabilities(kind: string): RefrtcRtpCapabilities | null;
  getParameters(): RefrtcRtpSendParameters;
  /** Only `active` and `maxBitrate` of the encodings may change. */
  setParameters(parameters: RefrtcRtpSendParameters): Promise<void>;
  replaceTrack(withTrack: MediaStreamTrack | null): Promise<void>;
  getStats(): Promise<RTCStatsReport>;
}

/** webrtc-pc §7.3 */
export declare class RTCDTMFToneChangeEvent extends Event {
  constructor(type: string, init?: { tone?: string } & EventInit);
  readonly tone: string;
}

/** webrtc-pc §7.2: tones go out as RFC 4733 telephone-events on the sender's audio stream. */
export declare class RTCDTMFSender extends EventTarget {
  private constructor();
  /** Throws InvalidStateError / InvalidCharacterError (DOMException) as in §7.2. */
  insertDTMF(tones: string, duration?: number, interToneGap?: number): void;
  ontonechange: ((this: RTCDTMFSender, ev: RTCDTMFToneChangeEvent) => any) | null;
  readonly canInsertDTMF: boolean;
  readonly toneBuffer: string;
}

/** refrtc extension (not W3C): a received RFC 4733 DTMF digit, fired as 'dtmf' at an RTCRtpReceiver. */
export declare class RTCDTMFReceivedEvent extends Event {
  constructor(type: string, init?: { tone?: string; duration?: number; transceiver?: RTCRtpTransceiver } & EventInit);
  /** '0'-'9', '*', '#', 'A'-'D' */
  readonly tone: string;
  /** milliseconds */
  readonly duration: number;
  readonly transceiver: RTCRtpTransceiver | null;
}

export declare class RTCRtpReceiver extends EventTarget {
  private constructor();
  /** refrtc extension: received DTMF digits (RTCDTMFReceivedEvent). */
  ondtmf: ((this: RTCRtpReceiver, ev: RTCDTMFReceivedEvent) => any) | null;
  readonly track: MediaStreamTrack;
  readonly transport: RTCDtlsTransport | null;
  static getCapabilities(kind: string): RefrtcRtpCapabilities | null;
  getParameters(): RefrtcRtpReceiveParameters;
  getContributingSources(): never[];
  getSynchronizationSources(): never[];
  getStats(): Promise<RTCStatsReport>;
  /** refrtc extension: what the sink of this receiver's track measured so far. */
  trackInfo(): RefrtcTrackInfo;
}

export declare class RTCRtpTransceiver {
  private constructor();
  readonly mid: string | null;
  readonly sender: RTCRtpSender;
  readonly receiver: RTCRtpReceiver;
  direction: RTCRtpTransceiverDirection;
  readonly currentDirection: RTCRtpTransceiverDirection | null;
  stop(): void;
  setCodecPreferences(codecs: Iterable<RefrtcRtpCodec>): void;
}

export interface RefrtcRtpTransceiverInit {
  direction?: RTCRtpTransceiverDirection;
  streams?: MediaStream[];
  sendEncodings?: { active?: boolean; maxBitrate?: number }[];
}

export declare class RTCTrackEvent extends Event {
  constructor(type: string, init: {
    receiver: RTCRtpReceiver; track: MediaStreamTrack; streams?: MediaStream[]; transceiver: RTCRtpTransceiver;
  } & EventInit);
  readonly receiver: RTCRtpReceiver;
  readonly track: MediaStreamTrack;
  readonly streams: ReadonlyArray<MediaStream>;
  readonly transceiver: RTCRtpTransceiver;
}

export interface RefrtcConfiguration extends Omit<RTCConfiguration, 'certificates'> {
  certificates?: RTCCertificate[];
}

export declare class RTCPeerConnection extends EventTarget {
  constructor(configuration?: RefrtcConfiguration);
  static generateCertificate(keygenAlgorithm: RefrtcCertificateAlgorithm | 'ECDSA'): Promise<RTCCertificate>;

  createOffer(options?: RTCOfferOptions): Promise<RTCSessionDescriptionInit>;
  createAnswer(options?: RTCAnswerOptions): Promise<RTCSessionDescriptionInit>;
  setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void>;
  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void>;
  addIceCandidate(candidate?: RTCIceCandidateInit | RTCIceCandidate | null): Promise<void>;
  restartIce(): void;
  getConfiguration(): RefrtcConfiguration;
  setConfiguration(configuration?: RefrtcConfiguration): void;
  close(): void;
  createDataChannel(label: string, dataChannelDict?: RTCDataChannelInit): RTCDataChannel;
  /**
   * peer-connection, data-channel, transport, the in-use candidate pair and the RTP stats (codec,
   * media-source, outbound-rtp, inbound-rtp, remote-inbound-rtp, remote-outbound-rtp; see README).
   * A track selects the one sender or receiver that has it.
   */
  getStats(selector?: MediaStreamTrack | null): Promise<RTCStatsReport>;

  getSenders(): RTCRtpSender[];
  getReceivers(): RTCRtpReceiver[];
  getTransceivers(): RTCRtpTransceiver[];
  addTrack(track: MediaStreamTrack, ...streams: MediaStream[]): RTCRtpSender;
  removeTrack(sender: RTCRtpSender): void;
  addTransceiver(trackOrKind: MediaStreamTrack | 'audio' | 'video', init?: RefrtcRtpTransceiverInit): RTCRtpTransceiver;

  readonly localDescription: RTCSessionDescription | null;
  readonly currentLocalDescription: RTCSessionDescription | null;
  readonly pendingLocalDescription: RTCSessionDescription | null;
  readonly remoteDescription: RTCSessionDescription | null;
  readonly currentRemoteDescription: RTCSessionDescription | null;
  readonly pendingRemoteDescription: RTCSessionDescription | null;
  readonly signalingState: RTCSignalingState;
  readonly iceGatheringState: RTCIceGatheringState;
  readonly iceConnectionState: RTCIceConnectionState;
  readonly connectionState: RTCPeerConnectionState;
  readonly canTrickleIceCandidates: boolean | null;
  readonly sctp: RTCSctpTransport | null;

  onnegotiationneeded: ((this: RTCPeerConnection, ev: Event) => any) | null;
  onicecandidate: ((this: RTCPeerConnection, ev: RTCPeerConnectionIceEvent) => any) | null;
  onicecandidateerror: ((this: RTCPeerConnection, ev: RTCPeerConnectionIceErrorEvent) => any) | null;
  onsignalingstatechange: ((this: RTCPeerConnection, ev: Event) => any) | null;
  oniceconnectionstatechange: ((this: RTCPeerConnection, ev: Event) => any) | null;
  onicegatheringstatechange: ((this: RTCPeerConnection, ev: Event) => any) | null;
  onconnectionstatechange: ((this: RTCPeerConnection, ev: Event) => any) | null;
  ondatachannel: ((this: RTCPeerConnection, ev: RTCDataChannelEvent) => any) | null;
  ontrack: ((this: RTCPeerConnection, ev: RTCTrackEvent) => any) | null;

  // webrtc-identity §6 (IdPs come from identityProviders or setIdentityProviderRegistry()).
  setIdentityProvider(provider: string, options?: RTCIdentityProviderOptions): void;
  getIdentityAssertion(): Promise<string>;
  readonly peerIdentity: Promise<RTCIdentityAssertion>;
  readonly idpLoginUrl: string | null;
  readonly idpErrorInfo: string | null;
  /** refrtc extension: the IdP registry this connection loads IdPs from. */
  setIdentityProviderRegistry(registry: RTCIdentityProviderRegistry): void;
  /** refrtc extension: the IdP time limit in ms (default 15000). */
  setIdpTimeout(ms: number): void;
}

// ---- webrtc-identity ----
export interface RTCIdentityProviderOptions { protocol?: string; usernameHint?: string; peerIdentity?: string; }
export interface RTCIdentityProviderDetails { domain: string; protocol?: string; }
export interface RTCIdentityAssertionResult { idp: RTCIdentityProviderDetails; assertion: string; }
export interface RTCIdentityValidationResult { identity: string; contents: string; }
export interface RTCIdentityProvider {
  generateAssertion(contents: string, origin: string, options: RTCIdentityProviderOptions): Promise<RTCIdentityAssertionResult>;
  validateAssertion(assertion: string, origin: string): Promise<RTCIdentityValidationResult>;
}
export declare class RTCIdentityProviderRegistrar { register(idp: RTCIdentityProvider): void; }
/** refrtc: the IdP realms by (domain, protocol); see wasm/lib/identity.js. */
export declare class RTCIdentityProviderRegistry {
  constructor(origin?: string);
  origin: string;
  realm(domain: string, protocol?: string): RTCIdentityProviderRegistrar;
  register(domain: string, idp: RTCIdentityProvider, protocol?: string): void;
}
export declare class RTCIdentityAssertion { constructor(idp: string, name: string); idp: string; name: string; }
/** The process-wide registry every RTCPeerConnection uses by default. */
export declare const identityProviders: RTCIdentityProviderRegistry;
/** refrtc-test-idp (HMAC-SHA256 tokens, interoperable with the native test IdP). */
export declare class TestIdentityProvider implements RTCIdentityProvider {
  constructor(options?: { domain?: string; key?: string; name?: string;
    fail?: 'none' | 'badSignature' | 'error' | 'timeout' | 'needLogin'; loginUrl?: string; lifetimeMs?: number });
  generateAssertion(contents: string, origin: string, options?: RTCIdentityProviderOptions): Promise<RTCIdentityAssertionResult>;
  validateAssertion(assertion: string, origin: string): Promise<RTCIdentityValidationResult>;
}

export interface RefrtcRelayOptions {
  /** e.g. 'ws://127.0.0.1:8787/v1' (wasm/relay/PROTOCOL.md). */
  url: string;
  /** Sent as ?token=… */
  token?: string;
  /** WebSocket constructor to use instead of globalThis.WebSocket (e.g. require('ws') in Node 20). */
  WebSocket?: unknown;
}

/**
 * Package-level settings. With `relay` set, every RTCPeerConnection created afterwards sends its
 * datagrams through that WebSocket↔UDP relay (mandatory in browsers; optional in Node, where the
 * default is UDP sockets via `dgram`). `relay: null` goes back to the default.
 */
export declare function configure(options: { relay?: RefrtcRelayOptions | null }): { relay: { url: string } | null };

/** Resolves when the WebAssembly core is loaded (CommonJS users must await it before `new`). */
export declare const ready: Promise<void>;

declare const refrtc: {
  RTCPeerConnection: typeof RTCPeerConnection;
  RTCSessionDescription: typeof RTCSessionDescription;
  RTCIceCandidate: typeof RTCIceCandidate;
  RTCDataChannel: typeof RTCDataChannel;
  RTCCertificate: typeof RTCCertificate;
  RTCError: typeof RTCError;
  RTCErrorEvent: typeof RTCErrorEvent;
  RTCPeerConnectionIceEvent: typeof RTCPeerConnectionIceEvent;
  RTCPeerConnectionIceErrorEvent: typeof RTCPeerConnectionIceErrorEvent;
  RTCDataChannelEvent: typeof RTCDataChannelEvent;
  RTCDtlsTransport: typeof RTCDtlsTransport;
  RTCIceTransport: typeof RTCIceTransport;
  RTCSctpTransport: typeof RTCSctpTransport;
  RTCStatsReport: typeof RTCStatsReport;
  MediaStreamTrack: typeof MediaStreamTrack;
  MediaStream: typeof MediaStream;
  RTCRtpSender: typeof RTCRtpSender;
  RTCRtpReceiver: typeof RTCRtpReceiver;
  RTCRtpTransceiver: typeof RTCRtpTransceiver;
  RTCTrackEvent: typeof RTCTrackEvent;
  RTCDTMFSender: typeof RTCDTMFSender;
  RTCDTMFToneChangeEvent: typeof RTCDTMFToneChangeEvent;
  RTCDTMFReceivedEvent: typeof RTCDTMFReceivedEvent;
  createSyntheticTrack: typeof createSyntheticTrack;
  RTCIdentityProviderRegistrar: typeof RTCIdentityProviderRegistrar;
  RTCIdentityProviderRegistry: typeof RTCIdentityProviderRegistry;
  RTCIdentityAssertion: typeof RTCIdentityAssertion;
  identityProviders: RTCIdentityProviderRegistry;
  TestIdentityProvider: typeof TestIdentityProvider;
  configure: typeof configure;
  ready: Promise<void>;
};
export default refrtc;
