// webCryptoAlgorithm (common/w3c_driver.mjs): a generateCertificate keygenAlgorithm from JSON as
// WebCrypto wants it — RSA's publicExponent back to a Uint8Array (W3C §4.9 RSASSA-PKCS1-v1_5).
import test from 'node:test';
import assert from 'node:assert/strict';
import { webCryptoAlgorithm } from '../../drivers/common/w3c_driver.mjs';

test('publicExponent as a JSON array or JSON.stringify(Uint8Array) object becomes a Uint8Array', () => {
  const a = webCryptoAlgorithm({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: [1, 0, 1], hash: 'SHA-256' });
  assert.ok(a.publicExponent instanceof Uint8Array);
  assert.deepEqual([...a.publicExponent], [1, 0, 1]);
  assert.equal(a.modulusLength, 2048);
  assert.equal(a.hash, 'SHA-256');
  const b = webCryptoAlgorithm({ name: 'RSASSA-PKCS1-v1_5', publicExponent: JSON.parse(JSON.stringify(new Uint8Array([1, 0, 1]))) });
  assert.deepEqual([...b.publicExponent], [1, 0, 1]);
});

test('other forms pass through unchanged', () => {
  assert.equal(webCryptoAlgorithm('ECDSA'), 'ECDSA');
  const ec = { name: 'ECDSA', namedCurve: 'P-256', expires: 5 };
  assert.equal(webCryptoAlgorithm(ec), ec);
  const u8 = new Uint8Array([1, 0, 1]);
  assert.equal(webCryptoAlgorithm({ name: 'RSASSA-PKCS1-v1_5', publicExponent: u8 }).publicExponent, u8);
  assert.equal(webCryptoAlgorithm(null), null);
});
