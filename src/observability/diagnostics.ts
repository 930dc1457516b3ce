/**
 * Publishes a node's counters and member events on node:diagnostics_channel, so that an embedding
 * application can feed any metrics system (prom-client, OpenTelemetry, StatsD, its own logs) without
 * this library depending on one. Nothing is computed or sent while a channel has no subscriber.
 *
 * Channel names (stable, part of the public API):
 *
 * - `memberlist-ts:metrics` — a periodic snapshot, every `intervalMs` (default 1000 ms):
 *   `{ node: string, time: number, metrics: NodeMetrics, protocol?: ProtocolStats }`
 *   (`time` is Date.now(); `protocol` is present when an observer was given).
 * - `memberlist-ts:member` — every member event of the node, in the order the node decided them:
 *   `{ node: string, time: number, type: 'join' | 'leave' | 'update' | 'suspect' | 'alive' | 'conflict',
 *      member: Member, previous?: Member, reason?: 'left' | 'failed' }`
 *   (`previous` is the old member of an `update` and the existing one of a `conflict`).
 *
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * import { METRICS_CHANNEL } from 'memberlist-ts';
 * diagnostics_channel.subscribe(METRICS_CHANNEL, (msg) => exportToMyMetrics(msg));
 * ```
 */
import { channel } from 'node:diagnostics_channel';
import type { MemberlistNode, NodeMetrics } from '../node.js';
import type { Member } from '../member.js';
import type { LeaveReason, NodeEventMap } from '../events.js';
import type { ProtocolObserver, ProtocolStats } from './protocol-observer.js';

/** The channel of periodic metric snapshots. */
export const METRICS_CHANNEL = 'memberlist-ts:metrics';
/** The channel of member events. */
export const MEMBER_CHANNEL = 'memberlist-ts:member';

export interface MetricsMessage {
  readonly node: string;
  readonly time: number;
  readonly metrics: NodeMetrics;
  readonly protocol?: ProtocolStats;
}

export type MemberEventType = 'join' | 'leave' | 'update' | 'suspect' | 'alive' | 'conflict';

export interface MemberMessage {
  readonly node: string;
  readonly time: number;
  readonly type: MemberEventType;
  readonly member: Member;
  readonly previous?: Member;
  readonly reason?: LeaveReason;
}

export interface DiagnosticsOptions {
  /** Period of the metrics snapshot, in milliseconds (default 1000). */
  intervalMs?: number;
  /** An observer already spawned on the node: its protocol counters join each snapshot. */
  observer?: ProtocolObserver;
}

export interface DiagnosticsPublisher {
  /** Stops the timer and detaches from the node. Idempotent. */
  stop(): void;
}

const metricsChannel = channel(METRICS_CHANNEL);
const memberChannel = channel(MEMBER_CHANNEL);

/**
 * Starts publishing `node`'s metrics and member events. Stops by itself once the node has shut down.
 * The timer is unref'd: it never keeps a process alive.
 */
export function publishDiagnostics(node: MemberlistNode, options: DiagnosticsOptions = {}): DiagnosticsPublisher {
  const intervalMs = options.intervalMs ?? 1000;
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) throw new RangeError('intervalMs must be a positive number');
  const publish = (type: MemberEventType, member: Member, extra: { previous?: Member; reason?: LeaveReason } = {}): void => {
    if (!memberChannel.hasSubscribers) return;
    const message: MemberMessage = { node: node.name, time: Date.now(), type, member, ...extra };
    memberChannel.publish(message);
  };
  const listeners = {
    join: (e: NodeEventMap['join']) => publish('join', e.member),
    leave: (e: NodeEventMap['leave']) => publish('leave', e.member, { reason: e.reason }),
    update: (e: NodeEventMap['update']) => publish('update', e.member, { previous: e.old }),
    suspect: (e: NodeEventMap['suspect']) => publish('suspect', e.member),
    alive: (e: NodeEventMap['alive']) => publish('alive', e.member),
    conflict: (e: NodeEventMap['conflict']) => publish('conflict', e.other, { previous: e.existing }),
  };
  node.on('join', listeners.join);
  node.on('leave', listeners.leave);
  node.on('update', listeners.update);
  node.on('suspect', listeners.suspect);
  node.on('alive', listeners.alive);
  node.on('conflict', listeners.conflict);

  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    node.off('join', listeners.join);
    node.off('leave', listeners.leave);
    node.off('update', listeners.update);
    node.off('suspect', listeners.suspect);
    node.off('alive', listeners.alive);
    node.off('conflict', listeners.conflict);
  };
  const timer = setInterval(() => {
    if (!node.running) return stop();
    if (!metricsChannel.hasSubscribers) return;
    const message: MetricsMessage = {
      node: node.name,
      time: Date.now(),
      metrics: node.metrics(),
      ...(options.observer !== undefined ? { protocol: options.observer.stats() } : {}),
    };
    metricsChannel.publish(message);
  }, intervalMs);
  timer.unref();
  return { stop };
}
