import { describe, expect, it } from 'vitest';
import { ProbeActor, type ProbeOptions } from '../../src/actors/probe/probe-actor.js';
import { ProbeList } from '../../src/actors/probe/probe-list.js';
import { ipv4ToInt } from '../../src/codec/address.js';
import { actors, wire } from '../../src/gen/index.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

interface Seen<T> {
  at: number;
  m: T;
}

type NetMessage = actors.OutboundPacket | actors.SendPacket | actors.StreamRequest;

/** Reacts to what the probe actor sends to the network, as a scenario needs. */
type Responder = (m: NetMessage, h: Harness) => void;

const INTERVAL = 1_000;
const TIMEOUT = 200;
const SELF = 'self';
const SELF_HOST = '10.0.0.1';

function hostOf(i: number): string {
  return `10.0.${1 + (i >> 8)}.${i & 0xff}`;
}

interface Harness {
  clock: VirtualClock;
  sup: Supervisor;
  probe: ProbeActor;
  net: Seen<NetMessage>[];
  events: Seen<object>[];
  /** Delivers `m` to the actors `ms` from now (a fake network's latency). */
  later(ms: number, m: object): void;
  send(m: object): void;
  /** Peers n1..nN (alive unless `states` says otherwise), plus our own entry. */
  addPeers(count: number, states?: Record<string, wire.MemberState>): string[];
  /** Runs until the first direct probe goes out; returns its time. */
  firstProbe(): number;
  pings(): Seen<{ to: string; seqNo: number; packet: NetMessage }>[];
  indirect(): Seen<{ helper: string; req: wire.IndirectPing.$Properties }>[];
  streams(): Seen<actors.StreamRequest>[];
  of<T>(cls: abstract new (...args: never[]) => T): Seen<T>[];
}

function harness(options: Partial<ProbeOptions> = {}, respond?: Responder): Harness {
  const clock = new VirtualClock();
  const sup = new Supervisor({ nodeName: SELF, clock, random: new SeededRandom(42), logger: silentLogger() });
  const probe = new ProbeActor({
    name: SELF,
    host: SELF_HOST,
    port: 7946,
    probeIntervalMs: INTERVAL,
    probeTimeoutMs: TIMEOUT,
    indirectChecks: 3,
    ...options,
  });
  const net: Seen<NetMessage>[] = [];
  const events: Seen<object>[] = [];
  const h: Harness = {
    clock,
    sup,
    probe,
    net,
    events,
    later(ms, m) {
      clock.setTimer(ms, () => sup.send(m));
    },
    send(m) {
      sup.send(m);
      clock.runDue();
    },
    addPeers(count, states = {}) {
      const names: string[] = [];
      sup.send(
        actors.MemberChanged.create({
          member: { name: SELF, addr: { host: SELF_HOST, port: 7946 }, incarnation: 1, state: wire.MemberState.ALIVE },
          local: true,
          numMembers: count + 1,
        }),
      );
      for (let i = 1; i <= count; i++) {
        const name = `n${i}`;
        names.push(name);
        sup.send(
          actors.MemberChanged.create({
            member: {
              name,
              addr: { host: hostOf(i), port: 7946 },
              incarnation: 10 + i,
              state: states[name] ?? wire.MemberState.ALIVE,
              protocolMax: 5,
            },
            numMembers: count + 1,
          }),
        );
      }
      clock.runDue();
      return names;
    },
    firstProbe() {
      const took = clock.runUntil(() => h.pings().length > 0, INTERVAL, 1);
      expect(took).toBeDefined();
      return (h.pings()[0] as Seen<unknown>).at;
    },
    pings() {
      return net.flatMap((e) => {
        const first = e.m instanceof actors.StreamRequest ? undefined : e.m.messages[0];
        const ping = first?.ping;
        if (ping === null || ping === undefined || e.m instanceof actors.StreamRequest) return [];
        return [{ at: e.at, m: { to: e.m.toNode, seqNo: ping.seqNo ?? 0, packet: e.m } }];
      });
    },
    indirect() {
      return net.flatMap((e) => {
        if (!(e.m instanceof actors.OutboundPacket)) return [];
        const req = e.m.messages[0]?.indirectPing;
        return req === null || req === undefined ? [] : [{ at: e.at, m: { helper: e.m.toNode, req } }];
      });
    },
    streams() {
      return net.flatMap((e) => (e.m instanceof actors.StreamRequest ? [{ at: e.at, m: e.m }] : []));
    },
    of<T>(cls: abstract new (...args: never[]) => T): Seen<T>[] {
      return events.flatMap((e) => (e.m instanceof cls ? [{ at: e.at, m: e.m as T }] : []));
    },
  };
  const netActor: Actor = {
    name: 'fake-net',
    accepts: [actors.OutboundPacket, actors.SendPacket, actors.StreamRequest],
    receive(m) {
      const msg = m as NetMessage;
      net.push({ at: clock.now(), m: msg });
      respond?.(msg, h);
    },
  };
  const sink: Actor = {
    name: 'sink',
    accepts: [actors.PingCompleted, actors.ProbeFailed, actors.LocalSuspect, actors.HealthChanged, actors.ProbeListWrapped],
    receive(m) {
      events.push({ at: clock.now(), m });
    },
  };
  sup.spawn(probe);
  sup.spawn(netActor);
  sup.spawn(sink);
  sup.start();
  return h;
}

