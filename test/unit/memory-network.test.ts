/**
 * The simulated network's own guarantees (the Transport contract itself is in test/contract): exact
 * timing on the virtual clock, the fault controls, and reproducibility from a seed. Time only moves
 * when a test advances the VirtualClock; promise results are read after letting callbacks run.
 */
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, TransportError } from '../../src/errors.js';
import { SeededRandom } from '../../src/random.js';
import { MemoryNetwork, type MemoryNetworkOptions, type MemoryTransport } from '../../src/testing/memory-network.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import type { Conn, Endpoint } from '../../src/transport/transport.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

interface Packet {
  data: string;
  from: Endpoint;
  at: number;
}

interface Node {
  t: MemoryTransport;
  packets: Packet[];
  accepted: Conn[];
}

function setup(options: Partial<MemoryNetworkOptions> & { seed?: number } = {}): {
  clock: VirtualClock;
  net: MemoryNetwork;
  node(host?: string, port?: number): Node;
} {
  const clock = new VirtualClock();
  const { seed, ...rest } = options;
  const net = new MemoryNetwork({ clock, random: new SeededRandom(seed ?? 1), ...rest });
  return {
    clock,
    net,
    node(host?: string, port?: number) {
      const t = net.createTransport({ host, port });
      const packets: Packet[] = [];
      const accepted: Conn[] = [];
      t.setHandlers({ packet: (buf, from, at) => packets.push({ data: dec(buf), from, at }), stream: (c) => accepted.push(c) });
      return { t, packets, accepted };
    },
  };
}

/** Lets promise callbacks run (an event-loop turn, not a wait: virtual time does not move). */
function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The promise's outcome once known: a value, an error, or 'pending'. */
function watch<T>(p: Promise<T>): { readonly state: 'pending' | { value: T } | { error: unknown } } {
  const box: { state: 'pending' | { value: T } | { error: unknown } } = { state: 'pending' };
  p.then(
    (value) => (box.state = { value }),
    (error: unknown) => (box.state = { error }),
  );
  return box;
}

function errorCode(state: 'pending' | { value: unknown } | { error: unknown }): string | undefined {
  if (state === 'pending' || !('error' in state)) return undefined;
  return state.error instanceof TransportError ? state.error.code : 'not a TransportError';
}

/** Dials and runs the clock until the conn is there. */
async function connect(clock: VirtualClock, from: Node, to: Node): Promise<{ conn: Conn; accepted: Conn }> {
  const dial = watch(from.t.dial(to.t.localAddress, 1_000));
  for (let i = 0; i < 100 && dial.state === 'pending'; i++) {
    clock.advance(1);
    await flushPromises();
  }
  if (dial.state === 'pending' || !('value' in dial.state)) throw new Error('dial failed');
  return { conn: dial.state.value, accepted: to.accepted.at(-1) as Conn };
}

function recordConn(conn: Conn): { text: () => string; ended: boolean; closed: boolean; error: Error | undefined } {
  const chunks: string[] = [];
  const rec = { text: () => chunks.join(''), ended: false, closed: false, error: undefined as Error | undefined };
  conn.setHandlers({
    data: (c) => chunks.push(dec(c)),
    end: () => (rec.ended = true),
    close: (e) => {
      rec.closed = true;
      rec.error = e;
    },
  });
  return rec;
}

