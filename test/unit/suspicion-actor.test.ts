import { describe, expect, it } from 'vitest';
import { SuspicionActor } from '../../src/actors/suspicion/suspicion-actor.js';
import { actors, wire } from '../../src/gen/index.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

interface Seen {
  at: number;
  m: object;
}

function harness() {
  const clock = new VirtualClock();
  const sup = new Supervisor({ nodeName: 'self', clock, random: new SeededRandom(1), logger: silentLogger() });
  const suspicion = new SuspicionActor();
  const seen: Seen[] = [];
  const sink: Actor = {
    name: 'sink',
    accepts: [actors.SuspicionExpired, actors.QueueBroadcast],
    receive(m) {
      seen.push({ at: clock.now(), m });
    },
  };
  sup.spawn(suspicion);
  sup.spawn(sink);
  sup.start();
  clock.runDue();
  const send = (m: object): void => {
    sup.send(m);
    clock.runDue();
  };
  const expiries = (): { at: number; m: actors.SuspicionExpired }[] =>
    seen.flatMap((s) => (s.m instanceof actors.SuspicionExpired ? [{ at: s.at, m: s.m }] : []));
  const broadcasts = (): actors.QueueBroadcast[] => seen.flatMap((s) => (s.m instanceof actors.QueueBroadcast ? [s.m] : []));
  return { clock, sup, suspicion, send, expiries, broadcasts };
}

function start(node: string, opts: { k?: number; minMs?: number; maxMs?: number; stateChangeMs?: number; incarnation?: number; from?: string } = {}) {
  const incarnation = opts.incarnation ?? 3;
  const from = opts.from ?? 'accuser';
  return actors.StartSuspicion.create({
    node,
    incarnation,
    from,
    k: opts.k ?? 3,
    minMs: opts.minMs ?? 500,
    maxMs: opts.maxMs ?? 2_000,
    stateChangeMs: opts.stateChangeMs ?? 0,
    suspect: { incarnation, node, from },
  });
}

function confirm(node: string, from: string, incarnation = 3) {
  return actors.ConfirmSuspicion.create({ node, from, suspect: { incarnation, node, from } });
}

function changed(name: string, state: wire.MemberState, stateChangeMs: number, incarnation = 3) {
  return actors.MemberChanged.create({
    member: { name, addr: { host: '10.0.0.2', port: 7946 }, incarnation, state, stateChangeMs },
    numMembers: 5,
  });
}

