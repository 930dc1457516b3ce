// A stalled event loop fires overdue protocol timers before it reads the sockets: the probe and
// suspicion actors must not take a verdict then (they defer it by one loop turn). And the loop
// monitor turns a stall into Lifeguard awareness. A clock whose now() jumps ahead while timers still
// fire in their order models the stall deterministically.
import { describe, expect, it } from 'vitest';
import { ProbeActor } from '../../src/actors/probe/probe-actor.js';
import { SuspicionActor } from '../../src/actors/suspicion/suspicion-actor.js';
import { LoopMonitorActor } from '../../src/actors/loop-monitor/loop-monitor-actor.js';
import { SharedDelaySampler, type DelayHistogram } from '../../src/actors/loop-monitor/shared-delay-sampler.js';
import type { Clock, TimerHandle } from '../../src/clock.js';
import { actors, wire } from '../../src/gen/index.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor } from '../../src/runtime/actor.js';
import { Supervisor } from '../../src/runtime/supervisor.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/** A virtual clock whose readings run `lagMs` ahead of its timers: every timer fires that late. */
class StalledClock implements Clock {
  lagMs = 0;
  constructor(readonly inner: VirtualClock) {}
  now(): number {
    return this.inner.now() + this.lagMs;
  }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    return this.inner.setTimer(delayMs, fn);
  }
  defer(fn: () => void): void {
    this.inner.defer(fn);
  }
  microtask(fn: () => void): void {
    this.inner.microtask(fn);
  }
}

const INTERVAL = 1000;
const TIMEOUT = 200;

function setup(actor: Actor): { clock: StalledClock; v: VirtualClock; sup: Supervisor; seen: object[]; net: { at: number; m: actors.OutboundPacket }[] } {
  const v = new VirtualClock();
  const clock = new StalledClock(v);
  const sup = new Supervisor({ nodeName: 'self', clock, random: new SeededRandom(7), logger: silentLogger() });
  const seen: object[] = [];
  const net: { at: number; m: actors.OutboundPacket }[] = [];
  sup.spawn(actor);
  sup.spawn({
    name: 'sink',
    accepts: [actors.ProbeFailed, actors.LocalSuspect, actors.HealthChanged, actors.SuspicionExpired, actors.AwarenessDelta, actors.LoopStall],
    receive: (m) => void seen.push(m),
  });
  sup.spawn({ name: 'net', accepts: [actors.OutboundPacket, actors.StreamRequest], receive: (m) => void (m instanceof actors.OutboundPacket && net.push({ at: v.now(), m })) });
  sup.start();
  return { clock, v, sup, seen, net };
}

function probeScenario(stalled: boolean): { probe: ProbeActor; seen: object[] } {
  const probe = new ProbeActor({ name: 'self', host: '10.0.0.1', port: 7946, probeIntervalMs: INTERVAL, probeTimeoutMs: TIMEOUT, indirectChecks: 0, disableTcpPings: true });
  const { clock, v, sup, seen, net } = setup(probe);
  sup.send(actors.MemberChanged.create({ member: { name: 'self', addr: { host: '10.0.0.1', port: 7946 }, incarnation: 1, state: wire.MemberState.ALIVE }, local: true }));
  sup.send(actors.MemberChanged.create({ member: { name: 'peer', addr: { host: '10.0.0.2', port: 7946 }, incarnation: 1, state: wire.MemberState.ALIVE, protocolMax: 5 } }));
  v.runUntil(() => net.length > 0, INTERVAL * 2, 1);
  const sent = net[0];
  const ping = sent?.m.messages[0]?.ping;
  expect(ping).toBeTruthy();
  // The peer's ack reaches the socket during the stall; it is read only when the loop polls, after
  // the overdue timers of this turn (its timer is set after the probe's own, so it runs after them).
  v.setTimer((sent?.at ?? 0) + INTERVAL - v.now(), () => sup.send(actors.AckReceived.create({ ack: { seqNo: ping?.seqNo }, from: { host: '10.0.0.2', port: 7946 } })));
  if (stalled) clock.lagMs = 3000;
  v.advance(INTERVAL);
  return { probe, seen };
}

