/**
 * The network actor with LayeredCodec on a MemoryNetwork and virtual time: label and key mismatches
 * are dropped, counted and logged once per peer per minute; encrypted packets and streams flow;
 * cidrsAllowed filters packet sources and refuses streams.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NetworkActor, type NetworkActorOptions } from '../../src/actors/network/network-actor.js';
import { LayeredCodec, type LayeredCodecOptions } from '../../src/codec/layers.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import { actors, wire } from '../../src/gen/index.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor, ActorContext } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { Keyring } from '../../src/security/keyring.js';
import { MemoryNetwork, type MemoryTransport } from '../../src/testing/memory-network.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import type { Endpoint } from '../../src/transport/transport.js';

const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(32).fill(2);

class Recorder implements Actor {
  readonly name = 'recorder';
  readonly accepts = [actors.StreamResult, actors.StreamRequestReceived, actors.PingReceived, actors.UserPacketReceived];
  readonly pings: actors.PingReceived[] = [];
  readonly results: actors.StreamResult[] = [];
  readonly requests: actors.StreamRequestReceived[] = [];
  onRequest: ((m: actors.StreamRequestReceived, ctx: ActorContext) => void) | undefined;
  ctx!: ActorContext;

  start(ctx: ActorContext): void {
    this.ctx = ctx;
  }

  receive(m: object): void {
    if (m instanceof actors.PingReceived) this.pings.push(m);
    if (m instanceof actors.StreamResult) this.results.push(m);
    if (m instanceof actors.StreamRequestReceived) {
      this.requests.push(m);
      this.onRequest?.(m, this.ctx);
    }
  }
}

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
  from?: string;
}

interface TestNode {
  transport: MemoryTransport;
  supervisor: Supervisor;
  network: NetworkActor;
  recorder: Recorder;
  address: Endpoint;
  logs: LogLine[];
}

describe('NetworkActor with the security layers', () => {
  let clock: VirtualClock;
  let net: MemoryNetwork;
  let nodes: TestNode[] = [];

  function setup(): void {
    clock = new VirtualClock();
    net = new MemoryNetwork({ clock, random: new SeededRandom(9), latencyMs: 2 });
    nodes = [];
  }

  function node(name: string, codecOptions: LayeredCodecOptions, options: NetworkActorOptions = {}, host?: string): TestNode {
    const transport = net.createTransport(host === undefined ? {} : { host });
    const logs: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done): void {
        logs.push(JSON.parse(chunk.toString()) as LogLine);
        done();
      },
    });
    const logger = pino({ level: 'warn' }, sink);
    const supervisor = new Supervisor({ nodeName: name, clock, random: new SeededRandom(nodes.length + 1), logger });
    const network = new NetworkActor(transport, new LayeredCodec(codecOptions), { streamTimeoutMs: 5_000, ...options });
    const recorder = new Recorder();
    supervisor.spawn(network);
    supervisor.spawn(recorder);
    supervisor.start();
    const n = { transport, supervisor, network, recorder, address: transport.localAddress, logs };
    nodes.push(n);
    return n;
  }

  async function settle(predicate: () => boolean, limitMs = 10_000): Promise<void> {
    const start = clock.now();
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      // pino writes through a stream: give it a turn too.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (predicate()) return;
      if (clock.now() - start > limitMs) throw new Error(`condition not met within ${limitMs} ms of virtual time`);
      clock.advance(1);
    }
  }

  afterEach(async () => {
    for (const n of nodes) await n.supervisor.stop();
    for (const n of nodes) await n.transport.shutdown();
  });

  const ping = (seqNo: number): wire.Message.$Properties => ({ ping: { seqNo, node: '' } });
  function sendPing(from: TestNode, to: TestNode, seqNo: number): void {
    from.supervisor.send(actors.SendPacket.create({ to: to.address, messages: [ping(seqNo)] }));
  }
  function request(from: TestNode, to: TestNode): void {
    from.supervisor.send(
      actors.StreamRequest.create({
        requestId: 1,
        requester: 'tester',
        to: to.address,
        request: { pushPull: { header: { nodes: 1, join: true }, states: [{ name: 'a', incarnation: 1 }] } },
        expectReply: true,
        timeoutMs: 1_000,
      }),
    );
  }
  const warnings = (n: TestNode, reason: string): LogLine[] => n.logs.filter((l) => l.level === 40 && l.reason === reason);

  it('encrypted, labeled packets and streams flow between nodes with the same label and key', async () => {
    setup();
    const a = node('a', { label: 'prod', keyring: new Keyring([K1]), enableCompression: true });
    const b = node('b', { label: 'prod', keyring: new Keyring([K2, K1]), enableCompression: true });
    sendPing(a, b, 1);
    await settle(() => b.recorder.pings.length === 1);
    expect(b.recorder.pings[0]?.ping?.seqNo).toBe(1);
    b.recorder.onRequest = (m, ctx) =>
      ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: { pushPull: { header: { nodes: 0 }, states: [] } } }));
    request(a, b);
    // b answers with its primary K2, which a does not hold: a cannot read the reply. This is memberlist's
    // "joins must use the current primary" rule; a with both keys reads it.
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toMatch(/^bad response frame: decrypt-failed/);
    expect(b.network.counters.totalDropsIn()).toBe(0);
  });

  it('a stream round trip works once both sides hold each other\'s primary', async () => {
    setup();
    const ringA = new Keyring([K1]);
    const a = node('a', { label: 'prod', keyring: ringA });
    const b = node('b', { label: 'prod', keyring: new Keyring([K2, K1]) });
    ringA.install(K2);
    b.recorder.onRequest = (m, ctx) =>
      ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: { pushPull: { header: { nodes: 0 }, states: [] } } }));
    request(a, b);
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toBe('');
    expect(b.recorder.requests[0]?.request).toBeFalsy(); // push-pulls travel undecoded
    // The bytes handed on (to a merge worker) are the inner frames, decodable by the plain codec.
    const plain = new ProtobufCodec();
    const req = plain.decodeStreamMessage(b.recorder.requests[0]?.requestBytes ?? new Uint8Array(0));
    expect(req.ok && req.value.pushPull?.states?.[0]?.name).toBe('a');
    const res = plain.decodeStreamMessage(a.recorder.results[0]?.responseBytes ?? new Uint8Array(0));
    expect(res.ok && res.value.body).toBe('pushPull');
  });

  it('another label: every packet is dropped and counted, with one warning per peer per minute', async () => {
    setup();
    const a = node('a', { label: 'blue' });
    const b = node('b', { label: 'green' });
    const c = node('c', {});
    for (let i = 0; i < 20; i++) sendPing(a, b, i);
    for (let i = 0; i < 5; i++) sendPing(c, b, i);
    await settle(() => (b.network.counters.dropsIn.get('label-mismatch') ?? 0) === 25);
    expect(b.recorder.pings).toHaveLength(0);
    const w = warnings(b, 'label-mismatch');
    expect(w).toHaveLength(2);
    expect(w.map((l) => l.msg).sort()).toEqual([
      `discarding traffic from ${a.address.host}:${a.address.port} with an unacceptable cluster label: packet label "blue", ours "green"`,
      `discarding traffic from ${c.address.host}:${c.address.port} with an unacceptable cluster label: packet without a label, ours "green"`,
    ]);
    clock.advance(59_000);
    sendPing(a, b, 99);
    await settle(() => (b.network.counters.dropsIn.get('label-mismatch') ?? 0) === 26);
    expect(warnings(b, 'label-mismatch')).toHaveLength(2);
    clock.advance(1_000);
    sendPing(a, b, 100);
    await settle(() => (b.network.counters.dropsIn.get('label-mismatch') ?? 0) === 27);
    expect(warnings(b, 'label-mismatch')).toHaveLength(3);
  });

  it('another label on a stream: refused, counted on both sides, the requester gets an error', async () => {
    setup();
    const a = node('a', { label: 'blue' });
    const b = node('b', { label: 'green' });
    request(a, b);
    await settle(() => a.recorder.results.length === 1);
    expect(b.network.counters.dropsIn.get('stream-label-mismatch')).toBe(1);
    expect(b.recorder.requests).toHaveLength(0);
    // b's refusal carries b's label, which a refuses in turn.
    expect(a.recorder.results[0]?.error).toMatch(/label-mismatch/);
    expect(warnings(b, 'label-mismatch')).toHaveLength(1);
  });

  it('the wrong key: packets dropped as decrypt-failed with one warning; plaintext refused while verifying', async () => {
    setup();
    const a = node('a', { keyring: new Keyring([K1]) });
    const b = node('b', { keyring: new Keyring([K2]) });
    const plain = node('p', {});
    for (let i = 0; i < 5; i++) sendPing(a, b, i);
    sendPing(plain, b, 1);
    await settle(() => (b.network.counters.dropsIn.get('decrypt-failed') ?? 0) === 6);
    expect(b.recorder.pings).toHaveLength(0);
    expect(warnings(b, 'decrypt-failed')).toHaveLength(2);
    request(a, b);
    await settle(() => a.recorder.results.length === 1);
    expect(b.network.counters.dropsIn.get('stream-decrypt-failed')).toBe(1);
    expect(a.recorder.results[0]?.error).toMatch(/decrypt-failed/);
  });

  it('cidrsAllowed: packets from outside are dropped and streams refused; inside passes', async () => {
    setup();
    const b = node('b', {}, { cidrsAllowed: ['10.0.0.0/8'] }, '10.0.0.1');
    const outside = node('out', {}, {}, '192.168.1.5');
    const inside = node('in', {}, {}, '10.1.2.3');
    sendPing(outside, b, 1);
    sendPing(inside, b, 2);
    await settle(() => b.recorder.pings.length === 1 && b.network.counters.dropsIn.get('cidr-denied') === 1);
    expect(b.recorder.pings[0]?.ping?.seqNo).toBe(2);
    b.recorder.onRequest = (m, ctx) => ctx.send(actors.StreamReply.create({ streamId: m.streamId, closeOnly: true }));
    request(outside, b);
    await settle(() => outside.recorder.results.length === 1);
    expect(outside.recorder.results[0]?.error).not.toBe('');
    expect(b.network.counters.dropsIn.get('stream-cidr-denied')).toBe(1);
    expect(b.network.streamCounters.accepted).toBe(0);
    request(inside, b);
    await settle(() => inside.recorder.results.length === 1);
    expect(b.network.streamCounters.accepted).toBe(1);
  });
});