describe('MemoryNetwork addressing', () => {
  it('allocates unique hosts from 127.0.0.2 on port 7946', () => {
    const { net } = setup();
    const hosts = [net.createTransport(), net.createTransport(), net.createTransport()].map((t) => t.localAddress);
    expect(hosts).toEqual([
      { host: '127.0.0.2', port: 7946 },
      { host: '127.0.0.3', port: 7946 },
      { host: '127.0.0.4', port: 7946 },
    ]);
  });

  it('skips hosts taken explicitly and rolls over into the next octet', () => {
    const { net } = setup();
    net.createTransport({ host: '127.0.0.2' });
    expect(net.createTransport().localAddress.host).toBe('127.0.0.3');
    for (let i = 4; i <= 255; i++) net.createTransport();
    expect(net.createTransport().localAddress.host).toBe('127.0.1.0');
  });

  it('allocates ports for port 0 and rejects a duplicate address with ERR_TRANSPORT', () => {
    const { net } = setup();
    expect(net.createTransport({ host: '10.0.0.1', port: 0 }).localAddress).toEqual({ host: '10.0.0.1', port: 49152 });
    expect(net.createTransport({ host: '10.0.0.1', port: 0 }).localAddress).toEqual({ host: '10.0.0.1', port: 49153 });
    net.createTransport({ host: '10.0.0.1', port: 7000 });
    expect(() => net.createTransport({ host: '10.0.0.1', port: 7000 })).toThrow(
      expect.objectContaining({ code: 'ERR_TRANSPORT' }) as Error,
    );
    expect(() => net.createTransport({ host: 'not-an-ip' })).toThrow(InvalidArgumentError);
  });

  it('frees an address on shutdown, so a node can restart on it', async () => {
    const { net } = setup();
    const t = net.createTransport({ host: '10.0.0.1' });
    expect(t.kind).toBe('memory');
    await t.shutdown();
    expect(net.createTransport({ host: '10.0.0.1' }).localAddress).toEqual({ host: '10.0.0.1', port: 7946 });
  });

  it('keeps networks apart: the same address on another network hears nothing', () => {
    const clock = new VirtualClock();
    const one = new MemoryNetwork({ clock, random: new SeededRandom(1) });
    const two = new MemoryNetwork({ clock, random: new SeededRandom(1) });
    const sender = one.createTransport({ host: '10.0.0.1' });
    const got: string[] = [];
    two.createTransport({ host: '10.0.0.2' }).setHandlers({ packet: (b) => got.push(dec(b)), stream: (c) => c.destroy() });
    sender.sendPacket({ host: '10.0.0.2', port: 7946 }, enc('x'));
    clock.advance(100);
    expect(got).toEqual([]);
    expect(one.stats.packetsDroppedUnreachable).toBe(1);
  });
});

describe('MemoryNetwork timing', () => {
  it('delivers a packet exactly one latency after it is sent, not before', () => {
    const { clock, node } = setup({ latencyMs: 25 });
    const a = node();
    const b = node();
    clock.advance(100);
    a.t.sendPacket(b.t.localAddress, enc('x'));
    clock.advance(24.999);
    expect(b.packets).toEqual([]);
    clock.advance(0.001);
    expect(b.packets).toEqual([{ data: 'x', from: a.t.localAddress, at: 125 }]);
  });

  it('adds jitter within [latency, latency + jitter] and lets packets reorder', () => {
    const { clock, node } = setup({ latencyMs: 10, jitterMs: 5, seed: 3 });
    const a = node();
    const b = node();
    for (let i = 0; i < 200; i++) a.t.sendPacket(b.t.localAddress, enc(String(i)));
    clock.advance(100);
    expect(b.packets.length).toBe(200);
    for (const p of b.packets) {
      expect(p.at).toBeGreaterThanOrEqual(10);
      expect(p.at).toBeLessThanOrEqual(15);
    }
    const order = b.packets.map((p) => Number(p.data));
    expect(order).not.toEqual([...order].sort((x, y) => x - y));
  });

  it('applies a new latency to later packets and keeps the jitter when none is given', () => {
    const { clock, net, node } = setup({ latencyMs: 5 });
    const a = node();
    const b = node();
    net.setLatency(40);
    a.t.sendPacket(b.t.localAddress, enc('slow'));
    clock.advance(39);
    expect(b.packets).toEqual([]);
    clock.advance(1);
    expect(b.packets.map((p) => p.at)).toEqual([40]);
    expect(() => net.setLatency(-1)).toThrow(InvalidArgumentError);
  });

  it('keeps stream data in order under heavy jitter', async () => {
    const { clock, node } = setup({ latencyMs: 5, jitterMs: 50, seed: 9 });
    const a = node();
    const b = node();
    const { conn, accepted } = await connect(clock, a, b);
    const rec = recordConn(accepted);
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      sent.push(`${i},`);
      conn.write(enc(`${i},`));
      clock.advance(0.25);
    }
    conn.end();
    clock.advance(200);
    expect(rec.ended).toBe(true);
    expect(rec.text()).toBe(sent.join(''));
  });
});

