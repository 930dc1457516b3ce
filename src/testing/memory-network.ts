/**
 * A simulated network for tests and simulations: MemoryTransports attached to one MemoryNetwork exchange
 * packets and streams with latency, jitter, loss, partitions, one-way blocks and crashed nodes, all
 * scheduled on a Clock (normally a VirtualClock) and drawn from a seeded Random, so that a run is
 * reproducible from its seed. Nothing here reads real time or sets real timers.
 *
 * Fault model:
 * - Packets are checked for faults when sent and again when they land, so a partition also swallows
 *   packets already in flight. Random loss applies to packets only (TCP retransmits).
 * - A stream whose link is cut (partition, block in either direction, crash) is severed: both sides get
 *   `close` with an error one latency later, and data in flight is lost. The cut is noticed when the
 *   fault is introduced, on the next write, and when in-flight data lands.
 * - A dial across a cut link hears nothing and rejects with ERR_DIAL_TIMEOUT when its timeout elapses;
 *   a dial to an address nobody listens on is refused (ERR_TRANSPORT) after one latency.
 * - A slow node (setProcessingDelay) handles everything late: what it sends and what it receives (packets,
 *   stream segments, dials) takes its processing delay on top of the link's, at each slow end.
 */
import { isIP } from 'node:net';

import type { Clock, TimerHandle } from '../clock.js';
import { InvalidArgumentError, TransportError } from '../errors.js';
import type { Random } from '../random.js';
import {
  endpointKey,
  newTransportStats,
  type Conn,
  type ConnHandlers,
  type Endpoint,
  type Transport,
  type TransportHandlers,
  type TransportStats,
} from '../transport/transport.js';

export interface MemoryNetworkOptions {
  clock: Clock;
  random: Random;
  /** One-way delay of every packet and stream segment. Default 1 ms. */
  latencyMs?: number;
  /** Extra delay drawn uniformly from [0, jitterMs] per packet (packets may reorder). Default 0. */
  jitterMs?: number;
  /** Probability that a packet is lost, 0..1. Default 0. */
  lossRate?: number;
}

export interface MemoryTransportOptions {
  /** An IP literal; by default a fresh host 127.0.0.2, 127.0.0.3, … is allocated. */
  host?: string;
  /** Default 7946 (memberlist's port); 0 allocates a free port on the host from 49152 up. */
  port?: number;
  /** Largest packet sendPacket accepts, as for UDP. Default 65507. */
  maxPacketSize?: number;
}

/** A node or a whole host in fault rules: an Endpoint means that address, a string means every port of that host. */
export type NodeRef = Endpoint | string;

export interface MemoryNetworkStats {
  /** Packets handed to the network by a transport. */
  packetsSent: number;
  /** Packets handed to a receiving transport. */
  packetsDelivered: number;
  bytesDelivered: number;
  packetsDroppedLoss: number;
  /** Lost to a partition, a one-way block or a crashed node. */
  packetsDroppedPartition: number;
  /** Landed on an address with no transport. */
  packetsDroppedUnreachable: number;
  streamsOpened: number;
  /** Bytes written into streams (push-pulls, TCP pings, reliable messages), counted at the write. */
  streamBytesSent: number;
  /** Streams severed by a partition, block or crash. */
  streamsSevered: number;
}

const DEFAULT_PORT = 7946;
const FIRST_EPHEMERAL_PORT = 49152;
const DEFAULT_MAX_PACKET = 65507;

/** An endpoint with its key computed once, since fault checks look it up on every packet. */
interface Addr extends Endpoint {
  readonly key: string;
}

function toAddr(e: Endpoint): Addr {
  return { host: e.host, port: e.port, key: endpointKey(e) };
}

/** Hosts are plain strings and endpoints always carry ":port", so both kinds share one key space. */
function refKey(ref: NodeRef): string {
  return typeof ref === 'string' ? ref : endpointKey(ref);
}

function matches(refs: ReadonlySet<string>, a: Addr): boolean {
  return refs.has(a.key) || refs.has(a.host);
}

function linkKey(from: string, to: string): string {
  return `${from} -> ${to}`;
}

function checkRate(name: string, rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new InvalidArgumentError(`${name} must be in [0, 1], got ${rate}`);
}

function checkDelay(name: string, ms: number): void {
  if (!(ms >= 0 && Number.isFinite(ms))) throw new InvalidArgumentError(`${name} must be a finite number >= 0, got ${ms}`);
}