/** Answers a direct ping (UDP) with an ack after `latencyMs`, optionally only for some targets. */
function ackDirect(latencyMs: number, only?: (target: string) => boolean): Responder {
  return (m, h) => {
    if (m instanceof actors.StreamRequest) return;
    const ping = m.messages[0]?.ping;
    if (ping === null || ping === undefined || (only !== undefined && !only(m.toNode))) return;
    const at = h.clock.now() + latencyMs;
    h.later(
      latencyMs,
      actors.AckReceived.create({ ack: { seqNo: ping.seqNo, payload: new Uint8Array([7, 7]) }, from: m.to, receivedAtMs: at }),
    );
  };
}

/** The TCP fallback ping fails at once. */
const tcpError: Responder = (m, h) => {
  if (m instanceof actors.StreamRequest) {
    h.later(5, actors.StreamResult.create({ requestId: m.requestId, requester: m.requester, error: 'connection refused' }));
  }
};

/** Helpers answer indirect requests with nacks (`nackers` of them), and TCP fails at once. */
function nacksAndTcpError(nackers: number): Responder {
  return combine(nacks(nackers), tcpError);
}

/** The first `nackers` helpers of each indirect probe answer with a nack. */
function nacks(nackers: number): Responder {
  let sentForSeq = new Map<number, number>();
  return (m, h) => {
    if (m instanceof actors.StreamRequest) return;
    const req = m.messages[0]?.indirectPing;
    if (req === null || req === undefined) return;
    const seq = req.seqNo ?? 0;
    const n = sentForSeq.get(seq) ?? 0;
    if (n >= nackers) return;
    sentForSeq.set(seq, n + 1);
    h.later(TIMEOUT, actors.NackReceived.create({ nack: { seqNo: seq }, from: m.to }));
    if (sentForSeq.size > 1000) sentForSeq = new Map();
  };
}

function combine(...rs: Responder[]): Responder {
  return (m, h) => {
    for (const r of rs) r(m, h);
  };
}

