import { describe, expect, it } from 'vitest';
import { ClockError, MemberlistError } from '../../src/errors.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

function expectClockError(fn: () => void): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ClockError);
  expect(caught).toBeInstanceOf(MemberlistError);
  expect((caught as ClockError).code).toBe('ERR_CLOCK');
}

describe('VirtualClock', () => {
  it('starts at the given time and only moves when told', () => {
    expect(new VirtualClock().now()).toBe(0);
    const c = new VirtualClock(1000);
    expect(c.now()).toBe(1000);
    c.advance(250);
    expect(c.now()).toBe(1250);
    c.advanceTo(2000);
    expect(c.now()).toBe(2000);
  });

  it('runs due timers in deadline order, each at its own virtual time', () => {
    const c = new VirtualClock();
    const log: string[] = [];
    c.setTimer(30, () => log.push(`c@${c.now()}`));
    c.setTimer(10, () => log.push(`a@${c.now()}`));
    c.setTimer(20, () => log.push(`b@${c.now()}`));
    c.setTimer(100, () => log.push(`late@${c.now()}`));
    c.advance(50);
    expect(log).toEqual(['a@10', 'b@20', 'c@30']);
    expect(c.now()).toBe(50);
    c.advance(49);
    expect(log).toHaveLength(3);
    c.advance(1);
    expect(log).toEqual(['a@10', 'b@20', 'c@30', 'late@100']);
  });

  it('runs timers with equal deadlines in insertion order', () => {
    const c = new VirtualClock();
    const log: number[] = [];
    for (let i = 0; i < 50; i++) c.setTimer(i % 2 === 0 ? 10 : 5, () => log.push(i));
    c.advance(10);
    const odd = Array.from({ length: 25 }, (_, k) => 2 * k + 1);
    const even = Array.from({ length: 25 }, (_, k) => 2 * k);
    expect(log).toEqual([...odd, ...even]);
  });

  it('a timer set for "now" by a running timer runs in the same advance, at the same instant', () => {
    const c = new VirtualClock();
    const log: string[] = [];
    c.setTimer(10, () => {
      log.push(`outer@${c.now()}`);
      c.setTimer(0, () => {
        log.push(`inner@${c.now()}`);
        c.setTimer(0, () => log.push(`inner2@${c.now()}`));
      });
      c.setTimer(5, () => log.push(`later@${c.now()}`)); // 15: within this advance too
      c.setTimer(50, () => log.push(`beyond@${c.now()}`)); // 60: not in this advance
    });
    c.advance(20);
    expect(log).toEqual(['outer@10', 'inner@10', 'inner2@10', 'later@15']);
    expect(c.now()).toBe(20);
    expect(c.pendingTimers).toBe(1);
  });

  it('a "now" timer set by a running timer runs before a timer already due later in the same advance', () => {
    const c = new VirtualClock();
    const log: string[] = [];
    c.setTimer(10, () => {
      log.push('first');
      c.setTimer(0, () => log.push('chained'));
    });
    c.setTimer(11, () => log.push('second'));
    c.advance(11);
    expect(log).toEqual(['first', 'chained', 'second']);
  });

  it('clamps a negative delay to 0 and rejects a non-finite delay with ClockError', () => {
    const c = new VirtualClock(5);
    const log: number[] = [];
    c.setTimer(-100, () => log.push(c.now()));
    c.runDue();
    expect(log).toEqual([5]);
    expectClockError(() => c.setTimer(Number.NaN, () => undefined));
    expectClockError(() => c.setTimer(Number.POSITIVE_INFINITY, () => undefined));
    expect(c.pendingTimers).toBe(0);
  });

  it('cancel prevents the timer from running, is idempotent, and pendingTimers counts right', () => {
    const c = new VirtualClock();
    const log: string[] = [];
    expect(c.pendingTimers).toBe(0);
    const a = c.setTimer(10, () => log.push('a'));
    const b = c.setTimer(20, () => log.push('b'));
    c.setTimer(30, () => log.push('c'));
    expect(c.pendingTimers).toBe(3);
    b.cancel();
    expect(c.pendingTimers).toBe(2);
    b.cancel();
    b.cancel();
    expect(c.pendingTimers).toBe(2);
    c.advance(15);
    expect(log).toEqual(['a']);
    expect(c.pendingTimers).toBe(1);
    // Cancelling a timer that already ran changes nothing.
    a.cancel();
    expect(c.pendingTimers).toBe(1);
    c.advance(100);
    expect(log).toEqual(['a', 'c']);
    expect(c.pendingTimers).toBe(0);
  });

  it('a running timer can cancel another timer due in the same advance', () => {
    const c = new VirtualClock();
    const log: string[] = [];
    const handles: { cancel(): void }[] = [];
    c.setTimer(10, () => {
      log.push('a');
      handles[0]?.cancel();
    });
    handles.push(c.setTimer(10, () => log.push('b')));
    c.setTimer(10, () => log.push('c'));
    c.advance(10);
    expect(log).toEqual(['a', 'c']);
    expect(c.pendingTimers).toBe(0);
  });

  it('a timer can cancel itself while running without corrupting pendingTimers', () => {
    const c = new VirtualClock();
    const self: { h?: { cancel(): void } } = {};
    self.h = c.setTimer(1, () => self.h?.cancel());
    c.setTimer(2, () => undefined);
    c.advance(1);
    expect(c.pendingTimers).toBe(1);
    c.advance(1);
    expect(c.pendingTimers).toBe(0);
  });

  it('advance by a negative (or NaN) amount throws ClockError and leaves time unchanged', () => {
    const c = new VirtualClock(100);
    let ran = false;
    c.setTimer(0, () => (ran = true));
    expectClockError(() => c.advance(-1));
    expectClockError(() => c.advance(Number.NaN));
    expect(c.now()).toBe(100);
    expect(ran).toBe(false);
  });

  it('advanceTo a time in the past throws ClockError and leaves time unchanged', () => {
    const c = new VirtualClock(100);
    expectClockError(() => c.advanceTo(99.5));
    expect(c.now()).toBe(100);
    c.advanceTo(100); // the present is fine
    expect(c.now()).toBe(100);
  });

  it('advanceTo(NaN) throws ClockError instead of running every timer and making time NaN', () => {
    const c = new VirtualClock(100);
    let ran = false;
    c.setTimer(1_000_000, () => (ran = true));
    expectClockError(() => c.advanceTo(Number.NaN));
    expect(ran).toBe(false);
    expect(c.now()).toBe(100);
  });

  it('nextDeadline reports the earliest live timer, skipping cancelled ones', () => {
    const c = new VirtualClock(10);
    expect(c.nextDeadline()).toBeUndefined();
    const a = c.setTimer(5, () => undefined);
    c.setTimer(20, () => undefined);
    expect(c.nextDeadline()).toBe(15);
    a.cancel();
    expect(c.nextDeadline()).toBe(30);
    c.advance(20);
    expect(c.nextDeadline()).toBeUndefined();
    expect(c.pendingTimers).toBe(0);
  });

  it('runUntil returns the virtual time it took (exact to the step), or undefined at the limit', () => {
    const c = new VirtualClock();
    let done = false;
    c.setTimer(35, () => (done = true));
    expect(c.runUntil(() => done, 1000)).toBe(40); // default 10 ms steps
    expect(c.now()).toBe(40);

    const d = new VirtualClock();
    let flag = false;
    d.setTimer(35, () => (flag = true));
    expect(d.runUntil(() => flag, 1000, 1)).toBe(35);

    const e = new VirtualClock(7);
    expect(e.runUntil(() => false, 95, 10)).toBeUndefined();
    expect(e.now()).toBe(7 + 95); // the limit is honoured exactly, even when not a multiple of the step
  });

  it('runUntil returns 0 when the predicate already holds, after running timers due now', () => {
    const c = new VirtualClock(50);
    let flag = false;
    c.microtask(() => (flag = true));
    expect(c.runUntil(() => flag, 100)).toBe(0);
    expect(c.now()).toBe(50);
  });

  it('microtask and defer run at the same virtual instant, in the order they were queued', () => {
    const c = new VirtualClock(5);
    const log: string[] = [];
    c.defer(() => log.push(`defer@${c.now()}`));
    c.microtask(() => {
      log.push(`micro@${c.now()}`);
      c.defer(() => log.push(`nested-defer@${c.now()}`));
      c.microtask(() => log.push(`nested-micro@${c.now()}`));
    });
    expect(log).toEqual([]); // nothing runs synchronously
    expect(c.pendingTimers).toBe(2);
    c.runDue();
    expect(log).toEqual(['defer@5', 'micro@5', 'nested-defer@5', 'nested-micro@5']);
    expect(c.now()).toBe(5);
    expect(c.pendingTimers).toBe(0);
  });

  it('microtasks queued before an advance run before timers due later in that advance', () => {
    const c = new VirtualClock();
    const log: string[] = [];
    c.setTimer(1, () => log.push(`timer@${c.now()}`));
    c.microtask(() => log.push(`micro@${c.now()}`));
    c.advance(10);
    expect(log).toEqual(['micro@0', 'timer@1']);
  });
});
