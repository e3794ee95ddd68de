// Unit tests of the core-independent parts: W3C value classes, errors, events, helpers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { refrtc, require } from './helpers.mjs';

const { RTCIceCandidate, RTCSessionDescription, RTCError, RTCErrorEvent, RTCPeerConnectionIceEvent,
  RTCPeerConnectionIceErrorEvent, RTCDataChannelEvent, configure } = refrtc;
const util = require('../lib/util.js');
const { encodeFrame, decodeFrame } = require('../lib/ws_host.js');
const { usableAddresses } = require('../lib/node_host.js');

test('RTCIceCandidate parses the candidate-attribute (RFC 8839 §5.1)', () => {
  const c = new RTCIceCandidate({
    candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.2 rport 46154 generation 0 ufrag abcd',
    sdpMid: '0', sdpMLineIndex: 0 });
  assert.equal(c.foundation, '842163049');
  assert.equal(c.component, 'rtp');
  assert.equal(c.protocol, 'udp');
  assert.equal(c.priority, 1677729535);
  assert.equal(c.address, '203.0.113.7');
  assert.equal(c.port, 46154);
  assert.equal(c.type, 'srflx');
  assert.equal(c.relatedAddress, '10.0.0.2');
  assert.equal(c.relatedPort, 46154);
  assert.equal(c.usernameFragment, 'abcd');
  assert.deepEqual(c.toJSON(), { candidate: c.candidate, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' });
  assert.equal(JSON.stringify(c), JSON.stringify(c.toJSON()));
  const t = new RTCIceCandidate({ candidate: 'candidate:1 2 TCP 5 ::1 9 typ host tcptype passive', sdpMid: 'a' });
  assert.equal(t.component, 'rtcp');
  assert.equal(t.protocol, 'tcp');
  assert.equal(t.tcpType, 'passive');
  assert.equal(t.sdpMLineIndex, null);
  assert.equal(t.relatedAddress, null);
});

test('RTCIceCandidate: unparseable candidates leave the fields null; sdpMid and index null → TypeError', () => {
  const c = new RTCIceCandidate({ candidate: 'candidate:garbage', sdpMLineIndex: 1 });
  assert.equal(c.address, null);
  assert.equal(c.port, null);
  assert.equal(c.type, null);
  assert.equal(new RTCIceCandidate({ candidate: '', sdpMid: '0' }).candidate, '');
  assert.throws(() => new RTCIceCandidate({ candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host' }), TypeError);
  assert.throws(() => new RTCIceCandidate(), TypeError);
  assert.throws(() => new RTCIceCandidate({ sdpMLineIndex: 70000 }), TypeError);
});

test('RTCSessionDescription: type required and validated, toJSON', () => {
  const d = new RTCSessionDescription({ type: 'offer', sdp: 'v=0\r\n' });
  assert.equal(d.type, 'offer');
  assert.deepEqual(d.toJSON(), { type: 'offer', sdp: 'v=0\r\n' });
  assert.equal(new RTCSessionDescription({ type: 'rollback' }).sdp, '');
  assert.throws(() => new RTCSessionDescription({ sdp: '' }), TypeError);
  assert.throws(() => new RTCSessionDescription({ type: 'bogus' }), TypeError);
});

test('RTCError is an OperationError DOMException with errorDetail; RTCErrorEvent', () => {
  const e = new RTCError({ errorDetail: 'sctp-failure', sctpCauseCode: 12 }, 'boom');
  assert.ok(e instanceof DOMException);
  assert.equal(e.name, 'OperationError');
  assert.equal(e.message, 'boom');
  assert.equal(e.errorDetail, 'sctp-failure');
  assert.equal(e.sctpCauseCode, 12);
  assert.equal(e.receivedAlert, null);
  assert.throws(() => new RTCError({ errorDetail: 'nope' }), TypeError);
  const ev = new RTCErrorEvent('error', { error: e });
  assert.equal(ev.error, e);
  assert.throws(() => new RTCErrorEvent('error', {}), TypeError);
});

test('event interfaces carry their fields', () => {
  const c = new RTCIceCandidate({ candidate: '', sdpMid: '0' });
  assert.equal(new RTCPeerConnectionIceEvent('icecandidate', { candidate: c }).candidate, c);
  assert.equal(new RTCPeerConnectionIceEvent('icecandidate').candidate, null);
  const err = new RTCPeerConnectionIceErrorEvent('icecandidateerror',
    { url: 'stun:x', errorCode: 701, errorText: 'unreachable', address: '1.2.3.4', port: 5 });
  assert.deepEqual([err.url, err.errorCode, err.errorText, err.address, err.port],
    ['stun:x', 701, 'unreachable', '1.2.3.4', 5]);
  assert.throws(() => new RTCDataChannelEvent('datachannel', {}), TypeError);
});

test('IPv4/IPv6 text <-> bytes (RFC 5952 output)', () => {
  assert.deepEqual([...util.ipToBytes('192.0.2.1')], [192, 0, 2, 1]);
  assert.equal(util.bytesToIp(util.ipToBytes('2001:db8:0:0:0:0:2:1')), '2001:db8::2:1');
  assert.equal(util.bytesToIp(util.ipToBytes('::1')), '::1');
  assert.equal(util.bytesToIp(util.ipToBytes('::')), '::');
  assert.equal(util.bytesToIp(util.ipToBytes('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
  assert.equal(util.bytesToIp(util.ipToBytes('::ffff:1.2.3.4')), '::ffff:102:304');
  assert.equal(util.ipToBytes('1.2.3'), null);
  assert.equal(util.ipToBytes('1::2::3'), null);
  assert.ok(util.sameIp('::1', '0:0:0:0:0:0:0:1'));
  assert.ok(!util.sameIp('::1', '127.0.0.1'));
  const s = util.randomSeed();
  assert.ok(Number.isSafeInteger(s) && s >= 0);
});

test('relay datagram framing (PROTOCOL.md §2)', () => {
  const f = encodeFrame(2, '2001:db8::1', 0x1234, new Uint8Array([9, 8, 7]));
  assert.deepEqual([...f.subarray(0, 4)], [2, 6, 0x12, 0x34]);
  assert.equal(f.length, 4 + 16 + 3);
  const d = decodeFrame(f.buffer);
  assert.deepEqual([d.socketId, d.ip, d.port, [...d.payload]], [2, '2001:db8::1', 0x1234, [9, 8, 7]]);
  const v4 = decodeFrame(encodeFrame(0, '127.0.0.1', 9, new Uint8Array(0)));
  assert.deepEqual([v4.ip, v4.port, v4.payload.length], ['127.0.0.1', 9, 0]);
  assert.equal(decodeFrame(new Uint8Array([0, 5, 0, 0])), null);
  assert.equal(decodeFrame(new Uint8Array([0, 4, 0, 0, 1])), null);
});

test('interface selection mirrors the native host (REFRTC_INTERFACES)', () => {
  const ifaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }, { address: '::1', family: 'IPv6', internal: true }],
    eth0: [{ address: '192.0.2.5', family: 'IPv4', internal: false },
      { address: 'fe80::1', family: 'IPv6', internal: false, scopeid: 2 },
      { address: '2001:db8::5', family: 'IPv6', internal: false }],
    wlan0: [{ address: '169.254.3.3', family: 4, internal: false }],
  };
  const addrs = (spec) => usableAddresses(spec, ifaces).map((a) => a.address);
  assert.deepEqual(addrs(''), ['127.0.0.1', '192.0.2.5', '2001:db8::5', '::1']);
  assert.deepEqual(addrs('all'), addrs(''));
  assert.deepEqual(addrs('loopback'), ['127.0.0.1', '::1']);
  assert.deepEqual(addrs('eth0'), ['192.0.2.5', '2001:db8::5']);
  assert.deepEqual(addrs('eth0,link-local'), ['192.0.2.5', '2001:db8::5', 'fe80::1']);
  assert.deepEqual(addrs('all,link-local'), ['127.0.0.1', '169.254.3.3', '192.0.2.5', '2001:db8::5', '::1', 'fe80::1']);
});

test('configure() validates and reports the relay', () => {
  assert.throws(() => configure({ relay: { token: 'x' } }), TypeError);
  assert.deepEqual(configure({ relay: { url: 'ws://127.0.0.1:1/v1', token: 't' } }), { relay: { url: 'ws://127.0.0.1:1/v1' } });
  assert.deepEqual(configure({ relay: null }), { relay: null });
});
