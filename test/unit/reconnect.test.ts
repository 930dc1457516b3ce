import { describe, expect, it } from 'vitest';
import { ReconnectActor } from '../../src/actors/reconnect/reconnect-actor.js';
import {
  expired,
  firstDelayMs,
  reconnectCandidates,
  shouldAttempt,
  type DeadEntry,
  type SeedEntry,
} from '../../src/actors/reconnect/reconnect-schedule.js';
import { actors, wire } from '../../src/gen/index.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const DAY = 24 * 3600_000;

describe('reconnect schedule (pure)', () => {
  const dead = (name: string, host: string, diedAtMs: number): [string, DeadEntry] => [name, { name, host, port: 7946, diedAtMs }];

  it('lists dead members not given up and unreachable seeds, deduplicated by address, live addresses excluded', () => {
    const view = {
      dead: new Map([dead('b', '10.0.0.2', 0), dead('a', '10.0.0.1', 0), dead('c', '10.0.0.3', 0), dead('old', '10.0.0.9', -2 * DAY)]),
      seeds: new Map<string, SeedEntry>([
        ['10.0.0.1:7946', { host: '10.0.0.1', port: 7946, sinceMs: 0 }], // same address as dead a
        ['10.0.0.4:7946', { host: '10.0.0.4', port: 7946, sinceMs: 0 }], // held by a live member
        ['10.0.0.5:7946', { host: '10.0.0.5', port: 7946, sinceMs: 0 }],
      ]),
      liveAddresses: new Set(['10.0.0.3:7946', '10.0.0.4:7946']), // c restarted at its address under... alive
      numAlive: 3,
    };
    const got = reconnectCandidates(view, 1000, DAY).map((a) => a.host);
    expect(got).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.5']);
    // 0 = never give up.
    expect(reconnectCandidates(view, 1000, 0).map((a) => a.host)).toContain('10.0.0.9');
  });

  it('gives up after the timeout, throttles by failed / alive, staggers the first tick', () => {
    expect(expired(0, DAY, DAY)).toBe(false);
    expect(expired(0, DAY + 1, DAY)).toBe(true);
    expect(expired(0, 10 * DAY, 0)).toBe(false);
    expect(shouldAttempt(0, 10, 0)).toBe(false);
    expect(shouldAttempt(10, 10, 0.999)).toBe(true); // half the cluster gone: every interval
    expect(shouldAttempt(1, 49, 0.5)).toBe(false); // one failed among 49 alive: about 1/49
    expect(shouldAttempt(1, 49, 0.01)).toBe(true);
    expect(shouldAttempt(3, 0, 0.9)).toBe(true); // alone
    expect(firstDelayMs(30_000, 0)).toBe(1);
    expect(firstDelayMs(30_000, 0.5)).toBe(15_000);
  });
});

function member(name: string, host: string, state: wire.MemberState, stateChangeMs = 0): actors.Member {
  return actors.Member.create({ name, addr: { host, port: 7946 }, state, incarnation: 1, stateChangeMs });
}

function harness(options: { intervalMs?: number; timeoutMs?: number } = {}) {
  const clock = new VirtualClock();
  const sup = new Supervisor({ nodeName: 'self', clock, random: new SeededRandom(3), logger: silentLogger() });
  const reconnect = new ReconnectActor({
    reconnectIntervalMs: options.intervalMs ?? 30_000,
    reconnectTimeoutMs: options.timeoutMs ?? DAY,
    defaultPort: 7946,
  });
  const syncs: Array<{ at: number; host: string }> = [];
  const sink: Actor = {
    name: 'sink',
    accepts: [actors.DigestMismatch],
    receive(m) {
      if (m instanceof actors.DigestMismatch) syncs.push({ at: clock.now(), host: m.addr?.host ?? '' });
    },
  };
  sup.spawn(reconnect);
  sup.spawn(sink);
  sup.start();
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      clock.runDue();
      await new Promise<void>((r) => setImmediate(r));
    }
  };
  const send = async (m: object): Promise<void> => {
    sup.send(m);
    await flush();
  };
  const advance = async (ms: number): Promise<void> => {
    const end = clock.now() + ms;
    while (clock.now() < end) {
      const next = clock.nextDeadline();
      clock.advanceTo(next === undefined || next > end ? end : Math.max(next, clock.now()));
      await flush();
    }
  };
  const changed = (m: actors.Member, local = false): Promise<void> => send(actors.MemberChanged.create({ member: m, local }));
  return { clock, sup, reconnect, syncs, send, advance, changed };
}

