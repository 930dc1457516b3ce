/**
 * Renders a node's counters in the Prometheus text exposition format (version 0.0.4), with names
 * modelled on memberlist's go-metrics keys (reference §10: `memberlist.udp.sent` becomes
 * `memberlist_udp_bytes_total{direction="out"}`, `memberlist.health.score` becomes
 * `memberlist_health_score`, `memberlist.node.instances{node_state}` keeps its name and label).
 * Pure: no metrics library, no I/O; the caller decides where the text goes.
 *
 * Families (every counter ends in `_total`):
 *
 * | family | type | labels | source |
 * |---|---|---|---|
 * | memberlist_udp_packets_total | counter | direction=in/out | datagrams decoded / sent by the network actor |
 * | memberlist_udp_bytes_total | counter | direction | their bytes |
 * | memberlist_msg_received_total / memberlist_msg_sent_total | counter | type (ping, ack, alive, ...) | protocol messages by kind |
 * | memberlist_msg_bytes_total | counter | direction, type | bytes of protocol messages by kind (`messageBytesIn` / `messageBytesOut`) |
 * | memberlist_queue_broadcasts | gauge | | from `metrics.protocol` (or `broadcastQueueDepth`) |
 * | memberlist_dropped_total | counter | direction, reason | drops by reason (malformed, transport, stream-limit, ...) |
 * | memberlist_transport_bytes_total, memberlist_transport_packets_total | counter | direction | the transport's own counts |
 * | memberlist_transport_packets_dropped_total | counter | | packets the transport dropped |
 * | memberlist_tcp_connect_total / memberlist_tcp_accept_total | counter | | streams dialed / accepted |
 * | memberlist_health_score | gauge | | Lifeguard local health (0 = healthy) |
 * | memberlist_node_instances | gauge | node_state | members by state, as seen here |
 * | memberlist_indirect_probes_total | counter | | indirect ping requests sent |
 * | memberlist_actor_mailbox_depth | gauge | actor | messages waiting per actor (the node's queues) |
 * | memberlist_actor_mailbox_dropped_total | counter | actor | messages dropped because a mailbox was full |
 * | memberlist_actor_messages_total, _crashes_total, _restarts_total | counter | actor | |
 * | memberlist_hook_calls_total, _errors_total, _slow_total | counter | hook | delegate hooks |
 * | memberlist_probes_total | counter | result=ack/failed | with ProtocolStats: direct acks and failed probes |
 * | memberlist_probe_rtt_seconds | summary (sum, count) | | direct-ack round trips |
 * | memberlist_suspicions_total, _refutations_total, _deaths_total, _leaves_total, _joins_total, _recoveries_total | counter | | state transitions |
 * | memberlist_push_pull_total | counter | direction=outbound/inbound, result=ok/error | push-pull exchanges |
 * | memberlist_push_pull_duration_seconds | histogram | direction | their durations |
 * | memberlist_event_loop_delay_seconds | summary | quantile | perf_hooks event-loop delay |
 * | memberlist_event_loop_delay_max_seconds | gauge | | the longest delay in the window |
 */
import type { NodeMetrics } from '../node.js';
import type { Member } from '../member.js';
import type { HistogramSnapshot, ProtocolStats } from './protocol-observer.js';
import type { EventLoopDelaySnapshot } from './event-loop.js';

/** The content type of the text format this module renders. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface PrometheusInput {
  /** node.metrics(). */
  readonly metrics: NodeMetrics;
  /** node.members(), for memberlist_node_instances. */
  readonly members?: readonly Member[];
  /** Counters from a ProtocolObserver spawned on the node. */
  readonly protocol?: ProtocolStats;
  /** From an EventLoopDelayMonitor the process keeps. */
  readonly eventLoop?: EventLoopDelaySnapshot;
  /**
   * Broadcasts waiting in the transmit-limited queue, when the node reports it (NodeMetrics does not
   * yet): rendered as memberlist_queue_broadcasts (memberlist.queue.broadcasts).
   */
  readonly broadcastQueueDepth?: number;
  /** Labels added to every sample (e.g. `{ node: 'api-1' }` when several nodes share one endpoint). */
  readonly labels?: Readonly<Record<string, string>>;
}

type Labels = Readonly<Record<string, string>>;
type MetricType = 'counter' | 'gauge' | 'summary' | 'histogram';

/** Collects families and renders them; a family's HELP and TYPE lines are written once, first. */
class Exposition {
  readonly #lines: string[] = [];
  readonly #seen = new Set<string>();

  constructor(private readonly constant: Labels) {}

