import { describe, expect, it } from 'vitest';
import { RealClock, type Clock, type TimerHandle } from '../../src/clock.js';
import { Dispatcher, type Runnable } from '../../src/runtime/dispatcher.js';
import { Mailbox } from '../../src/runtime/mailbox.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/** A clock that records how the dispatcher asks to be called back, and runs the callbacks on demand. */
class RecordingClock implements Clock {
  readonly calls: ('microtask' | 'defer')[] = [];
  readonly #queue: (() => void)[] = [];
  now(): number {
    return 0;
  }
  setTimer(): TimerHandle {
    throw new Error('the dispatcher must not set timers');
  }
  defer(fn: () => void): void {
    this.calls.push('defer');
    this.#queue.push(fn);
  }
  microtask(fn: () => void): void {
    this.calls.push('microtask');
    this.#queue.push(fn);
  }
  get pending(): number {
    return this.#queue.length;
  }
  /** Runs one queued callback; returns false when none was queued. */
  step(): boolean {
    const fn = this.#queue.shift();
    if (fn === undefined) return false;
    fn();
    return true;
  }
  runAll(limit = 1_000_000): void {
    for (let i = 0; i < limit; i++) if (!this.step()) return;
    throw new Error('runAll: callbacks never ran out');
  }
}

interface TestRunnable extends Runnable {
  name: string;
  received: object[];
}

function runnable(name: string, log: string[], onMessage?: (m: object, self: TestRunnable) => void): TestRunnable {
  const r: TestRunnable = {
    name,
    mailbox: new Mailbox(1_000_000),
    received: [],
    runOne(message: object) {
      r.received.push(message);
      log.push(`${name}:${(message as { n: number }).n}`);
      onMessage?.(message, r);
    },
  };
  return r;
}

function offer(d: Dispatcher, r: Runnable, message: object): void {
  expect(r.mailbox.offer(message)).toBe(true);
  d.ready(r);
}

