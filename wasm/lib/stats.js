'use strict';
// W3C webrtc-pc §8.3 RTCStatsReport: a read-only maplike<DOMString, object>. Stats types from
// W3C webrtc-stats. What this version reports:
//  - the RTP side from the engine (rtc_json.h AppendRtpStats): "codec", "media-source",
//    "outbound-rtp", "inbound-rtp", "remote-inbound-rtp", "remote-outbound-rtp"; a sender's or a
//    receiver's getStats() (or getStats(track)) reports its RTP stream and what that refers to
//  - "peer-connection" (dataChannelsOpened / dataChannelsClosed, counted in JS)
//  - one "data-channel" per channel (label, protocol, dataChannelIdentifier, state, messages/bytes
//    sent and received, counted in JS)
//  - "transport" + "candidate-pair" + "local-candidate" + "remote-candidate" for the path the
//    DTLS/SCTP traffic is currently sent on, as observed by the host (not read from the ICE agent:
//    the engine does not expose its candidate pairs yet). Libraries such as simple-peer look for
//    transport.selectedCandidatePairId to learn the addresses in use. The transport also has
//    dtlsCipher / tlsVersion once DTLS is connected, and refers to the two "certificate" entries.

class RTCStatsReport {
  constructor(entries) { Object.defineProperty(this, '_map', { value: new Map(entries) }); }
  get size() { return this._map.size; }
  get(id) { return this._map.get(id); }
  has(id) { return this._map.has(id); }
  keys() { return this._map.keys(); }
  values() { return this._map.values(); }
  entries() { return this._map.entries(); }
  forEach(cb, thisArg) { this._map.forEach((v, k) => cb.call(thisArg, v, k, this)); }
  [Symbol.iterator]() { return this._map.entries(); }
}
Object.defineProperty(RTCStatsReport.prototype, Symbol.toStringTag, { value: 'RTCStatsReport' });

// The ids an RTC stats object refers to (webrtc-stats: members named …Id).
const REFS = ['transportId', 'codecId', 'mediaSourceId', 'remoteId', 'localId', 'selectedCandidatePairId',
  'localCandidateId', 'remoteCandidateId'];

// filter: null (everything), { sender } or { receiver } (§8.2 "stats selection algorithm": the
// sender's outbound-rtp / the receiver's inbound-rtp and every object they refer to, directly or
// indirectly).
function buildReport(pc, timestamp, filter = null) {
  const all = buildAll(pc, timestamp);
  if (!filter) return new RTCStatsReport(all);
  const byId = new Map(all);
  const t = (filter.sender || filter.receiver)._t;
  const mid = t.mid;
  const want = filter.sender ? 'outbound-rtp' : 'inbound-rtp';
  const keep = new Set();
  const visit = (id) => {
    if (keep.has(id) || !byId.has(id)) return;
    keep.add(id);
    const o = byId.get(id);
    for (const k of REFS) if (typeof o[k] === 'string') visit(o[k]);
  };
  if (mid !== null) for (const [id, o] of all) if (o.type === want && o.mid === mid) visit(id);
  return new RTCStatsReport(all.filter(([id]) => keep.has(id)));
}

function buildAll(pc, timestamp) {
  const out = [];
  const add = (o) => out.push([o.id, Object.freeze({ timestamp, ...o })]);
  add({ id: 'P', type: 'peer-connection', dataChannelsOpened: pc._stats.dataChannelsOpened,
    dataChannelsClosed: pc._stats.dataChannelsClosed });
  for (const ch of pc._channelObjects()) {
    add({ id: 'D' + ch._handle, type: 'data-channel', label: ch.label, protocol: ch.protocol,
      dataChannelIdentifier: ch.id ?? undefined, state: ch.readyState, ...ch.stats });
  }
  const pair = pc._selectedCandidatePair();
  if (pair) {
    const l = pair.local, r = pair.remote;
    add({ id: 'CL', type: 'local-candidate', transportId: 'T', address: l.address, port: l.port,
      protocol: l.protocol, candidateType: l.type, priority: l.priority ?? undefined,
      foundation: l.foundation ?? undefined });
    add({ id: 'CR', type: 'remote-candidate', transportId: 'T', address: r.address, port: r.port,
      protocol: r.protocol, candidateType: r.type, priority: r.priority ?? undefined,
      foundation: r.foundation ?? undefined });
    add({ id: 'CP', type: 'candidate-pair', transportId: 'T', localCandidateId: 'CL',
      remoteCandidateId: 'CR', state: 'succeeded', nominated: true, selected: true,
      packetsSent: pair.packetsSent, bytesSent: pair.bytesSent,
      packetsReceived: pair.packetsReceived, bytesReceived: pair.bytesReceived });
  }
  const snap = pc._snapshot();
  // webrtc-stats §7.16 certificate: ours (lowercase, as getFingerprints()) and, once connected, the
  // peer's (sha-256 of its DER, uppercase as in SDP) — the same entries as the native getStats.
  const local = pc._deleted ? [] : pc._core().certificateFingerprints();
  if (local.length) {
    add({ id: 'CFlocal', type: 'certificate', fingerprint: local[0].value, fingerprintAlgorithm: local[0].algorithm });
  }
  if (snap.remoteFingerprint) {
    add({ id: 'CFremote', type: 'certificate', fingerprint: snap.remoteFingerprint, fingerprintAlgorithm: 'sha-256' });
  }
  add({ id: 'T', type: 'transport', dtlsState: snap.dtlsState || 'new',
    iceState: pc.iceConnectionState, selectedCandidatePairId: pair ? 'CP' : undefined,
    dtlsCipher: snap.dtlsCipher || undefined, tlsVersion: snap.dtlsCipher ? 'FEFD' : undefined,
    localCertificateId: local.length ? 'CFlocal' : undefined,
    remoteCertificateId: snap.remoteFingerprint ? 'CFremote' : undefined });
  if (!pc._deleted && typeof pc._core().rtpStats === 'function') {
    for (const o of pc._core().rtpStats(timestamp, 'T')) add(o);
  }
  return out;
}

module.exports = { RTCStatsReport, buildReport };