describe('ProbeActor: direct probes', () => {
  it('a direct ack completes the probe with the round trip; awareness −1 is clamped at 0', () => {
    const h = harness({}, ackDirect(30));
    h.addPeers(3);
    const t0 = h.firstProbe();
    h.clock.advance(100);
    const done = h.of(actors.PingCompleted);
    const first = h.pings()[0]?.m;
    expect(done).toHaveLength(1);
    expect(done[0]?.at).toBe(t0 + 30);
    expect(done[0]?.m).toMatchObject({ node: first?.to, rttMs: 30, seqNo: first?.seqNo, payload: new Uint8Array([7, 7]) });
    expect(h.of(actors.HealthChanged)).toHaveLength(0);
    expect(h.probe.healthScore).toBe(0);
    expect(h.indirect()).toHaveLength(0);
    expect(h.streams()).toHaveLength(0);
    expect(h.of(actors.LocalSuspect)).toHaveLength(0);
  });

  it('pings carry our name, address and the target name, through the gossip dispatcher', () => {
    const h = harness({}, ackDirect(10));
    h.addPeers(1);
    h.firstProbe();
    const p = h.pings()[0]?.m;
    expect(p?.packet).toBeInstanceOf(actors.OutboundPacket);
    expect(p?.packet).toMatchObject({
      to: { host: hostOf(1), port: 7946 },
      toNode: 'n1',
      messages: [{ ping: { node: 'n1', sourceNode: SELF, sourceIpv4: ipv4ToInt(SELF_HOST), sourcePort: 7946 } }],
    });
  });

  it('a successful probe lowers a raised health score (HealthChanged on every change)', () => {
    const h = harness({}, ackDirect(10));
    h.addPeers(2);
    h.send(actors.AwarenessDelta.create({ delta: 2 }));
    expect(h.of(actors.HealthChanged).map((e) => e.m.score)).toEqual([2]);
    h.firstProbe();
    h.clock.advance(50);
    expect(h.of(actors.HealthChanged).map((e) => e.m.score)).toEqual([2, 1]);
    h.clock.advance(INTERVAL);
    expect(h.of(actors.HealthChanged).map((e) => e.m.score)).toEqual([2, 1, 0]);
    h.clock.advance(INTERVAL);
    expect(h.of(actors.HealthChanged).map((e) => e.m.score)).toEqual([2, 1, 0]);
    expect(h.probe.healthScore).toBe(0);
  });

  it('AwarenessDelta is clamped at awarenessMaxMultiplier − 1', () => {
    const h = harness({ awarenessMaxMultiplier: 4 });
    h.send(actors.AwarenessDelta.create({ delta: 1 }));
    h.send(actors.AwarenessDelta.create({ delta: 10 }));
    h.send(actors.AwarenessDelta.create({ delta: 1 }));
    expect(h.of(actors.HealthChanged).map((e) => e.m.score)).toEqual([1, 3]);
    expect(h.probe.healthScore).toBe(3);
  });

  it('a suspect target gets the buddy compound [ping, suspect] without piggyback', () => {
    const h = harness({}, ackDirect(10));
    h.addPeers(1, { n1: wire.MemberState.SUSPECT });
    h.firstProbe();
    const p = h.pings()[0]?.m;
    expect(p?.packet).toBeInstanceOf(actors.SendPacket);
    const packet = p?.packet as actors.SendPacket;
    expect(packet.toNode).toBe('n1');
    expect(packet.messages).toHaveLength(2);
    expect(packet.messages[0]?.ping).toMatchObject({ node: 'n1', seqNo: p?.seqNo });
    expect(packet.messages[1]?.suspect).toMatchObject({ incarnation: 11, node: 'n1', from: SELF });
    expect(packet.piggyback ?? []).toHaveLength(0);
    expect(h.net.filter((e) => e.m instanceof actors.OutboundPacket)).toHaveLength(0);
  });

  it('dead and left members are never probed', () => {
    const h = harness({}, ackDirect(10));
    h.addPeers(3, { n1: wire.MemberState.DEAD, n3: wire.MemberState.LEFT });
    h.firstProbe();
    h.clock.advance(5 * INTERVAL);
    expect(new Set(h.pings().map((p) => p.m.to))).toEqual(new Set(['n2']));
  });
});

