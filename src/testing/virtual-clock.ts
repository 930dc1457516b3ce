import type { Clock, TimerHandle } from '../clock.js';
import { ClockError } from '../errors.js';
import { BinaryHeap } from '../util/binary-heap.js';

interface VirtualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Simulated time for tests and simulations (the twin of RealClock). Time moves only when the test
 * says so; due timers run in deadline order (insertion order among equal deadlines), and a timer set
 * by a running timer for "now" runs in the same advance. Time never goes backwards.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #live = 0;
  readonly #timers = new BinaryHeap<VirtualTimer>((a, b) => (a.at !== b.at ? a.at < b.at : a.seq < b.seq));

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    if (!Number.isFinite(delayMs)) throw new ClockError(`timer delay must be finite, got ${delayMs}`);
    const timer: VirtualTimer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    this.#live++;
    return {
      cancel: () => {
        if (!timer.cancelled) {
          timer.cancelled = true;
          this.#live--;
        }
      },
    };
  }

  defer(fn: () => void): void {
    this.setTimer(0, fn);
  }

  microtask(fn: () => void): void {
    this.setTimer(0, fn);
  }

  /** Number of timers that are set and not cancelled or run. */
  get pendingTimers(): number {
    return this.#live;
  }

  /** The deadline of the next live timer, or undefined when none is set. */
  nextDeadline(): number | undefined {
    this.#dropCancelled();
    return this.#timers.peek()?.at;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new ClockError(`virtual time cannot go backwards (advance by ${ms})`);
    this.advanceTo(this.#now + ms);
  }

  /** Moves time to `target`, running due timers in order. Throws if `target` is in the past. */
  advanceTo(target: number): void {
    if (!Number.isFinite(target)) throw new ClockError(`virtual time must be finite (advanceTo ${target})`);
    if (!(target >= this.#now)) throw new ClockError(`virtual time cannot go backwards (${this.#now} -> ${target})`);
    for (;;) {
      this.#dropCancelled();
      const next = this.#timers.peek();
      if (next === undefined || next.at > target) break;
      this.#timers.pop();
      this.#now = next.at;
      next.cancelled = true;
      this.#live--;
      next.fn();
    }
    this.#now = target;
  }

  /** Runs timers due now (including those they set for now) without moving time. */
  runDue(): void {
    this.advanceTo(this.#now);
  }

  /**
   * Advances in steps until `predicate` holds or `limitMs` of virtual time passes. Returns the virtual
   * time it took, or undefined if the predicate never held. Steps run every timer in between, so the
   * result is exact to `stepMs`.
   */
  runUntil(predicate: () => boolean, limitMs: number, stepMs = 10): number | undefined {
    const start = this.#now;
    this.runDue();
    while (!predicate()) {
      if (this.#now - start >= limitMs) return undefined;
      this.advance(Math.min(stepMs, limitMs - (this.#now - start)));
    }
    return this.#now - start;
  }

  #dropCancelled(): void {
    while (this.#timers.size > 0 && (this.#timers.peek() as VirtualTimer).cancelled) this.#timers.pop();
  }
}
