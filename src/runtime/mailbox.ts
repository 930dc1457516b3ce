import { RingQueue } from '../util/ring-queue.js';

/**
 * A bounded FIFO of messages for one actor. A full mailbox drops the new message and counts it:
 * under overload the node sheds work instead of growing without limit (memberlist's handoff queue).
 */
export class Mailbox {
  readonly #queue = new RingQueue<object>(32);
  readonly capacity: number;
  dropped = 0;
  /** Whether the mailbox is in the scheduler's ready queue (so it is not queued twice). */
  scheduled = false;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#queue.size;
  }

  /** Returns false (and counts a drop) when the mailbox is full. */
  offer(message: object): boolean {
    if (this.#queue.size >= this.capacity) {
      this.dropped++;
      return false;
    }
    this.#queue.push(message);
    return true;
  }

  take(): object | undefined {
    return this.#queue.shift();
  }

  clear(): void {
    this.#queue.clear();
  }
}
