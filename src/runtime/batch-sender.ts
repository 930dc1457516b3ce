import type { Clock } from '../clock.js';
import { encodeBatch } from './envelope.js';

/**
 * Collects the messages bound for the other side of a thread boundary during one drain and posts
 * them as one transferred buffer in a microtask: a burst costs one postMessage, not one per message
 * (about 1 µs per pipelined message, node-stack.md §2c).
 */
export class BatchSender {
  #pending: object[] = [];
  #scheduled = false;
  #closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly post: (buffer: ArrayBuffer) => void,
  ) {}

  add(message: object): void {
    if (this.#closed) return;
    this.#pending.push(message);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.clock.microtask(this.flush);
    }
  }

  readonly flush = (): void => {
    this.#scheduled = false;
    if (this.#pending.length === 0 || this.#closed) return;
    const batch = this.#pending;
    this.#pending = [];
    this.post(encodeBatch(batch));
  };

  close(): void {
    this.#closed = true;
    this.#pending = [];
  }
}