/** One bound address on the network: the state behind a MemoryTransport handle. */
interface Station {
  readonly addr: Addr;
  readonly localAddress: Endpoint;
  readonly stats: TransportStats;
  readonly maxPacketSize: number;
  readonly conns: Set<MemoryConn>;
  /** Aborts of the dials in progress from this station. */
  readonly dials: Set<(error: Error) => void>;
  handlers: TransportHandlers | undefined;
  closed: boolean;
}

/** A simulated network. Create one per test or simulation; transports on different networks never meet. */
export class MemoryNetwork {
  readonly #fabric: Fabric;

  constructor(options: MemoryNetworkOptions) {
    this.#fabric = new Fabric(options);
  }

  /** Attaches a new transport. Throws ERR_TRANSPORT if host:port is already taken on this network. */
  createTransport(options: MemoryTransportOptions = {}): MemoryTransport {
    return new MemoryTransport(this.#fabric, this.#fabric.attach(options));
  }

  get stats(): Readonly<MemoryNetworkStats> {
    return this.#fabric.stats;
  }

  setLoss(rate: number): void {
    checkRate('lossRate', rate);
    this.#fabric.lossRate = rate;
  }

  /** Loss on packets from `from` to `to` only, on top of the network-wide rate. 0 removes the rule. */
  setLinkLoss(from: NodeRef, to: NodeRef, rate: number): void {
    checkRate('link loss rate', rate);
    const key = linkKey(refKey(from), refKey(to));
    if (rate === 0) this.#fabric.linkLoss.delete(key);
    else this.#fabric.linkLoss.set(key, rate);
  }

  /** Sets the one-way latency; `jitterMs` keeps its current value when omitted. */
  setLatency(ms: number, jitterMs?: number): void {
    checkDelay('latencyMs', ms);
    if (jitterMs !== undefined) checkDelay('jitterMs', jitterMs);
    this.#fabric.latencyMs = ms;
    if (jitterMs !== undefined) this.#fabric.jitterMs = jitterMs;
  }

  /**
   * Makes a node slow, as one whose event loop is starved: everything it sends and everything it receives
   * (packets, stream segments, dials, in both directions) takes `ms` more, on top of the link latency. A
   * round trip with a slow node is therefore 2 × `ms` longer (4 × between two slow nodes). Its timers still
   * run on time. 0 makes it fast again; heal() does not. Applies to packets and segments sent from now on.
   */
  setProcessingDelay(node: NodeRef, ms: number): void {
    checkDelay('processing delay', ms);
    if (ms === 0) this.#fabric.processingDelay.delete(refKey(node));
    else this.#fabric.processingDelay.set(refKey(node), ms);
  }

  /** Nothing crosses between the groups, either way, until heal(). */
  partition(groupA: ReadonlyArray<NodeRef>, groupB: ReadonlyArray<NodeRef>): void {
    this.#fabric.partitions.push({ a: new Set(groupA.map(refKey)), b: new Set(groupB.map(refKey)) });
    this.#fabric.severCutStreams();
  }

  /** Drops everything from `from` to `to` (one way) until unblockLink or heal. */
  blockLink(from: NodeRef, to: NodeRef): void {
    this.#fabric.blocked.add(linkKey(refKey(from), refKey(to)));
    this.#fabric.severCutStreams();
  }

  unblockLink(from: NodeRef, to: NodeRef): void {
    this.#fabric.blocked.delete(linkKey(refKey(from), refKey(to)));
  }

  /** Removes every partition, blocked link and link loss (crashes stay until restore). */
  heal(): void {
    this.#fabric.partitions.length = 0;
    this.#fabric.blocked.clear();
    this.#fabric.linkLoss.clear();
  }

  /** The node drops off the network both ways and its open streams break, until restore(). */
  crash(node: NodeRef): void {
    this.#fabric.crashed.add(refKey(node));
    this.#fabric.severCutStreams();
  }

  restore(node: NodeRef): void {
    this.#fabric.crashed.delete(refKey(node));
  }

  isCrashed(node: NodeRef): boolean {
    return this.#fabric.crashed.has(refKey(node));
  }
}

/** A Transport on a MemoryNetwork. Obtain one from MemoryNetwork.createTransport. */
export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  readonly localAddress: Endpoint;
  readonly #fabric: Fabric;
  readonly #station: Station;
  #shutdown: Promise<void> | undefined;

