/**
 * The protocol actors of one node, built the same way whichever thread they run on: createNode
 * spawns them on the caller's supervisor (threading 'inline'), and the protocol group
 * (src/isolation/protocol-group.ts) spawns them on the protocol worker's supervisor ('isolated').
 * Keeping one builder is what makes "the same actors, unchanged, run in both" true by construction.
 */
import { NetworkActor } from './actors/network/network-actor.js';
import { MembershipActor } from './actors/membership/membership-actor.js';
import { ProbeActor } from './actors/probe/probe-actor.js';
import { GossipActor } from './actors/gossip/gossip-actor.js';
import { SuspicionActor } from './actors/suspicion/suspicion-actor.js';
import { PushPullActor } from './actors/push-pull/push-pull-actor.js';
import { InlineMergeExecutor, type MergeExecutor } from './actors/push-pull/merge.js';
import { WorkerMergeExecutor } from './actors/push-pull/worker-merge-executor.js';
import { UserMessagesActor } from './actors/user-messages/user-messages-actor.js';
import { ReconnectActor } from './actors/reconnect/reconnect-actor.js';
import { KeyManagerActor } from './actors/key-manager/key-manager-actor.js';
import { LoopMonitorActor } from './actors/loop-monitor/loop-monitor-actor.js';
import { createWireCodec, type NodeWireCodec } from './codec/memberlist/create-wire-codec.js';
import { PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN, type MemberlistConfig } from './config.js';
import type { HookRunner, HookStats } from './delegates.js';
import type { Keyring } from './security/keyring.js';
import type { ActorStats, Supervisor } from './runtime/supervisor.js';
import type { Actor } from './runtime/actor.js';
import type { Endpoint, Transport, TransportStats } from './transport/transport.js';

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
  /** Probe timeouts that fired late because this thread's event loop stalled: judged after the late acks were read, not counted as failures. */
  lateProbeTimeouts: number;
  /** Suspicion expiries that fired late (this thread stalled), judged one loop turn later, after the refutations read meanwhile. */
  lateSuspicionExpiries: number;
  /** Event-loop stalls this node measured on its own protocol thread and fed into its health score, and the longest delay seen (ms). */
  loopStalls: number;
  loopMaxDelayMs: number;
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

/** What the protocol thread measures (NodeMetrics without the host's health score). */
export interface ProtocolThreadMetrics {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: Record<string, number>;
  messagesOut: Record<string, number>;
  /**
   * Bytes by message type: a datagram's message counts its own encoded part (before label,
   * encryption, checksum and compression), a stream message its whole frame as it crossed the wire.
   */
  messageBytesIn: Record<string, number>;
  messageBytesOut: Record<string, number>;
  dropsIn: Record<string, number>;
  dropsOut: Record<string, number>;
  transport: TransportStats;
  actors: ActorStats[];
  hooks: Record<string, HookStats>;
  protocol: ProtocolMetrics;
}

export interface ProtocolStack {
  readonly network: NetworkActor;
  readonly membership: MembershipActor;
  readonly probe: ProbeActor;
  readonly suspicion: SuspicionActor;
  readonly pushPull: PushPullActor;
  readonly gossip: GossipActor;
  readonly keyManager: KeyManagerActor;
  /** Present when the stack runs on a real clock (a simulation has no event loop of its own to watch). */
  readonly loopMonitor: LoopMonitorActor | undefined;
}

/** The codec every node uses: config `wire` picks protobuf in its layers or memberlist's wire. */
export function createCodec(config: MemberlistConfig, keyring: Keyring | undefined): NodeWireCodec {
  return createWireCodec(config, keyring);
}

/** Merges of at least `threshold` entries go to a piscina worker (0: everything inline). */
export function createMergeExecutor(config: MemberlistConfig, threshold: number): MergeExecutor {
  return threshold > 0
    ? new WorkerMergeExecutor({ maxEntries: config.maxPushPullEntries, threshold })
    : new InlineMergeExecutor({ maxEntries: config.maxPushPullEntries });
}

export interface ProtocolStackParts {
  config: MemberlistConfig;
  /** Adds an actor to whatever runs the stack (a supervisor's spawn, or the protocol group's list). */
  spawn: (actor: Actor) => void;
  transport: Transport;
  codec: NodeWireCodec;
  advertise: Endpoint;
  meta: Uint8Array;
  hooks: HookRunner;
  mergeExecutor: MergeExecutor;
  /** Watch this thread's event-loop delay (real clocks only). */
  monitorLoop: boolean;
  /**
   * Compress large stream frames (full push-pull states) on libuv's thread pool instead of the
   * protocol thread. Real sockets and clocks only: a simulation must stay on its virtual time.
   */
  compressOffThread: boolean;
}

/**
 * Spawns the protocol actors through `parts.spawn`, in start order: the network first (the others
 * send as they start), then the table, the prober, and the rest. The facade is not among them: it
 * belongs to the thread the user's node object lives on.
 */
