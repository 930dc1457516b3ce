/**
 * The network actor's streams, driven through a real Supervisor on a MemoryNetwork and virtual time:
 * every deadline is exact, nothing waits on the wall clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { actors, wire } from '../../src/gen/index.js';
import { NetworkActor, type NetworkActorOptions } from '../../src/actors/network/network-actor.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import { LayeredCodec } from '../../src/codec/layers.js';
import { inflateFrame, isCompressedFrame } from '../../src/codec/compressed-frame.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor, ActorContext } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { MemoryNetwork, type MemoryTransport } from '../../src/testing/memory-network.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import type { Endpoint } from '../../src/transport/transport.js';

const LATENCY_MS = 5;

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Records what reaches it; answers stream requests with `onRequest` when set. */
class Recorder implements Actor {
  readonly name = 'recorder';
  readonly accepts = [
    actors.StreamResult,
    actors.StreamRequestReceived,
    actors.UserPacketReceived,
    actors.SuspectReceived,
    actors.DeadReceived,
  ];
  readonly results: actors.StreamResult[] = [];
  readonly requests: actors.StreamRequestReceived[] = [];
  readonly received: object[] = [];
  onRequest: ((m: actors.StreamRequestReceived, ctx: ActorContext) => void) | undefined;
  ctx!: ActorContext;

  start(ctx: ActorContext): void {
    this.ctx = ctx;
  }

  receive(m: object): void {
    this.received.push(m);
    if (m instanceof actors.StreamResult) this.results.push(m);
    if (m instanceof actors.StreamRequestReceived) {
      this.requests.push(m);
      this.onRequest?.(m, this.ctx);
    }
  }
}

interface TestNode {
  name: string;
  transport: MemoryTransport;
  supervisor: Supervisor;
  network: NetworkActor;
  recorder: Recorder;
  address: Endpoint;
}

