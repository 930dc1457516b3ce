import { NetworkActor } from './actors/network/network-actor.js';
import { MembershipActor } from './actors/membership/membership-actor.js';
import { ProbeActor } from './actors/probe/probe-actor.js';
import { FacadeActor } from './actors/facade/facade-actor.js';
import { GossipActor } from './actors/gossip/gossip-actor.js';
import { SuspicionActor } from './actors/suspicion/suspicion-actor.js';
import { PushPullActor } from './actors/push-pull/push-pull-actor.js';
import { InlineMergeExecutor, type MergeExecutor } from './actors/push-pull/merge.js';
import { WorkerMergeExecutor } from './actors/push-pull/worker-merge-executor.js';
import { advertiseEndpoint } from './advertise.js';
import { RealClock, type Clock, type TimerHandle } from './clock.js';
import { LayeredCodec } from './codec/layers.js';
import { Keyring } from './security/keyring.js';
import { resolveConfig, PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX, type MemberlistConfig, type NodeConfigOptions } from './config.js';
import { InvalidArgumentError, JoinError, NotRunningError, TransportError } from './errors.js';
import { HookRunner, type Delegates, type HookStats } from './delegates.js';
import { actors } from './gen/index.js';
import type { WireCodec } from './codec/wire-codec.js';
import { UserMessagesActor } from './actors/user-messages/user-messages-actor.js';
import { ReconnectActor } from './actors/reconnect/reconnect-actor.js';
import { KeyManagerActor, KeyOp, type KeyCommandOptions, type KeyManager, type KeyOpCode, type KeyRotationOutcome } from './actors/key-manager/key-manager-actor.js';
import { validateKey } from './security/keyring.js';
import { NodeEvents, type NodeEvent, type NodeEventMap, type NodeEventName } from './events.js';
import { silentLogger, type Logger } from './log.js';
import type { Member } from './member.js';
import { cryptoSeededRandom, type Random } from './random.js';
import type { Actor } from './runtime/actor.js';
import { Supervisor, type ActorStats } from './runtime/supervisor.js';
import { NetTransport } from './transport/net-transport.js';
import type { Endpoint, Transport, TransportStats } from './transport/transport.js';

/** Anything that hands out transports, such as the MemoryNetwork of memberlist-ts/testing. */
export interface TransportFactory {
  createTransport(options: { host?: string; port?: number }): Transport;
}

/** Options of createNode: any config field (see MemberlistConfig) plus the objects a node runs on. */
export interface NodeOptions extends NodeConfigOptions {
  /** pino logger; the node logs nothing without one. */
  logger?: Logger;
  /** Node metadata, at most metaMaxSize bytes, gossiped with our alive message. */
  meta?: Uint8Array;
  /** A ready transport. Default: UDP+TCP bound to bindAddr:bindPort. */
  transport?: Transport;
  /** A network to create our transport on (MemoryNetwork in tests and simulations). */
  network?: TransportFactory;
  /** Time source. Default: the real clock. Simulations pass a VirtualClock. */
  clock?: Clock;
  /** Randomness. Default: seeded from node:crypto. Simulations pass a SeededRandom. */
  random?: Random;
  /**
   * Event listeners attached before the node starts, so that they also see what happens during
   * start-up (our own `join` fires then, as memberlist's NotifyJoin does for the local node).
   */
  listeners?: { [K in NodeEventName]?: (event: NodeEventMap[K]) => void };
  /** Application hooks (memberlist's delegates): see Delegates. Each is optional. */
  delegates?: Delegates;
  /**
   * Push-pull states with at least this many entries are merged on a worker thread (piscina), so a
   * 10,000-member merge costs the protocol thread about 1 ms instead of 5-6 ms (30,000: 4 ms instead
   * of 33 ms). Default 1000, where the two cost about the same; 0 merges everything inline. Nodes on
   * a MemoryNetwork or a virtual clock always merge inline (a simulation must not spawn threads).
   */
  mergeOffloadThreshold?: number;
}

const NON_CONFIG_KEYS = ['logger', 'meta', 'transport', 'network', 'clock', 'random', 'listeners', 'delegates', 'mergeOffloadThreshold'] as const;

