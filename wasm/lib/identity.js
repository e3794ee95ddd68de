'use strict';
// W3C Identity for WebRTC 1.0 (webrtc-identity): the IdP side of the package.
//
// A browser loads an IdP proxy from https://<domain>/.well-known/idp-proxy/<protocol> into its own
// realm, whose global `rtcIdentityProvider` (RTCIdentityProviderRegistrar, §5) the script calls
// register({generateAssertion, validateAssertion}) on. The package has no script loader: an
// RTCIdentityProviderRegistry holds one realm per (domain, protocol) and the application (or a
// test) registers an RTCIdentityProvider object in it. Every RTCPeerConnection uses the process-wide
// `identityProviders` registry unless given its own with pc.setIdentityProviderRegistry(registry)
// (refrtc extension; the native engine's registries are per peer connection, see
// stack/include/refrtc/rtc_identity.h). A (domain, protocol) without a realm fails to load
// (RTCError "idp-load-failure"), a realm without a registered IdP is "idp-bad-script-failure".
const { domError } = require('./errors.js');

// §5 RTCIdentityProviderRegistrar: the `rtcIdentityProvider` of one IdP realm.
class RTCIdentityProviderRegistrar {
  constructor() { this._idp = null; }
  // §5 register(idp): the RTCIdentityProvider dictionary {generateAssertion, validateAssertion}.
  register(idp) {
    if (!idp || typeof idp.generateAssertion !== 'function' || typeof idp.validateAssertion !== 'function') {
      throw new TypeError('RTCIdentityProvider needs generateAssertion and validateAssertion functions');
    }
    if (this._idp) throw domError('InvalidStateError', 'an RTCIdentityProvider is already registered in this realm');
    this._idp = idp;
  }
}

class RTCIdentityProviderRegistry {
  constructor(origin = 'https://refrtc.invalid') {
    this._realms = new Map();  // "domain\nprotocol" → RTCIdentityProviderRegistrar
    this.origin = origin;
  }
  // The realm of https://<domain>/.well-known/idp-proxy/<protocol> (created on first use).
  realm(domain, protocol = 'default') {
    const key = `${String(domain).toLowerCase()}\n${protocol}`;
    let r = this._realms.get(key);
    if (!r) { r = new RTCIdentityProviderRegistrar(); this._realms.set(key, r); }
    return r;
  }
  register(domain, idp, protocol = 'default') { this.realm(domain, protocol).register(idp); }
  _lookup(domain, protocol) {
    const r = this._realms.get(`${String(domain).toLowerCase()}\n${protocol}`);
    return r ? r._idp : null;
  }
  // [domain, protocol] of every realm with a registered IdP.
  _registered() {
    const out = [];
    for (const [key, r] of this._realms) if (r._idp) out.push(key.split('\n'));
    return out;
  }
}

// webrtc-identity RTCIdentityAssertion {idp, name}: what peerIdentity resolves with.
class RTCIdentityAssertion {
  constructor(idp, name) {
    this.idp = String(idp);
    this.name = String(name);
  }
}

const identityProviders = new RTCIdentityProviderRegistry();

module.exports = { RTCIdentityProviderRegistrar, RTCIdentityProviderRegistry, RTCIdentityAssertion, identityProviders };
