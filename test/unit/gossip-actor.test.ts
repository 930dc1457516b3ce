import { describe, expect, it } from 'vitest';
import { GossipActor, type GossipOptions } from '../../src/actors/gossip/gossip-actor.js';
import { ProtobufCodec } from '../../src/codec/protobuf-codec.js';
import { actors, wire } from '../../src/gen/index.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { retransmitLimit } from '../../src/timing.js';

const SELF = 'self';
const INTERVAL = 200;

interface Sent {
  at: number;
  packet: actors.SendPacket;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function setup(overrides: Partial<GossipOptions> = {}, startMs = 1_000_000, seed = 7) {
  const clock = new VirtualClock(startMs);
  const sup = new Supervisor({ nodeName: SELF, clock, random: new SeededRandom(seed), logger: silentLogger() });
  const codec = new ProtobufCodec();
  const options: GossipOptions = {
    name: SELF,
    codec,
    retransmitMult: 4,
    gossipIntervalMs: INTERVAL,
    gossipNodes: 3,
    gossipToTheDeadMs: 30_000,
    udpBufferSize: 1400,
    ...overrides,
  };
  const gossip = new GossipActor(options);
  const sent: Sent[] = [];
  const done: actors.BroadcastDone[] = [];
  const recorder: Actor = {
    name: 'recorder',
    accepts: [actors.SendPacket, actors.BroadcastDone],
    receive(m) {
      if (m instanceof actors.SendPacket) sent.push({ at: clock.now(), packet: m });
      else if (m instanceof actors.BroadcastDone) done.push(m);
    },
  };
  sup.spawn(gossip);
  sup.spawn(recorder);
  sup.start();
  let numMembers = 0;
  const send = (m: object): void => {
    sup.send(m);
    clock.runDue();
  };
  const member = (name: string, state = wire.MemberState.ALIVE, stateChangeMs = clock.now(), local = false): void => {
    numMembers++;
    send(
      actors.MemberChanged.create({
        member: { name, addr: { host: '10.0.0.1', port: 7000 + numMembers }, state, stateChangeMs, incarnation: 1 },
        local,
        numMembers,
      }),
    );
  };
  const alive = (node: string, incarnation = 1): wire.Message.$Properties => ({
    alive: { node, incarnation, ipv4: 0x0a000001, port: 7946, meta: new Uint8Array(0) },
  });
  const broadcast = (key: string, message: wire.Message.$Properties, notifyId = 0, user = false): void =>
    send(actors.QueueBroadcast.create({ key, message, notifyId, user }));
  const gossipPackets = (): Sent[] => sent.filter((s) => s.packet.messages.length === 0);
  return { clock, sup, codec, gossip, sent, done, send, member, alive, broadcast, gossipPackets, options };
}

describe('GossipActor: piggyback on outbound packets', () => {
  it('fills an OutboundPacket up to udpBufferSize and not beyond', () => {
    const t = setup({ gossipIntervalMs: 0 });
    for (let i = 0; i < 20; i++) t.member(`node-${i}`);
    const queued = new Map<string, wire.Message.$Properties>();
    for (let i = 0; i < 200; i++) {
      const msg = t.alive(`node-with-a-longer-name-${i}-${'x'.repeat(i % 17)}`, i + 1);
      queued.set(hex(t.codec.encodePart(msg)), msg);
      t.broadcast(`node-with-a-longer-name-${i}`, msg);
    }
    const messages: wire.Message.$Properties[] = [
      { ping: { seqNo: 42, node: 'node-3', sourceIpv4: 0x0a000001, sourcePort: 7946, sourceNode: SELF } },
    ];
    t.send(actors.OutboundPacket.create({ to: { host: '10.0.0.9', port: 7946 }, toNode: 'node-3', messages }));
    expect(t.sent).toHaveLength(1);
    const p = (t.sent[0] as Sent).packet;
    expect(p.toNode).toBe('node-3');
    expect(p.to?.host).toBe('10.0.0.9');
    // The packet's own message is encoded once by the gossip actor and travels first, pre-encoded.
    expect(p.messages).toHaveLength(0);
    expect(hex(p.piggyback[0] as Uint8Array)).toBe(hex(t.codec.encodePart(messages[0] as wire.Message.$Properties)));
    const extras = p.piggyback.slice(1);
    expect(extras.length).toBeGreaterThan(5);
    const size = new ProtobufCodec().encodePacket(p.messages, p.piggyback).length;
    expect(size).toBeLessThanOrEqual(1400);
    // Filled: no part left in the queue would still fit in what remains.
    const sentParts = new Set(extras.map(hex));
    for (const h of queued.keys()) {
      if (sentParts.has(h)) continue;
      expect(t.codec.partSize(h.length / 2)).toBeGreaterThan(1400 - size);
    }
    // Every piggybacked part is one of the queued broadcasts, decodable as a wire Message.
    for (const part of extras) {
      expect(queued.has(hex(part))).toBe(true);
      expect(wire.Message.decode(part).alive?.node).toMatch(/^node-with/);
    }
    expect(t.gossip.stats.sentParts).toBe(extras.length);
    expect(t.gossip.stats.outboundPackets).toBe(1);
  });

  it('accounts for every message of the packet, and passes a packet on bare when the queue is empty', () => {
    const t = setup({ gossipIntervalMs: 0, udpBufferSize: 300 });
    t.member('a');
    const messages: wire.Message.$Properties[] = [{ ack: { seqNo: 1, payload: new Uint8Array(120) } }, { nack: { seqNo: 2 } }];
    t.send(actors.OutboundPacket.create({ to: { host: '10.0.0.2', port: 1 }, toNode: 'a', messages }));
    // Bare: just the packet's two messages, pre-encoded, nothing piggybacked.
    expect((t.sent[0] as Sent).packet.piggyback.map(hex)).toEqual(messages.map((m) => hex(t.codec.encodePart(m))));
    expect((t.sent[0] as Sent).packet.messages).toHaveLength(0);
    for (let i = 0; i < 30; i++) t.broadcast(`n${i}`, t.alive(`n${i}`));
    t.send(actors.OutboundPacket.create({ to: { host: '10.0.0.2', port: 1 }, toNode: 'a', messages }));
    const p = (t.sent[1] as Sent).packet;
    expect(p.piggyback.length).toBeGreaterThan(2);
    expect(t.codec.encodePacket(p.messages, p.piggyback).length).toBeLessThanOrEqual(300);
  });
});

describe('GossipActor: gossip rounds', () => {
  it('sends nothing when the queue is empty', () => {
    const t = setup();
    for (let i = 0; i < 5; i++) t.member(`n${i}`);
    t.clock.advance(20 * INTERVAL);
    expect(t.sent).toEqual([]);
  });

  it('an idle ticker sleeps (no timer while the queue is empty) and wakes on the same grid of rounds', () => {
    const t = setup({ gossipNodes: 1 });
    const start = t.clock.now();
    t.member('a');
    t.broadcast('k0', t.alive('k0'));
    t.clock.advance(INTERVAL);
    const first = t.gossipPackets()[0]?.at as number;
    expect(first - start).toBeLessThan(INTERVAL);
    // The broadcast reaches its limit (4 transmissions) and the queue empties: the ticker stops.
    t.clock.advance(10 * INTERVAL);
    expect(t.gossip.queueDepth).toBe(0);
    const ticks = t.sup.stats().find((c) => c.name === 'gossip')?.received ?? 0;
    t.clock.advance(50 * INTERVAL);
    expect(t.sup.stats().find((c) => c.name === 'gossip')?.received).toBe(ticks);
    expect(t.clock.pendingTimers).toBe(0);
    // A broadcast queued between two grid points goes out at the next one, then every interval.
    t.clock.advance(INTERVAL / 3);
    const before = t.gossipPackets().length;
    t.broadcast('k1', t.alive('k1'));
    t.clock.advance(3 * INTERVAL);
    const times = t.gossipPackets().slice(before).map((p) => p.at - first);
    expect(times.length).toBeGreaterThanOrEqual(3);
    for (const at of times) expect(at % INTERVAL).toBe(0);
    expect((times[0] as number) - (t.clock.now() - 3 * INTERVAL - first)).toBeLessThanOrEqual(INTERVAL);
  });

  it('first round after a random stagger in [0, interval), then every interval', () => {
    const t = setup({ gossipNodes: 1 });
    const start = t.clock.now();
    t.member('a');
    for (let i = 0; i < 10; i++) t.broadcast(`k${i}`, t.alive(`k${i}`));
    t.clock.advance(5 * INTERVAL - 1);
    const times = t.gossipPackets().map((s) => s.at - start);
    expect(times.length).toBeGreaterThanOrEqual(4);
    expect(times[0]).toBeLessThan(INTERVAL);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBe(INTERVAL);
  });

  it('targets at most gossipNodes distinct alive/suspect/recently-dead members; never left, old dead or self', () => {
    const t = setup({ gossipNodes: 3 });
    const now = t.clock.now();
    t.member(SELF, wire.MemberState.ALIVE, now, true);
    for (let i = 0; i < 6; i++) t.member(`alive-${i}`);
    t.member('suspect-0', wire.MemberState.SUSPECT);
    t.member('dead-recent', wire.MemberState.DEAD, now - 1000);
    t.member('dead-old', wire.MemberState.DEAD, now - 30_001);
    t.member('left-0', wire.MemberState.LEFT, now);
    const eligible = new Set(['alive-0', 'alive-1', 'alive-2', 'alive-3', 'alive-4', 'alive-5', 'suspect-0', 'dead-recent']);
    const seen = new Set<string>();
    for (let round = 0; round < 60; round++) {
      t.broadcast(`b${round}`, t.alive(`b${round}`)); // keep the queue non-empty
      const before = t.sent.length;
      t.clock.advance(INTERVAL);
      const batch = t.sent.slice(before).map((s) => s.packet);
      const targets = batch.map((p) => p.toNode);
      expect(targets.length).toBeLessThanOrEqual(3);
      expect(new Set(targets).size).toBe(targets.length);
      for (const p of batch) {
        expect(eligible.has(p.toNode)).toBe(true);
        expect(p.messages).toEqual([]);
        expect(p.piggyback.length).toBeGreaterThan(0);
        expect(t.codec.encodePacket([], p.piggyback).length).toBeLessThanOrEqual(1400);
        seen.add(p.toNode);
      }
    }
    // Every eligible member was reached at some point (10 members: 3k > n, so each round shuffles).
    expect([...seen].sort()).toEqual([...eligible].sort());
  });

  it('a dead member stops being a target gossipToTheDeadMs after it died; a revived one is again', () => {
    const t = setup({ gossipNodes: 10, gossipToTheDeadMs: 2000 });
    t.member('a');
    t.member('d', wire.MemberState.DEAD, t.clock.now());
    const targetsOfNextRound = (): string[] => {
      t.broadcast('x', t.alive('x'));
      const before = t.sent.length;
      t.clock.advance(INTERVAL);
      return t.sent
        .slice(before)
        .map((s) => s.packet.toNode)
        .sort();
    };
    expect(targetsOfNextRound()).toEqual(['a', 'd']);
    t.clock.advance(2000);
    expect(targetsOfNextRound()).toEqual(['a']);
    // Alive again (refuted), then dead again: a fresh window.
    t.send(
      actors.MemberChanged.create({
        member: { name: 'd', addr: { host: '10.0.0.4', port: 1 }, state: wire.MemberState.ALIVE, stateChangeMs: t.clock.now() },
        numMembers: 2,
      }),
    );
    expect(targetsOfNextRound()).toEqual(['a', 'd']);
    t.send(
      actors.MemberChanged.create({
        member: { name: 'd', addr: { host: '10.0.0.4', port: 1 }, state: wire.MemberState.LEFT, stateChangeMs: t.clock.now() },
        numMembers: 2,
      }),
    );
    expect(targetsOfNextRound()).toEqual(['a']);
    t.send(actors.MemberRemoved.create({ name: 'a', numMembers: 1 }));
    expect(targetsOfNextRound()).toEqual([]);
    expect(t.gossip.numMembers).toBe(1);
  });

  it('each target gets its own getBroadcasts call (transmit counts advance per target)', () => {
    // One broadcast, three targets, limit 4 (n 4): each round sends it to every target.
    const t = setup({ gossipNodes: 3 });
    for (const n of ['a', 'b', 'c']) t.member(n);
    t.member('d');
    t.broadcast('k', t.alive('k'), 5);
    t.clock.advance(INTERVAL);
    expect(t.gossipPackets()).toHaveLength(3);
    t.clock.advance(INTERVAL);
    // Transmit 4 was the limit: only one more target got it; nothing more is sent.
    expect(t.gossipPackets()).toHaveLength(4);
    expect(t.done.map((d) => [d.notifyId, d.transmitted])).toEqual([[5, true]]);
    t.clock.advance(10 * INTERVAL);
    expect(t.gossipPackets()).toHaveLength(4);
  });

  it('picks targets cheaply among 10,000 members: distinct, eligible, never self', () => {
    const t = setup({ gossipNodes: 3 });
    t.member(SELF, wire.MemberState.ALIVE, t.clock.now(), true);
    for (let i = 0; i < 10_000; i++) {
      t.member(`m${i}`, i % 100 === 0 ? wire.MemberState.LEFT : wire.MemberState.ALIVE);
    }
    expect(t.gossip.targetCount).toBe(9_900);
    for (let round = 0; round < 20; round++) {
      t.broadcast(`b${round}`, t.alive(`b${round}`));
      const before = t.sent.length;
      t.clock.advance(INTERVAL);
      const targets = t.sent.slice(before).map((s) => s.packet.toNode);
      expect(targets).toHaveLength(3);
      expect(new Set(targets).size).toBe(3);
      for (const n of targets) {
        expect(n).not.toBe(SELF);
        expect(Number(n.slice(1)) % 100).not.toBe(0);
      }
    }
  });
});

describe('GossipActor: a fresh broadcast behind a backlog', () => {
  it('goes to every target of its first round: each round queued later counts like a transmit', () => {
    // Names of one length, so every part has the same size; the budget fits one part per packet.
    const probe = setup();
    const budget = probe.codec.packetOverhead + probe.codec.partSize(probe.codec.encodePart(probe.alive('b00')).length);
    const u = setup({ gossipNodes: 3, udpBufferSize: budget });
    for (let i = 0; i < 10; i++) u.member(`m${i}`);
    for (let i = 0; i < 30; i++) u.broadcast(`b${String(i).padStart(2, '0')}`, u.alive(`b${String(i).padStart(2, '0')}`));
    // 5 rounds: 15 of the 30 sent once, 15 not yet.
    u.clock.advance(5 * INTERVAL);
    expect(u.gossipPackets()).toHaveLength(15);
    u.broadcast('new', u.alive('new', 2));
    const fresh = hex(u.codec.encodePart(u.alive('new', 2)));
    const before = u.gossipPackets().length;
    u.clock.advance(INTERVAL);
    const round = u.gossipPackets().slice(before);
    expect(round).toHaveLength(3);
    // memberlist's order would send it once (tier 0), then serve the 15 tier-0 items of the backlog.
    expect(round.map((p) => p.packet.piggyback.map(hex))).toEqual([[fresh], [fresh], [fresh]]);
    expect(new Set(round.map((p) => p.packet.toNode)).size).toBe(3);
  });
});

describe('GossipActor: broadcast lifecycle', () => {
  it('a newer broadcast about the same key replaces the older one (BroadcastDone transmitted=false)', () => {
    const t = setup({ gossipNodes: 1 });
    t.member('a');
    t.broadcast('node-x', t.alive('node-x', 1), 1);
    t.broadcast('node-x', t.alive('node-x', 2), 2);
    expect(t.done.map((d) => [d.notifyId, d.transmitted])).toEqual([[1, false]]);
    expect(t.gossip.stats.replaced).toBe(1);
    expect(t.gossip.queueDepth).toBe(1);
    t.clock.advance(INTERVAL);
    const parts = t.gossipPackets().flatMap((s) => s.packet.piggyback);
    expect(parts).toHaveLength(1);
    expect(wire.Message.decode(parts[0] as Uint8Array).alive?.incarnation).toBe(2);
  });

  it('reports BroadcastDone transmitted=true after the retransmit limit, counting piggyback and gossip', () => {
    const t = setup({ gossipNodes: 1 });
    t.member('a');
    t.member('b');
    t.member('c'); // n = 3: limit 4 with mult 4
    const limit = retransmitLimit(4, 3);
    expect(limit).toBe(4);
    t.broadcast('k', t.alive('k'), 77);
    const expected = hex(t.codec.encodePart(t.alive('k')));
    // One transmission piggybacked on an outbound packet, the rest by gossip rounds.
    t.send(actors.OutboundPacket.create({ to: { host: '10.0.0.1', port: 1 }, toNode: 'a', messages: [{ nack: { seqNo: 1 } }] }));
    t.clock.advance(10 * INTERVAL);
    const carrying = t.sent.filter((s) => s.packet.piggyback.some((p) => hex(p) === expected));
    expect(carrying).toHaveLength(limit);
    expect(t.done.map((d) => [d.notifyId, d.transmitted])).toEqual([[77, true]]);
    expect(t.gossip.queueDepth).toBe(0);
    expect(t.gossip.stats).toMatchObject({ queued: 1, sentParts: limit, retired: 1, replaced: 0, dropped: 0 });
  });

  it('queues user broadcasts behind membership ones', () => {
    // Room for the alive (~27 B) or the user message (~66 B), not both.
    const t = setup({ gossipIntervalMs: 0, udpBufferSize: 80 });
    t.member('a');
    const user: wire.Message.$Properties = { user: { payload: new Uint8Array(60) } };
    t.broadcast('u', user, 0, true);
    t.broadcast('m', t.alive('m'));
    t.send(actors.OutboundPacket.create({ to: { host: '10.0.0.1', port: 1 }, toNode: 'a', messages: [] }));
    const parts = (t.sent[0] as Sent).packet.piggyback;
    expect(parts).toHaveLength(1);
    expect(wire.Message.decode(parts[0] as Uint8Array).alive?.node).toBe('m');
    // Once the membership item has retired (n 1: limit 4), the user one goes out.
    for (let i = 0; i < 4; i++) {
      t.send(actors.OutboundPacket.create({ to: { host: '10.0.0.1', port: 1 }, toNode: 'a', messages: [] }));
    }
    const last = (t.sent[4] as Sent).packet.piggyback;
    expect(wire.Message.decode(last[0] as Uint8Array).user?.payload).toHaveLength(60);
  });

  it('drops a broadcast larger than a packet, and counts queue-bound drops', () => {
    const t = setup({ gossipIntervalMs: 0, udpBufferSize: 200, maxQueued: 2 });
    t.member('a');
    t.broadcast('big', { user: { payload: new Uint8Array(500) } }, 9, true);
    expect(t.done.map((d) => [d.notifyId, d.transmitted])).toEqual([[9, false]]);
    expect(t.gossip.queueDepth).toBe(0);
    t.broadcast('a1', t.alive('a1'), 10);
    t.broadcast('a2', t.alive('a2'));
    t.broadcast('a3', t.alive('a3'));
    expect(t.gossip.queueDepth).toBe(2);
    expect(t.gossip.stats.dropped).toBe(2);
    // The oldest (same size, same transmits) went: a1, reported as not transmitted.
    expect(t.done.map((d) => [d.notifyId, d.transmitted])).toEqual([
      [9, false],
      [10, false],
    ]);
  });
});

