'use strict';
// W3C webrtc-pc §8.3 RTCStatsReport: a read-only maplike<DOMString, object>. Stats types from
// W3C webrtc-stats. What this version reports (media stats come with the media work):
//  - "peer-connection" (dataChannelsOpened / dataChannelsClosed, counted in JS)
//  - one "data-channel" per channel (label, protocol, dataChannelIdentifier, state, messages/bytes
//    sent and received, counted in JS)
//  - "transport" + "candidate-pair" + "local-candidate" + "remote-candidate" for the path the
//    DTLS/SCTP traffic is currently sent on, as observed by the host (not read from the ICE agent:
//    the engine does not expose its candidate pairs yet). Libraries such as simple-peer look for
//    transport.selectedCandidatePairId to learn the addresses in use.

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

function buildReport(pc, timestamp) {
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
  add({ id: 'T', type: 'transport', dtlsState: snap.dtlsState || 'new',
    iceState: pc.iceConnectionState, selectedCandidatePairId: pair ? 'CP' : undefined });
  return new RTCStatsReport(out);
}

module.exports = { RTCStatsReport, buildReport };
