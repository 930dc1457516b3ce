import { FacadeActor } from './actors/facade/facade-actor.js';
import { advertiseEndpoint } from './advertise.js';
import { RealClock, type Clock, type TimerHandle } from './clock.js';
import { Keyring } from './security/keyring.js';
import { resolveConfig, type MemberlistConfig, type NodeConfigOptions } from './config.js';
import { InvalidArgumentError, JoinError, NotRunningError, TransportError } from './errors.js';
import { HookRunner, type Delegates } from './delegates.js';
import { actors } from './gen/index.js';
import type { WireCodec } from './codec/wire-codec.js';
import { KeyOp, type KeyCommandOptions, type KeyManager, type KeyOpCode, type KeyRotationOutcome } from './actors/key-manager/key-manager-actor.js';
import { validateKey } from './security/keyring.js';
import { NodeEvents, type NodeEvent, type NodeEventMap, type NodeEventName } from './events.js';
import { silentLogger, type Logger } from './log.js';
import { memberFromShared, type Member } from './member.js';
import { cryptoSeededRandom, type Random } from './random.js';
import type { Actor } from './runtime/actor.js';
import { Supervisor } from './runtime/supervisor.js';
import { NetTransport } from './transport/net-transport.js';
import type { Endpoint, Transport } from './transport/transport.js';
import {
  createCodec,
  createMergeExecutor,
  spawnProtocolStack,
  type ProtocolMetrics,
  type ProtocolStack,
  type ProtocolThreadMetrics,
} from './protocol-stack.js';
import { InlineBackend, type ProtocolBackend, type Threading } from './protocol-backend.js';
import { IsolatedBackend, type IsolationOptions } from './isolation/isolated-backend.js';

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
  /**
   * Where the protocol actors run. 'isolated' (the default with real sockets): on a dedicated worker
   * thread that binds the node's sockets, so the host's event-loop stalls (GC, CPU-heavy requests,
   * long synchronous calls) never delay an ack and never make this node look dead; the node object
   * talks to it by protobuf messages. 'inline' (the default, and the only choice, with a transport,
   * network or clock object): on the caller's thread, as in simulations; the node then watches its
   * own event-loop delay and backs off (Lifeguard) when it stalls.
   */
  threading?: Threading;
  /** Options of the isolated protocol thread: hook timeouts and fallbacks, modules run inside it, crash policy, heap limits. */
  isolation?: IsolationOptions;
}

const NON_CONFIG_KEYS = ['logger', 'meta', 'transport', 'network', 'clock', 'random', 'listeners', 'delegates', 'mergeOffloadThreshold', 'threading', 'isolation'] as const;

/** Traffic and runtime counters of a node. */
export interface NodeMetrics extends ProtocolThreadMetrics {
  healthScore: number;
  /** Where the protocol actors run. */
  threading: Threading;
}

export type { ProtocolMetrics };

/**
 * A cluster member: the public face of one node's actors. Create it with createNode(); it is running
 * when the promise resolves, and shutdown() releases every socket, timer and worker it holds.
 */
export class MemberlistNode {
  readonly name: string;
  readonly config: MemberlistConfig;
  /** Where the protocol actors run: 'isolated' (their own worker thread) or 'inline' (this thread). */
  readonly threading: Threading;
  readonly #supervisor: Supervisor;
  readonly #facade: FacadeActor;
  readonly #events: NodeEvents;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #codec: WireCodec;
  readonly #hooks: HookRunner;
  readonly #backend: ProtocolBackend;
  readonly #keyring: Keyring | undefined;
  #state: 'running' | 'stopping' | 'stopped' = 'running';

