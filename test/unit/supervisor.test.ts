import { describe, expect, it } from 'vitest';
import type { Clock, TimerHandle } from '../../src/clock.js';
import { ActorError, InvalidArgumentError, MemberlistError } from '../../src/errors.js';
import { actors, wire } from '../../src/gen/index.js';
import { silentLogger } from '../../src/log.js';
import { SeededRandom } from '../../src/random.js';
import type { Actor, ActorContext, RestartPolicy } from '../../src/runtime/actor.js';
import type { MessageClass } from '../../src/runtime/message-type.js';
import { Supervisor, type SupervisorOptions } from '../../src/runtime/supervisor.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/** A VirtualClock that also counts how it is used: microtask vs defer, timers set and cancelled. */
class CountingClock implements Clock {
  readonly inner: VirtualClock;
  microtasks = 0;
  defers = 0;
  timersSet = 0;
  cancels = 0;
  constructor(inner = new VirtualClock()) {
    this.inner = inner;
  }
  now(): number {
    return this.inner.now();
  }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    this.timersSet++;
    const h = this.inner.setTimer(delayMs, fn);
    return {
      cancel: () => {
        this.cancels++;
        h.cancel();
      },
    };
  }
  defer(fn: () => void): void {
    this.defers++;
    this.inner.defer(fn);
  }
  microtask(fn: () => void): void {
    this.microtasks++;
    this.inner.microtask(fn);
  }
}

function makeSupervisor(
  clock: Clock = new VirtualClock(),
  extra: Partial<SupervisorOptions> = {},
): { sup: Supervisor; failures: ActorError[] } {
  const sup = new Supervisor({ nodeName: 'n1', clock, random: new SeededRandom(1), logger: silentLogger(), ...extra });
  const failures: ActorError[] = [];
  sup.onFailure((e) => failures.push(e));
  return { sup, failures };
}

interface Recorder {
  actor: Actor;
  got: object[];
  ctx(): ActorContext;
}

/** An actor that records what it receives (and its lifecycle calls into `events`, when given). */
function recorder(
  name: string,
  accepts: readonly MessageClass[],
  opts: {
    events?: string[];
    policy?: RestartPolicy;
    onReceive?: (m: object, ctx: ActorContext) => void;
    onStart?: (ctx: ActorContext) => void;
  } = {},
): Recorder {
  const got: object[] = [];
  let context: ActorContext | undefined;
  const actor: Actor = {
    name,
    accepts,
    ...(opts.policy === undefined ? {} : { restartPolicy: opts.policy }),
    start(ctx) {
      context = ctx;
      opts.events?.push(`start ${name}`);
      opts.onStart?.(ctx);
    },
    receive(m) {
      got.push(m);
      opts.onReceive?.(m, context as ActorContext);
    },
    stop() {
      opts.events?.push(`stop ${name}`);
    },
  };
  return {
    actor,
    got,
    ctx: () => {
      if (context === undefined) throw new Error(`${name} was not started`);
      return context;
    },
  };
}

const tick = (round: number): actors.ProbeTick => actors.ProbeTick.create({ round });
const rounds = (ms: object[]): number[] => ms.map((m) => (m as actors.ProbeTick).round);
const ping = (seqNo: number): actors.PingReceived =>
  actors.PingReceived.create({ ping: { seqNo, node: 'x' }, from: { host: '127.0.0.1', port: 1 }, receivedAtMs: 0 });