describe('late timers after an event-loop stall', () => {
  it('a probe whose deadlines fired late is judged after the ack that waited in the socket', () => {
    const { probe, seen } = probeScenario(true);
    expect(seen.filter((m) => m instanceof actors.ProbeFailed || m instanceof actors.LocalSuspect)).toEqual([]);
    expect(probe.lateProbeTimeouts).toBe(2); // the direct-ack timeout and the interval end
    expect(probe.probesFailed).toBe(0);
    // The stall was longer than a probe timeout: our own health score went up (Lifeguard).
    expect(probe.healthScore).toBeGreaterThan(0);
  });

  it('without the stall the same late ack fails the probe (the scenario can fail)', () => {
    const { probe, seen } = probeScenario(false);
    expect(seen.some((m) => m instanceof actors.LocalSuspect)).toBe(true);
    expect(probe.lateProbeTimeouts).toBe(0);
  });

  function suspicionScenario(stalled: boolean): { suspicion: SuspicionActor; seen: object[] } {
    const suspicion = new SuspicionActor();
    const { clock, v, sup, seen } = setup(suspicion);
    sup.send(actors.StartSuspicion.create({ node: 'peer', incarnation: 1, from: 'self', k: 0, minMs: 5000, maxMs: 5000, stateChangeMs: 1 }));
    v.runDue();
    // The refutation arrives during the stall, due to be read after the overdue expiry.
    v.setTimer(5000, () =>
      sup.send(actors.MemberChanged.create({ member: { name: 'peer', addr: { host: '10.0.0.2', port: 7946 }, incarnation: 2, state: wire.MemberState.ALIVE, stateChangeMs: 2 } })),
    );
    if (stalled) clock.lagMs = 2000;
    v.advance(5000);
    return { suspicion, seen };
  }

  it('a suspicion that expired late is cancelled by the refutation read in the same turn', () => {
    const { suspicion, seen } = suspicionScenario(true);
    expect(seen.filter((m) => m instanceof actors.SuspicionExpired)).toEqual([]);
    expect(suspicion.lateExpiries).toBe(1);
    expect(suspicion.cancelled).toBe(1);
  });

  it('an on-time expiry is not deferred (the scenario can fail)', () => {
    const { suspicion, seen } = suspicionScenario(false);
    expect(seen.filter((m) => m instanceof actors.SuspicionExpired)).toHaveLength(1);
    expect(suspicion.lateExpiries).toBe(0);
  });
});