/** Traffic and runtime counters of a node. */
export interface NodeMetrics {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: Record<string, number>;
  messagesOut: Record<string, number>;
  dropsIn: Record<string, number>;
  dropsOut: Record<string, number>;
  transport: Readonly<TransportStats>;
  actors: ActorStats[];
  healthScore: number;
  /** Delegate hook calls, throws and slow calls, by hook. */
  hooks: Record<string, HookStats>;
  /** Protocol counters kept by the actors (memberlist's metrics names in comments). */
  protocol: ProtocolMetrics;
}

/** Counters of the protocol actors, read as a snapshot. */
export interface ProtocolMetrics {
  /** Probes started, failed (suspected), saved by TCP, indirect requests sent, stretched by awareness (memberlist.degraded.probe). */
  probes: number;
  probesFailed: number;
  tcpFallbackSuccesses: number;
  indirectPingsSent: number;
  degradedProbes: number;
  /** Acks whose member digest differed from ours (each may trigger a repair push-pull). */
  digestMismatches: number;
  /** Refutations of claims about us. */
  refutations: number;
  /** Suspicion timers started, expired (-> dead), expired with fewer than k confirmations (memberlist.degraded.timeout). */
  suspicionsStarted: number;
  suspicionsExpired: number;
  degradedTimeouts: number;
  /** Broadcasts waiting in the transmit-limited queue (memberlist.queue.broadcasts), and dropped from it. */
  broadcastQueueDepth: number;
  broadcastsDropped: number;
  /** Push-pulls sent, received, failed, and the last and total duration in ms (memberlist.pushPullNode). */
  pushPullsSent: number;
  pushPullsReceived: number;
  pushPullsFailed: number;
  pushPullLastMs: number;
  pushPullTotalMs: number;
}

interface ProtocolActors {
  probe: ProbeActor;
  membership: MembershipActor;
  suspicion: SuspicionActor;
  pushPull: PushPullActor;
  gossip: GossipActor;
}

/**
 * A cluster member: the public face of one node's actors. Create it with createNode(); it is running
 * when the promise resolves, and shutdown() releases every socket, timer and worker it holds.
 */
export class MemberlistNode {
  readonly name: string;
  readonly config: MemberlistConfig;
  readonly #supervisor: Supervisor;
  readonly #transport: Transport;
  readonly #facade: FacadeActor;
  readonly #network: NetworkActor;
  readonly #events: NodeEvents;
  readonly #logger: Logger;
  readonly #advertise: Endpoint;
  readonly #clock: Clock;
  readonly #codec: WireCodec;
  readonly #hooks: HookRunner;
  readonly #mergeExecutor: MergeExecutor;
  readonly #protocol: ProtocolActors;
  #state: 'running' | 'stopping' | 'stopped' = 'running';