describe('Supervisor: routing', () => {
  it('delivers a message only to the actors that accept its class', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const probe = recorder('probe', [actors.ProbeTick]);
    const net = recorder('net', [actors.PingReceived]);
    const both = recorder('both', [actors.ProbeTick, actors.PingReceived]);
    for (const r of [probe, net, both]) sup.spawn(r.actor);
    sup.start();
    sup.send(tick(1));
    sup.send(ping(7));
    clock.runDue();
    expect(rounds(probe.got)).toEqual([1]);
    expect(net.got).toHaveLength(1);
    expect(net.got[0]).toBeInstanceOf(actors.PingReceived);
    expect(both.got.map((m) => m.constructor)).toEqual([actors.ProbeTick, actors.PingReceived]);
    // In-thread delivery passes the instance itself (no copy).
    expect(probe.got[0]).toBe(both.got[0]);
    expect(sup.undelivered).toBe(0);
  });

  it('ctx.send never delivers back to the sender', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick]);
    const b = recorder('b', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.spawn(b.actor);
    sup.start();
    a.ctx().send(tick(1));
    clock.runDue();
    expect(a.got).toEqual([]);
    expect(rounds(b.got)).toEqual([1]);
    expect(sup.undelivered).toBe(0);
  });

  it('counts as undelivered: a type nobody accepts, a non-protobuf object, and a send whose only acceptor is the sender', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.start();
    sup.send(wire.Ping.create({ seqNo: 1 }));
    expect(sup.undelivered).toBe(1);
    sup.send({ hello: 'world' });
    expect(sup.undelivered).toBe(2);
    a.ctx().send(tick(1));
    expect(sup.undelivered).toBe(3);
    clock.runDue();
    expect(a.got).toEqual([]);
  });

  it('sendExcept routes to every acceptor but the named one', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick]);
    const b = recorder('b', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.spawn(b.actor);
    sup.start();
    sup.sendExcept(tick(3), 'b');
    clock.runDue();
    expect(rounds(a.got)).toEqual([3]);
    expect(b.got).toEqual([]);
  });

  it('delivers each actor its messages in send order', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.start();
    for (let i = 0; i < 500; i++) sup.send(tick(i));
    clock.runDue();
    expect(rounds(a.got)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('delivers messages sent before start() once started (send and start in the same tick)', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.send(tick(1));
    sup.start();
    clock.runDue();
    expect(rounds(a.got)).toEqual([1]);
  });

  it('keeps messages sent before start() even when a drain runs before start()', () => {
    // The mailbox of a not-yet-started actor must hold its messages until start (#startCell readies a
    // non-empty mailbox for exactly this). A drain in between must not consume and discard them.
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.send(tick(1));
    clock.runDue(); // e.g. the event loop turned between sending and starting
    expect(a.got).toEqual([]);
    sup.start();
    clock.runDue();
    expect(rounds(a.got)).toEqual([1]);
    expect(sup.stats()[0]).toMatchObject({ received: 1, dropped: 0 });
  });
});

