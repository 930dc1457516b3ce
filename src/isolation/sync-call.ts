/**
 * Synchronous, bounded calls between two threads: the caller posts a request on a MessagePort and
 * blocks with Atomics.wait on a shared counter until the server's reply arrives or the timeout
 * passes, then takes the reply with receiveMessageOnPort (no event-loop turn on the caller's side).
 * The server answers from its own event loop. Frames are [u32 id][protobuf bytes], so a late reply
 * to an earlier call is recognised and dropped.
 *
 * A server that missed one deadline is probably stalled, and waiting on it again would stall the
 * caller too: after a timeout, calls fail at once until a reply (even a late one) shows the server
 * is back.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/** One side's end of a sync channel (the port is transferred to the thread that uses it). */
export interface SyncEnd {
  port: MessagePort;
  /** Int32 counter the server bumps (and notifies) after every reply; shared by both ends. */
  signal: SharedArrayBuffer;
}

export function createSyncChannel(): { caller: SyncEnd; server: SyncEnd } {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  return { caller: { port: port1, signal }, server: { port: port2, signal } };
}

function frame(id: number, body: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(4 + body.length);
  new DataView(out).setUint32(0, id);
  new Uint8Array(out, 4).set(body);
  return out;
}

function unframe(data: unknown): { id: number; body: Uint8Array } | undefined {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : undefined;
  if (bytes === undefined || bytes.length < 4) return undefined;
  return { id: new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0), body: bytes.subarray(4) };
}

/**
 * Serves calls from the other end: `handler` returns the reply body, or undefined for a one-way
 * message. Returns a function that stops serving and closes the port.
 */
export function serveSync(end: SyncEnd, handler: (body: Uint8Array) => Uint8Array | undefined): () => void {
  const counter = new Int32Array(end.signal);
  const onMessage = (data: unknown): void => {
    const f = unframe(data);
    if (f === undefined) return;
    const reply = handler(f.body);
    if (reply === undefined) return;
    const buf = frame(f.id, reply);
    end.port.postMessage(buf, [buf]);
    Atomics.add(counter, 0, 1);
    Atomics.notify(counter, 0);
  };
  end.port.on('message', onMessage);
  return () => {
    end.port.off('message', onMessage);
    end.port.close();
  };
}

export class SyncCaller {
  readonly #port: MessagePort;
  readonly #counter: Int32Array;
  #nextId = 0;
  #serverStalled = false;
  /** Calls that got no reply in time (or were refused at once while the server was stalled). */
  timeouts = 0;

  constructor(end: SyncEnd) {
    this.#port = end.port;
    this.#counter = new Int32Array(end.signal);
  }

  /** Whether the last call timed out and no reply has come since. */
  get serverStalled(): boolean {
    return this.#serverStalled;
  }

  /** Posts a message that wants no reply. */
  post(body: Uint8Array): void {
    const buf = frame(this.#id(), body);
    this.#port.postMessage(buf, [buf]);
  }

  /** Calls and waits at most `timeoutMs`; undefined on timeout. */
  call(body: Uint8Array, timeoutMs: number): Uint8Array | undefined {
    if (this.#serverStalled) {
      this.#drain(0);
      if (this.#serverStalled) {
        this.timeouts++;
        return undefined;
      }
    }
    const id = this.#id();
    const buf = frame(id, body);
    this.#port.postMessage(buf, [buf]);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // Read the counter before looking at the port: a reply posted in between bumps it, so the
      // wait below returns at once instead of missing the notify.
      const seen = Atomics.load(this.#counter, 0);
      const reply = this.#drain(id);
      if (reply !== undefined) return reply;
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(this.#counter, 0, seen, left);
    }
    this.#serverStalled = true;
    this.timeouts++;
    return undefined;
  }

  /** Reads every queued reply, returning the one for `id` (0: none wanted); any reply shows the server is back. */
  #drain(id: number): Uint8Array | undefined {
    for (;;) {
      const r = receiveMessageOnPort(this.#port);
      if (r === undefined) return undefined;
      const f = unframe(r.message);
      if (f === undefined) continue;
      this.#serverStalled = false;
      if (id !== 0 && f.id === id) return f.body;
    }
  }

  #id(): number {
    this.#nextId = (this.#nextId + 1) >>> 0 || 1;
    return this.#nextId;
  }

  close(): void {
    this.#port.close();
  }
}
