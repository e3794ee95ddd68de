// Connects refrtc (WebAssembly, from npm) to a native refrtc peer and round-trips one message.
// Usage: node connect-native.mjs [path/to/refrtc_echo_peer]   (or set REFRTC_ECHO_PEER)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { RTCPeerConnection } from 'refrtc';

// The echo peer reads our offer as one JSON line on stdin and answers on stdout (non-trickle).
const peer = spawn(process.argv[2] || process.env.REFRTC_ECHO_PEER, { stdio: ['pipe', 'pipe', 'inherit'] });
peer.on('exit', (code) => code && process.exit(code));  // it failed (the reason is on stderr)
const pc = new RTCPeerConnection();
const channel = pc.createDataChannel('echo');
channel.onopen = () => channel.send('hello from wasm');
channel.onmessage = ({ data }) => {
  console.log('echo:', data);
  pc.close();
  peer.stdin.end();  // the echo peer exits when its stdin closes
};
await pc.setLocalDescription(await pc.createOffer());
while (pc.iceGatheringState !== 'complete') await once(pc, 'icegatheringstatechange');
peer.stdin.write(JSON.stringify(pc.localDescription) + '\n');
const [answer] = await once(createInterface({ input: peer.stdout }), 'line');
await pc.setRemoteDescription(JSON.parse(answer));