describe('Supervisor: lifecycle', () => {
  it('starts actors in spawn order and stops them in reverse order', async () => {
    const { sup } = makeSupervisor();
    const events: string[] = [];
    for (const name of ['a', 'b', 'c']) sup.spawn(recorder(name, [actors.ProbeTick], { events }).actor);
    expect(events).toEqual([]);
    sup.start();
    expect(events).toEqual(['start a', 'start b', 'start c']);
    expect(sup.running).toBe(true);
    await sup.stop();
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(sup.running).toBe(false);
    await sup.stop(); // idempotent
    expect(events).toHaveLength(6);
  });

  it('awaits each async stop() before stopping the previous actor', async () => {
    const { sup } = makeSupervisor();
    const events: string[] = [];
    const slow = (name: string): Actor => ({
      name,
      accepts: [actors.ProbeTick],
      receive() {},
      async stop() {
        events.push(`begin ${name}`);
        await Promise.resolve();
        await Promise.resolve();
        events.push(`end ${name}`);
      },
    });
    sup.spawn(slow('a'));
    sup.spawn(slow('b'));
    sup.start();
    await sup.stop();
    expect(events).toEqual(['begin b', 'end b', 'begin a', 'end a']);
  });

  it('delivers nothing after stop(), and spawn on a stopped supervisor throws ActorError', async () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.start();
    sup.send(tick(1));
    await sup.stop();
    clock.runDue();
    sup.send(tick(2));
    clock.runDue();
    expect(a.got).toEqual([]);
    expect(() => sup.spawn(recorder('late', [actors.ProbeTick]).actor)).toThrow(ActorError);
  });

  it('spawn on a running supervisor starts the actor at once; it receives, and its sends reach others', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const events: string[] = [];
    const base = recorder('base', [actors.PingCompleted], { events });
    sup.spawn(base.actor);
    sup.start();
    const custom = recorder('custom', [actors.ProbeTick], {
      events,
      onReceive: (m, ctx) =>
        ctx.send(actors.PingCompleted.create({ node: 'x', rttMs: 1, seqNo: (m as actors.ProbeTick).round })),
    });
    sup.spawn(custom.actor);
    expect(events).toEqual(['start base', 'start custom']);
    expect(sup.has('custom')).toBe(true);
    sup.send(tick(9));
    clock.runDue();
    expect(rounds(custom.got)).toEqual([9]);
    expect(base.got.map((m) => (m as actors.PingCompleted).seqNo)).toEqual([9]);
    expect(sup.acceptedTypes()).toEqual(expect.arrayContaining([actors.ProbeTick, actors.PingCompleted]));
  });

  it('rejects a duplicate actor name with ActorError (code ERR_ACTOR, .actor set)', () => {
    const { sup } = makeSupervisor();
    sup.spawn(recorder('dup', [actors.ProbeTick]).actor);
    let caught: unknown;
    try {
      sup.spawn(recorder('dup', [actors.PingReceived]).actor);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ActorError);
    expect(caught).toBeInstanceOf(MemberlistError);
    expect((caught as ActorError).code).toBe('ERR_ACTOR');
    expect((caught as ActorError).actor).toBe('dup');
    // The rejected actor did not register a route.
    expect(sup.acceptedTypes()).toEqual([actors.ProbeTick]);
  });

  it('rejects invalid accepts (not an array, or not generated message classes) with ActorError', () => {
    const { sup } = makeSupervisor();
    const bad = (name: string, accepts: unknown): Actor => ({ name, accepts: accepts as MessageClass[], receive() {} });
    expect(() => sup.spawn(bad('a', undefined))).toThrow(ActorError);
    expect(() => sup.spawn(bad('b', actors.ProbeTick))).toThrow(ActorError);
    expect(() => sup.spawn(bad('c', [{}]))).toThrow(ActorError);
    expect(() => sup.spawn(bad('d', [Object]))).toThrow(ActorError);
    expect(() => sup.spawn(bad('e', [null]))).toThrow(ActorError);
    expect(() => sup.spawn(bad('f', ['memberlist.actors.ProbeTick']))).toThrow(ActorError);
    // None of them was added.
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) expect(sup.has(n)).toBe(false);
    expect(sup.stats()).toEqual([]);
  });

  it('rejects an empty or missing actor name with InvalidArgumentError', () => {
    const { sup } = makeSupervisor();
    expect(() => sup.spawn({ name: '', accepts: [actors.ProbeTick], receive() {} })).toThrow(InvalidArgumentError);
    expect(() => sup.spawn({ accepts: [actors.ProbeTick], receive() {} } as unknown as Actor)).toThrow(
      InvalidArgumentError,
    );
  });

  it('gives each actor a context with its name, the node name, clock, random and logger', () => {
    const clock = new VirtualClock();
    const random = new SeededRandom(3);
    const sup = new Supervisor({ nodeName: 'node-x', clock, random, logger: silentLogger() });
    const a = recorder('a', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.start();
    const ctx = a.ctx();
    expect(ctx.self).toBe('a');
    expect(ctx.nodeName).toBe('node-x');
    expect(ctx.clock).toBe(clock);
    expect(ctx.random).toBe(random);
    expect(typeof ctx.logger.info).toBe('function');
  });
});

