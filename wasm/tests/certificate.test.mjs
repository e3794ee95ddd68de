// W3C §4.9 certificates in the WASM package: RSASSA-PKCS1-v1_5 next to ECDSA, used end to end,
// expiry (constructor InvalidAccessError) and setConfiguration's certificate rule
// (InvalidModificationError). Needs the real core (the fake one makes no keys).
import test from 'node:test';
import assert from 'node:assert/strict';
import { refrtc, negotiate, once, usingFake } from './helpers.mjs';

const { RTCPeerConnection } = refrtc;
const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };

test('RSASSA-PKCS1-v1_5 certificate: generated, in the SDP, carries a data channel to an ECDSA peer', { skip: usingFake && 'fake core', timeout: 300000 }, async (t) => {
  const started = performance.now();
  const rsa = await RTCPeerConnection.generateCertificate(RSA);
  t.diagnostic(`RSA-2048 generateCertificate under WebAssembly: ${Math.round(performance.now() - started)} ms`);
  assert.ok(rsa instanceof refrtc.RTCCertificate);
  const fp = rsa.getFingerprints()[0];
  assert.equal(fp.algorithm, 'sha-256');
  assert.match(fp.value, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
  assert.ok(Math.abs(rsa.expires - (Date.now() + 30 * 24 * 3600 * 1000)) < 5 * 60 * 1000);
  const a = new RTCPeerConnection({ certificates: [rsa] });
  const b = new RTCPeerConnection();
  try {
    const dc = a.createDataChannel('rsa');
    const remote = once(b, 'datachannel', 20000);
    const opened = once(dc, 'open', 20000);
    await negotiate(a, b);
    assert.ok(a.localDescription.sdp.includes(`a=fingerprint:sha-256 ${fp.value.toUpperCase()}`), 'offer carries the RSA fingerprint');
    const rc = (await remote).channel;
    if (rc.readyState !== 'open') await once(rc, 'open', 20000);
    await opened;
    const got = once(rc, 'message');
    dc.send('from the RSA side');
    assert.equal((await got).data, 'from the RSA side');
    const back = once(dc, 'message');
    rc.send('to the RSA side');
    assert.equal((await back).data, 'to the RSA side');
    // §4.4.1.x set a configuration: the same certificates are fine, others InvalidModificationError.
    a.setConfiguration({ certificates: [rsa] });
    const other = await RTCPeerConnection.generateCertificate({ name: 'ECDSA', namedCurve: 'P-256' });
    assert.throws(() => a.setConfiguration({ certificates: [other] }), (e) => e.name === 'InvalidModificationError');
    assert.throws(() => a.setConfiguration({ certificates: [rsa, other] }), (e) => e.name === 'InvalidModificationError');
  } finally { a.close(); b.close(); }
});

test('an expired RSA certificate makes the constructor throw InvalidAccessError', { skip: usingFake && 'fake core', timeout: 120000 }, async () => {
  const expired = await RTCPeerConnection.generateCertificate({ ...RSA, modulusLength: 1024, expires: 0 });
  assert.ok(expired.expires <= Date.now());
  assert.throws(() => new RTCPeerConnection({ certificates: [expired] }), (e) => e.name === 'InvalidAccessError');
  // The string form and the hash dictionary form normalize too.
  const ec = await RTCPeerConnection.generateCertificate('ecdsa');
  assert.equal(ec.getFingerprints()[0].algorithm, 'sha-256');
  const dictHash = await RTCPeerConnection.generateCertificate({ ...RSA, modulusLength: 1024, hash: { name: 'sha-256' }, publicExponent: [1, 0, 1] });
  assert.equal(dictHash.getFingerprints()[0].algorithm, 'sha-256');
});