describe('loop monitor', () => {
  it('turns a stall of at least a probe timeout into awareness, one step per probe interval stalled', () => {
    const monitor = new LoopMonitorActor({ intervalMs: INTERVAL, stallMs: TIMEOUT, maxDelta: 7 });
    const { v, seen } = setup(monitor);
    monitor.check(TIMEOUT - 1);
    monitor.check(2500);
    monitor.check(60_000);
    v.runDue();
    const deltas = seen.filter((m): m is actors.AwarenessDelta => m instanceof actors.AwarenessDelta).map((m) => m.delta);
    expect(deltas).toEqual([2, 7]);
    expect(monitor.stalls).toBe(2);
    expect(monitor.maxDelayMs).toBe(60_000);
    expect(seen.filter((m) => m instanceof actors.LoopStall)).toHaveLength(2);
  });

  it('checks on multiples of the interval, so every node on a thread checks in one wake-up', () => {
    const checkedAt = (startMs: number): number[] => {
      const at: number[] = [];
      let v: VirtualClock | undefined;
      const monitor = new LoopMonitorActor({
        intervalMs: INTERVAL,
        stallMs: TIMEOUT,
        maxDelta: 7,
        sampler: new SharedDelaySampler(() => ({ count: 0, max: 0, enable: () => true, disable: () => true, reset: () => {} })),
        busyMs: () => {
          at.push(v?.now() ?? -1);
          return 0;
        },
      });
      const clock = new VirtualClock();
      v = clock;
      clock.advance(startMs);
      const sup = new Supervisor({ nodeName: 'self', clock, random: new SeededRandom(7), logger: silentLogger() });
      sup.spawn(monitor);
      sup.start();
      clock.advance(3 * INTERVAL);
      return at;
    };
    // The first call is the start; then the checks, on every grid point from the next one on, however
    // close (a block right after start must cover a check's due time).
    expect(checkedAt(300)).toEqual([300, 1000, 2000, 3000]);
    expect(checkedAt(700)).toEqual([700, 1000, 2000, 3000]);
    expect(checkedAt(999.5)).toEqual([999.5, 1000, 2000, 3000]);
  });

  it('a check that fired late does not skip the next grid point; one that fired early does not check again at once', () => {
    // A clock whose timers fire only when the test says the loop got to them: run(at) sets the time
    // and runs every timer due by then, late if `at` is past its due time (a block just ended).
    let t = 0;
    let timers: { due: number; fn: () => void }[] = [];
    const tasks: Array<() => void> = [];
    const flush = (): void => {
      while (tasks.length > 0) (tasks.shift() as () => void)();
    };
    const clock: Clock = {
      now: () => t,
      setTimer(delayMs: number, fn: () => void): TimerHandle {
        const timer = { due: t + delayMs, fn };
        timers.push(timer);
        return { cancel: () => void (timers = timers.filter((x) => x !== timer)) };
      },
      defer: (fn) => void tasks.push(fn),
      microtask: (fn) => void tasks.push(fn),
    };
    const run = (at: number): void => {
      t = at;
      for (;;) {
        const due = timers.filter((x) => x.due <= at).sort((a, b) => a.due - b.due)[0];
        if (due === undefined) break;
        timers = timers.filter((x) => x !== due);
        due.fn();
        flush();
      }
    };
    const monitor = new LoopMonitorActor({
      intervalMs: INTERVAL,
      stallMs: TIMEOUT,
      maxDelta: 7,
      sampler: new SharedDelaySampler(() => ({ count: 0, max: 0, enable: () => true, disable: () => true, reset: () => {} })),
      busyMs: () => 0,
    });
    const sup = new Supervisor({ nodeName: 'self', clock, random: new SeededRandom(7), logger: silentLogger() });
    sup.spawn(monitor);
    t = 700;
    sup.start();
    flush();
    const pending = (): number[] => timers.map((x) => x.due);
    expect(pending()).toEqual([1000]); // the next grid point, however close
    // A 600 ms block ends at 1600: the check due at 1000 reads it, and the next is still 2000.
    run(1600);
    expect(monitor.maxDelayMs).toBe(600);
    expect(monitor.stalls).toBe(1);
    expect(pending()).toEqual([2000]);
    // A block from 1950 to 3450 (1.5 intervals): the check due at 2000 reads 1,450 ms; 3000 is in the
    // past, so the next is 4000.
    run(3450);
    expect(monitor.maxDelayMs).toBe(1450);
    expect(pending()).toEqual([4000]);
    // A timer that fires a hair early: no second check at once, the next grid point instead.
    run(3999.75);
    timers[0]?.fn(); // the runtime ran it 0.25 ms early
    timers.shift();
    flush();
    expect(pending()).toEqual([5000]);
    expect(monitor.stalls).toBe(2);
  });

  it("bounds the coarse histogram's reading by the loop's busy time: a shorter block on an idle loop is no stall", () => {
    // The histogram samples every TIMEOUT / 2 and reads a block as its length plus up to that much.
    let maxMs = 0;
    const histogram: DelayHistogram = {
      get count() {
        return maxMs > 0 ? 1 : 0;
      },
      get max() {
        return maxMs * 1e6;
      },
      enable: () => true,
      disable: () => true,
      reset: () => {
        maxMs = 0;
      },
    };
    let busyMs = 0;
    const monitor = new LoopMonitorActor({
      intervalMs: INTERVAL,
      stallMs: TIMEOUT,
      maxDelta: 7,
      sampler: new SharedDelaySampler(() => histogram),
      busyMs: () => busyMs,
    });
    const { v, seen } = setup(monitor);
    const interval = (histogramMs: number, busy: number): void => {
      maxMs = histogramMs;
      busyMs += busy;
      v.advance(INTERVAL);
    };
    interval(TIMEOUT + 50, 150); // a 150 ms block read as 250: the loop was busy 150 ms in all
    expect(monitor.stalls).toBe(0);
    expect(monitor.maxDelayMs).toBe(150);
    interval(TIMEOUT + 50, TIMEOUT + 60); // a real stall: both bounds reach the threshold
    expect(monitor.stalls).toBe(1);
    interval(TIMEOUT + 50, 5000); // a busy loop does not lower the histogram's reading
    expect(monitor.stalls).toBe(2);
    expect(monitor.maxDelayMs).toBe(TIMEOUT + 50);
    interval(0, 5000); // busy, but no block seen: no stall
    expect(monitor.stalls).toBe(2);
    expect(seen.filter((m) => m instanceof actors.LoopStall)).toHaveLength(2);
    // A block the histogram reports one check late (its sample and the check expired in one loop turn,
    // the check first): the interval it happened in was busy, the one that reads it idle. Still a stall.
    interval(0, 5000); // settles the two-interval window past the busy intervals above
    interval(0, 0);
    interval(0, 0);
    expect(monitor.stalls).toBe(2);
    interval(0, TIMEOUT * 3); // the block: not yet in the histogram
    interval(TIMEOUT * 3, 0); // read one check late
    expect(monitor.stalls).toBe(3);
  });
});