describe('Supervisor: timers (ctx.schedule)', () => {
  it('delivers the message to self after the delay on virtual time', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const times: number[] = [];
    const a = recorder('a', [actors.ProbeTick], { onReceive: () => times.push(clock.now()) });
    const other = recorder('other', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.spawn(other.actor);
    sup.start();
    a.ctx().schedule(100, tick(1));
    clock.advance(99);
    expect(a.got).toEqual([]);
    clock.advance(1);
    expect(rounds(a.got)).toEqual([1]);
    expect(times).toEqual([100]);
    // A timer is a message to self only: other acceptors of the type do not get it.
    expect(other.got).toEqual([]);
  });

  it('cancel prevents the delivery', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.start();
    const h = a.ctx().schedule(50, tick(1));
    a.ctx().schedule(60, tick(2));
    clock.advance(10);
    h.cancel();
    h.cancel();
    clock.advance(100);
    expect(rounds(a.got)).toEqual([2]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a periodic timer (rescheduled from receive) ticks at every interval', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const times: number[] = [];
    const a = recorder('a', [actors.ProbeTick], {
      onStart: (ctx) => ctx.schedule(200, tick(0)),
      onReceive: (m, ctx) => {
        times.push(clock.now());
        ctx.schedule(200, tick((m as actors.ProbeTick).round + 1));
      },
    });
    sup.spawn(a.actor);
    sup.start();
    clock.advance(1000);
    expect(times).toEqual([200, 400, 600, 800, 1000]);
    expect(rounds(a.got)).toEqual([0, 1, 2, 3, 4]);
  });

  it('cancels pending timers at stop', async () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick], { onStart: (ctx) => ctx.schedule(100, tick(1)) });
    const b = recorder('b', [actors.ProbeTick], { onStart: (ctx) => ctx.schedule(200, tick(2)) });
    sup.spawn(a.actor);
    sup.spawn(b.actor);
    sup.start();
    expect(clock.pendingTimers).toBe(2);
    clock.advance(50);
    await sup.stop();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([]);
  });

  it('forgets timers once they fire: stop() cancels only those still pending', async () => {
    // Every fired timer must leave the actor's timer set, or a node that ticks every second leaks one
    // entry per tick for its whole life. Observable through a clock that counts cancel() calls.
    const clock = new CountingClock();
    const { sup } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick], {
      onStart: (ctx) => {
        for (let i = 1; i <= 5; i++) ctx.schedule(i * 10, tick(i));
        ctx.schedule(10_000, tick(99));
      },
    });
    sup.spawn(a.actor);
    sup.start();
    clock.inner.advance(100);
    expect(rounds(a.got)).toEqual([1, 2, 3, 4, 5]);
    await sup.stop();
    expect(clock.cancels).toBe(1); // the 10 s timer only
    expect(clock.inner.pendingTimers).toBe(0);
  });
});