describe('ProbeActor: indirect probes, TCP fallback and the verdict', () => {
  it('no direct ack: indirect pings with the same seqNo to ≤ indirectChecks alive helpers, plus a TCP ping', () => {
    const h = harness({}, nacksAndTcpError(3));
    h.addPeers(7, { n6: wire.MemberState.SUSPECT, n7: wire.MemberState.DEAD });
    const t0 = h.firstProbe();
    const p = h.pings()[0]?.m;
    h.clock.advanceTo(t0 + TIMEOUT - 1);
    expect(h.indirect()).toHaveLength(0);
    h.clock.advanceTo(t0 + TIMEOUT);
    const ind = h.indirect();
    expect(ind).toHaveLength(3);
    const helpers = ind.map((e) => e.m.helper);
    expect(new Set(helpers).size).toBe(3);
    const targetIndex = Number(p?.to.slice(1));
    for (const e of ind) {
      expect(e.m.helper).not.toBe(p?.to);
      expect(e.m.helper).not.toBe(SELF);
      expect(['n6', 'n7']).not.toContain(e.m.helper);
      expect(e.m.req).toMatchObject({
        seqNo: p?.seqNo,
        node: p?.to,
        nack: true,
        targetIpv4: ipv4ToInt(hostOf(targetIndex)),
        targetPort: 7946,
        sourceNode: SELF,
        sourceIpv4: ipv4ToInt(SELF_HOST),
        sourcePort: 7946,
      });
    }
    const tcp = h.streams();
    expect(tcp).toHaveLength(1);
    expect(tcp[0]?.at).toBe(t0 + TIMEOUT);
    expect(tcp[0]?.m).toMatchObject({
      requester: 'probe',
      to: { host: hostOf(targetIndex), port: 7946 },
      request: { ping: { seqNo: p?.seqNo, node: p?.to } },
      timeoutMs: INTERVAL - TIMEOUT,
      expectReply: true,
    });
  });

  it('helpers are never the target or ourselves, over many probes and at 10,000 members', () => {
    const h = harness({}, nacksAndTcpError(3));
    h.addPeers(10_000);
    h.firstProbe();
    h.clock.advance(60 * INTERVAL);
    const cutoff = h.clock.now() - TIMEOUT;
    const probes = h.pings().filter((p) => p.at <= cutoff);
    expect(probes.length).toBeGreaterThanOrEqual(60);
    const bySeq = new Map<number, string[]>();
    for (const e of h.indirect()) {
      const list = bySeq.get(e.m.req.seqNo ?? 0) ?? [];
      list.push(e.m.helper);
      bySeq.set(e.m.req.seqNo ?? 0, list);
    }
    for (const p of probes) {
      const helpers = bySeq.get(p.m.seqNo) ?? [];
      expect(helpers).toHaveLength(3);
      expect(new Set(helpers).size).toBe(3);
      expect(helpers).not.toContain(p.m.to);
      expect(helpers).not.toContain(SELF);
    }
    // 60 probes of 10,000 members in a shuffled round robin: no repeats within the pass.
    expect(new Set(probes.map((p) => p.m.to)).size).toBe(probes.length);
  });

  it('a relayed ack before the deadline is a success (no suspicion, awareness −1)', () => {
    const relay: Responder = (m, h) => {
      if (!(m instanceof actors.OutboundPacket)) return;
      const req = m.messages[0]?.indirectPing;
      if (req === null || req === undefined) return;
      // Every helper relays an ack 300 ms later; the first completes the probe, the rest are ignored.
      h.later(300, actors.AckReceived.create({ ack: { seqNo: req.seqNo }, from: m.to, receivedAtMs: h.clock.now() + 300 }));
    };
    const h = harness({ disableTcpPings: true }, relay);
    h.addPeers(3);
    h.send(actors.AwarenessDelta.create({ delta: 1 }));
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + TIMEOUT);
    expect(h.indirect()).toHaveLength(2); // 3 peers: the two that are not the target
    h.clock.advanceTo(t0 + INTERVAL - 1);
    expect(h.of(actors.LocalSuspect)).toHaveLength(0);
    expect(h.of(actors.ProbeFailed)).toHaveLength(0);
    // memberlist notifies the ping delegate only for acks within probeTimeoutMs.
    expect(h.of(actors.PingCompleted)).toHaveLength(0);
    expect(h.of(actors.HealthChanged).map((e) => [e.at, e.m.score])).toEqual([
      [0, 1],
      [t0 + TIMEOUT + 300, 0],
    ]);
    expect(h.streams()).toHaveLength(0);
    h.clock.advance(2 * INTERVAL);
    expect(h.of(actors.LocalSuspect)).toHaveLength(0);
  });

  it('a late direct ack after probeTimeoutMs still saves the probe', () => {
    const h = harness({}, combine(ackDirect(600), nacksAndTcpError(0)));
    h.addPeers(4);
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + INTERVAL);
    expect(h.indirect().length).toBe(3);
    expect(h.of(actors.LocalSuspect)).toHaveLength(0);
    expect(h.of(actors.HealthChanged)).toHaveLength(0);
  });

  it('no acks and nacks from every helper: ProbeFailed + LocalSuspect at the interval end, awareness +0', () => {
    const h = harness({}, nacksAndTcpError(3));
    h.addPeers(5);
    const t0 = h.firstProbe();
    const p = h.pings()[0]?.m;
    h.clock.advanceTo(t0 + INTERVAL - 1);
    expect(h.of(actors.LocalSuspect)).toHaveLength(0);
    h.clock.advanceTo(t0 + INTERVAL);
    const target = Number(p?.to.slice(1));
    expect(h.of(actors.ProbeFailed).map((e) => [e.at, e.m.node, e.m.incarnation, e.m.seqNo])).toEqual([
      [t0 + INTERVAL, p?.to, 10 + target, p?.seqNo],
    ]);
    expect(h.of(actors.LocalSuspect).map((e) => [e.at, e.m.node, e.m.incarnation])).toEqual([[t0 + INTERVAL, p?.to, 10 + target]]);
    expect(h.of(actors.HealthChanged)).toHaveLength(0);
    expect(h.probe.probesFailed).toBe(1);
  });

  it('no acks and missing nacks: awareness rises by the number missing', () => {
    const h = harness({}, nacksAndTcpError(1));
    h.addPeers(5);
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + INTERVAL);
    expect(h.of(actors.LocalSuspect)).toHaveLength(1);
    expect(h.of(actors.HealthChanged).map((e) => e.m.score)).toEqual([2]);
    expect(h.probe.healthScore).toBe(2);
  });

  it('no acks and no helper at all: awareness +1', () => {
    const h = harness({}, nacksAndTcpError(0));
    h.addPeers(1);
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + INTERVAL);
    expect(h.indirect()).toHaveLength(0);
    expect(h.of(actors.LocalSuspect)).toHaveLength(1);
    expect(h.of(actors.HealthChanged).map((e) => e.m.score)).toEqual([1]);
  });

  it('a TCP fallback ack means no suspicion (and counts as success)', () => {
    const tcpOk: Responder = (m, h) => {
      if (!(m instanceof actors.StreamRequest)) return;
      h.later(20, actors.StreamResult.create({ requestId: m.requestId, requester: 'probe', response: { ack: { seqNo: m.request?.ping?.seqNo } } }));
    };
    const h = harness({}, tcpOk);
    h.addPeers(4);
    h.send(actors.AwarenessDelta.create({ delta: 1 }));
    const t0 = h.firstProbe();
    // Score 1: the interval (and with it the UDP wait) is stretched to 2 s.
    h.clock.advanceTo(t0 + 2 * INTERVAL - 1);
    expect(h.probe.tcpFallbackSuccesses).toBe(0);
    h.clock.advanceTo(t0 + 2 * INTERVAL);
    expect(h.streams()).toHaveLength(1);
    expect(h.of(actors.LocalSuspect)).toHaveLength(0);
    expect(h.of(actors.ProbeFailed)).toHaveLength(0);
    expect(h.probe.tcpFallbackSuccesses).toBe(1);
    // −1 at the end of the interval: the UDP wait runs its course before TCP is consulted.
    expect(h.of(actors.HealthChanged).map((e) => [e.at, e.m.score])).toEqual([
      [0, 1],
      [t0 + 2 * INTERVAL, 0],
    ]);
  });

  it('waits for a TCP result that arrives at the very deadline', () => {
    const atDeadline: Responder = (m, h) => {
      if (!(m instanceof actors.StreamRequest)) return;
      h.later(m.timeoutMs, actors.StreamResult.create({ requestId: m.requestId, requester: 'probe', response: { ack: { seqNo: m.request?.ping?.seqNo } } }));
    };
    const h = harness({ indirectChecks: 0 }, atDeadline);
    h.addPeers(1);
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + INTERVAL);
    expect(h.probe.tcpFallbackSuccesses).toBe(1);
    expect(h.of(actors.LocalSuspect)).toHaveLength(0);
  });

  it('suspects after a grace of probeTimeoutMs when the TCP result never comes', () => {
    const h = harness({ indirectChecks: 0 });
    h.addPeers(1);
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + INTERVAL + TIMEOUT - 1);
    expect(h.of(actors.LocalSuspect)).toHaveLength(0);
    h.clock.advanceTo(t0 + INTERVAL + TIMEOUT);
    expect(h.of(actors.LocalSuspect).map((e) => e.at)).toEqual([t0 + INTERVAL + TIMEOUT]);
    // The tick that fell due at t0 + INTERVAL runs right after the verdict.
    expect(h.pings().map((p) => p.at)).toEqual([t0, t0 + INTERVAL + TIMEOUT]);
  });

  it('StreamResults for other requesters are ignored', () => {
    const other: Responder = (m, h) => {
      if (!(m instanceof actors.StreamRequest)) return;
      h.later(10, actors.StreamResult.create({ requestId: m.requestId, requester: 'push-pull', response: { ack: { seqNo: m.request?.ping?.seqNo } } }));
      h.later(20, actors.StreamResult.create({ requestId: m.requestId, requester: 'probe', error: 'timeout' }));
    };
    const h = harness({ indirectChecks: 0 }, other);
    h.addPeers(1);
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + INTERVAL);
    expect(h.of(actors.LocalSuspect)).toHaveLength(1);
  });

  it('disableTcpPings sends no StreamRequest', () => {
    const h = harness({ disableTcpPings: true }, nacksAndTcpError(3));
    h.addPeers(4);
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + INTERVAL);
    expect(h.streams()).toHaveLength(0);
    expect(h.of(actors.LocalSuspect)).toHaveLength(1);
  });
});

