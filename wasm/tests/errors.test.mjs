// Error paths: rejected promises / thrown exceptions carry the DOMException name the engine (or
// WebIDL) prescribes; TypeError/RangeError are real ECMAScript errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { refrtc, connectedPair, expectReject, once } from './helpers.mjs';

const { RTCPeerConnection } = refrtc;

test('setRemoteDescription with garbage SDP rejects with a DOMException', async () => {
  const pc = new RTCPeerConnection();
  try {
    const e = await expectReject(pc.setRemoteDescription({ type: 'offer', sdp: 'garbage' }), 'OperationError');
    assert.ok(e instanceof DOMException);
    assert.equal(pc.signalingState, 'stable');
    assert.equal(pc.remoteDescription, null);
  } finally { pc.close(); }
});

test('setRemoteDescription without type is a TypeError (WebIDL required member)', async () => {
  const pc = new RTCPeerConnection();
  try {
    const e = await expectReject(pc.setRemoteDescription({ sdp: 'v=0' }), 'TypeError');
    assert.ok(e instanceof TypeError);
  } finally { pc.close(); }
});

test('JSEP state errors: createAnswer / answer in stable → InvalidStateError', async () => {
  const pc = new RTCPeerConnection();
  const other = new RTCPeerConnection();
  try {
    await expectReject(pc.createAnswer(), 'InvalidStateError');
    other.createDataChannel('x');
    const offer = await other.createOffer();
    await expectReject(pc.setRemoteDescription({ type: 'answer', sdp: offer.sdp }), 'InvalidStateError');
    await expectReject(pc.addIceCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0' }), 'InvalidStateError');
  } finally { pc.close(); other.close(); }
});

test('addIceCandidate with sdpMid and sdpMLineIndex both null → TypeError', async () => {
  const pc = new RTCPeerConnection();
  try {
    const e = await expectReject(pc.addIceCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' }), 'TypeError');
    assert.ok(e instanceof TypeError);
  } finally { pc.close(); }
});

test('closed connection: methods throw/reject InvalidStateError, attributes read closed', async () => {
  const pc = new RTCPeerConnection();
  pc.close();
  assert.equal(pc.signalingState, 'closed');
  assert.equal(pc.connectionState, 'closed');
  assert.equal(pc.iceConnectionState, 'closed');
  assert.throws(() => pc.createDataChannel('x'), (e) => e instanceof DOMException && e.name === 'InvalidStateError');
  assert.throws(() => pc.setConfiguration({}), (e) => e.name === 'InvalidStateError');
  await expectReject(pc.createOffer(), 'InvalidStateError');
  await expectReject(pc.createAnswer(), 'InvalidStateError');
  await expectReject(pc.setLocalDescription(), 'InvalidStateError');
  await expectReject(pc.setRemoteDescription({ type: 'offer', sdp: 'v=0' }), 'InvalidStateError');
  await expectReject(pc.addIceCandidate(null), 'InvalidStateError');
  pc.close();   // idempotent
  assert.equal(typeof pc.getConfiguration(), 'object');
});

test('data channel: send before open → InvalidStateError; bad binaryType → SyntaxError; bad init → TypeError', async () => {
  const pc = new RTCPeerConnection();
  try {
    const dc = pc.createDataChannel('x');
    assert.equal(dc.readyState, 'connecting');
    assert.throws(() => dc.send('early'), (e) => e instanceof DOMException && e.name === 'InvalidStateError');
    assert.throws(() => { dc.binaryType = 'text'; }, (e) => e instanceof DOMException && e.name === 'SyntaxError');
    assert.equal(dc.binaryType, 'arraybuffer');
    assert.throws(() => pc.createDataChannel('y', { maxRetransmits: 70000 }), TypeError);
    assert.throws(() => pc.createDataChannel('y', { maxRetransmits: 1, maxPacketLifeTime: 1 }), TypeError);
    assert.throws(() => pc.createDataChannel('y', { negotiated: true }), TypeError);
    assert.throws(() => pc.createDataChannel(), TypeError);
    dc.close();
    assert.equal(dc.readyState, 'closing');
    assert.throws(() => dc.send('late'), (e) => e.name === 'InvalidStateError');
  } finally { pc.close(); }
});

test('send after close on an open channel → InvalidStateError; too large → TypeError', async () => {
  const { a, b, dc } = await connectedPair();
  try {
    const max = a.sctp.maxMessageSize;
    if (Number.isFinite(max)) {
      assert.throws(() => dc.send(new Uint8Array(max + 1)), TypeError);
    }
    dc.close();
    assert.throws(() => dc.send('x'), (e) => e.name === 'InvalidStateError');
    await once(dc, 'close');
  } finally { a.close(); b.close(); }
});

test('configuration errors: bad enum → TypeError, non-certificate → TypeError', () => {
  assert.throws(() => new RTCPeerConnection({ iceTransportPolicy: 'nope' }), TypeError);
  assert.throws(() => new RTCPeerConnection({ certificates: [{}] }), TypeError);
  assert.throws(() => new RTCPeerConnection({ iceServers: [{}] }), TypeError);
});

test('media methods: a core without media → NotSupportedError and empty getters; a non-track → TypeError', () => {
  const pc = new RTCPeerConnection();
  try {
    assert.deepEqual(pc.getSenders(), []);
    assert.deepEqual(pc.getTransceivers(), []);
    assert.throws(() => pc.addTrack({}), TypeError);
    if (process.env.REFRTC_CORE) {
      assert.throws(() => pc.addTransceiver('audio'), (e) => e.name === 'NotSupportedError');
    } else {
      assert.equal(pc.addTransceiver('audio').receiver.track.kind, 'audio');   // more in media.test.mjs
    }
  } finally { pc.close(); }
});

test('generateCertificate: ECDSA P-256 works and is usable; unsupported algorithms → NotSupportedError', async () => {
  const cert = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256', expires: 3600 * 1000 });
  assert.ok(cert instanceof refrtc.RTCCertificate);
  assert.ok(Math.abs(cert.expires - (Date.now() + 3600 * 1000)) < 5 * 60 * 1000, `expires ${cert.expires}`);
  const fps = cert.getFingerprints();
  assert.ok(fps.length >= 1);
  assert.equal(fps[0].algorithm, 'sha-256');
  const dflt = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' });
  assert.ok(dflt.expires > Date.now() + 24 * 3600 * 1000);
  await expectReject(RTCPeerConnection.generateCertificate({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-1' }), 'NotSupportedError');
  await expectReject(RTCPeerConnection.generateCertificate({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 512,
    publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }), 'NotSupportedError');
  await expectReject(RTCPeerConnection.generateCertificate({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048,
    publicExponent: new Uint8Array([3]), hash: 'SHA-256' }), 'NotSupportedError');
  await expectReject(RTCPeerConnection.generateCertificate({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048,
    hash: 'SHA-256' }), 'TypeError');
  await expectReject(RTCPeerConnection.generateCertificate({ name: 'AES-GCM', length: 128 }), 'NotSupportedError');
  await expectReject(RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-384' }), 'NotSupportedError');
  const pc = new RTCPeerConnection({ certificates: [cert] });
  try {
    assert.deepEqual(pc.getConfiguration().certificates, [cert]);
    pc.createDataChannel('x');
    const offer = await pc.createOffer();
    if (!process.env.REFRTC_CORE) {
      assert.ok(offer.sdp.toLowerCase().includes(fps[0].value.toLowerCase()), 'offer uses the certificate fingerprint');
    }
  } finally { pc.close(); }
});