describe('Supervisor: crashes and restart policy', () => {
  it("policy 'restart': a crash in receive calls stop then start again, and the actor keeps receiving", () => {
    const clock = new VirtualClock();
    const { sup, failures } = makeSupervisor(clock);
    const events: string[] = [];
    const a = recorder('a', [actors.ProbeTick], {
      events,
      onReceive: (m) => {
        events.push(`recv ${(m as actors.ProbeTick).round}`);
        if ((m as actors.ProbeTick).round === 2) throw new Error('boom');
      },
    });
    sup.spawn(a.actor);
    sup.start();
    for (let i = 1; i <= 4; i++) sup.send(tick(i));
    clock.runDue();
    expect(events).toEqual(['start a', 'recv 1', 'recv 2', 'stop a', 'start a', 'recv 3', 'recv 4']);
    expect(failures).toEqual([]);
    expect(sup.has('a')).toBe(true);
    const stats = sup.stats()[0];
    expect(stats).toMatchObject({ name: 'a', received: 4, crashes: 1, restarts: 1 });
  });

  it('a restart cancels the timers the actor had set before the crash', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    let starts = 0;
    const a = recorder('a', [actors.ProbeTick], {
      onStart: (ctx) => {
        starts++;
        if (starts === 1) ctx.schedule(100, tick(100)); // only the first incarnation sets it
      },
      onReceive: (m) => {
        if ((m as actors.ProbeTick).round === 1) throw new Error('boom');
      },
    });
    sup.spawn(a.actor);
    sup.start();
    expect(clock.pendingTimers).toBe(1);
    sup.send(tick(1));
    clock.runDue();
    expect(starts).toBe(2);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    expect(rounds(a.got)).toEqual([1]);
  });

  it('fails the node via onFailure with an ActorError once the restart budget is exceeded', () => {
    const clock = new VirtualClock();
    const { sup, failures } = makeSupervisor(clock, { maxRestarts: 3, restartWindowMs: 1000 });
    const events: string[] = [];
    const crashy = recorder('crashy', [actors.ProbeTick], {
      events,
      onReceive: () => {
        throw new Error('always');
      },
    });
    const bystander = recorder('bystander', [actors.PingReceived]);
    sup.spawn(crashy.actor);
    sup.spawn(bystander.actor);
    sup.start();
    for (let i = 1; i <= 3; i++) {
      sup.send(tick(i));
      clock.advance(10);
    }
    expect(failures).toEqual([]);
    expect(sup.stats()[0]).toMatchObject({ crashes: 3, restarts: 3 });
    sup.send(tick(4));
    clock.advance(10);
    expect(failures).toHaveLength(1);
    const err = failures[0] as ActorError;
    expect(err).toBeInstanceOf(ActorError);
    expect(err.code).toBe('ERR_ACTOR');
    expect(err.actor).toBe('crashy');
    expect((err.cause as Error).message).toBe('always');
    expect(sup.stats()[0]).toMatchObject({ crashes: 4, restarts: 3 });
    // A failed node processes nothing more.
    sup.send(ping(1));
    sup.send(tick(5));
    clock.advance(10);
    expect(bystander.got).toEqual([]);
    expect(crashy.got).toHaveLength(4);
    // Failure is reported once.
    expect(failures).toHaveLength(1);
  });

  it('restarts outside the window do not count towards the budget', () => {
    const clock = new VirtualClock();
    const { sup, failures } = makeSupervisor(clock, { maxRestarts: 2, restartWindowMs: 1000 });
    const a = recorder('a', [actors.ProbeTick], {
      onReceive: () => {
        throw new Error('crash');
      },
    });
    sup.spawn(a.actor);
    sup.start();
    // Two crashes per 1000 ms window for 5 windows: always within budget.
    for (let w = 0; w < 5; w++) {
      sup.send(tick(1));
      clock.runDue();
      clock.advance(500);
      sup.send(tick(2));
      clock.runDue();
      clock.advance(500);
    }
    expect(failures).toEqual([]);
    expect(sup.stats()[0]).toMatchObject({ crashes: 10, restarts: 10 });
    // Three crashes within one window exceed it.
    for (let i = 0; i < 3; i++) {
      sup.send(tick(3));
      clock.advance(1);
    }
    expect(failures).toHaveLength(1);
    expect(failures[0]?.actor).toBe('a');
  });

  it("policy 'stop': the crashed actor is stopped and removed, the others go on", () => {
    const clock = new VirtualClock();
    const { sup, failures } = makeSupervisor(clock);
    const events: string[] = [];
    const fragile = recorder('fragile', [actors.ProbeTick], {
      events,
      policy: 'stop',
      onReceive: () => {
        throw new Error('bad');
      },
    });
    const other = recorder('other', [actors.ProbeTick]);
    const lonely = recorder('lonely-sink', [actors.PingReceived]);
    sup.spawn(fragile.actor);
    sup.spawn(other.actor);
    sup.spawn(lonely.actor);
    sup.start();
    sup.send(tick(1));
    sup.send(tick(2));
    clock.runDue();
    expect(events).toEqual(['start fragile', 'stop fragile']);
    expect(rounds(fragile.got)).toEqual([1]);
    expect(rounds(other.got)).toEqual([1, 2]);
    expect(sup.has('fragile')).toBe(false);
    expect(failures).toEqual([]);
    sup.send(tick(3));
    sup.send(ping(1));
    clock.runDue();
    expect(rounds(other.got)).toEqual([1, 2, 3]);
    expect(lonely.got).toHaveLength(1);
    expect(fragile.got).toHaveLength(1);
  });

  it("policy 'stop' on the only acceptor of a type: later messages of that type are undelivered", () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock);
    const only = recorder('only', [actors.ProbeTick], {
      policy: 'stop',
      onReceive: () => {
        throw new Error('bad');
      },
    });
    sup.spawn(only.actor);
    sup.start();
    sup.send(tick(1));
    clock.runDue();
    expect(sup.undelivered).toBe(0);
    sup.send(tick(2));
    expect(sup.undelivered).toBe(1);
    expect(sup.acceptedTypes()).toEqual([]);
  });

  it("policy 'escalate': the first crash fails the node at once", () => {
    const clock = new VirtualClock();
    const { sup, failures } = makeSupervisor(clock);
    const events: string[] = [];
    const critical = recorder('critical', [actors.ProbeTick], {
      events,
      policy: 'escalate',
      onReceive: () => {
        throw new Error('fatal');
      },
    });
    sup.spawn(critical.actor);
    sup.start();
    sup.send(tick(1));
    sup.send(tick(2));
    clock.runDue();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(ActorError);
    expect(failures[0]?.code).toBe('ERR_ACTOR');
    expect(failures[0]?.actor).toBe('critical');
    expect(events).toEqual(['start critical']); // not restarted
    expect(rounds(critical.got)).toEqual([1]);
    expect(sup.stats()[0]).toMatchObject({ crashes: 1, restarts: 0 });
  });

  it('a non-Error thrown value is wrapped and still handled by policy', () => {
    const clock = new VirtualClock();
    const { sup, failures } = makeSupervisor(clock);
    const a = recorder('a', [actors.ProbeTick], {
      policy: 'escalate',
      onReceive: () => {
        throw 'a string';
      },
    });
    sup.spawn(a.actor);
    sup.start();
    sup.send(tick(1));
    clock.runDue();
    expect(failures).toHaveLength(1);
    expect(failures[0]?.message).toContain('a string');
  });

  it("a crash in start() with policy 'restart' stops and starts again; the actor then receives", () => {
    const clock = new VirtualClock();
    const { sup, failures } = makeSupervisor(clock);
    const events: string[] = [];
    let attempts = 0;
    const a = recorder('a', [actors.ProbeTick], {
      events,
      onStart: () => {
        if (++attempts === 1) throw new Error('bad start');
      },
    });
    sup.spawn(a.actor);
    sup.start();
    expect(events).toEqual(['start a', 'stop a', 'start a']);
    sup.send(tick(1));
    clock.runDue();
    expect(rounds(a.got)).toEqual([1]);
    expect(failures).toEqual([]);
    expect(sup.stats()[0]).toMatchObject({ crashes: 1, restarts: 1 });
  });

  it('a start() that always throws exhausts the restart budget and fails the node', () => {
    const { sup, failures } = makeSupervisor(new VirtualClock(), { maxRestarts: 4 });
    let attempts = 0;
    sup.spawn(
      recorder('a', [actors.ProbeTick], {
        onStart: () => {
          attempts++;
          throw new Error('never starts');
        },
      }).actor,
    );
    sup.start();
    expect(attempts).toBe(5); // first start + 4 restarts
    expect(failures).toHaveLength(1);
    expect(failures[0]?.actor).toBe('a');
  });

  it("a crash in start() with policy 'stop' removes the actor; the others start and run", () => {
    const clock = new VirtualClock();
    const { sup, failures } = makeSupervisor(clock);
    const events: string[] = [];
    const bad = recorder('bad', [actors.ProbeTick], {
      events,
      policy: 'stop',
      onStart: () => {
        throw new Error('bad start');
      },
    });
    const good = recorder('good', [actors.ProbeTick], { events });
    sup.spawn(bad.actor);
    sup.spawn(good.actor);
    sup.start();
    expect(events).toEqual(['start bad', 'stop bad', 'start good']);
    expect(sup.has('bad')).toBe(false);
    sup.send(tick(1));
    clock.runDue();
    expect(bad.got).toEqual([]);
    expect(rounds(good.got)).toEqual([1]);
    expect(failures).toEqual([]);
  });

  it("a crash in start() with policy 'escalate' fails the node and the later actors are not started", () => {
    const { sup, failures } = makeSupervisor();
    const events: string[] = [];
    sup.spawn(recorder('first', [actors.ProbeTick], { events }).actor);
    sup.spawn(
      recorder('critical', [actors.ProbeTick], {
        events,
        policy: 'escalate',
        onStart: () => {
          throw new Error('cannot bind');
        },
      }).actor,
    );
    sup.spawn(recorder('last', [actors.ProbeTick], { events }).actor);
    sup.start();
    expect(events).toEqual(['start first', 'start critical']);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.actor).toBe('critical');
    expect(failures[0]?.message).toContain('cannot bind');
  });

  it('a throwing failure listener does not stop the other listeners', () => {
    const { sup, failures } = makeSupervisor();
    const second: ActorError[] = [];
    sup.onFailure(() => {
      throw new Error('listener bug');
    });
    sup.onFailure((e) => second.push(e));
    sup.spawn({
      name: 'x',
      accepts: [actors.ProbeTick],
      restartPolicy: 'escalate',
      start() {
        throw new Error('x');
      },
      receive() {},
    });
    expect(() => sup.start()).not.toThrow();
    expect(failures).toHaveLength(1);
    expect(second).toHaveLength(1);
  });
});