describe('Dispatcher', () => {
  it('drains in a microtask, not synchronously, and schedules one drain for many ready() calls', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 100);
    const log: string[] = [];
    const a = runnable('a', log);
    for (let n = 0; n < 5; n++) offer(d, a, { n });
    expect(log).toEqual([]);
    expect(clock.calls).toEqual(['microtask']);
    clock.runAll();
    expect(log).toEqual(['a:0', 'a:1', 'a:2', 'a:3', 'a:4']);
    expect(a.mailbox.scheduled).toBe(false);
    expect(d.yields).toBe(0);
    // A later message starts a new drain.
    offer(d, a, { n: 5 });
    expect(clock.calls).toEqual(['microtask', 'microtask']);
    clock.runAll();
    expect(log.at(-1)).toBe('a:5');
  });

  it('round-robins one message at a time between two busy mailboxes', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 1000);
    const log: string[] = [];
    const a = runnable('a', log);
    const b = runnable('b', log);
    for (let n = 0; n < 4; n++) offer(d, a, { n });
    for (let n = 0; n < 4; n++) offer(d, b, { n });
    clock.runAll();
    expect(log).toEqual(['a:0', 'b:0', 'a:1', 'b:1', 'a:2', 'b:2', 'a:3', 'b:3']);
  });

  it('stays fair when one actor keeps feeding itself: the other is not starved', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 1000);
    const log: string[] = [];
    let selfFed = 0;
    const busy = runnable('busy', log, (_m, self) => {
      if (selfFed < 100) offer(d, self, { n: ++selfFed });
    });
    const quiet = runnable('quiet', log);
    offer(d, busy, { n: 0 });
    offer(d, quiet, { n: 0 });
    offer(d, quiet, { n: 1 });
    clock.runAll();
    // quiet's two messages are interleaved with busy's first ones, not queued behind all 100.
    expect(log.slice(0, 4)).toEqual(['busy:0', 'quiet:0', 'busy:1', 'quiet:1']);
    expect(log).toHaveLength(103);
  });

  it('yields after `budget` messages through clock.defer (never a new microtask) and resumes', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 100);
    const log: string[] = [];
    let sent = 1;
    // A chain of 1,000 messages: each one sends the next.
    const a = runnable('a', log, (_m, self) => {
      if (sent < 1000) offer(d, self, { n: sent++ });
    });
    offer(d, a, { n: 0 });
    expect(clock.calls).toEqual(['microtask']);
    clock.step(); // the first drain
    expect(log).toHaveLength(100); // exactly the budget
    expect(clock.calls).toEqual(['microtask', 'defer']);
    expect(d.yields).toBe(1);
    clock.runAll();
    expect(log).toHaveLength(1000);
    expect(log.at(-1)).toBe('a:999');
    // 10 drains of 100: a yield after each of the first 9; the last ends with nothing ready.
    expect(d.yields).toBe(9);
    expect(clock.calls).toEqual(['microtask', ...new Array<string>(9).fill('defer')]);
  });

  it('does not yield when the budget is hit exactly as the work runs out', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 10);
    const log: string[] = [];
    const a = runnable('a', log);
    for (let n = 0; n < 10; n++) offer(d, a, { n });
    clock.runAll();
    expect(log).toHaveLength(10);
    expect(d.yields).toBe(0);
    expect(clock.calls).toEqual(['microtask']);
  });

  it('treats a budget below 1 as 1 (always makes progress)', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 0);
    const log: string[] = [];
    const a = runnable('a', log);
    for (let n = 0; n < 3; n++) offer(d, a, { n });
    clock.runAll();
    expect(log).toEqual(['a:0', 'a:1', 'a:2']);
    expect(d.yields).toBe(2);
  });

  it('stop() before the drain runs prevents any processing, and later ready() calls are ignored', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 100);
    const log: string[] = [];
    const a = runnable('a', log);
    offer(d, a, { n: 0 });
    d.stop();
    clock.runAll();
    expect(log).toEqual([]);
    const b = runnable('b', log);
    offer(d, b, { n: 1 });
    clock.runAll();
    expect(log).toEqual([]);
    expect(clock.calls).toEqual(['microtask']); // no new drain was even scheduled
  });

  it('stop() called by a running message ends the drain: nothing else is processed, no yield', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 5);
    const log: string[] = [];
    const a = runnable('a', log, (m) => {
      if ((m as { n: number }).n === 2) d.stop();
    });
    const b = runnable('b', log);
    for (let n = 0; n < 10; n++) offer(d, a, { n });
    for (let n = 0; n < 10; n++) offer(d, b, { n });
    clock.runAll();
    expect(log).toEqual(['a:0', 'b:0', 'a:1', 'b:1', 'a:2']);
    expect(d.yields).toBe(0);
    expect(clock.calls).toEqual(['microtask']);
  });

  it('stop() between drains (while a yield is pending) prevents further processing', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 3);
    const log: string[] = [];
    const a = runnable('a', log);
    for (let n = 0; n < 10; n++) offer(d, a, { n });
    clock.step();
    expect(log).toHaveLength(3);
    expect(clock.calls).toEqual(['microtask', 'defer']);
    d.stop();
    clock.runAll();
    expect(log).toHaveLength(3);
  });

  it('skips a runnable whose mailbox was emptied after it was marked ready', () => {
    const clock = new RecordingClock();
    const d = new Dispatcher(clock, 100);
    const log: string[] = [];
    const a = runnable('a', log);
    const b = runnable('b', log);
    offer(d, a, { n: 0 });
    offer(d, b, { n: 0 });
    a.mailbox.clear();
    clock.runAll();
    expect(log).toEqual(['b:0']);
    expect(a.mailbox.scheduled).toBe(false);
    offer(d, a, { n: 1 });
    clock.runAll();
    expect(log).toEqual(['b:0', 'a:1']);
  });

  it('runs on a VirtualClock at the same virtual instant, yields included', () => {
    const clock = new VirtualClock(42);
    const d = new Dispatcher(clock, 10);
    const times: number[] = [];
    const r: Runnable = {
      mailbox: new Mailbox(1000),
      runOne: () => times.push(clock.now()),
    };
    for (let i = 0; i < 35; i++) {
      r.mailbox.offer({ i });
      d.ready(r);
    }
    clock.runDue();
    expect(times).toHaveLength(35);
    expect(new Set(times)).toEqual(new Set([42]));
    expect(d.yields).toBe(3);
  });

  it('with the RealClock, a long self-sending chain (200k) yields to the event loop', async () => {
    const clock = new RealClock();
    const d = new Dispatcher(clock, 1024);
    const total = 200_000;
    let processed = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const r: Runnable = {
      mailbox: new Mailbox(16),
      runOne: () => {
        processed++;
        if (processed < total) {
          r.mailbox.offer({});
          d.ready(r);
        } else {
          resolveDone();
        }
      },
    };
    let processedWhenImmediateRan = -1;
    setImmediate(() => (processedWhenImmediateRan = processed));
    r.mailbox.offer({});
    d.ready(r);
    await done;
    // A pure microtask drain would have processed all 200k before the event loop got a turn.
    expect(processedWhenImmediateRan).toBeGreaterThan(0);
    expect(processedWhenImmediateRan).toBeLessThan(total);
    expect(processedWhenImmediateRan).toBe(1024);
    expect(d.yields).toBeGreaterThanOrEqual(Math.floor(total / 1024) - 1);
  });
});
