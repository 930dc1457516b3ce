/**
 * Test support (not a test file): transports that wrap another transport.
 *
 * - LayeredTransport applies FrameLayers (label, encryption, checksum, compression) to every datagram
 *   and every stream frame, so whole nodes run the real layers whatever codec createNode builds.
 * - TripwireTransport records any exception a receive handler lets escape (the memory transport would
 *   otherwise swallow it as a drop), so fuzzing can assert that none does.
 */
import { FRAME_LABEL, type FrameLayers } from '../../src/codec/layers.js';
import { createNode } from '../../src/node.js';
import { MemoryNetwork, SeededRandom, VirtualClock } from '../../src/testing/index.js';
import { encodeFrame, FrameDecoder } from '../../src/transport/framing.js';
import type { Conn, ConnHandlers, Endpoint, Transport, TransportHandlers, TransportStats } from '../../src/transport/transport.js';

const MAX_FRAME = 64 * 1024 * 1024;

/** Drops seen by a LayeredTransport, by reason. */
export type Drops = Map<string, number>;

function count(drops: Drops, reason: string): void {
  drops.set(reason, (drops.get(reason) ?? 0) + 1);
}

/** A Conn whose frames pass through the layers: sealed on write, opened on read. */
export class LayeredConn implements Conn {
  readonly #inner: Conn;
  readonly #layers: FrameLayers;
  readonly #drops: Drops;
  readonly #out = new FrameDecoder(MAX_FRAME);
  readonly #in: FrameDecoder;

  constructor(inner: Conn, layers: FrameLayers, drops: Drops) {
    this.#inner = inner;
    this.#layers = layers;
    this.#drops = drops;
    this.#in = new FrameDecoder(layers.maxStreamFrameBytes);
  }

  get remote(): Endpoint {
    return this.#inner.remote;
  }
  get local(): Endpoint {
    return this.#inner.local;
  }
  get writable(): boolean {
    return this.#inner.writable;
  }

  setHandlers(handlers: ConnHandlers): void {
    this.#inner.setHandlers({
      data: (chunk) => {
        let frames: Uint8Array[];
        try {
          frames = this.#in.push(chunk);
        } catch {
          count(this.#drops, 'stream-frame-too-large');
          this.#inner.destroy(new Error('frame too large'));
          return;
        }
        for (const frame of frames) {
          const r = this.#layers.open(frame, 'stream');
          if (!r.ok) {
            count(this.#drops, `stream-${r.reason}`);
            this.#inner.destroy(new Error(r.reason));
            return;
          }
          handlers.data(encodeFrame(r.value));
        }
      },
      end: () => handlers.end(),
      close: (error) => handlers.close(error),
    });
  }

  write(data: Uint8Array): boolean {
    let ok = this.#inner.writable;
    for (const frame of this.#out.push(data)) ok = this.#inner.write(encodeFrame(this.#layers.seal(frame, 'stream'))) && ok;
    return ok;
  }

  end(): void {
    this.#inner.end();
  }

  destroy(error?: Error): void {
    this.#inner.destroy(error);
  }
}

/** A Transport whose datagrams and stream frames pass through FrameLayers. */
export class LayeredTransport implements Transport {
  readonly drops: Drops = new Map();
  /** Datagrams that passed the layers. */
  opened = 0;

  constructor(
    private readonly inner: Transport,
    readonly layers: FrameLayers,
  ) {}

  get kind(): string {
    return `${this.inner.kind}+layers`;
  }
  get localAddress(): Endpoint {
    return this.inner.localAddress;
  }
  get stats(): Readonly<TransportStats> {
    return this.inner.stats;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.inner.setHandlers({
      packet: (buf, from, at) => {
        const r = this.layers.open(buf, 'packet');
        if (!r.ok) {
          count(this.drops, r.reason);
          return;
        }
        this.opened++;
        handlers.packet(r.value, from, at);
      },
      stream: (conn) => handlers.stream(new LayeredConn(conn, this.layers, this.drops)),
    });
  }

  sendPacket(to: Endpoint, buf: Uint8Array): boolean {
    return this.inner.sendPacket(to, this.layers.seal(buf, 'packet'));
  }

  async dial(to: Endpoint, timeoutMs: number): Promise<Conn> {
    return new LayeredConn(await this.inner.dial(to, timeoutMs), this.layers, this.drops);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** Records every exception that a packet, stream or conn handler lets escape, then rethrows it. */
export class TripwireTransport implements Transport {
  readonly escaped: unknown[] = [];

  constructor(private readonly inner: Transport) {}

  get kind(): string {
    return this.inner.kind;
  }
  get localAddress(): Endpoint {
    return this.inner.localAddress;
  }
  get stats(): Readonly<TransportStats> {
    return this.inner.stats;
  }

  #guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        this.escaped.push(err);
        throw err;
      }
    };
  }

  #wrapConn(conn: Conn): Conn {
    const guard = <A extends unknown[]>(fn: (...args: A) => void): ((...args: A) => void) => this.#guard(fn);
    return {
      get remote() {
        return conn.remote;
      },
      get local() {
        return conn.local;
      },
      get writable() {
        return conn.writable;
      },
      setHandlers: (h: ConnHandlers) =>
        conn.setHandlers({ data: guard((c: Uint8Array) => h.data(c)), end: guard(() => h.end()), close: guard((e?: Error) => h.close(e)) }),
      write: (d: Uint8Array) => conn.write(d),
      end: () => conn.end(),
      destroy: (e?: Error) => conn.destroy(e),
    };
  }

  setHandlers(handlers: TransportHandlers): void {
    this.inner.setHandlers({
      packet: this.#guard((buf: Uint8Array, from: Endpoint, at: number) => handlers.packet(buf, from, at)),
      stream: this.#guard((conn: Conn) => handlers.stream(this.#wrapConn(conn))),
    });
  }

  sendPacket(to: Endpoint, buf: Uint8Array): boolean {
    return this.inner.sendPacket(to, buf);
  }

  async dial(to: Endpoint, timeoutMs: number): Promise<Conn> {
    return this.#wrapConn(await this.inner.dial(to, timeoutMs));
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/**
 * Whether createNode applies the layers from its config (label, secretKey...): a labeled node's first
 * stream frame then starts with FRAME_LABEL. Tests of the config path are skipped until it does.
 */
export async function layersWiredInCreateNode(): Promise<boolean> {
  const clock = new VirtualClock();
  const network = new MemoryNetwork({ clock, random: new SeededRandom(1) });
  const listener = network.createTransport({ host: '127.50.0.1' });
  let first: number | undefined;
  listener.setHandlers({
    packet: () => {},
    stream: (conn) => conn.setHandlers({ data: (c) => void (first ??= c[4]), end: () => {}, close: () => {} }),
  });
  const node = await createNode({ name: 'probe', label: 'wired?', clock, random: new SeededRandom(2), network, profile: 'local' });
  const joined = node.join(['127.50.0.1:7946']).catch(() => 0);
  for (let i = 0; i < 50 && first === undefined; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    clock.advance(1);
  }
  clock.advance(10_000);
  await joined;
  await node.shutdown();
  await listener.shutdown();
  if (first === undefined) throw new Error('the wiring probe saw no stream frame');
  return first === FRAME_LABEL;
}
