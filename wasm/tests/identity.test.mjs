// webrtc-identity in the package: two connections of this process with the refrtc test IdP.
import test from 'node:test';
import assert from 'node:assert/strict';
import { refrtc, usingFake, once, negotiate } from './helpers.mjs';

const { RTCPeerConnection, RTCIdentityProviderRegistry, TestIdentityProvider, RTCError } = refrtc;
const skip = usingFake ? 'needs the real core (fake core has no identity)' : false;

test('test IdP: the HMAC matches the native one (shared token format)', async () => {
  assert.equal(await TestIdentityProvider.sign('secret-key', 'alice@idp.example', '{"fingerprint":[]}', 0),
    'fd19d0d3252e4a66cbd5c783a20737f9c1eaef1d19fb20502535248f7edfe9ed');
  const idp = new TestIdentityProvider({ key: 'k' });
  const r = await idp.validateAssertion(await TestIdentityProvider.makeToken('k', 'a@idp.example', 'c'), 'o');
  assert.deepEqual(r, { identity: 'a@idp.example', contents: 'c' });
  await assert.rejects(idp.validateAssertion(await TestIdentityProvider.makeToken('other', 'a@idp.example', 'c'), 'o'),
    (e) => e instanceof RTCError && e.errorDetail === 'idp-token-invalid');
});

function pair(aOptions = {}, bOptions = {}, config = {}) {
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  const ra = new RTCIdentityProviderRegistry();
  const rb = new RTCIdentityProviderRegistry();
  ra.register('idp.example', new TestIdentityProvider({ key: 'k1', name: 'alice@idp.example', ...aOptions }));
  rb.register('idp.example', new TestIdentityProvider({ key: 'k1', name: 'bob@idp.example', ...bOptions }));
  a.setIdentityProviderRegistry(ra);
  b.setIdentityProviderRegistry(rb);
  return { a, b };
}

test('assertions in offer and answer; peerIdentity resolves on both sides; the channel opens', { skip }, async () => {
  const { a, b } = pair();
  try {
    a.setIdentityProvider('idp.example');
    b.setIdentityProvider('idp.example');
    const assertion = await a.getIdentityAssertion();
    const dc = a.createDataChannel('x');
    const offer = await a.createOffer();
    assert.ok(offer.sdp.includes(`a=identity:${assertion}`));
    await negotiate(a, b);
    assert.match(b.remoteDescription.sdp, /a=identity:/);
    const [pa, pb] = await Promise.all([a.peerIdentity, b.peerIdentity]);
    assert.deepEqual({ ...pa }, { idp: 'idp.example', name: 'bob@idp.example' });
    assert.deepEqual({ ...pb }, { idp: 'idp.example', name: 'alice@idp.example' });
    await once(dc, 'open');
  } finally { a.close(); b.close(); }
});

test('bad signature rejects peerIdentity with idp-token-invalid; need-login sets idpLoginUrl', { skip }, async () => {
  const { a, b } = pair({ fail: 'badSignature' });
  try {
    a.setIdentityProvider('idp.example');
    a.createDataChannel('x');
    await negotiate(a, b);
    await assert.rejects(b.peerIdentity, (e) => e instanceof RTCError && e.errorDetail === 'idp-token-invalid');
  } finally { a.close(); b.close(); }
  const { a: c, b: d } = pair({ fail: 'needLogin' });
  try {
    c.setIdentityProvider('idp.example');
    await assert.rejects(c.createOffer(), (e) => e instanceof RTCError && e.errorDetail === 'idp-need-login');
    assert.equal(c.idpLoginUrl, 'https://idp.example/login');
  } finally { c.close(); d.close(); }
});

test('a validating IdP that never answers times out (idp-timeout); a target peer identity mismatch rejects SRD', { skip }, async () => {
  const { a, b } = pair({}, { fail: 'timeout' });
  try {
    b.setIdpTimeout(300);
    a.setIdentityProvider('idp.example');
    a.createDataChannel('x');
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    await assert.rejects(b.peerIdentity, (e) => e instanceof RTCError && e.errorDetail === 'idp-timeout');
  } finally { a.close(); b.close(); }
  const { a: c, b: d } = pair({}, {}, {});
  const e2 = new RTCPeerConnection({ peerIdentity: 'carol@idp.example' });
  try {
    c.setIdentityProvider('idp.example');
    c.createDataChannel('x');
    await c.setLocalDescription();
    const reg = new RTCIdentityProviderRegistry();
    reg.register('idp.example', new TestIdentityProvider({ key: 'k1' }));
    e2.setIdentityProviderRegistry(reg);
    await assert.rejects(e2.setRemoteDescription(c.localDescription), (e) => e.name === 'OperationError');
    assert.equal(e2.signalingState, 'stable');
  } finally { c.close(); d.close(); e2.close(); }
});
