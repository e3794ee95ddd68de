// Two RTCPeerConnections in one process connect over loopback UDP (node_host) and exchange data.
import test from 'node:test';
import assert from 'node:assert/strict';
import { refrtc, connectedPair, once } from './helpers.mjs';

test('text and binary messages, binaryType arraybuffer and blob, Blob/view sends', async () => {
  const { a, b, dc, rc } = await connectedPair();
  try {
    assert.equal(a.connectionState, 'connected');
    assert.equal(dc.readyState, 'open');
    assert.equal(rc.label, 'chat');
    assert.equal(typeof dc.id, 'number');
    assert.equal(dc.id, rc.id);
    assert.equal(dc.binaryType, 'arraybuffer');
    assert.ok(a.sctp, 'sctp transport once negotiated');
    assert.ok(a.sctp.maxMessageSize > 0);

    // text, both directions
    let m = once(rc, 'message');
    dc.send('héllo');
    assert.equal((await m).data, 'héllo');
    m = once(dc, 'message');
    rc.send('back');
    assert.equal((await m).data, 'back');

    // binary → ArrayBuffer (default binaryType), from ArrayBuffer and from a view
    m = once(rc, 'message');
    dc.send(new Uint8Array([1, 2, 3, 255]).buffer);
    let data = (await m).data;
    assert.ok(data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(data)], [1, 2, 3, 255]);
    m = once(rc, 'message');
    const big = new Uint8Array(20); big.fill(7); big[5] = 9;
    dc.send(big.subarray(4, 8));
    data = (await m).data;
    assert.deepEqual([...new Uint8Array(data)], [7, 9, 7, 7]);

    // binaryType blob
    rc.binaryType = 'blob';
    m = once(rc, 'message');
    dc.send(new Uint16Array([0x0102]));
    data = (await m).data;
    assert.ok(data instanceof Blob);
    assert.equal(data.size, 2);
    assert.deepEqual([...new Uint8Array(await data.arrayBuffer())], [...new Uint8Array(new Uint16Array([0x0102]).buffer)]);

    // Blob send keeps order with the sends after it
    rc.binaryType = 'arraybuffer';
    const got = [];
    const three = new Promise((resolve) => {
      rc.onmessage = (e) => { got.push(e.data); if (got.length === 3) resolve(); };
    });
    dc.send(new Blob([new Uint8Array([42, 43])]));
    assert.ok(dc.bufferedAmount >= 2);
    dc.send('after-blob');
    dc.send(new Uint8Array([44]));
    await three;
    assert.deepEqual([...new Uint8Array(got[0])], [42, 43]);
    assert.equal(got[1], 'after-blob');
    assert.deepEqual([...new Uint8Array(got[2])], [44]);

    // many messages in order
    const n = 200;
    const seen = [];
    const all = new Promise((resolve) => {
      rc.onmessage = (e) => { seen.push(e.data); if (seen.length === n) resolve(); };
    });
    for (let i = 0; i < n; i++) dc.send(String(i));
    await all;
    assert.deepEqual(seen, Array.from({ length: n }, (_, i) => String(i)));

    // stats
    const report = await a.getStats();
    const pcStats = [...report.values()].find((s) => s.type === 'peer-connection');
    assert.equal(pcStats.dataChannelsOpened, 1);
    const ch = [...report.values()].find((s) => s.type === 'data-channel');
    assert.equal(ch.label, 'chat');
    assert.ok(ch.messagesSent >= n + 6);
    const transport = [...report.values()].find((s) => s.type === 'transport');
    assert.ok(transport.selectedCandidatePairId, 'selected candidate pair reported');
    const pair = report.get(transport.selectedCandidatePairId);
    assert.equal(report.get(pair.localCandidateId).address.replace(/^::ffff:/, '').length > 0, true);
  } finally {
    a.close();
    b.close();
  }
});

test('channel close: remote sees closing then close; stats count closed channels', async () => {
  const { a, b, dc, rc } = await connectedPair({ label: 'x', init: { protocol: 'p1', ordered: false, maxRetransmits: 2 } });
  try {
    assert.equal(rc.protocol, 'p1');
    assert.equal(rc.ordered, false);
    assert.equal(dc.maxRetransmits, 2);
    assert.equal(dc.maxPacketLifeTime, null);
    const order = [];
    rc.onclosing = () => order.push('closing:' + rc.readyState);
    const closed = once(rc, 'close');
    const localClosed = once(dc, 'close');
    dc.close();
    assert.equal(dc.readyState, 'closing');
    await closed;
    order.push('close:' + rc.readyState);
    await localClosed;
    assert.equal(dc.readyState, 'closed');
    assert.deepEqual(order, ['closing:closing', 'close:closed']);
    const s = [...(await a.getStats()).values()].find((x) => x.type === 'peer-connection');
    assert.equal(s.dataChannelsClosed, 1);
  } finally {
    a.close();
    b.close();
  }
});

test('negotiated channels (out-of-band id) open on both sides without datachannel events', async () => {
  const { RTCPeerConnection } = refrtc;
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  try {
    const x = a.createDataChannel('n', { negotiated: true, id: 7 });
    const y = b.createDataChannel('n', { negotiated: true, id: 7 });
    assert.equal(x.id, 7);
    // Only the in-band channel is announced; the negotiated one never is (W3C §6.1, RFC 8832).
    const announced = once(b, 'datachannel');
    a.createDataChannel('m-section');   // negotiated-only offers have no m=application in some engines
    const open = Promise.all([once(x, 'open'), once(y, 'open')]);
    const { negotiate } = await import('./helpers.mjs');
    await negotiate(a, b);
    await open;
    const m = once(y, 'message');
    x.send('oob');
    assert.equal((await m).data, 'oob');
    const ev = await announced;
    assert.equal(ev.channel.label, 'm-section', 'the non-negotiated channel is announced, not the negotiated one');
  } finally {
    a.close();
    b.close();
  }
});
