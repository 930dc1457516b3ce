import { EventEmitter } from 'node:events';
import type { Member } from './member.js';
import { RingQueue } from './util/ring-queue.js';

export type LeaveReason = 'left' | 'failed';

/** How a user message arrived: a cluster broadcast, a best-effort UDP send or a reliable TCP send. */
export type MessageVia = 'broadcast' | 'best-effort' | 'reliable';

/** Every event a node emits, by name, with its payload. */
export interface NodeEventMap {
  join: { member: Member };
  leave: { member: Member; reason: LeaveReason };
  update: { old: Member; member: Member };
  suspect: { member: Member };
  alive: { member: Member };
  /** Two addresses claim one name; the newer claim was refused (memberlist's NotifyConflict). */
  conflict: { existing: Member; other: Member };
  /** A user message: `from` is the broadcast's origin or the direct sender's name; `key` a broadcast's key. */
  message: { payload: Uint8Array; via: MessageVia; from: string; key: string };
  error: { error: Error };
}

export type NodeEventName = keyof NodeEventMap;
/** The event as the async iterator yields it. `overflow` reports events dropped because the consumer was slow. */
export type NodeEvent =
  | { [K in NodeEventName]: { type: K } & NodeEventMap[K] }[NodeEventName]
  | { type: 'overflow'; dropped: number };

type Listener<K extends NodeEventName> = (event: NodeEventMap[K]) => void;

/**
 * Member events as a typed emitter and as bounded async iterators (nats.js style). A listener that
 * throws is caught and logged by the caller's error handler; it never reaches an actor.
 */
export class NodeEvents {
  readonly #emitter = new EventEmitter();
  readonly #iterators = new Set<EventIterator>();
  #closed = false;

  constructor(private readonly onListenerError: (err: unknown) => void) {
    // An `error` event with no listener must not throw into the protocol: it is reported through the
    // logger instead (and still reaches iterators).
    this.#emitter.on('error', () => {});
  }

  on<K extends NodeEventName>(event: K, listener: Listener<K>): void {
    this.#emitter.on(event, listener);
  }

  once<K extends NodeEventName>(event: K, listener: Listener<K>): void {
    this.#emitter.once(event, listener);
  }

  off<K extends NodeEventName>(event: K, listener: Listener<K>): void {
    this.#emitter.off(event, listener);
  }

  emit<K extends NodeEventName>(event: K, payload: NodeEventMap[K]): void {
    for (const listener of this.#emitter.listeners(event) as Listener<K>[]) {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    const e = { type: event, ...payload } as NodeEvent;
    for (const it of this.#iterators) it.push(e);
  }

  /** An async iterator over events from now on, holding at most `capacity` undelivered events. */
  iterate(capacity = 1024): AsyncIterableIterator<NodeEvent> {
    const it = new EventIterator(capacity, () => this.#iterators.delete(it));
    if (this.#closed) it.close();
    else this.#iterators.add(it);
    return it;
  }

  close(): void {
    this.#closed = true;
    for (const it of this.#iterators) it.close();
    this.#iterators.clear();
    this.#emitter.removeAllListeners();
  }
}

class EventIterator implements AsyncIterableIterator<NodeEvent> {
  readonly #queue = new RingQueue<NodeEvent>(16);
  #dropped = 0;
  #waiting: ((r: IteratorResult<NodeEvent>) => void) | undefined;
  #done = false;

  constructor(
    private readonly capacity: number,
    private readonly onClose: () => void,
  ) {}

  push(e: NodeEvent): void {
    if (this.#done) return;
    if (this.#waiting !== undefined) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w({ value: e, done: false });
      return;
    }
    if (this.#queue.size >= this.capacity) {
      this.#dropped++;
      return;
    }
    this.#queue.push(e);
  }

  next(): Promise<IteratorResult<NodeEvent>> {
    if (this.#dropped > 0) {
      const dropped = this.#dropped;
      this.#dropped = 0;
      return Promise.resolve({ value: { type: 'overflow', dropped }, done: false });
    }
    const e = this.#queue.shift();
    if (e !== undefined) return Promise.resolve({ value: e, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<NodeEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.onClose();
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<NodeEvent> {
    return this;
  }
}