describe('SuspicionActor', () => {
  it('expires at max with no confirmations and counts a degraded timeout', () => {
    const h = harness();
    h.send(start('b', { stateChangeMs: 0, incarnation: 7 }));
    h.clock.advanceTo(1_999);
    expect(h.expiries()).toHaveLength(0);
    h.clock.advanceTo(2_000);
    expect(h.expiries()).toEqual([
      { at: 2_000, m: expect.objectContaining({ node: 'b', incarnation: 7, stateChangeMs: 0, confirmations: 0 }) },
    ]);
    expect(h.suspicion.degradedTimeouts).toBe(1);
    expect(h.suspicion.active).toBe(0);
    h.clock.advance(10_000);
    expect(h.expiries()).toHaveLength(1);
  });

  it('shrinks the timer on a new confirmation and re-gossips only new confirmations', () => {
    const h = harness();
    h.send(start('b'));
    h.clock.advanceTo(100);
    h.send(confirm('b', 'c'));
    expect(h.broadcasts()).toHaveLength(1);
    expect(h.broadcasts()[0]).toMatchObject({ key: 'b', message: { suspect: { node: 'b', from: 'c', incarnation: 3 } } });
    h.send(confirm('b', 'c')); // duplicate
    h.send(confirm('b', 'accuser')); // the accuser cannot confirm
    expect(h.broadcasts()).toHaveLength(1);
    h.clock.advanceTo(1_249);
    expect(h.expiries()).toHaveLength(0);
    h.clock.advanceTo(1_250); // 1 confirmation: 1250 ms after the start
    expect(h.expiries().map((e) => [e.at, e.m.confirmations])).toEqual([[1_250, 1]]);
    expect(h.suspicion.degradedTimeouts).toBe(1);
  });

  it('k confirmations bring it to min; one arriving after that deadline fires at once', () => {
    const h = harness();
    h.send(start('b'));
    h.send(confirm('b', 'c'));
    h.send(confirm('b', 'd'));
    h.clock.advanceTo(700); // past min (500) but before the 2-confirmation deadline (811)
    expect(h.expiries()).toHaveLength(0);
    h.send(confirm('b', 'e'));
    expect(h.expiries().map((e) => [e.at, e.m.confirmations])).toEqual([[700, 3]]);
    expect(h.broadcasts()).toHaveLength(3);
    expect(h.suspicion.degradedTimeouts).toBe(0);
    h.send(confirm('b', 'f')); // no suspicion any more: nothing
    expect(h.broadcasts()).toHaveLength(3);
  });

  it('two confirmations at the start fire at 811 ms', () => {
    const h = harness();
    h.send(start('b'));
    h.send(confirm('b', 'c'));
    h.send(confirm('b', 'd'));
    h.clock.advanceTo(810);
    expect(h.expiries()).toHaveLength(0);
    h.clock.advanceTo(811);
    expect(h.expiries().map((e) => e.at)).toEqual([811]);
  });

  it('k = 0 runs for min and ignores confirmations', () => {
    const h = harness();
    h.send(start('b', { k: 0, minMs: 4_000, maxMs: 24_000 }));
    h.send(confirm('b', 'c'));
    expect(h.broadcasts()).toHaveLength(0);
    h.clock.advanceTo(4_000);
    expect(h.expiries().map((e) => e.at)).toEqual([4_000]);
    expect(h.suspicion.degradedTimeouts).toBe(0);
  });

  it('is cancelled when MemberChanged shows a refutation', () => {
    const h = harness();
    h.clock.advanceTo(50);
    h.send(start('b', { stateChangeMs: 50 }));
    h.send(changed('b', wire.MemberState.SUSPECT, 50)); // the suspicion itself: keep it
    expect(h.suspicion.active).toBe(1);
    h.clock.advanceTo(300);
    h.send(changed('b', wire.MemberState.ALIVE, 300, 4)); // refuted
    expect(h.suspicion.active).toBe(0);
    expect(h.suspicion.cancelled).toBe(1);
    h.clock.advance(10_000);
    expect(h.expiries()).toHaveLength(0);
    h.send(confirm('b', 'c'));
    expect(h.broadcasts()).toHaveLength(0);
  });

  it('is cancelled when the member is dead, re-suspected at a new state change, or removed', () => {
    const h = harness();
    h.send(start('b', { stateChangeMs: 0 }));
    h.send(start('c', { stateChangeMs: 0 }));
    h.send(start('d', { stateChangeMs: 0 }));
    h.clock.advanceTo(100);
    h.send(changed('b', wire.MemberState.DEAD, 100));
    h.send(changed('c', wire.MemberState.SUSPECT, 100, 4));
    h.send(actors.MemberRemoved.create({ name: 'd', numMembers: 3 }));
    expect(h.suspicion.active).toBe(0);
    h.clock.advance(10_000);
    expect(h.expiries()).toHaveLength(0);
  });

  it('a new StartSuspicion for the same node replaces the old timer', () => {
    const h = harness();
    h.send(start('b', { stateChangeMs: 0, incarnation: 3 }));
    h.clock.advanceTo(1_000);
    h.send(start('b', { stateChangeMs: 1_000, incarnation: 4 }));
    h.clock.advanceTo(2_500);
    expect(h.expiries()).toHaveLength(0); // the first one (due at 2000) is gone
    h.clock.advanceTo(3_000);
    expect(h.expiries().map((e) => [e.at, e.m.incarnation, e.m.stateChangeMs])).toEqual([[3_000, 4, 1_000]]);
    expect(h.suspicion.cancelled).toBe(0);
  });

  it('keeps independent timers per node', () => {
    const h = harness();
    h.send(start('b'));
    h.clock.advanceTo(500);
    h.send(start('c', { k: 0, minMs: 300, stateChangeMs: 500 }));
    h.clock.advanceTo(3_000);
    expect(h.expiries().map((e) => [e.m.node, e.at])).toEqual([
      ['c', 800],
      ['b', 2_000],
    ]);
  });
});