describe('MemoryNetwork processing delay (a slow node)', () => {
  it('delays what a slow node sends and what it receives, once per slow end; 0 makes it fast again', () => {
    const { clock, net, node } = setup({ latencyMs: 5 });
    const slow = node();
    const fast = node();
    const other = node();
    const slow2 = node();
    net.setProcessingDelay(slow.t.localAddress, 100);
    net.setProcessingDelay(slow2.t.localAddress.host, 50);
    slow.t.sendPacket(fast.t.localAddress, enc('out'));
    fast.t.sendPacket(slow.t.localAddress, enc('in'));
    fast.t.sendPacket(other.t.localAddress, enc('unaffected'));
    slow.t.sendPacket(slow2.t.localAddress, enc('both'));
    clock.advance(5);
    expect(other.packets.map((p) => [p.data, p.at])).toEqual([['unaffected', 5]]);
    clock.advance(99.999);
    expect(fast.packets).toEqual([]);
    expect(slow.packets).toEqual([]);
    clock.advance(0.001);
    expect(fast.packets.map((p) => [p.data, p.at])).toEqual([['out', 105]]);
    expect(slow.packets.map((p) => [p.data, p.at])).toEqual([['in', 105]]);
    clock.advance(50);
    expect(slow2.packets.map((p) => [p.data, p.at])).toEqual([['both', 155]]);
    net.setProcessingDelay(slow.t.localAddress, 0);
    slow.t.sendPacket(fast.t.localAddress, enc('fast again'));
    clock.advance(5);
    expect(fast.packets.map((p) => p.data)).toEqual(['out', 'fast again']);
    expect(() => net.setProcessingDelay(slow.t.localAddress, -1)).toThrow(InvalidArgumentError);
  });

  it('delays a dial to or from a slow node and every stream segment both ways, in order', async () => {
    const { clock, net, node } = setup({ latencyMs: 5, jitterMs: 3, seed: 4 });
    const slow = node();
    const fast = node();
    net.setProcessingDelay(slow.t.localAddress, 100);
    const dial = watch(fast.t.dial(slow.t.localAddress, 1_000));
    clock.advance(104.999);
    await flushPromises();
    expect(dial.state).toBe('pending');
    clock.advance(3.001);
    await flushPromises();
    if (dial.state === 'pending' || !('value' in dial.state)) throw new Error('dial failed');
    const conn = dial.state.value;
    const accepted = slow.accepted.at(-1) as Conn;
    const atSlow = recordConn(accepted);
    const atFast = recordConn(conn);
    const start = clock.now();
    for (let i = 0; i < 20; i++) conn.write(enc(`${i},`));
    accepted.write(enc('reply'));
    clock.advance(104.999);
    expect(atSlow.text()).toBe('');
    expect(atFast.text()).toBe('');
    clock.advance(start + 108.001 - clock.now());
    expect(atSlow.text()).toBe(Array.from({ length: 20 }, (_, i) => `${i},`).join(''));
    expect(atFast.text()).toBe('reply');
  });
});

describe('MemoryNetwork loss', () => {
  it('drops roughly the configured share of packets, and none of the stream data', async () => {
    const { clock, net, node } = setup({ lossRate: 0.3, seed: 1234 });
    const a = node();
    const b = node();
    for (let i = 0; i < 2000; i++) expect(a.t.sendPacket(b.t.localAddress, enc('p'))).toBe(true);
    clock.advance(10);
    expect(b.packets.length).toBeGreaterThan(1300);
    expect(b.packets.length).toBeLessThan(1500);
    expect(net.stats.packetsDroppedLoss + net.stats.packetsDelivered).toBe(2000);
    expect(net.stats.packetsDelivered).toBe(b.packets.length);

    // Streams stand for TCP, which retransmits: random loss never touches them.
    net.setLoss(1);
    const { conn, accepted } = await connect(clock, a, b);
    const rec = recordConn(accepted);
    conn.write(enc('reliable'));
    conn.end();
    clock.advance(10);
    expect(rec.text()).toBe('reliable');
  });

  it('loses everything at rate 1 and nothing at rate 0', () => {
    const { clock, net, node } = setup({ lossRate: 1 });
    const a = node();
    const b = node();
    a.t.sendPacket(b.t.localAddress, enc('lost'));
    net.setLoss(0);
    a.t.sendPacket(b.t.localAddress, enc('kept'));
    clock.advance(10);
    expect(b.packets.map((p) => p.data)).toEqual(['kept']);
    expect(() => net.setLoss(1.5)).toThrow(InvalidArgumentError);
  });

  it('applies link loss in one direction only, by endpoint or by host; heal removes it', () => {
    const { clock, net, node } = setup();
    const a = node();
    const b = node();
    net.setLinkLoss(a.t.localAddress, b.t.localAddress, 1);
    a.t.sendPacket(b.t.localAddress, enc('a->b'));
    b.t.sendPacket(a.t.localAddress, enc('b->a'));
    clock.advance(10);
    expect(b.packets).toEqual([]);
    expect(a.packets.map((p) => p.data)).toEqual(['b->a']);

    net.heal();
    net.setLinkLoss(b.t.localAddress.host, a.t.localAddress.host, 1);
    a.t.sendPacket(b.t.localAddress, enc('a->b'));
    b.t.sendPacket(a.t.localAddress, enc('b->a again'));
    clock.advance(10);
    expect(b.packets.map((p) => p.data)).toEqual(['a->b']);
    expect(a.packets.map((p) => p.data)).toEqual(['b->a']);
    expect(net.stats.packetsDroppedLoss).toBe(2);
  });
});

