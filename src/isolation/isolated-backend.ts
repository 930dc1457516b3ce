/**
 * threading 'isolated': the protocol actors run on one dedicated worker thread that binds its own
 * sockets, so a stall of the host's event loop (GC, a CPU-heavy request) cannot delay an ack. The
 * host keeps the facade (events, API results), the user's host-side actors and this backend; the
 * two supervisors exchange protobuf messages over the worker's MessagePort (spawnOnThread), and
 * delegate hooks cross on a channel of their own (hook-channel.ts).
 */
import type { ResourceLimits } from 'node:worker_threads';
import { actors, builtinRegistry, worker as wk } from '../gen/index.js';
import type { FacadeActor } from '../actors/facade/facade-actor.js';
import type { MemberlistConfig } from '../config.js';
import type { HookRunner } from '../delegates.js';
import { TransportError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ProtocolBackend } from '../protocol-backend.js';
import { emptyMetrics, type ProtocolThreadMetrics } from '../protocol-stack.js';
import { typeNameOf, type MessageClass } from '../runtime/message-type.js';
import type { Supervisor } from '../runtime/supervisor.js';
import { spawnOnThread } from '../runtime/thread-boundary.js';
import { Keyring } from '../security/keyring.js';
import type { Endpoint } from '../transport/transport.js';
import { BRIDGED_HOOKS, serveHooks } from './hook-channel.js';
import { createSyncChannel, SyncCaller } from './sync-call.js';
import { HostBridgeActor } from './host-bridge-actor.js';
import { moduleHref, PROTOCOL_GROUP_MODULE, type ProtocolGroupOptions } from './protocol-group.js';
import { memberFromShared } from '../member.js';

/** Options of the isolated protocol thread (NodeOptions.isolation). */
export interface IsolationOptions {
  /**
   * Longest wait, in ms, of the protocol thread for a delegate hook that lives on the host and must
   * answer (ackPayload, localState, authorizeAlive, authorizeMerge). Default 50. After a timeout the
   * host counts as stalled and later calls take their fallback at once until it answers again.
   * Fallbacks: ackPayload and localState reuse the host's last answer; authorize hooks follow
   * `authorizeOnTimeout`. Hooks that must always decide belong in `delegatesModule`.
   */
  hookTimeoutMs?: number;
  /** Verdict of an authorize hook the host did not answer in time. Default 'allow': a stall is not a verdict, and refusing would let refutations be ignored. */
  authorizeOnTimeout?: 'allow' | 'deny';
  /** Path or file URL of a module exporting `delegates` (a Delegates object) run inside the protocol thread: no waits, no fallbacks. Its hooks replace the host's. */
  delegatesModule?: string | URL;
  /** Paths or file URLs of ActorGroupModules whose actors run inside the protocol thread (createActors gets the protocol thread's context). */
  actorModules?: readonly (string | URL)[];
  /** What the node does when the protocol thread dies: 'shutdown' (an `error` event, then shutdown; default) or 'restart' (a new thread, same port, rejoining the members it knew). */
  onCrash?: 'shutdown' | 'restart';
  /** Heap limits of the protocol thread (default: 1024 MB old generation). */
  resourceLimits?: ResourceLimits;
  /** How long createNode waits for the protocol thread to bind its sockets, ms. Default 15000. */
  startTimeoutMs?: number;
}

/** Longest wait of node.metrics() for the protocol thread's counters, ms. */
const METRICS_WAIT_MS = 100;

/** Host keyring mirror: changes apply here at once (same validation and errors) and are sent to the protocol thread. */
class MirroredKeyring extends Keyring {
  send: ((m: wk.KeyringCommand) => void) | undefined;

  override install(key: Uint8Array): void {
    super.install(key);
    this.send?.(wk.KeyringCommand.create({ op: 1, key: new Uint8Array(key) }));
  }

  override use(key: Uint8Array): void {
    super.use(key);
    this.send?.(wk.KeyringCommand.create({ op: 2, key: new Uint8Array(key) }));
  }

  override remove(key: Uint8Array): void {
    super.remove(key);
    this.send?.(wk.KeyringCommand.create({ op: 3, key: new Uint8Array(key) }));
  }
}

/** Everything the protocol actors may accept: what the host side forwards to the protocol thread. */
function protocolAccepts(): MessageClass[] {
  const registry = builtinRegistry();
  const list = registry
    .names()
    .filter((n) => n.startsWith('memberlist.actors.'))
    .map((n) => registry.get(n));
  return [...list, wk.MetricsRequest, wk.KeyringCommand, wk.HostAccepts];
}

export interface IsolatedStart {
  config: MemberlistConfig;
  meta: Uint8Array;
  supervisor: Supervisor;
  facade: FacadeActor;
  hooks: HookRunner;
  logger: Logger;
  mergeOffloadThreshold: number;
  isolation: IsolationOptions;
}

export class IsolatedBackend implements ProtocolBackend {
  readonly threading = 'isolated';
  readonly keyring: Keyring | undefined;
  #address: Endpoint = { host: '', port: 0 };
  #advertise: Endpoint = { host: '', port: 0 };
  #starts = 0;
  readonly #bridge: HostBridgeActor;
  #stopServing: (() => void) | undefined;
  #metricsCaller: SyncCaller | undefined;
  readonly #started: Promise<void>;