describe('Supervisor: mailboxes and drain budget', () => {
  it('a full mailbox drops new messages and stats() counts them', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock, { mailboxCapacity: 10 });
    const a = recorder('a', [actors.ProbeTick]);
    sup.spawn(a.actor);
    sup.start();
    for (let i = 1; i <= 15; i++) sup.send(tick(i));
    expect(sup.stats()[0]).toMatchObject({ name: 'a', mailboxDepth: 10, dropped: 5, received: 0 });
    clock.runDue();
    expect(rounds(a.got)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // the newest were dropped
    expect(sup.stats()[0]).toMatchObject({ name: 'a', mailboxDepth: 0, dropped: 5, received: 10 });
    // Room again after the drain.
    sup.send(tick(16));
    clock.runDue();
    expect(rounds(a.got).at(-1)).toBe(16);
    expect(sup.stats()[0]?.dropped).toBe(5);
  });

  it('a drop in one mailbox does not affect another acceptor of the same message', () => {
    const clock = new VirtualClock();
    const { sup } = makeSupervisor(clock, { mailboxCapacity: 3 });
    const a = recorder('a', [actors.ProbeTick]);
    const b = recorder('b', [actors.ProbeTick, actors.PingReceived]);
    sup.spawn(a.actor);
    sup.spawn(b.actor);
    sup.start();
    sup.send(ping(1));
    sup.send(ping(2));
    for (let i = 1; i <= 3; i++) sup.send(tick(i));
    clock.runDue();
    expect(rounds(a.got)).toEqual([1, 2, 3]);
    expect(b.got).toHaveLength(3); // 2 pings + 1 tick, then full
    const stats = Object.fromEntries(sup.stats().map((s) => [s.name, s.dropped]));
    expect(stats).toEqual({ a: 0, b: 2 });
  });

  it('yields through clock.defer after drainBudget messages during a 1,000-message chain', () => {
    const clock = new CountingClock();
    const { sup } = makeSupervisor(clock, { drainBudget: 100 });
    // Two actors pass a ProbeTick back and forth (ctx.send never returns to the sender): a chain of
    // 1,000 messages that all arrive during the drain that started it.
    const seen: number[] = [];
    const onReceive = (m: object, ctx: ActorContext): void => {
      const r = (m as actors.ProbeTick).round;
      seen.push(r);
      if (r < 1000) ctx.send(tick(r + 1));
    };
    sup.spawn(recorder('ping', [actors.ProbeTick], { onReceive }).actor);
    sup.spawn(recorder('pong', [actors.ProbeTick], { onReceive }).actor);
    sup.start();
    sup.send(tick(1)); // both receive round 1: two interleaved chains of 1,000 messages each
    clock.inner.runDue();
    expect(seen).toHaveLength(2000);
    // One microtask started the drain; every further drain came through defer (a yield to I/O).
    expect(clock.microtasks).toBe(1);
    expect(clock.defers).toBe(19); // 2,000 messages / 100 per drain = 20 drains, 19 yields
  });

  it('a single chain of exactly 1,000 messages with drainBudget 100 yields 9 times', () => {
    const clock = new CountingClock();
    const { sup } = makeSupervisor(clock, { drainBudget: 100 });
    let count = 0;
    const onReceive = (m: object, ctx: ActorContext): void => {
      count++;
      const r = (m as actors.ProbeTick).round;
      if (r < 1000) ctx.send(tick(r + 1));
    };
    sup.spawn(recorder('ping', [actors.ProbeTick], { onReceive }).actor);
    sup.spawn(recorder('pong', [actors.ProbeTick], { onReceive }).actor);
    sup.start();
    sup.sendExcept(tick(1), 'ping'); // round 1 goes to 'pong' only: one chain
    clock.inner.runDue();
    expect(count).toBe(1000);
    // 10 drains of 100: one microtask to begin, then a defer (yield) after each of the first 9.
    expect(clock.microtasks).toBe(1);
    expect(clock.defers).toBe(9);
  });
});