  family(name: string, type: MetricType, help: string): void {
    if (this.#seen.has(name)) throw new Error(`metric family ${name} rendered twice`);
    this.#seen.add(name);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, value: number, labels: Labels = {}): void {
    const all = { ...this.constant, ...labels };
    const keys = Object.keys(all);
    const rendered =
      keys.length === 0 ? '' : `{${keys.map((k) => `${sanitizeName(k)}="${escapeLabel(all[k] ?? '')}"`).join(',')}}`;
    this.#lines.push(`${name}${rendered} ${formatValue(value)}`);
  }

  /** One family with one sample per entry of `values` (sorted by label value, for stable output). */
  labelled(name: string, type: MetricType, help: string, label: string, values: Readonly<Record<string, number>>, extra: Labels = {}): void {
    this.family(name, type, help);
    for (const key of Object.keys(values).sort()) this.sample(name, values[key] ?? 0, { ...extra, [label]: key });
  }

  single(name: string, type: MetricType, help: string, value: number): void {
    this.family(name, type, help);
    this.sample(name, value);
  }

  histogram(name: string, h: HistogramSnapshot, labels: Labels): void {
    for (let i = 0; i < h.buckets.length; i++) {
      this.sample(`${name}_bucket`, h.counts[i] ?? 0, { ...labels, le: formatValue(h.buckets[i] ?? Infinity) });
    }
    this.sample(`${name}_bucket`, h.count, { ...labels, le: '+Inf' });
    this.sample(`${name}_sum`, h.sum, labels);
    this.sample(`${name}_count`, h.count, labels);
  }

  text(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

/** Renders the exposition text (ends with a newline). */
export function renderPrometheus(input: PrometheusInput): string {
  const m = input.metrics;
  const out = new Exposition(input.labels ?? {});

  out.family('memberlist_udp_packets_total', 'counter', 'Datagrams received (decoded or not) and sent by the network actor.');
  out.sample('memberlist_udp_packets_total', m.packetsIn, { direction: 'in' });
  out.sample('memberlist_udp_packets_total', m.packetsOut, { direction: 'out' });
  out.family('memberlist_udp_bytes_total', 'counter', 'Datagram bytes received and sent (memberlist.udp.received / memberlist.udp.sent).');
  out.sample('memberlist_udp_bytes_total', m.bytesIn, { direction: 'in' });
  out.sample('memberlist_udp_bytes_total', m.bytesOut, { direction: 'out' });
  out.labelled('memberlist_msg_received_total', 'counter', 'Protocol messages received, by type (datagrams and streams).', 'type', m.messagesIn);
  out.labelled('memberlist_msg_sent_total', 'counter', 'Protocol messages sent, by type (datagrams and streams).', 'type', m.messagesOut);

  out.family(
    'memberlist_msg_bytes_total',
    'counter',
    "Bytes of protocol messages received and sent, by type: a datagram's message counts its own encoded part (the envelope is the rest of memberlist_udp_bytes_total), a stream message its whole frame.",
  );
  for (const [direction, byType] of [['in', m.messageBytesIn], ['out', m.messageBytesOut]] as const) {
    for (const type of Object.keys(byType).sort()) out.sample('memberlist_msg_bytes_total', byType[type] ?? 0, { direction, type });
  }

  out.family('memberlist_dropped_total', 'counter', 'Inbound and outbound messages or packets dropped, by reason.');
  for (const [direction, drops] of [['in', m.dropsIn], ['out', m.dropsOut]] as const) {
    for (const reason of Object.keys(drops).sort()) out.sample('memberlist_dropped_total', drops[reason] ?? 0, { direction, reason });
  }

  const t = m.transport;
  out.family('memberlist_transport_packets_total', 'counter', 'Packets the transport received and sent.');
  out.sample('memberlist_transport_packets_total', t.packetsReceived, { direction: 'in' });
  out.sample('memberlist_transport_packets_total', t.packetsSent, { direction: 'out' });
  out.family('memberlist_transport_bytes_total', 'counter', 'Bytes the transport received and sent.');
  out.sample('memberlist_transport_bytes_total', t.bytesReceived, { direction: 'in' });
  out.sample('memberlist_transport_bytes_total', t.bytesSent, { direction: 'out' });
  out.single('memberlist_transport_packets_dropped_total', 'counter', 'Packets the transport dropped (send errors, no handler).', t.packetsDropped);
  out.single('memberlist_tcp_connect_total', 'counter', 'TCP streams dialed (memberlist.tcp.connect).', t.streamsOpened);
  out.single('memberlist_tcp_accept_total', 'counter', 'TCP streams accepted (memberlist.tcp.accept).', t.streamsAccepted);

  out.single('memberlist_health_score', 'gauge', "Lifeguard's local health score (0 = healthy); timeouts scale with it (memberlist.health.score).", m.healthScore);

  if (input.members !== undefined) {
    const byState: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const member of input.members) byState[member.state] = (byState[member.state] ?? 0) + 1;
    out.labelled('memberlist_node_instances', 'gauge', 'Members known to this node, by state (memberlist.node.instances).', 'node_state', byState);
  }

  out.single('memberlist_indirect_probes_total', 'counter', 'Indirect ping requests sent to helpers after a direct probe timed out.', m.messagesOut['indirectPing'] ?? 0);

  const queueDepth = input.broadcastQueueDepth ?? m.protocol?.broadcastQueueDepth;
  if (queueDepth !== undefined) {
    out.single('memberlist_queue_broadcasts', 'gauge', 'Broadcasts waiting in the transmit-limited queue (memberlist.queue.broadcasts).', queueDepth);
  }

  const byActor = (pick: (a: NodeMetrics['actors'][number]) => number): Record<string, number> =>
    Object.fromEntries(m.actors.map((a) => [a.name, pick(a)]));
  out.labelled('memberlist_actor_mailbox_depth', 'gauge', 'Messages waiting in each actor mailbox (the node\'s internal queues).', 'actor', byActor((a) => a.mailboxDepth));
  out.labelled('memberlist_actor_mailbox_dropped_total', 'counter', 'Messages dropped because an actor mailbox was full.', 'actor', byActor((a) => a.dropped));
  out.labelled('memberlist_actor_messages_total', 'counter', 'Messages each actor has received.', 'actor', byActor((a) => a.received));
  out.labelled('memberlist_actor_crashes_total', 'counter', 'Times each actor threw.', 'actor', byActor((a) => a.crashes));
  out.labelled('memberlist_actor_restarts_total', 'counter', 'Times each actor was restarted after a crash.', 'actor', byActor((a) => a.restarts));

  const hooks = Object.entries(m.hooks);
  if (hooks.length > 0) {
    const byHook = (pick: (h: (typeof hooks)[number][1]) => number): Record<string, number> =>
      Object.fromEntries(hooks.map(([name, h]) => [name, pick(h)]));
    out.labelled('memberlist_hook_calls_total', 'counter', 'Delegate hook calls.', 'hook', byHook((h) => h.calls));
    out.labelled('memberlist_hook_errors_total', 'counter', 'Delegate hook calls that threw (the fallback was used).', 'hook', byHook((h) => h.errors));
    out.labelled('memberlist_hook_slow_total', 'counter', 'Delegate hook calls that were slow.', 'hook', byHook((h) => h.slow));
  }

  const p = input.protocol;
  if (p !== undefined) {
    out.family('memberlist_probes_total', 'counter', 'Probes by outcome: a direct ack within the probe timeout, or no ack by the end of the interval.');
    out.sample('memberlist_probes_total', p.probeAcks, { result: 'ack' });
    out.sample('memberlist_probes_total', p.probeFailures, { result: 'failed' });
    out.family('memberlist_probe_rtt_seconds', 'summary', 'Round-trip time of direct acks (memberlist.probeNode).');
    out.sample('memberlist_probe_rtt_seconds_sum', p.probeRttSumSeconds);
    out.sample('memberlist_probe_rtt_seconds_count', p.probeRttCount);
    out.single('memberlist_suspicions_total', 'counter', 'Members that became suspect (memberlist.msg.suspect).', p.suspicions);
    out.single('memberlist_refutations_total', 'counter', 'Claims about this node that it refuted.', p.refutations);
    out.single('memberlist_deaths_total', 'counter', 'Members declared dead (memberlist.msg.dead).', p.deaths);
    out.single('memberlist_leaves_total', 'counter', 'Members that left gracefully.', p.leaves);
    out.single('memberlist_joins_total', 'counter', 'Members that became alive: new ones and returning ones (memberlist.msg.alive).', p.joins);
    out.single('memberlist_recoveries_total', 'counter', 'Suspect members that refuted and became alive again.', p.recoveries);
    out.family('memberlist_push_pull_total', 'counter', 'Push-pull state exchanges, ours (outbound) and other members\' (inbound).');
    out.sample('memberlist_push_pull_total', p.pushPullsOk, { direction: 'outbound', result: 'ok' });
    out.sample('memberlist_push_pull_total', p.pushPullsFailed, { direction: 'outbound', result: 'error' });
    out.sample('memberlist_push_pull_total', p.pushPullsInbound, { direction: 'inbound', result: 'ok' });
    out.family('memberlist_push_pull_duration_seconds', 'histogram', 'Duration of push-pull exchanges (memberlist.pushPullNode).');
    out.histogram('memberlist_push_pull_duration_seconds', p.pushPullDuration, { direction: 'outbound' });
    out.histogram('memberlist_push_pull_duration_seconds', p.pushPullInboundDuration, { direction: 'inbound' });
  }

  const el = input.eventLoop;
  if (el !== undefined) {
    out.family('memberlist_event_loop_delay_seconds', 'summary', 'Event-loop delay over the current window (perf_hooks.monitorEventLoopDelay).');
    out.sample('memberlist_event_loop_delay_seconds', el.p50, { quantile: '0.5' });
    out.sample('memberlist_event_loop_delay_seconds', el.p90, { quantile: '0.9' });
    out.sample('memberlist_event_loop_delay_seconds', el.p99, { quantile: '0.99' });
    out.sample('memberlist_event_loop_delay_seconds_sum', el.mean * el.count);
    out.sample('memberlist_event_loop_delay_seconds_count', el.count);
    out.single('memberlist_event_loop_delay_max_seconds', 'gauge', 'The longest event-loop delay in the current window.', el.max);
  }

  return out.text();
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label names must match [a-zA-Z_][a-zA-Z0-9_]*. */
function sanitizeName(v: string): string {
  const s = v.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[a-zA-Z_]/.test(s) ? s : `_${s}`;
}