  /** @internal use createNode(). */
  constructor(parts: {
    config: MemberlistConfig;
    supervisor: Supervisor;
    facade: FacadeActor;
    events: NodeEvents;
    logger: Logger;
    clock: Clock;
    codec: WireCodec;
    hooks: HookRunner;
    backend: ProtocolBackend;
    keyring: Keyring | undefined;
  }) {
    this.name = parts.config.name;
    this.config = parts.config;
    this.threading = parts.backend.threading;
    this.#supervisor = parts.supervisor;
    this.#facade = parts.facade;
    this.#events = parts.events;
    this.#logger = parts.logger;
    this.#clock = parts.clock;
    this.#codec = parts.codec;
    this.#hooks = parts.hooks;
    this.#backend = parts.backend;
    this.#keyring = parts.keyring;
    this.#supervisor.onFailure((error) => {
      this.#logger.error({ err: error }, 'node failed: shutting down');
      this.#events.emit('error', { error });
      void this.shutdown();
    });
  }

  /** The address actually bound (port 0 resolved). */
  get address(): Endpoint {
    return this.#backend.address;
  }

  /** The address advertised to other members. */
  get advertiseAddress(): Endpoint {
    return this.#backend.advertise;
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
    return this.#keyring;
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
    return Array.from(this.#facade.members.values(), memberFromShared);
  }

  /** Alive members, self included. */
  numMembers(): number {
    return this.#facade.aliveCount;
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
    // In isolated mode the protocol thread forwards only the types the host side accepted at its
    // start: tell it about this actor's (it ignores the ones it forwards already).
    this.#backend.hostAccepts(actor.accepts);
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
    const shared = this.#facade.members.get(name);
    if (shared === undefined) throw new InvalidArgumentError(`unknown member "${name}"`);
    const m = memberFromShared(shared);
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

  /**
   * Traffic and runtime counters, read now. Isolated, that is a synchronous call into the protocol
   * thread (well under a millisecond; bounded at 100 ms, after which the last snapshot read is
   * returned) with the host's own actors and health score added.
   */
  metrics(): NodeMetrics {
    return this.#compose(this.#backend.metrics());
  }

  /**
   * @internal Diagnostics (benchmarks/sim-scale.ts reads the gossip queues of simulated nodes): the
   * protocol actors when they run on this thread (threading 'inline'), undefined when isolated.
   */
  get protocolStack(): ProtocolStack | undefined {
    return this.#backend.stack;
  }

  /** Like metrics(), but waits for a snapshot taken now (isolated: one round trip to the protocol thread). */
  async refreshMetrics(): Promise<NodeMetrics> {
    this.#assertRunning();
    return this.#compose(await this.#backend.refreshMetrics());
  }

  #compose(m: ProtocolThreadMetrics): NodeMetrics {
    if (this.threading === 'inline') return { ...m, healthScore: this.#facade.healthScore, threading: this.threading };
    // Isolated: the user's hooks run, and are counted, on this thread; the protocol thread adds how
    // often it gave up waiting for them (timeouts) and counts the hooks of a delegates module.
    const hooks = { ...m.hooks };
    for (const [k, v] of this.#hooks.stats) {
      const timeouts = m.hooks[k]?.timeouts;
      hooks[k] = timeouts === undefined ? { ...v } : { ...v, timeouts };
    }
    return {
      ...m,
      actors: [...this.#supervisor.stats(), ...m.actors],
      hooks,
      healthScore: this.#facade.healthScore,
      threading: this.threading,
    };
  }

  /** Stops every actor (reverse start order), closes the transport and ends event iterators. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    await this.#supervisor.stop();
    await this.#backend.close();
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
 * transport, and starts its actors (on their own protocol thread unless `threading` is 'inline').
 * It does not contact anyone until told to (join, or a member learned by gossip).
 */
export async function createNode(options: NodeOptions = {}): Promise<MemberlistNode> {
  const config = resolveConfig(options, NON_CONFIG_KEYS);
  const meta = options.meta ?? new Uint8Array(0);
  if (!(meta instanceof Uint8Array)) throw new InvalidArgumentError('meta must be a Uint8Array');
  if (meta.length > config.metaMaxSize) {
    throw new InvalidArgumentError(`meta is ${meta.length} bytes; metaMaxSize is ${config.metaMaxSize}`);
  }
  const simulated = options.network !== undefined || options.clock !== undefined || options.transport !== undefined;
  const threading = resolveThreading(options.threading, simulated);
  const logger = (options.logger ?? silentLogger()).child({ node: config.name });
  const clock = options.clock ?? new RealClock();
  const random = options.random ?? cryptoSeededRandom();
  const threshold = options.mergeOffloadThreshold ?? 1000;
  if (!Number.isInteger(threshold) || threshold < 0) throw new InvalidArgumentError('mergeOffloadThreshold must be an integer >= 0');

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
  // The facade first, so it sees our own join.
  const facade = new FacadeActor(events, hooks);
  supervisor.spawn(facade);

  if (threading === 'isolated') {
    const isolation = validIsolation(options.isolation);
    const backend = IsolatedBackend.create({ config, meta, supervisor, facade, hooks, logger, mergeOffloadThreshold: threshold, isolation });
    // Sizes only (the node checks that a broadcast fits a packet): the protocol thread has the real codec.
    const codec = createCodec(config, config.secretKey !== null ? new Keyring([config.secretKey]) : undefined);
    supervisor.start();
    try {
      await backend.ready();
    } catch (err) {
      await supervisor.stop();
      await backend.close();
      throw err;
    }
    const node = new MemberlistNode({ config, supervisor, facade, events, logger, clock, codec, hooks, backend, keyring: backend.keyring });
    logger.info({ address: backend.address, advertise: backend.advertise, threading }, 'node started');
    return node;
  }

  if (options.isolation !== undefined) throw new InvalidArgumentError("isolation options need threading: 'isolated'");
  const transport =
    options.transport ??
    (options.network !== undefined
      ? options.network.createTransport({ host: config.bindAddr === '0.0.0.0' ? undefined : config.bindAddr, port: config.bindPort })
      : await NetTransport.create({ bindAddr: config.bindAddr, bindPort: config.bindPort, clock, logger }));
  const advertise = advertiseEndpoint(transport.localAddress, config.advertiseAddr, config.advertisePort);
  const keyring = config.secretKey !== null ? new Keyring([config.secretKey]) : undefined;
  const codec = createCodec(config, keyring);
  // A simulation must not spawn threads: it merges inline whatever the threshold.
  const mergeExecutor = createMergeExecutor(config, simulated ? 0 : threshold);
  const stack = spawnProtocolStack({
    config,
    spawn: (a) => supervisor.spawn(a),
    transport,
    codec,
    advertise,
    meta,
    hooks,
    mergeExecutor,
    // A simulation's virtual clock has no event loop of its own to watch.
    monitorLoop: options.clock === undefined,
    compressOffThread: !simulated,
  });
  const backend = new InlineBackend({ stack, transport, supervisor, hooks, mergeExecutor, advertise });
  const node = new MemberlistNode({ config, supervisor, facade, events, logger, clock, codec, hooks, backend, keyring });
  supervisor.start();
  logger.info({ address: transport.localAddress, advertise, transport: transport.kind, threading }, 'node started');
  return node;
}

function resolveThreading(value: unknown, simulated: boolean): Threading {
  if (value === undefined) return simulated ? 'inline' : 'isolated';
  if (value !== 'isolated' && value !== 'inline') throw new InvalidArgumentError(`threading must be 'isolated' or 'inline'; got ${JSON.stringify(value)}`);
  if (value === 'isolated' && simulated) {
    throw new InvalidArgumentError("threading 'isolated' binds real sockets on the protocol thread: it cannot use a transport, network or clock object (use 'inline')");
  }
  return value;
}

function validIsolation(o: IsolationOptions | undefined): IsolationOptions {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('isolation must be an object');
  const positive = (k: 'hookTimeoutMs' | 'startTimeoutMs'): void => {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new InvalidArgumentError(`isolation.${k} must be a positive number of ms`);
  };
  positive('hookTimeoutMs');
  positive('startTimeoutMs');
  if (o.authorizeOnTimeout !== undefined && o.authorizeOnTimeout !== 'allow' && o.authorizeOnTimeout !== 'deny') {
    throw new InvalidArgumentError("isolation.authorizeOnTimeout must be 'allow' or 'deny'");
  }
  if (o.onCrash !== undefined && o.onCrash !== 'shutdown' && o.onCrash !== 'restart') {
    throw new InvalidArgumentError("isolation.onCrash must be 'shutdown' or 'restart'");
  }
  for (const m of [o.delegatesModule, ...(o.actorModules ?? [])]) {
    if (m !== undefined && typeof m !== 'string' && !(m instanceof URL)) throw new InvalidArgumentError('isolation module paths must be strings or URLs');
  }
  return o;
}