describe('NetworkActor streams on a MemoryNetwork', () => {
  let clock: VirtualClock;
  let net: MemoryNetwork;
  let nodes: TestNode[];

  function setup(): void {
    clock = new VirtualClock();
    net = new MemoryNetwork({ clock, random: new SeededRandom(3), latencyMs: LATENCY_MS });
    nodes = [];
  }

  function node(name: string, options: NetworkActorOptions = {}): TestNode {
    const transport = net.createTransport();
    const supervisor = new Supervisor({ nodeName: name, clock, random: new SeededRandom(nodes.length + 1), logger: silentLogger() });
    const network = new NetworkActor(transport, new ProtobufCodec(), { streamTimeoutMs: 10_000, ...options });
    const recorder = new Recorder();
    supervisor.spawn(network);
    supervisor.spawn(recorder);
    supervisor.start();
    const n = { name, transport, supervisor, network, recorder, address: transport.localAddress };
    nodes.push(n);
    return n;
  }

  /** Runs virtual time in 1 ms steps, letting promise callbacks run between steps. */
  async function settle(predicate: () => boolean, limitMs = 60_000): Promise<number> {
    const start = clock.now();
    for (;;) {
      await flushPromises();
      if (predicate()) return clock.now() - start;
      if (clock.now() - start > limitMs) throw new Error(`condition not met within ${limitMs} ms of virtual time`);
      clock.advance(1);
    }
  }

  async function shutdownAll(): Promise<void> {
    for (const n of nodes) await n.supervisor.stop();
    for (const n of nodes) await n.transport.shutdown();
  }

  afterEach(async () => {
    await shutdownAll();
  });

  function request(from: TestNode, to: Endpoint, message: wire.Message.$Properties, over: Partial<actors.StreamRequest.$Properties> = {}): void {
    from.supervisor.send(
      actors.StreamRequest.create({ requestId: 7, requester: 'tester', to, request: message, expectReply: true, timeoutMs: 1_000, ...over }),
    );
  }

  const pushPull = (name: string, meta = new Uint8Array(0)): wire.Message.$Properties => ({
    pushPull: { header: { nodes: 1, userStateLen: 0, join: true }, states: [{ name, incarnation: 1, port: 7946, ipv4: 0x0a000001, meta }] },
  });

  it('round trip: request, StreamRequestReceived, StreamReply, StreamResult with the response and its bytes', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    b.recorder.onRequest = (m, ctx) => ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: pushPull('b') }));
    request(a, b.address, pushPull('a'));
    const took = await settle(() => a.recorder.results.length === 1);
    const [req] = b.recorder.requests;
    // Push-pulls travel undecoded: the state is decoded where it is merged, not by the network actor.
    expect(req?.request).toBeFalsy();
    expect(new ProtobufCodec().decodeStreamMessage(req?.requestBytes ?? new Uint8Array()).ok).toBe(true);
    expect(wire.Compound.decode((req?.requestBytes ?? new Uint8Array()).subarray(1)).parts[0]?.pushPull?.states?.[0]?.name).toBe('a');
    expect(req?.from?.host).toBe(a.address.host);
    expect(wire.Compound.decode((req?.requestBytes ?? new Uint8Array()).subarray(1)).parts[0]?.pushPull?.header?.join).toBe(true);
    const [res] = a.recorder.results;
    expect(res?.error).toBe('');
    expect(res?.requestId).toBe(7);
    expect(res?.requester).toBe('tester');
    expect(res?.response).toBeFalsy();
    const decoded = new ProtobufCodec().decodeStreamMessage(res?.responseBytes ?? new Uint8Array());
    expect(decoded.ok && decoded.value.pushPull?.states?.[0]?.name).toBe('b');
    // dial (one latency), request (one), reply (one): all on virtual time.
    expect(took).toBe(3 * LATENCY_MS);
    // Both sides finish and the conns close without waiting for a deadline.
    await settle(() => a.network.outboundStreams === 0 && b.network.inboundStreams === 0);
    expect(clock.now()).toBeLessThan(100);
    expect(a.network.streamCounters).toMatchObject({ opened: 1, failed: 0 });
    expect(b.network.streamCounters).toMatchObject({ accepted: 1, timedOut: 0 });
    expect(a.network.counters.messagesOut.get('pushPull')).toBe(1);
    expect(b.network.counters.messagesIn.get('pushPull')).toBe(1);
    expect(b.network.counters.totalDropsIn()).toBe(0);
  });

  it('compressOffThread: a large request and reply are deflated on the thread pool, same bytes, exchange completes', async () => {
    setup();
    let deferred = 0;
    // Deflates in flight on libuv's pool: virtual time stands still while one runs, so how long the
    // pool takes in real time (a loaded CI machine) never reaches a virtual stream deadline.
    const inFlight = new Set<Promise<unknown>>();
    const layered = (): LayeredCodec => {
      const c = new LayeredCodec({ enableCompression: true });
      const encode = c.encodeStreamMessageDeferred.bind(c);
      c.encodeStreamMessageDeferred = (m, to) => {
        const r = encode(m, to);
        if (r instanceof Promise) {
          deferred++;
          const done = r.then(
            () => undefined,
            () => undefined,
          );
          inFlight.add(done);
          void done.then(() => inFlight.delete(done));
        }
        return r;
      };
      return c;
    };
    const big = (name: string): wire.Message.$Properties => ({
      pushPull: {
        header: { nodes: 4000, join: false },
        states: Array.from({ length: 4000 }, (_, i) => ({ name: `${name}-${i}`, incarnation: 1, port: 7946, ipv4: 0x0a000001 + i })),
      },
    });
    const nodeWith = (name: string): TestNode => {
      const transport = net.createTransport();
      const supervisor = new Supervisor({ nodeName: name, clock, random: new SeededRandom(nodes.length + 1), logger: silentLogger() });
      const network = new NetworkActor(transport, layered(), { streamTimeoutMs: 10_000, compressOffThread: true });
      const recorder = new Recorder();
      supervisor.spawn(network);
      supervisor.spawn(recorder);
      supervisor.start();
      const n = { name, transport, supervisor, network, recorder, address: transport.localAddress };
      nodes.push(n);
      return n;
    };
    const a = nodeWith('a');
    const b = nodeWith('b');
    b.recorder.onRequest = (m, ctx) => ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: big('b') }));
    request(a, b.address, big('a'), { timeoutMs: 60_000 });
    // The deflate finishes in real time (libuv's pool), so only the outcome is asserted, not the virtual time.
    for (let steps = 0; a.recorder.results.length !== 1; steps++) {
      if (steps > 60_000) throw new Error('no result within 60 s of virtual time');
      await flushPromises();
      if (inFlight.size > 0) await Promise.all(inFlight);
      else if (a.recorder.results.length !== 1) clock.advance(1);
    }
    const [req] = b.recorder.requests;
    const [res] = a.recorder.results;
    expect(res?.error).toBe('');
    expect(deferred).toBe(2); // the request and the reply went through the thread pool
    // Both frames arrive still compressed (left for the merge to inflate) and inflate to the plain encoding.
    for (const [bytes, name] of [[req?.requestBytes, 'a'], [res?.responseBytes, 'b']] as const) {
      const frame = bytes ?? new Uint8Array();
      expect(isCompressedFrame(frame)).toBe(true);
      const inflated = inflateFrame(frame, 1 << 30);
      expect(inflated.ok && Buffer.from(inflated.value).equals(Buffer.from(new ProtobufCodec().encodeStreamMessage(big(name))))).toBe(true);
    }
    expect(a.network.counters.messagesOut.get('pushPull')).toBe(1);
    expect(b.network.counters.messagesOut.get('pushPull')).toBe(1);
    expect(b.network.counters.dropsOut.size).toBe(0);
  });

  it('times out on virtual time when the peer never answers', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    request(a, b.address, pushPull('a'), { timeoutMs: 500 });
    const took = await settle(() => a.recorder.results.length === 1);
    expect(took).toBe(500);
    expect(a.recorder.results[0]?.error).toMatch(/timed out after 500 ms/);
    expect(a.network.counters.dropsOut.get('stream-timeout')).toBe(1);
    expect(a.network.outboundStreams).toBe(0);
    // The server held the stream for a reply that never came; our reset releases it.
    await settle(() => b.network.inboundStreams === 0);
    expect(b.network.counters.dropsIn.get('stream-closed')).toBe(1);
  });

  it('the server side gives up at its own stream deadline', async () => {
    setup();
    const a = node('a');
    const b = node('b', { streamTimeoutMs: 200 });
    request(a, b.address, pushPull('a'), { timeoutMs: 5_000 });
    await settle(() => a.recorder.results.length === 1);
    expect(b.network.counters.dropsIn.get('stream-timeout')).toBe(1);
    expect(b.network.streamCounters.timedOut).toBe(1);
    expect(a.recorder.results[0]?.error).toMatch(/stream closed before a response/);
    // A late reply from the handler finds no stream and is counted.
    b.supervisor.send(actors.StreamReply.create({ streamId: b.recorder.requests[0]?.streamId ?? 0, closeOnly: true }));
    await settle(() => b.network.counters.dropsOut.get('stream-reply-late') === 1);
  });

  it('reports a dial failure', async () => {
    setup();
    const a = node('a');
    request(a, { host: '127.9.9.9', port: 1 }, pushPull('a'));
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toMatch(/^dial 127\.9\.9\.9:1 failed: .*refused/);
    expect(a.network.outboundStreams).toBe(0);
  });

  it('refuses an invalid request at once', async () => {
    setup();
    const a = node('a');
    a.supervisor.send(actors.StreamRequest.create({ requestId: 1, requester: 'tester', request: pushPull('a') }));
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toMatch(/invalid stream request/);
  });

  it('refuses a request frame above maxStreamFrameBytes before reading it, and the client sees a remote error', async () => {
    setup();
    const a = node('a');
    const b = node('b', { maxStreamFrameBytes: 1_000 });
    request(a, b.address, pushPull('a', new Uint8Array(5_000)));
    await settle(() => a.recorder.results.length === 1);
    expect(b.network.counters.dropsIn.get('stream-frame-too-large')).toBe(1);
    expect(b.recorder.requests).toHaveLength(0);
    expect(a.recorder.results[0]?.error).toMatch(/^remote error: frame of \d+ bytes exceeds the limit of 1000 bytes/);
    expect(a.network.counters.dropsOut.get('stream-remote-error')).toBe(1);
    await settle(() => b.network.inboundStreams === 0 && a.network.outboundStreams === 0);
  });

  it('refuses a response frame above its own maxStreamFrameBytes', async () => {
    setup();
    const a = node('a', { maxStreamFrameBytes: 1_000 });
    const b = node('b');
    b.recorder.onRequest = (m, ctx) => ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: pushPull('b', new Uint8Array(5_000)) }));
    request(a, b.address, pushPull('a'));
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toMatch(/^response refused: frame of \d+ bytes exceeds the limit of 1000 bytes/);
    expect(a.network.counters.dropsOut.get('stream-frame-too-large')).toBe(1);
  });

  it('reports a garbage response frame as a bad frame', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    // A raw listener that answers every stream with a well-framed but undecodable payload.
    b.transport.setHandlers({
      packet: () => {},
      stream: (conn) => {
        conn.setHandlers({ data: () => void conn.write(new Uint8Array([0, 0, 0, 3, 99, 1, 2])), end: () => {}, close: () => {} });
      },
    });
    request(a, b.address, pushPull('a'));
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toMatch(/^bad response frame: unknown-frame/);
  });

  it('answers a TCP ping directly with an ack for its seqNo (our name or no name)', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    request(a, b.address, { ping: { seqNo: 42, node: 'b' } }, { requestId: 1 });
    request(a, b.address, { ping: { seqNo: 43 } }, { requestId: 2 });
    await settle(() => a.recorder.results.length === 2);
    const bySeq = a.recorder.results.map((r) => [r.requestId, r.response?.ack?.seqNo, r.error]).sort();
    expect(bySeq).toEqual([
      [1, 42, ''],
      [2, 43, ''],
    ]);
    expect(b.recorder.requests).toHaveLength(0);
    expect(b.network.counters.messagesOut.get('ack')).toBe(2);
  });

  it('does not ack a TCP ping for another node', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    request(a, b.address, { ping: { seqNo: 9, node: 'someone-else' } });
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toMatch(/stream ended before a response/);
    expect(b.network.counters.dropsIn.get('stream-ping-wrong-node')).toBe(1);
  });

  it('StreamReply with closeOnly closes without a reply', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    b.recorder.onRequest = (m, ctx) => ctx.send(actors.StreamReply.create({ streamId: m.streamId, closeOnly: true }));
    request(a, b.address, pushPull('a'));
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toBe('stream ended before a response');
    await settle(() => a.network.outboundStreams === 0 && b.network.inboundStreams === 0);
  });

  it('a reliable user message: reported once written, published on the other side, stream closed', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    request(a, b.address, { user: { payload: new Uint8Array([1, 2, 3]) } }, { expectReply: false });
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toBe('');
    expect(a.recorder.results[0]?.response).toBeFalsy();
    await settle(() => b.recorder.received.some((m) => m instanceof actors.UserPacketReceived));
    const user = b.recorder.received.find((m): m is actors.UserPacketReceived => m instanceof actors.UserPacketReceived);
    expect([...(user?.user?.payload ?? [])]).toEqual([1, 2, 3]);
    expect(user?.from?.host).toBe(a.address.host);
    await settle(() => a.network.outboundStreams === 0 && b.network.inboundStreams === 0);
  });

  it('refuses an unexpected stream message with an error response', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    request(a, b.address, { nack: { seqNo: 1 } });
    await settle(() => a.recorder.results.length === 1);
    expect(a.recorder.results[0]?.error).toBe('remote error: unexpected stream message nack');
    expect(b.network.counters.dropsIn.get('stream-unexpected-nack')).toBe(1);
  });

  it('refuses inbound streams beyond maxConcurrentStreams at once, and counts them', async () => {
    setup();
    const a = node('a');
    const b = node('b', { maxConcurrentStreams: 2 });
    for (let i = 1; i <= 3; i++) request(a, b.address, pushPull('a'), { requestId: i, timeoutMs: 1_000 });
    const took = await settle(() => a.recorder.results.length === 1);
    // The refused one fails at once (a reset), long before the 1 s deadline of the others.
    expect(took).toBeLessThan(50);
    expect(a.recorder.results[0]?.error).toMatch(/stream closed before a response|stream ended/);
    expect(b.network.counters.dropsIn.get('stream-limit')).toBe(1);
    expect(b.network.streamCounters.refused).toBe(1);
    expect(b.network.inboundStreams).toBe(2);
    expect(b.recorder.requests).toHaveLength(2);
    // Once the two in flight are answered, a new stream is accepted again.
    for (const r of b.recorder.requests) b.supervisor.send(actors.StreamReply.create({ streamId: r.streamId, response: pushPull('b') }));
    await settle(() => a.recorder.results.length === 3 && b.network.inboundStreams === 0);
    expect(a.recorder.results.filter((r) => r.error === '')).toHaveLength(2);
    request(a, b.address, { ping: { seqNo: 5 } }, { requestId: 4 });
    await settle(() => a.recorder.results.length === 4);
    expect(a.recorder.results[3]?.response?.ack?.seqNo).toBe(5);
  });

  it('releases every conn and deadline at stop', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    const c = node('c');
    request(a, b.address, pushPull('a'), { requestId: 1, timeoutMs: 30_000 });
    request(a, c.address, pushPull('a'), { requestId: 2, timeoutMs: 30_000 });
    // One more still dialling when we stop.
    await settle(() => b.network.inboundStreams === 1 && c.network.inboundStreams === 1);
    request(a, b.address, pushPull('a'), { requestId: 3, timeoutMs: 30_000 });
    await flushPromises();
    clock.runDue();
    expect(a.network.outboundStreams).toBe(3);
    await a.supervisor.stop();
    expect(a.network.outboundStreams).toBe(0);
    // The peers see the resets and release their side; the late dial is destroyed when it lands.
    await settle(() => b.network.inboundStreams === 0 && c.network.inboundStreams === 0, 100);
    await b.supervisor.stop();
    await c.supervisor.stop();
    expect(b.network.inboundStreams + c.network.inboundStreams).toBe(0);
    await shutdownAll();
    await settle(() => clock.pendingTimers === 0, 100);
    expect(clock.pendingTimers).toBe(0);
  });

  it('publishes suspect, dead and user datagram parts', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    a.supervisor.send(
      actors.SendPacket.create({
        to: b.address,
        messages: [
          { suspect: { incarnation: 2, node: 'x', from: 'a' } },
          { dead: { incarnation: 3, node: 'y', from: 'a' } },
          { user: { payload: new Uint8Array([7]) } },
        ],
      }),
    );
    await settle(() => b.recorder.received.length === 3);
    const [s, d, u] = b.recorder.received;
    expect(s).toBeInstanceOf(actors.SuspectReceived);
    expect((s as actors.SuspectReceived).suspect).toMatchObject({ incarnation: 2, node: 'x', from: 'a' });
    expect((s as actors.SuspectReceived).from?.host).toBe(a.address.host);
    expect(d).toBeInstanceOf(actors.DeadReceived);
    expect((d as actors.DeadReceived).dead).toMatchObject({ incarnation: 3, node: 'y', from: 'a' });
    expect(u).toBeInstanceOf(actors.UserPacketReceived);
    expect([...((u as actors.UserPacketReceived).user?.payload ?? [])]).toEqual([7]);
    expect(b.network.counters.totalDropsIn()).toBe(0);
  });

  it('counts bytes by message type: each datagram part its own size, each stream message its frame', async () => {
    setup();
    const a = node('a');
    const b = node('b');
    const codec = new ProtobufCodec();
    const suspect = { suspect: { incarnation: 2, node: 'x', from: 'a' } };
    const dead = { dead: { incarnation: 3, node: 'longer-name-y', from: 'a' } };
    const piggybacked = codec.encodePart({ alive: { incarnation: 1, node: 'z', port: 7946, ipv4: 0x0a000001 } });
    a.supervisor.send(actors.SendPacket.create({ to: b.address, messages: [suspect, dead], piggyback: [piggybacked] }));
    a.supervisor.send(actors.SendPacket.create({ to: b.address, messages: [suspect] }));
    await settle(() => (b.network.counters.messagesIn.get('suspect') ?? 0) === 2);
    const partBytes = (m: wire.Message.$Properties): number => codec.partSize(codec.encodePart(m).length);
    const expected = new Map([
      ['suspect', 2 * partBytes(suspect)],
      ['dead', partBytes(dead)],
      ['alive', codec.partSize(piggybacked.length)],
    ]);
    expect(a.network.counters.messageBytesOut).toEqual(expected);
    expect(b.network.counters.messageBytesIn).toEqual(expected);
    // The parts add up to the datagrams less their envelope (one frame-kind byte each, no layers here).
    const parts = [...expected.values()].reduce((x, y) => x + y, 0);
    expect(a.network.counters.bytesOut).toBe(parts + 2 * codec.packetOverhead);
    expect(b.network.counters.bytesIn).toBe(a.network.counters.bytesOut);

    // A stream message counts its whole frame, on both sides and both ways.
    b.recorder.onRequest = (m, ctx) => ctx.send(actors.StreamReply.create({ streamId: m.streamId, response: pushPull('b', new Uint8Array(300)) }));
    request(a, b.address, pushPull('a'));
    await settle(() => a.recorder.results.length === 1);
    await settle(() => a.network.outboundStreams === 0 && b.network.inboundStreams === 0);
    const requestBytes = a.network.counters.messageBytesOut.get('pushPull') ?? 0;
    const replyBytes = b.network.counters.messageBytesOut.get('pushPull') ?? 0;
    expect(requestBytes).toBeGreaterThan(0);
    expect(replyBytes).toBeGreaterThan(requestBytes + 300);
    expect(b.network.counters.messageBytesIn.get('pushPull')).toBe(requestBytes);
    expect(a.network.counters.messageBytesIn.get('pushPull')).toBe(replyBytes);
    expect(a.network.streamCounters.bytesOut).toBe(requestBytes);
    expect(b.network.streamCounters.bytesOut).toBe(replyBytes);
  });
});