describe('ProbeActor: timing and awareness', () => {
  it('the probe interval is scaled by awareness and probes never overlap', () => {
    const h = harness({}, nacksAndTcpError(3)); // all nacks: delta 0, the score stays at 2
    h.addPeers(5);
    h.send(actors.AwarenessDelta.create({ delta: 2 }));
    const t0 = h.firstProbe();
    const scaled = 3 * INTERVAL;
    h.clock.advanceTo(t0 + scaled - 1);
    expect(h.of(actors.LocalSuspect)).toHaveLength(0);
    expect(h.pings()).toHaveLength(1); // ticks at +1 s and +2 s wait for this probe
    expect(h.streams()[0]?.m.timeoutMs).toBe(scaled - TIMEOUT);
    h.clock.advanceTo(t0 + scaled);
    expect(h.of(actors.LocalSuspect).map((e) => e.at)).toEqual([t0 + scaled]);
    // The pending tick runs as soon as the probe ends (one, not two).
    expect(h.pings().map((p) => p.at)).toEqual([t0, t0 + scaled]);
    expect(h.probe.degradedProbes).toBe(2);
    expect(h.probe.healthScore).toBe(2);
  });

  it('successful probes run once per probe interval, whatever the score', () => {
    const h = harness({}, ackDirect(10));
    h.addPeers(5);
    h.send(actors.AwarenessDelta.create({ delta: 7 }));
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + 3 * INTERVAL);
    expect(h.pings().map((p) => p.at)).toEqual([t0, t0 + INTERVAL, t0 + 2 * INTERVAL, t0 + 3 * INTERVAL]);
  });

  it('probeIntervalMs 0 disables probing', () => {
    const h = harness({ probeIntervalMs: 0 }, ackDirect(10));
    h.addPeers(3);
    h.clock.advance(10 * INTERVAL);
    expect(h.net).toHaveLength(0);
  });
});

