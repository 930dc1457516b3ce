/**
 * Test support: per-link latencies from a hidden 2-D plane, on top of a MemoryNetwork that only has a
 * network-wide latency. Each node sits at a point; a packet from A to B is held back by half the
 * distance between them before it enters the network, so a round trip A -> B -> A costs
 * distance(A, B) plus twice the network's own latency (and its jitter).
 *
 * Only datagrams are delayed: probes (what Vivaldi measures) are UDP pings and acks. Streams (push-pull,
 * the TCP fallback ping) pass through unchanged, which the protocol does not mind.
 */
import type { Clock, TimerHandle, Transport, TransportHandlers, Conn, Endpoint, TransportStats } from '../../src/index.js';

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Where every node sits, keyed by its transport's "host:port". Shared by all the PlaneTransports. */
export class LatencyPlane {
  readonly #points = new Map<string, Point>();

  place(address: Endpoint, point: Point): void {
    this.#points.set(keyOf(address), point);
  }

  pointOf(address: Endpoint): Point | undefined {
    return this.#points.get(keyOf(address));
  }

  /** Distance between two addresses in ms of round trip (0 when either is not placed). */
  distanceMs(a: Endpoint, b: Endpoint): number {
    const pa = this.pointOf(a);
    const pb = this.pointOf(b);
    if (pa === undefined || pb === undefined) return 0;
    return Math.hypot(pa.x - pb.x, pa.y - pb.y);
  }
}

function keyOf(e: Endpoint): string {
  return `${e.host}:${e.port}`;
}

/** A Transport that delays each outgoing datagram by half the plane distance to its destination. */
export class PlaneTransport implements Transport {
  readonly #inner: Transport;
  readonly #plane: LatencyPlane;
  readonly #clock: Clock;
  readonly #pending = new Set<TimerHandle>();
  #closed = false;

  constructor(inner: Transport, plane: LatencyPlane, clock: Clock, point: Point) {
    this.#inner = inner;
    this.#plane = plane;
    this.#clock = clock;
    plane.place(inner.localAddress, point);
  }

  get kind(): string {
    return `plane+${this.#inner.kind}`;
  }

  get localAddress(): Endpoint {
    return this.#inner.localAddress;
  }

  get stats(): Readonly<TransportStats> {
    return this.#inner.stats;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.#inner.setHandlers(handlers);
  }

  sendPacket(to: Endpoint, buf: Uint8Array): boolean {
    if (this.#closed) return false;
    const extra = this.#plane.distanceMs(this.#inner.localAddress, to) / 2;
    if (extra <= 0) return this.#inner.sendPacket(to, buf);
    // The caller may reuse `buf` once we return, as with a socket: keep a copy for later.
    const copy = buf.slice();
    const timer: TimerHandle = this.#clock.setTimer(extra, () => {
      this.#pending.delete(timer);
      if (!this.#closed) this.#inner.sendPacket(to, copy);
    });
    this.#pending.add(timer);
    return true;
  }

  dial(to: Endpoint, timeoutMs: number): Promise<Conn> {
    return this.#inner.dial(to, timeoutMs);
  }

  async shutdown(): Promise<void> {
    this.#closed = true;
    for (const t of this.#pending) t.cancel();
    this.#pending.clear();
    await this.#inner.shutdown();
  }
}
