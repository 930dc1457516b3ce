// A lightweight emulator of many cluster members, in one process, speaking our wire format (the node's
// own LayeredCodec: protobuf, compression, CRC framing as configured, length-prefixed streams). It is
// not SWIM per member: it answers pings and indirect pings for every emulated member, answers and
// starts full push-pulls of the whole emulated state, and gossips a few alive refreshes per second
// towards the real node. Forked by large-cluster-host.ts (IPC messages); not meant to be run alone.
//
// Addressing: member i is 127.A.B.C:port with A.B.C = i + 2^16 (so 127.1.0.1 and up); one UDP socket
// and one TCP server bound to 0.0.0.0:port receive for all of them (Linux routes all of 127/8 to lo).
import { createSocket, type RemoteInfo } from 'node:dgram';
import { createServer, connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LayeredCodec } from '../src/codec/layers.js';
import type { WireMessageInput } from '../src/codec/wire-codec.js';
import { encodeFrame, FrameDecoder } from '../src/transport/framing.js';
import { wire } from '../src/gen/index.js';

interface Options {
  n: number;
  port: number;
  compression: boolean;
  /** Gossip packets per second sent to the real node, each with `gossipParts` alive refreshes. */
  gossipRate: number;
  gossipParts: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;
const codec = new LayeredCodec({ enableCompression: opts.compression, maxStreamFrameBytes: 256 * 1024 * 1024, maxPushPullEntries: 1_000_000 });
// The versions a node advertises by default (config.ts: protocol 1..5, current 2; delegate 0/0/0).
const VSN = { protocolMin: 1, protocolMax: 5, protocolCur: 2, delegateMin: 0, delegateMax: 0, delegateCur: 0 };

const names: string[] = [];
const ipv4: number[] = [];
const incarnation = new Uint32Array(opts.n).fill(1);
for (let i = 0; i < opts.n; i++) {
  const a = i + 65_537;
  names.push(`emu-${String(i).padStart(6, '0')}`);
  ipv4.push(((127 << 24) | (((a >>> 16) & 255) << 16) | (((a >>> 8) & 255) << 8) | (a & 255)) >>> 0);
}
const hostOf = (i: number): string => {
  const v = ipv4[i] as number;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
};

/** The whole emulated state as one push-pull message, re-encoded only after a gossiped change. */
let stateFrame: Uint8Array | undefined;
function pushPullFrame(join: boolean): Uint8Array {
  if (stateFrame !== undefined && !join) return stateFrame;
  const states: wire.PushNodeState.$Properties[] = [];
  for (let i = 0; i < opts.n; i++) {
    states.push({ name: names[i], ipv4: ipv4[i], port: opts.port, incarnation: incarnation[i], state: wire.MemberState.ALIVE, ...VSN });
  }
  const frame = encodeFrame(codec.encodeStreamMessage({ pushPull: { header: { nodes: opts.n, join }, states } }));
  if (!join) stateFrame = frame;
  return frame;
}

const counters = { pingsIn: 0, acksOut: 0, indirectIn: 0, gossipOut: 0, pushPullsServed: 0, pushPullsStarted: 0, packetsIn: 0, bytesIn: 0, bytesOut: 0, decodeErrors: 0 };
const udp = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
let realNode: { host: string; port: number } | undefined;

function send(messages: WireMessageInput[], to: { address: string; port: number }): void {
  const buf = codec.encodePacket(messages);
  counters.bytesOut += buf.length;
  udp.send(buf, to.port, to.address);
}

udp.on('message', (buf: Buffer, rinfo: RemoteInfo) => {
  counters.packetsIn++;
  counters.bytesIn += buf.length;
  const r = codec.decodePacket(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  if (!r.ok) {
    counters.decodeErrors++;
    return;
  }
  for (const m of r.value) {
    if (m.ping) {
      counters.pingsIn++;
      const port = m.ping.sourcePort || rinfo.port;
      realNode ??= { host: rinfo.address, port };
      counters.acksOut++;
      send([{ ack: { seqNo: m.ping.seqNo } }], { address: rinfo.address, port });
    } else if (m.indirectPing) {
      // We are the helper and the target at once: every emulated member is up, so ack at once.
      counters.indirectIn++;
      counters.acksOut++;
      send([{ ack: { seqNo: m.indirectPing.seqNo } }], rinfo);
    }
  }
});

function readOne(sock: Socket, onFrame: (frame: Uint8Array) => void): void {
  const dec = new FrameDecoder(256 * 1024 * 1024);
  let done = false;
  sock.on('data', (chunk: Buffer) => {
    counters.bytesIn += chunk.length;
    if (done) return;
    const frames = dec.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (frames.length > 0) {
      done = true;
      onFrame(frames[0] as Uint8Array);
    }
  });
  sock.on('error', () => {});
}

const tcp = createServer((sock) => {
  readOne(sock, (frame) => {
    const r = codec.decodeStreamMessage(frame);
    if (!r.ok) {
      counters.decodeErrors++;
      sock.destroy();
      return;
    }
    let reply: Uint8Array | undefined;
    if (r.value.pushPull) {
      counters.pushPullsServed++;
      reply = pushPullFrame(r.value.pushPull.header?.join ?? false);
    } else if (r.value.ping) {
      reply = encodeFrame(codec.encodeStreamMessage({ ack: { seqNo: r.value.ping.seqNo } }));
    }
    if (reply !== undefined) {
      counters.bytesOut += reply.length;
      sock.end(reply);
    } else sock.end();
  });
});

/** A full push-pull started by emulated member 0 towards the real node; resolves with its duration. */
function startPushPull(to: { host: string; port: number }): Promise<{ ms: number; replyEntries: number; error?: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    counters.pushPullsStarted++;
    const sock = connect({ host: to.host, port: to.port });
    sock.on('connect', () => {
      const frame = pushPullFrame(false);
      counters.bytesOut += frame.length;
      sock.write(frame);
    });
    readOne(sock, (frame) => {
      const r = codec.decodeStreamMessage(frame);
      sock.destroy();
      const entries = r.ok ? (r.value.pushPull?.states?.length ?? 0) : -1;
      resolve({ ms: performance.now() - t0, replyEntries: entries, ...(r.ok ? {} : { error: r.reason }) });
    });
    sock.on('error', (err) => resolve({ ms: performance.now() - t0, replyEntries: -1, error: err.message }));
  });
}