describe('ProbeActor: round robin', () => {
  it('visits every member once per pass and emits ProbeListWrapped at each wrap-around', () => {
    const h = harness({}, ackDirect(5));
    const names = h.addPeers(5);
    const t0 = h.firstProbe();
    h.clock.advanceTo(t0 + 4 * INTERVAL + 100);
    const pass1 = h.pings().map((p) => p.m.to);
    expect([...pass1].sort()).toEqual(names);
    expect(h.of(actors.ProbeListWrapped)).toHaveLength(0);
    h.clock.advanceTo(t0 + 5 * INTERVAL);
    expect(h.of(actors.ProbeListWrapped).map((e) => [e.at, e.m.pass])).toEqual([[t0 + 5 * INTERVAL, 1]]);
    h.clock.advanceTo(t0 + 9 * INTERVAL + 100);
    const pass2 = h.pings().slice(5).map((p) => p.m.to);
    expect([...pass2].sort()).toEqual(names);
    h.clock.advanceTo(t0 + 10 * INTERVAL);
    expect(h.of(actors.ProbeListWrapped).map((e) => e.m.pass)).toEqual([1, 2]);
  });

  it('a removed member is no longer probed', () => {
    const h = harness({}, ackDirect(5));
    h.addPeers(3);
    h.send(actors.MemberRemoved.create({ name: 'n2', numMembers: 3 }));
    h.firstProbe();
    h.clock.advance(6 * INTERVAL);
    const targets = h.pings().map((p) => p.m.to);
    expect(targets.length).toBeGreaterThanOrEqual(6);
    expect(targets).not.toContain('n2');
  });

  it('a cluster of one probes nobody', () => {
    const h = harness({}, ackDirect(5));
    h.addPeers(0);
    h.clock.advance(10 * INTERVAL);
    expect(h.net).toHaveLength(0);
    expect(h.events).toHaveLength(0);
  });
});

