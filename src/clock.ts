/**
 * The only module in src/ that reads the time or sets timers (the VirtualClock in src/testing is its
 * simulated twin). Everything else takes a `Clock` so that protocol logic runs on virtual time in tests
 * and simulations, and on the real clock in production.
 */

/** A cancellable timer handle. `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale (not wall time). Fractional values allowed. */
  now(): number;
  /** Runs `fn` once after `delayMs` (clamped to >= 0). */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /**
   * Runs `fn` on the next turn of the event loop, after pending I/O (setImmediate semantics on the
   * real clock). Used by mailboxes to yield after a drain budget; virtual clocks run it at the same
   * virtual instant.
   */
  defer(fn: () => void): void;
  /**
   * Runs `fn` as soon as the current synchronous work ends (a microtask on the real clock). Mailboxes
   * drain here; on a virtual clock it runs at the same virtual instant, inside advance(), so that a
   * simulation stays synchronous and deterministic.
   */
  microtask(fn: () => void): void;
}

/**
 * A settled promise whose reactions are the cheapest microtask Node offers: queueMicrotask wraps
 * every callback in an AsyncResource (an async id, init/before/after/destroy bookkeeping), which the
 * mailboxes, draining on every message, paid for nothing. Same queue, same order.
 */
const settled = Promise.resolve();

/** Wall-clock-free monotonic time from performance.now(), timers from setTimeout (unref'd). */
export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, Math.max(0, delayMs));
    // A node's timers must never keep a process alive on their own: shutdown() is what ends a node,
    // and an application that forgot it should still be able to exit.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  }

  defer(fn: () => void): void {
    setImmediate(fn);
  }

  microtask(fn: () => void): void {
    void settled.then(fn);
  }
}

/** Milliseconds since the Unix epoch, for log lines and user-facing timestamps only. */
export function wallTimeMs(): number {
  return Date.now();
}