  /** @internal use createNode(). */
  constructor(parts: {
    config: MemberlistConfig;
    supervisor: Supervisor;
    transport: Transport;
    facade: FacadeActor;
    network: NetworkActor;
    events: NodeEvents;
    logger: Logger;
    advertise: Endpoint;
    clock: Clock;
    codec: WireCodec;
    hooks: HookRunner;
    mergeExecutor: MergeExecutor;
    protocol: ProtocolActors;
  }) {
    this.name = parts.config.name;
    this.config = parts.config;
    this.#supervisor = parts.supervisor;
    this.#transport = parts.transport;
    this.#facade = parts.facade;
    this.#network = parts.network;
    this.#events = parts.events;
    this.#logger = parts.logger;
    this.#advertise = parts.advertise;
    this.#clock = parts.clock;
    this.#codec = parts.codec;
    this.#hooks = parts.hooks;
    this.#mergeExecutor = parts.mergeExecutor;
    this.#protocol = parts.protocol;
    this.#supervisor.onFailure((error) => {
      this.#logger.error({ err: error }, 'node failed: shutting down');
      this.#events.emit('error', { error });
      void this.shutdown();
    });
  }

  /** The address actually bound (port 0 resolved). */
  get address(): Endpoint {
    return this.#transport.localAddress;
  }

  /** The address advertised to other members. */
  get advertiseAddress(): Endpoint {
    return this.#advertise;
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  /**
   * The AES-GCM keyring when the node was created with a secretKey (undefined otherwise): install a
   * key, use it as the primary, remove an old one, list them (primary first). Changes apply to the
   * next packet and stream.
   */
  get keyring(): Keyring | undefined {
    return this.#codec instanceof LayeredCodec ? this.#codec.keyring : undefined;
  }

  // ───── cluster-wide key rotation (src/actors/key-manager) ─────

  /**
   * Drives a key rotation on every member from this node, as Serf's key manager does: `install(new)`,
   * then `use(new)`, then `remove(old)`, each step waiting for every member's answer. Each resolves
   * with the members that applied the step (this node included), those where it failed and why, and
   * those alive at the start that did not answer within `timeoutMs` (default 5000). The methods
   * reject with InvalidArgumentError when the node has no keyring (created without secretKey) or the
   * key is not 16, 24 or 32 bytes.
   */
  get keyManager(): KeyManager {
    const step = (op: KeyOpCode) => (key: Uint8Array, options: KeyCommandOptions = {}) => this.#keyStep(op, key, options);
    return { install: step(KeyOp.INSTALL), use: step(KeyOp.USE), remove: step(KeyOp.REMOVE) };
  }

  async #keyStep(op: KeyOpCode, key: Uint8Array, options: KeyCommandOptions): Promise<KeyRotationOutcome> {
    this.#assertRunning();
    if (this.keyring === undefined) {
      throw new InvalidArgumentError('keyManager needs encryption: create the node with a secretKey');
    }
    validateKey(key);
    const timeoutMs = options.timeoutMs ?? 5000;
    if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      throw new InvalidArgumentError('keyManager timeoutMs must be a positive number of milliseconds');
    }
    const r = await this.#facade.request(actors.KeyRotationResult, (requestId) =>
      actors.KeyRotationRequest.create({ requestId, op, key: new Uint8Array(key), timeoutMs }),
    );
    return {
      acked: [...r.acked],
      failed: r.failed.map((f) => ({ node: f.node ?? '', error: f.error ?? '' })),
      missing: [...r.missing],
    };
  }

  // ───── end of key rotation ─────

  /** Lifeguard's local health score: 0 is healthy; higher means this node scales its timeouts up. */
  get healthScore(): number {
    return this.#facade.healthScore;
  }

  /** Our own entry. */
  get localMember(): Member | undefined {
    return this.#facade.local;
  }

  /** Every known member, in any state, self included (a snapshot). */
  members(): Member[] {
    return [...this.#facade.members.values()];
  }

  /** Alive members, self included. */
  numMembers(): number {
    let n = 0;
    for (const m of this.#facade.members.values()) if (m.state === 'alive') n++;
    return n;
  }

  on<K extends NodeEventName>(event: K, listener: (e: NodeEventMap[K]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  once<K extends NodeEventName>(event: K, listener: (e: NodeEventMap[K]) => void): this {
    this.#events.once(event, listener);
    return this;
  }

  off<K extends NodeEventName>(event: K, listener: (e: NodeEventMap[K]) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /** Events from now on as an async iterator, holding at most `capacity` (an `overflow` event says how many were dropped). */
  events(capacity?: number): AsyncIterableIterator<NodeEvent> {
    return this.#events.iterate(capacity);
  }

  /**
   * Adds a custom actor to the running node. It receives every message whose class it lists in
   * `accepts` (built-in ones such as PingReceived or MemberChanged, or the user's own generated
   * classes) and may send any message through its context.
   */
  spawn(actor: Actor): void {
    this.#assertRunning();
    this.#supervisor.spawn(actor);
    // An actor that starts late has missed every MemberChanged so far: if it takes snapshots, it gets
    // the whole table now (filter MembersSnapshot by `requester === this.name`).
    if (actor.accepts.includes(actors.MembersSnapshot)) {
      this.#supervisor.send(actors.MembersSnapshotRequest.create({ requester: actor.name }));
    }
  }

  /** Routes a protobuf message to the node's actors, as if an actor had sent it. */
  send(message: object): void {
    this.#assertRunning();
    if (typeof message !== 'object' || message === null) throw new InvalidArgumentError('send() needs a generated protobuf message');
    this.#supervisor.send(message);
  }

  /**
   * Joins a cluster through seed addresses ("host:port", "host" for bindPort, "[v6]:port"; host names
   * resolve to all their addresses): a TCP push-pull with each. Resolves with how many it reached;
   * rejects with a JoinError carrying each seed's cause when it reached none.
   */
  async join(seeds: readonly string[]): Promise<number> {
    this.#assertRunning();
    if (!Array.isArray(seeds) || seeds.some((s) => typeof s !== 'string' || s.trim() === '')) {
      throw new InvalidArgumentError('join() needs an array of non-empty "host:port" strings');
    }
    if (seeds.length === 0) return 0;
    const result = await this.#facade.request(actors.JoinResult, (requestId) => actors.JoinRequest.create({ requestId, seeds: [...seeds] }));
    if (result.reached === 0) {
      throw new JoinError(
        result.seeds.map((s) => ({ seed: s.address ? `${s.seed} (${s.address})` : (s.seed ?? ''), error: new Error(s.error || 'unreachable') })),
      );
    }
    return result.reached;
  }

  /**
   * Leaves the cluster gracefully: broadcasts our own dead message (from = us, which peers record as
   * left, not failed) and waits until it has been sent its retransmit limit or `timeoutMs` passes.
   * The node keeps running (answering probes) until shutdown(). Resolves true when the broadcast
   * completed, false on timeout or when nobody else was alive.
   */
  async leave(timeoutMs = 5000): Promise<boolean> {
    this.#assertRunning();
    if (!(timeoutMs >= 0)) throw new InvalidArgumentError('leave() timeoutMs must be >= 0');
    const done = this.#facade
      .request(actors.LeaveResult, (requestId) => actors.LeaveRequest.create({ requestId }))
      .then((r) => r.broadcastDone);
    const ok = await this.#withTimeout(done, timeoutMs, false);
    if (!ok) this.#logger.info({ timeoutMs }, 'leave broadcast not confirmed: nobody else was alive, or the timeout passed first');
    return ok;
  }

  /**
   * Changes our metadata: gossips an alive message at our next incarnation, and every node fires
   * `update` with the old and new member. Resolves true once the message was sent its retransmit
   * limit (false after `timeoutMs`, or when no other member is alive).
   */
  async updateMeta(meta: Uint8Array, timeoutMs = 5000): Promise<boolean> {
    this.#assertRunning();
    if (!(meta instanceof Uint8Array)) throw new InvalidArgumentError('meta must be a Uint8Array');
    if (meta.length > this.config.metaMaxSize) {
      throw new InvalidArgumentError(`meta is ${meta.length} bytes; metaMaxSize is ${this.config.metaMaxSize} (raise it in the config)`);
    }
    const done = this.#facade
      .request(actors.UpdateMetaResult, (requestId) => actors.UpdateMetaRequest.create({ requestId, meta: new Uint8Array(meta) }))
      .then((r) => r.broadcastDone);
    return this.#withTimeout(done, timeoutMs, false);
  }

  /**
   * Broadcasts `payload` to every member: queued behind membership messages, piggybacked and gossiped
   * like them, delivered once per node as a `message` event (via 'broadcast'). A later broadcast from
   * this node with the same `key` replaces a queued one. The promise resolves when the broadcast has
   * been sent its retransmit limit (true) or was replaced (false).
   */
  broadcast(payload: Uint8Array, options: { key?: string } = {}): Promise<boolean> {
    this.#assertRunning();
    if (!(payload instanceof Uint8Array)) throw new InvalidArgumentError('broadcast payload must be a Uint8Array');
    const key = options.key ?? '';
    if (typeof key !== 'string') throw new InvalidArgumentError('broadcast key must be a string');
    const part = this.#codec.encodePart({ user: { payload, origin: this.name, seq: 0xffffffff, key } });
    this.#checkFits(this.#codec.partSize(part.length) + this.#codec.packetOverhead, 'broadcast');
    return this.#facade
      .request(actors.UserBroadcastSent, (requestId) =>
        actors.UserBroadcastRequest.create({ requestId, payload: new Uint8Array(payload), key, wantCompletion: true }),
      )
      .then((r) => r.transmitted);
  }

  /**
   * Sends `payload` to one member in a single UDP datagram (no retries, no ordering). Rejects with
   * InvalidArgumentError for an unknown or dead member, or a payload that does not fit the packet
   * budget (udpBufferSize); resolves once handed to the network.
   */
  async sendBestEffort(name: string, payload: Uint8Array): Promise<void> {
    const to = this.#target(name, payload);
    const message = { user: { payload: new Uint8Array(payload), from: this.name } };
    this.#checkFits(this.#codec.partSize(this.#codec.encodePart(message).length) + this.#codec.packetOverhead, 'sendBestEffort');
    this.#supervisor.send(actors.SendPacket.create({ to, toNode: name, messages: [message] }));
  }

  /**
   * Sends `payload` to one member over a TCP stream; resolves once written. Rejects for an unknown or
   * dead member, and with a TransportError when the stream could not be opened or written.
   */
  async sendReliable(name: string, payload: Uint8Array): Promise<void> {
    const to = this.#target(name, payload);
    if (payload.length > this.config.maxStreamFrameBytes - 64 - this.#codec.packetOverhead) {
      throw new InvalidArgumentError(`payload is ${payload.length} bytes; maxStreamFrameBytes is ${this.config.maxStreamFrameBytes}`);
    }
    const error = await this.#facade.sendStream(to, { user: { payload: new Uint8Array(payload), from: this.name } }, this.config.tcpTimeoutMs);
    if (error !== '') throw new TransportError(`sendReliable to ${name} failed: ${error}`);
  }

  #target(name: string, payload: Uint8Array): { host: string; port: number } {
    this.#assertRunning();
    if (!(payload instanceof Uint8Array)) throw new InvalidArgumentError('payload must be a Uint8Array');
    const m = this.#facade.members.get(name);
    if (m === undefined) throw new InvalidArgumentError(`unknown member "${name}"`);
    if (m.state === 'dead' || m.state === 'left') throw new InvalidArgumentError(`member "${name}" is ${m.state}`);
    return { host: m.addr, port: m.port };
  }

  #checkFits(packetBytes: number, what: string): void {
    if (packetBytes > this.config.udpBufferSize) {
      throw new InvalidArgumentError(
        `${what}: the message needs ${packetBytes} bytes but a packet holds udpBufferSize = ${this.config.udpBufferSize}; send it with sendReliable or raise udpBufferSize`,
      );
    }
  }

  async #withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: T): Promise<T> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<T>((resolve) => {
      timer = this.#clock.setTimer(timeoutMs, () => resolve(onTimeout));
    });
    const r = await Promise.race([promise, timeout]);
    timer?.cancel();
    return r;
  }

  /** Traffic and runtime counters. */
  metrics(): NodeMetrics {
    const c = this.#network.counters;
    return {
      packetsIn: c.packetsIn,
      packetsOut: c.packetsOut,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      messagesIn: Object.fromEntries(c.messagesIn),
      messagesOut: Object.fromEntries(c.messagesOut),
      dropsIn: Object.fromEntries(c.dropsIn),
      dropsOut: Object.fromEntries(c.dropsOut),
      transport: { ...this.#transport.stats },
      actors: this.#supervisor.stats(),
      healthScore: this.#facade.healthScore,
      hooks: Object.fromEntries([...this.#hooks.stats].map(([k, v]) => [k, { ...v }])),
      protocol: this.#protocolMetrics(),
    };
  }

  #protocolMetrics(): ProtocolMetrics {
    const { probe, membership, suspicion, pushPull, gossip } = this.#protocol;
    return {
      probes: probe.probes,
      probesFailed: probe.probesFailed,
      tcpFallbackSuccesses: probe.tcpFallbackSuccesses,
      indirectPingsSent: probe.indirectPingsSent,
      degradedProbes: probe.degradedProbes,
      digestMismatches: probe.digestMismatches,
      refutations: membership.refutations,
      suspicionsStarted: suspicion.started,
      suspicionsExpired: suspicion.expired,
      degradedTimeouts: suspicion.degradedTimeouts,
      broadcastQueueDepth: gossip.queueDepth,
      broadcastsDropped: gossip.stats.dropped,
      pushPullsSent: pushPull.counters.sent,
      pushPullsReceived: pushPull.counters.received,
      pushPullsFailed: pushPull.counters.failed,
      pushPullLastMs: pushPull.counters.lastDurationMs,
      pushPullTotalMs: pushPull.counters.totalDurationMs,
    };
  }

  /** Stops every actor (reverse start order), closes the transport and ends event iterators. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    await this.#supervisor.stop();
    if (this.#mergeExecutor instanceof WorkerMergeExecutor) await this.#mergeExecutor.close();
    await this.#transport.shutdown();
    this.#events.close();
    this.#state = 'stopped';
    this.#logger.info('node shut down');
  }

  #assertRunning(): void {
    if (this.#state !== 'running') throw new NotRunningError(`node "${this.name}" is ${this.#state}`);
  }
}

function validDelegates(d: Delegates | undefined): Delegates {
  if (d === undefined) return {};
  if (typeof d !== 'object' || d === null) throw new InvalidArgumentError('delegates must be an object of hook functions');
  for (const [k, v] of Object.entries(d)) {
    if (v !== undefined && typeof v !== 'function') throw new InvalidArgumentError(`delegates.${k} must be a function`);
  }
  return d;
}

/**
 * Creates and starts a node: resolves and validates the config (throws ConfigError), binds its
 * transport, and starts its actors. It does not contact anyone until told to (join, or a member
 * learned by gossip).
 */
export async function createNode(options: NodeOptions = {}): Promise<MemberlistNode> {
  const config = resolveConfig(options, NON_CONFIG_KEYS);
  const meta = options.meta ?? new Uint8Array(0);
  if (!(meta instanceof Uint8Array)) throw new InvalidArgumentError('meta must be a Uint8Array');
  if (meta.length > config.metaMaxSize) {
    throw new InvalidArgumentError(`meta is ${meta.length} bytes; metaMaxSize is ${config.metaMaxSize}`);
  }
  const logger = (options.logger ?? silentLogger()).child({ node: config.name });
  const clock = options.clock ?? new RealClock();
  const random = options.random ?? cryptoSeededRandom();
  const transport =
    options.transport ??
    (options.network !== undefined
      ? options.network.createTransport({ host: config.bindAddr === '0.0.0.0' ? undefined : config.bindAddr, port: config.bindPort })
      : await NetTransport.create({ bindAddr: config.bindAddr, bindPort: config.bindPort, clock, logger }));
  const advertise = advertiseEndpoint(transport.localAddress, config.advertiseAddr, config.advertisePort);

  const events = new NodeEvents((err) => logger.warn({ err }, 'event listener threw'));
  for (const [name, listener] of Object.entries(options.listeners ?? {})) {
    if (typeof listener !== 'function') throw new InvalidArgumentError(`listeners.${name} must be a function`);
    events.on(name as NodeEventName, listener as (e: NodeEventMap[NodeEventName]) => void);
  }
  const hooks = new HookRunner(validDelegates(options.delegates), clock, logger.child({ actor: 'delegates' }));
  if (hooks.has('notifyConflict')) {
    events.on('conflict', ({ existing, other }) => void hooks.run('notifyConflict', (d) => d.notifyConflict?.(existing, other), undefined));
  }
  const supervisor = new Supervisor({
    nodeName: config.name,
    clock,
    random,
    logger,
    drainBudget: config.mailboxDrainBudget,
    maxRestarts: config.actorMaxRestarts,
    restartWindowMs: config.actorRestartWindowMs,
  });
  const keyring = config.secretKey !== null ? new Keyring([config.secretKey]) : undefined;
  const codec = new LayeredCodec({
    label: config.label,
    skipInboundLabelCheck: config.skipInboundLabelCheck,
    keyring,
    gossipVerifyIncoming: config.gossipVerifyIncoming,
    gossipVerifyOutgoing: config.gossipVerifyOutgoing,
    enableCompression: config.enableCompression,
    maxPacketBytes: config.maxPacketSize,
    maxStreamFrameBytes: config.maxStreamFrameBytes,
    maxPushPullEntries: config.maxPushPullEntries,
  });
  const network = new NetworkActor(transport, codec, {
    name: config.name,
    maxStreamFrameBytes: config.maxStreamFrameBytes,
    maxConcurrentStreams: config.maxConcurrentPushPulls,
    streamTimeoutMs: config.tcpTimeoutMs,
    cidrsAllowed: config.cidrsAllowed,
  });
  const threshold = options.mergeOffloadThreshold ?? 1000;
  if (!Number.isInteger(threshold) || threshold < 0) throw new InvalidArgumentError('mergeOffloadThreshold must be an integer >= 0');
  const simulated = options.network !== undefined || options.clock !== undefined || options.transport !== undefined;
  const mergeExecutor =
    threshold > 0 && !simulated
      ? new WorkerMergeExecutor({ maxEntries: config.maxPushPullEntries, threshold })
      : new InlineMergeExecutor({ maxEntries: config.maxPushPullEntries });
  const facade = new FacadeActor(events, hooks);
  // Start order: the facade first so it sees our own join; the network before the actors that send.
  supervisor.spawn(facade);
  supervisor.spawn(network);
  const membershipActor = new MembershipActor({
      name: config.name,
      host: advertise.host,
      port: advertise.port,
      meta: new Uint8Array(meta),
      vsn: [
        PROTOCOL_VERSION_MIN,
        PROTOCOL_VERSION_MAX,
        config.protocolVersion,
        config.delegateProtocolMin,
        config.delegateProtocolMax,
        config.delegateProtocolVersion,
      ],
      deadNodeReclaimTimeMs: config.deadNodeReclaimTimeMs,
      suspicionMult: config.suspicionMult,
      suspicionMaxTimeoutMult: config.suspicionMaxTimeoutMult,
      probeIntervalMs: config.probeIntervalMs,
      gossipToTheDeadMs: config.gossipToTheDeadMs,
      authorizeAlive: hooks.has('authorizeAlive')
        ? (member) => {
            const r = hooks.run('authorizeAlive', (d) => d.authorizeAlive?.(member), 'authorizeAlive threw');
            return typeof r.value === 'string' ? r.value : undefined;
          }
        : undefined,
    });
  supervisor.spawn(membershipActor);
  const probeActor = new ProbeActor({
      name: config.name,
      host: advertise.host,
      port: advertise.port,
      probeIntervalMs: config.probeIntervalMs,
      probeTimeoutMs: config.probeTimeoutMs,
      indirectChecks: config.indirectChecks,
      disableTcpPings: config.disableTcpPings,
      awarenessMaxMultiplier: config.awarenessMaxMultiplier,
      ackPayload: hooks.has('ackPayload')
        ? () => hooks.run('ackPayload', (d) => d.ackPayload?.(), undefined).value ?? new Uint8Array(0)
        : undefined,
    });
  supervisor.spawn(probeActor);
  supervisor.spawn(new UserMessagesActor({ name: config.name }));
  supervisor.spawn(
    new ReconnectActor({
      reconnectIntervalMs: config.reconnectIntervalMs,
      reconnectTimeoutMs: config.reconnectTimeoutMs,
      defaultPort: config.bindPort || transport.localAddress.port,
    }),
  );
  const suspicionActor = new SuspicionActor();
  supervisor.spawn(suspicionActor);
  const pushPullActor = new PushPullActor({
      name: config.name,
      pushPullIntervalMs: config.pushPullIntervalMs,
      tcpTimeoutMs: config.tcpTimeoutMs,
      maxPushPullEntries: config.maxPushPullEntries,
      defaultPort: config.bindPort || transport.localAddress.port,
      digestSyncCooldownMs: config.probeIntervalMs,
      hooks,
      mergeExecutor,
    });
  supervisor.spawn(pushPullActor);
  const gossipActor = new GossipActor({
      name: config.name,
      codec,
      retransmitMult: config.retransmitMult,
      gossipIntervalMs: config.gossipIntervalMs,
      gossipNodes: config.gossipNodes,
      gossipToTheDeadMs: config.gossipToTheDeadMs,
      udpBufferSize: config.udpBufferSize,
    });
  supervisor.spawn(gossipActor);
  // Cluster-wide key rotation: the same Keyring object the codec holds (node.keyring).
  supervisor.spawn(new KeyManagerActor({ name: config.name, keyring }));
  const node = new MemberlistNode({ config, supervisor, transport, facade, network, events, logger, advertise, clock, codec, hooks, mergeExecutor,
    protocol: { probe: probeActor, membership: membershipActor, suspicion: suspicionActor, pushPull: pushPullActor, gossip: gossipActor } });
  supervisor.start();
  logger.info({ address: transport.localAddress, advertise, transport: transport.kind }, 'node started');
  return node;
}