describe('ProbeActor: answering and relaying', () => {
  const requester = { ipv4: ipv4ToInt('10.0.0.9'), port: 8000 };

  function indirectRequest(nack: boolean, withSource = true): actors.IndirectPingReceived {
    return actors.IndirectPingReceived.create({
      request: {
        seqNo: 77,
        targetIpv4: ipv4ToInt('10.0.1.2'),
        targetPort: 7946,
        node: 'n2',
        nack,
        ...(withSource ? { sourceIpv4: requester.ipv4, sourcePort: requester.port } : {}),
        sourceNode: 'req',
      },
      from: { host: '10.0.0.99', port: 9000 },
    });
  }

  it('answers a ping addressed to us with an ack to its source address', () => {
    const h = harness({ probeIntervalMs: 0 });
    h.send(
      actors.PingReceived.create({
        ping: { seqNo: 5, node: SELF, sourceIpv4: requester.ipv4, sourcePort: requester.port, sourceNode: 'req' },
        from: { host: '10.0.0.99', port: 9000 },
      }),
    );
    expect(h.net.map((e) => e.m)).toEqual([
      expect.objectContaining({ to: { host: '10.0.0.9', port: 8000 }, toNode: 'req', messages: [{ ack: { seqNo: 5, membersDigest: expect.any(Number), payload: new Uint8Array(0) } }] }),
    ]);
    h.send(actors.PingReceived.create({ ping: { seqNo: 6, node: 'someone-else' }, from: { host: '10.0.0.99', port: 9000 } }));
    expect(h.net).toHaveLength(1);
    expect(h.probe.wrongNodePings).toBe(1);
  });

  it('as intermediary, pings the target with a new seq and relays its ack with the requester’s seq', () => {
    const h = harness({ probeIntervalMs: 0 });
    h.send(indirectRequest(true));
    expect(h.net).toHaveLength(1);
    const out = h.net[0]?.m as actors.OutboundPacket;
    expect(out).toBeInstanceOf(actors.OutboundPacket);
    expect(out).toMatchObject({ to: { host: '10.0.1.2', port: 7946 }, toNode: 'n2', messages: [{ ping: { node: 'n2', sourceNode: SELF } }] });
    const localSeq = out.messages[0]?.ping?.seqNo ?? 0;
    expect(localSeq).not.toBe(0);
    h.clock.advance(50);
    h.send(actors.AckReceived.create({ ack: { seqNo: localSeq }, from: { host: '10.0.1.2', port: 7946 }, receivedAtMs: 50 }));
    expect(h.net).toHaveLength(2);
    expect(h.net[1]?.m).toMatchObject({ to: { host: '10.0.0.9', port: 8000 }, toNode: 'req', messages: [{ ack: { seqNo: 77 } }] });
    h.clock.advance(10 * TIMEOUT);
    expect(h.net).toHaveLength(2); // no nack after an ack
    expect(h.probe.relayedAcks).toBe(1);
  });

  it('as intermediary, sends a nack at probeTimeoutMs when the target stays silent, and ignores a later ack', () => {
    const h = harness({ probeIntervalMs: 0 });
    h.send(indirectRequest(true, false));
    const localSeq = (h.net[0]?.m as actors.OutboundPacket).messages[0]?.ping?.seqNo ?? 0;
    h.clock.advance(TIMEOUT - 1);
    expect(h.net).toHaveLength(1);
    h.clock.advance(1);
    expect(h.net).toHaveLength(2);
    // No source address in the request: the nack goes to the packet's sender.
    expect(h.net[1]).toMatchObject({ at: TIMEOUT, m: { to: { host: '10.0.0.99', port: 9000 }, messages: [{ nack: { seqNo: 77 } }] } });
    h.send(actors.AckReceived.create({ ack: { seqNo: localSeq }, from: { host: '10.0.1.2', port: 7946 } }));
    expect(h.net).toHaveLength(2);
  });

  it('as intermediary, sends no nack when none was asked for', () => {
    const h = harness({ probeIntervalMs: 0 });
    h.send(indirectRequest(false));
    h.clock.advance(10 * TIMEOUT);
    expect(h.net).toHaveLength(1);
    expect(h.probe.relayedNacks).toBe(0);
  });
});