describe('MemoryNetwork partitions and blocks', () => {
  it('partition drops packets both ways but not within a side; heal restores', () => {
    const { clock, net, node } = setup();
    const a = node();
    const b = node();
    const c = node();
    net.partition([a.t.localAddress, c.t.localAddress], [b.t.localAddress]);
    a.t.sendPacket(b.t.localAddress, enc('a->b'));
    b.t.sendPacket(a.t.localAddress, enc('b->a'));
    a.t.sendPacket(c.t.localAddress, enc('a->c'));
    clock.advance(10);
    expect(b.packets).toEqual([]);
    expect(a.packets).toEqual([]);
    expect(c.packets.map((p) => p.data)).toEqual(['a->c']);
    expect(net.stats.packetsDroppedPartition).toBe(2);

    net.heal();
    a.t.sendPacket(b.t.localAddress, enc('a->b'));
    b.t.sendPacket(a.t.localAddress, enc('b->a'));
    clock.advance(10);
    expect(b.packets.map((p) => p.data)).toEqual(['a->b']);
    expect(a.packets.map((p) => p.data)).toEqual(['b->a']);
  });

  it('partition also swallows packets already in flight', () => {
    const { clock, net, node } = setup({ latencyMs: 10 });
    const a = node();
    const b = node();
    a.t.sendPacket(b.t.localAddress, enc('in flight'));
    clock.advance(5);
    net.partition([a.t.localAddress], [b.t.localAddress]);
    clock.advance(10);
    expect(b.packets).toEqual([]);
    expect(net.stats.packetsDroppedPartition).toBe(1);
  });

  it('blockLink is one way; unblockLink restores it', () => {
    const { clock, net, node } = setup();
    const a = node();
    const b = node();
    net.blockLink(a.t.localAddress, b.t.localAddress);
    a.t.sendPacket(b.t.localAddress, enc('a->b'));
    b.t.sendPacket(a.t.localAddress, enc('b->a'));
    clock.advance(10);
    expect(b.packets).toEqual([]);
    expect(a.packets.map((p) => p.data)).toEqual(['b->a']);

    net.unblockLink(a.t.localAddress, b.t.localAddress);
    a.t.sendPacket(b.t.localAddress, enc('a->b'));
    clock.advance(10);
    expect(b.packets.map((p) => p.data)).toEqual(['a->b']);
  });

  it('times out a dial across a partition exactly at its timeout', async () => {
    const { clock, net, node } = setup({ latencyMs: 5 });
    const a = node();
    const b = node();
    net.partition([a.t.localAddress], [b.t.localAddress]);
    const dial = watch(a.t.dial(b.t.localAddress, 300));
    clock.advance(299);
    await flushPromises();
    expect(dial.state).toBe('pending');
    clock.advance(1);
    await flushPromises();
    expect(errorCode(dial.state)).toBe('ERR_DIAL_TIMEOUT');
    expect(b.accepted).toEqual([]);
  });

  it('times out a dial over a link blocked in the reverse direction (no handshake reply)', async () => {
    const { clock, net, node } = setup();
    const a = node();
    const b = node();
    net.blockLink(b.t.localAddress, a.t.localAddress);
    const dial = watch(a.t.dial(b.t.localAddress, 100));
    clock.advance(100);
    await flushPromises();
    expect(errorCode(dial.state)).toBe('ERR_DIAL_TIMEOUT');
  });

  it('severs an open stream when a partition starts: both sides close with an error after one latency', async () => {
    const { clock, net, node } = setup({ latencyMs: 10 });
    const a = node();
    const b = node();
    const { conn, accepted } = await connect(clock, a, b);
    const aSide = recordConn(conn);
    const bSide = recordConn(accepted);
    conn.write(enc('lost in flight'));
    net.partition([a.t.localAddress], [b.t.localAddress]);
    expect(conn.writable).toBe(false);
    clock.advance(9);
    expect(aSide.closed || bSide.closed).toBe(false);
    clock.advance(1);
    expect(aSide.closed && bSide.closed).toBe(true);
    expect(aSide.error).toBeInstanceOf(TransportError);
    expect(bSide.error).toBeInstanceOf(TransportError);
    expect(bSide.text()).toBe('');
    expect(net.stats.streamsSevered).toBe(1);
  });
});