  /** @internal Use MemoryNetwork.createTransport. */
  constructor(fabric: Fabric, station: Station) {
    this.#fabric = fabric;
    this.#station = station;
    this.localAddress = station.localAddress;
  }

  get stats(): Readonly<TransportStats> {
    return this.#station.stats;
  }

  setHandlers(handlers: TransportHandlers): void {
    this.#station.handlers = handlers;
  }

  sendPacket(to: Endpoint, buf: Uint8Array): boolean {
    return this.#fabric.sendPacket(this.#station, to, buf);
  }

  dial(to: Endpoint, timeoutMs: number): Promise<Conn> {
    return this.#fabric.dial(this.#station, to, timeoutMs);
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= Promise.resolve(this.#fabric.detach(this.#station));
    return this.#shutdown;
  }
}

/** The network's state and mechanics, shared by the MemoryNetwork facade, its transports and streams. */
class Fabric {
  readonly clock: Clock;
  readonly #random: Random;
  latencyMs: number;
  jitterMs: number;
  lossRate: number;
  readonly stats: MemoryNetworkStats = {
    packetsSent: 0,
    packetsDelivered: 0,
    bytesDelivered: 0,
    packetsDroppedLoss: 0,
    packetsDroppedPartition: 0,
    packetsDroppedUnreachable: 0,
    streamsOpened: 0,
    streamBytesSent: 0,
    streamsSevered: 0,
  };
  readonly partitions: Array<{ a: Set<string>; b: Set<string> }> = [];
  /** linkKey(fromRef, toRef) of one-way blocks. */
  readonly blocked = new Set<string>();
  readonly linkLoss = new Map<string, number>();
  /** refKeys of crashed nodes or hosts. */
  readonly crashed = new Set<string>();
  /** refKey -> processing delay of slow nodes or hosts (setProcessingDelay). */
  readonly processingDelay = new Map<string, number>();
  readonly #stations = new Map<string, Station>();
  /** Transports per host, so default allocation never hands out a host already in use. */
  readonly #hostUse = new Map<string, number>();
  #nextHost = 2;
  /** Every open stream (both sides), for severing on a fault. */
  readonly #conns = new Set<MemoryConn>();

  constructor(options: MemoryNetworkOptions) {
    this.clock = options.clock;
    this.#random = options.random;
    this.latencyMs = options.latencyMs ?? 1;
    this.jitterMs = options.jitterMs ?? 0;
    this.lossRate = options.lossRate ?? 0;
    checkDelay('latencyMs', this.latencyMs);
    checkDelay('jitterMs', this.jitterMs);
    checkRate('lossRate', this.lossRate);
  }