export function spawnProtocolStack(parts: ProtocolStackParts): ProtocolStack {
  const { config, transport, codec, advertise, hooks, mergeExecutor } = parts;
  const supervisor = { spawn: parts.spawn };
  const network = new NetworkActor(transport, codec, {
    name: config.name,
    maxStreamFrameBytes: config.maxStreamFrameBytes,
    maxConcurrentStreams: config.maxConcurrentPushPulls,
    streamTimeoutMs: config.tcpTimeoutMs,
    cidrsAllowed: config.cidrsAllowed,
    compressOffThread: parts.compressOffThread,
  });
  supervisor.spawn(network);
  const membership = new MembershipActor({
    name: config.name,
    host: advertise.host,
    port: advertise.port,
    meta: new Uint8Array(parts.meta),
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
  supervisor.spawn(membership);
  const probe = new ProbeActor({
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
  supervisor.spawn(probe);
  supervisor.spawn(new UserMessagesActor({ name: config.name }));
  supervisor.spawn(
    new ReconnectActor({
      reconnectIntervalMs: config.reconnectIntervalMs,
      reconnectTimeoutMs: config.reconnectTimeoutMs,
      defaultPort: config.bindPort || transport.localAddress.port,
    }),
  );
  const suspicion = new SuspicionActor();
  supervisor.spawn(suspicion);
  const pushPull = new PushPullActor({
    name: config.name,
    pushPullIntervalMs: config.pushPullIntervalMs,
    tcpTimeoutMs: config.tcpTimeoutMs,
    maxPushPullEntries: config.maxPushPullEntries,
    defaultPort: config.bindPort || transport.localAddress.port,
    digestSyncCooldownMs: config.probeIntervalMs,
    hooks,
    mergeExecutor,
  });
  supervisor.spawn(pushPull);
  const gossip = new GossipActor({
    name: config.name,
    codec,
    retransmitMult: config.retransmitMult,
    gossipIntervalMs: config.gossipIntervalMs,
    gossipNodes: config.gossipNodes,
    gossipToTheDeadMs: config.gossipToTheDeadMs,
    udpBufferSize: config.udpBufferSize,
  });
  supervisor.spawn(gossip);
  // Cluster-wide key rotation: the same Keyring object the codec holds (node.keyring).
  const keyManager = new KeyManagerActor({ name: config.name, keyring: codec.keyring });
  supervisor.spawn(keyManager);
  const loopMonitor = parts.monitorLoop && config.probeIntervalMs > 0
    ? new LoopMonitorActor({ intervalMs: config.probeIntervalMs, stallMs: config.probeTimeoutMs, maxDelta: config.awarenessMaxMultiplier - 1 })
    : undefined;
  if (loopMonitor !== undefined) supervisor.spawn(loopMonitor);
  return { network, membership, probe, suspicion, pushPull, gossip, keyManager, loopMonitor };
}

/** Reads the protocol thread's counters (a snapshot: plain data, safe to serialise). */
export function protocolThreadMetrics(
  stack: ProtocolStack,
  transport: Transport,
  supervisor: Supervisor,
  hooks: HookRunner,
): ProtocolThreadMetrics {
  const c = stack.network.counters;
  const { probe, membership, suspicion, pushPull, gossip } = stack;
  return {
    packetsIn: c.packetsIn,
    packetsOut: c.packetsOut,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    messagesIn: Object.fromEntries(c.messagesIn),
    messagesOut: Object.fromEntries(c.messagesOut),
    messageBytesIn: Object.fromEntries(c.messageBytesIn),
    messageBytesOut: Object.fromEntries(c.messageBytesOut),
    dropsIn: Object.fromEntries(c.dropsIn),
    dropsOut: Object.fromEntries(c.dropsOut),
    transport: { ...transport.stats },
    actors: supervisor.stats(),
    hooks: Object.fromEntries([...hooks.stats].map(([k, v]) => [k, { ...v }])),
    protocol: {
      probes: probe.probes,
      probesFailed: probe.probesFailed,
      tcpFallbackSuccesses: probe.tcpFallbackSuccesses,
      indirectPingsSent: probe.indirectPingsSent,
      degradedProbes: probe.degradedProbes,
      digestMismatches: probe.digestMismatches,
      lateProbeTimeouts: probe.lateProbeTimeouts,
      lateSuspicionExpiries: suspicion.lateExpiries,
      loopStalls: stack.loopMonitor?.stalls ?? 0,
      loopMaxDelayMs: stack.loopMonitor?.maxDelayMs ?? 0,
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
    },
  };
}

/** Counters of a protocol thread that has reported nothing yet. */
export function emptyMetrics(): ProtocolThreadMetrics {
  return {
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: {},
    messagesOut: {},
    messageBytesIn: {},
    messageBytesOut: {},
    dropsIn: {},
    dropsOut: {},
    transport: { packetsSent: 0, packetsReceived: 0, bytesSent: 0, bytesReceived: 0, packetsDropped: 0, streamsOpened: 0, streamsAccepted: 0 },
    actors: [],
    hooks: {},
    protocol: {
      probes: 0,
      probesFailed: 0,
      tcpFallbackSuccesses: 0,
      indirectPingsSent: 0,
      degradedProbes: 0,
      digestMismatches: 0,
      lateProbeTimeouts: 0,
      lateSuspicionExpiries: 0,
      loopStalls: 0,
      loopMaxDelayMs: 0,
      refutations: 0,
      suspicionsStarted: 0,
      suspicionsExpired: 0,
      degradedTimeouts: 0,
      broadcastQueueDepth: 0,
      broadcastsDropped: 0,
      pushPullsSent: 0,
      pushPullsReceived: 0,
      pushPullsFailed: 0,
      pushPullLastMs: 0,
      pushPullTotalMs: 0,
    },
  };
}