/** A few alive refreshes (incarnation + 1) per packet, towards the real node, at opts.gossipRate. */
function gossipTick(): void {
  if (realNode === undefined) return;
  const parts: WireMessageInput[] = [];
  for (let k = 0; k < opts.gossipParts; k++) {
    const i = Math.floor(Math.random() * opts.n);
    incarnation[i] = (incarnation[i] as number) + 1;
    parts.push({ alive: { incarnation: incarnation[i], node: names[i], ipv4: ipv4[i], port: opts.port, ...VSN } });
  }
  stateFrame = undefined;
  counters.gossipOut++;
  send(parts, { address: realNode.host, port: realNode.port });
}

// Without these a taken port would be an uncaught error event; the parent sees the exit code.
for (const socket of [udp, tcp]) {
  socket.on('error', (err: Error) => {
    process.stderr.write(`emulator: ${err.message}\n`);
    process.exit(1);
  });
}
// Port 0 (the default) takes a free port: TCP first, then UDP on the same number (every member
// advertises one port for both).
tcp.listen(opts.port, '0.0.0.0', () => {
  const addr = tcp.address();
  if (addr !== null && typeof addr === 'object') opts.port = addr.port;
  udp.bind(opts.port, '0.0.0.0', () => {
    pushPullFrame(false);
    process.send?.({ type: 'ready', seed: `${hostOf(0)}:${opts.port}` });
  });
});
if (opts.gossipRate > 0) setInterval(gossipTick, 1000 / opts.gossipRate);

process.on('message', (msg: { type: string; host?: string; port?: number }) => {
  if (msg.type === 'pushpull' && msg.host !== undefined && msg.port !== undefined) {
    void startPushPull({ host: msg.host, port: msg.port }).then((r) => process.send?.({ type: 'pushpull-done', ...r }));
  } else if (msg.type === 'counters') {
    process.send?.({ type: 'counters', counters, cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
  } else if (msg.type === 'exit') {
    udp.close();
    tcp.close();
    process.exit(0);
  }
});