  private constructor(private readonly p: IsolatedStart) {
    const { config, supervisor, isolation } = p;
    const mirror = config.secretKey !== null ? new MirroredKeyring([config.secretKey]) : undefined;
    this.keyring = mirror;
    let resolveStarted!: () => void;
    let rejectStarted!: (e: Error) => void;
    this.#started = new Promise<void>((resolve, reject) => {
      resolveStarted = resolve;
      rejectStarted = reject;
    });
    // A failure after start-up is the node's `error` event, not an unhandled rejection of this promise.
    this.#started.catch(() => undefined);
    this.#bridge = new HostBridgeActor({
      logger: p.logger,
      keyring: mirror,
      onStarted: (m) => {
        this.#address = { host: m.host, port: m.port };
        this.#advertise = { host: m.advertiseHost, port: m.advertisePort };
        this.#starts++;
        if (this.#starts === 1) resolveStarted();
        else this.#rejoin();
      },
    });
    supervisor.spawn(this.#bridge);
    if (mirror !== undefined) mirror.send = (m) => supervisor.send(m);
    supervisor.onFailure((err) => rejectStarted(new TransportError(`the protocol thread failed: ${err.message}`)));
    const hostHooks = BRIDGED_HOOKS.filter((h) => p.hooks.has(h));
    spawnOnThread(supervisor, {
      group: 'protocol',
      module: new URL(PROTOCOL_GROUP_MODULE),
      accepts: protocolAccepts(),
      restartPolicy: isolation.onCrash === 'restart' ? 'restart' : 'escalate',
      resourceLimits: isolation.resourceLimits ?? { maxOldGenerationSizeMb: 1024 },
      logLevel: p.logger.level,
      forwardLogs: true,
      stopTimeoutMs: 5000,
      groupOptions: () => {
        // Fresh channels per (re)start: a port can be transferred only once.
        this.#stopServing?.();
        this.#metricsCaller?.close();
        const hookChannel = createSyncChannel();
        const metricsChannel = createSyncChannel();
        this.#stopServing = serveHooks(hookChannel.server, p.hooks);
        this.#metricsCaller = new SyncCaller(metricsChannel.caller);
        // A restarted thread binds the port the first one had (bindPort 0 picked it), so members
        // keep reaching us at the address they know.
        const bound = this.#address.port !== 0 ? { ...config, bindPort: this.#address.port } : config;
        const options: ProtocolGroupOptions = {
          config: bound,
          meta: p.meta,
          mergeOffloadThreshold: p.mergeOffloadThreshold,
          hostHooks,
          hooks: hookChannel.caller,
          metrics: metricsChannel.server,
          hookTimeoutMs: isolation.hookTimeoutMs ?? 50,
          authorizeOnTimeout: isolation.authorizeOnTimeout ?? 'allow',
          delegatesModule: isolation.delegatesModule === undefined ? undefined : moduleHref(isolation.delegatesModule),
          actorModules: (isolation.actorModules ?? []).map(moduleHref),
        };
        return { options, transferList: [hookChannel.caller.port, metricsChannel.server.port] };
      },
    });
  }

  /** Spawns the bridge and the protocol thread on `p.supervisor`; start the supervisor, then await ready(). */
  static create(p: IsolatedStart): IsolatedBackend {
    return new IsolatedBackend(p);
  }

  /** Resolves once the protocol thread bound its sockets; rejects if it failed or took too long. */
  async ready(): Promise<void> {
    const ms = this.p.isolation.startTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TransportError(`the protocol thread did not start within ${ms} ms`)), ms);
    });
    try {
      await Promise.race([this.#started, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get address(): Endpoint {
    return this.#address;
  }

  get advertise(): Endpoint {
    return this.#advertise;
  }

  /**
   * A snapshot taken now: a synchronous round trip to the protocol thread (well under a millisecond),
   * bounded by METRICS_WAIT_MS; a stalled protocol thread yields the last snapshot read instead.
   */
  metrics(): ProtocolThreadMetrics {
    const bytes = this.#metricsCaller?.call(new Uint8Array(0), METRICS_WAIT_MS);
    if (bytes !== undefined) {
      try {
        const snapshot = JSON.parse(wk.MetricsSnapshot.decode(bytes).json) as ProtocolThreadMetrics;
        this.#bridge.metrics = snapshot;
        return snapshot;
      } catch {
        // fall through to the last snapshot
      }
    }
    return this.#bridge.metrics ?? emptyMetrics();
  }

  refreshMetrics(): Promise<ProtocolThreadMetrics> {
    return this.#bridge.requestMetrics();
  }

  hostAccepts(types: readonly MessageClass[]): void {
    this.p.supervisor.send(wk.HostAccepts.create({ types: types.map(typeNameOf) }));
  }

  async close(): Promise<void> {
    this.#stopServing?.();
    this.#stopServing = undefined;
    this.#metricsCaller?.close();
    this.#metricsCaller = undefined;
  }

  /** A restarted protocol thread knows only itself: join the members the host last saw alive. */
  #rejoin(): void {
    const seeds = Array.from(this.p.facade.members.values(), memberFromShared)
      .filter((m) => m.state === 'alive' && m.name !== this.p.config.name)
      .map((m) => (m.addr.includes(':') ? `[${m.addr}]:${m.port}` : `${m.addr}:${m.port}`));
    this.p.logger.warn({ seeds: seeds.length }, 'protocol thread restarted: rejoining the members it knew');
    if (seeds.length > 0) void this.p.facade.request(actors.JoinResult, (requestId) => actors.JoinRequest.create({ requestId, seeds }));
  }
}
