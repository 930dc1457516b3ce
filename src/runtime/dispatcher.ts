import type { Clock } from '../clock.js';
import { RingQueue } from '../util/ring-queue.js';
import type { Mailbox } from './mailbox.js';

/** A mailbox together with the function that processes one of its messages. */
export interface Runnable {
  readonly mailbox: Mailbox;
  runOne(message: object): void;
}

/**
 * Drains ready mailboxes one message at a time, round robin, in a microtask, and yields to the event
 * loop (setImmediate) after `budget` messages. A pure microtask drain starves I/O: after 600k
 * microtask hops a 1 ms timer fired 61 ms late (node-stack.md §2d). With the budget, UDP reads and
 * probe timers keep running however busy the actors are.
 */
export class Dispatcher {
  readonly #ready = new RingQueue<Runnable>(16);
  readonly #clock: Clock;
  readonly #budget: number;
  #drainPending = false;
  #stopped = false;
  /** Number of times a drain hit its budget and yielded. */
  yields = 0;

  constructor(clock: Clock, budget: number) {
    this.#clock = clock;
    this.#budget = Math.max(1, budget);
  }

  /** Marks a mailbox ready (it has messages) and makes sure a drain is coming. */
  ready(r: Runnable): void {
    if (r.mailbox.scheduled || this.#stopped) return;
    r.mailbox.scheduled = true;
    this.#ready.push(r);
    if (!this.#drainPending) {
      this.#drainPending = true;
      this.#clock.microtask(this.#drain);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#ready.clear();
  }

  readonly #drain = (): void => {
    // #drainPending stays true while draining, so a message sent by an actor during the drain joins
    // this drain instead of scheduling a second one that would defeat the budget.
    let processed = 0;
    while (processed < this.#budget) {
      const r = this.#ready.shift();
      if (r === undefined) {
        this.#drainPending = false;
        return;
      }
      const message = r.mailbox.take();
      if (message !== undefined) {
        processed++;
        r.runOne(message);
      }
      // One message per turn keeps actors fair; a mailbox with more goes to the back of the line.
      if (r.mailbox.size > 0 && !this.#stopped) this.#ready.push(r);
      else r.mailbox.scheduled = false;
    }
    if (this.#ready.size > 0 && !this.#stopped) {
      this.yields++;
      this.#clock.defer(this.#drain);
    } else {
      this.#drainPending = false;
    }
  };
}