describe('ReconnectActor', () => {
  it('retries a dead member past reaping until it comes back, then stops', async () => {
    const h = harness();
    await h.changed(member('self', '10.0.0.1', wire.MemberState.ALIVE), true);
    await h.changed(member('b', '10.0.0.2', wire.MemberState.ALIVE));
    await h.advance(60_000);
    expect(h.syncs).toEqual([]); // nobody dead: no traffic
    await h.changed(member('b', '10.0.0.2', wire.MemberState.DEAD, h.clock.now()));
    await h.send(actors.MemberRemoved.create({ name: 'b', numMembers: 1 })); // reaped: still remembered
    expect(h.reconnect.deadNames).toEqual(['b']);
    await h.advance(61_000);
    expect(h.syncs.length).toBe(2); // alone with one failed member: every interval
    expect(h.syncs.every((s) => s.host === '10.0.0.2')).toBe(true);
    await h.changed(member('b', '10.0.0.2', wire.MemberState.ALIVE));
    expect(h.reconnect.deadNames).toEqual([]);
    await h.advance(90_000);
    expect(h.syncs.length).toBe(2);
    expect(h.reconnect.counters.recovered).toBe(1);
    await h.sup.stop();
  });

  it('forgets a member that left, gives up after reconnectTimeoutMs', async () => {
    const h = harness({ intervalMs: 10_000, timeoutMs: 35_000 });
    await h.changed(member('self', '10.0.0.1', wire.MemberState.ALIVE), true);
    await h.changed(member('l', '10.0.0.3', wire.MemberState.LEFT, 0));
    await h.changed(member('d', '10.0.0.4', wire.MemberState.DEAD, 0));
    expect(h.reconnect.deadNames).toEqual(['d']);
    await h.advance(100_000);
    expect(h.syncs.length).toBeGreaterThanOrEqual(3);
    expect(h.syncs.every((s) => s.host === '10.0.0.4' && s.at <= 35_000 + 10_000)).toBe(true);
    expect(h.reconnect.deadNames).toEqual([]);
    expect(h.reconnect.counters.givenUp).toBe(1);
    await h.sup.stop();
  });

  it('remembers IP seeds from JoinRequest and retries them only while no live member holds the address', async () => {
    const h = harness({ intervalMs: 10_000 });
    await h.changed(member('self', '10.0.0.1', wire.MemberState.ALIVE), true);
    await h.send(actors.JoinRequest.create({ requestId: 1, seeds: ['10.0.0.7', '10.0.0.1:7946', 'seed.example:7946', 'bad:port:x'] }));
    expect(h.reconnect.seedAddresses).toEqual(['10.0.0.7:7946']);
    await h.changed(member('s', '10.0.0.7', wire.MemberState.ALIVE));
    await h.advance(30_000);
    expect(h.syncs).toEqual([]);
    await h.changed(member('s', '10.0.0.7', wire.MemberState.LEFT, h.clock.now()));
    await h.advance(30_000);
    expect(h.syncs.length).toBeGreaterThan(0);
    expect(h.syncs.every((s) => s.host === '10.0.0.7')).toBe(true);
    await h.sup.stop();
  });

  it('spawned late, it learns the table from a MembersSnapshot addressed to it', async () => {
    const h = harness({ intervalMs: 10_000 });
    await h.send(
      actors.MembersSnapshot.create({
        requester: 'someone-else',
        members: [member('x', '10.0.0.8', wire.MemberState.DEAD)],
      }),
    );
    expect(h.reconnect.deadNames).toEqual([]);
    await h.send(
      actors.MembersSnapshot.create({
        requester: 'reconnect',
        members: [member('self', '10.0.0.1', wire.MemberState.ALIVE), member('x', '10.0.0.8', wire.MemberState.DEAD)],
      }),
    );
    expect(h.reconnect.deadNames).toEqual(['x']);
    await h.sup.stop();
  });
});