describe('MemoryNetwork crash and restore', () => {
  it('cuts a crashed node off both ways, breaks its streams and dials, until restore', async () => {
    const { clock, net, node } = setup({ latencyMs: 5 });
    const a = node();
    const b = node();
    const { conn, accepted } = await connect(clock, a, b);
    const aSide = recordConn(conn);
    const bSide = recordConn(accepted);

    net.crash(b.t.localAddress);
    expect(net.isCrashed(b.t.localAddress)).toBe(true);
    // The network accepts a crashed node's packets (like a NIC with no cable); they just vanish.
    expect(b.t.sendPacket(a.t.localAddress, enc('b->a'))).toBe(true);
    expect(a.t.sendPacket(b.t.localAddress, enc('a->b'))).toBe(true);
    clock.advance(5);
    expect(a.packets).toEqual([]);
    expect(b.packets).toEqual([]);
    expect(aSide.closed && bSide.closed).toBe(true);
    expect(aSide.error).toBeInstanceOf(TransportError);

    const dial = watch(a.t.dial(b.t.localAddress, 50));
    clock.advance(50);
    await flushPromises();
    expect(errorCode(dial.state)).toBe('ERR_DIAL_TIMEOUT');

    net.restore(b.t.localAddress);
    a.t.sendPacket(b.t.localAddress, enc('after restore'));
    clock.advance(5);
    expect(b.packets.map((p) => p.data)).toEqual(['after restore']);
  });

  it('crashing a host by name covers every port on it', () => {
    const { clock, net, node } = setup();
    const a = node();
    const b1 = node('10.0.0.9', 1);
    const b2 = node('10.0.0.9', 2);
    net.crash('10.0.0.9');
    a.t.sendPacket(b1.t.localAddress, enc('x'));
    a.t.sendPacket(b2.t.localAddress, enc('y'));
    clock.advance(10);
    expect(b1.packets.length + b2.packets.length).toBe(0);
  });
});

describe('MemoryNetwork dial timing', () => {
  it('connects after exactly one latency', async () => {
    const { clock, node } = setup({ latencyMs: 7 });
    const a = node();
    const b = node();
    const dial = watch(a.t.dial(b.t.localAddress, 1_000));
    clock.advance(6);
    await flushPromises();
    expect(dial.state).toBe('pending');
    expect(b.accepted).toEqual([]);
    clock.advance(1);
    await flushPromises();
    expect(dial.state).not.toBe('pending');
    expect(b.accepted.length).toBe(1);
  });

  it('refuses a dial to an unknown address after exactly one latency', async () => {
    const { clock, node } = setup({ latencyMs: 7 });
    const a = node();
    const dial = watch(a.t.dial({ host: '10.9.9.9', port: 1 }, 1_000));
    clock.advance(6);
    await flushPromises();
    expect(dial.state).toBe('pending');
    clock.advance(1);
    await flushPromises();
    expect(errorCode(dial.state)).toBe('ERR_TRANSPORT');
  });

  it('counts packets to an address that is not (or no longer) attached as unreachable', async () => {
    const { clock, net, node } = setup();
    const a = node();
    const b = node();
    await b.t.shutdown();
    expect(a.t.sendPacket(b.t.localAddress, enc('x'))).toBe(true);
    clock.advance(10);
    expect(net.stats.packetsDroppedUnreachable).toBe(1);
  });
});

describe('MemoryNetwork determinism', () => {
  /** A busy scenario with loss and jitter; returns every delivery as "time host data". */
  function scenario(seed: number): string[] {
    const { clock, node } = setup({ latencyMs: 3, jitterMs: 8, lossRate: 0.2, seed });
    const nodes = [node(), node(), node(), node()];
    const log: string[] = [];
    for (const n of nodes) {
      n.t.setHandlers({
        packet: (buf, from) => log.push(`${clock.now()} ${n.t.localAddress.host} <- ${from.host} ${dec(buf)}`),
        stream: (c) => c.destroy(),
      });
    }
    for (let round = 0; round < 30; round++) {
      nodes.forEach((from, i) => {
        const to = nodes[(i + 1 + (round % 3)) % nodes.length] as Node;
        from.t.sendPacket(to.t.localAddress, enc(`r${round}`));
      });
      clock.advance(2);
    }
    clock.advance(100);
    return log;
  }

  it('produces the identical delivery log for the same seed', () => {
    const first = scenario(99);
    expect(first.length).toBeGreaterThan(60);
    expect(scenario(99)).toEqual(first);
  });

  it('produces a different log for another seed', () => {
    expect(scenario(100)).not.toEqual(scenario(99));
  });
});