  attach(options: MemoryTransportOptions): Station {
    let host = options.host;
    if (host === undefined) {
      do host = allocatedHost(this.#nextHost++);
      while (this.#hostUse.has(host));
    } else if (isIP(host) === 0) {
      throw new InvalidArgumentError(`host must be an IP literal, got "${host}"`);
    }
    let port = options.port ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`port must be in 0..65535, got ${port}`);
    if (port === 0) {
      port = FIRST_EPHEMERAL_PORT;
      while (this.#stations.has(endpointKey({ host, port }))) {
        if (++port > 65535) throw new TransportError(`no free port left on ${host}`, 'ERR_TRANSPORT');
      }
    }
    const localAddress: Endpoint = { host, port };
    const addr = toAddr(localAddress);
    if (this.#stations.has(addr.key)) throw new TransportError(`address ${addr.key} is already in use`, 'ERR_TRANSPORT');
    const station: Station = {
      addr,
      localAddress,
      stats: newTransportStats(),
      maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET,
      conns: new Set(),
      dials: new Set(),
      handlers: undefined,
      closed: false,
    };
    this.#stations.set(addr.key, station);
    this.#hostUse.set(host, (this.#hostUse.get(host) ?? 0) + 1);
    return station;
  }

  detach(station: Station): void {
    if (station.closed) return;
    station.closed = true;
    this.#stations.delete(station.addr.key);
    const left = (this.#hostUse.get(station.addr.host) ?? 1) - 1;
    if (left === 0) this.#hostUse.delete(station.addr.host);
    else this.#hostUse.set(station.addr.host, left);
    for (const abort of [...station.dials]) abort(new TransportError('transport shut down during dial', 'ERR_TRANSPORT'));
    const error = new TransportError('transport shut down', 'ERR_STREAM_CLOSED');
    for (const conn of [...station.conns]) conn.destroy(error);
  }

  /** One-way delay for the next packet or segment. Draws from the Random only when there is jitter. */
  delay(): number {
    return this.jitterMs > 0 ? this.latencyMs + this.#random.next() * this.jitterMs : this.latencyMs;
  }

  /** The extra delay a slow node at `from` and one at `to` add to a packet, segment or dial between them. */
  slowness(from: Addr, to: Addr): number {
    if (this.processingDelay.size === 0) return 0;
    const of = (a: Addr): number => Math.max(this.processingDelay.get(a.key) ?? 0, this.processingDelay.get(a.host) ?? 0);
    return of(from) + of(to);
  }

  /** Whether nothing gets from `from` to `to` right now. */
  isCut(from: Addr, to: Addr): boolean {
    if (this.crashed.size > 0 && (matches(this.crashed, from) || matches(this.crashed, to))) return true;
    for (const p of this.partitions) {
      if ((matches(p.a, from) && matches(p.b, to)) || (matches(p.b, from) && matches(p.a, to))) return true;
    }
    if (this.blocked.size > 0) {
      for (const f of [from.key, from.host]) {
        for (const t of [to.key, to.host]) if (this.blocked.has(linkKey(f, t))) return true;
      }
    }
    return false;
  }

  /** TCP needs both directions: a stream dies if either is cut. */
  isStreamCut(a: Addr, b: Addr): boolean {
    return this.isCut(a, b) || this.isCut(b, a);
  }

  #lossRate(from: Addr, to: Addr): number {
    let link = 0;
    if (this.linkLoss.size > 0) {
      for (const f of [from.key, from.host]) {
        for (const t of [to.key, to.host]) link = Math.max(link, this.linkLoss.get(linkKey(f, t)) ?? 0);
      }
    }
    // Independent losses: a packet survives only if it survives both.
    return 1 - (1 - this.lossRate) * (1 - link);
  }

  sendPacket(station: Station, to: Endpoint, buf: Uint8Array): boolean {
    if (station.closed || buf.length > station.maxPacketSize) {
      station.stats.packetsDropped++;
      return false;
    }
    station.stats.packetsSent++;
    station.stats.bytesSent += buf.length;
    this.stats.packetsSent++;
    const dest = toAddr(to);
    if (this.isCut(station.addr, dest)) {
      this.stats.packetsDroppedPartition++;
      return true;
    }
    const loss = this.#lossRate(station.addr, dest);
    if (loss > 0 && this.#random.next() < loss) {
      this.stats.packetsDroppedLoss++;
      return true;
    }
    // Copied now: the sender may reuse its buffer as soon as we return, as with a UDP socket.
    const copy = buf.slice();
    this.clock.setTimer(this.delay() + this.slowness(station.addr, dest), () => this.#land(station, dest, copy));
    return true;
  }

  #land(from: Station, to: Addr, buf: Uint8Array): void {
    if (this.isCut(from.addr, to)) {
      this.stats.packetsDroppedPartition++;
      return;
    }
    const dest = this.#stations.get(to.key);
    if (dest === undefined) {
      this.stats.packetsDroppedUnreachable++;
      return;
    }
    this.stats.packetsDelivered++;
    this.stats.bytesDelivered += buf.length;
    dest.stats.packetsReceived++;
    dest.stats.bytesReceived += buf.length;
    const handlers = dest.handlers;
    if (buf.length === 0 || handlers === undefined) {
      dest.stats.packetsDropped++;
      return;
    }
    try {
      handlers.packet(buf, from.localAddress, this.clock.now());
    } catch {
      dest.stats.packetsDropped++;
    }
  }

  dial(station: Station, to: Endpoint, timeoutMs: number): Promise<Conn> {
    if (station.closed) return Promise.reject(new TransportError('transport is shut down', 'ERR_TRANSPORT'));
    const dest = toAddr(to);
    return new Promise<Conn>((resolve, reject) => {
      let timeout: TimerHandle | undefined;
      let arrival: TimerHandle | undefined;
      const finish = (error: Error | undefined, conn?: MemoryConn): void => {
        station.dials.delete(finish);
        timeout?.cancel();
        arrival?.cancel();
        if (conn !== undefined) resolve(conn);
        else reject(error);
      };
      station.dials.add(finish);
      timeout = this.clock.setTimer(timeoutMs, () =>
        finish(new TransportError(`dial ${dest.key} timed out after ${timeoutMs} ms`, 'ERR_DIAL_TIMEOUT')),
      );
      arrival = this.clock.setTimer(this.delay() + this.slowness(station.addr, dest), () => {
        // A cut link loses the SYN: the dialer hears nothing and its timeout decides.
        if (this.isStreamCut(station.addr, dest)) return;
        const peer = this.#stations.get(dest.key);
        if (peer === undefined || peer.handlers === undefined) {
          finish(new TransportError(`dial ${dest.key} failed: connection refused`, 'ERR_TRANSPORT'));
          return;
        }
        const handlers = peer.handlers;
        const ours = new MemoryConn(this, station, station.localAddress, { host: to.host, port: to.port });
        const theirs = new MemoryConn(this, peer, peer.localAddress, station.localAddress);
        ours.peer = theirs;
        theirs.peer = ours;
        this.stats.streamsOpened++;
        station.stats.streamsOpened++;
        peer.stats.streamsAccepted++;
        finish(undefined, ours);
        try {
          handlers.stream(theirs);
        } catch (err) {
          peer.stats.packetsDropped++;
          theirs.destroy(err instanceof Error ? err : new TransportError(String(err), 'ERR_STREAM_CLOSED'));
        }
      });
    });
  }

  register(conn: MemoryConn): void {
    this.#conns.add(conn);
  }

  forget(conn: MemoryConn): void {
    this.#conns.delete(conn);
  }

  /** Severs every open stream whose link a new fault has cut. */
  severCutStreams(): void {
    for (const conn of [...this.#conns]) {
      if (conn.isCut()) conn.sever();
    }
  }
}

/** 127.0.0.2, 127.0.0.3, …, 127.0.1.0, …: unique loopback-looking hosts. */
function allocatedHost(n: number): string {
  return `127.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Something in flight towards one side of a stream. */
type Segment = { at: number; kind: 'data'; chunk: Uint8Array } | { at: number; kind: 'end' } | { at: number; kind: 'reset' };

/** What a side reports to its handlers, buffered until they are set. */
type ConnEvent = { kind: 'data'; chunk: Uint8Array } | { kind: 'end' } | { kind: 'close'; error: Error | undefined };

/**
 * One side of an in-memory stream. Segments towards this side form a FIFO with non-decreasing arrival
 * times and one timer for the head, so data stays in order under jitter and whatever the clock's tie
 * breaking.
 */
class MemoryConn implements Conn {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Set right after construction: the two sides are created together. */
  peer!: MemoryConn;
  readonly #fabric: Fabric;
  readonly #station: Station;
  readonly #localAddr: Addr;
  readonly #remoteAddr: Addr;
  #inbound: Array<Segment | undefined> = [];
  #inHead = 0;
  /** True inside #arrive, which re-arms the timer itself once it is done. */
  #arriving = false;
  #lastArrival = -Infinity;
  #timer: TimerHandle | undefined;
  #handlers: ConnHandlers | undefined;
  #backlog: ConnEvent[] = [];
  #flushScheduled = false;
  #localEnded = false;
  #remoteEnded = false;
  /** destroy() was called or the link was severed: no more writes, close is on its way. */
  #dead = false;
  #closed = false;

  constructor(fabric: Fabric, station: Station, local: Endpoint, remote: Endpoint) {
    this.#fabric = fabric;
    this.#station = station;
    this.local = local;
    this.remote = remote;
    this.#localAddr = toAddr(local);
    this.#remoteAddr = toAddr(remote);
    station.conns.add(this);
    fabric.register(this);
  }

  get writable(): boolean {
    return !this.#localEnded && !this.#dead && !this.#closed;
  }

  setHandlers(handlers: ConnHandlers): void {
    this.#handlers = handlers;
    // Deferred rather than flushed here, so a caller may finish its own setup after setHandlers returns.
    if (this.#backlog.length > 0) this.#scheduleFlush();
  }

  write(data: Uint8Array): boolean {
    if (!this.writable) return false;
    if (this.isCut()) {
      this.sever();
      return false;
    }
    if (data.length > 0) {
      this.#fabric.stats.streamBytesSent += data.length;
      this.peer.#enqueue({ at: 0, kind: 'data', chunk: data.slice() });
    }
    return true;
  }

  end(): void {
    if (this.#localEnded || this.#dead || this.#closed) return;
    this.#localEnded = true;
    this.peer.#enqueue({ at: 0, kind: 'end' });
    if (this.#remoteEnded) this.#fabric.clock.defer(() => this.#finish(undefined));
  }

  destroy(error?: Error): void {
    if (this.#dead || this.#closed) return;
    this.#dead = true;
    this.#dropInbound();
    // The reset travels behind the data already sent, like a TCP RST after its segments.
    this.peer.#enqueue({ at: 0, kind: 'reset' });
    this.#fabric.clock.defer(() => this.#finish(error));
  }

  isCut(): boolean {
    return this.#fabric.isStreamCut(this.#localAddr, this.#remoteAddr);
  }

  /** The link broke: both sides lose what is in flight and close with an error one latency later. */
  sever(): void {
    let severed = false;
    for (const side of [this, this.peer]) {
      // A side already dead (destroyed or severed) has its close on the way.
      if (side.#dead || side.#closed) continue;
      severed = true;
      side.#dead = true;
      side.#dropInbound();
      const error = new TransportError(`stream ${side.#remoteAddr.key}: connection lost`, 'ERR_STREAM_CLOSED');
      this.#fabric.clock.setTimer(this.#fabric.latencyMs, () => side.#finish(error));
    }
    if (severed) this.#fabric.stats.streamsSevered++;
  }

  #enqueue(segment: Segment): void {
    if (this.#dead || this.#closed) return;
    const now = this.#fabric.clock.now();
    segment.at = Math.max(now + this.#fabric.delay() + this.#fabric.slowness(this.#remoteAddr, this.#localAddr), this.#lastArrival);
    this.#lastArrival = segment.at;
    this.#inbound.push(segment);
    if (this.#timer === undefined && !this.#arriving) this.#arm();
  }

  #arm(): void {
    const head = this.#inbound[this.#inHead];
    if (head === undefined) return;
    this.#timer = this.#fabric.clock.setTimer(head.at - this.#fabric.clock.now(), () => this.#arrive());
  }

  #arrive(): void {
    this.#timer = undefined;
    const now = this.#fabric.clock.now();
    this.#arriving = true;
    try {
      // The head is due (its timer fired; a real timer may fire a hair early); whatever is queued behind
      // it for the same instant lands in the same turn.
      let first = true;
      for (;;) {
        const seg = this.#inbound[this.#inHead];
        if (seg === undefined || (!first && seg.at > now)) break;
        first = false;
        this.#inbound[this.#inHead++] = undefined;
        this.#land(seg);
        if (this.#dead || this.#closed) return;
      }
    } finally {
      this.#arriving = false;
    }
    if (this.#inHead === this.#inbound.length) {
      this.#inbound = [];
      this.#inHead = 0;
    } else {
      this.#arm();
    }
  }

  #land(seg: Segment): void {
    if (seg.kind === 'reset') {
      this.#dead = true;
      this.#dropInbound();
      this.#finish(new TransportError(`stream ${this.#remoteAddr.key}: connection reset by peer`, 'ERR_STREAM_CLOSED'));
      return;
    }
    if (this.isCut()) {
      this.sever();
      return;
    }
    if (seg.kind === 'data') {
      this.#emit({ kind: 'data', chunk: seg.chunk });
      return;
    }
    this.#remoteEnded = true;
    this.#emit({ kind: 'end' });
    if (this.#localEnded) this.#finish(undefined);
  }

  #dropInbound(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#inbound = [];
    this.#inHead = 0;
  }

  #finish(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dropInbound();
    this.#station.conns.delete(this);
    this.#fabric.forget(this);
    this.#emit({ kind: 'close', error });
  }

  #emit(event: ConnEvent): void {
    if (this.#handlers !== undefined && this.#backlog.length === 0) this.#dispatch(this.#handlers, event);
    else this.#backlog.push(event);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    this.#fabric.clock.defer(() => {
      this.#flushScheduled = false;
      const handlers = this.#handlers;
      if (handlers === undefined) return;
      // Events emitted while flushing join the backlog behind the ones being flushed, keeping order.
      for (let i = 0; i < this.#backlog.length; i++) this.#dispatch(handlers, this.#backlog[i] as ConnEvent);
      this.#backlog = [];
    });
  }

  #dispatch(handlers: ConnHandlers, event: ConnEvent): void {
    try {
      if (event.kind === 'data') handlers.data(event.chunk);
      else if (event.kind === 'end') handlers.end();
      else handlers.close(event.error);
    } catch (err) {
      // A throwing handler leaves the stream's state unknown: treat it like a local failure.
      if (event.kind !== 'close') this.destroy(err instanceof Error ? err : new TransportError(String(err), 'ERR_STREAM_CLOSED'));
    }
  }
}