describe('ProbeList', () => {
  it('a member removed and re-added before the wrap-around keeps a single slot', () => {
    const wraps: number[] = [];
    const list = new ProbeList(new SeededRandom(3), (pass) => wraps.push(pass));
    for (const n of ['a', 'b', 'c']) list.add(n);
    list.remove('b');
    list.add('b');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(list.next(() => true) as string);
    expect([...seen.slice(0, 3)].sort()).toEqual(['a', 'b', 'c']);
    expect([...seen.slice(3)].sort()).toEqual(['a', 'b', 'c']);
    expect(wraps).toEqual([1]);
    expect(list.size).toBe(3);
  });

  it('an empty list neither probes nor wraps; an all-ineligible list wraps at most once per call', () => {
    const wraps: number[] = [];
    const list = new ProbeList(new SeededRandom(3), (pass) => wraps.push(pass));
    expect(list.next(() => true)).toBeUndefined();
    expect(wraps).toEqual([]);
    list.add('a');
    list.add('b');
    expect(list.next(() => false)).toBeUndefined();
    expect(wraps).toEqual([1]);
  });

  it('samples k distinct members without the excluded one or removed ones', () => {
    const list = new ProbeList(new SeededRandom(5), () => {});
    for (let i = 0; i < 10; i++) list.add(`m${i}`);
    list.remove('m3');
    list.remove('m3');
    expect(list.size).toBe(9);
    const random = new SeededRandom(9);
    for (let round = 0; round < 200; round++) {
      for (const k of [1, 3, 5, 8, 20]) {
        const got = list.sample(k, 'm0', () => true, 8, random);
        expect(got).toHaveLength(Math.min(k, 8));
        expect(new Set(got).size).toBe(got.length);
        expect(got).not.toContain('m0');
        expect(got).not.toContain('m3');
      }
    }
    expect(list.sample(0, undefined, () => true, 9, random)).toEqual([]);
    expect(new ProbeList(new SeededRandom(5), () => {}).sample(3, undefined, () => true, 0, random)).toEqual([]);
  });
});
